package autodoc_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/atlas-ai/atlas-learn/configs"
	"github.com/atlas-ai/atlas-learn/internal/llm"
	"github.com/atlas-ai/atlas-learn/internal/llmtest"
	"github.com/atlas-ai/atlas-learn/jobs/autodoc"
	"github.com/atlas-ai/atlas-learn/jobs/concepts"
)

func TestLLMDocumenter(t *testing.T) {
	good := `{"name": "sort_items", "description": "Sorts the items.", "signature": "(xs: list) -> list"}`
	for _, tc := range []struct {
		name     string
		replies  []llmtest.Reply
		wantName string
		fallback string
		requests int
	}{
		{"good", []llmtest.Reply{llmtest.Text(good)}, "sort_items", "", 1},
		{"malformed then good", []llmtest.Reply{llmtest.Text(`{"name":`), llmtest.Text(good)}, "sort_items", "", 2},
		{"keyword then good", []llmtest.Reply{llmtest.Text(strings.Replace(good, "sort_items", "lambda", 1)), llmtest.Text(good)}, "sort_items", "", 2},
		{"wrong arity twice", []llmtest.Reply{llmtest.Text(strings.Replace(good, "(xs: list)", "(a, b)", 1))}, "apply_sorted", "llm: invalid answer after 2 attempts: signature", 2},
		{"two sentences without period", []llmtest.Reply{llmtest.Text(strings.Replace(good, "Sorts the items.", "Sorts", 1))}, "apply_sorted", "llm: invalid answer", 2},
		{"refusal", []llmtest.Reply{llmtest.Refusal("no")}, "apply_sorted", "llm: refused", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := llmtest.New(t)
			srv.Enqueue(tc.replies[:len(tc.replies)-1]...)
			srv.Default(tc.replies[len(tc.replies)-1])
			cfg := llm.Defaults()
			cfg.Mode, cfg.BaseURL, cfg.Model, cfg.APIKeyEnv = llm.ModeLive, srv.URL, "doc-1", ""
			cfg.BackoffInitial, cfg.BackoffMax = time.Millisecond, time.Millisecond
			client, err := llm.New(cfg, llm.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer client.Close()
			p, err := autodoc.ParsePrompt("autodoc.tmpl", configs.AutoDocPrompt)
			if err != nil {
				t.Fatal(err)
			}
			rows := []concepts.Concept{{Name: "fn_0", Body: "(call sorted (args #0))", Arity: 1, Python: "def fn_0(p0):\n    return sorted(p0)\n"}}
			if _, err := autodoc.Apply(context.Background(), rows, autodoc.Options{Source: autodoc.SourceLLM,
				Documenter: &autodoc.LLM{Client: client, Prompt: p, MaxRetries: 1}}); err != nil {
				t.Fatal(err)
			}
			r := rows[0]
			if r.Name != tc.wantName || !strings.HasPrefix(r.DocFallback, tc.fallback) || srv.Count() != tc.requests {
				t.Errorf("got %q %q %q after %d requests", r.Name, r.DocSource, r.DocFallback, srv.Count())
			}
			if tc.fallback == "" && (r.DocSource != "llm" || r.Signature != "(xs: list) -> list" || !strings.Contains(r.Python, "def sort_items(p0):\n    \"\"\"Sorts the items.")) {
				t.Errorf("row %+v", r)
			}
			if !strings.Contains(srv.Requests()[0].LastUser(), "(call sorted (args #0))") {
				t.Errorf("prompt %q", srv.Requests()[0].LastUser())
			}
		})
	}
}

// The model sees up to MaxUses real programs that use the concept.
func TestLLMDocumenterUses(t *testing.T) {
	srv := llmtest.New(t)
	srv.Default(llmtest.Text(`{"name": "sort_items", "description": "Sorts the items.", "signature": "(xs: list) -> list"}`))
	cfg := llm.Defaults()
	cfg.Mode, cfg.BaseURL, cfg.Model, cfg.APIKeyEnv = llm.ModeLive, srv.URL, "doc-1", ""
	client, err := llm.New(cfg, llm.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	p, err := autodoc.ParsePrompt("autodoc.tmpl", configs.AutoDocPrompt)
	if err != nil {
		t.Fatal(err)
	}
	var programs []string
	for i := range 12 {
		programs = append(programs, fmt.Sprintf("def solve(x):\n    return sorted(x)[:%d]\n", i))
	}
	rows := []concepts.Concept{{Name: "fn_0", Body: "(call sorted (args #0))", Arity: 1, Python: "def fn_0(p0):\n    return sorted(p0)\n", TrajectoryIDs: []string{"t1"}}}
	doc := &autodoc.LLM{Client: client, Prompt: p, Uses: func(c *concepts.Concept) []string {
		if len(c.TrajectoryIDs) != 1 {
			t.Errorf("uses asked for %+v", c)
		}
		return programs
	}}
	if _, err := autodoc.Apply(context.Background(), rows, autodoc.Options{Source: autodoc.SourceLLM, Documenter: doc}); err != nil {
		t.Fatal(err)
	}
	prompt := srv.Requests()[0].LastUser()
	if !strings.Contains(prompt, "use 9 ---\ndef solve(x):\n    return sorted(x)[:9]") || strings.Contains(prompt, "use 10 ---") || !strings.Contains(prompt, "(10):") {
		t.Fatalf("prompt %q", prompt)
	}
}
