// Package frontend turns tree-sitter syntax trees into terms in Stitch's
// program text syntax (package sexp), driven by a per-language table.
//
// The walk is language independent: a Spec names the tree-sitter grammar and
// gives, for every node kind the language uses, a Rule saying how the kind
// becomes a term. Node kinds missing from the table are rejected, so that a
// frontend never silently drops syntax it does not understand. Punctuation
// (anonymous nodes) is dropped unless a rule asks for it; comments are
// dropped by a Drop rule.
//
// A term is either an atom or a list whose first element is an atom naming
// the construct (the head), followed by the encodings of the children.
// Statement sequences use Seq rules and become cons lists
// (seq s1 (seq s2 nil)), so that any contiguous run of statements followed by
// the rest of the block is a subtree that Stitch can abstract.
package frontend

import (
	"context"
	"fmt"
	"strings"

	sitter "github.com/smacker/go-tree-sitter"

	"github.com/atlas-ai/atlas-learn/compress/sexp"
)

// Mode says how a Rule turns a node into a term.
type Mode int

// The rule modes.
const (
	// Children: (Head c1 c2 ...) over the named children, in order.
	Children Mode = iota
	// Fields: (Head f1 f2 ...) over the fields listed in Rule.Fields, in
	// that order. A field written "name?" is optional: when absent it is
	// encoded as the Spec's Nil atom, or left out when all later fields are
	// absent too. Named children outside the listed fields are an error.
	Fields
	// Leaf: the atom Spec.Leaf returns for the node's text.
	Leaf
	// Const: the atom Rule.Head.
	Const
	// Seq: the named children as a cons list (SeqHead c1 (SeqHead c2 Nil)),
	// wrapped as (Head list) when Head is not empty.
	Seq
	// Unwrap: the encoding of the node's only named child.
	Unwrap
	// Op: (OP c1 c2 ...) where OP is the text of the child in field
	// Rule.Field (an operator token), with white space removed.
	Op
	// Split: (Head s1 s2 ...) where the slots are the stretches between
	// the anonymous tokens Rule.Sep; an empty slot is the Nil atom.
	Split
	// Drop: the node is left out of its parent's children.
	Drop
	// Custom: Rule.Custom builds the term.
	Custom
)

// Rule says how one node kind becomes a term.
type Rule struct {
	Mode Mode
	// Head is the head atom (Children, Fields, Split, Seq), or the atom
	// itself (Const).
	Head string
	// Fields lists field names for Fields mode.
	Fields []string
	// Field names the operator field for Op mode.
	Field string
	// Sep is the separator token for Split mode.
	Sep string
	// Variants maps an anonymous token (such as "async") to another head
	// used when the node has that token as a child.
	Variants map[string]string
	// Empty, when set, is the atom a Children rule gives a node without
	// children. In Stitch's syntax a list of one atom, (h), is the same term
	// as the atom h, and engines print it so; a head that may have no
	// children must therefore either be unambiguous as a bare atom where it
	// stands (an empty argument list "args") or use a distinct Empty atom
	// (an empty list display "[]", not the name "list").
	Empty string
	// NonEmpty makes a Seq rule reject a node without children (such as an
	// indented block that the parser recovered as empty).
	NonEmpty bool
	// Custom builds the term in Custom mode.
	Custom func(w *Walker, n *sitter.Node) (*sexp.Node, error)
}

// Spec is one language: its grammar and its mapping table.
type Spec struct {
	// Name is the language's name, used in error messages.
	Name string
	// Language is the tree-sitter grammar.
	Language *sitter.Language
	// Rules maps node kinds to rules.
	Rules map[string]Rule
	// Leaf turns a leaf's kind and source text into an atom.
	Leaf func(kind, text string) (string, error)
	// SeqHead and Nil are the cons cell head and the empty list / absent
	// optional atom.
	SeqHead, Nil string
}

// Walker is one encoding run. Custom rules use its methods.
type Walker struct {
	ctx   context.Context
	spec  *Spec
	src   []byte
	steps int
}

// Encode parses src with spec's grammar and returns its term. Syntax errors
// (tree-sitter ERROR or MISSING nodes) are reported with line:col of the
// first one.
func Encode(ctx context.Context, spec *Spec, src []byte) (*sexp.Node, error) {
	p := sitter.NewParser()
	defer p.Close()
	p.SetLanguage(spec.Language)
	tree, err := p.ParseCtx(ctx, nil, src)
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", spec.Name, err)
	}
	defer tree.Close()
	root := tree.RootNode()
	if root.HasError() {
		return nil, syntaxError(spec.Name, root, src)
	}
	w := &Walker{ctx: ctx, spec: spec, src: src}
	return w.Node(root)
}

// CheckSyntax parses src and reports the first syntax error, if any.
func CheckSyntax(ctx context.Context, spec *Spec, src []byte) error {
	p := sitter.NewParser()
	defer p.Close()
	p.SetLanguage(spec.Language)
	tree, err := p.ParseCtx(ctx, nil, src)
	if err != nil {
		return fmt.Errorf("parse %s: %w", spec.Name, err)
	}
	defer tree.Close()
	if root := tree.RootNode(); root.HasError() {
		return syntaxError(spec.Name, root, src)
	}
	return nil
}

// syntaxError finds the first ERROR or MISSING node in source order.
func syntaxError(lang string, root *sitter.Node, src []byte) error {
	stack := []*sitter.Node{root}
	for len(stack) > 0 {
		n := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if n.IsMissing() || n.Type() == "ERROR" || n.IsError() {
			pt := n.StartPoint()
			if n.IsMissing() {
				return fmt.Errorf("%s syntax error at %d:%d: missing %q", lang, pt.Row+1, pt.Column+1, n.Type())
			}
			text := n.Content(src)
			if len(text) > 30 {
				text = text[:30] + "..."
			}
			return fmt.Errorf("%s syntax error at %d:%d: unexpected %q", lang, pt.Row+1, pt.Column+1, text)
		}
		if !n.HasError() {
			continue
		}
		for i := int(n.ChildCount()) - 1; i >= 0; i-- {
			stack = append(stack, n.Child(i))
		}
	}
	return fmt.Errorf("%s syntax error", lang)
}

// Pos formats n's start as line:col (1-based).
func Pos(n *sitter.Node) string {
	pt := n.StartPoint()
	return fmt.Sprintf("%d:%d", pt.Row+1, pt.Column+1)
}

// Text is n's source text.
func (w *Walker) Text(n *sitter.Node) string { return n.Content(w.src) }

// Source is the whole source being encoded.
func (w *Walker) Source() []byte { return w.src }

// Spec is the language being encoded.
func (w *Walker) Spec() *Spec { return w.spec }

// Atom makes an atom node.
func Atom(s string) *sexp.Node { return &sexp.Node{Atom: s} }

// List makes a list node.
func List(items ...*sexp.Node) *sexp.Node { return &sexp.Node{IsList: true, List: items} }

// Named returns n's named children that are not dropped.
func (w *Walker) Named(n *sitter.Node) []*sitter.Node {
	var out []*sitter.Node
	for i := 0; i < int(n.NamedChildCount()); i++ {
		c := n.NamedChild(i)
		if r, ok := w.spec.Rules[c.Type()]; ok && r.Mode == Drop {
			continue
		}
		out = append(out, c)
	}
	return out
}

// Nodes encodes each of ns.
func (w *Walker) Nodes(ns []*sitter.Node) ([]*sexp.Node, error) {
	out := make([]*sexp.Node, 0, len(ns))
	for _, c := range ns {
		t, err := w.Node(c)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}

// Node encodes n according to its rule.
func (w *Walker) Node(n *sitter.Node) (*sexp.Node, error) {
	w.steps++
	if w.steps%1024 == 0 {
		if err := w.ctx.Err(); err != nil {
			return nil, fmt.Errorf("encode %s: %w", w.spec.Name, err)
		}
	}
	kind := n.Type()
	r, ok := w.spec.Rules[kind]
	if !ok || !n.IsNamed() {
		return nil, fmt.Errorf("%s %s: unsupported syntax %q", w.spec.Name, Pos(n), kind)
	}
	head := r.Head
	for i := 0; i < int(n.ChildCount()) && r.Variants != nil; i++ {
		c := n.Child(i)
		if v, ok := r.Variants[c.Type()]; ok && !c.IsNamed() {
			head = v
		}
	}
	switch r.Mode {
	case Children:
		kids, err := w.Nodes(w.Named(n))
		if err != nil {
			return nil, err
		}
		if len(kids) == 0 && r.Empty != "" {
			return Atom(r.Empty), nil
		}
		return List(append([]*sexp.Node{Atom(head)}, kids...)...), nil
	case Fields:
		return w.fields(n, head, r.Fields)
	case Leaf:
		a, err := w.spec.Leaf(kind, w.Text(n))
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w", w.spec.Name, Pos(n), err)
		}
		return Atom(a), nil
	case Const:
		return Atom(head), nil
	case Seq:
		named := w.Named(n)
		if r.NonEmpty && len(named) == 0 {
			return nil, fmt.Errorf("%s syntax error at %s: empty %s", w.spec.Name, Pos(n), kind)
		}
		kids, err := w.Nodes(named)
		if err != nil {
			return nil, err
		}
		l := w.ConsList(kids)
		if head != "" {
			return List(Atom(head), l), nil
		}
		return l, nil
	case Unwrap:
		kids := w.Named(n)
		if len(kids) != 1 {
			return nil, fmt.Errorf("%s %s: %s has %d children, want 1", w.spec.Name, Pos(n), kind, len(kids))
		}
		return w.Node(kids[0])
	case Op:
		op := n.ChildByFieldName(r.Field)
		if op == nil {
			return nil, fmt.Errorf("%s %s: %s has no %s", w.spec.Name, Pos(n), kind, r.Field)
		}
		var kids []*sitter.Node
		for _, c := range w.Named(n) {
			if !c.Equal(op) {
				kids = append(kids, c)
			}
		}
		enc, err := w.Nodes(kids)
		if err != nil {
			return nil, err
		}
		name := strings.Join(strings.Fields(w.Text(op)), "")
		return List(append([]*sexp.Node{Atom(name)}, enc...)...), nil
	case Split:
		out := []*sexp.Node{Atom(head)}
		var cur *sexp.Node
		for i := 0; i < int(n.ChildCount()); i++ {
			c := n.Child(i)
			if !c.IsNamed() {
				if c.Type() == r.Sep {
					out = append(out, w.orNil(cur))
					cur = nil
				}
				continue
			}
			if rr, ok := w.spec.Rules[c.Type()]; ok && rr.Mode == Drop {
				continue
			}
			if cur != nil {
				return nil, fmt.Errorf("%s %s: two expressions in one %s slot", w.spec.Name, Pos(c), kind)
			}
			t, err := w.Node(c)
			if err != nil {
				return nil, err
			}
			cur = t
		}
		out = append(out, w.orNil(cur))
		return List(out...), nil
	case Drop:
		return nil, fmt.Errorf("%s %s: %s cannot stand alone", w.spec.Name, Pos(n), kind)
	case Custom:
		return r.Custom(w, n)
	}
	return nil, fmt.Errorf("%s: rule for %q has unknown mode %d", w.spec.Name, kind, r.Mode)
}

func (w *Walker) orNil(t *sexp.Node) *sexp.Node {
	if t == nil {
		return Atom(w.spec.Nil)
	}
	return t
}

// ConsList builds (SeqHead t1 (SeqHead t2 ... Nil)).
func (w *Walker) ConsList(ts []*sexp.Node) *sexp.Node {
	l := Atom(w.spec.Nil)
	for i := len(ts) - 1; i >= 0; i-- {
		l = List(Atom(w.spec.SeqHead), ts[i], l)
	}
	return l
}

func (w *Walker) fields(n *sitter.Node, head string, fields []string) (*sexp.Node, error) {
	out := []*sexp.Node{Atom(head)}
	used := map[string]bool{}
	pending := 0 // absent optional fields not yet written
	for _, f := range fields {
		name, opt := strings.CutSuffix(f, "?")
		used[name] = true
		c := n.ChildByFieldName(name)
		if c == nil {
			if !opt {
				return nil, fmt.Errorf("%s %s: %s has no %s", w.spec.Name, Pos(n), n.Type(), name)
			}
			pending++
			continue
		}
		for ; pending > 0; pending-- {
			out = append(out, Atom(w.spec.Nil))
		}
		t, err := w.Node(c)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	for i := 0; i < int(n.NamedChildCount()); i++ {
		c := n.NamedChild(i)
		if r, ok := w.spec.Rules[c.Type()]; ok && r.Mode == Drop {
			continue
		}
		if f := n.FieldNameForChild(namedIndex(n, i)); !used[f] {
			return nil, fmt.Errorf("%s %s: unsupported %s in %s", w.spec.Name, Pos(c), c.Type(), n.Type())
		}
	}
	return List(out...), nil
}

// namedIndex maps the index of a named child to its index among all children.
func namedIndex(n *sitter.Node, named int) int {
	k := -1
	for i := 0; i < int(n.ChildCount()); i++ {
		if n.Child(i).IsNamed() {
			k++
			if k == named {
				return i
			}
		}
	}
	return -1
}

// unsafe reports whether byte c must be escaped inside an atom.
func unsafe(c byte) bool {
	return c <= ' ' || c >= 0x7f || c == '(' || c == ')' || c == '%' || c == ';'
}

// Escape makes s safe inside an atom: white space, parentheses, '%', ';',
// control and non-ASCII bytes become %XX. It never changes other bytes, so
// a prefix chosen by the caller keeps atoms from starting with '#' or '$'.
func Escape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if unsafe(c) {
			fmt.Fprintf(&b, "%%%02X", c)
		} else {
			b.WriteByte(c)
		}
	}
	return b.String()
}

// Unescape inverts Escape.
func Unescape(s string) (string, error) {
	if !strings.Contains(s, "%") {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '%' {
			b.WriteByte(c)
			continue
		}
		if i+2 >= len(s) {
			return "", fmt.Errorf("bad escape at end of %q", s)
		}
		var v byte
		for _, h := range []byte{s[i+1], s[i+2]} {
			v <<= 4
			switch {
			case h >= '0' && h <= '9':
				v |= h - '0'
			case h >= 'A' && h <= 'F':
				v |= h - 'A' + 10
			default:
				return "", fmt.Errorf("bad escape %q in %q", s[i:i+3], s)
			}
		}
		b.WriteByte(v)
		i += 2
	}
	return b.String(), nil
}
