package analysis

import (
	"context"
	"strings"
	"time"

	"github.com/atlas-ai/atlas-learn/columnar"
	"github.com/atlas-ai/atlas-learn/jobs/analysis/patterns"
)

// Training example kinds and their default weights, after SOAR: a
// successful trajectory is a sampling example (task → solution) and a
// refinement example per key step (history → the step's action); a
// failed one with error information a refinement example (history →
// the error).
const (
	KindSampling   = "sampling"
	KindRefinement = "refinement"
	KindError      = "error"
)

// TrainingExample points at one training example the trajectory yields;
// the hindsight stage renders it from the trajectory (Step is the key
// step whose action is the target, -1 for the whole solution or the
// error).
type TrainingExample struct {
	Kind   string  `parquet:"kind" json:"kind"`
	Step   int32   `parquet:"step" json:"step"`
	Weight float64 `parquet:"weight" json:"weight"`
}

// Result is the analysis of one trajectory.
type Result struct {
	Credit Credit
	// ErrorMessages are the error messages of the trajectory's failing
	// steps and of its outcome (one line each), for the pattern miner.
	ErrorMessages []string
	// ErrorSteps are the steps the messages came from (-1: the outcome).
	ErrorSteps   []int32
	FailureModes []FailureMode
	// Abstractable: worth abstracting — the trajectory succeeded, has code
	// and has key steps.
	Abstractable     bool
	TrainingExamples []TrainingExample
}

// Weights are the training examples' weights.
type Weights struct {
	Sampling, Refinement, Error float64
}

// DefaultWeights are SOAR's: 2.0, 1.5, 1.0.
func DefaultWeights() Weights { return Weights{Sampling: 2.0, Refinement: 1.5, Error: 1.0} }

// Analyze is the whole analysis of t: credit (with the configured
// method), error messages, failure modes, whether it is worth
// abstracting, and its training examples.
func (a *Analyzer) Analyze(ctx context.Context, t *columnar.Trajectory, w Weights) (Result, error) {
	c, err := a.Credit(ctx, t)
	if err != nil {
		return Result{}, err
	}
	r := Result{Credit: c, FailureModes: DetectFailureModes(t)}
	r.ErrorMessages, r.ErrorSteps = ErrorMessages(t)
	hasCode := t.Solution.Code != ""
	for _, s := range t.Steps {
		if s.Code != "" {
			hasCode = true
			break
		}
	}
	r.Abstractable = t.Outcome.Success && hasCode && len(c.KeySteps) > 0
	switch {
	case t.Outcome.Success:
		r.TrainingExamples = append(r.TrainingExamples, TrainingExample{Kind: KindSampling, Step: -1, Weight: w.Sampling})
		for _, k := range c.KeySteps {
			r.TrainingExamples = append(r.TrainingExamples, TrainingExample{Kind: KindRefinement, Step: int32(k), Weight: w.Refinement})
		}
	case t.Outcome.ErrorInfo != "":
		r.TrainingExamples = append(r.TrainingExamples, TrainingExample{Kind: KindError, Step: -1, Weight: w.Error})
	}
	return r, nil
}

// ErrorLine is the error message of a traceback or a failing tool output
// (patterns.ErrorMessage: the exception line ending a traceback, else the
// last line naming an exception, else the last non-empty line), except
// that a test run's closing summary ("1/3 examples passed", "2 failed, 5
// passed") gives way to its first failing line: the summary's counts say
// less than the failure.
func ErrorLine(text string) string {
	l := patterns.ErrorMessage(text)
	if _, _, ok := testCounts(l); ok {
		for _, line := range strings.Split(text, "\n") {
			t := strings.TrimSpace(line)
			if strings.Contains(t, "expected") || strings.HasPrefix(t, "FAILED") || strings.Contains(t, "Error") {
				l = t
				break
			}
		}
	}
	return truncate(l, 500)
}

// ErrorMessages collects the error line of each failing step and of the
// outcome's error information, with where each came from.
func ErrorMessages(t *columnar.Trajectory) ([]string, []int32) {
	var msgs []string
	var steps []int32
	for i, s := range t.Steps {
		if s.IsError && strings.TrimSpace(s.Observation) != "" {
			msgs = append(msgs, ErrorLine(s.Observation))
			steps = append(steps, int32(i))
		}
	}
	if strings.TrimSpace(t.Outcome.ErrorInfo) != "" {
		msgs = append(msgs, ErrorLine(t.Outcome.ErrorInfo))
		steps = append(steps, -1)
	}
	return msgs, steps
}

// Schema of the analysis dataset (see Row).
const (
	SchemaName    = "analysis"
	SchemaVersion = 1
)

// Row is one row of the analysis dataset: the analysis of one trajectory.
type Row struct {
	TrajectoryID string    `parquet:"trajectory_id" json:"trajectory_id"`
	TaskID       string    `parquet:"task_id" json:"task_id"`
	CreatedAt    time.Time `parquet:"created_at,timestamp(millisecond)" json:"created_at"`
	Success      bool      `parquet:"success" json:"success"`
	// Method produced the credit; RequestedMethod was configured;
	// Fallback says why they differ (or why part of the credit is
	// missing).
	Method          string `parquet:"method" json:"method"`
	RequestedMethod string `parquet:"requested_method" json:"requested_method"`
	Fallback        string `parquet:"fallback" json:"fallback"`
	// KeySteps are the steps that matter; StepAttribution each step's
	// contribution in [-1, 1].
	KeySteps        []int32   `parquet:"key_steps,list" json:"key_steps"`
	StepAttribution []float64 `parquet:"step_attribution,list" json:"step_attribution"`
	// Replays is the number of distinct replays the credit needed (run
	// now or answered from the replay cache).
	Replays int32 `parquet:"replays" json:"replays"`
	// ErrorMessages are the trajectory's error lines, ErrorSteps where
	// each came from (-1: the outcome), ErrorPatterns the id of each
	// one's pattern in the error_patterns dataset.
	ErrorMessages    []string          `parquet:"error_messages,list" json:"error_messages"`
	ErrorSteps       []int32           `parquet:"error_steps,list" json:"error_steps"`
	ErrorPatterns    []int32           `parquet:"error_patterns,list" json:"error_patterns"`
	FailureModes     []FailureMode     `parquet:"failure_modes,list" json:"failure_modes"`
	Abstractable     bool              `parquet:"abstractable" json:"abstractable"`
	TrainingExamples []TrainingExample `parquet:"training_examples,list" json:"training_examples"`
}

// RowOf is the dataset row of t's analysis r.
func RowOf(t *columnar.Trajectory, r Result) Row {
	row := Row{TrajectoryID: t.TrajectoryID, TaskID: t.Task.ID, CreatedAt: t.CreatedAt.UTC().Truncate(time.Millisecond), Success: t.Outcome.Success,
		Method: string(r.Credit.Method), RequestedMethod: string(r.Credit.Requested), Fallback: r.Credit.Fallback,
		KeySteps: make([]int32, len(r.Credit.KeySteps)), StepAttribution: r.Credit.Attribution,
		Replays:       int32(r.Credit.Replays + r.Credit.CacheHits),
		ErrorMessages: r.ErrorMessages, ErrorSteps: r.ErrorSteps,
		FailureModes: r.FailureModes, Abstractable: r.Abstractable, TrainingExamples: r.TrainingExamples}
	for i, k := range r.Credit.KeySteps {
		row.KeySteps[i] = int32(k)
	}
	if row.StepAttribution == nil {
		row.StepAttribution = []float64{}
	}
	if row.ErrorMessages == nil {
		row.ErrorMessages, row.ErrorSteps = []string{}, []int32{}
	}
	if row.FailureModes == nil {
		row.FailureModes = []FailureMode{}
	}
	if row.TrainingExamples == nil {
		row.TrainingExamples = []TrainingExample{}
	}
	for i := range row.FailureModes {
		if row.FailureModes[i].Steps == nil {
			row.FailureModes[i].Steps = []int32{}
		}
	}
	return row
}
