package sft

import (
	"context"
	"fmt"
	"math"
	"strings"
)

// Overlength policies.
const (
	OverlengthDrop     = "drop"
	OverlengthTruncate = "truncate"
)

// Options configure Prepare.
type Options struct {
	Weights Weights
	// System is the system prompt of every example ("" for none).
	System    string
	Templates *Templates
	Tokenizer *Tokenizer
	// MaxTokens bounds an example's tokens (system + prompt +
	// completion); 0: no bound. Overlength says what happens to a longer
	// one: OverlengthDrop, or OverlengthTruncate (the history is cut
	// from the front, oldest steps first; an example with no history to
	// cut is dropped).
	MaxTokens  int
	Overlength string
	// NearThreshold is the Jaccard similarity of ShingleTokens-token
	// shingles of normalised code at which a task's solution is a near
	// duplicate of a better one (0: no near-duplicate removal).
	NearThreshold float64
	ShingleTokens int
	// MaxPerTask caps the examples per task (0: no cap).
	MaxPerTask int
	// Bins is the number of quality bins of refinement examples (>= 1);
	// BinFactor caps each bin at ceil(BinFactor × the mean count of the
	// non-empty bins) (0: no balancing).
	Bins      int
	BinFactor float64
	// ValidationPercent of the tasks (by a hash of the id) go to the
	// validation split.
	ValidationPercent int
	// Epochs and ReplicateK are for the estimates: training tokens are
	// the train split's tokens × epochs; trl_replicated repeats each
	// example round(weight × ReplicateK) times.
	Epochs     int
	ReplicateK float64
	// PricePer1M is the price of one million training tokens by format
	// (missing: 0).
	PricePer1M map[string]float64
	// Workers bounds the goroutines building examples, counting tokens
	// and selecting (the result does not depend on it).
	Workers int
}

// Validate reports the first invalid option.
func (o Options) Validate() error {
	switch {
	case o.Templates == nil:
		return fmt.Errorf("no templates")
	case o.Tokenizer == nil:
		return fmt.Errorf("no tokenizer")
	case o.MaxTokens < 0:
		return fmt.Errorf("max tokens %d is negative", o.MaxTokens)
	case o.Overlength != OverlengthDrop && o.Overlength != OverlengthTruncate:
		return fmt.Errorf("overlength %q: want drop or truncate", o.Overlength)
	case o.NearThreshold < 0 || o.NearThreshold > 1:
		return fmt.Errorf("near threshold %v is outside [0, 1]", o.NearThreshold)
	case o.ShingleTokens < 1:
		return fmt.Errorf("shingle tokens %d: want >= 1", o.ShingleTokens)
	case o.MaxPerTask < 0:
		return fmt.Errorf("max per task %d is negative", o.MaxPerTask)
	case o.Bins < 1:
		return fmt.Errorf("bins %d: want >= 1", o.Bins)
	case o.BinFactor < 0:
		return fmt.Errorf("bin factor %v is negative", o.BinFactor)
	case o.ValidationPercent < 0 || o.ValidationPercent > 100:
		return fmt.Errorf("validation percent %d is outside 0..100", o.ValidationPercent)
	case o.Epochs < 1:
		return fmt.Errorf("epochs %d: want >= 1", o.Epochs)
	case o.ReplicateK <= 0:
		return fmt.Errorf("replicate k %v: want > 0", o.ReplicateK)
	}
	return nil
}

// Copies is the number of times trl_replicated repeats an example of
// weight w: round(w × k), half away from zero.
func Copies(w, k float64) int { return int(math.Round(w * k)) }

// FormatStats estimates the training of one export format.
type FormatStats struct {
	Format string `json:"format"`
	// Rows are the train split's lines; TrainingTokens its tokens ×
	// epochs; CostUSD their price.
	Rows           int64   `json:"rows"`
	TrainingTokens int64   `json:"training_tokens"`
	CostUSD        float64 `json:"cost_usd"`
}

// Summary is what Prepare did, for the manifest's counters and the run
// report.
type Summary struct {
	Trajectories       int64 `json:"trajectories"`
	ExamplesSampling   int64 `json:"examples_sampling"`
	ExamplesKeyStep    int64 `json:"examples_refinement_key_step"`
	ExamplesError      int64 `json:"examples_refinement_error"`
	EmptyCompletion    int64 `json:"empty_completion"`
	KeyStepOutOfRange  int64 `json:"key_step_out_of_range"`
	FailedNoError      int64 `json:"failed_no_error"`
	DuplicatesExact    int64 `json:"duplicates_exact"`
	DuplicatesNear     int64 `json:"duplicates_near"`
	OverlengthDropped  int64 `json:"overlength_dropped"`
	OverlengthTruncate int64 `json:"overlength_truncated"`
	TasksCapped        int64 `json:"tasks_capped"`
	DroppedByCap       int64 `json:"dropped_by_cap"`
	// RefinementBins are the refinement examples kept per quality bin;
	// DroppedByBin those the balancing dropped.
	RefinementBins []int64 `json:"refinement_bins"`
	DroppedByBin   int64   `json:"dropped_by_bin"`
	// Examples are the examples written; TokensTotal their tokens.
	Examples           int64         `json:"examples"`
	TokensTotal        int64         `json:"tokens_total"`
	TrainExamples      int64         `json:"train_examples"`
	ValidationExamples int64         `json:"validation_examples"`
	Encoding           string        `json:"encoding"`
	Epochs             int           `json:"epochs"`
	Formats            []FormatStats `json:"formats"`
}

// Counters are the summary as named counters (costs in micro-dollars).
func (s *Summary) Counters() map[string]int64 {
	m := map[string]int64{
		"trajectories":                 s.Trajectories,
		"examples_sampling":            s.ExamplesSampling,
		"examples_refinement_key_step": s.ExamplesKeyStep,
		"examples_refinement_error":    s.ExamplesError,
		"empty_completion":             s.EmptyCompletion,
		"key_step_out_of_range":        s.KeyStepOutOfRange,
		"failed_no_error":              s.FailedNoError,
		"duplicates_exact":             s.DuplicatesExact,
		"duplicates_near":              s.DuplicatesNear,
		"overlength_dropped":           s.OverlengthDropped,
		"overlength_truncated":         s.OverlengthTruncate,
		"tasks_capped":                 s.TasksCapped,
		"dropped_by_cap":               s.DroppedByCap,
		"dropped_by_bin":               s.DroppedByBin,
		"examples":                     s.Examples,
		"tokens_total":                 s.TokensTotal,
		"train_examples":               s.TrainExamples,
		"validation_examples":          s.ValidationExamples,
	}
	for i, n := range s.RefinementBins {
		m[fmt.Sprintf("refinement_bin_%d", i)] = n
	}
	for _, f := range s.Formats {
		m["training_tokens_"+f.Format] = f.TrainingTokens
		m["train_rows_"+f.Format] = f.Rows
		m["cost_usd_micros_"+f.Format] = int64(math.Round(f.CostUSD * 1e6))
	}
	return m
}

// SummaryFromCounters is the summary Counters gave (for the run report,
// from a manifest's counters); Encoding and Epochs, which are not
// counters, stay empty.
func SummaryFromCounters(c map[string]int64) Summary {
	s := Summary{
		Trajectories: c["trajectories"], ExamplesSampling: c["examples_sampling"], ExamplesKeyStep: c["examples_refinement_key_step"],
		ExamplesError: c["examples_refinement_error"], EmptyCompletion: c["empty_completion"], KeyStepOutOfRange: c["key_step_out_of_range"],
		FailedNoError: c["failed_no_error"], DuplicatesExact: c["duplicates_exact"], DuplicatesNear: c["duplicates_near"],
		OverlengthDropped: c["overlength_dropped"], OverlengthTruncate: c["overlength_truncated"], TasksCapped: c["tasks_capped"],
		DroppedByCap: c["dropped_by_cap"], DroppedByBin: c["dropped_by_bin"], Examples: c["examples"], TokensTotal: c["tokens_total"],
		TrainExamples: c["train_examples"], ValidationExamples: c["validation_examples"],
	}
	for i := 0; ; i++ {
		n, ok := c[fmt.Sprintf("refinement_bin_%d", i)]
		if !ok {
			break
		}
		s.RefinementBins = append(s.RefinementBins, n)
	}
	for _, f := range JSONLFormats() {
		t, ok := c["training_tokens_"+f.Name]
		if !ok {
			continue
		}
		s.Formats = append(s.Formats, FormatStats{Format: f.Name, Rows: c["train_rows_"+f.Name], TrainingTokens: t, CostUSD: float64(c["cost_usd_micros_"+f.Name]) / 1e6})
	}
	return s
}

// Result is what Prepare returns: the examples, in output order (task,
// trajectory, subkind, step), and the summary.
type Result struct {
	Examples []Example
	Summary  Summary
}

var subkindOrder = map[string]int{SubkindSolution: 0, SubkindKeyStep: 1, SubkindError: 2}

// outputLess is the examples' order in every output.
func outputLess(a, b Example) int {
	if c := strings.Compare(a.TaskID, b.TaskID); c != 0 {
		return c
	}
	if c := strings.Compare(a.TrajectoryID, b.TrajectoryID); c != 0 {
		return c
	}
	if a.Subkind != b.Subkind {
		return subkindOrder[a.Subkind] - subkindOrder[b.Subkind]
	}
	if a.Step != b.Step {
		return int(a.Step - b.Step)
	}
	return strings.Compare(a.ID, b.ID)
}

// Prepare builds, selects and measures the examples of ins: Build for
// each trajectory, then (in this order) exact and near duplicates
// removed, token counts and the overlength policy, the per-task cap, the
// balancing of refinement examples over quality bins, and the split.
// The result does not depend on the order of ins beyond the trajectory
// ids, nor on Workers. It holds every example in memory: Pipeline, which
// Prepare runs with one bucket, spills them for larger inputs.
func Prepare(ctx context.Context, ins []Input, o Options) (*Result, error) {
	p, err := NewPipeline(o, SpillOptions{})
	if err != nil {
		return nil, err
	}
	defer p.Close()
	for _, in := range ins {
		if err := p.Add(ctx, in); err != nil {
			return nil, err
		}
	}
	var exs []Example
	s, err := p.Finish(ctx, func(e *Example) error {
		exs = append(exs, *e)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &Result{Examples: exs, Summary: s}, nil
}

// applyOverlength drops or truncates the examples over MaxTokens,
// filtering exs in place.
func applyOverlength(exs []Example, o Options) ([]Example, int64, int64) {
	if o.MaxTokens <= 0 {
		return exs, 0, 0
	}
	out := exs[:0]
	var dropped, truncated int64
	for _, e := range exs {
		if int(e.TotalTokens) <= o.MaxTokens {
			out = append(out, e)
			continue
		}
		if o.Overlength == OverlengthTruncate && e.history != "" {
			if ok, err := truncate(&e, o); err == nil && ok {
				truncated++
				out = append(out, e)
				continue
			}
		}
		dropped++
	}
	return out, dropped, truncated
}

// truncate cuts e's history from the front until e fits MaxTokens; false
// when it cannot (the history runs out).
func truncate(e *Example, o Options) (bool, error) {
	over := int(e.TotalTokens) - o.MaxTokens
	hist := e.history
	for range 8 {
		rest, kept, err := o.Tokenizer.dropFront(hist, over)
		if err != nil {
			return false, err
		}
		if kept == 0 {
			return false, nil
		}
		p, err := o.Templates.refinementWith(e.taskText, rest, true, e.isErr)
		if err != nil {
			return false, err
		}
		n, err := o.Tokenizer.Count(p)
		if err != nil {
			return false, err
		}
		total := int(e.SystemTokens) + n + int(e.CompletionTokens)
		if total <= o.MaxTokens {
			e.Prompt, e.history, e.PromptTokens, e.TotalTokens, e.Truncated = p, rest, int32(n), int32(total), true
			return true, nil
		}
		// Token boundaries move when text is cut: cut further.
		hist, over = rest, total-o.MaxTokens
	}
	return false, nil
}
