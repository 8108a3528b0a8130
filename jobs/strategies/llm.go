package strategies

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"text/template"

	"github.com/atlas-ai/atlas-learn/internal/llm"
	"github.com/atlas-ai/atlas-learn/internal/textcut"
)

// Chatter is the part of the LLM client the extractor needs.
type Chatter interface {
	Chat(ctx context.Context, req llm.Request) (llm.Response, error)
}

// LLM is the extractor that asks a model: the prompt (a text/template
// with "system" and "user" templates, see ParsePrompt) asks for one JSON
// object with the strategy's fields; the answer is validated (Validate)
// and, when invalid, asked again up to MaxRetries times with the error fed
// back. A refusal, an error of the client (offline mode included) or an
// answer still invalid after the retries gives the heuristic strategy,
// labelled with Fallback "llm: <reason>".
type LLM struct {
	Client Chatter
	Prompt *template.Template
	// Model names the model in the rows (the response's model when the
	// server names one).
	Model      string
	MaxRetries int
	MaxCues    int
	// MaxField bounds each text put into the prompt (0: 2000 bytes).
	MaxField int
}

// ParsePrompt parses a strategy prompt template; it must define "system"
// and "user".
func ParsePrompt(name, text string) (*template.Template, error) { return llm.ParsePrompt(name, text) }

// PromptData is what the prompt templates see.
type PromptData struct {
	Task, Domain, Code string
	KeySteps           []Step
	Concepts           []string
	MaxCues            int
	Types              string
}

// Outcome tells how an LLM extraction went.
type Outcome struct {
	// Attempts is the number of questions asked (0: none, offline).
	Attempts int
	// Retries counts the answers rejected and asked again.
	Retries int
	// Err is why the extraction fell back, in full (for logs; the row's
	// Fallback says it without what varies between runs).
	Err error
}

// Extract implements Extractor.
func (l *LLM) Extract(ctx context.Context, in *Input) (Strategy, error) {
	s, _, err := l.ExtractOutcome(ctx, in)
	return s, err
}

// ExtractOutcome is Extract, saying how it went. Only the context's
// errors and errors of the prompt are returned; everything else falls
// back.
func (l *LLM) ExtractOutcome(ctx context.Context, in *Input) (Strategy, Outcome, error) {
	var o Outcome
	msgs, err := l.messages(in)
	if err != nil {
		return Strategy{}, o, err
	}
	fallback := func(reason string) (Strategy, Outcome, error) {
		if o.Err == nil {
			o.Err = errors.New(reason)
		}
		s := Heuristic{MaxCues: l.MaxCues}.Strategy(in)
		s.Fallback = "llm: " + reason
		return s, o, nil
	}
	for {
		o.Attempts++
		resp, err := l.Client.Chat(ctx, llm.Request{JSON: true, Messages: msgs})
		if err != nil {
			if ctx.Err() != nil {
				return Strategy{}, o, ctx.Err()
			}
			o.Err = err
			if errors.Is(err, llm.ErrOffline) {
				o.Attempts--
				return fallback("offline")
			}
			return fallback(failureReason(err))
		}
		if resp.Refused() {
			return fallback("refused: " + truncate(resp.Refusal, 160))
		}
		s, verr := l.parse(resp.Content)
		if verr == nil {
			s.Source = SourceLLM
			s.Model = l.Model
			if resp.Model != "" {
				s.Model = resp.Model
			}
			finish(&s, in, l.MaxCues)
			return s, o, nil
		}
		if o.Retries >= l.MaxRetries {
			return fallback(fmt.Sprintf("invalid answer after %d attempts: %s", o.Attempts, truncate(verr.Error(), 160)))
		}
		o.Retries++
		msgs = append(msgs,
			llm.Message{Role: "assistant", Content: truncate(resp.Content, 4000)},
			llm.Message{Role: "user", Content: "That answer is invalid: " + verr.Error() +
				". Answer again with one JSON object with the fields name, situation, suggestion, parameters, cues and implementation, and nothing else."})
	}
}

func (l *LLM) messages(in *Input) ([]llm.Message, error) {
	max := l.MaxField
	if max <= 0 {
		max = 2000
	}
	cut := func(s string) string { return truncate(strings.TrimSpace(s), max) }
	d := PromptData{Task: cut(in.Description), Domain: in.Domain, Code: cut(in.Code), Concepts: in.Concepts,
		MaxCues: l.MaxCues, Types: strings.Join(ParamTypes, ", ")}
	for _, s := range in.KeySteps {
		d.KeySteps = append(d.KeySteps, Step{Index: s.Index, Thought: cut(s.Thought), Action: cut(s.Action), ActionType: s.ActionType, Code: cut(s.Code)})
	}
	var sys, user strings.Builder
	if err := l.Prompt.ExecuteTemplate(&sys, "system", d); err != nil {
		return nil, fmt.Errorf("strategy prompt: %w", err)
	}
	if err := l.Prompt.ExecuteTemplate(&user, "user", d); err != nil {
		return nil, fmt.Errorf("strategy prompt: %w", err)
	}
	return []llm.Message{{Role: "system", Content: sys.String()}, {Role: "user", Content: user.String()}}, nil
}

// answer is the JSON a model answers with.
type answer struct {
	Name           *string     `json:"name"`
	Situation      *string     `json:"situation"`
	Suggestion     *string     `json:"suggestion"`
	Parameters     []Parameter `json:"parameters"`
	Cues           []string    `json:"cues"`
	Implementation string      `json:"implementation"`
}

// parse decodes and validates an answer.
func (l *LLM) parse(content string) (Strategy, error) {
	s := strings.TrimSpace(content)
	// Models wrap JSON in a code fence now and then.
	s = strings.TrimPrefix(strings.TrimPrefix(s, "```json"), "```")
	s = strings.TrimSpace(strings.TrimSuffix(s, "```"))
	var a answer
	dec := json.NewDecoder(strings.NewReader(s))
	if err := dec.Decode(&a); err != nil {
		return Strategy{}, fmt.Errorf("the answer is not one JSON object of the asked shape (%v)", err)
	}
	if dec.More() {
		return Strategy{}, errors.New("the answer has text after the JSON object")
	}
	for _, f := range []struct {
		name string
		v    *string
	}{{"name", a.Name}, {"situation", a.Situation}, {"suggestion", a.Suggestion}} {
		if f.v == nil {
			return Strategy{}, fmt.Errorf("the answer has no %s", f.name)
		}
	}
	st := Strategy{Name: strings.TrimSpace(*a.Name), Situation: strings.TrimSpace(*a.Situation),
		Suggestion: strings.TrimSpace(*a.Suggestion), Parameters: a.Parameters, Implementation: strings.TrimSpace(a.Implementation)}
	for _, c := range a.Cues {
		st.Cues = append(st.Cues, strings.ToLower(strings.TrimSpace(c)))
	}
	for i := range st.Parameters {
		p := &st.Parameters[i]
		p.Name, p.Type, p.Description = strings.TrimSpace(p.Name), strings.ToLower(strings.TrimSpace(p.Type)), strings.TrimSpace(p.Description)
	}
	if err := Validate(&st, l.MaxCues); err != nil {
		return Strategy{}, err
	}
	return st, nil
}

// failureReason names a client failure without what varies between runs
// (URLs, ports, attempt counts): it goes into rows.
func failureReason(err error) string {
	var apiErr *llm.APIError
	switch {
	case errors.As(err, &apiErr):
		return fmt.Sprintf("status %d", apiErr.Status)
	case errors.Is(err, llm.ErrTimeout):
		return "timed out"
	case errors.Is(err, llm.ErrBadResponse):
		return "not a chat completion"
	}
	return "request failed"
}

// truncate cuts s to at most n bytes on a rune boundary, marking the cut.
func truncate(s string, n int) string { return textcut.Cut(s, n) }
