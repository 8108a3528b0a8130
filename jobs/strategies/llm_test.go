package strategies_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/atlas-ai/atlas-learn/configs"
	"github.com/atlas-ai/atlas-learn/internal/llm"
	"github.com/atlas-ai/atlas-learn/internal/llmtest"
	"github.com/atlas-ai/atlas-learn/jobs/strategies"
)

const goodAnswer = `{"name": "filter_then_sort_list",
 "situation": "Given a list of integers, keep the numbers of parity {parity:str} and sort them in {order:str} order.",
 "suggestion": "Filter with a predicate, then sort the result.",
 "parameters": [{"name": "parity", "type": "str", "description": "even or odd"}, {"name": "xs", "type": "list", "description": "the input"}],
 "cues": ["Sort", "filter", "parity", "filter"],
 "implementation": "filter_by(xs, pred) then sorted(..., reverse=desc)"}`

func input() *strategies.Input {
	return &strategies.Input{TrajectoryID: "t1", TaskID: "filter_sort-1", Domain: "list",
		Description: "Given a list of integers, keep only the even numbers and return them sorted in ascending order.",
		KeySteps:    []strategies.Step{{Index: 1, Thought: "filter then sort", Action: "write_code", ActionType: "edit", Code: "def solve(x): ..."}},
		Code:        "def filter_by(xs, p):\n    return [v for v in xs if p(v)]\n\ndef solve(x):\n    return sorted(filter_by(x, lambda v: v % 2 == 0))\n",
		Concepts:    []string{"fn_1"}}
}

func extractor(t *testing.T, srv *llmtest.Server, mode string) *strategies.LLM {
	t.Helper()
	cfg := llm.Defaults()
	cfg.Mode, cfg.Model = mode, "strat-1"
	if srv != nil {
		cfg.BaseURL = srv.URL
	}
	cfg.MaxRetries, cfg.BackoffInitial, cfg.BackoffMax = 1, time.Millisecond, 2*time.Millisecond
	client, err := llm.New(cfg, llm.Options{Getenv: func(string) string { return "" }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(client.Close)
	p, err := strategies.ParsePrompt("strategy.tmpl", configs.StrategyPrompt)
	if err != nil {
		t.Fatal(err)
	}
	return &strategies.LLM{Client: client, Prompt: p, Model: "strat-1", MaxRetries: 2, MaxCues: 8}
}

func TestLLMExtractor(t *testing.T) {
	tests := []struct {
		name     string
		replies  []llmtest.Reply
		requests int
		fallback string // "" for an LLM row
		retryMsg string // in the second request's last user message
	}{
		{"a good answer", []llmtest.Reply{llmtest.Text(goodAnswer)}, 1, "", ""},
		{"in a code fence", []llmtest.Reply{llmtest.Text("```json\n" + goodAnswer + "\n```")}, 1, "", ""},
		{"malformed, then good", []llmtest.Reply{llmtest.Text(`{"name": "x", `), llmtest.Text(goodAnswer)}, 2, "", "not one JSON object"},
		{"not snake_case, then good", []llmtest.Reply{llmtest.Text(strings.Replace(goodAnswer, "filter_then_sort_list", "FilterThenSort", 1)), llmtest.Text(goodAnswer)}, 2, "", `name "FilterThenSort" is not snake_case`},
		{"a bad type, then good", []llmtest.Reply{llmtest.Text(strings.Replace(goodAnswer, `"type": "str"`, `"type": "string"`, 1)), llmtest.Text(goodAnswer)}, 2, "", `type "string" is not one of`},
		{"no situation, then good", []llmtest.Reply{llmtest.Text(`{"name": "a", "suggestion": "b"}`), llmtest.Text(goodAnswer)}, 2, "", "no situation"},
		{"too many cues, then good", []llmtest.Reply{llmtest.Text(strings.Replace(goodAnswer, `"filter"]`, `"a","b","c","d","e","f","g"]`, 1)), llmtest.Text(goodAnswer)}, 2, "", "at most 8 allowed"},
		{"invalid three times", []llmtest.Reply{llmtest.Text(`[]`)}, 3, "llm: invalid answer after 3 attempts", "not one JSON object"},
		{"a refusal", []llmtest.Reply{llmtest.Refusal("I will not")}, 1, "llm: refused: I will not", ""},
		{"a content filter", []llmtest.Reply{llmtest.ContentFilter()}, 1, "llm: refused: content_filter", ""},
		{"a server error", []llmtest.Reply{llmtest.Status(500)}, 2, "llm: status 500", ""},
		{"not a completion", []llmtest.Reply{llmtest.NotCompletion()}, 1, "llm: not a chat completion", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := llmtest.New(t)
			srv.Enqueue(tc.replies[:len(tc.replies)-1]...)
			srv.Default(tc.replies[len(tc.replies)-1])
			x := extractor(t, srv, llm.ModeLive)
			s, o, err := x.ExtractOutcome(context.Background(), input())
			if err != nil {
				t.Fatal(err)
			}
			if srv.Count() != tc.requests {
				t.Errorf("%d requests, want %d", srv.Count(), tc.requests)
			}
			if tc.retryMsg != "" {
				reqs := srv.Requests()
				if len(reqs) < 2 || !strings.Contains(reqs[1].LastUser(), tc.retryMsg) || reqs[1].Messages[len(reqs[1].Messages)-2].Role != "assistant" {
					t.Errorf("retry request does not feed back %q: %+v", tc.retryMsg, reqs)
				}
			}
			if tc.fallback == "" {
				if s.Source != strategies.SourceLLM || s.Model != "strat-1" || s.Fallback != "" || s.Name != "filter_then_sort_list" {
					t.Errorf("labels %q %q %q %q", s.Source, s.Model, s.Fallback, s.Name)
				}
				if strings.Join(s.Cues, ",") != "filter,parity,sort" || len(s.Parameters) != 2 || s.Parameters[0].Type != "str" {
					t.Errorf("fields %+v", s)
				}
				if o.Retries != tc.requests-1 {
					t.Errorf("outcome %+v", o)
				}
			} else {
				if s.Source != strategies.SourceHeuristic || s.Model != "" || !strings.HasPrefix(s.Fallback, tc.fallback) {
					t.Errorf("fallback labels %q %q %q, want fallback %q", s.Source, s.Model, s.Fallback, tc.fallback)
				}
				if s.Name != "list_integers_keep_numbers_sorted" {
					t.Errorf("fallback name %q", s.Name)
				}
			}
			if strings.Join(s.UsedIn, ",") != "t1" || s.Domain != "list" || strings.Join(s.Concepts, ",") != "filter_by,fn_1" || s.Trajectories != 1 {
				t.Errorf("common fields %+v", s)
			}
		})
	}
}

func TestLLMExtractorPrompt(t *testing.T) {
	srv := llmtest.New(t)
	srv.Default(llmtest.Text(goodAnswer))
	if _, err := extractor(t, srv, llm.ModeLive).Extract(context.Background(), input()); err != nil {
		t.Fatal(err)
	}
	r := srv.Requests()[0]
	if len(r.Messages) != 2 || r.Messages[0].Role != "system" || !strings.Contains(string(r.ResponseFormat), "json_object") {
		t.Fatalf("request %+v", r)
	}
	for _, want := range []string{"keep only the even numbers", "Known helpers and learned concepts: fn_1", "[1] thought: filter then sort", "def filter_by"} {
		if !strings.Contains(r.LastUser(), want) {
			t.Errorf("user message lacks %q:\n%s", want, r.LastUser())
		}
	}
	if !strings.Contains(r.Messages[0].Content, "at most 8 short") || !strings.Contains(r.Messages[0].Content, "int, float, str, bool, list, grid, dict, any") {
		t.Errorf("system message:\n%s", r.Messages[0].Content)
	}
}

func TestLLMExtractorOffline(t *testing.T) {
	x := extractor(t, nil, llm.ModeOffline)
	s, o, err := x.ExtractOutcome(context.Background(), input())
	if err != nil {
		t.Fatal(err)
	}
	if s.Source != strategies.SourceHeuristic || s.Fallback != "llm: offline" || o.Attempts != 0 {
		t.Errorf("offline: %q %q %+v", s.Source, s.Fallback, o)
	}
}

func TestParsePrompt(t *testing.T) {
	for _, tc := range []struct{ text, err string }{
		{configs.StrategyPrompt, ""},
		{`{{define "system"}}x{{end}}`, `no "user" template`},
		{`{{define "system"}}{{end}}{{define "user"}}{{.Nope}}{{end}}`, ""},
		{`{{define "system"}}{{end`, "prompt p"},
	} {
		_, err := strategies.ParsePrompt("p", tc.text)
		if (tc.err == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("ParsePrompt(%q) = %v, want %q", tc.text, err, tc.err)
		}
	}
}
