// Package analysis is the trajectory analyser: it assigns credit to the
// steps of a trajectory (which steps made it succeed, or made it fail),
// detects failure modes, decides whether the trajectory is worth
// abstracting, and derives training examples from it.
//
// Three credit-assignment methods:
//
//   - simple: on success the last successful action gets the credit (the
//     last step without an error that has code, when any step has code:
//     the action that produced the solution; else the last step without
//     an error); on failure the step that raised the first error, or else
//     the last step, gets the blame. It needs nothing but the trajectory.
//   - counterfactual: for each step, would removing it change the
//     outcome? The trajectory is replayed without the step (by a Replayer:
//     the code replayer runs program-synthesis trajectories in the sandbox,
//     the HTTP replayer asks the user's environment) and the outcomes are
//     compared. Contributions are graded: the fraction of the task's
//     examples that the step makes pass (negative when removing the step
//     makes more examples pass). A step is key when removing it changes
//     the behaviour at all.
//   - llm: a model is asked for the key steps (see Judge); an unusable
//     answer falls back to simple, and the result says so.
//
// The package knows nothing of storage or configuration: the run's
// analysis stage (jobs/stage_analysis.go) configures it and writes its
// results.
package analysis

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/atlas-ai/atlas-learn/columnar"
	"github.com/atlas-ai/atlas-learn/internal/llm"
)

// Method names a credit-assignment method.
type Method string

// The methods.
const (
	Simple         Method = "simple"
	LLM            Method = "llm"
	Counterfactual Method = "counterfactual"
)

// Validate reports an unknown method.
func (m Method) Validate() error {
	switch m {
	case Simple, LLM, Counterfactual:
		return nil
	}
	return fmt.Errorf("want simple, llm or counterfactual, got %q", string(m))
}

// Credit is the outcome of credit assignment for one trajectory.
type Credit struct {
	// Method is the method that produced the credit; Requested the one
	// configured. They differ when the requested method fell back.
	Method, Requested Method
	// Fallback says why the requested method was not used ("" when it
	// was).
	Fallback string
	// KeySteps are the indices of the steps that matter, ascending.
	KeySteps []int
	// Attribution holds each step's contribution, in [-1, 1]: positive
	// for steps that made the outcome better, negative for steps that made
	// it worse. Methods that cannot grade give 1 (or -1 for blame) to key
	// steps and 0 to the rest.
	Attribution []float64
	// Replays counts the replays run for this trajectory (cache hits
	// excluded); CacheHits the replays answered from the cache.
	Replays, CacheHits int
}

// SimpleCredit is the simple method.
func SimpleCredit(t *columnar.Trajectory) Credit {
	c := Credit{Method: Simple, Requested: Simple, Attribution: make([]float64, len(t.Steps))}
	if len(t.Steps) == 0 {
		return c
	}
	key := -1
	if t.Outcome.Success {
		hasCode := false
		for _, s := range t.Steps {
			if s.Code != "" {
				hasCode = true
				break
			}
		}
		for i := len(t.Steps) - 1; i >= 0; i-- {
			s := t.Steps[i]
			if !s.IsError && (!hasCode || s.Code != "") {
				key = i
				break
			}
		}
		if key < 0 {
			key = len(t.Steps) - 1
		}
		c.Attribution[key] = 1
	} else {
		key = len(t.Steps) - 1
		for i, s := range t.Steps {
			if s.IsError {
				key = i
				break
			}
		}
		c.Attribution[key] = -1
	}
	c.KeySteps = []int{key}
	return c
}

// Judge asks a model for a trajectory's key steps (the llm method).
type Judge interface {
	// KeySteps returns the indices of the key steps. An error means the
	// answer was unusable; the analyser then falls back to simple.
	KeySteps(ctx context.Context, t *columnar.Trajectory) ([]int, error)
}

// Options configures an Analyzer.
type Options struct {
	Method Method
	// Replayer replays trajectories for the counterfactual method.
	Replayer Replayer
	// Judge answers for the llm method.
	Judge Judge
	// MaxReplays bounds the replays of one trajectory (0: no bound);
	// steps beyond it keep the simple method's credit, and Fallback says
	// so.
	MaxReplays int
	// Deadline, when not zero, is the end of the run's replay budget:
	// trajectories analysed after it fall back to simple.
	Deadline time.Time
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// Analyzer analyses trajectories. It is safe for concurrent use when its
// Replayer and Judge are.
type Analyzer struct {
	o Options
}

// New checks o and returns an Analyzer.
func New(o Options) (*Analyzer, error) {
	if err := o.Method.Validate(); err != nil {
		return nil, fmt.Errorf("method: %w", err)
	}
	if o.Method == Counterfactual && o.Replayer == nil {
		return nil, errors.New("method counterfactual: no replayer")
	}
	if o.Method == LLM && o.Judge == nil {
		return nil, errors.New("method llm: no judge")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Analyzer{o: o}, nil
}

// Credit assigns credit to t's steps with the configured method, falling
// back to simple (and saying why) where that method cannot answer.
func (a *Analyzer) Credit(ctx context.Context, t *columnar.Trajectory) (Credit, error) {
	fallback := func(why string) Credit {
		c := SimpleCredit(t)
		c.Requested, c.Fallback = a.o.Method, why
		return c
	}
	switch a.o.Method {
	case Simple:
		return SimpleCredit(t), nil
	case LLM:
		keys, err := a.o.Judge.KeySteps(ctx, t)
		if err != nil {
			if ctx.Err() != nil {
				return Credit{}, ctx.Err()
			}
			if errors.Is(err, llm.ErrBudgetExhausted) {
				return Credit{}, fmt.Errorf("trajectory %s: %w", t.TrajectoryID, err)
			}
			return fallback("llm: " + err.Error()), nil
		}
		return fromKeys(t, LLM, keys), nil
	case Counterfactual:
		if !a.o.Deadline.IsZero() && !a.o.Now().Before(a.o.Deadline) {
			return fallback("counterfactual: the run's replay time budget is spent"), nil
		}
		c, err := counterfactual(ctx, t, a.o.Replayer, a.o.MaxReplays)
		if errors.Is(err, ErrNotReplayable) {
			return fallback("counterfactual: " + err.Error()), nil
		}
		if err != nil {
			if ctx.Err() != nil {
				return Credit{}, ctx.Err()
			}
			return fallback("counterfactual: " + err.Error()), nil
		}
		return c, nil
	}
	return Credit{}, fmt.Errorf("unknown method %q", a.o.Method)
}

// fromKeys is the credit of a method that names key steps without grades:
// +1 for key steps of a success, -1 for those of a failure.
func fromKeys(t *columnar.Trajectory, m Method, keys []int) Credit {
	c := Credit{Method: m, Requested: m, Attribution: make([]float64, len(t.Steps))}
	w := 1.0
	if !t.Outcome.Success {
		w = -1
	}
	seen := map[int]bool{}
	for _, k := range keys {
		if k < 0 || k >= len(t.Steps) || seen[k] {
			continue
		}
		seen[k] = true
		c.Attribution[k] = w
	}
	for i := range t.Steps {
		if seen[i] {
			c.KeySteps = append(c.KeySteps, i)
		}
	}
	return c
}
