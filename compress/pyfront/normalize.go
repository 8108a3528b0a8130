package pyfront

import (
	"github.com/atlas-ai/atlas-learn/compress/sexp"
)

// Data-flow normalisation: before canonicalisation, single-use locals are
// inlined into the expression that reads them, so that a chain of
// assignments x1 = f(a); x2 = g(x1, b); return x2 becomes one expression
// return g(f(a), b) whose compositions are subtrees the search can see.
//
// The rule. In the top-level statement list of a function (not inside a
// loop, branch, try or nested definition), a statement NAME = EXPR is
// removed and EXPR put in place of the read of NAME when
//
//   - NAME is a local of the function, bound only by this statement and
//     read exactly once, in the same function scope (not from a nested
//     function, lambda or comprehension), and the function does not use
//     locals, vars, eval or exec;
//   - the read is in a later top-level statement of the same list, at a
//     position evaluated exactly once each time that statement runs: the
//     value of an assignment, augmented assignment, return or expression
//     statement, the test of an if or the iterable of a for, and not
//     under a lambda, comprehension, conditional expression branch, the
//     right of and/or, a later operand of a comparison chain, := or await;
//   - EXPR is pure: built from names, literals, operators, attributes,
//     subscripts, slices, displays, lambdas, comprehensions and calls whose
//     callee is not an attribute (a method call may change its receiver)
//     and not one of the builtins with effects (print, input, open, next,
//     exec, eval, setattr, delattr, globals, locals, vars, breakpoint,
//     exit, quit, help, __import__); no :=, yield or await;
//   - every statement between the two is a pure assignment to plain names
//     (or a pure expression statement, or pass) that rebinds no name EXPR
//     reads, and every part of the reading statement evaluated before the
//     read is pure.
//
// Moving a pure expression past pure statements changes neither the
// values computed nor the effects, assuming, as the printer does, that
// calls of plain names, attribute reads, subscripts and operators have no
// side effects; an exception may be raised from a different line.
// Verification by execution (--verify-with) checks the assumption.

// impureBuiltins are the builtins whose calls have effects or depend on
// the frame they run in.
var impureBuiltins = map[string]bool{
	"print": true, "input": true, "open": true, "next": true, "exec": true, "eval": true, "setattr": true,
	"delattr": true, "globals": true, "locals": true, "vars": true, "breakpoint": true, "exit": true,
	"quit": true, "help": true, "__import__": true,
}

// pureExpr reports whether evaluating n has no effects under the rule above.
func pureExpr(n *sexp.Node) bool {
	if !n.IsList {
		return true
	}
	h := head(n)
	switch h {
	case ":=", "await", "yield", "yieldfrom":
		return false
	case "call":
		as := args(n)
		if len(as) == 0 {
			return false
		}
		f := as[0]
		if f.IsList {
			if head(f) == "attr" || !pureExpr(f) {
				return false
			}
		} else if impureBuiltins[f.Atom] {
			return false
		}
		for _, a := range as[1:] {
			if !pureExpr(a) {
				return false
			}
		}
		return true
	case "lmb":
		// Making a lambda runs only its parameters' defaults.
		if as := args(n); len(as) == 2 {
			return pureExpr(as[1])
		}
		return true
	}
	if h == "" {
		return false
	}
	for _, a := range args(n) {
		if !pureExpr(a) {
			return false
		}
	}
	return true
}

// pureStmt reports whether a statement is a pure assignment to plain
// names, a pure expression statement or pass.
func pureStmt(n *sexp.Node) bool {
	if !n.IsList {
		switch n.Atom {
		case "break", "continue", "return", "raise", "yield":
			return false
		}
		return true
	}
	h := head(n)
	if h == "=" {
		as := args(n)
		for _, t := range as[:len(as)-1] {
			if t.IsList {
				return false
			}
		}
		return pureExpr(as[len(as)-1])
	}
	if isStmtHead(h) || !isExprHead(h) {
		return false
	}
	return pureExpr(n)
}

// storedNames adds the plain names a pure statement assigns.
func storedNames(n *sexp.Node, into map[string]bool) {
	if head(n) != "=" {
		return
	}
	as := args(n)
	for _, t := range as[:len(as)-1] {
		if !t.IsList {
			into[t.Atom] = true
		}
	}
}

// readNames adds every atom of n (a superset of the names it reads).
func readNames(n *sexp.Node, into map[string]bool) {
	_ = n.Walk(func(x *sexp.Node) error {
		if !x.IsList {
			into[x.Atom] = true
		}
		return nil
	})
}

// pathTo returns the nodes from n down to the node target (pointer
// equality), or nil.
func pathTo(n, target *sexp.Node) []*sexp.Node {
	if n == target {
		return []*sexp.Node{n}
	}
	if !n.IsList {
		return nil
	}
	for _, c := range n.List {
		if p := pathTo(c, target); p != nil {
			return append([]*sexp.Node{n}, p...)
		}
	}
	return nil
}

func childIndex(parent, child *sexp.Node) int {
	for i, c := range parent.List {
		if c == child {
			return i
		}
	}
	return -1
}

// onceAndAfterPure reports whether the read at the end of path (path[0] is
// the statement) is evaluated exactly once when the statement runs and
// everything the statement evaluates before it is pure.
func onceAndAfterPure(path []*sexp.Node) bool {
	st := path[0]
	if len(path) < 2 {
		return false
	}
	i := childIndex(st, path[1])
	h := head(st)
	switch {
	case !st.IsList:
		return false
	case h == "=":
		if i != len(st.List)-1 {
			return false
		}
	case isAugOp(h):
		if i != 2 || !pureExpr(st.List[1]) {
			return false
		}
	case h == "return":
		if i != 1 {
			return false
		}
	case h == "if":
		if i != 1 {
			return false
		}
	case h == "for":
		if i != 2 {
			return false
		}
	case isStmtHead(h):
		return false
	default:
		// an expression statement: the statement is the expression
		return exprPathOK(path)
	}
	return exprPathOK(path[1:])
}

// exprPathOK checks the expression path from path[0] down to the read.
func exprPathOK(path []*sexp.Node) bool {
	for k := 0; k+1 < len(path); k++ {
		n, c := path[k], path[k+1]
		if !n.IsList {
			return false
		}
		i := childIndex(n, c)
		h := head(n)
		switch h {
		case "lmb", "listcomp", "setcomp", "dictcomp", "gen", ":=", "await", "yield", "yieldfrom":
			return false
		case "and", "or":
			if i != 1 {
				return false
			}
		case "ifexp":
			// (ifexp BODY COND ELSE): only the condition always runs.
			if i != 2 {
				return false
			}
		case "cmp":
			if i > 3 {
				return false
			}
		}
		if i <= 0 {
			return false
		}
		for _, s := range n.List[1:i] {
			if !pureExpr(s) {
				return false
			}
		}
	}
	return true
}

// inlineLocals applies the data-flow normalisation to every function of
// prog (an encoded module, before canonicalisation) and reports how many
// assignments it removed.
func inlineLocals(prog *sexp.Node) (int, error) {
	a, err := analyze(prog, roleOther)
	if err != nil {
		return 0, err
	}
	type key struct {
		sc   *scope
		name string
	}
	type count struct {
		stores, loads int
		load          *sexp.Node
	}
	counts := map[key]*count{}
	occOf := map[*sexp.Node]*occ{}
	for i := range a.occs {
		o := &a.occs[i]
		if o.hole >= 0 || o.role == roleRaw {
			continue
		}
		s := resolves(o.sc, o.n.Atom)
		if o.role == roleDecl || s == nil {
			continue
		}
		k := key{s, o.n.Atom}
		c := counts[k]
		if c == nil {
			c = &count{}
			counts[k] = c
		}
		if o.role == roleLoad {
			c.loads++
			if o.sc == s {
				c.load = o.n
			} else {
				c.load = nil
			}
		} else {
			c.stores++
		}
		if o.role == roleStore {
			occOf[o.n] = o
		}
	}
	dynamic := func(s *scope) bool {
		for t := s; t != nil; t = t.parent {
			if t.dynamic {
				return true
			}
		}
		return false
	}
	// mark scopes that use locals, vars, eval or exec (as canonicalize)
	for _, o := range a.occs {
		switch name := o.n.Atom; {
		case o.hole >= 0 || o.role != roleLoad:
		case name != "locals" && name != "vars" && name != "eval" && name != "exec":
		case resolves(o.sc, name) == nil:
			for s := o.sc; s != nil && s.kind != scModule; s = s.parent {
				s.dynamic = true
				if s.kind == scFunc || s.kind == scLambda {
					break
				}
			}
		}
	}
	removed := 0
	var visit func(n *sexp.Node)
	inlineBlock := func(block *sexp.Node) {
		// the statements of the block's top level
		var cells []*sexp.Node
		for c := block; c.IsList && head(c) == seqHead && len(c.List) == 3; c = c.List[2] {
			cells = append(cells, c)
		}
		alive := make([]bool, len(cells))
		for i := range alive {
			alive[i] = true
		}
		for i := len(cells) - 1; i >= 0; i-- {
			st := cells[i].List[1]
			if head(st) != "=" || len(st.List) != 3 || st.List[1].IsList {
				continue
			}
			o := occOf[st.List[1]]
			if o == nil || o.sc.kind != scFunc || dynamic(o.sc) {
				continue
			}
			c := counts[key{o.sc, o.n.Atom}]
			if c == nil || c.stores != 1 || c.loads != 1 || c.load == nil {
				continue
			}
			expr := st.List[2]
			if !pureExpr(expr) {
				continue
			}
			reads := map[string]bool{}
			readNames(expr, reads)
			ok := false
			var path []*sexp.Node
			for j := i + 1; j < len(cells); j++ {
				if !alive[j] {
					continue
				}
				sj := cells[j].List[1]
				if path = pathTo(sj, c.load); path != nil {
					ok = onceAndAfterPure(path)
					break
				}
				stored := map[string]bool{}
				storedNames(sj, stored)
				clash := false
				for n := range stored {
					if reads[n] {
						clash = true
					}
				}
				if clash || !pureStmt(sj) {
					break
				}
			}
			if !ok {
				continue
			}
			parent := path[len(path)-2]
			parent.List[childIndex(parent, c.load)] = expr
			alive[i] = false
			removed++
		}
		// unlink the removed statements
		var prev *sexp.Node
		for i, cell := range cells {
			if alive[i] {
				prev = cell
				continue
			}
			next := cell.List[2]
			if prev == nil {
				// the first statement: copy the next cell into this one
				*cell = *next
				// cells[i+1] is now cell; keep the chain consistent
				if i+1 < len(cells) {
					cells[i+1] = cell
				}
				continue
			}
			prev.List[2] = next
		}
	}
	visit = func(n *sexp.Node) {
		if !n.IsList {
			return
		}
		if h := head(n); (h == "def" || h == "adef") && len(n.List) >= 4 {
			inlineBlock(n.List[3])
		}
		for _, c := range n.List {
			visit(c)
		}
	}
	visit(prog)
	return removed, nil
}
