// Package autodoc names and documents learned concepts, after LILO's
// AutoDoc: each new concept of a library gets a snake_case name that is a
// valid Python identifier (not a keyword, not a builtin, not a name of the
// corpus, unique in the library), a one-sentence description and a type
// signature. The names replace the learned ones (fn_N) everywhere they
// appear — in the other concepts' bodies too — and the description and
// signature go into the concept's Python source as a docstring. Concepts
// of an earlier library keep their names and documentation.
//
// This version documents with a heuristic (DocSource "heuristic"): the
// name from what the body calls, "Calls a, b and c on its N arguments." and
// an untyped signature. A Documenter (a model, say) can propose names and
// docs instead; invalid proposals fall back to the heuristic, labelled.
//
// The package knows nothing of storage or configuration: the concepts
// stage (jobs/stage_concepts.go) calls Apply after learning.
package autodoc

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"strings"

	"github.com/atlas-ai/atlas-learn/compress/pyfront"
	"github.com/atlas-ai/atlas-learn/compress/sexp"
	"github.com/atlas-ai/atlas-learn/jobs/concepts"
)

// Sources of a concept's documentation.
const (
	SourceLLM       = "llm"
	SourceHeuristic = "heuristic"
)

// Doc is a proposed name and documentation of one concept.
type Doc struct {
	Name, Description, Signature string
}

// Documenter proposes a concept's name and documentation; Apply
// validates what it proposes.
type Documenter interface {
	// Document proposes a doc; check validates a proposal (for retries).
	Document(ctx context.Context, c *concepts.Concept, check func(Doc) error) (Doc, error)
}

// Options configures Apply.
type Options struct {
	// Documenter proposes docs (nil: the heuristic only); Source labels
	// its rows.
	Documenter Documenter
	Source     string
	// Reserved are names a concept may not take: the corpus's symbols.
	Reserved []string
}

// Stats counts what Apply did.
type Stats struct {
	Documented, Heuristic, Fallbacks, Renamed int
}

var snakeRE = regexp.MustCompile(`^[a-z_][a-z0-9_]*$`)

// maxNameLen bounds a concept's name.
const maxNameLen = 40

// Apply names and documents the concepts learned now (FromLibrary false),
// in order, renames them everywhere, and rewrites every printable
// concept's Python with its docstring. rows are changed in place.
func Apply(ctx context.Context, rows []concepts.Concept, o Options) (Stats, error) {
	var st Stats
	taken, reserved := map[string]bool{}, map[string]bool{}
	for _, r := range o.Reserved {
		taken[r], reserved[r] = true, true
	}
	for _, r := range rows {
		taken[r.Name] = true // old names stay reserved: no body confuses them
	}
	rename := map[string]string{}
	for i := range rows {
		r := &rows[i]
		if r.FromLibrary {
			continue
		}
		arity := pyArity(r)
		h := heuristic(r, arity)
		d, src, fb := h, SourceHeuristic, ""
		if o.Documenter != nil {
			chk := func(p Doc) error { return check(p, arity, reserved) }
			p, err := o.Documenter.Document(ctx, r, chk)
			if err == nil {
				err = chk(p)
			}
			if ctx.Err() != nil {
				return st, ctx.Err()
			}
			if err != nil {
				fb = o.Source + ": " + err.Error()
				st.Fallbacks++
			} else {
				d, src = p, o.Source
			}
		}
		if src == SourceHeuristic {
			st.Heuristic++
		}
		name := d.Name
		for n := 2; taken[name] || !validName(name); n++ {
			name = fmt.Sprintf("%s_%d", d.Name, n)
		}
		taken[name] = true
		rename[r.Name] = name
		r.Description, r.Signature, r.DocSource, r.DocFallback = d.Description, d.Signature, src, fb
		st.Documented++
	}
	// Rename in every body, then print the Python again with the new
	// names (a concept's Python expands the concepts it applies).
	var lib []pyfront.Concept
	for i := range rows {
		r := &rows[i]
		body, err := renameAtoms(r.Body, rename)
		if err != nil {
			return st, fmt.Errorf("concept %s: %w", r.Name, err)
		}
		r.Body = body
		if n, ok := rename[r.Name]; ok {
			if n != r.Name {
				st.Renamed++
			}
			r.Name = n
		}
		pc := pyfront.Concept{Name: r.Name, Body: r.Body, Arity: int(r.Arity)}
		lib = append(lib, pc)
		if r.Python == "" {
			continue
		}
		src, err := pyfront.ConceptToPythonLib(pc, lib)
		if err != nil {
			return st, fmt.Errorf("concept %s: printing after renaming: %w", r.Name, err)
		}
		r.Python = withDocstring(src, r.Description, r.Signature)
	}
	return st, nil
}

// check validates a proposed doc: a name that another concept has is
// fine (Apply adds a suffix), a name of the corpus is not.
func check(d Doc, arity int, reserved map[string]bool) error {
	switch {
	case !validName(d.Name):
		return fmt.Errorf("name %q is not a snake_case Python identifier (or is a keyword or builtin)", d.Name)
	case reserved[d.Name]:
		return fmt.Errorf("name %q is already a name in the corpus", d.Name)
	}
	if err := checkDescription(d.Description); err != nil {
		return err
	}
	n, err := signatureArity(d.Signature)
	if err != nil {
		return err
	}
	if n != arity {
		return fmt.Errorf("signature %q has %d parameters, the concept takes %d", d.Signature, n, arity)
	}
	return nil
}

func checkDescription(s string) error {
	switch {
	case s == "" || !strings.HasSuffix(s, "."):
		return fmt.Errorf("description must be one sentence ending with a period")
	case strings.ContainsAny(s, "\n\r\\") || strings.Contains(s, `"""`):
		return fmt.Errorf("description must be one line without backslashes or triple quotes")
	case len(s) > 200:
		return fmt.Errorf("description is longer than 200 characters")
	}
	return nil
}

// signatureArity counts the parameters of "(a: T, b) -> R".
func signatureArity(sig string) (int, error) {
	s := strings.TrimSpace(sig)
	if !strings.HasPrefix(s, "(") || !strings.Contains(s, "->") {
		return 0, fmt.Errorf("signature %q is not of the form (params) -> type", sig)
	}
	depth, n, empty := 0, 0, true
	for i, r := range s {
		switch r {
		case '(', '[', '{':
			depth++
		case ')', ']', '}':
			depth--
			if depth == 0 {
				if !empty {
					n++
				}
				if !strings.HasPrefix(strings.TrimSpace(s[i+1:]), "->") {
					return 0, fmt.Errorf("signature %q is not of the form (params) -> type", sig)
				}
				return n, nil
			}
		case ',':
			if depth == 1 {
				n++
			}
		case ' ':
		default:
			if depth >= 1 {
				empty = false
			}
		}
	}
	return 0, fmt.Errorf("signature %q: unbalanced parentheses", sig)
}

func validName(s string) bool {
	return s != "" && len(s) <= maxNameLen && snakeRE.MatchString(s) && !pyKeywords[s] && !pyBuiltins[s]
}

var defRE = regexp.MustCompile(`(?m)^def [A-Za-z_][A-Za-z0-9_]*\((.*)\):`)

// pyArity is the number of parameters of the concept's Python function,
// or its arity when it has none.
func pyArity(c *concepts.Concept) int {
	m := defRE.FindStringSubmatch(c.Python)
	if m == nil {
		return int(c.Arity)
	}
	if strings.TrimSpace(m[1]) == "" {
		return 0
	}
	return strings.Count(m[1], ",") + 1
}

// heuristic is the doc built from the body: named after the first two
// things it calls or defines.
func heuristic(c *concepts.Concept, arity int) Doc {
	calls := called(c.Body)
	var name string
	switch {
	case len(calls) >= 2:
		name = snake(calls[0] + "_" + calls[1])
	case len(calls) == 1:
		name = "apply_" + snake(calls[0])
	}
	if !validName(name) {
		h := sha256.Sum256([]byte(c.Body))
		name = "concept_" + hex.EncodeToString(h[:3])
	}
	args := plural(arity, "argument", "arguments")
	var desc string
	if len(calls) > 0 {
		show := calls
		if len(show) > 4 {
			show = show[:4]
		}
		desc = fmt.Sprintf("Calls %s on its %d %s.", andList(show), arity, args)
	} else {
		desc = fmt.Sprintf("Builds a fixed code fragment from its %d %s.", arity, args)
	}
	if len(desc) > 200 {
		desc = fmt.Sprintf("Calls %s and others on its %d %s.", show2(calls), arity, args)
	}
	ps := make([]string, arity)
	for i := range ps {
		ps[i] = fmt.Sprintf("p%d", i)
	}
	return Doc{Name: name, Description: desc, Signature: "(" + strings.Join(ps, ", ") + ") -> Any"}
}

func show2(xs []string) string {
	if len(xs) > 2 {
		xs = xs[:2]
	}
	return strings.Join(xs, ", ")
}

var localRE = regexp.MustCompile(`^[vc][0-9]+$|^fn_[0-9]+$`)

// called lists, once each and in order, the functions and methods the
// body calls and the functions it defines (canonical locals, holes and
// concept names left out).
func called(body string) []string {
	n, err := sexp.Parse(body)
	if err != nil {
		return nil
	}
	var out []string
	add := func(a string) {
		if a == "" || localRE.MatchString(a) || !snakeRE.MatchString(strings.ToLower(a)) {
			return
		}
		for _, x := range out {
			if x == a {
				return
			}
		}
		out = append(out, a)
	}
	var walk func(*sexp.Node)
	walk = func(x *sexp.Node) {
		if len(x.List) >= 2 {
			switch x.List[0].Atom {
			case "call":
				f := x.List[1]
				if f.Atom != "" {
					add(f.Atom)
				} else if len(f.List) == 3 && f.List[0].Atom == "attr" {
					add(f.List[2].Atom)
				}
			case "def":
				add(x.List[1].Atom)
			}
		}
		for _, c := range x.List {
			walk(c)
		}
	}
	walk(n)
	return out
}

func snake(s string) string { return strings.ToLower(s) }

// renameAtoms replaces the atoms of a Stitch term named in m.
func renameAtoms(body string, m map[string]string) (string, error) {
	if len(m) == 0 {
		return body, nil
	}
	n, err := sexp.Parse(body)
	if err != nil {
		return "", err
	}
	_ = n.Walk(func(x *sexp.Node) error {
		if to, ok := m[x.Atom]; ok && x.Atom != "" {
			x.Atom = to
		}
		return nil
	})
	return n.String(), nil
}

// withDocstring puts the description and signature into the function's
// docstring, right after its def line.
func withDocstring(src, desc, sig string) string {
	if desc == "" {
		return src
	}
	loc := defRE.FindStringIndex(src)
	if loc == nil {
		return src
	}
	doc := "    \"\"\"" + desc + "\n\n    Signature: " + sig + "\n    \"\"\"\n"
	end := loc[1] + 1 // after the newline
	if end > len(src) {
		return src + "\n" + doc
	}
	return src[:end] + doc + src[end:]
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func andList(xs []string) string {
	if len(xs) == 1 {
		return xs[0]
	}
	return strings.Join(xs[:len(xs)-1], ", ") + " and " + xs[len(xs)-1]
}

var pyKeywords, pyBuiltins = map[string]bool{}, map[string]bool{}

func init() {
	for _, w := range strings.Fields(`False None True and as assert async await break class continue def del elif else except
		finally for from global if import in is lambda nonlocal not or pass raise return try while with yield match case type _`) {
		pyKeywords[w] = true
	}
	for _, w := range strings.Fields(`abs aiter all anext any ascii bin bool breakpoint bytearray bytes callable chr classmethod
		compile complex delattr dict dir divmod enumerate eval exec filter float format frozenset getattr globals hasattr hash
		help hex id input int isinstance issubclass iter len list locals map max memoryview min next object oct open ord pow
		print property range repr reversed round set setattr slice sorted staticmethod str sum super tuple vars zip
		__import__ self cls`) {
		pyBuiltins[w] = true
	}
}
