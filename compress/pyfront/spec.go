package pyfront

import (
	"fmt"
	"strings"

	sitter "github.com/smacker/go-tree-sitter"
	"github.com/smacker/go-tree-sitter/python"

	"github.com/atlas-ai/atlas-learn/compress/frontend"
	"github.com/atlas-ai/atlas-learn/compress/sexp"
)

// Atoms with fixed meaning in the encoding.
const (
	seqHead = "seq"
	nilAtom = "nil"
	strPref = "s:" // string literal atoms: s: + escaped source text
	idPref  = "i:" // escaped identifiers (lam, nil, v<n>, c<n>, non-ASCII)

	// Empty displays: Stitch reads (list) as the atom list, which would be
	// the builtin's name, so [] {} () get atoms no name can be.
	emptyList  = "[]"
	emptyDict  = "{}"
	emptyTuple = "tuple:"
)

// isCanon reports whether s is a canonical local name: v<n> for function
// locals, c<n> for comprehension and lambda variables.
func isCanon(s string) bool {
	if len(s) < 2 || (s[0] != 'v' && s[0] != 'c') {
		return false
	}
	for i := 1; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// newSpec is the Python mapping table. It is built per call so that no
// package state is shared or mutable.
func newSpec() *frontend.Spec {
	node := func(h string) frontend.Rule { return frontend.Rule{Mode: frontend.Children, Head: h} }
	// empty is a node whose childless form is the atom e (see
	// frontend.Rule.Empty): args, params, return, raise and yield stand
	// where no name can; empty displays get atoms no name can be.
	empty := func(h, e string) frontend.Rule {
		return frontend.Rule{Mode: frontend.Children, Head: h, Empty: e}
	}
	cnst := func(h string) frontend.Rule { return frontend.Rule{Mode: frontend.Const, Head: h} }
	leaf := frontend.Rule{Mode: frontend.Leaf}
	unwrap := frontend.Rule{Mode: frontend.Unwrap}
	op := frontend.Rule{Mode: frontend.Op, Field: "operator"}
	async := func(r frontend.Rule, h string) frontend.Rule {
		r.Variants = map[string]string{"async": h}
		return r
	}
	rules := map[string]frontend.Rule{
		"comment":           {Mode: frontend.Drop},
		"line_continuation": {Mode: frontend.Drop},
		"module":            {Mode: frontend.Seq, Head: "module"},
		"block":             {Mode: frontend.Seq, NonEmpty: true},

		// Statements.
		"expression_statement":     {Mode: frontend.Custom, Custom: exprStatement},
		"assignment":               {Mode: frontend.Custom, Custom: assignment},
		"augmented_assignment":     op,
		"return_statement":         empty("return", "return"),
		"pass_statement":           cnst("pass"),
		"break_statement":          cnst("break"),
		"continue_statement":       cnst("continue"),
		"if_statement":             node("if"),
		"elif_clause":              node("elif"),
		"else_clause":              node("else"),
		"for_statement":            async(node("for"), "afor"),
		"while_statement":          node("while"),
		"try_statement":            node("try"),
		"except_clause":            node("except"),
		"except_group_clause":      node("exceptstar"),
		"finally_clause":           node("finally"),
		"with_statement":           async(node("with"), "awith"),
		"with_clause":              node("items"),
		"with_item":                unwrap,
		"as_pattern":               node("as"),
		"as_pattern_target":        unwrap,
		"function_definition":      async(frontend.Rule{Mode: frontend.Fields, Head: "def", Fields: []string{"name", "parameters", "body", "return_type?"}}, "adef"),
		"parameters":               empty("params", "params"),
		"lambda_parameters":        empty("params", "params"),
		"default_parameter":        node("default"),
		"typed_parameter":          node("typed"),
		"typed_default_parameter":  node("typeddef"),
		"list_splat_pattern":       node("star"),
		"dictionary_splat_pattern": node("dstar"),
		"keyword_separator":        cnst("*"),
		"positional_separator":     cnst("/"),
		"type":                     unwrap,
		"generic_type":             {Mode: frontend.Custom, Custom: genericType},
		"union_type":               {Mode: frontend.Custom, Custom: unionType},
		"class_definition":         {Mode: frontend.Fields, Head: "class", Fields: []string{"name", "body", "superclasses?"}},
		"decorated_definition":     node("decorated"),
		"decorator":                unwrap,
		"import_statement":         node("import"),
		"import_from_statement":    node("from"),
		"future_import_statement":  {Mode: frontend.Custom, Custom: futureImport},
		"aliased_import":           node("alias"),
		"dotted_name":              leaf,
		"relative_import":          leaf,
		"wildcard_import":          cnst("*"),
		"global_statement":         node("global"),
		"nonlocal_statement":       node("nonlocal"),
		"delete_statement":         node("del"),
		"raise_statement":          empty("raise", "raise"),
		"assert_statement":         node("assert"),

		// Expressions.
		"identifier":               leaf,
		"integer":                  leaf,
		"float":                    leaf,
		"true":                     cnst("True"),
		"false":                    cnst("False"),
		"none":                     cnst("None"),
		"ellipsis":                 cnst("..."),
		"string":                   {Mode: frontend.Custom, Custom: stringLit},
		"concatenated_string":      node("strs"),
		"call":                     node("call"),
		"argument_list":            empty("args", "args"),
		"keyword_argument":         node("kw"),
		"list_splat":               node("star"),
		"dictionary_splat":         node("dstar"),
		"attribute":                node("attr"),
		"subscript":                node("sub"),
		"slice":                    {Mode: frontend.Split, Head: "slice", Sep: ":"},
		"binary_operator":          op,
		"unary_operator":           op,
		"boolean_operator":         op,
		"not_operator":             node("not"),
		"comparison_operator":      {Mode: frontend.Custom, Custom: comparison},
		"conditional_expression":   node("ifexp"),
		"lambda":                   {Mode: frontend.Fields, Head: "lmb", Fields: []string{"body", "parameters?"}},
		"list":                     empty("list", emptyList),
		"tuple":                    empty("tuple", emptyTuple),
		"set":                      node("set"),
		"dictionary":               empty("dict", emptyDict),
		"pair":                     node("pair"),
		"list_comprehension":       node("listcomp"),
		"set_comprehension":        node("setcomp"),
		"dictionary_comprehension": node("dictcomp"),
		"generator_expression":     node("gen"),
		"for_in_clause":            async(node("cfor"), "acfor"),
		"if_clause":                node("cif"),
		"parenthesized_expression": unwrap,
		"named_expression":         node(":="),
		"await":                    node("await"),
		"yield":                    {Mode: frontend.Children, Head: "yield", Empty: "yield", Variants: map[string]string{"from": "yieldfrom"}},
		"expression_list":          node("tuple"),
		"pattern_list":             node("tuple"),
		"tuple_pattern":            node("tuple"),
		"list_pattern":             empty("list", emptyList),
		"parenthesized_list_splat": unwrap,
	}
	return &frontend.Spec{
		Name:     "python",
		Language: python.GetLanguage(),
		Rules:    rules,
		Leaf:     leafAtom,
		SeqHead:  seqHead,
		Nil:      nilAtom,
	}
}

// leafAtom encodes identifiers, numbers and dotted names.
func leafAtom(kind, text string) (string, error) {
	switch kind {
	case "identifier":
		if isKeyword(text) {
			return "", fmt.Errorf("syntax error: keyword %q used as a name", text)
		}
		return identAtom(text), nil
	case "dotted_name", "relative_import":
		if strings.ContainsAny(text, " \t\r\n\\") {
			text = strings.Join(strings.Fields(strings.ReplaceAll(text, "\\", " ")), "")
		}
		return frontend.Escape(text), nil
	case "integer", "float":
		return text, nil
	}
	return "", fmt.Errorf("no leaf encoding for %s", kind)
}

// identAtom encodes a name that is not a canonical local.
func identAtom(s string) string {
	if s == "lam" || s == "lambda" || s == nilAtom || isCanon(s) || !plainIdent(s) {
		return idPref + frontend.Escape(s)
	}
	return s
}

func plainIdent(s string) bool {
	if s == "" || (s[0] >= '0' && s[0] <= '9') {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// exprStatement encodes an expression statement as the expression itself
// (statement heads and expression heads are disjoint), so that the same
// call reads the same as a statement and inside an expression; a, b as a
// statement is the tuple.
func exprStatement(w *frontend.Walker, n *sitter.Node) (*sexp.Node, error) {
	kids := w.Named(n)
	if len(kids) == 1 {
		return w.Node(kids[0])
	}
	es, err := w.Nodes(kids)
	if err != nil {
		return nil, err
	}
	return frontend.List(append([]*sexp.Node{frontend.Atom("tuple")}, es...)...), nil
}

func assignment(w *frontend.Walker, n *sitter.Node) (*sexp.Node, error) {
	if n.ChildByFieldName("type") != nil {
		return fieldsVia(w, n, "ann", []string{"left", "type", "right"})
	}
	// A chain a = b = v is one statement (= a b v): targets, then value.
	out := []*sexp.Node{frontend.Atom("=")}
	for {
		l, r := n.ChildByFieldName("left"), n.ChildByFieldName("right")
		if l == nil || r == nil {
			return nil, fmt.Errorf("python %s: assignment without both sides", frontend.Pos(n))
		}
		lt, err := w.Node(l)
		if err != nil {
			return nil, err
		}
		out = append(out, lt)
		if r.Type() != "assignment" || r.ChildByFieldName("type") != nil {
			rt, err := w.Node(r)
			if err != nil {
				return nil, err
			}
			return frontend.List(append(out, rt)...), nil
		}
		n = r
	}
}

// fieldsVia encodes the listed fields of n (trailing absent ones omitted).
func fieldsVia(w *frontend.Walker, n *sitter.Node, head string, fields []string) (*sexp.Node, error) {
	out := []*sexp.Node{frontend.Atom(head)}
	for i, f := range fields {
		c := n.ChildByFieldName(f)
		if c == nil {
			if i < 2 {
				return nil, fmt.Errorf("python %s: %s has no %s", frontend.Pos(n), n.Type(), f)
			}
			break
		}
		t, err := w.Node(c)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return frontend.List(out...), nil
}

func futureImport(w *frontend.Walker, n *sitter.Node) (*sexp.Node, error) {
	kids, err := w.Nodes(w.Named(n))
	if err != nil {
		return nil, err
	}
	return frontend.List(append([]*sexp.Node{frontend.Atom("from"), frontend.Atom("__future__")}, kids...)...), nil
}

// comparison encodes a < b as (< a b) and a chain a < b <= c as
// (cmp a < b <= c). "not in" and "is not" become notin and isnot.
func comparison(w *frontend.Walker, n *sitter.Node) (*sexp.Node, error) {
	var items []*sexp.Node
	var ops []string
	for i := 0; i < int(n.ChildCount()); i++ {
		c := n.Child(i)
		if r, ok := w.Spec().Rules[c.Type()]; ok && r.Mode == frontend.Drop {
			continue
		}
		if !c.IsNamed() {
			ops = append(ops, strings.ReplaceAll(c.Type(), " ", ""))
			items = append(items, frontend.Atom(ops[len(ops)-1]))
			continue
		}
		t, err := w.Node(c)
		if err != nil {
			return nil, err
		}
		items = append(items, t)
	}
	if len(ops) == 1 && len(items) == 3 {
		return frontend.List(frontend.Atom(ops[0]), items[0], items[2]), nil
	}
	return frontend.List(append([]*sexp.Node{frontend.Atom("cmp")}, items...)...), nil
}

// stringLit encodes a string without interpolations as the atom s:ESC where
// ESC is its escaped source text (prefix and quotes included). An f-string
// with interpolations becomes (fstr piece...), the pieces being literal text
// atoms and (fmt EXPR piece...) for each {EXPR...}, where the trailing
// pieces hold the conversion and format specification text with nested
// {EXPR} again as (fmt EXPR).
func stringLit(w *frontend.Walker, n *sitter.Node) (*sexp.Node, error) {
	var interps []*sitter.Node
	for i := 0; i < int(n.NamedChildCount()); i++ {
		if c := n.NamedChild(i); c.Type() == "interpolation" {
			interps = append(interps, c)
		}
	}
	// The literal text, outside interpolations, decides whether the
	// quotes can be swapped (a newline inside {...} does not matter).
	var lit strings.Builder
	at := n.StartByte()
	for _, in := range interps {
		lit.Write(w.Source()[at:in.StartByte()])
		at = in.EndByte()
	}
	lit.Write(w.Source()[at:n.EndByte()])
	swap := singleQuotable(lit.String()) && !strings.Contains(w.Text(n), "'")
	if len(interps) == 0 {
		text := w.Text(n)
		if swap {
			text = strings.Replace(text, `"`, `'`, 1)
			text = text[:len(text)-1] + `'`
		}
		return frontend.Atom(strPref + frontend.Escape(text)), nil
	}
	pieces, err := textPieces(w, n.StartByte(), n.EndByte(), interps)
	if err != nil {
		return nil, err
	}
	first, last := pieces[0], pieces[len(pieces)-1]
	if swap && !first.IsList && !last.IsList && first != last && strings.HasSuffix(last.Atom, `"`) {
		first.Atom = strings.Replace(first.Atom, `"`, `'`, 1)
		last.Atom = last.Atom[:len(last.Atom)-1] + `'`
	}
	return frontend.List(append([]*sexp.Node{frontend.Atom("fstr")}, pieces...)...), nil
}

// singleQuotable reports whether a string literal is written with double
// quotes that can become single quotes without changing its meaning: one
// line, no single quote or backslash anywhere in it. Encoding such literals
// with single quotes lets the same string read the same in every program.
func singleQuotable(text string) bool {
	i := strings.IndexAny(text, `'"`)
	if i < 0 || text[i] != '"' || strings.HasPrefix(text[i:], `"""`) || !strings.HasSuffix(text, `"`) || len(text)-i < 2 {
		return false
	}
	return !strings.ContainsAny(text, "'\\\n")
}

// textPieces covers src[start:end] with literal atoms and (fmt ...) terms for
// the given nodes (interpolation or format_expression), in order.
func textPieces(w *frontend.Walker, start, end uint32, subs []*sitter.Node) ([]*sexp.Node, error) {
	src := w.Source()
	var out []*sexp.Node
	at := start
	for _, s := range subs {
		if s.StartByte() > at {
			out = append(out, frontend.Atom(strPref+frontend.Escape(string(src[at:s.StartByte()]))))
		}
		t, err := interpolation(w, s)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
		at = s.EndByte()
	}
	if end > at {
		out = append(out, frontend.Atom(strPref+frontend.Escape(string(src[at:end]))))
	}
	return out, nil
}

func interpolation(w *frontend.Walker, n *sitter.Node) (*sexp.Node, error) {
	e := n.ChildByFieldName("expression")
	if e == nil {
		return nil, fmt.Errorf("python %s: empty interpolation", frontend.Pos(n))
	}
	if n.EndByte() < 1 || w.Source()[n.EndByte()-1] != '}' {
		return nil, fmt.Errorf("python %s: interpolation does not end in }", frontend.Pos(n))
	}
	et, err := w.Node(e)
	if err != nil {
		return nil, err
	}
	// Nested {expr} inside the format specification.
	var nested []*sitter.Node
	var find func(x *sitter.Node)
	find = func(x *sitter.Node) {
		for i := 0; i < int(x.NamedChildCount()); i++ {
			c := x.NamedChild(i)
			if c.Type() == "format_expression" || c.Type() == "interpolation" {
				nested = append(nested, c)
				continue
			}
			find(c)
		}
	}
	for i := 0; i < int(n.NamedChildCount()); i++ {
		if c := n.NamedChild(i); c.Type() == "format_specifier" {
			find(c)
		}
	}
	rest, err := textPieces(w, e.EndByte(), n.EndByte()-1, nested)
	if err != nil {
		return nil, err
	}
	return frontend.List(append([]*sexp.Node{frontend.Atom("fmt"), et}, rest...)...), nil
}

// genericType encodes list[int] in an annotation like the subscript it
// reads as elsewhere: (sub list int).
func genericType(w *frontend.Walker, n *sitter.Node) (*sexp.Node, error) {
	out := []*sexp.Node{frontend.Atom("sub")}
	for _, c := range w.Named(n) {
		if c.Type() != "type_parameter" {
			t, err := w.Node(c)
			if err != nil {
				return nil, err
			}
			out = append(out, t)
			continue
		}
		ts, err := w.Nodes(w.Named(c))
		if err != nil {
			return nil, err
		}
		out = append(out, ts...)
	}
	if len(out) < 3 {
		return nil, fmt.Errorf("python %s: generic type without parameters", frontend.Pos(n))
	}
	return frontend.List(out...), nil
}

// parenthesized drops the parentheses (the printer puts back those that
// precedence needs); a parenthesised starred item is not Python.
func parenthesized(w *frontend.Walker, n *sitter.Node) (*sexp.Node, error) {
	kids := w.Named(n)
	if len(kids) != 1 {
		return nil, fmt.Errorf("python syntax error at %s: parentheses around %d expressions", frontend.Pos(n), len(kids))
	}
	if k := kids[0].Type(); k == "list_splat" || k == "dictionary_splat" {
		return nil, fmt.Errorf("python syntax error at %s: starred expression in parentheses", frontend.Pos(n))
	}
	return w.Node(kids[0])
}

// unionType encodes int | None in an annotation like the expression it
// reads as elsewhere: (| int None).
func unionType(w *frontend.Walker, n *sitter.Node) (*sexp.Node, error) {
	kids, err := w.Nodes(w.Named(n))
	if err != nil {
		return nil, err
	}
	if len(kids) != 2 {
		return nil, fmt.Errorf("python %s: union type with %d members", frontend.Pos(n), len(kids))
	}
	return frontend.List(frontend.Atom("|"), kids[0], kids[1]), nil
}

// fixStars undoes a tree-sitter misparse: *f(x) comes out as a call of *f
// (and *a.b, *a[i] likewise), so (call (star f) A) becomes
// (star (call f A)).
func fixStars(t *sexp.Node) *sexp.Node {
	if !t.IsList {
		return t
	}
	out := &sexp.Node{IsList: true, List: make([]*sexp.Node, len(t.List))}
	for i, c := range t.List {
		out.List[i] = fixStars(c)
	}
	switch head(out) {
	case "call", "attr", "sub":
		if len(out.List) > 1 {
			if f := out.List[1]; (head(f) == "star" || head(f) == "dstar") && len(f.List) == 2 {
				inner := &sexp.Node{IsList: true, List: append([]*sexp.Node{out.List[0], f.List[1]}, out.List[2:]...)}
				return &sexp.Node{IsList: true, List: []*sexp.Node{f.List[0], fixStars(inner)}}
			}
		}
	}
	return out
}

// checkStars rejects starred items outside the displays, argument lists,
// parameter lists and subscripts that allow them (tree-sitter accepts some
// that Python does not).
func checkStars(t *sexp.Node) error {
	type frame struct{ n, parent *sexp.Node }
	stack := []frame{{t, nil}}
	for len(stack) > 0 {
		f := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if !f.n.IsList {
			continue
		}
		if h := head(f.n); (h == "star" || h == "dstar") && f.parent != nil {
			switch head(f.parent) {
			case "list", "tuple", "set", "args", "sub", "dict", "params", "typed":
			default:
				return fmt.Errorf("python syntax error: starred item inside %s", head(f.parent))
			}
		}
		for _, c := range f.n.List[1:] {
			stack = append(stack, frame{c, f.n})
		}
	}
	return nil
}
