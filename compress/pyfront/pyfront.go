// Package pyfront is the Python frontend of the library-learning engine: it
// turns Python source into lambda-calculus terms in Stitch's program text
// syntax, and prints terms, learned concepts and rewritten programs back as
// Python.
//
// # Encoding
//
// The language-independent walk lives in package frontend; this package
// holds the Python mapping table (spec.go), scope analysis (scope.go) and
// the printer (print.go). A program is (module BLOCK). A block is a cons
// list of statements, (seq S1 (seq S2 nil)), so a run of statements plus
// the rest of the block is one subtree. Each construct is a list headed by
// a compact name followed by its children in source order; punctuation and
// comments are dropped and parentheses are recomputed from precedence when
// printing. An expression statement is just its expression (statement and
// expression heads are disjoint), so a call reads the same wherever it
// stands. Examples:
//
//	x = a[i] + 1          (= x (+ (sub a i) 1))
//	a = b = f()           (= a b (call f args))
//	xs.append(y)          (call (attr xs append) (args y))
//	if a < b: ...         (if (< a b) BLOCK [(elif C BLOCK)...] [(else BLOCK)])
//	for x in y: ...       (for x y BLOCK [(else BLOCK)])
//	def f(a, b=1): ...    (def f (params a (default b 1)) BLOCK [RETURNTYPE])
//	[e for x in y if c]   (listcomp e (cfor x y) (cif c))
//	lambda a: a           (lmb c0 (params c0))
//	a < b <= c            (cmp a < b <= c)
//	a[1:]                 (sub a (slice 1 nil))
//	f"{x!r:>4}"           (fstr s:f' (fmt x s:!r:>4) s:')
//
// Operators are heads: (+ a b), (- a), (and a b), (not a), (notin a b),
// (+= x 1). Leaves are atoms: identifiers as written (escaped as i:ESC when
// they are lam, lambda, nil, look like a canonical local v<n> or c<n>, or
// are not ASCII), numbers as written, True, False, None, ..., and string
// literals as s:ESC, ESC being the literal's source text (prefix and
// quotes included; a one-line double-quoted literal without ' or \ is
// written with single quotes, so that quoting style does not split a
// string into two primitives) with white space, parentheses, '%', ';' and
// non-ASCII bytes written %XX. F-strings with interpolations are
// (fstr piece...), each piece a text atom s:ESC or (fmt EXPR piece...). No
// atom starts with '#' or '$' or is lam. A missing optional child in the
// middle is nil.
//
// Stitch reads a list of one atom, (h), as the atom h, so no construct is
// ever a head without children: an empty argument or parameter list is the
// atom args or params, a bare return, raise or yield the atom return,
// raise or yield (positions tell them from names), and the empty displays
// [] {} () the atoms [], {} and tuple:.
//
// Local variables are canonicalised: in every function the parameters and
// assigned names are renamed v0, v1, ... in order of first appearance (in
// evaluation order); a nested function numbers its locals after its
// enclosing function's, so closures keep working. Comprehension and lambda
// variables are renamed c0, c1, ..., numbered from 0 in the outermost
// comprehension or lambda, so that the same comprehension reads the same in
// every function. Module-level names, class attributes, globals, builtins,
// attributes, keyword names and imported names keep their names; so do
// parameters whose name is used as a keyword argument anywhere in the
// module (renaming them would break the call), and all locals of a function
// that uses the builtin locals, vars, eval or exec. Renaming is invisible to
// the program unless it passes arguments by name through a ** dictionary or
// inspects parameter names.
//
// Decode prints canonical locals as v0, c0, ... (or v_0, c_0, ... when the
// program also has a global named like that), so Encode∘Decode∘Encode =
// Encode.
//
// # Corpora of real code
//
// EncodeUnits makes one program per file or per top-level function and,
// with EncodeOptions.Inline, first inlines single-use pure locals into the
// expression that reads them (the rule is in normalize.go), so that
// compositions of a domain library's calls are subtrees. SharedHelpers
// turns definitions repeated identically across programs into references
// to one existing helper. Admissible says which learned abstractions are
// concepts worth keeping (they print as Python functions and compose the
// domain's names), GrammarAtoms which atoms are Python's grammar (priced
// low by the python format), and RenderProgram prints a rewritten program
// with the concepts it calls.
package pyfront

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/atlas-ai/atlas-learn/compress/frontend"
	"github.com/atlas-ai/atlas-learn/compress/sexp"
)

// Concept is a learned abstraction: Body is a term in Stitch syntax whose
// holes are #0 ... #(Arity-1).
type Concept struct {
	Name, Body string
	Arity      int
}

// Encode turns a Python module into one program term. Invalid Python is an
// error naming the line:col of the first syntax error; constructs the table
// does not cover (match statements, type parameters and type aliases,
// starred types, Python 2 print) are an error naming the construct.
// tree-sitter reads the rare type(x).a = v and type[i] = v as type alias
// statements, so they are rejected too.
func Encode(ctx context.Context, src []byte) (string, error) {
	t, err := frontend.Encode(ctx, newSpec(), src)
	if err != nil {
		return "", fmt.Errorf("encode: %w", err)
	}
	t = fixStars(t)
	if err := checkStars(t); err != nil {
		return "", fmt.Errorf("encode: %w", err)
	}
	if err := canonicalize(t); err != nil {
		return "", fmt.Errorf("encode: canonicalise: %w", err)
	}
	return t.String(), nil
}

// Check reports whether src is valid Python that Encode accepts.
func Check(ctx context.Context, src []byte) error {
	_, err := frontend.Encode(ctx, newSpec(), src)
	return err
}

// Decode prints an encoded program as Python: the inverse of Encode up to
// formatting, parentheses and the names of canonical locals.
func Decode(program string) (string, error) {
	return ProgramToPython(program, nil)
}

// ProgramToPython prints a program in which library concepts may be
// applied, (NAME arg...) or NAME for arity 0, as Python. Stitch terms are
// curried, so an application may carry more arguments than the concept's
// arity (the body is then applied to the rest), and a concept body may
// apply an earlier concept to fewer arguments than it takes; both are
// inlined. Each concept that can be a Python function (see
// ConceptToPython) is defined at the top (after any __future__ imports)
// and called where it is used, when the use site allows it:
//
//   - the application has exactly the concept's arity, stands where its
//     kind belongs (an expression where a value is read, not assigned; a
//     statement; a run where a block continues), and not directly in a
//     class body;
//   - every argument is a whole expression, and either a name or literal,
//     or else evaluated exactly once by the body, before any call, in
//     parameter order (with RenderOptions.PureCalls, order and calls do
//     not matter when the argument and an expression concept's body are
//     pure); a name is not passed where the body reads it later,
//     from a nested function, lambda or generator;
//   - no argument mentions a variable the concept binds, the concept reads
//     no variable that the enclosing function binds, and every variable the
//     concept binds but does not return is unused elsewhere in the enclosing
//     function (or module).
//
// Other uses are inlined, so the output means what the original program
// meant (assuming that attribute access, subscripts and operators have no
// side effects).
func ProgramToPython(program string, lib []Concept) (string, error) {
	out, _, err := renderProgram(program, lib, RenderOptions{})
	return out, err
}

// RenderOptions configures RenderProgram.
type RenderOptions struct {
	// Withdrawn names concepts that are never called, only inlined.
	Withdrawn map[string]bool
	// PureCalls takes calls of plain names (not methods, not the builtins
	// with effects) to have no effects, as the data-flow normalisation
	// does: a pure argument of a pure expression concept may then be
	// passed even where the body evaluates it after a call or out of
	// parameter order.
	PureCalls bool
}

// RenderProgram is ProgramToPython with options; it also lists, in
// library order, the concepts the output calls (and therefore defines).
func RenderProgram(program string, lib []Concept, o RenderOptions) (string, []string, error) {
	return renderProgram(program, lib, o)
}

func renderProgram(program string, lib []Concept, o RenderOptions) (string, []string, error) {
	t, err := sexp.Parse(program)
	if err != nil {
		return "", nil, fmt.Errorf("program: %w", err)
	}
	t = flattenApps(t)
	l, err := newLibrary(lib, false)
	if err != nil {
		return "", nil, err
	}
	for name := range o.Withdrawn {
		if c := l.byName[name]; c != nil && c.err == nil {
			c.err = fmt.Errorf("concept %s was withdrawn", name)
		}
	}
	full, err := l.expand(t, false)
	if err != nil {
		return "", nil, err
	}
	if _, err := analyze(full, roleOther); err != nil {
		return "", nil, fmt.Errorf("program: %w", err)
	}
	terms := []*sexp.Node{full}
	for _, c := range l.order {
		terms = append(terms, c.body)
	}
	local, clocal, params := choosePrefixes(terms...)
	for _, c := range l.order {
		if c.err == nil && collides(c.c.Name, terms) {
			return "", nil, fmt.Errorf("concept name %s is also a name in the program", c.c.Name)
		}
	}
	u := &uses{lib: l, program: t, called: map[string]bool{}, scopes: map[*sexp.Node]*scopeFacts{}, pureCalls: o.PureCalls}
	p := &printer{local: local, clocal: clocal, app: u}
	if err := p.program(t); err != nil {
		return "", nil, fmt.Errorf("print program: %w", err)
	}
	out := p.b.String()
	var defs string
	var called []string
	for _, c := range l.order {
		if !u.called[c.c.Name] {
			continue
		}
		s, err := c.function(local, clocal, params)
		if err != nil {
			return "", nil, err
		}
		defs += s + "\n"
		called = append(called, c.c.Name)
	}
	if defs != "" {
		// After any __future__ imports, which must come first.
		at := 0
		for strings.HasPrefix(out[at:], "from __future__ import ") {
			nl := strings.IndexByte(out[at:], '\n')
			if nl < 0 {
				break
			}
			at += nl + 1
		}
		out = out[:at] + defs + "\n" + out[at:]
	}
	return out, called, nil
}

// ConceptToPython prints a concept as a Python function NAME(p0, p1, ...)
// with one parameter per hole, except a hole in statement-tail position
// (see below).
//
//   - An expression concept returns the expression.
//   - A statement concept, or a run of statements (a body rooted at seq),
//     runs the statements and returns the variables they bind on every
//     path (return a, b), which the call site assigns (a, b = NAME(...)).
//     A run may end in a hole in statement-tail position, standing for the
//     rest of the block after the run: that hole gets no parameter, the
//     call site continues with the rest after the call. A run whose last
//     statement is return E returns E, and is called as return NAME(...).
//
// It is an error (the concept can only be inlined) when the body is not a
// whole expression, statement or run (an argument list, a parameter, a
// partial node); when a hole stands where a value cannot be passed (an
// assignment target, an attribute or keyword name, a statement or block
// other than the run's tail, a definition name); when the body reads a
// canonical local (v<n>, c<n>) it does not bind, which belongs to the code
// around it; when it reads a variable before binding it; when it contains
// yield or await, global or nonlocal, a return other than its last
// statement, or a break or continue outside a loop of its own; when an
// expression concept binds a variable with :=; when it applies another
// concept to fewer arguments than that takes. A body that applies other
// concepts prints those applications as calls of functions of those names;
// ConceptToPythonLib expands them instead.
func ConceptToPython(c Concept) (string, error) {
	l, err := newLibrary([]Concept{c}, true)
	if err != nil {
		return "", err
	}
	info := l.order[0]
	if info.err != nil {
		return "", info.err
	}
	local, clocal, params := choosePrefixes(info.body)
	return info.function(local, clocal, params)
}

// ConceptToPythonLib is ConceptToPython for a concept whose body may apply
// the concepts of lib (those learned before it): their applications are
// expanded first, so the function stands on its own, as ProgramToPython
// defines it.
func ConceptToPythonLib(c Concept, lib []Concept) (string, error) {
	var deps []Concept
	for _, d := range lib {
		if d.Name != c.Name {
			deps = append(deps, d)
		}
	}
	l, err := newLibrary(append(deps, c), false)
	if err != nil {
		return "", err
	}
	info := l.order[len(l.order)-1]
	if info.err != nil {
		return "", info.err
	}
	local, clocal, params := choosePrefixes(info.body)
	return info.function(local, clocal, params)
}

// Unit is what one program of a corpus is.
type Unit string

const (
	// UnitFile: each source file is one program.
	UnitFile Unit = "file"
	// UnitFunction: each top-level function definition of a file is one
	// program, so that one file of many functions is a corpus of many.
	UnitFunction Unit = "function"
)

// ParseUnit reads a unit name ("" is UnitFile).
func ParseUnit(s string) (Unit, error) {
	switch Unit(s) {
	case "", UnitFile:
		return UnitFile, nil
	case UnitFunction:
		return UnitFunction, nil
	}
	return "", fmt.Errorf("unknown unit %q (want file or function)", s)
}

// EncodeOptions configures EncodeUnits.
type EncodeOptions struct {
	Unit Unit
	// Inline applies the data-flow normalisation (see normalize.go):
	// single-use pure locals are inlined into the expression reading them.
	Inline bool
}

// Program is one encoded program of a source file.
type Program struct {
	// Name is the function's name for a function unit, "" for a file.
	Name string
	// Term is the program in Stitch syntax: (module BLOCK).
	Term string
	// Context is the Python source a function unit needs around it to run
	// on its own: the file's top-level imports, assignments and classes,
	// in order. It is empty for a file unit.
	Context string
}

// EncodeUnits encodes a Python module as one program (UnitFile) or as one
// program per top-level function definition (UnitFunction, each
// (module (seq DEF nil)), decorated definitions included), after the
// data-flow normalisation when o.Inline is set. A file without functions
// gives no program in UnitFunction.
func EncodeUnits(ctx context.Context, src []byte, o EncodeOptions) ([]Program, error) {
	t, err := frontend.Encode(ctx, newSpec(), src)
	if err != nil {
		return nil, fmt.Errorf("encode: %w", err)
	}
	t = fixStars(t)
	if err := checkStars(t); err != nil {
		return nil, fmt.Errorf("encode: %w", err)
	}
	if o.Inline {
		if _, err := inlineLocals(t); err != nil {
			return nil, fmt.Errorf("encode: inline: %w", err)
		}
	}
	if err := canonicalize(t); err != nil {
		return nil, fmt.Errorf("encode: canonicalise: %w", err)
	}
	if o.Unit != UnitFunction {
		return []Program{{Term: t.String()}}, nil
	}
	if head(t) != "module" || len(t.List) != 2 {
		return nil, errors.New("encode: program is not (module BLOCK)")
	}
	var defs []*sexp.Node
	var context []*sexp.Node
	for c := t.List[1]; c.IsList && head(c) == seqHead && len(c.List) == 3; c = c.List[2] {
		st := c.List[1]
		switch head(st) {
		case "def", "adef", "decorated":
			defs = append(defs, st)
		case "import", "from", "=", "ann", "class":
			context = append(context, st)
		}
	}
	ctxSrc := ""
	if len(context) > 0 {
		if ctxSrc, err = Decode(moduleOf(context).String()); err != nil {
			return nil, fmt.Errorf("encode: context: %w", err)
		}
	}
	out := make([]Program, 0, len(defs))
	for _, d := range defs {
		out = append(out, Program{Name: defName(d), Term: moduleOf([]*sexp.Node{d}).String(), Context: ctxSrc})
	}
	return out, nil
}

// moduleOf is (module (seq S1 (seq S2 ... nil))).
func moduleOf(stmts []*sexp.Node) *sexp.Node {
	block := frontend.Atom(nilAtom)
	for i := len(stmts) - 1; i >= 0; i-- {
		block = frontend.List(frontend.Atom(seqHead), stmts[i], block)
	}
	return frontend.List(frontend.Atom("module"), block)
}

// defName is the name a (decorated) definition binds.
func defName(d *sexp.Node) string {
	for head(d) == "decorated" && len(d.List) > 1 {
		d = d.List[len(d.List)-1]
	}
	if len(d.List) > 1 && !d.List[1].IsList {
		return strings.TrimPrefix(d.List[1].Atom, idPref)
	}
	return ""
}
