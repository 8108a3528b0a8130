package autodoc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"text/template"

	"github.com/atlas-ai/atlas-learn/internal/llm"
	"github.com/atlas-ai/atlas-learn/internal/textcut"
	"github.com/atlas-ai/atlas-learn/jobs/concepts"
)

// Chatter is the part of the LLM client the documenter needs.
type Chatter interface {
	Chat(ctx context.Context, req llm.Request) (llm.Response, error)
}

// LLM is the Documenter that asks a model (prompt: "system" and "user"
// templates over Body, Python and Arity); an answer that is not valid
// JSON or fails check is asked again, the error fed back, up to
// MaxRetries times.
type LLM struct {
	Client     Chatter
	Prompt     *template.Template
	MaxRetries int
	// Uses gives up to MaxUses real programs that use a concept (the
	// solutions of the trajectories it was found in), shown to the model
	// beside the body; nil shows none.
	Uses func(c *concepts.Concept) []string
}

// MaxUses bounds the uses shown per concept.
const MaxUses = 10

// maxUseLen bounds each use shown, in bytes.
const maxUseLen = 1500

// ParsePrompt parses an autodoc prompt; it must define "system" and
// "user".
func ParsePrompt(name, text string) (*template.Template, error) { return llm.ParsePrompt(name, text) }

// Document implements Documenter.
func (l *LLM) Document(ctx context.Context, c *concepts.Concept, check func(Doc) error) (Doc, error) {
	d := struct {
		Body, Python string
		Arity        int
		Uses         []string
	}{Body: c.Body, Python: c.Python, Arity: pyArity(c)}
	if l.Uses != nil {
		for _, u := range l.Uses(c) {
			if len(d.Uses) == MaxUses {
				break
			}
			d.Uses = append(d.Uses, textcut.Cut(u, maxUseLen))
		}
	}
	var sys, user strings.Builder
	if err := l.Prompt.ExecuteTemplate(&sys, "system", d); err != nil {
		return Doc{}, fmt.Errorf("prompt: %w", err)
	}
	if err := l.Prompt.ExecuteTemplate(&user, "user", d); err != nil {
		return Doc{}, fmt.Errorf("prompt: %w", err)
	}
	msgs := []llm.Message{{Role: "system", Content: sys.String()}, {Role: "user", Content: user.String()}}
	for attempt := 0; ; attempt++ {
		resp, err := l.Client.Chat(ctx, llm.Request{JSON: true, Messages: msgs})
		if err != nil {
			if errors.Is(err, llm.ErrOffline) {
				return Doc{}, errors.New("offline")
			}
			var apiErr *llm.APIError
			if errors.As(err, &apiErr) {
				return Doc{}, fmt.Errorf("status %d", apiErr.Status)
			}
			return Doc{}, errors.New("request failed")
		}
		if resp.Refused() {
			return Doc{}, errors.New("refused")
		}
		doc, verr := parseDoc(resp.Content)
		if verr == nil {
			verr = check(doc)
		}
		if verr == nil {
			return doc, nil
		}
		if attempt >= l.MaxRetries {
			return Doc{}, fmt.Errorf("invalid answer after %d attempts: %w", attempt+1, verr)
		}
		msgs = append(msgs, llm.Message{Role: "assistant", Content: resp.Content},
			llm.Message{Role: "user", Content: "That answer is invalid: " + verr.Error() + ". Answer again with the JSON object only."})
	}
}

func parseDoc(content string) (Doc, error) {
	s := strings.TrimSpace(content)
	s = strings.TrimPrefix(strings.TrimPrefix(s, "```json"), "```")
	s = strings.TrimSpace(strings.TrimSuffix(s, "```"))
	var a struct {
		Name, Description, Signature *string
	}
	if err := json.Unmarshal([]byte(s), &a); err != nil {
		return Doc{}, errors.New("the answer is not one JSON object")
	}
	if a.Name == nil || a.Description == nil || a.Signature == nil {
		return Doc{}, errors.New("the answer needs name, description and signature")
	}
	return Doc{Name: strings.TrimSpace(*a.Name), Description: strings.TrimSpace(*a.Description), Signature: strings.TrimSpace(*a.Signature)}, nil
}
