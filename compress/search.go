package compress

import (
	"context"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
)

// kindHole marks an unexpanded position of a partial abstraction.
const kindHole Kind = 255

// pnode is one node of a partial abstraction body.
type pnode struct {
	kind Kind
	a    int32    // symbol id, variable index or argument index
	b    int32    // tag of a variable or lambda, or -1
	kids [2]int32 // body indices of the children (function, argument / lam body)
}

type holeRef struct {
	pn    int32   // body index of the hole
	depth int32   // lambdas above the hole inside the abstraction
	col   []int32 // corpus node at the hole, per match location
}

// ivarRef is an abstraction argument: the corpus subtree it stands for at
// each location, found under depth lambdas of the abstraction (the actual
// argument is that subtree with its free variables shifted down by depth).
type ivarRef struct {
	col   []int32
	depth int32
	uses  int
}

// pattern is a partial abstraction together with its match locations.
type pattern struct {
	steps    *bodyStep // the body, as the list of its expansions
	nPN      int32     // body positions allocated so far
	depth    int       // expansions so far
	holes    []holeRef
	ivars    []ivarRef
	locs     []int32 // corpus nodes it matches, ascending (children first)
	bodyCost int64
}

// bodyStep records that body position pn became node; the steps of a
// pattern share their prefix with its parent's, so expanding is O(1).
type bodyStep struct {
	prev *bodyStep
	pn   int32
	node pnode
}

// materialize builds the body of p as an array indexed by position.
func (p *pattern) materialize() []pnode {
	body := make([]pnode, p.nPN)
	for i := range body {
		body[i].kind = kindHole
	}
	for st := p.steps; st != nil; st = st.prev {
		body[st.pn] = st.node
	}
	return body
}

// candidate is a finished abstraction found by the search.
type candidate struct {
	utility int64
	body    string
	arity   int
}

// SearchStats counts the work of one search.
type SearchStats struct {
	Expansions int64 `json:"expansions"`
	Finished   int64 `json:"finished"`
	Pruned     int64 `json:"pruned_by_bound"`
}

// searcher is the state shared by the goroutines of one search. The corpus
// and its store are only read.
type searcher struct {
	ctx      context.Context
	c        *Corpus
	s        *Store
	cm       CostModel
	maxArity int
	ub       []int64 // per node: count*(cost-newPrim), at least 0
	// admit, when set, decides which finished abstractions may be chosen
	// (a front end's well-formedness); admitted caches its answers.
	admit    func(body string, arity int) bool
	admitted sync.Map // body text -> bool

	mu     sync.Mutex
	best   *candidate   // guarded by mu
	ties   []candidate  // others with best's utility, guarded by mu
	cutoff atomic.Int64 // best.utility, or 0
	failed atomic.Bool
	err    error // guarded by mu

	expansions, finished, pruned atomic.Int64

	// spare holds a token per running goroutine (nil: single-threaded).
	spare chan struct{}
	wg    sync.WaitGroup
}

// worker is one goroutine's scratch space.
type worker struct {
	*searcher
	symGroup []int32 // symbol -> group during one grouping
	locIdx   []int32 // node -> index in the locations during finish
	bufs     [][]int32
	iota     []int32
}

// spawnDepth bounds how deep in the search tree work is handed to other
// goroutines; below it the search runs on in the same goroutine.
const spawnDepth = 32

// bestAbstraction runs the top-down branch-and-bound search for the single
// abstraction of highest utility. It returns nil when no abstraction has a
// positive utility. The result depends only on the structure and counts of
// the corpus: node ids, shard order and traversal order never break ties.
//
// With admit set, only abstractions it accepts are chosen. The bound stays
// admissible (it bounds every completion, admitted or not), so the search
// still finds the best admitted abstraction, and admit depending only on
// the body keeps the answer independent of scheduling.
func bestAbstraction(ctx context.Context, c *Corpus, maxArity, workers int, admit func(string, int) bool) (*candidate, SearchStats, error) {
	if err := ctx.Err(); err != nil {
		return nil, SearchStats{}, err
	}
	s := c.store
	sr := &searcher{ctx: ctx, c: c, s: s, cm: s.cm, maxArity: maxArity, admit: admit}
	if workers > 1 {
		sr.spare = make(chan struct{}, workers)
	}
	n := len(c.count)
	sr.ub = make([]int64, n)
	var locs []int32
	np := sr.cm.newPrim()
	for id := 0; id < n; id++ {
		if c.count[id] == 0 || s.hasIV[id] {
			continue
		}
		locs = append(locs, int32(id))
		if g := s.cost[id] - np; g > 0 {
			sr.ub[id] = g * c.count[id]
		}
	}
	sr.primeArityZero(locs)
	root := &pattern{
		nPN:   1,
		holes: []holeRef{{pn: 0, depth: 0, col: locs}},
		locs:  locs,
	}
	// every running goroutine holds a token of spare (this one included),
	// so a goroutine that runs out of work makes room for a helper
	if sr.spare != nil {
		sr.spare <- struct{}{}
	}
	(&worker{searcher: sr}).expand(root)
	if sr.spare != nil {
		<-sr.spare
	}
	sr.wg.Wait()
	st := SearchStats{Expansions: sr.expansions.Load(), Finished: sr.finished.Load(), Pruned: sr.pruned.Load()}
	if sr.err != nil {
		return nil, st, sr.err
	}
	return sr.breakTie(), st, nil
}

// primeArityZero seeds the cutoff with the best abstraction without
// arguments (a whole closed subtree used in at least two programs).
func (sr *searcher) primeArityZero(locs []int32) {
	np := sr.cm.newPrim()
	s := sr.s
	for _, id := range locs {
		if len(s.free[id]) > 0 || sr.c.owner[id] != -1 {
			continue
		}
		u := sr.c.count[id]*(s.cost[id]-np) - s.cost[id]
		if u <= 0 || u < sr.cutoff.Load() {
			continue
		}
		sr.offer(u, func() string { return s.String(id) }, 0)
	}
}

// offer records a finished abstraction if it beats the best so far; ties
// go to the smaller body text, so the winner does not depend on the order
// in which candidates are found.
func (sr *searcher) offer(u int64, body func() string, arity int) {
	sr.finished.Add(1)
	if u < sr.cutoff.Load() {
		return
	}
	text := body()
	if !sr.admits(text, arity) {
		return
	}
	sr.mu.Lock()
	defer sr.mu.Unlock()
	c := candidate{utility: u, body: text, arity: arity}
	switch {
	case sr.best == nil || u > sr.best.utility:
		sr.best, sr.ties = &c, nil
		sr.cutoff.Store(u)
	case u == sr.best.utility && text != sr.best.body && !slices.ContainsFunc(sr.ties, func(t candidate) bool { return t.body == text }):
		sr.ties = append(sr.ties, c)
	}
}

// admits applies the admission filter, once per body.
func (sr *searcher) admits(text string, arity int) bool {
	if sr.admit == nil {
		return true
	}
	if v, ok := sr.admitted.Load(text); ok {
		return v.(bool)
	}
	ok := sr.admit(text, arity)
	sr.admitted.Store(text, ok)
	return ok
}

// maxTies bounds the tied candidates compared by their exact saving.
const maxTies = 32

// breakTie chooses among the candidates of equal utility the one whose
// optimal rewrite leaves the corpus plus the body cheapest (the utility is
// an estimate that can be below what the rewrite achieves), then the
// larger body (which leaves the programs themselves cheaper: on 500 random
// corpora this gave a lower final cost than Stitch 46 times and a higher
// one 3 times, against 0 and 4 when preferring the smaller body), then the
// smallest body text. The candidate set does
// not depend on scheduling.
func (sr *searcher) breakTie() *candidate {
	if sr.best == nil || len(sr.ties) == 0 {
		return sr.best
	}
	all := append([]candidate{*sr.best}, sr.ties...)
	slices.SortFunc(all, func(a, b candidate) int { return strings.Compare(a.body, b.body) })
	if len(all) > maxTies {
		all = all[:maxTies]
	}
	type scored struct {
		c          *candidate
		cost, size int64
	}
	var best *scored
	for i := range all {
		cost, size, err := sr.c.rewrittenCost(all[i].body, all[i].arity)
		if err != nil {
			continue
		}
		// the exact utility: the rewrite's saving less the body's cost
		x := &scored{&all[i], cost + size, size}
		if best == nil || x.cost < best.cost || (x.cost == best.cost && x.size > best.size) {
			best = x
		}
	}
	if best == nil {
		return sr.best
	}
	return best.c
}

// cutoffPrunes reports whether a bound cannot reach the best utility so
// far. Pruning is strict, so every candidate tied with the best is seen.
func (sr *searcher) cutoffPrunes(bound int64) bool {
	return bound <= 0 || bound < sr.cutoff.Load()
}

func (sr *searcher) fail(err error) {
	sr.mu.Lock()
	if sr.err == nil {
		sr.err = err
	}
	sr.mu.Unlock()
	sr.failed.Store(true)
}

func gather(col []int32, sel []int32, all bool) []int32 {
	if all {
		return col
	}
	out := make([]int32, len(sel))
	for i, j := range sel {
		out[i] = col[j]
	}
	return out
}

// option is one way to expand a hole, before its pattern is built.
type option struct {
	kind  Kind  // syntactic head, or KindIVar
	a     int32 // symbol, variable or argument index
	b     int32 // tag
	sel   []int32
	bound int64
	order int
}

func (sr *worker) expand(p *pattern) {
	if sr.failed.Load() {
		return
	}
	if sr.expansions.Add(1)&4095 == 0 {
		if err := sr.ctx.Err(); err != nil {
			sr.fail(err)
			return
		}
	}
	s := sr.s
	h := len(p.holes) - 1
	hr := p.holes[h]
	col := hr.col

	// syntactic expansions, grouped by the head of the node at the hole:
	// count the group sizes, then fill one backing array
	if len(sr.symGroup) < len(s.syms) {
		sr.symGroup = append(sr.symGroup, make([]int32, len(s.syms)-len(sr.symGroup))...)
		for i := range sr.symGroup {
			sr.symGroup[i] = -1
		}
	}
	type gkey struct {
		kind Kind
		a, b int32
	}
	var keys []gkey
	var sizes []int32
	var otherGroup map[gkey]int32
	appG := int32(-1)
	gidx := sr.scratch(2*p.depth, len(col))
	for i, n := range col {
		nd := s.nodes[n]
		var g int32
		switch nd.kind {
		case KindApp:
			if appG < 0 {
				appG = int32(len(keys))
				keys, sizes = append(keys, gkey{KindApp, 0, noNode}), append(sizes, 0)
			}
			g = appG
		case KindPrim:
			g = sr.symGroup[nd.a]
			if g < 0 {
				g = int32(len(keys))
				sr.symGroup[nd.a] = g
				keys, sizes = append(keys, gkey{KindPrim, nd.a, noNode}), append(sizes, 0)
			}
		default: // lambdas and variables, with their tags
			if otherGroup == nil {
				otherGroup = map[gkey]int32{}
			}
			k := gkey{nd.kind, nd.a, nd.b}
			if nd.kind == KindLam {
				k.a = 0
			}
			var ok bool
			if g, ok = otherGroup[k]; !ok {
				g = int32(len(keys))
				otherGroup[k] = g
				keys, sizes = append(keys, k), append(sizes, 0)
			}
		}
		gidx[i] = g
		sizes[g]++
	}
	for _, k := range keys {
		if k.kind == KindPrim {
			sr.symGroup[k.a] = -1
		}
	}
	backing := sr.scratch(2*p.depth+1, len(col))
	sels := make([][]int32, len(keys))
	off := int32(0)
	for g, n := range sizes {
		sels[g] = backing[off : off : off+n]
		off += n
	}
	for i, g := range gidx {
		sels[g] = append(sels[g], int32(i))
	}
	opts := make([]option, 0, len(keys)+len(p.ivars)+1)
	for g, k := range keys {
		if k.kind == KindVar && k.a >= hr.depth {
			continue // would leave a free variable in the body
		}
		bound, ok := sr.prelim(p, sels[g], p.bodyCost+sr.headCost(k.kind, k.a))
		if ok {
			opts = append(opts, option{kind: k.kind, a: k.a, b: k.b, sel: sels[g], bound: bound, order: g})
		}
	}

	// argument expansions: reuse #j, or a new #arity
	if hr.pn != 0 && (len(p.ivars) > 0 || sr.maxArity > 0) {
		var vsel []int32
		if hr.depth == 0 {
			for len(sr.iota) < len(col) {
				sr.iota = append(sr.iota, int32(len(sr.iota)))
			}
			vsel = sr.iota[:len(col):len(col)]
		} else {
			for i, n := range col {
				if s.minFree(n) >= hr.depth {
					vsel = append(vsel, int32(i))
				}
			}
		}
		for j, v := range p.ivars {
			var sel []int32
			for _, i := range vsel {
				if s.sameArg(col[i], hr.depth, v.col[i], v.depth) {
					sel = append(sel, i)
				}
			}
			if bound, ok := sr.prelim(p, sel, p.bodyCost); ok {
				opts = append(opts, option{kind: KindIVar, a: int32(j), sel: sel, bound: bound, order: len(keys) + j})
			}
		}
		if len(p.ivars) < sr.maxArity {
			if bound, ok := sr.prelim(p, vsel, p.bodyCost); ok {
				opts = append(opts, option{kind: KindIVar, a: int32(len(p.ivars)), sel: vsel, bound: bound, order: len(keys) + len(p.ivars)})
			}
		}
	}
	slices.SortFunc(opts, func(a, b option) int {
		if a.bound != b.bound {
			if a.bound > b.bound {
				return -1
			}
			return 1
		}
		return a.order - b.order
	})
	for _, o := range opts {
		if sr.cutoffPrunes(o.bound) {
			sr.pruned.Add(1)
			continue
		}
		var np *pattern
		if o.kind == KindIVar {
			np = sr.argument(p, h, int(o.a), o.sel)
		} else {
			np = sr.syntactic(p, h, o.kind, o.a, o.b, o.sel, len(o.sel) == len(col))
		}
		if np == nil {
			continue
		}
		if len(np.holes) == 0 {
			sr.finish(np)
			continue
		}
		if sr.spare != nil && p.depth < spawnDepth {
			select {
			case sr.spare <- struct{}{}:
				// np shares no scratch space with this frame
				sr.wg.Add(1)
				go func() {
					defer sr.wg.Done()
					defer func() { <-sr.spare }()
					(&worker{searcher: sr.searcher}).expand(np)
				}()
				continue
			default:
			}
		}
		sr.expand(np)
		if sr.failed.Load() {
			return
		}
	}
}

// scratch returns a reusable buffer of n int32s for slot i (one slot per
// recursion level and use, so that nested expansions do not share).
func (sr *worker) scratch(i, n int) []int32 {
	for len(sr.bufs) <= i {
		sr.bufs = append(sr.bufs, nil)
	}
	if cap(sr.bufs[i]) < n {
		sr.bufs[i] = make([]int32, n)
	}
	return sr.bufs[i][:n]
}

func (sr *worker) headCost(k Kind, a int32) int64 {
	switch k {
	case KindPrim:
		return sr.s.symCst[a]
	case KindVar:
		return sr.cm.Var
	case KindApp:
		return sr.cm.App
	case KindLam:
		return sr.cm.Lam
	}
	return 0
}

// prelim applies the checks shared by all expansions to a location subset.
func (sr *worker) prelim(p *pattern, sel []int32, bodyCost int64) (int64, bool) {
	if len(sel) == 0 {
		return 0, false
	}
	if len(sel) == 1 && len(sr.s.free[p.locs[sel[0]]]) == 0 {
		return 0, false // single use: the arity-0 abstraction of that subtree is better
	}
	own := sr.c.owner[p.locs[sel[0]]]
	if own >= 0 {
		single := true
		for _, i := range sel {
			if sr.c.owner[p.locs[i]] != own {
				single = false
				break
			}
		}
		if single {
			return 0, false // used by a single program only
		}
	}
	var bound int64
	for _, i := range sel {
		bound += sr.ub[p.locs[i]]
	}
	bound -= bodyCost
	if sr.cutoffPrunes(bound) {
		sr.pruned.Add(1)
		return 0, false
	}
	return bound, true
}

func (sr *worker) syntactic(p *pattern, h int, kind Kind, a, tag int32, sel []int32, all bool) *pattern {
	s := sr.s
	hr := p.holes[h]
	bodyCost := p.bodyCost + sr.headCost(kind, a)
	np := &pattern{bodyCost: bodyCost, locs: gather(p.locs, sel, all)}
	np.depth = p.depth + 1
	np.nPN = p.nPN
	np.holes = make([]holeRef, 0, len(p.holes)+1)
	for _, o := range p.holes[:h] {
		np.holes = append(np.holes, holeRef{pn: o.pn, depth: o.depth, col: gather(o.col, sel, all)})
	}
	np.ivars = make([]ivarRef, len(p.ivars))
	for j, v := range p.ivars {
		np.ivars[j] = ivarRef{col: gather(v.col, sel, all), depth: v.depth, uses: v.uses}
	}
	pn := pnode{kind: kind, a: a, b: tag, kids: [2]int32{noNode, noNode}}
	switch kind {
	case KindApp:
		f := make([]int32, len(sel))
		x := make([]int32, len(sel))
		for i, j := range sel {
			nd := s.nodes[hr.col[j]]
			f[i], x[i] = nd.a, nd.b
		}
		fi, xi := np.nPN, np.nPN+1
		np.nPN += 2
		pn.kids = [2]int32{fi, xi}
		// the argument side is expanded first (it is pushed last), so
		// arguments are numbered from the end of the spine, as in Stitch
		np.holes = append(np.holes, holeRef{pn: fi, depth: hr.depth, col: f}, holeRef{pn: xi, depth: hr.depth, col: x})
	case KindLam:
		b := make([]int32, len(sel))
		for i, j := range sel {
			b[i] = s.nodes[hr.col[j]].a
		}
		bi := np.nPN
		np.nPN++
		pn.kids[0] = bi
		np.holes = append(np.holes, holeRef{pn: bi, depth: hr.depth + 1, col: b})
	}
	np.steps = &bodyStep{prev: p.steps, pn: hr.pn, node: pn}
	if !sr.argsUseful(np) {
		return nil
	}
	return np
}

func (sr *worker) argument(p *pattern, h, j int, sel []int32) *pattern {
	hr := p.holes[h]
	all := len(sel) == len(hr.col)
	np := &pattern{bodyCost: p.bodyCost, locs: gather(p.locs, sel, all)}
	np.depth, np.nPN = p.depth+1, p.nPN
	np.steps = &bodyStep{prev: p.steps, pn: hr.pn, node: pnode{kind: KindIVar, a: int32(j), b: noNode, kids: [2]int32{noNode, noNode}}}
	np.holes = make([]holeRef, 0, h)
	for _, o := range p.holes[:h] {
		np.holes = append(np.holes, holeRef{pn: o.pn, depth: o.depth, col: gather(o.col, sel, all)})
	}
	np.ivars = make([]ivarRef, len(p.ivars), len(p.ivars)+1)
	for k, v := range p.ivars {
		np.ivars[k] = ivarRef{col: gather(v.col, sel, all), depth: v.depth, uses: v.uses}
	}
	if j == len(p.ivars) {
		np.ivars = append(np.ivars, ivarRef{col: gather(hr.col, sel, all), depth: hr.depth, uses: 1})
	} else {
		np.ivars[j].uses++
	}
	if !sr.argsUseful(np) {
		return nil
	}
	return np
}

// argsUseful rejects patterns with an argument that is the same closed term
// at every location (inlining it is better) or two arguments that are equal
// at every location (one argument used twice is better).
func (sr *worker) argsUseful(p *pattern) bool {
	for j, v := range p.ivars {
		c := v.col
		same := true
		for _, x := range c[1:] {
			if x != c[0] {
				same = false
				break
			}
		}
		if same && len(sr.s.free[c[0]]) == 0 {
			return false
		}
		for _, w := range p.ivars[j+1:] {
			if w.depth == v.depth {
				if slices.Equal(c, w.col) {
					return false
				}
				continue
			}
			equal := true
			for k := range c {
				if !sr.s.sameArg(c[k], v.depth, w.col[k], w.depth) {
					equal = false
					break
				}
			}
			if equal {
				return false
			}
		}
	}
	return true
}

// finish computes the utility of a complete pattern: per location, the cost
// saved by one use (kept only where positive), times its number of
// occurrences, minus the size of the abstraction itself. Where the pattern
// overlaps itself, a location that is used blocks the overlapped inner
// location, whose saving is subtracted (as in Stitch).
func (sr *worker) finish(p *pattern) {
	s := sr.s
	arity := int64(len(p.ivars))
	base := p.bodyCost - sr.cm.newPrim() - arity*sr.cm.App
	m := make([]int64, len(p.locs))
	any := false
	for i := range p.locs {
		u := base
		for _, v := range p.ivars {
			if v.uses > 1 {
				u += int64(v.uses-1) * s.cost[v.col[i]]
			}
		}
		m[i] = u
		if u > 0 {
			any = true
		}
	}
	if !any {
		return
	}
	body := p.materialize()
	if paths := selfOverlaps(body); len(paths) > 0 {
		// locIdx maps a node to its index in p.locs (dense, reset after)
		if len(sr.locIdx) < len(sr.c.count) {
			sr.locIdx = make([]int32, len(sr.c.count))
			for i := range sr.locIdx {
				sr.locIdx[i] = -1
			}
		}
		for i, l := range p.locs {
			sr.locIdx[l] = int32(i)
		}
		for i, l := range p.locs {
			var alt int64
			for _, path := range paths {
				n := l
				for _, step := range path {
					nd := s.nodes[n]
					if step == 0 {
						n = nd.a
					} else {
						n = nd.b
					}
				}
				if int(n) < len(sr.locIdx) {
					if k := sr.locIdx[n]; k >= 0 && int(k) != i {
						alt += max(m[k], 0)
					}
				}
			}
			m[i] = max(m[i]-alt, 0)
		}
		for _, l := range p.locs {
			sr.locIdx[l] = -1
		}
	}
	var util int64
	for i, l := range p.locs {
		if m[i] > 0 {
			util += m[i] * sr.c.count[l]
		}
	}
	util -= p.bodyCost
	if util <= 0 || util < sr.cutoff.Load() {
		sr.finished.Add(1)
		return
	}
	sr.offer(util, func() string { return sr.printBody(body) }, int(arity))
}

// selfOverlaps lists the paths (0 = function or lam body, 1 = argument) to
// the inner body positions where the pattern could match again: those whose
// subtree unifies with the whole body, arguments (#i) matching anything.
func selfOverlaps(body []pnode) [][]int8 {
	var unify func(i, j int32) bool
	unify = func(i, j int32) bool {
		x, y := body[i], body[j]
		if x.kind == KindIVar || y.kind == KindIVar {
			return true
		}
		if x.kind != y.kind || x.a != y.a || x.b != y.b {
			return false
		}
		switch x.kind {
		case KindApp:
			return unify(x.kids[0], y.kids[0]) && unify(x.kids[1], y.kids[1])
		case KindLam:
			return unify(x.kids[0], y.kids[0])
		}
		return true
	}
	var out [][]int8
	var walk func(i int32, path []int8)
	walk = func(i int32, path []int8) {
		b := body[i]
		if b.kind == KindIVar {
			return // inside an argument a use does not conflict
		}
		if len(path) > 0 && unify(i, 0) {
			out = append(out, slices.Clone(path))
		}
		switch b.kind {
		case KindApp:
			walk(b.kids[0], append(path, 0))
			walk(b.kids[1], append(path, 1))
		case KindLam:
			walk(b.kids[0], append(path, 0))
		}
	}
	walk(0, nil)
	return out
}

// printBody prints the body of a complete pattern in Stitch syntax.
func (sr *worker) printBody(body []pnode) string {
	var b strings.Builder
	sr.writeBody(&b, body, 0)
	return b.String()
}

func (sr *worker) writeBody(b *strings.Builder, body []pnode, i int32) {
	writeTerm(b, sr.s.syms, i, func(id int32) (Kind, int32, int32, int32, int32) {
		n := body[id]
		return n.kind, n.a, n.b, n.kids[0], n.kids[1]
	})
}
