package main

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/atlas-ai/atlas-learn/internal/llmtest"
	"github.com/atlas-ai/atlas-learn/jobs"
)

// Each failure class exits with its own status, whatever the command.
func TestCLIExitCodes(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("not_a_key: 1\n"), 0o644)
	badInput := filepath.Join(dir, "badin")
	os.MkdirAll(badInput, 0o755)
	os.WriteFile(filepath.Join(badInput, "a.jsonl"), []byte("{\"trajectory_id\": 7}\n"), 0o644)
	gen := filepath.Join(dir, "gen")
	if _, err := run(t, "gen", "--n", "40", "--seed", "2", "--output", gen); err != nil {
		t.Fatal(err)
	}
	s := llmtest.New(t)
	s.Default(llmtest.Reply{Content: `{"key_steps": [0]}`, PromptTokens: 1000, CompletionTokens: 0})
	t.Setenv("ATLAS_TEST_LLM_KEY", "k")
	budget := []string{"--set", "stages=trajectories,analysis", "--set", "analysis.credit=llm", "--set", "llm.mode=live",
		"--set", "llm.base_url=" + s.URL, "--set", "llm.model=m", "--set", "llm.api_key_env=ATLAS_TEST_LLM_KEY",
		"--set", "llm.price_per_1k_prompt_tokens=1", "--set", "llm.budget_usd=3", "--set", "llm.cache=false", "--set", "llm.max_concurrency=1"}
	tests := []struct {
		name string
		args []string
		want int
	}{
		{"unknown key", []string{"run", "--config", bad}, jobs.ExitConfig},
		{"unknown flag", []string{"run", "--no-such-flag"}, jobs.ExitConfig},
		{"bad value", []string{"run", "--workers", "0"}, jobs.ExitConfig},
		{"stages", []string{"run", "--stages", "concepts"}, jobs.ExitConfig},
		{"missing input", []string{"run", "--input", filepath.Join(dir, "missing"), "--output", filepath.Join(dir, "o1")}, jobs.ExitStorage},
		{"unreachable s3", []string{"run", "--input", "s3://b/p", "--output", filepath.Join(dir, "o2"), "--set", "s3.endpoint=http://127.0.0.1:1", "--set", "s3.path_style=true", "--set", "s3.max_attempts=1"}, jobs.ExitStorage},
		{"bad record", []string{"run", "--input", badInput, "--output", filepath.Join(dir, "o3"), "--on-error", "fail"}, jobs.ExitBadInput},
		{"budget", append([]string{"run", "--input", gen, "--output", filepath.Join(dir, "o4")}, budget...), jobs.ExitBudget},
		{"ok", []string{"run", "--input", gen, "--output", filepath.Join(dir, "o5")}, jobs.ExitOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.name == "unreachable s3" {
				t.Setenv("AWS_ACCESS_KEY_ID", "x")
				t.Setenv("AWS_SECRET_ACCESS_KEY", "y")
			}
			_, err := run(t, tt.args...)
			if got := jobs.ExitCode(err); got != tt.want {
				t.Fatalf("exit status %d, want %d (%v)", got, tt.want, fmt.Sprint(err))
			}
		})
	}
}
