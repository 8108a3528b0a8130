package pyfront

import (
	"fmt"
	"slices"
	"strings"

	"github.com/atlas-ai/atlas-learn/compress/frontend"
	"github.com/atlas-ai/atlas-learn/compress/sexp"
)

// Python precedence levels, loosest first.
const (
	pTuple = iota // yield, :=, bare star
	pLambda
	pIf
	pOr
	pAnd
	pNot
	pCmp
	pBor
	pXor
	pBand
	pShift
	pArith
	pTerm
	pUnary
	pPow
	pAwait
	pPrimary
	pAtom
)

// binPrec is the precedence of a binary operator.
func binPrec(op string) (int, bool) {
	switch op {
	case "|":
		return pBor, true
	case "^":
		return pXor, true
	case "&":
		return pBand, true
	case "<<", ">>":
		return pShift, true
	case "+", "-":
		return pArith, true
	case "*", "/", "//", "%", "@":
		return pTerm, true
	case "**":
		return pPow, true
	}
	return 0, false
}

// printer prints terms as Python. Its hooks let concept-aware printing
// handle library applications and holes.
type printer struct {
	b      strings.Builder
	local  string // prefix for canonical function locals (v<n>)
	clocal string // prefix for comprehension and lambda variables (c<n>)
	// app handles (NAME args...) and NAME atoms of library concepts in
	// block, statement and expression positions; nil means none exist.
	app appHook
	// holes maps a hole index to its Python text; nil means holes are an
	// error.
	holes map[int]string
	// stack of enclosing def/lambda/class nodes (for use-site checks).
	encl []*sexp.Node
	// store is above zero while printing an assignment target, where
	// library applications are always inlined.
	store int
}

// appHook is called for a library application n found where a block
// (roleTail), statement (roleStmt) or expression (roleLoad) belongs. It
// returns handled=false when n is not a library application.
type appHook interface {
	// resolve inlines n while it is a library application.
	resolve(n *sexp.Node) *sexp.Node
	block(p *printer, n *sexp.Node, indent int) (handled bool, err error)
	stmt(p *printer, n *sexp.Node, indent int) (handled bool, err error)
	expr(p *printer, n *sexp.Node, min int) (s string, handled bool, err error)
}

// choosePrefixes picks prefixes for canonical locals and concept
// parameters that no identifier of the terms uses.
func choosePrefixes(terms ...*sexp.Node) (local, clocal, param string) {
	names := map[string]bool{}
	for _, t := range terms {
		collectNames(t, names)
	}
	pick := func(base string, avoid ...string) string {
		for p := base; ; p += "_" {
			if slices.Contains(avoid, p) {
				continue
			}
			clash := false
			for n := range names {
				if rest, ok := strings.CutPrefix(n, p); ok && rest != "" && strings.Trim(rest, "0123456789") == "" {
					clash = true
					break
				}
			}
			if !clash {
				return p
			}
		}
	}
	local = pick("v")
	clocal = pick("c", local)
	return local, clocal, pick("p", local, clocal)
}

// collectNames gathers identifier atoms that are not canonical locals.
func collectNames(t *sexp.Node, names map[string]bool) {
	_ = t.Walk(func(n *sexp.Node) error {
		if n.IsList || isCanon(n.Atom) || !atomIsName(n.Atom) {
			return nil
		}
		if s, ok := strings.CutPrefix(n.Atom, idPref); ok {
			if u, err := frontend.Unescape(s); err == nil {
				names[u] = true
			}
			return nil
		}
		names[n.Atom] = true
		return nil
	})
}

// kid returns n with library applications inlined, for positions that are
// not values (clauses, argument lists, parameters, names).
func (p *printer) kid(n *sexp.Node) *sexp.Node {
	if p.app == nil {
		return n
	}
	return p.app.resolve(n)
}

func (p *printer) kids(ns []*sexp.Node) []*sexp.Node {
	out := make([]*sexp.Node, len(ns))
	for i, n := range ns {
		out[i] = p.kid(n)
	}
	return out
}

// peek returns the inlined n when its head is one of heads, else n itself,
// so that values keep their applications (which may print as calls).
func (p *printer) peek(n *sexp.Node, heads ...string) *sexp.Node {
	r := p.kid(n)
	if slices.Contains(heads, head(r)) {
		return r
	}
	return n
}

// target prints an assignment target.
func (p *printer) target(n *sexp.Node) (string, error) {
	p.store++
	defer func() { p.store-- }()
	return p.expr(n, pLambda)
}

func (p *printer) targets(ns []*sexp.Node) ([]string, error) {
	out := make([]string, len(ns))
	for i, n := range ns {
		s, err := p.target(n)
		if err != nil {
			return nil, err
		}
		out[i] = s
	}
	return out, nil
}

func (p *printer) line(indent int, s string) {
	for i := 0; i < indent; i++ {
		p.b.WriteString("    ")
	}
	p.b.WriteString(s)
	p.b.WriteByte('\n')
}

// name prints an identifier atom (or hole) in a name position.
func (p *printer) name(n *sexp.Node) (string, error) {
	n = p.kid(n)
	if n.IsList {
		return "", errAt(n, "expected a name")
	}
	a := n.Atom
	if k, ok := isHole(a); ok {
		if s, ok := p.holes[k]; ok && plainIdentOrUnicode(s) {
			return s, nil
		}
		return "", fmt.Errorf("hole %s where a name belongs", a)
	}
	if isCanon(a) {
		if a[0] == 'c' {
			return p.clocal + a[1:], nil
		}
		return p.local + a[1:], nil
	}
	if s, ok := strings.CutPrefix(a, idPref); ok {
		u, err := frontend.Unescape(s)
		if err != nil {
			return "", err
		}
		if !plainIdentOrUnicode(u) {
			return "", fmt.Errorf("bad identifier %q", u)
		}
		return u, nil
	}
	if !plainIdent(a) || isKeyword(a) {
		return "", fmt.Errorf("%q is not a Python name", a)
	}
	return a, nil
}

// isKeyword reports whether s is a Python keyword (not a soft one).
func isKeyword(s string) bool {
	switch s {
	case "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class", "continue", "def",
		"del", "elif", "else", "except", "finally", "for", "from", "global", "if", "import", "in", "is", "lambda",
		"nonlocal", "not", "or", "pass", "raise", "return", "try", "while", "with", "yield":
		return true
	}
	return false
}

func plainIdentOrUnicode(s string) bool {
	if s == "" || isKeyword(s) || (s[0] >= '0' && s[0] <= '9') {
		return false
	}
	for _, r := range s {
		if r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r > 127 {
			continue
		}
		return false
	}
	return true
}

func (p *printer) block(n *sexp.Node, indent int) error {
	if !n.IsList && n.Atom == nilAtom {
		p.line(indent, "pass")
		return nil
	}
	return p.blockCont(n, indent)
}

// blockCont prints the statements of n; nil prints nothing.
func (p *printer) blockCont(n *sexp.Node, indent int) error {
	for {
		if !n.IsList && n.Atom == nilAtom {
			return nil
		}
		if head(n) == seqHead && len(n.List) == 3 {
			if h := head(n.List[1]); indent == 0 && p.b.Len() > 0 && (h == "def" || h == "adef" || h == "class" || h == "decorated") {
				p.b.WriteString("\n") // a blank line before top-level definitions
			}
			if err := p.stmt(n.List[1], indent); err != nil {
				return err
			}
			n = n.List[2]
			continue
		}
		if p.app != nil {
			ok, err := p.app.block(p, n, indent)
			if err != nil || ok {
				return err
			}
		}
		if !n.IsList {
			if _, ok := isHole(n.Atom); ok {
				return fmt.Errorf("hole %s in statement-tail position", n.Atom)
			}
		}
		return errAt(n, "expected a statement list")
	}
}

func (p *printer) body(header string, blk *sexp.Node, indent int) error {
	p.line(indent, header+":")
	return p.block(blk, indent+1)
}

func (p *printer) exprs(xs []*sexp.Node, min int) ([]string, error) {
	out := make([]string, len(xs))
	for i, x := range xs {
		s, err := p.expr(x, min)
		if err != nil {
			return nil, err
		}
		out[i] = s
	}
	return out, nil
}

func (p *printer) stmt(n *sexp.Node, indent int) error {
	if p.app != nil {
		ok, err := p.app.stmt(p, n, indent)
		if err != nil || ok {
			return err
		}
	}
	if !n.IsList {
		switch n.Atom {
		case "pass", "break", "continue", "return", "raise":
			p.line(indent, n.Atom)
			return nil
		}
		if _, ok := isHole(n.Atom); ok {
			return fmt.Errorf("hole %s in statement position", n.Atom)
		}
		if n.Atom == nilAtom {
			return errAt(n, "expected a statement")
		}
		return p.exprStmt(n, indent)
	}
	h, as := head(n), args(n)
	bad := func() error { return errAt(n, "malformed %s", h) }
	switch {
	case isExprHead(h):
		return p.exprStmt(n, indent)
	case h == "=" && len(as) >= 2:
		parts, err := p.targets(as[:len(as)-1])
		if err != nil {
			return err
		}
		s, err := p.expr(as[len(as)-1], pLambda)
		if err != nil {
			return err
		}
		p.line(indent, strings.Join(parts, " = ")+" = "+s)
		return nil
	case h == "ann" && (len(as) == 2 || len(as) == 3):
		t, err := p.target(as[0])
		if err != nil {
			return err
		}
		xs, err := p.exprs(as[1:], pLambda)
		if err != nil {
			return err
		}
		xs = append([]string{t}, xs...)
		s := xs[0] + ": " + xs[1]
		if len(xs) == 3 {
			s += " = " + xs[2]
		}
		p.line(indent, s)
		return nil
	case isAugOp(h) && len(as) == 2:
		t, err := p.target(as[0])
		if err != nil {
			return err
		}
		v, err := p.expr(as[1], pLambda)
		if err != nil {
			return err
		}
		xs := []string{t, v}
		p.line(indent, xs[0]+" "+h+" "+xs[1])
		return nil
	case h == "return" && len(as) <= 1:
		xs, err := p.exprs(as, pLambda)
		if err != nil {
			return err
		}
		p.line(indent, strings.TrimSpace("return "+strings.Join(xs, "")))
		return nil
	case h == "if" && len(as) >= 2:
		c, err := p.expr(as[0], pLambda)
		if err != nil {
			return err
		}
		if err := p.body("if "+c, as[1], indent); err != nil {
			return err
		}
		for _, alt := range p.kids(as[2:]) {
			switch {
			case head(alt) == "elif" && len(alt.List) == 3:
				c, err := p.expr(alt.List[1], pLambda)
				if err != nil {
					return err
				}
				if err := p.body("elif "+c, alt.List[2], indent); err != nil {
					return err
				}
			case head(alt) == "else" && len(alt.List) == 2:
				if err := p.body("else", alt.List[1], indent); err != nil {
					return err
				}
			default:
				return bad()
			}
		}
		return nil
	case (h == "for" || h == "afor") && (len(as) == 3 || len(as) == 4):
		t, err := p.target(as[0])
		if err != nil {
			return err
		}
		it, err := p.expr(as[1], pLambda)
		if err != nil {
			return err
		}
		kw := "for "
		if h == "afor" {
			kw = "async for "
		}
		if err := p.body(kw+t+" in "+it, as[2], indent); err != nil {
			return err
		}
		return p.elseClause(as[3:], indent)
	case h == "while" && (len(as) == 2 || len(as) == 3):
		c, err := p.expr(as[0], pLambda)
		if err != nil {
			return err
		}
		if err := p.body("while "+c, as[1], indent); err != nil {
			return err
		}
		return p.elseClause(as[2:], indent)
	case h == "try" && len(as) >= 2:
		if err := p.body("try", as[0], indent); err != nil {
			return err
		}
		for _, c := range p.kids(as[1:]) {
			ch, cs := head(c), args(c)
			switch {
			case (ch == "except" || ch == "exceptstar") && len(cs) >= 1 && len(cs) <= 2:
				hd := "except"
				if ch == "exceptstar" {
					hd = "except*"
				}
				if len(cs) == 2 {
					e, err := p.asItem(cs[0])
					if err != nil {
						return err
					}
					hd += " " + e
				}
				if err := p.body(hd, cs[len(cs)-1], indent); err != nil {
					return err
				}
			case (ch == "else" || ch == "finally") && len(cs) == 1:
				if err := p.body(ch, cs[0], indent); err != nil {
					return err
				}
			default:
				return bad()
			}
		}
		return nil
	case (h == "with" || h == "awith") && len(as) == 2 && head(p.kid(as[0])) == "items":
		var items []string
		for _, it := range args(p.kid(as[0])) {
			s, err := p.asItem(it)
			if err != nil {
				return err
			}
			items = append(items, s)
		}
		kw := "with "
		if h == "awith" {
			kw = "async with "
		}
		return p.body(kw+strings.Join(items, ", "), as[1], indent)
	case (h == "def" || h == "adef") && (len(as) == 3 || len(as) == 4):
		name, err := p.name(as[0])
		if err != nil {
			return err
		}
		ps, err := p.params(p.kid(as[1]))
		if err != nil {
			return err
		}
		hd := "def " + name + "(" + ps + ")"
		if h == "adef" {
			hd = "async " + hd
		}
		if len(as) == 4 {
			rt, err := p.expr(as[3], pLambda)
			if err != nil {
				return err
			}
			hd += " -> " + rt
		}
		p.encl = append(p.encl, n)
		defer func() { p.encl = p.encl[:len(p.encl)-1] }()
		return p.body(hd, as[2], indent)
	case h == "class" && (len(as) == 2 || len(as) == 3):
		name, err := p.name(as[0])
		if err != nil {
			return err
		}
		hd := "class " + name
		if len(as) == 3 {
			a, err := p.argList(p.kid(as[2]))
			if err != nil {
				return err
			}
			hd += "(" + a + ")"
		}
		p.encl = append(p.encl, n)
		defer func() { p.encl = p.encl[:len(p.encl)-1] }()
		return p.body(hd, as[1], indent)
	case h == "decorated" && len(as) >= 2:
		for _, d := range as[:len(as)-1] {
			s, err := p.expr(d, pLambda)
			if err != nil {
				return err
			}
			p.line(indent, "@"+s)
		}
		last := p.kid(as[len(as)-1])
		if hd := head(last); hd != "def" && hd != "adef" && hd != "class" {
			return bad()
		}
		return p.stmt(last, indent)
	case h == "import" && len(as) >= 1:
		items, err := p.importItems(p.kids(as))
		if err != nil {
			return err
		}
		p.line(indent, "import "+items)
		return nil
	case h == "from" && len(as) >= 2:
		as = p.kids(as)
		if as[0].IsList {
			return bad()
		}
		mod, err := frontend.Unescape(as[0].Atom)
		if err != nil {
			return err
		}
		items, err := p.importItems(as[1:])
		if err != nil {
			return err
		}
		p.line(indent, "from "+mod+" import "+items)
		return nil
	case (h == "global" || h == "nonlocal") && len(as) >= 1:
		var names []string
		for _, x := range as {
			s, err := p.name(x)
			if err != nil {
				return err
			}
			names = append(names, s)
		}
		p.line(indent, h+" "+strings.Join(names, ", "))
		return nil
	case h == "del" && len(as) >= 1:
		xs, err := p.targets(as)
		if err != nil {
			return err
		}
		p.line(indent, "del "+strings.Join(xs, ", "))
		return nil
	case h == "raise" && len(as) <= 2:
		xs, err := p.exprs(as, pLambda)
		if err != nil {
			return err
		}
		s := "raise"
		if len(xs) > 0 {
			s += " " + xs[0]
		}
		if len(xs) > 1 {
			s += " from " + xs[1]
		}
		p.line(indent, s)
		return nil
	case h == "assert" && (len(as) == 1 || len(as) == 2):
		xs, err := p.exprs(as, pLambda)
		if err != nil {
			return err
		}
		p.line(indent, "assert "+strings.Join(xs, ", "))
		return nil
	}
	return errAt(n, "unknown or malformed statement %q", h)
}

// exprStmt prints an expression statement.
func (p *printer) exprStmt(n *sexp.Node, indent int) error {
	s, err := p.expr(n, pLambda)
	if err != nil {
		return err
	}
	p.line(indent, s)
	return nil
}

func (p *printer) elseClause(rest []*sexp.Node, indent int) error {
	if len(rest) == 0 {
		return nil
	}
	e := p.kid(rest[0])
	if head(e) != "else" || len(e.List) != 2 {
		return errAt(e, "expected else")
	}
	return p.body("else", e.List[1], indent)
}

func (p *printer) asItem(n *sexp.Node) (string, error) {
	n = p.peek(n, "as")
	if head(n) == "as" && len(n.List) == 3 {
		// Parenthesise all but primaries: tree-sitter reads
		// "a if c else b as t" as "a if c else (b as t)".
		e, err := p.expr(n.List[1], pPrimary)
		if err != nil {
			return "", err
		}
		t, err := p.target(n.List[2])
		if err != nil {
			return "", err
		}
		return e + " as " + t, nil
	}
	return p.expr(n, pLambda)
}

func (p *printer) importItems(items []*sexp.Node) (string, error) {
	var out []string
	for _, it := range items {
		if head(it) == "alias" && len(it.List) == 3 && !it.List[1].IsList {
			mod, err := frontend.Unescape(it.List[1].Atom)
			if err != nil {
				return "", err
			}
			nm, err := p.name(it.List[2])
			if err != nil {
				return "", err
			}
			out = append(out, mod+" as "+nm)
			continue
		}
		if it.IsList {
			return "", errAt(it, "bad import item")
		}
		if _, ok := isHole(it.Atom); ok {
			return "", fmt.Errorf("hole %s in an import", it.Atom)
		}
		mod, err := frontend.Unescape(it.Atom)
		if err != nil {
			return "", err
		}
		out = append(out, mod)
	}
	return strings.Join(out, ", "), nil
}

func (p *printer) params(n *sexp.Node) (string, error) {
	if !n.IsList && n.Atom == "params" {
		return "", nil
	}
	if head(n) != "params" {
		return "", errAt(n, "expected params")
	}
	var out []string
	for _, it := range p.kids(args(n)) {
		if !it.IsList {
			if it.Atom == "*" || it.Atom == "/" {
				out = append(out, it.Atom)
				continue
			}
			s, err := p.name(it)
			if err != nil {
				return "", err
			}
			out = append(out, s)
			continue
		}
		h, as := head(it), args(it)
		switch {
		case (h == "star" || h == "dstar") && len(as) == 1:
			s, err := p.name(as[0])
			if err != nil {
				return "", err
			}
			out = append(out, map[string]string{"star": "*", "dstar": "**"}[h]+s)
		case h == "default" && len(as) == 2:
			nm, err := p.name(as[0])
			if err != nil {
				return "", err
			}
			v, err := p.expr(as[1], pLambda)
			if err != nil {
				return "", err
			}
			out = append(out, nm+"="+v)
		case (h == "typed" && len(as) == 2) || (h == "typeddef" && len(as) == 3):
			var nm string
			var err error
			if a0 := p.kid(as[0]); (head(a0) == "star" || head(a0) == "dstar") && len(a0.List) == 2 {
				nm, err = p.name(a0.List[1])
				nm = map[string]string{"star": "*", "dstar": "**"}[head(a0)] + nm
			} else {
				nm, err = p.name(a0)
			}
			if err != nil {
				return "", err
			}
			xs, err := p.exprs(as[1:], pLambda)
			if err != nil {
				return "", err
			}
			s := nm + ": " + xs[0]
			if len(xs) == 2 {
				s += " = " + xs[1]
			}
			out = append(out, s)
		default:
			return "", errAt(it, "bad parameter")
		}
	}
	return strings.Join(out, ", "), nil
}

func (p *printer) argList(n *sexp.Node) (string, error) {
	n = p.kid(n)
	if !n.IsList && n.Atom == "args" {
		return "", nil
	}
	if head(n) != "args" {
		return "", errAt(n, "expected args")
	}
	var out []string
	for _, it := range args(n) {
		it = p.peek(it, "kw")
		if head(it) == "kw" && len(it.List) == 3 {
			nm, err := p.name(it.List[1])
			if err != nil {
				return "", err
			}
			v, err := p.expr(it.List[2], pLambda)
			if err != nil {
				return "", err
			}
			out = append(out, nm+"="+v)
			continue
		}
		s, err := p.expr(it, pLambda)
		if err != nil {
			return "", err
		}
		out = append(out, s)
	}
	return strings.Join(out, ", "), nil
}

func paren(s string, prec, min int) string {
	if prec < min {
		return "(" + s + ")"
	}
	return s
}

// atomText prints an atom in expression position.
func (p *printer) atomText(a string) (string, error) {
	switch a {
	case "True", "False", "None", "...", emptyList, emptyDict:
		return a, nil
	case emptyTuple:
		return "()", nil
	case "yield":
		return "(yield)", nil
	}
	if s, ok := strings.CutPrefix(a, strPref); ok {
		return frontend.Unescape(s)
	}
	if a != "" && (a[0] >= '0' && a[0] <= '9' || a[0] == '.') {
		return a, nil
	}
	if k, ok := isHole(a); ok {
		s, ok := p.holes[k]
		if !ok {
			return "", fmt.Errorf("hole %s where no parameter exists", a)
		}
		return s, nil
	}
	return p.name(&sexp.Node{Atom: a})
}

// expr prints n, parenthesised when its precedence is below min.
func (p *printer) expr(n *sexp.Node, min int) (string, error) {
	if p.app != nil {
		s, ok, err := p.app.expr(p, n, min)
		if err != nil || ok {
			return s, err
		}
	}
	if !n.IsList {
		s, err := p.atomText(n.Atom)
		return s, err
	}
	s, prec, err := p.expr1(n)
	if err != nil {
		return "", err
	}
	return paren(s, prec, min), nil
}

func (p *printer) expr1(n *sexp.Node) (string, int, error) {
	h, as := head(n), args(n)
	bad := func() (string, int, error) { return "", 0, errAt(n, "unknown or malformed expression %q", h) }
	two := func(lmin, rmin int) (string, string, error) {
		l, err := p.expr(as[0], lmin)
		if err != nil {
			return "", "", err
		}
		r, err := p.expr(as[1], rmin)
		return l, r, err
	}
	switch {
	case (h == "and" || h == "or") && len(as) == 2:
		prec := map[string]int{"and": pAnd, "or": pOr}[h]
		l, r, err := two(prec, prec+1)
		return l + " " + h + " " + r, prec, err
	case h == "not" && len(as) == 1:
		s, err := p.expr(as[0], pNot)
		return "not " + s, pNot, err
	case isCmpOp(h) && len(as) == 2:
		l, r, err := two(pCmp+1, pCmp+1)
		return l + " " + cmpText(h) + " " + r, pCmp, err
	case h == "cmp" && len(as) >= 3 && len(as)%2 == 1:
		var parts []string
		for i, x := range as {
			if i%2 == 1 {
				x = p.kid(x)
				if x.IsList || !isCmpOp(x.Atom) {
					return bad()
				}
				parts = append(parts, cmpText(x.Atom))
				continue
			}
			s, err := p.expr(x, pCmp+1)
			if err != nil {
				return "", 0, err
			}
			parts = append(parts, s)
		}
		return strings.Join(parts, " "), pCmp, nil
	case (h == "-" || h == "+" || h == "~") && len(as) == 1:
		s, err := p.expr(as[0], pUnary)
		return h + s, pUnary, err
	case h == "**" && len(as) == 2:
		l, r, err := two(pAwait, pUnary)
		return l + " ** " + r, pPow, err
	case isBinOp(h) && len(as) == 2:
		prec, _ := binPrec(h)
		l, r, err := two(prec, prec+1)
		return l + " " + h + " " + r, prec, err
	case h == "call" && len(as) == 2:
		f, err := p.expr(as[0], pPrimary)
		if err != nil {
			return "", 0, err
		}
		if a1 := p.kid(as[1]); head(a1) == "gen" {
			g, _, err := p.comp(a1)
			return f + "(" + g + ")", pPrimary, err
		}
		a, err := p.argList(as[1])
		return f + "(" + a + ")", pPrimary, err
	case h == "attr" && len(as) == 2:
		o, err := p.expr(as[0], pPrimary)
		if err != nil {
			return "", 0, err
		}
		if !as[0].IsList && o != "" && o[0] >= '0' && o[0] <= '9' {
			o = "(" + o + ")"
		}
		nm, err := p.name(as[1])
		return o + "." + nm, pPrimary, err
	case h == "sub" && len(as) >= 2:
		v, err := p.expr(as[0], pPrimary)
		if err != nil {
			return "", 0, err
		}
		var idx []string
		for _, x := range as[1:] {
			x = p.peek(x, "slice")
			if head(x) == "slice" && len(x.List) >= 3 && len(x.List) <= 4 {
				var parts []string
				for _, y := range p.kids(args(x)) {
					if !y.IsList && y.Atom == nilAtom {
						parts = append(parts, "")
						continue
					}
					s, err := p.expr(y, pIf)
					if err != nil {
						return "", 0, err
					}
					parts = append(parts, s)
				}
				idx = append(idx, strings.Join(parts, ":"))
				continue
			}
			s, err := p.expr(x, pLambda)
			if err != nil {
				return "", 0, err
			}
			idx = append(idx, s)
		}
		return v + "[" + strings.Join(idx, ", ") + "]", pPrimary, nil
	case h == "ifexp" && len(as) == 3:
		xs := make([]string, 3)
		for i, m := range []int{pOr, pOr, pLambda} {
			s, err := p.expr(as[i], m)
			if err != nil {
				return "", 0, err
			}
			xs[i] = s
		}
		return xs[0] + " if " + xs[1] + " else " + xs[2], pIf, nil
	case h == "lmb" && (len(as) == 1 || len(as) == 2):
		ps := ""
		if len(as) == 2 {
			s, err := p.params(p.kid(as[1]))
			if err != nil {
				return "", 0, err
			}
			ps = " " + s
		}
		p.encl = append(p.encl, n)
		body, err := p.expr(as[0], pLambda)
		p.encl = p.encl[:len(p.encl)-1]
		return "lambda" + ps + ": " + body, pLambda, err
	case h == "list" || h == "tuple" || (h == "set" && len(as) > 0):
		xs, err := p.exprs(as, pLambda)
		if err != nil {
			return "", 0, err
		}
		s := strings.Join(xs, ", ")
		switch h {
		case "list":
			return "[" + s + "]", pAtom, nil
		case "set":
			return "{" + s + "}", pAtom, nil
		}
		if len(xs) == 1 {
			s += ","
		}
		return "(" + s + ")", pAtom, nil
	case (h == "star" || h == "dstar") && len(as) == 1:
		s, err := p.expr(as[0], pBor)
		return map[string]string{"star": "*", "dstar": "**"}[h] + s, pAtom, err
	case h == "dict":
		var items []string
		for _, x := range p.kids(as) {
			switch {
			case head(x) == "pair" && len(x.List) == 3:
				xs, err := p.exprs(x.List[1:], pLambda)
				if err != nil {
					return "", 0, err
				}
				items = append(items, xs[0]+": "+xs[1])
			case head(x) == "dstar" && len(x.List) == 2:
				s, err := p.expr(x.List[1], pBor)
				if err != nil {
					return "", 0, err
				}
				items = append(items, "**"+s)
			default:
				return bad()
			}
		}
		return "{" + strings.Join(items, ", ") + "}", pAtom, nil
	case h == "listcomp" || h == "setcomp" || h == "dictcomp" || h == "gen":
		s, _, err := p.comp(n)
		if err != nil {
			return "", 0, err
		}
		open, close := map[string]string{"listcomp": "[", "setcomp": "{", "dictcomp": "{", "gen": "("}[h], map[string]string{"listcomp": "]", "setcomp": "}", "dictcomp": "}", "gen": ")"}[h]
		return open + s + close, pAtom, nil
	case h == ":=" && len(as) == 2:
		nm, err := p.name(as[0])
		if err != nil {
			return "", 0, err
		}
		v, err := p.expr(as[1], pLambda)
		return nm + " := " + v, pTuple, err
	case h == "await" && len(as) == 1:
		s, err := p.expr(as[0], pPrimary)
		return "await " + s, pAwait, err
	case h == "yield" && len(as) <= 1:
		if len(as) == 0 {
			return "yield", pTuple, nil
		}
		s, err := p.expr(as[0], pLambda)
		return "yield " + s, pTuple, err
	case h == "yieldfrom" && len(as) == 1:
		s, err := p.expr(as[0], pLambda)
		return "yield from " + s, pTuple, err
	case h == "strs" && len(as) >= 1:
		xs, err := p.exprs(as, pAtom)
		return strings.Join(xs, " "), pAtom, err
	case h == "fstr" && len(as) >= 1:
		s, err := p.fpieces(as)
		return s, pAtom, err
	}
	return bad()
}

func (p *printer) fpieces(as []*sexp.Node) (string, error) {
	var b strings.Builder
	for _, x := range p.kids(as) {
		if !x.IsList {
			s, ok := strings.CutPrefix(x.Atom, strPref)
			if !ok {
				return "", errAt(x, "bad f-string text")
			}
			u, err := frontend.Unescape(s)
			if err != nil {
				return "", err
			}
			b.WriteString(u)
			continue
		}
		if head(x) != "fmt" || len(x.List) < 2 {
			return "", errAt(x, "bad f-string piece")
		}
		e, err := p.expr(x.List[1], pIf)
		if err != nil {
			return "", err
		}
		rest, err := p.fpieces(x.List[2:])
		if err != nil {
			return "", err
		}
		if strings.HasPrefix(e, "{") {
			e = " " + e
		}
		b.WriteString("{" + e + rest + "}")
	}
	return b.String(), nil
}

func cmpText(op string) string {
	switch op {
	case "notin":
		return "not in"
	case "isnot":
		return "is not"
	}
	return op
}

// comp prints the inside of a comprehension's brackets.
func (p *printer) comp(n *sexp.Node) (string, int, error) {
	as := args(n)
	if len(as) < 2 {
		return "", 0, errAt(n, "comprehension without clauses")
	}
	var body string
	if head(n) == "dictcomp" {
		pair := p.kid(as[0])
		if head(pair) != "pair" || len(pair.List) != 3 {
			return "", 0, errAt(n, "dict comprehension without a pair")
		}
		xs, err := p.exprs(pair.List[1:], pLambda)
		if err != nil {
			return "", 0, err
		}
		body = xs[0] + ": " + xs[1]
	} else {
		s, err := p.expr(as[0], pLambda)
		if err != nil {
			return "", 0, err
		}
		body = s
	}
	parts := []string{body}
	for _, c := range p.kids(as[1:]) {
		switch {
		case (head(c) == "cfor" || head(c) == "acfor") && len(c.List) == 3:
			t, err := p.target(c.List[1])
			if err != nil {
				return "", 0, err
			}
			it, err := p.expr(c.List[2], pOr)
			if err != nil {
				return "", 0, err
			}
			kw := "for "
			if head(c) == "acfor" {
				kw = "async for "
			}
			parts = append(parts, kw+t+" in "+it)
		case head(c) == "cif" && len(c.List) == 2:
			s, err := p.expr(c.List[1], pOr)
			if err != nil {
				return "", 0, err
			}
			parts = append(parts, "if "+s)
		default:
			return "", 0, errAt(c, "bad comprehension clause")
		}
	}
	return strings.Join(parts, " "), pAtom, nil
}

// decodeTerm prints a whole program term.
func (p *printer) program(t *sexp.Node) error {
	if head(t) != "module" || len(t.List) != 2 {
		return errAt(t, "program is not (module BLOCK)")
	}
	b := t.List[1]
	if !b.IsList && b.Atom == nilAtom {
		return nil
	}
	return p.block(b, 0)
}
