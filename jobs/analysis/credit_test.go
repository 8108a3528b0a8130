package analysis_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/atlas-ai/atlas-learn/columnar"
	"github.com/atlas-ai/atlas-learn/internal/sandbox"
	"github.com/atlas-ai/atlas-learn/internal/trajgen"
	"github.com/atlas-ai/atlas-learn/jobs/analysis"
)

type sandboxRunner struct{ r sandbox.Executor }

func (s sandboxRunner) RunPython(ctx context.Context, program string, stdin []byte) ([]byte, error) {
	res, err := s.r.Run(ctx, sandbox.Program{Code: program, Stdin: stdin})
	if err != nil {
		return nil, err
	}
	if res.ExitCode != 0 {
		return nil, fmt.Errorf("exit %d: %s", res.ExitCode, res.Stderr)
	}
	return []byte(res.Stdout), nil
}

func genTrajectories(t *testing.T, n int, seed int64) []columnar.Trajectory {
	t.Helper()
	cfg := trajgen.DefaultConfig()
	cfg.N, cfg.Seed, cfg.DistractorRate = n, seed, 0.5
	var out []columnar.Trajectory
	if err := trajgen.Generate(context.Background(), cfg, func(tr columnar.Trajectory) error { out = append(out, tr); return nil }); err != nil {
		t.Fatal(err)
	}
	return out
}

func truth(t *testing.T, tr *columnar.Trajectory) []int {
	var x struct {
		Gen struct {
			KeySteps []int `json:"key_steps"`
		} `json:"gen"`
	}
	if err := json.Unmarshal(tr.Extra, &x); err != nil {
		t.Fatal(err)
	}
	return x.Gen.KeySteps
}

func TestCounterfactualOnGen(t *testing.T) {
	trs := genTrajectories(t, 150, 3)
	cache := analysis.NewMemCache()
	pool := sandbox.NewPool(sandbox.DefaultOptions(), 2)
	defer pool.Close()
	rep := &analysis.CodeReplayer{Runner: sandboxRunner{pool}, Cache: cache}
	a, err := analysis.New(analysis.Options{Method: analysis.Counterfactual, Replayer: rep})
	if err != nil {
		t.Fatal(err)
	}
	var cf, simple analysis.Score
	replays := 0
	for i := range trs {
		c, err := a.Credit(context.Background(), &trs[i])
		if err != nil {
			t.Fatal(err)
		}
		if c.Fallback != "" {
			t.Errorf("%s: fell back: %s", trs[i].TrajectoryID, c.Fallback)
		}
		replays += c.Replays
		cf.Add(c.KeySteps, truth(t, &trs[i]))
		simple.Add(analysis.SimpleCredit(&trs[i]).KeySteps, truth(t, &trs[i]))
	}
	t.Logf("counterfactual P %.3f R %.3f F1 %.3f (%d replays); simple P %.3f R %.3f F1 %.3f",
		cf.Precision(), cf.Recall(), cf.F1(), replays, simple.Precision(), simple.Recall(), simple.F1())
	if cf.F1() < 0.95 {
		t.Fatalf("counterfactual F1 %.3f < 0.95 (%+v)", cf.F1(), cf)
	}
	// A second pass replays nothing: everything is cached.
	for i := range trs[:20] {
		c, err := a.Credit(context.Background(), &trs[i])
		if err != nil || c.Replays != 0 || c.CacheHits == 0 {
			t.Fatalf("re-run: %+v, %v", c, err)
		}
	}
}
