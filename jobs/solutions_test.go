package jobs_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/atlas-ai/atlas-learn/internal/trajgen"
	"github.com/atlas-ai/atlas-learn/jobs"
)

func TestSolutions(t *testing.T) {
	gc := trajgen.DefaultConfig()
	gc.N = 300
	cfg := config(t, "unused", "unused")
	out := filepath.Join(t.TempDir(), "gen")
	m, err := jobs.Gen(context.Background(), jobs.GenOptions{Gen: gc, Output: out, Workers: 1, Parquet: cfg.Parquet}, quiet())
	if err != nil {
		t.Fatal(err)
	}
	sols, err := jobs.Solutions(context.Background(), out, "python", 0, cfg.S3)
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(sols)) != m.Counters["successes"] {
		t.Fatalf("%d solutions, %d successes", len(sols), m.Counters["successes"])
	}
	if !strings.Contains(sols[0].Code, "def solve(") {
		t.Fatalf("solution 0: %q", sols[0].Code)
	}
	few, err := jobs.Solutions(context.Background(), out, "python", 10, cfg.S3)
	if err != nil || len(few) != 10 || few[9] != sols[9] {
		t.Fatalf("limit: %d, %v", len(few), err)
	}
}
