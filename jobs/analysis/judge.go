package analysis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"text/template"

	"github.com/atlas-ai/atlas-learn/columnar"
	"github.com/atlas-ai/atlas-learn/internal/llm"
)

// Chatter is the part of the LLM client a Judge needs.
type Chatter interface {
	Chat(ctx context.Context, req llm.Request) (llm.Response, error)
}

// LLMJudge asks a model for a trajectory's key steps with a prompt
// template, and validates the answer: one JSON object whose key_steps
// are step indices in range. Texts are cut to MaxField bytes each.
type LLMJudge struct {
	Client   Chatter
	Prompt   *template.Template // with "system" and "user" templates
	MaxField int
}

// ParsePrompt parses a credit prompt template; it must define "system"
// and "user".
func ParsePrompt(name, text string) (*template.Template, error) { return llm.ParsePrompt(name, text) }

type promptStep struct {
	Index                                    int
	Type, Thought, Action, Code, Observation string
	IsError                                  bool
}

type promptData struct {
	Task, Error string
	Success     bool
	Steps       []promptStep
}

// KeySteps implements Judge.
func (j *LLMJudge) KeySteps(ctx context.Context, t *columnar.Trajectory) ([]int, error) {
	max := j.MaxField
	if max <= 0 {
		max = 2000
	}
	cut := func(s string) string { return truncate(strings.TrimSpace(s), max) }
	d := promptData{Task: cut(t.Task.Description), Error: cut(t.Outcome.ErrorInfo), Success: t.Outcome.Success}
	for i, s := range t.Steps {
		d.Steps = append(d.Steps, promptStep{Index: i, Type: s.ActionType, Thought: cut(s.Thought), Action: cut(s.Action),
			Code: cut(s.Code), Observation: cut(s.Observation), IsError: s.IsError})
	}
	var sys, user strings.Builder
	if err := j.Prompt.ExecuteTemplate(&sys, "system", d); err != nil {
		return nil, fmt.Errorf("prompt: %w", err)
	}
	if err := j.Prompt.ExecuteTemplate(&user, "user", d); err != nil {
		return nil, fmt.Errorf("prompt: %w", err)
	}
	resp, err := j.Client.Chat(ctx, llm.Request{JSON: true, Messages: []llm.Message{
		{Role: "system", Content: sys.String()}, {Role: "user", Content: user.String()}}})
	if err != nil {
		if errors.Is(err, llm.ErrOffline) {
			return nil, errors.New("offline (llm.mode is offline)")
		}
		return nil, err
	}
	if resp.Refused() {
		return nil, fmt.Errorf("the model refused: %s", truncate(resp.Refusal, 200))
	}
	return parseKeySteps(resp.Content, len(t.Steps))
}

// parseKeySteps validates a judge's answer.
func parseKeySteps(content string, n int) ([]int, error) {
	s := strings.TrimSpace(content)
	// Models wrap JSON in a code fence now and then.
	s = strings.TrimPrefix(strings.TrimPrefix(s, "```json"), "```")
	s = strings.TrimSpace(strings.TrimSuffix(s, "```"))
	var ans struct {
		KeySteps *[]json.Number `json:"key_steps"`
	}
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	if err := dec.Decode(&ans); err != nil {
		return nil, fmt.Errorf("the answer is not a JSON object: %q", truncate(content, 120))
	}
	if ans.KeySteps == nil {
		return nil, fmt.Errorf("the answer has no key_steps: %q", truncate(content, 120))
	}
	var out []int
	seen := map[int]bool{}
	for _, v := range *ans.KeySteps {
		i, err := v.Int64()
		if err != nil || i < 0 || int(i) >= n {
			return nil, fmt.Errorf("key step %s is not a step index in 0..%d", v, n-1)
		}
		if !seen[int(i)] {
			seen[int(i)] = true
			out = append(out, int(i))
		}
	}
	return out, nil
}
