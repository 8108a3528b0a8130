package jobs_test

import (
	"context"
	"errors"
	"os"
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

	// A cancelled context is an error, never an empty or partial success,
	// whether or not a limit would have stopped the scan.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, limit := range []int{0, 1, 10} {
		got, err := jobs.Solutions(ctx, out, "python", limit, cfg.S3)
		if !errors.Is(err, context.Canceled) || got != nil {
			t.Errorf("cancelled, limit %d: %d solutions, %v; want context.Canceled", limit, len(got), err)
		}
	}
	if _, err := jobs.SolutionCorpus(ctx, out, 0, 2, cfg.S3); !errors.Is(err, context.Canceled) {
		t.Errorf("SolutionCorpus cancelled: %v; want context.Canceled", err)
	}
	if got, err := jobs.Inspect(ctx, out, cfg.S3); !errors.Is(err, context.Canceled) {
		t.Errorf("Inspect cancelled: %+v, %v; want context.Canceled", got, err)
	}
	// An input without records has nothing in it to notice the context.
	empty := filepath.Join(t.TempDir(), "empty.jsonl")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if got, err := jobs.Solutions(ctx, empty, "python", 0, cfg.S3); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled, empty input: %d solutions, %v; want context.Canceled", len(got), err)
	}
	if got, err := jobs.Inspect(ctx, empty, cfg.S3); !errors.Is(err, context.Canceled) {
		t.Errorf("Inspect cancelled, empty input: %+v, %v; want context.Canceled", got, err)
	}
}

func TestReadProgramsLimitAcrossDatasets(t *testing.T) {
	gc := trajgen.DefaultConfig()
	gc.N = 60
	cfg := config(t, "unused", "unused")
	out := filepath.Join(t.TempDir(), "gen")
	if _, err := jobs.Gen(context.Background(), jobs.GenOptions{Gen: gc, Output: out, Workers: 1, Parquet: cfg.Parquet}, quiet()); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ limit, want int }{{10, 10}, {30, 30}} {
		ps, err := jobs.ReadPrograms(context.Background(), "python", []string{out, out}, tc.limit, 2, cfg.S3)
		if err != nil || len(ps) != tc.want {
			t.Fatalf("limit %d: %d programs, %v", tc.limit, len(ps), err)
		}
		if !strings.HasPrefix(ps[0], "(module") {
			t.Fatalf("program 0 = %.60s", ps[0])
		}
	}
	if _, err := jobs.ReadPrograms(context.Background(), "python", []string{filepath.Join(t.TempDir(), "missing.py")}, 0, 1, cfg.S3); err == nil {
		t.Fatal("a missing input was accepted")
	}
}
