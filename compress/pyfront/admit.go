package pyfront

import (
	"errors"
	"fmt"
	"strings"

	"github.com/atlas-ai/atlas-learn/compress/sexp"
)

// ErrScaffolding is matched (errors.Is) by Admissible's error for a
// concept made only of Python's grammar: identity, an assignment, a bare
// return, a call of a hole.
var ErrScaffolding = errors.New("pure scaffolding: calls or names nothing of the domain")

// ErrAlias is matched by Admissible's error for a concept that names one
// thing of the domain only, such as f(p0, p1) for a library function f: a
// new name for what exists, not a composition.
var ErrAlias = errors.New("an alias: names one thing of the domain only")

// Admissible reports why concept c, learned after the concepts of lib, is
// not a concept a programmer would keep, or nil when it is. A concept is
// admitted when
//
//   - it prints as a Python function (ConceptToPythonLib): holes only
//     where a value may be passed (never a statement, an assignment
//     target, a parameter list, an attribute or keyword name or a name
//     being defined; the one exception is the tail of a run of
//     statements, which stands for the rest of the block and is no
//     parameter), no free local of the code around it (every such
//     variable must be a hole, so it becomes a parameter), a run returns
//     the variables it binds;
//   - it defines nothing: no def, class, import, global or nonlocal
//     anywhere in its body (a definition is an existing concept, named
//     by its own name, not one to re-learn as a wrapper);
//   - it is not pure scaffolding or an alias: its body, with earlier
//     concepts expanded, holds at least two occurrences of names or
//     literals that are not Python grammar and not locals, so that it
//     composes things of the domain (f(g(p0)), f(p0, K)) rather than
//     renaming one (f(p0, p1)).
func Admissible(c Concept, lib []Concept) error {
	if _, err := ConceptToPythonLib(c, lib); err != nil {
		return err
	}
	var deps []Concept
	for _, d := range lib {
		if d.Name != c.Name {
			deps = append(deps, d)
		}
	}
	l, err := newLibrary(append(deps, c), false)
	if err != nil {
		return err
	}
	body := l.order[len(l.order)-1].body
	domain := 0
	var bad string
	_ = body.Walk(func(n *sexp.Node) error {
		if n.IsList {
			switch h := head(n); h {
			case "def", "adef", "class", "decorated", "import", "from", "global", "nonlocal":
				if bad == "" {
					bad = h
				}
			}
			return nil
		}
		if strings.HasPrefix(n.Atom, helperPref) && bad == "" {
			bad = "a shared helper " + strings.TrimPrefix(n.Atom, helperPref)
		}
		if isDomainAtom(n.Atom) {
			domain++
		}
		return nil
	})
	if bad != "" {
		return fmt.Errorf("concept %s defines something (%s): it is not a reusable computation", c.Name, bad)
	}
	if domain == 0 {
		return fmt.Errorf("concept %s: %w", c.Name, ErrScaffolding)
	}
	if domain == 1 {
		return fmt.Errorf("concept %s: %w", c.Name, ErrAlias)
	}
	return nil
}

// isDomainAtom reports whether an atom names or spells something of the
// program's domain: not a hole, a canonical local, a head of the encoding
// or one of its structural atoms.
func isDomainAtom(a string) bool {
	if a == "" || a[0] == '#' || a[0] == '$' || isCanon(a) || knownHead(a) || strings.HasPrefix(a, helperPref) {
		return false
	}
	switch a {
	case nilAtom, "args", "params", "return", "raise", "yield", "pass", "break", "continue",
		emptyList, emptyDict, emptyTuple, "None", "True", "False", "...", "*", "/":
		return false
	}
	return a != "lam"
}

// GrammarAtoms lists the atoms that are Python's grammar in the encoding:
// the heads of statements, expressions that are structure rather than
// computation (calls, argument and parameter lists, attributes,
// subscripts, displays, comprehensions), and the structural atoms. The
// python format prices them like an application, so that a concept's
// saving comes from the domain's names and literals it factors out, not
// from the syntax around them. Operators are not in the list.
func GrammarAtoms() []string {
	out := []string{seqHead, nilAtom, "module", "args", "params", "return", "raise", "yield", "pass", "break",
		"continue", emptyList, emptyDict, emptyTuple,
		"=", "ann", "if", "for", "afor", "while", "try", "with", "awith", "def", "adef", "class", "decorated",
		"import", "from", "global", "nonlocal", "del", "assert",
		"elif", "else", "except", "exceptstar", "finally", "items", "as", "default", "typed", "typeddef",
		"alias", "kw", "slice", "pair", "cfor", "acfor", "cif", "fmt",
		"call", "attr", "sub", "ifexp", "lmb", "list", "tuple", "set", "star", "dstar", "dict",
		"listcomp", "setcomp", "gen", "dictcomp", "strs", "fstr", "cmp"}
	return out
}
