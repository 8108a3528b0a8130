package jobs

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/atlas-ai/atlas-learn/jobs/concepts"
	"github.com/atlas-ai/atlas-learn/jobs/memory"
	"github.com/atlas-ai/atlas-learn/jobs/recall"
)

// The recall documents of a memory version: one per strategy, concept
// and plan. What is indexed is what a new task's text can match — a
// strategy's situation, cues and suggestion, a concept's name,
// description and signature, a plan's task and steps — and the payload
// is the row itself (less the long trajectory-id lists), returned to
// agents as it is.

// strategyPayload is what recall returns of a strategy.
type strategyPayload struct {
	Name           string             `json:"name"`
	Situation      string             `json:"situation"`
	Suggestion     string             `json:"suggestion"`
	Parameters     []memory.Parameter `json:"parameters"`
	Cues           []string           `json:"cues"`
	Implementation string             `json:"implementation,omitempty"`
	Concepts       []string           `json:"concepts,omitempty"`
	Domain         string             `json:"domain,omitempty"`
	Source         string             `json:"source"`
	Uses           int64              `json:"uses"`
	LastRun        string             `json:"last_run"`
}

type conceptPayload struct {
	Name        string `json:"name"`
	Signature   string `json:"signature,omitempty"`
	Description string `json:"description,omitempty"`
	Python      string `json:"python,omitempty"`
	Body        string `json:"body"`
	Arity       int32  `json:"arity"`
	Uses        int64  `json:"uses"`
}

type planPayload struct {
	Task     string   `json:"task"`
	Steps    []string `json:"steps"`
	Domain   string   `json:"domain,omitempty"`
	Strategy string   `json:"strategy,omitempty"`
	Uses     int64    `json:"uses"`
}

// MemoryDocs are the recall documents of a memory's strategies, concepts
// and plans, in that order (Build sorts them by id).
func MemoryDocs(strategies []memory.Strategy, library []concepts.Concept, plans []memory.Plan) ([]recall.Doc, error) {
	docs := make([]recall.Doc, 0, len(strategies)+len(library)+len(plans))
	add := func(id, kind, title, text string, fields map[string]string, payload any) error {
		p, err := json.Marshal(payload)
		if err != nil {
			return fmt.Errorf("recall document %s: %w", id, err)
		}
		docs = append(docs, recall.Doc{ID: id, Kind: kind, Title: title, Text: text, Fields: fields, Payload: p})
		return nil
	}
	for _, s := range strategies {
		var params []string
		for _, p := range s.Parameters {
			params = append(params, p.Name+" "+p.Description)
		}
		err := add("strategy/"+s.Name, recall.KindStrategy, s.Name,
			s.Situation+"\n"+s.Suggestion+"\n"+strings.Join(params, "\n"),
			map[string]string{"cues": strings.Join(s.Cues, " "), "domain": s.Domain, "implementation": s.Implementation},
			strategyPayload{Name: s.Name, Situation: s.Situation, Suggestion: s.Suggestion, Parameters: s.Parameters, Cues: s.Cues,
				Implementation: s.Implementation, Concepts: s.Concepts, Domain: s.Domain, Source: s.Source, Uses: s.Uses, LastRun: s.LastRun})
		if err != nil {
			return nil, err
		}
	}
	for _, c := range library {
		if c.Python == "" {
			continue // a concept that cannot be a Python function is only ever inlined: nothing to call
		}
		cp := conceptPayload{Name: c.Name, Python: c.Python, Body: c.Body, Arity: c.Arity, Uses: c.Uses}
		cp.Description, cp.Signature = conceptDoc(c)
		if err := add("concept/"+c.Name, recall.KindConcept, c.Name, cp.Description+"\n"+cp.Signature,
			map[string]string{"body": c.Body}, cp); err != nil {
			return nil, err
		}
	}
	for _, p := range plans {
		if err := add("plan/"+p.ID, recall.KindPlan, p.Task, strings.Join(p.Steps, "\n"),
			map[string]string{"domain": p.Domain, "strategy": p.Strategy},
			planPayload{Task: p.Task, Steps: p.Steps, Domain: p.Domain, Strategy: p.Strategy, Uses: p.Uses}); err != nil {
			return nil, err
		}
	}
	return docs, nil
}

// conceptDoc is a concept's one-sentence description and signature.
func conceptDoc(c concepts.Concept) (description, signature string) {
	return c.Description, c.Signature
}
