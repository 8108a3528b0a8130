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
