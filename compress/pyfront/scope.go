package pyfront

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/atlas-ai/atlas-learn/compress/sexp"
)

// role is what an atom means where it stands.
type role int

const (
	roleLoad   role = iota // a variable read
	roleStore              // a variable written (assignment target, for target, as target)
	roleDel                // del target
	roleBind               // def or class name, except-as name
	roleParam              // parameter name
	roleImport             // name bound by import
	roleDecl               // name in global or nonlocal
	roleRaw                // not a variable: attribute, keyword, module, operator, literal text
	roleTail               // a statement list (the rest of a block)
	roleStmt               // a statement
	roleOther              // any other structural position
)

func (r role) String() string {
	return [...]string{"expression", "assignment target", "del target", "definition name", "parameter",
		"import name", "global/nonlocal name", "name or literal text", "statement tail", "statement", "structural"}[r]
}

type scopeKind int

const (
	scModule scopeKind = iota
	scFunc
	scLambda
	scComp
	scClass
)

type scope struct {
	kind      scopeKind
	gen       bool // a generator expression, run when iterated
	parent    *scope
	bound     map[string]bool
	params    map[string]bool
	imports   map[string]bool
	globals   map[string]bool
	nonlocals map[string]bool
	dynamic   bool
	children  []*scope
	occs      []int // indexes into analysis.occs of occurrences in this scope
	canon     map[string]string
}

func newScope(kind scopeKind, parent *scope) *scope {
	s := &scope{kind: kind, parent: parent, bound: map[string]bool{}, params: map[string]bool{},
		imports: map[string]bool{}, globals: map[string]bool{}, nonlocals: map[string]bool{}}
	if parent != nil {
		parent.children = append(parent.children, s)
	}
	return s
}

// occ is one name or hole occurrence.
type occ struct {
	n     *sexp.Node
	role  role
	sc    *scope
	lazy  bool
	loops int
	hole  int // hole index, or -1
	event int // index in analysis.events
}

type evKind int

const (
	evName evKind = iota
	evHole
	evCall // a call, await or yield: anything with effects
	evReturn
	evBreak // break or continue
	evYield
	evDecl // global or nonlocal
)

type event struct {
	kind  evKind
	lazy  bool
	loops int
	sc    *scope
	occ   int // for evName and evHole
}

// analysis is the result of walking a term.
type analysis struct {
	root    *scope
	occs    []occ
	events  []event
	kwNames map[string]bool
}

type wstate struct {
	sc    *scope
	lazy  bool
	loops int
}

type walker struct {
	a     *analysis
	depth int
}

func isHole(a string) (int, bool) {
	if len(a) < 2 || a[0] != '#' {
		return 0, false
	}
	k, err := strconv.Atoi(a[1:])
	return k, err == nil && k >= 0
}

// atomIsName tells identifier atoms from literals and holes.
func atomIsName(a string) bool {
	switch a {
	case "", "True", "False", "None", "...", nilAtom, emptyList, emptyDict, emptyTuple, "yield":
		return false
	}
	if strings.HasPrefix(a, strPref) || a[0] == '#' || a[0] == '$' {
		return false
	}
	if c := a[0]; c >= '0' && c <= '9' || c == '.' {
		return false
	}
	return true
}

func head(n *sexp.Node) string {
	if n.IsList && len(n.List) > 0 && !n.List[0].IsList {
		return n.List[0].Atom
	}
	return ""
}

func (w *walker) atom(n *sexp.Node, r role, st wstate) {
	a := n.Atom
	if k, ok := isHole(a); ok {
		w.a.occs = append(w.a.occs, occ{n: n, role: r, sc: st.sc, lazy: st.lazy, loops: st.loops, hole: k, event: len(w.a.events)})
		w.a.events = append(w.a.events, event{kind: evHole, lazy: st.lazy, loops: st.loops, sc: st.sc, occ: len(w.a.occs) - 1})
		return
	}
	if r == roleRaw || r >= roleTail || !atomIsName(a) {
		return
	}
	w.a.occs = append(w.a.occs, occ{n: n, role: r, sc: st.sc, lazy: st.lazy, loops: st.loops, hole: -1, event: len(w.a.events)})
	w.a.events = append(w.a.events, event{kind: evName, lazy: st.lazy, loops: st.loops, sc: st.sc, occ: len(w.a.occs) - 1})
	i := len(w.a.occs) - 1
	st.sc.occs = append(st.sc.occs, i)
	switch r {
	case roleStore, roleDel, roleBind:
		st.sc.bound[a] = true
	case roleParam:
		st.sc.bound[a] = true
		st.sc.params[a] = true
	case roleImport:
		st.sc.bound[a] = true
		st.sc.imports[a] = true
	}
}

func (w *walker) ev(k evKind, st wstate) {
	w.a.events = append(w.a.events, event{kind: k, lazy: st.lazy, loops: st.loops, sc: st.sc, occ: -1})
}

func errAt(n *sexp.Node, format string, args ...any) error {
	s := n.String()
	if len(s) > 60 {
		s = s[:60] + "..."
	}
	return fmt.Errorf("%s in %s", fmt.Sprintf(format, args...), s)
}

// args is the children of a list after its head (none for an atom).
func args(n *sexp.Node) []*sexp.Node {
	if !n.IsList || len(n.List) == 0 {
		return nil
	}
	return n.List[1:]
}

// analyze walks a term whose root plays role r (roleTail for a block,
// roleStmt, roleLoad for an expression, roleOther for a module).
func analyze(n *sexp.Node, r role) (*analysis, error) {
	a := &analysis{root: newScope(scModule, nil), kwNames: map[string]bool{}}
	w := &walker{a: a}
	st := wstate{sc: a.root}
	var err error
	switch r {
	case roleTail:
		err = w.block(n, st)
	case roleStmt:
		err = w.stmt(n, st)
	case roleOther:
		if head(n) != "module" || len(n.List) != 2 {
			return nil, errAt(n, "program is not (module BLOCK)")
		}
		err = w.block(n.List[1], st)
	default:
		err = w.expr(n, r, st)
	}
	return a, err
}

func (w *walker) block(n *sexp.Node, st wstate) error {
	for {
		if !n.IsList {
			if n.Atom == nilAtom {
				return nil
			}
			if _, ok := isHole(n.Atom); ok {
				w.atom(n, roleTail, st)
				return nil
			}
			return errAt(n, "expected a statement list")
		}
		if head(n) != seqHead || len(n.List) != 3 {
			return errAt(n, "expected a statement list")
		}
		if err := w.stmt(n.List[1], st); err != nil {
			return err
		}
		n = n.List[2]
	}
}

func (w *walker) stmt(n *sexp.Node, st wstate) error {
	w.depth++
	defer func() { w.depth-- }()
	if w.depth > 5000 {
		return errAt(n, "nesting too deep")
	}
	if !n.IsList {
		switch n.Atom {
		case "pass":
			return nil
		case "break", "continue":
			w.ev(evBreak, st)
			return nil
		case "return":
			w.ev(evReturn, st)
			return nil
		case "raise":
			w.ev(evCall, st)
			return nil
		}
		if _, ok := isHole(n.Atom); ok {
			w.atom(n, roleStmt, st)
			return nil
		}
		if n.Atom == nilAtom {
			return errAt(n, "expected a statement")
		}
		return w.expr(n, roleLoad, st)
	}
	h, as := head(n), args(n)
	need := func(lo, hi int) error {
		if len(as) < lo || (hi >= 0 && len(as) > hi) {
			return errAt(n, "%s with %d children", h, len(as))
		}
		return nil
	}
	lazy := st
	lazy.lazy = true
	switch {
	case h == "=":
		if err := need(2, -1); err != nil {
			return err
		}
		if err := w.expr(as[len(as)-1], roleLoad, st); err != nil {
			return err
		}
		for _, t := range as[:len(as)-1] {
			if err := w.expr(t, roleStore, st); err != nil {
				return err
			}
		}
		return nil
	case h == "ann":
		if err := need(2, 3); err != nil {
			return err
		}
		if len(as) == 3 {
			if err := w.expr(as[2], roleLoad, st); err != nil {
				return err
			}
		}
		if err := w.expr(as[1], roleLoad, st); err != nil {
			return err
		}
		return w.expr(as[0], roleStore, st)
	case isAugOp(h):
		if err := need(2, 2); err != nil {
			return err
		}
		if err := w.expr(as[0], roleLoad, st); err != nil {
			return err
		}
		if err := w.expr(as[1], roleLoad, st); err != nil {
			return err
		}
		if !as[0].IsList {
			w.atom(as[0], roleStore, st)
		}
		return nil
	case h == "return":
		if err := need(0, 1); err != nil {
			return err
		}
		if len(as) == 1 {
			if err := w.expr(as[0], roleLoad, st); err != nil {
				return err
			}
		}
		w.ev(evReturn, st)
		return nil
	case h == "if":
		if err := need(2, -1); err != nil {
			return err
		}
		if err := w.expr(as[0], roleLoad, st); err != nil {
			return err
		}
		if err := w.block(as[1], lazy); err != nil {
			return err
		}
		for _, c := range as[2:] {
			switch head(c) {
			case "elif":
				if len(c.List) != 3 {
					return errAt(c, "bad elif")
				}
				if err := w.expr(c.List[1], roleLoad, lazy); err != nil {
					return err
				}
				if err := w.block(c.List[2], lazy); err != nil {
					return err
				}
			case "else":
				if len(c.List) != 2 {
					return errAt(c, "bad else")
				}
				if err := w.block(c.List[1], lazy); err != nil {
					return err
				}
			default:
				return errAt(c, "expected elif or else")
			}
		}
		return nil
	case h == "for" || h == "afor":
		if err := need(3, 4); err != nil {
			return err
		}
		if h == "afor" {
			w.ev(evYield, st)
		}
		if err := w.expr(as[1], roleLoad, st); err != nil {
			return err
		}
		body := lazy
		body.loops++
		if err := w.expr(as[0], roleStore, body); err != nil {
			return err
		}
		if err := w.block(as[2], body); err != nil {
			return err
		}
		return w.elseClause(as[3:], lazy)
	case h == "while":
		if err := need(2, 3); err != nil {
			return err
		}
		body := lazy
		body.loops++
		if err := w.expr(as[0], roleLoad, body); err != nil {
			return err
		}
		if err := w.block(as[1], body); err != nil {
			return err
		}
		return w.elseClause(as[2:], lazy)
	case h == "try":
		if err := need(2, -1); err != nil {
			return err
		}
		if err := w.block(as[0], st); err != nil {
			return err
		}
		for _, c := range as[1:] {
			ch, cs := head(c), args(c)
			switch {
			case (ch == "except" || ch == "exceptstar") && len(cs) >= 1 && len(cs) <= 2:
				if len(cs) == 2 {
					e := cs[0]
					if head(e) == "as" && len(e.List) == 3 {
						if err := w.expr(e.List[1], roleLoad, lazy); err != nil {
							return err
						}
						if err := w.expr(e.List[2], roleStore, lazy); err != nil {
							return err
						}
					} else if err := w.expr(e, roleLoad, lazy); err != nil {
						return err
					}
				}
				if err := w.block(cs[len(cs)-1], lazy); err != nil {
					return err
				}
			case ch == "else" && len(cs) == 1:
				if err := w.block(cs[0], lazy); err != nil {
					return err
				}
			case ch == "finally" && len(cs) == 1:
				if err := w.block(cs[0], st); err != nil {
					return err
				}
			default:
				return errAt(c, "bad try clause")
			}
		}
		return nil
	case h == "with" || h == "awith":
		if err := need(2, 2); err != nil {
			return err
		}
		if head(as[0]) != "items" {
			return errAt(n, "with without items")
		}
		if h == "awith" {
			w.ev(evYield, st)
		}
		for _, it := range args(as[0]) {
			if head(it) == "as" && len(it.List) == 3 {
				if err := w.expr(it.List[1], roleLoad, st); err != nil {
					return err
				}
				w.ev(evCall, st)
				if err := w.expr(it.List[2], roleStore, st); err != nil {
					return err
				}
				continue
			}
			if err := w.expr(it, roleLoad, st); err != nil {
				return err
			}
			w.ev(evCall, st)
		}
		return w.block(as[1], st)
	case h == "def" || h == "adef":
		if err := need(3, 4); err != nil {
			return err
		}
		if len(as) == 4 {
			if err := w.expr(as[3], roleLoad, st); err != nil {
				return err
			}
		}
		inner, err := w.params(as[1], st, scFunc)
		if err != nil {
			return err
		}
		w.atomIn(as[0], roleBind, st)
		return w.block(as[2], inner)
	case h == "class":
		if err := need(2, 3); err != nil {
			return err
		}
		if len(as) == 3 {
			if err := w.argList(as[2], st); err != nil {
				return err
			}
			w.ev(evCall, st)
		}
		w.atomIn(as[0], roleBind, st)
		inner := wstate{sc: newScope(scClass, st.sc), lazy: st.lazy}
		return w.block(as[1], inner)
	case h == "decorated":
		if err := need(2, -1); err != nil {
			return err
		}
		for _, d := range as[:len(as)-1] {
			if err := w.expr(d, roleLoad, st); err != nil {
				return err
			}
		}
		if err := w.stmt(as[len(as)-1], st); err != nil {
			return err
		}
		w.ev(evCall, st)
		return nil
	case h == "import":
		for _, it := range as {
			if head(it) == "alias" && len(it.List) == 3 {
				w.atomIn(it.List[1], roleRaw, st)
				w.atomIn(it.List[2], roleImport, st)
				continue
			}
			if it.IsList {
				return errAt(it, "bad import")
			}
			first, _, _ := strings.Cut(it.Atom, ".")
			if _, ok := isHole(it.Atom); ok {
				w.atom(it, roleOther, st)
				continue
			}
			w.atom(&sexp.Node{Atom: first}, roleImport, st)
		}
		w.ev(evCall, st)
		return nil
	case h == "from":
		if err := need(2, -1); err != nil {
			return err
		}
		w.atomIn(as[0], roleRaw, st)
		for _, it := range as[1:] {
			switch {
			case head(it) == "alias" && len(it.List) == 3:
				w.atomIn(it.List[1], roleRaw, st)
				w.atomIn(it.List[2], roleImport, st)
			case !it.IsList && it.Atom == "*":
			case !it.IsList:
				w.atom(it, roleImport, st)
			default:
				return errAt(it, "bad import")
			}
		}
		w.ev(evCall, st)
		return nil
	case h == "global" || h == "nonlocal":
		for _, it := range as {
			if it.IsList {
				return errAt(it, "bad %s", h)
			}
			w.atom(it, roleDecl, st)
			if h == "global" {
				st.sc.globals[it.Atom] = true
			} else {
				st.sc.nonlocals[it.Atom] = true
			}
		}
		w.ev(evDecl, st)
		return nil
	case h == "del":
		for _, it := range as {
			if err := w.expr(it, roleDel, st); err != nil {
				return err
			}
		}
		return nil
	case h == "raise":
		if err := need(0, 2); err != nil {
			return err
		}
		for _, it := range as {
			if err := w.expr(it, roleLoad, st); err != nil {
				return err
			}
		}
		w.ev(evCall, st)
		return nil
	case h == "assert":
		if err := need(1, 2); err != nil {
			return err
		}
		if err := w.expr(as[0], roleLoad, st); err != nil {
			return err
		}
		if len(as) == 2 {
			if err := w.expr(as[1], roleLoad, lazy); err != nil {
				return err
			}
		}
		w.ev(evCall, st)
		return nil
	}
	if isExprHead(h) {
		return w.expr(n, roleLoad, st)
	}
	return errAt(n, "unknown statement %q", h)
}

// atomIn records a name in a position that must be an atom.
func (w *walker) atomIn(n *sexp.Node, r role, st wstate) {
	if n.IsList {
		return
	}
	w.atom(n, r, st)
}

func (w *walker) elseClause(rest []*sexp.Node, st wstate) error {
	if len(rest) == 0 {
		return nil
	}
	if head(rest[0]) != "else" || len(rest[0].List) != 2 {
		return errAt(rest[0], "expected else")
	}
	return w.block(rest[0].List[1], st)
}

// params walks a parameter list: defaults and annotations in the current
// scope, names in a new scope, which it returns (lazy: the body runs later).
func (w *walker) params(p *sexp.Node, st wstate, kind scopeKind) (wstate, error) {
	if !p.IsList && p.Atom == "params" {
		p = &sexp.Node{IsList: true, List: []*sexp.Node{{Atom: "params"}}}
	}
	if !p.IsList || head(p) != "params" {
		if !p.IsList {
			w.atom(p, roleOther, st)
		}
		return st, errAt(p, "expected params")
	}
	var names []*sexp.Node
	for _, it := range args(p) {
		if !it.IsList {
			if it.Atom != "*" && it.Atom != "/" {
				names = append(names, it)
			}
			continue
		}
		h, as := head(it), args(it)
		switch {
		case (h == "default" && len(as) == 2) || (h == "typeddef" && len(as) == 3):
			for _, x := range as[1:] {
				if err := w.expr(x, roleLoad, st); err != nil {
					return st, err
				}
			}
			names = append(names, as[0])
		case h == "typed" && len(as) == 2:
			if err := w.expr(as[1], roleLoad, st); err != nil {
				return st, err
			}
			names = append(names, as[0])
		case (h == "star" || h == "dstar") && len(as) == 1:
			names = append(names, it)
		default:
			return st, errAt(it, "bad parameter")
		}
	}
	inner := wstate{sc: newScope(kind, st.sc), lazy: true}
	for _, nm := range names {
		if (head(nm) == "star" || head(nm) == "dstar") && len(nm.List) == 2 {
			nm = nm.List[1]
		}
		if nm.IsList {
			return st, errAt(nm, "bad parameter name")
		}
		w.atomIn(nm, roleParam, inner)
	}
	return inner, nil
}

func (w *walker) argList(n *sexp.Node, st wstate) error {
	if !n.IsList && n.Atom == "args" {
		return nil
	}
	if !n.IsList {
		w.atom(n, roleOther, st)
		return nil
	}
	if head(n) == "gen" {
		return w.expr(n, roleLoad, st)
	}
	if head(n) != "args" {
		return errAt(n, "expected args")
	}
	for _, it := range args(n) {
		if head(it) == "kw" && len(it.List) == 3 {
			w.atomIn(it.List[1], roleRaw, st)
			if !it.List[1].IsList {
				w.a.kwNames[it.List[1].Atom] = true
			}
			if err := w.expr(it.List[2], roleLoad, st); err != nil {
				return err
			}
			continue
		}
		if err := w.expr(it, roleLoad, st); err != nil {
			return err
		}
	}
	return nil
}

func isAugOp(h string) bool {
	switch h {
	case "+=", "-=", "*=", "/=", "//=", "%=", "**=", "@=", "<<=", ">>=", "&=", "|=", "^=":
		return true
	}
	return false
}

func isBinOp(h string) bool {
	_, ok := binPrec(h)
	return ok
}

func isCmpOp(h string) bool {
	switch h {
	case "<", ">", "<=", ">=", "==", "!=", "<>", "in", "notin", "is", "isnot":
		return true
	}
	return false
}

func (w *walker) expr(n *sexp.Node, r role, st wstate) error {
	w.depth++
	defer func() { w.depth-- }()
	if w.depth > 5000 {
		return errAt(n, "nesting too deep")
	}
	if !n.IsList {
		if n.Atom == nilAtom {
			return errAt(n, "nil where an expression belongs")
		}
		if n.Atom == "yield" {
			w.ev(evYield, st)
			return nil
		}
		w.atom(n, r, st)
		return nil
	}
	h, as := head(n), args(n)
	lazy := st
	lazy.lazy = true
	loads := func(xs []*sexp.Node, s wstate) error {
		for _, x := range xs {
			if err := w.expr(x, roleLoad, s); err != nil {
				return err
			}
		}
		return nil
	}
	switch {
	case h == "and" || h == "or":
		if len(as) != 2 {
			return errAt(n, "%s needs 2 operands", h)
		}
		if err := w.expr(as[0], roleLoad, st); err != nil {
			return err
		}
		return w.expr(as[1], roleLoad, lazy)
	case isBinOp(h) || h == "not" || h == "~":
		if len(as) < 1 || len(as) > 2 || (len(as) == 1 && h != "-" && h != "+" && h != "~" && h != "not") {
			return errAt(n, "%s with %d operands", h, len(as))
		}
		return loads(as, st)
	case isCmpOp(h):
		if len(as) != 2 {
			return errAt(n, "%s needs 2 operands", h)
		}
		return loads(as, st)
	case h == "cmp":
		if len(as) < 5 || len(as)%2 == 0 {
			return errAt(n, "bad comparison chain")
		}
		for i, x := range as {
			if i%2 == 1 {
				if x.IsList || !isCmpOp(x.Atom) {
					return errAt(n, "bad comparison operator")
				}
				continue
			}
			s := st
			if i > 2 {
				s = lazy
			}
			if err := w.expr(x, roleLoad, s); err != nil {
				return err
			}
		}
		return nil
	case h == "call":
		if len(as) != 2 {
			return errAt(n, "call needs a function and args")
		}
		if err := w.expr(as[0], roleLoad, st); err != nil {
			return err
		}
		if err := w.argList(as[1], st); err != nil {
			return err
		}
		w.ev(evCall, st)
		return nil
	case h == "attr":
		if len(as) != 2 {
			return errAt(n, "attr needs 2 children")
		}
		if err := w.expr(as[0], roleLoad, st); err != nil {
			return err
		}
		w.atomIn(as[1], roleRaw, st)
		if as[1].IsList {
			return errAt(n, "attribute name must be an atom")
		}
		return nil
	case h == "sub":
		if len(as) < 2 {
			return errAt(n, "sub needs an index")
		}
		return loads(as, st)
	case h == "slice":
		if len(as) < 2 || len(as) > 3 {
			return errAt(n, "bad slice")
		}
		for _, x := range as {
			if !x.IsList && x.Atom == nilAtom {
				continue
			}
			if err := w.expr(x, roleLoad, st); err != nil {
				return err
			}
		}
		return nil
	case h == "ifexp":
		if len(as) != 3 {
			return errAt(n, "ifexp needs 3 children")
		}
		if err := w.expr(as[1], roleLoad, st); err != nil {
			return err
		}
		return loads([]*sexp.Node{as[0], as[2]}, lazy)
	case h == "lmb":
		if len(as) < 1 || len(as) > 2 {
			return errAt(n, "bad lambda")
		}
		p := &sexp.Node{IsList: true, List: []*sexp.Node{{Atom: "params"}}}
		if len(as) == 2 {
			p = as[1]
		}
		inner, err := w.params(p, st, scLambda)
		if err != nil {
			return err
		}
		return w.expr(as[0], roleLoad, inner)
	case h == "list" || h == "tuple":
		for _, x := range as {
			if err := w.expr(x, r, st); err != nil {
				return err
			}
		}
		return nil
	case h == "set":
		if len(as) == 0 {
			return errAt(n, "empty set display")
		}
		return loads(as, st)
	case h == "star" || h == "dstar":
		if len(as) != 1 {
			return errAt(n, "%s needs 1 child", h)
		}
		return w.expr(as[0], r, st)
	case h == "dict":
		for _, x := range as {
			switch {
			case head(x) == "pair" && len(x.List) == 3:
				if err := loads(x.List[1:], st); err != nil {
					return err
				}
			case head(x) == "dstar" && len(x.List) == 2:
				if err := w.expr(x.List[1], roleLoad, st); err != nil {
					return err
				}
			default:
				if !x.IsList {
					w.atom(x, roleOther, st)
					continue
				}
				return errAt(x, "bad dict item")
			}
		}
		return nil
	case h == "listcomp" || h == "setcomp" || h == "gen" || h == "dictcomp":
		return w.comprehension(n, st)
	case h == ":=":
		if len(as) != 2 || as[0].IsList {
			return errAt(n, "bad :=")
		}
		if err := w.expr(as[1], roleLoad, st); err != nil {
			return err
		}
		s := st
		for s.sc.kind == scComp && s.sc.parent != nil {
			s.sc = s.sc.parent
		}
		w.atom(as[0], roleStore, s)
		if st.sc != s.sc {
			// Record the use inside the comprehension too, so that the
			// name resolves outward there.
			st.sc.nonlocals[as[0].Atom] = true
		}
		return nil
	case h == "await" || h == "yield" || h == "yieldfrom":
		if len(as) > 1 || (h != "yield" && len(as) != 1) {
			return errAt(n, "bad %s", h)
		}
		if err := loads(as, st); err != nil {
			return err
		}
		w.ev(evYield, st)
		return nil
	case h == "strs":
		for _, x := range as {
			if !x.IsList {
				w.atomIn(x, roleRaw, st) // a literal: no hole can stand here
				continue
			}
			if head(x) != "fstr" {
				return errAt(x, "bad string piece")
			}
			if err := w.expr(x, roleLoad, st); err != nil {
				return err
			}
		}
		return nil
	case h == "fstr" || h == "fmt":
		for i, x := range as {
			switch {
			case h == "fmt" && i == 0:
				if err := w.expr(x, roleLoad, st); err != nil {
					return err
				}
			case x.IsList && head(x) == "fmt":
				if err := w.expr(x, roleLoad, st); err != nil {
					return err
				}
			case x.IsList:
				return errAt(x, "bad f-string piece")
			default:
				w.atomIn(x, roleRaw, st)
			}
		}
		return nil
	}
	return errAt(n, "unknown expression %q", h)
}

func (w *walker) comprehension(n *sexp.Node, st wstate) error {
	as := args(n)
	if len(as) < 2 || head(as[1]) != "cfor" && head(as[1]) != "acfor" || len(as[1].List) != 3 {
		return errAt(n, "comprehension without a for clause")
	}
	if err := w.expr(as[1].List[2], roleLoad, st); err != nil {
		return err
	}
	inner := wstate{sc: newScope(scComp, st.sc), lazy: true, loops: st.loops + 1}
	inner.sc.gen = head(n) == "gen"
	for i, c := range as[1:] {
		switch {
		case (head(c) == "cfor" || head(c) == "acfor") && len(c.List) == 3:
			if i > 0 {
				if err := w.expr(c.List[2], roleLoad, inner); err != nil {
					return err
				}
			}
			if err := w.expr(c.List[1], roleStore, inner); err != nil {
				return err
			}
		case head(c) == "cif" && len(c.List) == 2:
			if err := w.expr(c.List[1], roleLoad, inner); err != nil {
				return err
			}
		default:
			return errAt(c, "bad comprehension clause")
		}
	}
	if head(n) == "dictcomp" {
		if head(as[0]) != "pair" || len(as[0].List) != 3 {
			return errAt(n, "dict comprehension without a pair")
		}
		return w.expr(&sexp.Node{IsList: true, List: []*sexp.Node{{Atom: "tuple"}, as[0].List[1], as[0].List[2]}}, roleLoad, inner)
	}
	return w.expr(as[0], roleLoad, inner)
}

// resolves returns the function, lambda or comprehension scope whose
// variable name is, seen from scope s, or nil for a global or builtin.
func resolves(s *scope, name string) *scope {
	for t := s; t != nil; t = t.parent {
		if t != s && t.kind == scClass {
			continue
		}
		if t.globals[name] || t.kind == scModule {
			return nil
		}
		if t.nonlocals[name] {
			continue
		}
		if t.bound[name] {
			if t.kind == scClass {
				return nil
			}
			return t
		}
	}
	return nil
}

// canonicalize renames the locals of every function, lambda and
// comprehension to v<n>, in order of first appearance; see Encode.
func canonicalize(prog *sexp.Node) error {
	a, err := analyze(prog, roleOther)
	if err != nil {
		return err
	}
	// A function that uses the builtin locals, vars, eval or exec (not a
	// variable of that name) may read its locals by name: keep them.
	for _, o := range a.occs {
		switch name := o.n.Atom; {
		case o.role != roleLoad || (name != "locals" && name != "vars" && name != "eval" && name != "exec"):
		case resolves(o.sc, name) == nil:
			for s := o.sc; s != nil && s.kind != scModule; s = s.parent {
				s.dynamic = true
				if s.kind == scFunc || s.kind == scLambda {
					break
				}
			}
		}
	}
	renamable := func(s *scope, name string) bool {
		if s.kind == scModule || s.kind == scClass || s.dynamic {
			return false
		}
		if !s.bound[name] || s.imports[name] || s.globals[name] || s.nonlocals[name] {
			return false
		}
		return !(s.params[name] && a.kwNames[name])
	}
	// Function locals are v<n>; comprehension and lambda variables are
	// c<n>, numbered from 0 in the outermost comprehension or lambda, so
	// the same comprehension reads the same in every function.
	var number func(s *scope, vbase, cbase int)
	number = func(s *scope, vbase, cbase int) {
		if s.kind != scModule && s.kind != scClass {
			s.canon = map[string]string{}
			letter, next := "v", &vbase
			if s.kind == scComp || s.kind == scLambda {
				letter, next = "c", &cbase
			}
			for _, i := range s.occs {
				name := a.occs[i].n.Atom
				if _, done := s.canon[name]; !done && renamable(s, name) {
					s.canon[name] = letter + strconv.Itoa(*next)
					*next++
				}
			}
		}
		for _, c := range s.children {
			number(c, vbase, cbase)
		}
	}
	number(a.root, 0, 0)
	for _, o := range a.occs {
		if o.hole >= 0 || o.role == roleRaw {
			continue
		}
		name := o.n.Atom
		if o.role == roleDecl {
			if !o.sc.nonlocals[name] {
				continue
			}
		}
		s := o.sc
		if o.role == roleDecl {
			s = s.parent
		}
		for ; s != nil; s = s.parent {
			if s != o.sc && s.kind == scClass {
				continue
			}
			if s.globals[name] {
				break
			}
			if s.nonlocals[name] {
				continue
			}
			if s.bound[name] {
				if k, ok := s.canon[name]; ok {
					o.n.Atom = k
				}
				break
			}
		}
	}
	return nil
}
