package compress

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"
)

// Abstraction is a learned library function. Body is in Stitch syntax with
// arguments #0..#(Arity-1).
type Abstraction struct {
	Name  string `json:"name"`
	Body  string `json:"body"`
	Arity int    `json:"arity"`
	// Utility is the search's estimate of the cost it saves, less its size.
	Utility int64 `json:"utility"`
	// Uses counts its occurrences in the corpus right after it was learned.
	Uses int64 `json:"uses"`
	// CompressionRatio is the corpus cost before this step over the cost after.
	CompressionRatio float64 `json:"compression_ratio"`
	// CumulativeCompressionRatio is the original cost over the cost after.
	CumulativeCompressionRatio float64 `json:"cumulative_compression_ratio"`
	// FinalCost is the corpus cost after this step.
	FinalCost int64 `json:"final_cost"`
}

type parsedAbs struct {
	Abstraction
	body int32
}

// Options configures Compress.
type Options struct {
	Iterations int // abstractions to learn (at most)
	MaxArity   int // most arguments per abstraction
	// Workers bounds the goroutines that process shards (0: one per shard).
	Workers int
	// Shards is the number of corpus shards (0: 1). The result does not
	// depend on Shards or Workers.
	Shards int
	// Cost is the cost model (zero value: DefaultCost()).
	Cost CostModel
	// Library is a previously learned library: the corpus is rewritten with
	// it first, and new abstractions are numbered after it.
	Library []Abstraction
	// Prefix names new abstractions Prefix0, Prefix1, ... ("fn_" if empty).
	Prefix string
	// MaxProgramNodes rejects larger programs (0: DefaultMaxProgramNodes).
	MaxProgramNodes int
	// Admit, when set, is a front end's well-formedness check: an
	// abstraction is only learned when Admit(library so far, candidate)
	// returns nil. It must depend only on its arguments.
	Admit func(lib []Abstraction, a Abstraction) error
	// ArgsInOrder renumbers each learned abstraction's arguments in order
	// of first occurrence in its body text (for front ends whose functions
	// evaluate their parameters left to right); the search's own numbering
	// (Stitch's) otherwise.
	ArgsInOrder bool
	// SearchTimeout bounds the learning's wall-clock time from the start
	// of the first iteration (its searches, and the rewrites and summary
	// merges between them; 0: no bound), checked while a search runs. A search that runs out of it
	// is an error (*SearchTimeoutError), or, with StopOnTimeout, ends the
	// learning: the result keeps the abstractions learned before it and
	// says so in Result.SearchTimeout. Only then does the result depend on
	// the machine's speed.
	SearchTimeout time.Duration
	StopOnTimeout bool
	Logger        *slog.Logger
}

// SearchTimeoutError is the error of the iteration whose search ran out
// of Options.SearchTimeout.
type SearchTimeoutError struct {
	Iteration int
	Timeout   time.Duration
}

func (e *SearchTimeoutError) Error() string {
	return fmt.Sprintf("iteration %d: the search ran out of its time (%s for all iterations)", e.Iteration, e.Timeout)
}

// SearchTimeout records, in a Result, the iteration whose search ran out
// of Options.SearchTimeout and ended the learning.
type SearchTimeout struct {
	Iteration int    `json:"iteration"`
	Timeout   string `json:"timeout"`
}

// DefaultMaxProgramNodes is the default limit on the size of one program.
const DefaultMaxProgramNodes = 200_000

// Result is the outcome of Compress.
type Result struct {
	OriginalCost     int64   `json:"original_cost"`
	FinalCost        int64   `json:"final_cost"`
	CompressionRatio float64 `json:"compression_ratio"`
	// LibraryCost is the cost after rewriting with Options.Library.
	LibraryCost int64 `json:"library_cost"`
	// PreviousAbstractions is how many entries of Abstractions came from
	// Options.Library; the rest were learned now.
	PreviousAbstractions int           `json:"previous_abstractions"`
	Abstractions         []Abstraction `json:"abstractions"`
	Rewritten            []string      `json:"rewritten"`
	// OriginalDAGCost and FinalDAGCost are the corpus's DAGCost before and
	// after: a subterm repeated within a program counted once.
	OriginalDAGCost     int64   `json:"original_dag_cost"`
	FinalDAGCost        int64   `json:"final_dag_cost"`
	DAGCompressionRatio float64 `json:"dag_compression_ratio"`
	// SearchTimeout is set when an iteration's search ran out of
	// Options.SearchTimeout and, with StopOnTimeout, ended the learning.
	SearchTimeout *SearchTimeout `json:"search_timeout,omitempty"`
	Search        []SearchStats  `json:"-"` // work counts depend on scheduling when Workers > 1
}

func (o *Options) normalize() error {
	o.Cost = o.Cost.OrDefault()
	if o.SearchTimeout < 0 {
		return fmt.Errorf("search timeout must not be negative, got %s", o.SearchTimeout)
	}
	if o.Iterations < 0 {
		return fmt.Errorf("iterations must be at least 0, got %d", o.Iterations)
	}
	if o.MaxArity < 0 {
		return fmt.Errorf("max arity must be at least 0, got %d", o.MaxArity)
	}
	if o.Shards <= 0 {
		o.Shards = 1
	}
	if o.Workers <= 0 {
		o.Workers = o.Shards
	}
	if o.Prefix == "" {
		o.Prefix = "fn_"
	}
	if o.MaxProgramNodes <= 0 {
		o.MaxProgramNodes = DefaultMaxProgramNodes
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return nil
}

// Shard is one part of the corpus: its programs live in a private store.
// Shards are the map side of the map/reduce protocol (see the package doc).
type Shard struct {
	index int
	base  int // global index of the first program
	store *Store
	roots []int32
	abs   map[string]bool
}

// NewShard parses programs (global indices base, base+1, ...) into a shard.
// Errors are *ParseError naming the global program index.
func NewShard(index, base int, programs []string, cm CostModel, maxNodes int) (*Shard, error) {
	sh := &Shard{index: index, base: base, store: NewStore(cm), abs: map[string]bool{}}
	if maxNodes <= 0 {
		maxNodes = DefaultMaxProgramNodes
	}
	for i, p := range programs {
		r, err := sh.store.parseTerm(p, 0, maxNodes)
		if err != nil {
			return nil, &ParseError{What: "program", Program: base + i, Err: err}
		}
		sh.roots = append(sh.roots, r)
	}
	return sh, nil
}

// Summary is the shard's report for the reducer.
func (sh *Shard) Summary() *Summary { return summarize(sh.store, sh.roots, sh.index, sh.base) }

// Cost is the total cost of the shard's programs.
func (sh *Shard) Cost() int64 {
	var c int64
	for _, r := range sh.roots {
		c += sh.store.cost[r]
	}
	return c
}

// Apply rewrites the shard's programs with abstraction a (the broadcast of
// the reduce step) and returns how many times it is used.
func (sh *Shard) Apply(a Abstraction) (int64, error) {
	body, err := sh.store.parseTerm(a.Body, a.Arity, 0)
	if err != nil {
		return 0, fmt.Errorf("abstraction %s: %w", a.Name, err)
	}
	sh.roots = rewriteAll(sh.store, sh.roots, a.Name, body, a.Arity)
	sh.abs[a.Name] = true
	sh.compact()
	return countSym(sh.store, sh.roots, a.Name), nil
}

// compact drops the nodes no program uses any more, bounding memory.
func (sh *Shard) compact() {
	if sh.store.Len() < 1<<16 {
		return
	}
	ns := NewStore(sh.store.cm)
	memo := map[int32]int32{}
	for i, r := range sh.roots {
		sh.roots[i] = ns.copyFrom(sh.store, r, memo)
	}
	sh.store = ns
}

// Programs prints the shard's current programs.
func (sh *Shard) Programs() []string {
	out := make([]string, len(sh.roots))
	for i, r := range sh.roots {
		out[i] = sh.store.String(r)
	}
	return out
}

// Search is the reduce step: the best abstraction for the merged corpus,
// named name, or nil when none has positive utility.
func Search(ctx context.Context, c *Corpus, maxArity, workers int, name string) (*Abstraction, SearchStats, error) {
	return SearchAdmit(ctx, c, maxArity, workers, name, nil)
}

// SearchAdmit is Search restricted to the abstractions admit accepts
// (nil: all).
func SearchAdmit(ctx context.Context, c *Corpus, maxArity, workers int, name string, admit func(body string, arity int) bool) (*Abstraction, SearchStats, error) {
	cand, st, err := bestAbstraction(ctx, c, maxArity, workers, admit)
	if err != nil || cand == nil {
		return nil, st, err
	}
	return &Abstraction{Name: name, Body: cand.body, Arity: cand.arity, Utility: cand.utility}, st, nil
}

// splitShards cuts n programs into k contiguous ranges.
func splitShards(n, k int) [][2]int {
	k = max(1, min(k, n))
	out := make([][2]int, k)
	for i := range k {
		out[i] = [2]int{i * n / k, (i + 1) * n / k}
	}
	return out
}

func newShards(ctx context.Context, programs []string, o *Options) ([]*Shard, error) {
	ranges := splitShards(len(programs), o.Shards)
	shards := make([]*Shard, len(ranges))
	errs := make([]error, len(ranges))
	g, _ := errgroup.WithContext(ctx)
	g.SetLimit(o.Workers)
	for i, r := range ranges {
		g.Go(func() error {
			shards[i], errs[i] = NewShard(i, r[0], programs[r[0]:r[1]], o.Cost, o.MaxProgramNodes)
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	// report the lowest failing program, whatever the scheduling
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return shards, nil
}

func forShards(ctx context.Context, shards []*Shard, workers int, f func(i int, sh *Shard) error) error {
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(workers)
	for i, sh := range shards {
		g.Go(func() error {
			if err := ctx.Err(); err != nil {
				return err
			}
			return f(i, sh)
		})
	}
	return g.Wait()
}

// applyAll rewrites every shard with a and returns the total uses and cost.
func applyAll(ctx context.Context, shards []*Shard, workers int, a Abstraction) (int64, int64, error) {
	uses := make([]int64, len(shards))
	costs := make([]int64, len(shards))
	err := forShards(ctx, shards, workers, func(i int, sh *Shard) error {
		u, err := sh.Apply(a)
		uses[i], costs[i] = u, sh.Cost()
		return err
	})
	if err != nil {
		return 0, 0, err
	}
	var u, c int64
	for i := range shards {
		u += uses[i]
		c += costs[i]
	}
	return u, c, nil
}

// ValidateLibrary checks that every abstraction parses with its arity and
// that names are distinct.
func ValidateLibrary(lib []Abstraction) error {
	seen := map[string]bool{}
	s := NewStore(DefaultCost())
	for i, a := range lib {
		if a.Name == "" || seen[a.Name] {
			return &ParseError{What: "abstraction", Program: i, Err: fmt.Errorf("missing or duplicate name %q", a.Name)}
		}
		seen[a.Name] = true
		if a.Arity < 0 {
			return &ParseError{What: "abstraction", Program: i, Err: fmt.Errorf("negative arity %d", a.Arity)}
		}
		if _, err := s.parseTerm(a.Body, a.Arity, 0); err != nil {
			return &ParseError{What: "abstraction", Program: i, Err: err}
		}
	}
	return nil
}

// Compress learns up to o.Iterations abstractions from programs (Stitch
// syntax), rewriting the corpus after each one.
func Compress(ctx context.Context, programs []string, o Options) (*Result, error) {
	if err := o.normalize(); err != nil {
		return nil, err
	}
	if len(programs) == 0 {
		return nil, errors.New("compress: empty corpus")
	}
	if err := ValidateLibrary(o.Library); err != nil {
		return nil, fmt.Errorf("compress: library: %w", err)
	}
	shards, err := newShards(ctx, programs, &o)
	if err != nil {
		return nil, fmt.Errorf("compress: %w", err)
	}
	res := &Result{PreviousAbstractions: len(o.Library), Abstractions: []Abstraction{}, Search: []SearchStats{}}
	for _, sh := range shards {
		res.OriginalCost += sh.Cost()
	}
	cost := res.OriginalCost
	for _, a := range o.Library {
		u, c, err := applyAll(ctx, shards, o.Workers, a)
		if err != nil {
			return nil, fmt.Errorf("compress: library: %w", err)
		}
		a.Uses = u
		res.Abstractions = append(res.Abstractions, a)
		cost = c
	}
	res.LibraryCost = cost
	var deadline time.Time
	if o.SearchTimeout > 0 {
		deadline = time.Now().Add(o.SearchTimeout)
	}
	for it := 0; it < o.Iterations; it++ {
		start := time.Now()
		sums := make([]*Summary, len(shards))
		if err := forShards(ctx, shards, o.Workers, func(i int, sh *Shard) error {
			sums[i] = sh.Summary()
			return nil
		}); err != nil {
			return nil, fmt.Errorf("compress: %w", err)
		}
		corpus := MergeSummaries(o.Cost, sums)
		name := NextName(o.Prefix, res.Abstractions, corpus.HasSymbol)
		var admit func(string, int) bool
		if o.Admit != nil {
			lib := res.Abstractions
			admit = func(body string, arity int) bool {
				return o.Admit(lib, Abstraction{Name: name, Body: body, Arity: arity}) == nil
			}
		}
		sctx, cancel := ctx, context.CancelFunc(func() {})
		if o.SearchTimeout > 0 {
			sctx, cancel = context.WithDeadline(ctx, deadline)
		}
		a, st, err := SearchAdmit(sctx, corpus, o.MaxArity, o.Workers, name, admit)
		cancel()
		if err != nil && ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
			if !o.StopOnTimeout {
				return nil, fmt.Errorf("compress: %w", &SearchTimeoutError{Iteration: it, Timeout: o.SearchTimeout})
			}
			o.Logger.Warn("the search ran out of its time: learning stops here", "iteration", it, "timeout", o.SearchTimeout.String(),
				"expansions", st.Expansions, "learned", len(res.Abstractions)-len(o.Library))
			res.SearchTimeout = &SearchTimeout{Iteration: it, Timeout: o.SearchTimeout.String()}
			break
		}
		if err != nil {
			return nil, fmt.Errorf("compress: iteration %d: %w", it, err)
		}
		res.Search = append(res.Search, st)
		if a == nil {
			o.Logger.Info("no abstraction with positive utility", "iteration", it)
			break
		}
		if o.ArgsInOrder {
			a.Body = ArgsInOrder(a.Body)
		}
		u, c, err := applyAll(ctx, shards, o.Workers, *a)
		if err != nil {
			return nil, fmt.Errorf("compress: iteration %d: %w", it, err)
		}
		a.Uses = u
		a.FinalCost = c
		a.CompressionRatio = ratio(cost, c)
		a.CumulativeCompressionRatio = ratio(res.OriginalCost, c)
		cost = c
		res.Abstractions = append(res.Abstractions, *a)
		o.Logger.Info("learned abstraction", "iteration", it, "name", a.Name, "utility", a.Utility,
			"cost", c, "expansions", st.Expansions, "elapsed", time.Since(start))
	}
	for _, sh := range shards {
		res.Rewritten = append(res.Rewritten, sh.Programs()...)
	}
	res.FinalCost = cost
	res.CompressionRatio = ratio(res.OriginalCost, cost)
	if res.OriginalDAGCost, err = corpusDAGCost(ctx, programs, o.Cost, o.Workers); err != nil {
		return nil, fmt.Errorf("compress: %w", err)
	}
	if res.FinalDAGCost, err = corpusDAGCost(ctx, res.Rewritten, o.Cost, o.Workers); err != nil {
		return nil, fmt.Errorf("compress: rewritten: %w", err)
	}
	res.DAGCompressionRatio = ratio(res.OriginalDAGCost, res.FinalDAGCost)
	return res, nil
}

// corpusDAGCost is the sum of the programs' DAGCost, on workers goroutines.
func corpusDAGCost(ctx context.Context, programs []string, cm CostModel, workers int) (int64, error) {
	chunks := splitShards(len(programs), max(workers, 1))
	sums := make([]int64, len(chunks))
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(max(workers, 1))
	for i, c := range chunks {
		g.Go(func() error {
			for j := c[0]; j < c[1]; j++ {
				if j%1024 == 0 && ctx.Err() != nil {
					return ctx.Err()
				}
				n, err := DAGCost(programs[j], cm)
				if err != nil {
					return fmt.Errorf("program %d: %w", j, err)
				}
				sums[i] += n
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return 0, err
	}
	var total int64
	for _, n := range sums {
		total += n
	}
	return total, nil
}

func ratio(a, b int64) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// RewriteResult is the outcome of Rewrite.
type RewriteResult struct {
	OriginalCost     int64    `json:"original_cost"`
	FinalCost        int64    `json:"final_cost"`
	CompressionRatio float64  `json:"compression_ratio"`
	Rewritten        []string `json:"rewritten"`
}

// Rewrite rewrites programs it may never have seen with a learned library,
// applying the abstractions in order (held-out compression).
func Rewrite(ctx context.Context, programs []string, lib []Abstraction, o Options) (*RewriteResult, error) {
	if err := o.normalize(); err != nil {
		return nil, err
	}
	if len(programs) == 0 {
		return nil, errors.New("rewrite: empty corpus")
	}
	if err := ValidateLibrary(lib); err != nil {
		return nil, fmt.Errorf("rewrite: library: %w", err)
	}
	shards, err := newShards(ctx, programs, &o)
	if err != nil {
		return nil, fmt.Errorf("rewrite: %w", err)
	}
	res := &RewriteResult{}
	for _, sh := range shards {
		res.OriginalCost += sh.Cost()
	}
	res.FinalCost = res.OriginalCost
	for _, a := range lib {
		if _, res.FinalCost, err = applyAll(ctx, shards, o.Workers, a); err != nil {
			return nil, fmt.Errorf("rewrite: %w", err)
		}
	}
	for _, sh := range shards {
		res.Rewritten = append(res.Rewritten, sh.Programs()...)
	}
	res.CompressionRatio = ratio(res.OriginalCost, res.FinalCost)
	return res, nil
}

// Inline expands every use of the library's abstractions in program,
// giving back the program the rewrite started from.
func Inline(program string, lib []Abstraction) (string, error) {
	if err := ValidateLibrary(lib); err != nil {
		return "", fmt.Errorf("inline: library: %w", err)
	}
	s := NewStore(DefaultCost())
	parsed := make([]parsedAbs, len(lib))
	for i, a := range lib {
		b, err := s.parseTerm(a.Body, a.Arity, 0)
		if err != nil {
			return "", fmt.Errorf("inline: abstraction %d: %w", i, err)
		}
		parsed[i] = parsedAbs{Abstraction: a, body: b}
	}
	r, err := s.parseTerm(program, 0, 0)
	if err != nil {
		return "", fmt.Errorf("inline: %w", err)
	}
	out, err := newInliner(s, parsed).inline(r)
	if err != nil {
		return "", fmt.Errorf("inline: %w", err)
	}
	return s.String(out), nil
}

// ProgramCost is the cost of one program under cm.
func ProgramCost(program string, cm CostModel) (int64, error) {
	s := NewStore(cm)
	r, err := s.parseTerm(program, 0, 0)
	if err != nil {
		return 0, err
	}
	return s.cost[r], nil
}

// NextName returns the first name prefix+N (N counting from len(lib)) that
// is neither a symbol of the corpus (inUse) nor used by lib. It is how
// Compress names abstractions, for drivers of the file-based protocol.
func NextName(prefix string, lib []Abstraction, inUse func(string) bool) string {
	if prefix == "" {
		prefix = "fn_"
	}
	used := map[string]bool{}
	s := NewStore(DefaultCost())
	for _, a := range lib {
		used[a.Name] = true
		if _, err := s.parseTerm(a.Body, a.Arity, 0); err == nil {
			for _, sym := range s.syms {
				used[sym] = true
			}
		}
	}
	for n := len(lib); ; n++ {
		name := prefix + strconv.Itoa(n)
		if !used[name] && !inUse(name) {
			return name
		}
	}
}

// ArgsInOrder renumbers the arguments #i of an abstraction body in order of
// first occurrence, left to right: the same abstraction, its uses taking
// their arguments in that order.
func ArgsInOrder(body string) string {
	var b strings.Builder
	m := map[string]int{}
	for i := 0; i < len(body); {
		if body[i] != '#' || (i > 0 && !isDelim(body[i-1])) {
			b.WriteByte(body[i])
			i++
			continue
		}
		j := i + 1
		for j < len(body) && body[j] >= '0' && body[j] <= '9' {
			j++
		}
		if j == i+1 || (j < len(body) && !isDelim(body[j])) {
			b.WriteString(body[i:j])
			i = j
			continue
		}
		k, ok := m[body[i:j]]
		if !ok {
			k = len(m)
			m[body[i:j]] = k
		}
		b.WriteString("#" + strconv.Itoa(k))
		i = j
	}
	return b.String()
}

func isDelim(c byte) bool {
	return c == ' ' || c == '(' || c == ')' || c == '\t' || c == '\n' || c == '\r'
}
