package jobs

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/atlas-ai/atlas-learn/columnar"
	"github.com/atlas-ai/atlas-learn/jobs/analysis"
	"github.com/atlas-ai/atlas-learn/jobs/memory"
	"github.com/atlas-ai/atlas-learn/jobs/recall"
	"github.com/atlas-ai/atlas-learn/jobs/strategies"
)

// MemoryRecallDocs is eval recall's document builder through the real
// path, offline: simple credit assignment, the heuristic strategy
// extractor (no model), the strategy bank's merge and the plan library of
// the memory stage (with the default memory settings), then the memory's
// recall documents. Each document's payload also carries
// source_task_ids (the tasks of the trajectories behind it, for scoring
// only: they are not indexed).
func MemoryRecallDocs(ctx context.Context, train []columnar.Trajectory) ([]recall.Doc, error) {
	cfg, err := LoadConfig("", func(string) string { return "" })
	if err != nil {
		return nil, err
	}
	taskOf := map[string]string{}
	var rows []strategies.Strategy
	var plans []memory.Plan
	ex := strategies.Heuristic{MaxCues: cfg.Strategies.MaxCues}
	for i := range train {
		t := &train[i]
		if !t.Outcome.Success {
			continue
		}
		taskOf[t.TrajectoryID] = t.Task.ID
		credit := analysis.SimpleCredit(t)
		if len(credit.KeySteps) == 0 {
			continue
		}
		in := &strategies.Input{TrajectoryID: t.TrajectoryID, TaskID: t.Task.ID, Description: t.Task.Description,
			Domain: t.Task.Domain, Code: t.Solution.Code, Language: t.Solution.Language}
		var steps []memory.PlanStep
		for _, k := range credit.KeySteps {
			st := t.Steps[k]
			in.KeySteps = append(in.KeySteps, strategies.Step{Index: k, Thought: st.Thought, Action: st.Action, ActionType: st.ActionType, Code: st.Code})
			steps = append(steps, memory.PlanStep{Thought: st.Thought, Action: st.Action})
		}
		s := ex.Strategy(in)
		if s.Name == "" {
			continue
		}
		rows = append(rows, s)
		if p, ok := memory.NewPlan(t.TrajectoryID, t.Task.Description, t.Task.Domain, t.CreatedAt, s.Name, steps); ok {
			plans = append(plans, p)
		}
	}
	var incoming []memory.Strategy
	for _, s := range strategies.Merge(rows, 0, cfg.Strategies.MaxCues) {
		ps := make([]memory.Parameter, len(s.Parameters))
		for i, p := range s.Parameters {
			ps[i] = memory.Parameter{Name: p.Name, Type: p.Type, Description: p.Description}
		}
		incoming = append(incoming, memory.Strategy{Name: s.Name, Situation: s.Situation, Suggestion: s.Suggestion, Parameters: ps,
			Cues: s.Cues, Implementation: s.Implementation, Concepts: s.Concepts, Domain: s.Domain, Source: s.Source, UsedIn: s.UsedIn})
	}
	o := cfg.Memory.options(1, "eval")
	bank, _, err := memory.MergeStrategies(nil, incoming, o)
	if err != nil {
		return nil, err
	}
	library, _, err := memory.MergePlans(nil, memory.CombinePlans(plans), o)
	if err != nil {
		return nil, err
	}
	docs, err := MemoryDocs(bank, nil, library)
	if err != nil {
		return nil, err
	}
	// Scoring needs every trajectory behind a document, not only the
	// most recent memory.max_used_in: from the merged rows, by name.
	usedBy := map[string][]string{}
	for _, s := range incoming {
		usedBy["strategy/"+s.Name] = s.UsedIn
	}
	for _, s := range bank {
		for _, a := range s.Aliases {
			usedBy["strategy/"+s.Name] = append(usedBy["strategy/"+s.Name], usedBy["strategy/"+a]...)
		}
	}
	for _, p := range memory.CombinePlans(plans) {
		usedBy["plan/"+p.ID] = p.UsedIn
	}
	for i := range docs {
		var tasks []string
		for _, id := range usedBy[docs[i].ID] {
			tasks = append(tasks, taskOf[id])
		}
		slices.Sort(tasks)
		tasks = slices.Compact(tasks)
		var payload map[string]any
		if err := json.Unmarshal(docs[i].Payload, &payload); err != nil {
			return nil, fmt.Errorf("document %s: %w", docs[i].ID, err)
		}
		payload["source_task_ids"] = tasks
		if docs[i].Payload, err = json.Marshal(payload); err != nil {
			return nil, fmt.Errorf("document %s: %w", docs[i].ID, err)
		}
	}
	return docs, nil
}
