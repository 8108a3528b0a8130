package pyfront

import (
	"strings"

	"github.com/atlas-ai/atlas-learn/compress/sexp"
)

// uses prints library applications in a program: as calls where sound,
// inlined otherwise.
type uses struct {
	lib     *library
	program *sexp.Node
	called  map[string]bool
	scopes  map[*sexp.Node]*scopeFacts
	// pureCalls: see RenderOptions.PureCalls.
	pureCalls bool
}

// scopeFacts describes an enclosing function (or the module) with every
// application expanded.
type scopeFacts struct {
	bound  map[string]bool // names bound anywhere in it
	counts map[string]int  // atom occurrences
	// unknown: it could not be analysed, so nothing in it is called.
	unknown bool
}

func (u *uses) facts(n *sexp.Node) *scopeFacts {
	if f, ok := u.scopes[n]; ok {
		return f
	}
	f := &scopeFacts{bound: map[string]bool{}, counts: map[string]int{}}
	u.scopes[n] = f
	e, err := u.lib.expand(n, false)
	if err != nil {
		f.unknown = true
		return f
	}
	countAtoms(e, f.counts)
	r := roleOther
	switch head(n) {
	case "def", "adef", "class":
		r = roleStmt
	case "lmb":
		r = roleLoad
	}
	a, err := analyze(e, r)
	if err != nil {
		f.unknown = true
		return f
	}
	for _, o := range a.occs {
		switch o.role {
		case roleStore, roleDel, roleBind, roleParam, roleImport:
			f.bound[o.n.Atom] = true
		}
	}
	return f
}

func countAtoms(t *sexp.Node, m map[string]int) {
	_ = t.Walk(func(n *sexp.Node) error {
		if !n.IsList {
			m[n.Atom]++
		}
		return nil
	})
}

// atomic reports whether evaluating t can have no effect and needs no
// ordering: a name, a literal, or a negated number.
func atomic(t *sexp.Node) bool {
	if !t.IsList {
		// [] and {} make a new object each time they are evaluated.
		return t.Atom != emptyList && t.Atom != emptyDict
	}
	if h := head(t); (h == "-" || h == "+") && len(t.List) == 2 && !t.List[1].IsList {
		return !atomIsName(t.List[1].Atom)
	}
	if head(t) == "strs" {
		for _, x := range args(t) {
			if x.IsList {
				return false
			}
		}
		return true
	}
	return false
}

// canCall decides whether the application n of c, with arguments as, at a
// position of category pos, may be printed as a call.
func (u *uses) canCall(p *printer, n *sexp.Node, c *conceptInfo, as []*sexp.Node, pos category) bool {
	// An expression concept may stand as a statement (its value unused).
	if c.err != nil || len(as) != c.c.Arity || p.store > 0 || (c.cat != pos && !(c.cat == catExpr && pos == catStmt)) {
		return false
	}
	var encl *sexp.Node
	if len(p.encl) > 0 {
		encl = p.encl[len(p.encl)-1]
		if head(encl) == "class" {
			return false
		}
	}
	if c.endsReturn {
		if h := head(encl); h != "def" && h != "adef" {
			return false
		}
	}
	last := -1
	pureBody := u.pureCalls && c.cat == catExpr && pureExpr(c.body)
	for _, k := range c.holeSeq {
		if k == c.tail {
			continue
		}
		ea, err := u.lib.expand(as[k], false)
		if err != nil {
			return false
		}
		if atomic(ea) {
			continue
		}
		h := c.holes[k]
		if h == nil || h.count != 1 || !h.strict {
			return false
		}
		// A pure argument of a pure expression concept may be evaluated
		// before the body's calls and out of order (see pureExpr).
		if pureBody && pureExpr(ea) {
			continue
		}
		if h.callBefore || k < last {
			return false
		}
		last = k
	}
	for k, a := range as {
		if k == c.tail {
			continue
		}
		ea, err := u.lib.expand(a, false)
		if err != nil || !isValue(ea) {
			return false
		}
		h := c.holes[k]
		if h == nil && !atomic(ea) {
			return false // never evaluated in the original
		}
		if h != nil && h.deferred && !ea.IsList && atomIsName(ea.Atom) {
			// The original reads the variable when the deferred code
			// runs, perhaps after the caller rebinds it.
			return false
		}
		names := map[string]int{}
		countAtoms(ea, names)
		for x := range names {
			if c.bound[x] {
				return false
			}
		}
	}
	region := encl
	if region == nil {
		region = u.program
	}
	f := u.facts(region)
	if f.unknown {
		return false
	}
	// The function would read globals: no enclosing function may bind
	// them (the nearest, or any outer one it closes over).
	for _, e := range p.encl {
		if head(e) == "class" {
			continue
		}
		fe := u.facts(e)
		if fe.unknown {
			return false
		}
		for x := range c.freeReads {
			if fe.bound[x] {
				return false
			}
		}
	}
	if c.cat != catExpr && !c.endsReturn {
		returned := map[string]bool{}
		for _, r := range c.returns {
			returned[r] = true
		}
		// The application without the rest of the block (its tail).
		own := n
		if c.tail >= 0 && n.IsList {
			own = &sexp.Node{IsList: true, List: append([]*sexp.Node{}, n.List...)}
			own.List[1+c.tail] = &sexp.Node{Atom: nilAtom}
		}
		en, err := u.lib.expand(own, false)
		if err != nil {
			return false
		}
		inside := map[string]int{}
		countAtoms(en, inside)
		for x := range c.topBound {
			if !returned[x] && f.counts[x] > inside[x] {
				return false
			}
		}
	}
	return true
}

// resolve inlines n while it is a library application.
func (u *uses) resolve(n *sexp.Node) *sexp.Node {
	for i := 0; i < 64; i++ {
		c, as, ok := u.lib.appOf(n)
		if !ok || len(as) < c.c.Arity {
			return n
		}
		t, err := substitute(c.body, as[:c.c.Arity], as[c.c.Arity:])
		if err != nil {
			return n
		}
		n = t
	}
	return n
}

// call prints NAME(args) and records that NAME must be defined.
func (u *uses) call(p *printer, c *conceptInfo, as []*sexp.Node) (string, error) {
	var parts []string
	for k, a := range as {
		if k == c.tail {
			continue
		}
		s, err := p.expr(a, pLambda)
		if err != nil {
			return "", err
		}
		parts = append(parts, s)
	}
	u.called[c.c.Name] = true
	return c.c.Name + "(" + strings.Join(parts, ", ") + ")", nil
}

func (u *uses) callStmt(p *printer, c *conceptInfo, as []*sexp.Node, indent int) error {
	s, err := u.call(p, c, as)
	if err != nil {
		return err
	}
	switch {
	case c.endsReturn:
		s = "return " + s
	case len(c.returns) > 0:
		names, err := c.returnNames(p)
		if err != nil {
			return err
		}
		s = names + " = " + s
	}
	p.line(indent, s)
	return nil
}

func (u *uses) block(p *printer, n *sexp.Node, indent int) (bool, error) {
	c, as, ok := u.lib.appOf(n)
	if !ok {
		return false, nil
	}
	if u.canCall(p, n, c, as, catRun) {
		if err := u.callStmt(p, c, as, indent); err != nil {
			return true, err
		}
		if c.tail >= 0 {
			return true, p.blockCont(as[c.tail], indent)
		}
		return true, nil
	}
	t, err := substitute(c.body, as[:min(len(as), c.c.Arity)], as[min(len(as), c.c.Arity):])
	if err != nil {
		return true, err
	}
	return true, p.blockCont(t, indent)
}

func (u *uses) stmt(p *printer, n *sexp.Node, indent int) (bool, error) {
	c, as, ok := u.lib.appOf(n)
	if !ok {
		return false, nil
	}
	if u.canCall(p, n, c, as, catStmt) {
		return true, u.callStmt(p, c, as, indent)
	}
	t, err := substitute(c.body, as[:min(len(as), c.c.Arity)], as[min(len(as), c.c.Arity):])
	if err != nil {
		return true, err
	}
	return true, p.stmt(t, indent)
}

func (u *uses) expr(p *printer, n *sexp.Node, minPrec int) (string, bool, error) {
	c, as, ok := u.lib.appOf(n)
	if !ok {
		return "", false, nil
	}
	if u.canCall(p, n, c, as, catExpr) {
		s, err := u.call(p, c, as)
		return paren(s, pPrimary, minPrec), true, err
	}
	t, err := substitute(c.body, as[:min(len(as), c.c.Arity)], as[min(len(as), c.c.Arity):])
	if err != nil {
		return "", true, err
	}
	s, err := p.expr(t, minPrec)
	return s, true, err
}

// isValue reports whether t is a whole expression (not a slice, keyword
// argument, starred item, statement or other fragment).
func isValue(t *sexp.Node) bool {
	if !t.IsList {
		return t.Atom != nilAtom && !strings.HasPrefix(t.Atom, "#")
	}
	h := head(t)
	return isExprHead(h) && h != "star" && h != "dstar"
}
