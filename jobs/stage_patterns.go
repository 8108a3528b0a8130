package jobs

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/atlas-ai/atlas-learn/columnar"
	"github.com/atlas-ai/atlas-learn/jobs/analysis/patterns"
)

// Schemas and names of the error_patterns stage's datasets.
var (
	ErrorPatternsSchema    = columnar.Schema{Name: "error_pattern", Version: 1}
	ErrorOccurrencesSchema = columnar.Schema{Name: "error_occurrence", Version: 1}
)

const (
	ErrorPatternsDataset    = "error_patterns"
	ErrorOccurrencesDataset = "error_occurrences"
)

// PatternsConfig configures the error-pattern miner (section patterns:);
// see jobs/analysis/patterns for each setting.
type PatternsConfig struct {
	Depth            int     `yaml:"depth" json:"depth"`
	SimThreshold     float64 `yaml:"sim_threshold" json:"sim_threshold"`
	MaxChildren      int     `yaml:"max_children" json:"max_children"`
	MinDistinct      int     `yaml:"min_distinct" json:"min_distinct"`
	MinDistinctKeyed int     `yaml:"min_distinct_keyed" json:"min_distinct_keyed"`
	Merge            bool    `yaml:"merge" json:"merge"`
	MaxTokens        int     `yaml:"max_tokens" json:"max_tokens"`
	MaxTokenLen      int     `yaml:"max_token_len" json:"max_token_len"`
	// MaxExamples bounds the example trajectories listed per pattern.
	MaxExamples int `yaml:"max_examples" json:"max_examples"`
}

// Options is the miner's options.
func (c PatternsConfig) Options() patterns.Options {
	return patterns.Options{Depth: c.Depth, SimThreshold: c.SimThreshold, MaxChildren: c.MaxChildren, MinDistinct: c.MinDistinct,
		MinDistinctKeyed: c.MinDistinctKeyed, Merge: c.Merge, MaxTokens: c.MaxTokens, MaxTokenLen: c.MaxTokenLen, MaxExamples: c.MaxExamples}
}

// Validate reports the first invalid key, relative to the section.
func (c PatternsConfig) Validate() error { return c.Options().Validate() }

// ErrorPattern is one row of the error_patterns dataset: a template of
// the run's error messages.
type ErrorPattern struct {
	TemplateID int32  `parquet:"template_id" json:"template_id"`
	Template   string `parquet:"template" json:"template"`
	// Count is the number of messages; Trajectories of trajectories.
	Count        int64 `parquet:"count" json:"count"`
	Trajectories int64 `parquet:"trajectories" json:"trajectories"`
	// ExampleTrajectories are the first trajectories (in input order)
	// with a message of the template.
	ExampleTrajectories []string `parquet:"example_trajectories,list" json:"example_trajectories"`
	// FirstSeen and LastSeen are the least and greatest created_at of
	// those trajectories.
	FirstSeen time.Time `parquet:"first_seen,timestamp(millisecond)" json:"first_seen"`
	LastSeen  time.Time `parquet:"last_seen,timestamp(millisecond)" json:"last_seen"`
}

// ErrorOccurrence is one row of the error_occurrences dataset: one error
// message of one trajectory and its template.
type ErrorOccurrence struct {
	TrajectoryID string `parquet:"trajectory_id" json:"trajectory_id"`
	// Step is the step the message came from (-1: outcome.error_info).
	Step       int32  `parquet:"step" json:"step"`
	Message    string `parquet:"message" json:"message"`
	TemplateID int32  `parquet:"template_id" json:"template_id"`
}

// errorRow is the projection the stage reads of the analysis dataset.
type errorRow struct {
	TrajectoryID  string    `parquet:"trajectory_id"`
	CreatedAt     time.Time `parquet:"created_at,timestamp(millisecond)"`
	ErrorMessages []string  `parquet:"error_messages,list"`
	ErrorSteps    []int32   `parquet:"error_steps,list"`
}

// The error_patterns stage mines the error messages the analysis stage
// found into templates (variables such as numbers, paths and identifiers
// become <*>), and writes the templates with their counts and example
// trajectories, and each message with its template. It reads the
// analysis dataset twice, by projection: once to mine (the final
// templates depend on the whole set of messages), once to assign; it
// holds the miner and one template id per message.
type patternsStage struct {
	cfg PatternsConfig
}

func newPatternsStage(cfg *Config) (Stage, error) { return &patternsStage{cfg: cfg.Patterns}, nil }

func (*patternsStage) Name() string    { return "error_patterns" }
func (*patternsStage) Needs() []string { return []string{"analysis"} }

func (s *patternsStage) Run(ctx context.Context, env *Env) error {
	m, err := patterns.New(s.cfg.Options())
	if err != nil {
		return fmt.Errorf("patterns: %w", err)
	}
	err = ReadEmitted(ctx, env, AnalysisDataset, func(r *errorRow) error {
		for _, msg := range r.ErrorMessages {
			m.Add(msg)
		}
		return nil
	})
	if err != nil {
		return err
	}
	res := m.Result()
	type agg struct {
		trajectories int64
		lastOrd      int64
		examples     []string
		first, last  time.Time
	}
	aggs := make([]agg, len(res.Templates))
	byID := map[int]int{}
	for i, t := range res.Templates {
		byID[t.ID] = i
		aggs[i].lastOrd = -1
	}
	occ, err := NewDataset(env, DatasetSpec[ErrorOccurrence]{Name: ErrorOccurrencesDataset, Schema: ErrorOccurrencesSchema})
	if err != nil {
		return err
	}
	k, ord := 0, int64(-1)
	err = ReadEmitted(ctx, env, AnalysisDataset, func(r *errorRow) error {
		ord++
		for i, msg := range r.ErrorMessages {
			if k >= len(res.Assignments) {
				return fmt.Errorf("the analysis dataset changed between two reads")
			}
			id := res.Assignments[k]
			k++
			a := &aggs[byID[id]]
			if a.lastOrd != ord {
				a.lastOrd = ord
				a.trajectories++
				if len(a.examples) < s.cfg.MaxExamples {
					a.examples = append(a.examples, r.TrajectoryID)
				}
				if a.first.IsZero() || r.CreatedAt.Before(a.first) {
					a.first = r.CreatedAt
				}
				if r.CreatedAt.After(a.last) {
					a.last = r.CreatedAt
				}
			}
			step := int32(-1)
			if i < len(r.ErrorSteps) {
				step = r.ErrorSteps[i]
			}
			if err := occ.Write(ctx, ErrorOccurrence{TrajectoryID: r.TrajectoryID, Step: step, Message: msg, TemplateID: int32(id)}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		occ.Abort()
		return err
	}
	if err := occ.Close(ctx); err != nil {
		return err
	}
	rows, err := NewDataset(env, DatasetSpec[ErrorPattern]{Name: ErrorPatternsDataset, Schema: ErrorPatternsSchema})
	if err != nil {
		return err
	}
	order := make([]int, len(res.Templates))
	for i := range order {
		order[i] = i
	}
	// Most frequent first; ties by template id.
	sort.SliceStable(order, func(a, b int) bool {
		ta, tb := res.Templates[order[a]], res.Templates[order[b]]
		if ta.Count != tb.Count {
			return ta.Count > tb.Count
		}
		return ta.ID < tb.ID
	})
	for _, i := range order {
		t, a := res.Templates[i], aggs[i]
		ex := a.examples
		if ex == nil {
			ex = []string{}
		}
		if err := rows.Write(ctx, ErrorPattern{TemplateID: int32(t.ID), Template: t.Template, Count: int64(t.Count), Trajectories: a.trajectories,
			ExampleTrajectories: ex, FirstSeen: a.first, LastSeen: a.last}); err != nil {
			rows.Abort()
			return err
		}
	}
	if err := rows.Close(ctx); err != nil {
		return err
	}
	n := env.Counters()
	n.Add("messages", int64(k))
	n.Add("templates", int64(len(res.Templates)))
	return nil
}
