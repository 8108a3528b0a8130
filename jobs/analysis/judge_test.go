package analysis_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/atlas-ai/atlas-learn/columnar"
	"github.com/atlas-ai/atlas-learn/configs"
	"github.com/atlas-ai/atlas-learn/internal/llm"
	"github.com/atlas-ai/atlas-learn/internal/llmtest"
	"github.com/atlas-ai/atlas-learn/jobs/analysis"
)

func TestLLMJudge(t *testing.T) {
	tr := sweTrajectory("t1") // 6 steps, a success
	tests := []struct {
		name     string
		reply    llmtest.Reply
		want     string // key steps, or the fallback's text
		fallback bool
	}{
		{"a good answer", llmtest.Text(`{"key_steps": [4, 1, 3, 1], "reason": "the edits and the test"}`), "[1 3 4]", false},
		{"in a code fence", llmtest.Text("```json\n{\"key_steps\": [2]}\n```"), "[2]", false},
		{"malformed JSON", llmtest.Text(`{"key_steps": [1, 3`), "not a JSON object", true},
		{"no key_steps", llmtest.Text(`{"steps": [1]}`), "no key_steps", true},
		{"an index out of range", llmtest.Text(`{"key_steps": [1, 9]}`), "key step 9 is not a step index in 0..5", true},
		{"a fraction", llmtest.Text(`{"key_steps": [1.5]}`), "key step 1.5", true},
		{"a refusal", llmtest.Refusal("I cannot help with that"), "the model refused", true},
		{"a content filter", llmtest.ContentFilter(), "the model refused", true},
		{"a server error after retries", llmtest.Status(500), "500", true},
	}
	prompt, err := analysis.ParsePrompt("credit.tmpl", configs.CreditPrompt)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := llmtest.New(t)
			srv.Default(tc.reply)
			cfg := llm.Defaults()
			cfg.Mode, cfg.BaseURL, cfg.Model = llm.ModeLive, srv.URL, "judge-1"
			cfg.MaxRetries, cfg.BackoffInitial, cfg.BackoffMax = 1, time.Millisecond, 2*time.Millisecond
			client, err := llm.New(cfg, llm.Options{Getenv: func(string) string { return "sk-test-key-123456" }})
			if err != nil {
				t.Fatal(err)
			}
			defer client.Close()
			a, err := analysis.New(analysis.Options{Method: analysis.LLM, Judge: &analysis.LLMJudge{Client: client, Prompt: prompt}})
			if err != nil {
				t.Fatal(err)
			}
			c, err := a.Credit(context.Background(), &tr)
			if err != nil {
				t.Fatal(err)
			}
			if tc.fallback {
				if c.Method != analysis.Simple || c.Requested != analysis.LLM || !strings.Contains(c.Fallback, tc.want) {
					t.Fatalf("credit %+v, want a fallback naming %q", c, tc.want)
				}
				if strings.Contains(c.Fallback, "sk-test-key") {
					t.Fatal("the key leaked into the fallback")
				}
				return
			}
			if c.Method != analysis.LLM || fmt.Sprint(c.KeySteps) != tc.want || c.Fallback != "" {
				t.Fatalf("credit %+v, want key steps %s", c, tc.want)
			}
			// The prompt carries the trajectory.
			reqs := srv.Requests()
			if len(reqs) == 0 || !strings.Contains(reqs[0].LastUser(), "need-edit-a") || !strings.Contains(reqs[0].LastUser(), "Outcome: success") {
				t.Fatalf("prompt %+v", reqs)
			}
		})
	}
}

func TestLLMJudgeOffline(t *testing.T) {
	client, err := llm.New(llm.Defaults(), llm.Options{})
	if err != nil {
		t.Fatal(err)
	}
	prompt, _ := analysis.ParsePrompt("credit.tmpl", configs.CreditPrompt)
	a, _ := analysis.New(analysis.Options{Method: analysis.LLM, Judge: &analysis.LLMJudge{Client: client, Prompt: prompt}})
	tr := sweTrajectory("t1")
	c, err := a.Credit(context.Background(), &tr)
	if err != nil || c.Method != analysis.Simple || !strings.Contains(c.Fallback, "offline") {
		t.Fatalf("offline: %+v, %v", c, err)
	}
	if _, err := analysis.ParsePrompt("x", `{{define "system"}}s{{end}}`); err == nil || !strings.Contains(err.Error(), `no "user" template`) {
		t.Fatalf("a prompt without user: %v", err)
	}
	_ = columnar.Trajectory{}
}
