package compress

import (
	"fmt"
)

// binding is how an abstraction argument was matched: the corpus subtree
// and the number of the abstraction's lambdas above it.
type binding struct {
	node, depth int32
	shifted     int32
}

// matcher matches one abstraction body against terms of a store.
type matcher struct {
	s     *Store
	body  int32
	arity int
	args  []binding
}

func newMatcher(s *Store, body int32, arity int) *matcher {
	return &matcher{s: s, body: body, arity: arity, args: make([]binding, arity)}
}

// match reports whether the body matches n, filling m.args.
func (m *matcher) match(n int32) bool {
	for i := range m.args {
		m.args[i] = binding{node: noNode}
	}
	if !m.rec(m.body, n, 0) {
		return false
	}
	for _, a := range m.args {
		if a.node == noNode {
			return false
		}
	}
	return true
}

func (m *matcher) rec(b, n, depth int32) bool {
	s := m.s
	bn := s.nodes[b]
	if bn.kind == KindIVar {
		if s.minFree(n) < depth {
			return false // the argument refers to a lambda of the abstraction
		}
		sh := s.Shift(n, -depth)
		a := &m.args[bn.a]
		if a.node == noNode {
			*a = binding{node: n, depth: depth, shifted: sh}
			return true
		}
		return a.shifted == sh
	}
	if b == n && !s.hasIV[b] {
		return true
	}
	nn := s.nodes[n]
	if nn.kind != bn.kind {
		return false
	}
	switch bn.kind {
	case KindApp:
		return m.rec(bn.a, nn.a, depth) && m.rec(bn.b, nn.b, depth)
	case KindLam:
		return bn.b == nn.b && m.rec(bn.a, nn.a, depth+1)
	}
	return false // distinct leaves
}

// rewriteAll rewrites every root with one abstraction, choosing for every
// subtree the cheapest of "leave it" and "use the abstraction here" (a DP
// over the DAG, so the set of uses is optimal and never overlaps). It
// returns the new roots.
func rewriteAll(s *Store, roots []int32, name string, body int32, arity int) []int32 {
	n := s.Len()
	reach := make([]bool, n)
	for _, r := range roots {
		reach[r] = true
	}
	for id := n - 1; id >= 0; id-- {
		if !reach[id] {
			continue
		}
		switch nd := s.nodes[id]; nd.kind {
		case KindApp:
			reach[nd.a], reach[nd.b] = true, true
		case KindLam:
			reach[nd.a] = true
		}
	}
	best := make([]int64, n)
	out := make([]int32, n)
	m := newMatcher(s, body, arity)
	fn := s.Prim(name)
	useBase := s.cm.newPrim() + int64(arity)*s.cm.App
	for id := 0; id < n; id++ {
		if !reach[id] {
			continue
		}
		nd := s.nodes[id]
		var c int64
		r := int32(id)
		switch nd.kind {
		case KindApp:
			c = s.cm.App + best[nd.a] + best[nd.b]
			if out[nd.a] != nd.a || out[nd.b] != nd.b {
				r = s.App(out[nd.a], out[nd.b])
			}
		case KindLam:
			c = s.cm.Lam + best[nd.a]
			if out[nd.a] != nd.a {
				r = s.TaggedLam(out[nd.a], nd.b)
			}
		default:
			c = s.cost[id]
		}
		if (nd.kind == KindApp || nd.kind == KindLam) && s.cost[id] > useBase && m.match(int32(id)) {
			uc := useBase
			for _, a := range m.args {
				uc += best[a.node]
			}
			if uc < c {
				c = uc
				r = fn
				for _, a := range m.args {
					r = s.App(r, s.Shift(out[a.node], -a.depth))
				}
			}
		}
		best[id] = c
		out[id] = r
	}
	res := make([]int32, len(roots))
	for i, r := range roots {
		res[i] = out[r]
	}
	return res
}

// countSym counts the occurrences of primitive name in the terms at roots.
func countSym(s *Store, roots []int32, name string) int64 {
	id, ok := s.symIdx[name]
	if !ok {
		return 0
	}
	prim, ok := s.index[node{KindPrim, id, noNode}]
	if !ok {
		return 0
	}
	n := s.Len()
	count := make([]int64, n)
	for _, r := range roots {
		count[r]++
	}
	for i := n - 1; i >= 0; i-- {
		if count[i] == 0 {
			continue
		}
		switch nd := s.nodes[i]; nd.kind {
		case KindApp:
			count[nd.a] += count[i]
			count[nd.b] += count[i]
		case KindLam:
			count[nd.a] += count[i]
		}
	}
	return count[prim]
}

// inliner expands uses of library abstractions back into their bodies.
type inliner struct {
	s      *Store
	bodies map[int32]int32 // symbol id -> body
	arity  map[int32]int
	memo   map[int32]int32
	steps  int
}

func newInliner(s *Store, lib []parsedAbs) *inliner {
	in := &inliner{s: s, bodies: map[int32]int32{}, arity: map[int32]int{}, memo: map[int32]int32{}}
	for _, a := range lib {
		sym := s.Sym(a.Name)
		in.bodies[sym] = a.body
		in.arity[sym] = a.Arity
	}
	return in
}

const maxInlineSteps = 50_000_000

func (in *inliner) inline(n int32) (int32, error) {
	if r, ok := in.memo[n]; ok {
		return r, nil
	}
	in.steps++
	if in.steps > maxInlineSteps {
		return 0, fmt.Errorf("inlining does not terminate (a library abstraction refers to itself?)")
	}
	s := in.s
	var r int32
	switch nd := s.nodes[n]; nd.kind {
	case KindApp:
		h, args := s.spine(n)
		hn := s.nodes[h]
		if hn.kind == KindPrim {
			if body, ok := in.bodies[hn.a]; ok && in.arity[hn.a] <= len(args) {
				k := in.arity[hn.a]
				t := in.subst(body, args[:k], 0, map[[2]int32]int32{})
				for _, a := range args[k:] {
					t = s.App(t, a)
				}
				var err error
				if r, err = in.inline(t); err != nil {
					return 0, err
				}
				break
			}
		}
		f, err := in.inline(nd.a)
		if err != nil {
			return 0, err
		}
		x, err := in.inline(nd.b)
		if err != nil {
			return 0, err
		}
		r = s.App(f, x)
	case KindLam:
		b, err := in.inline(nd.a)
		if err != nil {
			return 0, err
		}
		r = s.TaggedLam(b, nd.b)
	case KindPrim:
		r = n
		if body, ok := in.bodies[nd.a]; ok && in.arity[nd.a] == 0 {
			var err error
			if r, err = in.inline(body); err != nil {
				return 0, err
			}
		}
	default:
		r = n
	}
	in.memo[n] = r
	return r, nil
}

// subst replaces #i in body (under depth lambdas) by args[i] shifted up.
func (in *inliner) subst(body int32, args []int32, depth int32, memo map[[2]int32]int32) int32 {
	s := in.s
	if !s.hasIV[body] {
		return body
	}
	key := [2]int32{body, depth}
	if r, ok := memo[key]; ok {
		return r
	}
	var r int32
	switch nd := s.nodes[body]; nd.kind {
	case KindIVar:
		r = s.Shift(args[nd.a], depth)
	case KindApp:
		r = s.App(in.subst(nd.a, args, depth, memo), in.subst(nd.b, args, depth, memo))
	case KindLam:
		r = s.TaggedLam(in.subst(nd.a, args, depth+1, memo), nd.b)
	default:
		r = body
	}
	memo[key] = r
	return r
}

// rewrittenCost is the total cost of the corpus after an optimal rewrite
// with one abstraction, computed on the merged DAG: every node's cheapest
// form once, weighted by the times it occurs as a program root.
// It also returns the cost of the body.
func (c *Corpus) rewrittenCost(body string, arity int) (int64, int64, error) {
	s := c.store
	b, err := s.parseTerm(body, arity, 0)
	if err != nil {
		return 0, 0, err
	}
	n := len(c.count)
	roots := make([]int64, n)
	copy(roots, c.count)
	for id := 0; id < n; id++ {
		if c.count[id] == 0 {
			continue
		}
		switch nd := s.nodes[id]; nd.kind {
		case KindApp:
			roots[nd.a] -= c.count[id]
			roots[nd.b] -= c.count[id]
		case KindLam:
			roots[nd.a] -= c.count[id]
		}
	}
	m := newMatcher(s, b, arity)
	useBase := s.cm.newPrim() + int64(arity)*s.cm.App
	best := make([]int64, n)
	var total int64
	for id := 0; id < n; id++ {
		if c.count[id] == 0 {
			continue
		}
		nd := s.nodes[id]
		var cost int64
		switch nd.kind {
		case KindApp:
			cost = s.cm.App + best[nd.a] + best[nd.b]
		case KindLam:
			cost = s.cm.Lam + best[nd.a]
		default:
			cost = s.cost[id]
		}
		if (nd.kind == KindApp || nd.kind == KindLam) && s.cost[id] > useBase && m.match(int32(id)) {
			uc := useBase
			for _, a := range m.args {
				uc += best[a.node]
			}
			cost = min(cost, uc)
		}
		best[id] = cost
		total += roots[id] * cost
	}
	return total, s.cost[b], nil
}
