package pyfront

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/atlas-ai/atlas-learn/compress/sexp"
)

type category int

const (
	catExpr category = iota
	catStmt
	catRun
)

// isStmtHead reports whether h heads a statement.
func isStmtHead(h string) bool {
	switch h {
	case "=", "ann", "return", "if", "for", "afor", "while", "try", "with", "awith", "def", "adef", "class",
		"decorated", "import", "from", "global", "nonlocal", "del", "raise", "assert":
		return true
	}
	return isAugOp(h)
}

// isExprHead reports whether h heads an expression (or a starred item).
func isExprHead(h string) bool {
	switch h {
	case "and", "or", "not", "cmp", "~", "call", "attr", "sub", "ifexp", "lmb", "list", "tuple", "set", "star",
		"dstar", "dict", "listcomp", "setcomp", "gen", "dictcomp", ":=", "await", "yield", "yieldfrom", "strs", "fstr":
		return true
	}
	_, bin := binPrec(h)
	return bin || isCmpOp(h)
}

// knownHead reports whether h is a head of the encoding (of any kind).
func knownHead(h string) bool {
	if isStmtHead(h) || isExprHead(h) {
		return true
	}
	switch h {
	case seqHead, "module", "elif", "else", "except", "exceptstar", "finally", "items", "as", "params", "default",
		"typed", "typeddef", "alias", "args", "kw", "slice", "pair", "cfor", "acfor", "cif", "fmt":
		return true
	}
	return false
}

// conceptInfo is what the printer knows about one concept.
type conceptInfo struct {
	c    Concept
	body *sexp.Node // with earlier concepts expanded
	cat  category
	err  error // why it cannot be a function; nil when it can
	tail int   // hole in statement-tail position, or -1
	// returns lists the variables bound on every path, in order.
	returns    []string
	endsReturn bool
	// bound holds every variable the body binds, in any scope of it.
	bound map[string]bool
	// topBound holds those bound in the body's own scope.
	topBound map[string]bool
	// freeReads holds the non-canonical names the body reads but does
	// not bind (globals and builtins, or locals of the code around it).
	freeReads map[string]bool
	holes     map[int]*holeFacts
	// holeSeq lists the hole occurrences in evaluation order.
	holeSeq []int
}

type holeFacts struct {
	count  int
	strict bool // every occurrence is evaluated exactly once when the body runs
	// deferred: some occurrence is inside a function, lambda or generator
	// expression of the body, which may run after the body has finished.
	deferred   bool
	callBefore bool // some call may run before an occurrence
}

type library struct {
	byName map[string]*conceptInfo
	order  []*conceptInfo
}

// newLibrary analyses lib in order; a body may apply earlier concepts,
// which are expanded. With opaque, applications of unknown names are taken
// for calls of functions of those names.
func newLibrary(lib []Concept, opaque bool) (*library, error) {
	l := &library{byName: map[string]*conceptInfo{}}
	for _, c := range lib {
		if !plainIdent(c.Name) || isKeyword(c.Name) || knownHead(c.Name) || isCanon(c.Name) {
			return nil, fmt.Errorf("concept name %q is not usable as a Python function name", c.Name)
		}
		if _, dup := l.byName[c.Name]; dup {
			return nil, fmt.Errorf("concept %s defined twice", c.Name)
		}
		if c.Arity < 0 {
			return nil, fmt.Errorf("concept %s: negative arity", c.Name)
		}
		t, err := sexp.Parse(c.Body)
		if err != nil {
			return nil, fmt.Errorf("concept %s: %w", c.Name, err)
		}
		t = flattenApps(t)
		if err := checkAtoms(t, c.Arity); err != nil {
			return nil, fmt.Errorf("concept %s: %w", c.Name, err)
		}
		body, err := l.expand(t, true)
		if err != nil {
			return nil, fmt.Errorf("concept %s: %w", c.Name, err)
		}
		var unknown []string
		if opaque {
			body, unknown = opaqueCalls(body)
		}
		info := &conceptInfo{c: c, body: body, tail: -1}
		if p := l.partial(body); p != "" {
			info.err = fmt.Errorf("concept %s cannot be a Python function: it applies %s to fewer arguments than it takes", c.Name, p)
		} else if err := info.analyze(); err != nil {
			info.err = fmt.Errorf("concept %s cannot be a Python function: %w", c.Name, err)
			if len(unknown) > 0 {
				info.err = fmt.Errorf("concept %s applies %s, which is not given: print it with ConceptToPythonLib", c.Name, strings.Join(unknown, ", "))
			}
		}
		l.byName[c.Name] = info
		l.order = append(l.order, info)
	}
	return l, nil
}

// checkAtoms rejects lambda-calculus constructs the encoding never makes
// and holes beyond the arity.
func checkAtoms(t *sexp.Node, arity int) error {
	return t.Walk(func(n *sexp.Node) error {
		if n.IsList {
			if len(n.List) == 0 {
				return fmt.Errorf("empty list")
			}
			return nil
		}
		a := n.Atom
		if a == "lam" || a == "lambda" || strings.HasPrefix(a, "$") {
			return fmt.Errorf("lambda abstraction or variable %q is not Python", a)
		}
		if strings.HasPrefix(a, "#") {
			k, ok := isHole(a)
			if !ok || k >= arity {
				return fmt.Errorf("hole %s outside arity %d", a, arity)
			}
		}
		return nil
	})
}

// opaqueCalls turns applications (NAME a...) of unknown heads into calls
// NAME(a, ...), for printing a concept on its own, and lists those names.
func opaqueCalls(t *sexp.Node) (*sexp.Node, []string) {
	var names []string
	var walk func(t *sexp.Node) *sexp.Node
	walk = func(t *sexp.Node) *sexp.Node {
		if !t.IsList {
			return t
		}
		out := &sexp.Node{IsList: true, List: make([]*sexp.Node, len(t.List))}
		for i, c := range t.List {
			if i == 0 {
				out.List[0] = c
				continue
			}
			out.List[i] = walk(c)
		}
		if h := head(t); h != "" && !knownHead(h) && plainIdent(h) && !isKeyword(h) {
			if !slices.Contains(names, h) {
				names = append(names, h)
			}
			return &sexp.Node{IsList: true, List: []*sexp.Node{{Atom: "call"}, {Atom: h},
				{IsList: true, List: append([]*sexp.Node{{Atom: "args"}}, out.List[1:]...)}}}
		}
		return out
	}
	return walk(t), names
}

// partial names a concept applied in t to fewer arguments than its arity.
func (l *library) partial(t *sexp.Node) string {
	if c, as, ok := l.appOf(t); ok && len(as) < c.c.Arity {
		return c.c.Name
	}
	if t.IsList {
		for _, x := range t.List {
			if p := l.partial(x); p != "" {
				return p
			}
		}
	}
	return ""
}

// appOf reports whether n applies a library concept, and its arguments.
func (l *library) appOf(n *sexp.Node) (*conceptInfo, []*sexp.Node, bool) {
	if l == nil {
		return nil, nil, false
	}
	if !n.IsList {
		c, ok := l.byName[n.Atom]
		return c, nil, ok
	}
	if h := head(n); h != "" {
		if c, ok := l.byName[h]; ok {
			return c, n.List[1:], true
		}
	}
	return nil, nil, false
}

// expand inlines every application of a library concept in t. A concept
// applied to fewer arguments than its arity is an error, unless lenient,
// when it is left as it is: a body may apply an earlier concept partially,
// the rest of its arguments coming where the body is applied to more
// arguments than its own arity.
func (l *library) expand(t *sexp.Node, lenient bool) (*sexp.Node, error) {
	return l.expandN(t, 0, lenient)
}

func (l *library) expandN(t *sexp.Node, nest int, lenient bool) (*sexp.Node, error) {
	if c, as, ok := l.appOf(t); ok {
		if len(as) < c.c.Arity {
			if !lenient {
				return nil, fmt.Errorf("%s applied to %d arguments, needs %d", c.c.Name, len(as), c.c.Arity)
			}
			if !t.IsList {
				return t, nil
			}
		} else {
			if nest >= 64 {
				return nil, fmt.Errorf("concepts nested more than 64 deep")
			}
			eas := make([]*sexp.Node, len(as))
			for i, a := range as {
				e, err := l.expandN(a, nest, lenient)
				if err != nil {
					return nil, err
				}
				eas[i] = e
			}
			r, err := substitute(c.body, eas[:c.c.Arity], eas[c.c.Arity:])
			if err != nil {
				return nil, err
			}
			return l.expandN(r, nest+1, lenient)
		}
	}
	if !t.IsList {
		return t, nil
	}
	out := &sexp.Node{IsList: true, List: make([]*sexp.Node, len(t.List))}
	for i, c := range t.List {
		e, err := l.expandN(c, nest, lenient)
		if err != nil {
			return nil, err
		}
		out.List[i] = e
	}
	return out, nil
}

// substitute copies body with hole k replaced by args[k], then appends
// extra arguments (Stitch terms are curried: (f a b) applied to c is
// (f a b c)).
func substitute(body *sexp.Node, as, extra []*sexp.Node) (*sexp.Node, error) {
	var sub func(n *sexp.Node) *sexp.Node
	sub = func(n *sexp.Node) *sexp.Node {
		if !n.IsList {
			if k, ok := isHole(n.Atom); ok && k < len(as) {
				return as[k]
			}
			return n
		}
		out := &sexp.Node{IsList: true, List: make([]*sexp.Node, len(n.List))}
		for i, c := range n.List {
			out.List[i] = sub(c)
		}
		return spliceHead(out)
	}
	r := sub(body)
	if len(extra) == 0 {
		return r, nil
	}
	if !r.IsList {
		return &sexp.Node{IsList: true, List: append([]*sexp.Node{r}, extra...)}, nil
	}
	return &sexp.Node{IsList: true, List: append(append([]*sexp.Node{}, r.List...), extra...)}, nil
}

// spliceHead rewrites ((h a) b) as (h a b): the same curried application.
func spliceHead(n *sexp.Node) *sexp.Node {
	for n.IsList && len(n.List) > 0 && n.List[0].IsList {
		n = &sexp.Node{IsList: true, List: append(append([]*sexp.Node{}, n.List[0].List...), n.List[1:]...)}
	}
	return n
}

// flattenApps applies spliceHead throughout t.
func flattenApps(t *sexp.Node) *sexp.Node {
	if !t.IsList {
		return t
	}
	out := &sexp.Node{IsList: true, List: make([]*sexp.Node, len(t.List))}
	for i, c := range t.List {
		out.List[i] = flattenApps(c)
	}
	return spliceHead(out)
}

// analyze fills in the concept's category and facts, or says why it cannot
// be a function.
func (c *conceptInfo) analyze() error {
	b := c.body
	var r role
	switch {
	case head(b) == seqHead:
		c.cat, r = catRun, roleTail
	case (!b.IsList && (b.Atom == "pass" || b.Atom == "break" || b.Atom == "continue" || b.Atom == "return" || b.Atom == "raise")) || isStmtHead(head(b)):
		c.cat, r = catStmt, roleStmt
	case head(b) == "star" || head(b) == "dstar":
		return fmt.Errorf("body is a starred item, not a whole expression")
	case isExprHead(head(b)) || (!b.IsList && atomIsName(b.Atom)) || (!b.IsList && b.Atom != nilAtom && !strings.HasPrefix(b.Atom, "#")):
		c.cat, r = catExpr, roleLoad
	case !b.IsList:
		return fmt.Errorf("body %s is not an expression or statement", b.Atom)
	default:
		return fmt.Errorf("body is a fragment of a %q, not a whole expression or statement", head(b))
	}
	a, err := analyze(b, r)
	if err != nil {
		return err
	}
	root := a.root
	// The spine of a run: its statements, and what ends it.
	var spine []*sexp.Node
	if c.cat == catRun {
		n := b
		for head(n) == seqHead && len(n.List) == 3 {
			spine = append(spine, n.List[1])
			n = n.List[2]
		}
		if !n.IsList {
			if k, ok := isHole(n.Atom); ok {
				c.tail = k
			}
		}
	} else if c.cat == catStmt {
		spine = []*sexp.Node{b}
	}
	// Holes.
	c.holes = map[int]*holeFacts{}
	calls := false
	for _, e := range a.events {
		inRoot := inRegion(e.sc, root)
		switch e.kind {
		case evCall:
			if inRoot {
				calls = true
			}
		case evYield:
			if inRoot {
				return fmt.Errorf("contains yield or await")
			}
		case evDecl:
			return fmt.Errorf("contains global or nonlocal")
		case evBreak:
			if inRoot && e.loops == 0 {
				return fmt.Errorf("break or continue outside a loop of its own")
			}
		case evReturn:
			if inRoot {
				if c.cat == catExpr || len(spine) == 0 || head(spine[len(spine)-1]) != "return" || c.endsReturn {
					return fmt.Errorf("return other than as its last statement")
				}
				c.endsReturn = true
			}
		case evHole:
			o := a.occs[e.occ]
			k := o.hole
			if o.role == roleTail && k == c.tail && c.cat == catRun {
				continue
			}
			if o.role != roleLoad {
				return fmt.Errorf("hole #%d in %s position", k, o.role)
			}
			if k == c.tail {
				return fmt.Errorf("hole #%d is both the statement tail and a value", k)
			}
			h := c.holes[k]
			if h == nil {
				h = &holeFacts{strict: true}
				c.holes[k] = h
			}
			h.count++
			if o.lazy || o.loops > 0 || !inRoot {
				h.strict = false
			}
			if deferred(o.sc, root) {
				h.deferred = true
			}
			if calls {
				h.callBefore = true
			}
			c.holeSeq = append(c.holeSeq, k)
		}
	}
	// Names.
	c.bound, c.topBound, c.freeReads = map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, o := range a.occs {
		if o.hole >= 0 {
			continue
		}
		switch o.role {
		case roleStore, roleDel, roleBind, roleParam, roleImport:
			c.bound[o.n.Atom] = true
			if o.sc == root {
				c.topBound[o.n.Atom] = true
			}
		}
	}
	if c.cat == catExpr && len(c.topBound) > 0 {
		return fmt.Errorf("binds %s with :=", sortedKeys(c.topBound)[0])
	}
	stored := map[string]bool{}
	for _, o := range a.occs {
		if o.hole >= 0 {
			continue
		}
		name := o.n.Atom
		if o.role != roleLoad {
			if o.sc == root {
				stored[name] = true
			}
			continue
		}
		if boundBetween(o.sc, root, name) {
			continue
		}
		if c.topBound[name] {
			if o.sc == root && !stored[name] {
				return fmt.Errorf("reads %s before binding it", name)
			}
			continue
		}
		if isCanon(name) {
			return fmt.Errorf("reads %s, a local variable of the code around it (it should be a hole)", name)
		}
		c.freeReads[name] = true
	}
	if c.cat != catExpr && !c.endsReturn {
		c.returns = definite(spine, c.topBound)
	}
	return nil
}

// inRegion reports whether scope s runs when the body runs: s is root or a
// comprehension or class inside it, not a function or lambda.
func inRegion(s, root *scope) bool {
	for ; s != nil; s = s.parent {
		if s == root {
			return true
		}
		if s.kind == scFunc || s.kind == scLambda {
			return false
		}
	}
	return false
}

// deferred reports whether code in scope s may run after the body (root)
// has finished: s is inside a function, lambda or generator expression.
func deferred(s, root *scope) bool {
	for ; s != nil && s != root; s = s.parent {
		if s.kind == scFunc || s.kind == scLambda || s.gen {
			return true
		}
	}
	return false
}

// boundBetween reports whether a scope from s up to (not including) root
// binds name.
func boundBetween(s, root *scope, name string) bool {
	for ; s != nil && s != root; s = s.parent {
		if s.bound[name] && !s.nonlocals[name] && !s.globals[name] {
			return true
		}
	}
	return false
}

// definite lists, in order, the variables that the spine's top-level
// statements bind on every path that completes.
func definite(spine []*sexp.Node, bound map[string]bool) []string {
	var out []string
	seen := map[string]bool{}
	add := func(n *sexp.Node) {
		if !n.IsList && bound[n.Atom] && !seen[n.Atom] {
			seen[n.Atom] = true
			out = append(out, n.Atom)
		}
	}
	var targets func(t *sexp.Node)
	targets = func(t *sexp.Node) {
		switch h := head(t); {
		case !t.IsList:
			add(t)
		case h == "tuple" || h == "list":
			for _, x := range args(t) {
				targets(x)
			}
		case h == "star" && len(t.List) == 2:
			targets(t.List[1])
		}
	}
	for _, s := range spine {
		h, as := head(s), args(s)
		switch {
		case h == "=" && len(as) >= 2:
			for _, t := range as[:len(as)-1] {
				targets(t)
			}
		case h == "ann" && len(as) == 3:
			targets(as[0])
		case isAugOp(h) && len(as) == 2:
			targets(as[0])
		case h == "def" || h == "adef" || h == "class":
			add(as[0])
		case h == "decorated" && len(as) > 0:
			if last := as[len(as)-1]; len(last.List) > 1 {
				add(last.List[1])
			}
		case h == "import" || h == "from":
			for _, it := range as {
				if head(it) == "alias" && len(it.List) == 3 {
					add(it.List[2])
				} else if !it.IsList && h == "import" {
					first, _, _ := strings.Cut(it.Atom, ".")
					add(&sexp.Node{Atom: first})
				} else if h == "from" {
					add(it)
				}
			}
		case h == "del":
			var drop func(t *sexp.Node)
			drop = func(t *sexp.Node) {
				if !t.IsList && seen[t.Atom] {
					seen[t.Atom] = false
					for i, x := range out {
						if x == t.Atom {
							out = append(out[:i], out[i+1:]...)
							break
						}
					}
				}
				if h := head(t); h == "tuple" || h == "list" {
					for _, x := range args(t) {
						drop(x)
					}
				}
			}
			for _, x := range as {
				drop(x)
			}
		}
	}
	return out
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// collides reports whether name occurs as an identifier in any term.
func collides(name string, terms []*sexp.Node) bool {
	names := map[string]bool{}
	for _, t := range terms {
		collectNames(t, names)
	}
	return names[name]
}

// paramNames lists the parameters: every hole but the tail, by index.
func (c *conceptInfo) paramList(prefix string) (map[int]string, []string) {
	m := map[int]string{}
	var list []string
	for k := 0; k < c.c.Arity; k++ {
		if k == c.tail {
			continue
		}
		s := fmt.Sprintf("%s%d", prefix, k)
		m[k] = s
		list = append(list, s)
	}
	return m, list
}

// function prints the concept as a Python function definition.
func (c *conceptInfo) function(local, clocal, params string) (string, error) {
	if c.err != nil {
		return "", c.err
	}
	holes, list := c.paramList(params)
	p := &printer{local: local, clocal: clocal, holes: holes}
	p.line(0, "def "+c.c.Name+"("+strings.Join(list, ", ")+"):")
	switch c.cat {
	case catExpr:
		s, err := p.expr(c.body, pLambda)
		if err != nil {
			return "", fmt.Errorf("concept %s: %w", c.c.Name, err)
		}
		p.line(1, "return "+s)
	default:
		body := c.body
		if c.cat == catStmt {
			body = &sexp.Node{IsList: true, List: []*sexp.Node{{Atom: seqHead}, body, {Atom: nilAtom}}}
		}
		if c.tail >= 0 {
			body = cutTail(body)
		}
		if err := p.block(body, 1); err != nil {
			return "", fmt.Errorf("concept %s: %w", c.c.Name, err)
		}
		if len(c.returns) > 0 {
			names, err := c.returnNames(p)
			if err != nil {
				return "", err
			}
			p.line(1, "return "+names)
		}
	}
	return p.b.String(), nil
}

func (c *conceptInfo) returnNames(p *printer) (string, error) {
	var out []string
	for _, r := range c.returns {
		s, err := p.name(&sexp.Node{Atom: r})
		if err != nil {
			return "", err
		}
		out = append(out, s)
	}
	return strings.Join(out, ", "), nil
}

// cutTail copies a run with its tail hole replaced by nil.
func cutTail(n *sexp.Node) *sexp.Node {
	if head(n) != seqHead || len(n.List) != 3 {
		return &sexp.Node{Atom: nilAtom}
	}
	return &sexp.Node{IsList: true, List: []*sexp.Node{n.List[0], n.List[1], cutTail(n.List[2])}}
}
