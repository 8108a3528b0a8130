// Package concepts learns a run's concept library from the code of its
// successful trajectories: distinct solutions are gathered (each parsed
// once and counted, so the cost grows with the number of distinct
// solutions, not of trajectories), sampled deterministically beyond a cap,
// compressed with compress (Stitch-style library learning, extending an
// earlier library when given) and described as Concept rows: the body,
// its Python form where it prints as a Python function, and the
// trajectories whose solutions use it.
//
// The package knows nothing of storage or configuration: the run's
// concepts stage (jobs/stage_concepts.go) feeds it and writes its rows.
package concepts

import (
	"container/heap"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/atlas-ai/atlas-learn/compress"
	"github.com/atlas-ai/atlas-learn/compress/pyfront"
	"github.com/atlas-ai/atlas-learn/compress/sexp"
)

// Schema of the concepts dataset (see Concept).
const (
	SchemaName    = "concept"
	SchemaVersion = 2 // 2: description, signature, doc_source, doc_fallback
)

// Concept is one row of the concepts dataset: a learned abstraction.
type Concept struct {
	// Name is the abstraction's name in bodies and rewritten programs.
	Name string `parquet:"name" json:"name"`
	// Body is the abstraction in Stitch syntax: #i are its arguments.
	Body  string `parquet:"body" json:"body"`
	Arity int32  `parquet:"arity" json:"arity"`
	// Utility is the cost the abstraction saved when it was learned, less
	// its own size; Uses its occurrences in the corpus then.
	Utility int64 `parquet:"utility" json:"utility"`
	Uses    int64 `parquet:"uses" json:"uses"`
	// CompressionRatio is the corpus cost before this concept over after;
	// CumulativeCompressionRatio the original cost over the cost after.
	CompressionRatio           float64 `parquet:"compression_ratio" json:"compression_ratio"`
	CumulativeCompressionRatio float64 `parquet:"cumulative_compression_ratio" json:"cumulative_compression_ratio"`
	// Python is the concept as a Python function, "" when it cannot be
	// one (it is then only ever inlined); PythonError says why.
	Python      string `parquet:"python" json:"python,omitempty"`
	PythonError string `parquet:"python_error" json:"python_error,omitempty"`
	// FromLibrary marks concepts of the earlier library the run extended.
	FromLibrary bool `parquet:"from_library" json:"from_library"`
	// Solutions counts the distinct solutions whose rewrite uses the
	// concept, Trajectories the trajectories with those solutions.
	Solutions    int64 `parquet:"solutions" json:"solutions"`
	Trajectories int64 `parquet:"trajectories" json:"trajectories"`
	// TrajectoryIDs are some of those trajectories (at most
	// Options.MaxIDs), sorted.
	TrajectoryIDs []string `parquet:"trajectory_ids,list" json:"trajectory_ids"`
	// Description (one sentence) and Signature document the concept
	// (see jobs/autodoc); DocSource is "llm", "heuristic" or "" (not
	// documented), DocFallback why a heuristic doc is not an LLM one.
	Description string `parquet:"description" json:"description,omitempty"`
	Signature   string `parquet:"signature" json:"signature,omitempty"`
	DocSource   string `parquet:"doc_source" json:"doc_source,omitempty"`
	DocFallback string `parquet:"doc_fallback" json:"doc_fallback,omitempty"`
}

// Abstraction is the concept as compress takes it in a library.
func (c Concept) Abstraction() compress.Abstraction {
	return compress.Abstraction{Name: c.Name, Body: c.Body, Arity: int(c.Arity), Utility: c.Utility, Uses: c.Uses,
		CompressionRatio: c.CompressionRatio, CumulativeCompressionRatio: c.CumulativeCompressionRatio}
}

// Solution is one distinct solution: its code, the hash that identifies
// it, how many trajectories had it and some of their ids.
type Solution struct {
	Code  string
	Hash  [32]byte
	Count int64
	IDs   []string
}

// Collector gathers distinct solutions. Identical code is kept once and
// counted. Beyond Cap distinct solutions it keeps the Cap whose hashes are
// smallest (a bottom-k sample): which solutions are kept depends only on
// the set of solutions seen, never on their order, and memory is bounded
// by Cap. A Collector is not safe for concurrent use.
type Collector struct {
	cap, maxIDs int
	byHash      map[[32]byte]*Solution
	h           maxHashHeap
	stats       CollectStats
}

// CollectStats counts what a Collector saw.
type CollectStats struct {
	// Seen is the number of solutions added.
	Seen int64
	// OverCap counts the solutions added that are not in the sample.
	OverCap int64
}

// NewCollector keeps at most cap distinct solutions (cap < 1: no limit)
// and at most maxIDs trajectory ids per solution, the first seen.
func NewCollector(cap, maxIDs int) *Collector {
	return &Collector{cap: cap, maxIDs: maxIDs, byHash: map[[32]byte]*Solution{}}
}

// Add records that trajectory id's solution is code.
func (c *Collector) Add(id, code string) {
	c.stats.Seen++
	h := sha256.Sum256([]byte(code))
	if s, ok := c.byHash[h]; ok {
		s.Count++
		if len(s.IDs) < c.maxIDs {
			s.IDs = append(s.IDs, id)
		}
		return
	}
	if c.cap > 0 && len(c.byHash) >= c.cap {
		top := c.h[0]
		if cmpHash(h, top.Hash) > 0 {
			c.stats.OverCap++
			return
		}
		heap.Pop(&c.h)
		delete(c.byHash, top.Hash)
		c.stats.OverCap += top.Count
	}
	s := &Solution{Code: code, Hash: h, Count: 1}
	if c.maxIDs > 0 {
		s.IDs = []string{id}
	}
	c.byHash[h] = s
	heap.Push(&c.h, s)
}

// Stats reports what was seen.
func (c *Collector) Stats() CollectStats { return c.stats }

// Solutions returns the sample, sorted by hash.
func (c *Collector) Solutions() []*Solution {
	out := make([]*Solution, 0, len(c.byHash))
	for _, s := range c.byHash {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return cmpHash(out[i].Hash, out[j].Hash) < 0 })
	return out
}

func cmpHash(a, b [32]byte) int { return slices.Compare(a[:], b[:]) }

// maxHashHeap keeps the largest hash on top.
type maxHashHeap []*Solution

func (h maxHashHeap) Len() int           { return len(h) }
func (h maxHashHeap) Less(i, j int) bool { return cmpHash(h[i].Hash, h[j].Hash) > 0 }
func (h maxHashHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *maxHashHeap) Push(x any)        { *h = append(*h, x.(*Solution)) }
func (h *maxHashHeap) Pop() any {
	old := *h
	s := old[len(old)-1]
	*h = old[:len(old)-1]
	return s
}

// Options configures Learn.
type Options struct {
	Iterations, MaxArity int
	// Workers bounds the goroutines parsing and compressing; Shards the
	// corpus shards. Neither changes the result.
	Workers, Shards int
	Cost            compress.CostModel
	// Library is an earlier library, applied first and extended.
	Library []Concept
	// MaxIDs bounds the trajectory ids listed per concept.
	MaxIDs int
	// SearchTimeout bounds the search of all iterations together (0: no
	// bound); running out of it is an error, or with StopOnTimeout ends
	// the learning (Stats.SearchTimeout). See compress.Options.
	SearchTimeout time.Duration
	StopOnTimeout bool
	Logger        *slog.Logger
}

// Stats describes one Learn.
type Stats struct {
	// Programs is the number of solutions compressed; Unparsable those
	// that are not valid Python (skipped).
	Programs, Unparsable int
	OriginalCost         int64
	FinalCost            int64
	CompressionRatio     float64
	// Learned counts the concepts learned now (beyond the library).
	Learned int
	// SearchTimeout is set when the search ran out of its time and the
	// learning stopped there.
	SearchTimeout *compress.SearchTimeout
	// Symbols are the identifiers of the corpus (helper and builtin names,
	// attributes), sorted: names a concept must not take.
	Symbols []string
}

// Learn compresses the solutions (Python source) into a library and
// describes every concept, the earlier library's first.
func Learn(ctx context.Context, sols []*Solution, o Options) ([]Concept, Stats, error) {
	var st Stats
	logger := o.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	programs := make([]string, len(sols))
	errs := make([]error, len(sols))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(max(o.Workers, 1))
	for i, s := range sols {
		g.Go(func() error {
			programs[i], errs[i] = pyfront.Encode(gctx, []byte(s.Code))
			return gctx.Err()
		})
	}
	if err := g.Wait(); err != nil {
		return nil, st, err
	}
	// Solutions that do not parse are trajectory data, not a failure of
	// the run: they are skipped and counted.
	var kept []*Solution
	var corpus []string
	for i, err := range errs {
		if err != nil {
			st.Unparsable++
			logger.Debug("skipping a solution that is not valid Python", "trajectory", firstID(sols[i]), "error", err)
			continue
		}
		kept = append(kept, sols[i])
		corpus = append(corpus, programs[i])
	}
	st.Programs = len(corpus)
	st.Symbols = symbols(corpus)
	var lib []compress.Abstraction
	for _, c := range o.Library {
		lib = append(lib, c.Abstraction())
	}
	if err := compress.ValidateLibrary(lib); err != nil {
		return nil, st, fmt.Errorf("library: %w", err)
	}
	var res *compress.Result
	if len(corpus) > 0 {
		var err error
		res, err = compress.Compress(ctx, corpus, compress.Options{Iterations: o.Iterations, MaxArity: o.MaxArity,
			Workers: max(o.Workers, 1), Shards: shardsOr(o.Shards, o.Workers), Library: lib, Cost: o.Cost, Logger: logger,
			SearchTimeout: o.SearchTimeout, StopOnTimeout: o.StopOnTimeout})
		if err != nil {
			return nil, st, err
		}
		st.OriginalCost, st.FinalCost, st.CompressionRatio = res.OriginalCost, res.FinalCost, res.CompressionRatio
		st.Learned = len(res.Abstractions) - res.PreviousAbstractions
		st.SearchTimeout = res.SearchTimeout
	} else {
		res = &compress.Result{Abstractions: lib, PreviousAbstractions: len(lib)}
	}
	rows := make([]Concept, len(res.Abstractions))
	index := map[string]int{}
	var pyLib []pyfront.Concept
	for i, a := range res.Abstractions {
		index[a.Name] = i
		rows[i] = Concept{Name: a.Name, Body: a.Body, Arity: int32(a.Arity), Utility: a.Utility, Uses: a.Uses,
			CompressionRatio: a.CompressionRatio, CumulativeCompressionRatio: a.CumulativeCompressionRatio,
			FromLibrary: i < res.PreviousAbstractions, TrajectoryIDs: []string{}}
		if rows[i].FromLibrary {
			// The library's documentation is kept as it was.
			for _, l := range o.Library {
				if l.Name == a.Name {
					rows[i].Description, rows[i].Signature, rows[i].DocSource, rows[i].DocFallback = l.Description, l.Signature, l.DocSource, l.DocFallback
				}
			}
		}
		pc := pyfront.Concept{Name: a.Name, Body: a.Body, Arity: a.Arity}
		pyLib = append(pyLib, pc)
		if src, err := pyfront.ConceptToPythonLib(pc, pyLib); err != nil {
			rows[i].PythonError = err.Error()
		} else {
			rows[i].Python = src
		}
	}
	// Which solutions use which concepts: the names in their rewrites, and
	// the concepts those use in their bodies, transitively.
	deps := make([][]int, len(rows))
	for i, r := range rows {
		d, err := namesUsed(r.Body, index)
		if err != nil {
			return nil, st, fmt.Errorf("concept %s: %w", r.Name, err)
		}
		deps[i] = d
	}
	ids := make([]map[string]bool, len(rows))
	for p, prog := range res.Rewritten {
		direct, err := namesUsed(prog, index)
		if err != nil {
			return nil, st, fmt.Errorf("rewritten program %d: %w", p, err)
		}
		for _, i := range closure(direct, deps) {
			rows[i].Solutions++
			rows[i].Trajectories += kept[p].Count
			if ids[i] == nil {
				ids[i] = map[string]bool{}
			}
			for _, id := range kept[p].IDs {
				ids[i][id] = true
			}
		}
	}
	for i := range rows {
		all := make([]string, 0, len(ids[i]))
		for id := range ids[i] {
			all = append(all, id)
		}
		sort.Strings(all)
		if o.MaxIDs >= 0 && len(all) > o.MaxIDs {
			all = all[:o.MaxIDs]
		}
		rows[i].TrajectoryIDs = all
	}
	return rows, st, nil
}

// closure is direct and every concept reachable from it through deps,
// once each, sorted.
func closure(direct []int, deps [][]int) []int {
	seen := map[int]bool{}
	stack := append([]int(nil), direct...)
	for len(stack) > 0 {
		i := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[i] {
			continue
		}
		seen[i] = true
		stack = append(stack, deps[i]...)
	}
	out := make([]int, 0, len(seen))
	for i := range seen {
		out = append(out, i)
	}
	sort.Ints(out)
	return out
}

// namesUsed lists, once each and in index order, the concepts a program
// in Stitch syntax applies.
func namesUsed(prog string, index map[string]int) ([]int, error) {
	n, err := sexp.Parse(prog)
	if err != nil {
		return nil, err
	}
	seen := map[int]bool{}
	_ = n.Walk(func(x *sexp.Node) error {
		if x.Atom != "" {
			if i, ok := index[x.Atom]; ok {
				seen[i] = true
			}
		}
		return nil
	})
	out := make([]int, 0, len(seen))
	for i := range seen {
		out = append(out, i)
	}
	sort.Ints(out)
	return out, nil
}

// symbols are the identifier atoms of the programs, sorted, once each.
func symbols(programs []string) []string {
	seen := map[string]bool{}
	for _, p := range programs {
		n, err := sexp.Parse(p)
		if err != nil {
			continue
		}
		_ = n.Walk(func(x *sexp.Node) error {
			if a := x.Atom; a != "" && isIdent(a) {
				seen[a] = true
			}
			return nil
		})
	}
	out := make([]string, 0, len(seen))
	for a := range seen {
		out = append(out, a)
	}
	sort.Strings(out)
	return out
}

func isIdent(s string) bool {
	for i, r := range s {
		if !(r == '_' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (i > 0 && r >= '0' && r <= '9')) {
			return false
		}
	}
	return s != ""
}

func firstID(s *Solution) string {
	if len(s.IDs) > 0 {
		return s.IDs[0]
	}
	return hex.EncodeToString(s.Hash[:8])
}

// shardsOr is shards, or as many as workers when 0 (at least 1).
func shardsOr(shards, workers int) int {
	if shards > 0 {
		return shards
	}
	return max(workers, 1)
}
