// Package sexp reads and writes the s-expressions of Stitch's program text
// format: atoms separated by white space, and parenthesised lists. It knows
// nothing of lambda calculus; package compress gives the lists meaning.
package sexp

import (
	"fmt"
	"strings"
)

// Node is an atom (List == nil and Atom != "") or a list (possibly empty).
type Node struct {
	Atom string
	List []*Node
	// IsList tells an empty list "()" from an atom.
	IsList bool
}

// MaxDepth bounds nesting so that hostile input cannot exhaust the stack.
const MaxDepth = 100_000

// Parse reads exactly one s-expression from s. Errors give the byte offset.
func Parse(s string) (*Node, error) {
	p := parser{s: s}
	p.skipSpace()
	if p.i >= len(p.s) {
		return nil, fmt.Errorf("empty program")
	}
	n, err := p.parse()
	if err != nil {
		return nil, err
	}
	p.skipSpace()
	if p.i != len(p.s) {
		return nil, fmt.Errorf("offset %d: unexpected %q after the end of the expression", p.i, p.s[p.i])
	}
	return n, nil
}

type parser struct {
	s string
	i int
}

func (p *parser) skipSpace() {
	for p.i < len(p.s) && isSpace(p.s[p.i]) {
		p.i++
	}
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// parse is iterative so that deeply nested input cannot overflow the stack.
func (p *parser) parse() (*Node, error) {
	var stack []*Node
	var opens []int
	for {
		p.skipSpace()
		if p.i >= len(p.s) {
			if len(stack) > 0 {
				return nil, fmt.Errorf("offset %d: unbalanced parentheses: %d unclosed '(' (first at offset %d)", p.i, len(stack), opens[0])
			}
			return nil, fmt.Errorf("offset %d: unexpected end of input", p.i)
		}
		var done *Node
		switch c := p.s[p.i]; c {
		case '(':
			if len(stack) >= MaxDepth {
				return nil, fmt.Errorf("offset %d: nesting deeper than %d", p.i, MaxDepth)
			}
			stack = append(stack, &Node{IsList: true})
			opens = append(opens, p.i)
			p.i++
			continue
		case ')':
			if len(stack) == 0 {
				return nil, fmt.Errorf("offset %d: unbalanced parentheses: unexpected ')'", p.i)
			}
			p.i++
			done = stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			opens = opens[:len(opens)-1]
		default:
			start := p.i
			for p.i < len(p.s) && !isSpace(p.s[p.i]) && p.s[p.i] != '(' && p.s[p.i] != ')' {
				p.i++
			}
			done = &Node{Atom: p.s[start:p.i]}
		}
		if len(stack) == 0 {
			return done, nil
		}
		top := stack[len(stack)-1]
		top.List = append(top.List, done)
	}
}

// String prints n in canonical form: single spaces, no trailing space.
func (n *Node) String() string {
	var b strings.Builder
	n.write(&b)
	return b.String()
}

func (n *Node) write(b *strings.Builder) {
	type frame struct {
		n *Node
		i int
	}
	stack := []frame{{n, -1}}
	for len(stack) > 0 {
		f := &stack[len(stack)-1]
		if !f.n.IsList {
			b.WriteString(f.n.Atom)
			stack = stack[:len(stack)-1]
			continue
		}
		if f.i == -1 {
			b.WriteByte('(')
			f.i = 0
		}
		if f.i == len(f.n.List) {
			b.WriteByte(')')
			stack = stack[:len(stack)-1]
			continue
		}
		if f.i > 0 {
			b.WriteByte(' ')
		}
		child := f.n.List[f.i]
		f.i++
		stack = append(stack, frame{child, -1})
	}
}

// Walk calls fn for n and every node below it, iteratively (so deep input
// cannot exhaust the stack), parents before children, a list's children
// last-first. It stops at the first error fn returns.
func (n *Node) Walk(fn func(*Node) error) error {
	stack := []*Node{n}
	for len(stack) > 0 {
		cur := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if err := fn(cur); err != nil {
			return err
		}
		if cur.IsList {
			stack = append(stack, cur.List...)
		}
	}
	return nil
}
