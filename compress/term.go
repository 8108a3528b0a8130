package compress

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/atlas-ai/atlas-learn/compress/sexp"
)

// Kind is the syntactic class of a term node.
type Kind uint8

// The node kinds of the curried lambda calculus.
const (
	KindPrim Kind = iota // a primitive symbol, A is its symbol id
	KindVar              // a de Bruijn variable $A (B: tag of $A_B, or -1)
	KindIVar             // an abstraction argument #A (only inside abstraction bodies)
	KindApp              // application of A to B
	KindLam              // (lam A) (B: tag of lam_B, or -1)
)

// noNode marks an absent child.
const noNode = int32(-1)

type shiftKey struct{ n, d, cutoff int32 }

type node struct {
	kind Kind
	a, b int32
}

// Store interns (hash-conses) terms: structurally equal terms get the same
// id, and a node's children always have smaller ids than the node. A Store
// is not safe for concurrent use.
type Store struct {
	nodes  []node
	index  map[node]int32
	cost   []int64
	free   [][]int32 // sorted free de Bruijn indices, nil when closed
	hasIV  []bool    // contains an #i
	syms   []string
	symIdx map[string]int32
	symCst []int64
	cm     CostModel
	shifts map[shiftKey]int32
}

// NewStore returns an empty store that prices terms with cm.
func NewStore(cm CostModel) *Store {
	return &Store{index: map[node]int32{}, symIdx: map[string]int32{}, cm: cm, shifts: map[shiftKey]int32{}}
}

// Len is the number of distinct nodes interned so far.
func (s *Store) Len() int { return len(s.nodes) }

// Cost is the cost of the term n under the store's cost model.
func (s *Store) Cost(n int32) int64 { return s.cost[n] }

// Sym interns a primitive symbol and returns its id.
func (s *Store) Sym(name string) int32 {
	if id, ok := s.symIdx[name]; ok {
		return id
	}
	id := int32(len(s.syms))
	s.syms = append(s.syms, name)
	s.symIdx[name] = id
	s.symCst = append(s.symCst, s.cm.primCost(name))
	return id
}

func (s *Store) intern(n node) int32 {
	if id, ok := s.index[n]; ok {
		return id
	}
	id := int32(len(s.nodes))
	s.nodes = append(s.nodes, n)
	s.index[n] = id
	var c int64
	var fv []int32
	var iv bool
	switch n.kind {
	case KindPrim:
		c = s.symCst[n.a]
	case KindVar:
		c = s.cm.Var
		fv = []int32{n.a}
	case KindIVar:
		c = s.cm.IVar
		iv = true
	case KindApp:
		c = s.cm.App + s.cost[n.a] + s.cost[n.b]
		fv = unionFree(s.free[n.a], s.free[n.b])
		iv = s.hasIV[n.a] || s.hasIV[n.b]
	case KindLam:
		c = s.cm.Lam + s.cost[n.a]
		for _, v := range s.free[n.a] {
			if v > 0 {
				fv = append(fv, v-1)
			}
		}
		iv = s.hasIV[n.a]
	}
	s.cost = append(s.cost, c)
	s.free = append(s.free, fv)
	s.hasIV = append(s.hasIV, iv)
	return id
}

func unionFree(x, y []int32) []int32 {
	if len(x) == 0 {
		return y
	}
	if len(y) == 0 {
		return x
	}
	out := make([]int32, 0, len(x)+len(y))
	i, j := 0, 0
	for i < len(x) || j < len(y) {
		switch {
		case j == len(y) || (i < len(x) && x[i] < y[j]):
			out = append(out, x[i])
			i++
		case i == len(x) || y[j] < x[i]:
			out = append(out, y[j])
			j++
		default:
			out = append(out, x[i])
			i++
			j++
		}
	}
	return out
}

// Prim interns the primitive name.
func (s *Store) Prim(name string) int32 { return s.intern(node{KindPrim, s.Sym(name), noNode}) }

// Var interns $i.
func (s *Store) Var(i int32) int32 { return s.intern(node{KindVar, i, noNode}) }

// TaggedVar interns $i_tag (tag -1: untagged), as in Stitch's fused-lambda
// tags; a tag is part of the variable's identity.
func (s *Store) TaggedVar(i, tag int32) int32 { return s.intern(node{KindVar, i, tag}) }

// TaggedLam interns (lam_tag body) (tag -1: untagged).
func (s *Store) TaggedLam(body, tag int32) int32 { return s.intern(node{KindLam, body, tag}) }

// IVar interns #i.
func (s *Store) IVar(i int32) int32 { return s.intern(node{KindIVar, i, noNode}) }

// App interns the application of f to x.
func (s *Store) App(f, x int32) int32 { return s.intern(node{KindApp, f, x}) }

// Lam interns (lam body).
func (s *Store) Lam(body int32) int32 { return s.intern(node{KindLam, body, noNode}) }

// minFree is the smallest free variable of n, or a large number if n is closed.
func (s *Store) minFree(n int32) int32 {
	if f := s.free[n]; len(f) > 0 {
		return f[0]
	}
	return 1 << 30
}

// Shift adds d to every free variable of n that is at least cutoff. The
// caller guarantees no variable goes negative.
func (s *Store) Shift(n, d int32) int32 {
	if d == 0 || len(s.free[n]) == 0 {
		return n
	}
	return s.shift(n, d, 0)
}

func (s *Store) shift(n, d, cutoff int32) int32 {
	f := s.free[n]
	if len(f) == 0 || f[len(f)-1] < cutoff {
		return n
	}
	key := shiftKey{n, d, cutoff}
	if r, ok := s.shifts[key]; ok {
		return r
	}
	nd := s.nodes[n]
	var r int32
	switch nd.kind {
	case KindVar:
		r = s.TaggedVar(nd.a+d, nd.b)
	case KindApp:
		r = s.App(s.shift(nd.a, d, cutoff), s.shift(nd.b, d, cutoff))
	case KindLam:
		r = s.TaggedLam(s.shift(nd.a, d, cutoff+1), nd.b)
	default:
		r = n
	}
	s.shifts[key] = r
	return r
}

// ParseError reports malformed input; Program is the index of the program
// (or abstraction) in its list.
type ParseError struct {
	What    string // "program" or "abstraction"
	Program int
	Err     error
}

func (e *ParseError) Error() string { return fmt.Sprintf("%s %d: %v", e.What, e.Program, e.Err) }
func (e *ParseError) Unwrap() error { return e.Err }

// parseTerm reads a program in Stitch syntax into s. ivars is the number of
// abstraction arguments #i allowed (0 for programs); maxNodes bounds the size.
func (s *Store) parseTerm(text string, ivars int, maxNodes int) (int32, error) {
	if maxNodes > 0 && len(text) > 64*maxNodes+1024 {
		return 0, fmt.Errorf("program text of %d bytes is too large (limit %d nodes)", len(text), maxNodes)
	}
	sx, err := sexp.Parse(text)
	if err != nil {
		return 0, err
	}
	// count nodes first so that huge programs fail fast
	atoms := 0
	stack := []*sexp.Node{sx}
	for len(stack) > 0 {
		n := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if !n.IsList {
			atoms++
			continue
		}
		atoms += max(len(n.List)-1, 0)
		stack = append(stack, n.List...)
	}
	if maxNodes > 0 && atoms > maxNodes {
		return 0, fmt.Errorf("program has about %d nodes, more than the limit of %d", atoms, maxNodes)
	}
	return s.fromSexp(sx, ivars)
}

func (s *Store) fromSexp(n *sexp.Node, ivars int) (int32, error) {
	if !n.IsList {
		return s.atom(n.Atom, ivars)
	}
	if len(n.List) == 0 {
		return 0, fmt.Errorf("empty list ()")
	}
	if h := n.List[0]; !h.IsList && (h.Atom == "lam" || strings.HasPrefix(h.Atom, "lam_")) {
		tag := noNode
		if h.Atom != "lam" {
			t, err := strconv.ParseInt(h.Atom[4:], 10, 32)
			if err != nil || t < 0 {
				return 0, fmt.Errorf("bad lambda tag %q", h.Atom)
			}
			tag = int32(t)
		}
		if len(n.List) != 2 {
			return 0, fmt.Errorf("(lam ...) takes exactly one body, got %d", len(n.List)-1)
		}
		b, err := s.fromSexp(n.List[1], ivars)
		if err != nil {
			return 0, err
		}
		return s.TaggedLam(b, tag), nil
	}
	f, err := s.fromSexp(n.List[0], ivars)
	if err != nil {
		return 0, err
	}
	for _, a := range n.List[1:] {
		x, err := s.fromSexp(a, ivars)
		if err != nil {
			return 0, err
		}
		f = s.App(f, x)
	}
	return f, nil
}

func (s *Store) atom(a string, ivars int) (int32, error) {
	switch {
	case a == "lam":
		return 0, fmt.Errorf("lam without a body")
	case len(a) > 1 && a[0] == '$':
		idx, tagText, tagged := strings.Cut(a[1:], "_")
		i, err := strconv.ParseInt(idx, 10, 32)
		if err != nil || i < 0 {
			return 0, fmt.Errorf("bad variable %q", a)
		}
		tag := int64(noNode)
		if tagged {
			if tag, err = strconv.ParseInt(tagText, 10, 32); err != nil || tag < 0 {
				return 0, fmt.Errorf("bad variable tag %q", a)
			}
		}
		return s.TaggedVar(int32(i), int32(tag)), nil
	case len(a) > 1 && a[0] == '#':
		i, err := strconv.ParseInt(a[1:], 10, 32)
		if err != nil || i < 0 {
			return 0, fmt.Errorf("bad abstraction argument %q", a)
		}
		if int(i) >= ivars {
			if ivars == 0 {
				return 0, fmt.Errorf("unknown abstraction argument %q outside an abstraction", a)
			}
			return 0, fmt.Errorf("unknown abstraction argument %q (arity %d)", a, ivars)
		}
		return s.IVar(int32(i)), nil
	}
	return s.Prim(a), nil
}

// String prints n in Stitch syntax: curried applications are flattened,
// (f a b), and lambdas are (lam body).
func (s *Store) String(n int32) string {
	var b strings.Builder
	s.write(&b, n)
	return b.String()
}

func (s *Store) write(b *strings.Builder, n int32) {
	writeTerm(b, s.syms, n, func(id int32) (Kind, int32, int32, int32, int32) {
		nd := s.nodes[id]
		switch nd.kind {
		case KindLam:
			return nd.kind, 0, nd.b, nd.a, noNode
		case KindApp:
			return nd.kind, 0, noNode, nd.a, nd.b
		}
		return nd.kind, nd.a, nd.b, noNode, noNode
	})
}

// termView describes one node of some term representation: its kind; for a
// primitive its symbol, for a variable or argument its index; the tag of a
// tagged variable or lambda (or noNode); and its children (a lambda's body,
// or an application's function and argument).
type termView func(id int32) (kind Kind, a, tag, left, right int32)

// writeTerm prints a term in Stitch's syntax, whatever its representation:
// the Store's DAG and the search's partial bodies share this printer.
func writeTerm(b *strings.Builder, syms []string, n int32, view termView) {
	kind, a, tag, left, _ := view(n)
	switch kind {
	case KindPrim:
		b.WriteString(syms[a])
	case KindVar:
		b.WriteByte('$')
		b.WriteString(strconv.Itoa(int(a)))
		if tag != noNode {
			b.WriteByte('_')
			b.WriteString(strconv.Itoa(int(tag)))
		}
	case KindIVar:
		b.WriteByte('#')
		b.WriteString(strconv.Itoa(int(a)))
	case KindLam:
		b.WriteString("(lam")
		if tag != noNode {
			b.WriteByte('_')
			b.WriteString(strconv.Itoa(int(tag)))
		}
		b.WriteByte(' ')
		writeTerm(b, syms, left, view)
		b.WriteByte(')')
	case KindApp:
		var args []int32
		h := n
		for {
			k, _, _, fn, arg := view(h)
			if k != KindApp {
				break
			}
			args = append(args, arg)
			h = fn
		}
		b.WriteByte('(')
		writeTerm(b, syms, h, view)
		for i := len(args) - 1; i >= 0; i-- {
			b.WriteByte(' ')
			writeTerm(b, syms, args[i], view)
		}
		b.WriteByte(')')
	}
}

// spine splits n into its head and arguments.
func (s *Store) spine(n int32) (int32, []int32) {
	var args []int32
	for s.nodes[n].kind == KindApp {
		args = append(args, s.nodes[n].b)
		n = s.nodes[n].a
	}
	slices.Reverse(args)
	return n, args
}

// copyFrom copies term n of store o into s.
func (s *Store) copyFrom(o *Store, n int32, memo map[int32]int32) int32 {
	if r, ok := memo[n]; ok {
		return r
	}
	nd := o.nodes[n]
	var r int32
	switch nd.kind {
	case KindPrim:
		r = s.Prim(o.syms[nd.a])
	case KindVar:
		r = s.TaggedVar(nd.a, nd.b)
	case KindIVar:
		r = s.IVar(nd.a)
	case KindApp:
		r = s.App(s.copyFrom(o, nd.a, memo), s.copyFrom(o, nd.b, memo))
	case KindLam:
		r = s.TaggedLam(s.copyFrom(o, nd.a, memo), nd.b)
	}
	memo[n] = r
	return r
}

// sameArg reports whether subtree a under da lambdas and subtree b under db
// lambdas are the same argument: equal once their free variables are
// shifted down by da and db. It only reads the store.
func (s *Store) sameArg(a int32, da int32, b int32, db int32) bool {
	if da == db || (len(s.free[a]) == 0 && len(s.free[b]) == 0) {
		return a == b
	}
	return s.eqShifted(a, b, da, db, 0)
}

// eqShifted compares a and b where a free variable v of a (v >= cutoff)
// stands for v-da and one of b for v-db.
func (s *Store) eqShifted(a, b, da, db, cutoff int32) bool {
	if s.cost[a] != s.cost[b] {
		return false
	}
	na, nb := s.nodes[a], s.nodes[b]
	if na.kind != nb.kind {
		return false
	}
	fa, fb := s.free[a], s.free[b]
	if len(fa) != len(fb) {
		return false
	}
	if len(fa) == 0 {
		return a == b
	}
	switch na.kind {
	case KindVar:
		if na.b != nb.b {
			return false
		}
		va, vb := na.a, nb.a
		if va >= cutoff {
			va -= da
		}
		if vb >= cutoff {
			vb -= db
		}
		return va == vb
	case KindApp:
		return s.eqShifted(na.a, nb.a, da, db, cutoff) && s.eqShifted(na.b, nb.b, da, db, cutoff)
	case KindLam:
		return na.b == nb.b && s.eqShifted(na.a, nb.a, da, db, cutoff+1)
	}
	return a == b
}

// Parse reads one program in Stitch syntax (no #i) into s.
func (s *Store) Parse(text string) (int32, error) { return s.parseTerm(text, 0, 0) }
