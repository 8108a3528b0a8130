package jobs

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/atlas-ai/atlas-learn/columnar"
	"github.com/atlas-ai/atlas-learn/configs"
	"github.com/atlas-ai/atlas-learn/internal/llm"
	"github.com/atlas-ai/atlas-learn/internal/trajgen"
	"github.com/atlas-ai/atlas-learn/jobs/analysis"
)

// EvalCreditOptions configures EvalCredit.
type EvalCreditOptions struct {
	// N trajectories are generated with Seed (atlas-learn gen's).
	N    int
	Seed int64
	// Workers analyse trajectories in parallel.
	Workers int
	// LLM is the client's configuration; the llm method is evaluated
	// only when its mode is not offline.
	LLM llm.Config
	// ReplayTimeout bounds one program of the code replayer; Sandbox is
	// where it runs them.
	ReplayTimeout time.Duration
	Sandbox       SandboxConfig
	Logger        *slog.Logger
}

// MethodScore is one method's agreement with the generator's ground truth
// (extra.gen.key_steps), summed over all trajectories.
type MethodScore struct {
	Precision    float64 `json:"precision"`
	Recall       float64 `json:"recall"`
	F1           float64 `json:"f1"`
	Trajectories int     `json:"trajectories"`
	// Fallbacks counts trajectories where the method fell back to simple.
	Fallbacks int `json:"fallbacks"`
	// PerSecond is the method's throughput here, trajectories per second.
	PerSecond float64 `json:"trajectories_per_second"`
}

// EvalCredit measures every credit method against the ground truth of
// generated trajectories.
func EvalCredit(ctx context.Context, o EvalCreditOptions) (map[string]MethodScore, error) {
	if o.N < 1 {
		return nil, fmt.Errorf("--n must be at least 1, got %d", o.N)
	}
	gc := trajgen.DefaultConfig()
	gc.N, gc.Seed = o.N, o.Seed
	var trs []columnar.Trajectory
	if err := trajgen.Generate(ctx, gc, func(t columnar.Trajectory) error { trs = append(trs, t); return nil }); err != nil {
		return nil, err
	}
	truth := make([][]int, len(trs))
	for i := range trs {
		var x struct {
			Gen struct {
				KeySteps []int `json:"key_steps"`
			} `json:"gen"`
		}
		if err := json.Unmarshal(trs[i].Extra, &x); err != nil {
			return nil, fmt.Errorf("trajectory %s: extra.gen: %w", trs[i].TrajectoryID, err)
		}
		truth[i] = x.Gen.KeySteps
	}
	logger := o.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	ex, closeEx, warn, err := newExecutor(ctx, o.Sandbox, o.Workers, logger)
	if err != nil {
		return nil, err
	}
	defer closeEx()
	if warn != "" {
		logger.Warn(warn)
	}
	methods := []analysis.Options{
		{Method: analysis.Simple},
		{Method: analysis.Counterfactual, Replayer: &analysis.CodeReplayer{Cache: analysis.NewMemCache(), Timeout: o.ReplayTimeout, Runner: sandboxRunner{ex, logger}}},
	}
	if o.LLM.Mode != llm.ModeOffline {
		client, err := llm.New(o.LLM, llm.Options{Logger: o.Logger})
		if err != nil {
			return nil, err
		}
		defer client.Close()
		prompt, err := analysis.ParsePrompt("configs/prompts/credit.tmpl", configs.CreditPrompt)
		if err != nil {
			return nil, err
		}
		methods = append(methods, analysis.Options{Method: analysis.LLM, Judge: &analysis.LLMJudge{Client: client, Prompt: prompt}})
	}
	out := map[string]MethodScore{}
	for _, mo := range methods {
		a, err := analysis.New(mo)
		if err != nil {
			return nil, err
		}
		var mu sync.Mutex
		var score analysis.Score
		fallbacks := 0
		start := time.Now()
		g, gctx := errgroup.WithContext(ctx)
		g.SetLimit(max(o.Workers, 1))
		for i := range trs {
			g.Go(func() error {
				c, err := a.Credit(gctx, &trs[i])
				if err != nil {
					return fmt.Errorf("%s: trajectory %s: %w", mo.Method, trs[i].TrajectoryID, err)
				}
				mu.Lock()
				defer mu.Unlock()
				score.Add(c.KeySteps, truth[i])
				if c.Fallback != "" {
					fallbacks++
				}
				return nil
			})
		}
		if err := g.Wait(); err != nil {
			return nil, err
		}
		el := time.Since(start).Seconds()
		out[string(mo.Method)] = MethodScore{Precision: score.Precision(), Recall: score.Recall(), F1: score.F1(),
			Trajectories: len(trs), Fallbacks: fallbacks, PerSecond: float64(len(trs)) / el}
	}
	return out, nil
}
