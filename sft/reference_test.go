package sft

// The reference: Prepare as it was before Pipeline (every example in
// memory, every example's tokens counted with the codec), kept verbatim
// but for the names, for the equivalence tests and the benchmark.

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
)

// refCount counts with the codec itself, as Tokenizer.Count did.
func refCount(t *Tokenizer, s string) (int, error) {
	if s == "" {
		return 0, nil
	}
	n, err := t.codec.Count(s)
	if err != nil {
		return 0, fmt.Errorf("counting tokens: %w", err)
	}
	return n, nil
}

// refPrepare builds, selects and measures the examples of ins: Build for
// each trajectory, then (in this order) exact and near duplicates
// removed, token counts and the overlength policy, the per-task cap, the
// balancing of refinement examples over quality bins, and the split.
// The result does not depend on the order of ins beyond the trajectory
// ids, nor on Workers.
func refPrepare(ctx context.Context, ins []Input, o Options) (*Result, error) {
	if err := o.Validate(); err != nil {
		return nil, fmt.Errorf("sft: %w", err)
	}
	s := Summary{Trajectories: int64(len(ins)), Encoding: o.Tokenizer.Name(), Epochs: o.Epochs}
	var bs BuildStats
	var exs []Example
	for _, in := range ins {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		e, err := Build(in, o.Weights, o.System, o.Templates, &bs)
		if err != nil {
			return nil, fmt.Errorf("sft: %w", err)
		}
		exs = append(exs, e...)
	}
	s.EmptyCompletion, s.KeyStepOutOfRange, s.FailedNoError = bs.EmptyCompletion, bs.KeyStepOutOfRange, bs.FailedNoError
	for _, e := range exs {
		switch e.Subkind {
		case SubkindSolution:
			s.ExamplesSampling++
		case SubkindKeyStep:
			s.ExamplesKeyStep++
		case SubkindError:
			s.ExamplesError++
		}
	}
	// Ranking needs completion tokens: count them all first.
	if err := refCountTokens(ctx, exs, o); err != nil {
		return nil, err
	}
	// A fixed order (the output's) before ranking, so that equal ranks
	// resolve the same way whatever the input order.
	slices.SortFunc(exs, outputLess)
	slices.SortStableFunc(exs, func(a, b Example) int { return refRankLess(&a, &b) })
	exs, s.DuplicatesExact = refDedupeExact(exs)
	exs, s.DuplicatesNear = refDedupeNear(exs, o.NearThreshold, o.ShingleTokens)
	exs, s.OverlengthDropped, s.OverlengthTruncate = refApplyOverlength(exs, o)
	exs, s.TasksCapped, s.DroppedByCap = refCapPerTask(exs, o.MaxPerTask)
	exs, s.RefinementBins, s.DroppedByBin = refBalanceBins(exs, o.Bins, o.BinFactor)
	slices.SortFunc(exs, outputLess)
	for i := range exs {
		e := &exs[i]
		e.Split = SplitOf(e.TaskID, o.ValidationPercent)
		s.TokensTotal += int64(e.TotalTokens)
		if e.Split == SplitTrain {
			s.TrainExamples++
		} else {
			s.ValidationExamples++
		}
	}
	s.Examples = int64(len(exs))
	s.Formats = refEstimate(exs, o)
	return &Result{Examples: exs, Summary: s}, nil
}

// refCountTokens fills in the token counts, with o.Workers goroutines.
func refCountTokens(ctx context.Context, exs []Example, o Options) error {
	sys, err := refCount(o.Tokenizer, o.System)
	if err != nil {
		return fmt.Errorf("sft: system prompt: %w", err)
	}
	w := max(o.Workers, 1)
	var wg sync.WaitGroup
	errs := make([]error, w)
	for g := 0; g < w; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := g; i < len(exs); i += w {
				if ctx.Err() != nil {
					errs[g] = ctx.Err()
					return
				}
				if err := refSetTokens(&exs[i], sys, o.Tokenizer); err != nil {
					errs[g] = fmt.Errorf("sft: example %s (trajectory %s, %s step %d): %w", exs[i].ID, exs[i].TrajectoryID, exs[i].Subkind, exs[i].Step, err)
					return
				}
			}
		}(g)
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

func refSetTokens(e *Example, sys int, t *Tokenizer) error {
	p, err := refCount(t, e.Prompt)
	if err != nil {
		return err
	}
	c, err := refCount(t, e.Completion)
	if err != nil {
		return err
	}
	e.SystemTokens, e.PromptTokens, e.CompletionTokens = int32(sys), int32(p), int32(c)
	e.TotalTokens = int32(sys + p + c)
	return nil
}

// refApplyOverlength drops or truncates the examples over MaxTokens.
func refApplyOverlength(exs []Example, o Options) ([]Example, int64, int64) {
	if o.MaxTokens <= 0 {
		return exs, 0, 0
	}
	out := exs[:0:0]
	var dropped, truncated int64
	for _, e := range exs {
		if int(e.TotalTokens) <= o.MaxTokens {
			out = append(out, e)
			continue
		}
		if o.Overlength == OverlengthTruncate && e.history != "" {
			if ok, err := refTruncate(&e, o); err == nil && ok {
				truncated++
				out = append(out, e)
				continue
			}
		}
		dropped++
	}
	return out, dropped, truncated
}

// refTruncate cuts e's history from the front until e fits MaxTokens; false
// when it cannot (the history runs out).
func refTruncate(e *Example, o Options) (bool, error) {
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
		n, err := refCount(o.Tokenizer, p)
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

// refEstimate is the training estimate of every JSONL export format, over
// the train split.
func refEstimate(exs []Example, o Options) []FormatStats {
	var rows, toks, repRows, repToks int64
	for _, e := range exs {
		if e.Split != SplitTrain {
			continue
		}
		rows++
		toks += int64(e.TotalTokens)
		n := int64(Copies(e.Weight, o.ReplicateK))
		repRows += n
		repToks += n * int64(e.TotalTokens)
	}
	var out []FormatStats
	for _, f := range JSONLFormats() {
		st := FormatStats{Format: f.Name, Rows: rows, TrainingTokens: toks * int64(o.Epochs)}
		if f.Name == FormatTRLReplicated {
			st.Rows, st.TrainingTokens = repRows, repToks*int64(o.Epochs)
		}
		st.CostUSD = float64(st.TrainingTokens) / 1e6 * o.PricePer1M[f.Name]
		out = append(out, st)
	}
	return out
}

// refRankLess orders examples best first: quality descending, then the
// shortest completion (in tokens, then bytes), then a stable hash of the
// id. It is the order every selection below keeps from.
func refRankLess(a, b *Example) int {
	switch {
	case a.Quality != b.Quality:
		if a.Quality > b.Quality {
			return -1
		}
		return 1
	case a.CompletionTokens != b.CompletionTokens:
		return int(a.CompletionTokens) - int(b.CompletionTokens)
	case len(a.Completion) != len(b.Completion):
		return len(a.Completion) - len(b.Completion)
	}
	ha, hb := stableHash(a.ID), stableHash(b.ID)
	switch {
	case ha < hb:
		return -1
	case ha > hb:
		return 1
	}
	return strings.Compare(a.ID, b.ID)
}

// refDedupeExact keeps the first (in rank order) of the examples with the
// same prompt and completion after white-space normalisation; exs must be
// in rank order. It returns the kept examples and the count removed.
func refDedupeExact(exs []Example) ([]Example, int64) {
	seen := map[string]bool{}
	out := exs[:0:0]
	var removed int64
	for _, e := range exs {
		k := normSpace(e.System) + "\x00" + normSpace(e.Prompt) + "\x00" + normSpace(e.Completion)
		if seen[k] {
			removed++
			continue
		}
		seen[k] = true
		out = append(out, e)
	}
	return out, removed
}

// refGreedyDiverse keeps at most max of exs (in rank order): the best
// ceil(max/2), then the rest spread evenly over what remains, so that
// the kept set covers the whole range of quality.
func refGreedyDiverse(exs []Example, max int) []Example {
	if max <= 0 || len(exs) <= max {
		return exs
	}
	best := (max + 1) / 2
	out := append([]Example(nil), exs[:best]...)
	rest := exs[best:]
	for _, i := range spread(len(rest), max-best) {
		out = append(out, rest[i])
	}
	return out
}

// refCapPerTask applies greedyDiverse to each task's examples (exs in rank
// order; the result too). It returns the kept examples, the tasks capped
// and the examples dropped.
func refCapPerTask(exs []Example, max int) ([]Example, int64, int64) {
	if max <= 0 {
		return exs, 0, 0
	}
	byTask := map[string][]Example{}
	var order []string
	for _, e := range exs {
		if _, ok := byTask[e.TaskID]; !ok {
			order = append(order, e.TaskID)
		}
		byTask[e.TaskID] = append(byTask[e.TaskID], e)
	}
	var kept []Example
	var capped, dropped int64
	for _, id := range order {
		g := byTask[id]
		if len(g) > max {
			capped++
			dropped += int64(len(g) - max)
		}
		kept = append(kept, refGreedyDiverse(g, max)...)
	}
	slices.SortStableFunc(kept, func(a, b Example) int { return refRankLess(&a, &b) })
	return kept, capped, dropped
}

// refBalanceBins balances the refinement examples over n bins of their
// parent's quality: every bin keeps at most ceil(factor × the mean count
// of the non-empty bins) examples, chosen by greedyDiverse (so with
// factor 1 no bin holds more than its share; with 1.5, half as much
// again). Sampling
// examples pass. factor <= 0 keeps everything (bins are still assigned).
// It returns the kept examples (in rank order) and the count per bin
// kept, and the count dropped.
func refBalanceBins(exs []Example, n int, factor float64) ([]Example, []int64, int64) {
	bins := make([][]Example, n)
	var out []Example
	for _, e := range exs {
		if e.Kind != KindRefinement {
			out = append(out, e)
			continue
		}
		b := BinOf(e.Quality, n)
		e.QualityBin = int32(b)
		bins[b] = append(bins[b], e)
	}
	capN := -1
	if factor > 0 {
		total, nonEmpty := 0, 0
		for _, b := range bins {
			if len(b) > 0 {
				total += len(b)
				nonEmpty++
			}
		}
		if nonEmpty > 0 {
			capN = int(math.Ceil(float64(total) / float64(nonEmpty) * factor))
		}
	}
	counts := make([]int64, n)
	var dropped int64
	for i, b := range bins {
		k := b
		if capN >= 0 && len(b) > capN {
			k = refGreedyDiverse(b, capN)
			dropped += int64(len(b) - capN)
		}
		counts[i] = int64(len(k))
		out = append(out, k...)
	}
	slices.SortStableFunc(out, func(a, b Example) int { return refRankLess(&a, &b) })
	return out, counts, dropped
}

// refDedupeNear removes near-duplicate solutions: among the sampling
// examples of one task, in rank order, an example whose completion's
// shingle set has a Jaccard similarity of at least threshold with one
// kept before it is removed. Other examples pass. threshold <= 0 keeps
// everything.
func refDedupeNear(exs []Example, threshold float64, k int) ([]Example, int64) {
	if threshold <= 0 {
		return exs, 0
	}
	kept := map[string][][]uint64{}
	out := exs[:0:0]
	var removed int64
	for _, e := range exs {
		if e.Subkind != SubkindSolution {
			out = append(out, e)
			continue
		}
		sh := shingles(e.Completion, k)
		dup := false
		for _, o := range kept[e.TaskID] {
			if jaccard(sh, o) >= threshold {
				dup = true
				break
			}
		}
		if dup {
			removed++
			continue
		}
		kept[e.TaskID] = append(kept[e.TaskID], sh)
		out = append(out, e)
	}
	return out, removed
}
