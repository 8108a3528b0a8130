package sft

import (
	"math"
	"slices"
	"strings"
	"unicode"
)

// rankLess orders examples best first: quality descending, then the
// shortest completion (in tokens, then bytes), then a stable hash of the
// id, the id, and (for ids given twice) the input order. It is the order
// every selection below keeps from. The keys are the example's rankKey,
// set when it is built.
func rankLess(a, b *Example) int { return compareRank(&a.rk, &b.rk) }

// normSpace collapses runs of white space into one space and trims.
func normSpace(s string) string { return strings.Join(strings.Fields(s), " ") }

// codeTokens splits normalised code into tokens: identifiers and numbers,
// and single punctuation characters; comments ("#" to the end of a
// line, a heuristic that ignores "#" inside strings) and white space are
// dropped.
func codeTokens(code string) []string {
	var toks []string
	for _, line := range strings.Split(code, "\n") {
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		word := -1
		for i, r := range line {
			isWord := r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r)
			if isWord {
				if word < 0 {
					word = i
				}
				continue
			}
			if word >= 0 {
				toks = append(toks, line[word:i])
				word = -1
			}
			if !unicode.IsSpace(r) {
				toks = append(toks, string(r))
			}
		}
		if word >= 0 {
			toks = append(toks, line[word:])
		}
	}
	return toks
}

// shingles is the sorted set of hashes of the k-token shingles of code
// (the whole token list when it is shorter than k).
func shingles(code string, k int) []uint64 {
	toks := codeTokens(code)
	if len(toks) == 0 {
		return nil
	}
	if k < 1 {
		k = 1
	}
	var out []uint64
	if len(toks) < k {
		out = append(out, stableHash(strings.Join(toks, "\x00")))
	}
	for i := 0; i+k <= len(toks); i++ {
		out = append(out, stableHash(strings.Join(toks[i:i+k], "\x00")))
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// jaccard is |a ∩ b| / |a ∪ b| of two sorted sets.
func jaccard(a, b []uint64) float64 {
	if len(a) == 0 && len(b) == 0 {
		return 1
	}
	i, j, inter := 0, 0, 0
	for i < len(a) && j < len(b) {
		switch {
		case a[i] == b[j]:
			inter++
			i++
			j++
		case a[i] < b[j]:
			i++
		default:
			j++
		}
	}
	return float64(inter) / float64(len(a)+len(b)-inter)
}

// dedupeNear removes near-duplicate solutions: among the sampling
// examples of one task, in rank order, an example whose completion's
// shingle set has a Jaccard similarity of at least threshold with one
// kept before it is removed. Other examples pass. threshold <= 0 keeps
// everything. Only tasks with two sampling examples or more are
// shingled. exs is filtered in place.
func dedupeNear(exs []Example, threshold float64, k int) ([]Example, int64) {
	if threshold <= 0 {
		return exs, 0
	}
	solutions := map[string]int{}
	for i := range exs {
		if exs[i].Subkind == SubkindSolution {
			solutions[exs[i].TaskID]++
		}
	}
	kept := map[string][][]uint64{}
	out := exs[:0]
	var removed int64
	for _, e := range exs {
		if e.Subkind != SubkindSolution || solutions[e.TaskID] < 2 {
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

// spread picks m of the n items of a list evenly: the items at
// floor((i + 0.5) n / m), i = 0..m-1.
func spread(n, m int) []int {
	if m >= n {
		out := make([]int, n)
		for i := range out {
			out[i] = i
		}
		return out
	}
	out := make([]int, m)
	for i := range out {
		out[i] = int(math.Floor((float64(i) + 0.5) * float64(n) / float64(m)))
	}
	return out
}

// greedyDiverse keeps at most max of exs (in rank order): the best
// ceil(max/2), then the rest spread evenly over what remains, so that
// the kept set covers the whole range of quality.
func greedyDiverse(exs []Example, max int) []Example {
	if max <= 0 || len(exs) <= max {
		return exs
	}
	out := make([]Example, 0, max)
	for _, i := range diverseIndices(len(exs), max) {
		out = append(out, exs[i])
	}
	return out
}

// diverseIndices are the indices greedyDiverse keeps of n items (n >
// max > 0), in order: the first ceil(max/2), then the rest spread.
func diverseIndices(n, max int) []int {
	best := (max + 1) / 2
	out := make([]int, 0, max)
	for i := range best {
		out = append(out, i)
	}
	for _, i := range spread(n-best, max-best) {
		out = append(out, best+i)
	}
	return out
}

// capPerTask applies greedyDiverse to each task's examples (exs in rank
// order; the result too). It returns the kept examples, the tasks capped
// and the examples dropped.
func capPerTask(exs []Example, max int) ([]Example, int64, int64) {
	if max <= 0 {
		return exs, 0, 0
	}
	// No task over the cap: all kept, in the same (rank) order.
	per := map[string]int{}
	over := false
	for i := range exs {
		per[exs[i].TaskID]++
		over = over || per[exs[i].TaskID] > max
	}
	if !over {
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
		kept = append(kept, greedyDiverse(g, max)...)
	}
	slices.SortStableFunc(kept, func(a, b Example) int { return rankLess(&a, &b) })
	return kept, capped, dropped
}

// BinOf is the bin of quality q among n equal bins of [0, 1].
func BinOf(q float64, n int) int {
	b := int(math.Floor(q * float64(n)))
	return min(max(b, 0), n-1)
}
