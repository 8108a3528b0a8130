package pyfront

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/atlas-ai/atlas-learn/compress/sexp"
)

// match binds the holes of pattern p against term n.
func match(p, n *sexp.Node, binds map[int]*sexp.Node) bool {
	if !p.IsList {
		if k, ok := isHole(p.Atom); ok {
			if b, seen := binds[k]; seen {
				return b.String() == n.String()
			}
			binds[k] = n
			return true
		}
		return !n.IsList && n.Atom == p.Atom
	}
	if !n.IsList || len(p.List) != len(n.List) {
		return false
	}
	for i := range p.List {
		if !match(p.List[i], n.List[i], binds) {
			return false
		}
	}
	return true
}

// rewrite replaces, top down, every subterm matching body (or a list whose
// prefix matches a list body, as Stitch's curried terms allow) by an
// application of name, and reports how many it replaced.
func rewrite(n *sexp.Node, name, body string, arity int) (*sexp.Node, int) {
	p, err := sexp.Parse(body)
	if err != nil {
		panic(err)
	}
	var count int
	var walk func(n *sexp.Node) *sexp.Node
	walk = func(n *sexp.Node) *sexp.Node {
		try := func(target *sexp.Node, rest []*sexp.Node) *sexp.Node {
			binds := map[int]*sexp.Node{}
			if !match(p, target, binds) {
				return nil
			}
			count++
			if arity == 0 && len(rest) == 0 {
				return &sexp.Node{Atom: name}
			}
			app := &sexp.Node{IsList: true, List: []*sexp.Node{{Atom: name}}}
			for k := 0; k < arity; k++ {
				b := binds[k]
				if b == nil {
					b = &sexp.Node{Atom: "None"}
				}
				app.List = append(app.List, walk(b))
			}
			for _, r := range rest {
				app.List = append(app.List, walk(r))
			}
			return app
		}
		if r := try(n, nil); r != nil {
			return r
		}
		if !n.IsList {
			return n
		}
		if p.IsList && len(p.List) < len(n.List) {
			pre := &sexp.Node{IsList: true, List: n.List[:len(p.List)]}
			if r := try(pre, n.List[len(p.List):]); r != nil {
				return r
			}
		}
		out := &sexp.Node{IsList: true, List: make([]*sexp.Node, len(n.List))}
		for i, c := range n.List {
			out.List[i] = walk(c)
		}
		return out
	}
	return walk(n), count
}

// checkRewritten prints a rewritten program, checks that it parses, runs it
// and compares its output with the original's. It reports whether some
// concept was printed as a function call.
func checkRewritten(t *testing.T, s sample, want string, prog *sexp.Node, lib []Concept) bool {
	t.Helper()
	py, err := ProgramToPython(prog.String(), lib)
	if err != nil {
		t.Fatalf("ProgramToPython: %v\nlib %v\n%s", err, lib, prog)
	}
	if err := Check(context.Background(), []byte(py)); err != nil {
		t.Fatalf("printed program does not parse: %v\n%s", err, py)
	}
	if strings.HasSuffix(s.name, ".py") {
		if plain, err := Decode(mustEncode(t, s.src)); err == nil && plain == py {
			// Every use was inlined: the program is the corpus program's
			// decoding, whose behaviour TestCorpusRoundTrip checks.
			return false
		}
	}
	got := run(t, py, s.input)
	if got.Stdout != want || got.ExitCode != 0 {
		t.Fatalf("output differs for lib %v:\nwant %q\ngot  %q\n%s\n%s", lib, want, got.Stdout, got.Stderr, py)
	}
	return strings.Contains(py, "def "+lib[len(lib)-1].Name+"(")
}

// handLibrary is a small library in the style Stitch learns, applied in
// order; fn_3 uses fn_0.
var handLibrary = []Concept{
	{"fn_0", "(call list (args (call map (args int (call (attr (call input args) split) args)))))", 0},
	{"fn_1", "(call (attr #0 append) (args #1))", 2},
	{"fn_2", "(call (attr #0 append))", 1},
	{"fn_3", "(seq (= #0 fn_0) #1)", 2},
	{"fn_4", "(for (tuple v1 v2) #0 (seq (call print (args v1 v2)) nil))", 1},
	{"fn_5", "(seq (= v2 []) #0)", 1},
	{"fn_6", "(return (call (attr s:'' join) (args #0)))", 1},
	{"fn_7", "(+= #0 #1)", 2},
	{"fn_8", "(seq (= v1 0) (seq (for (tuple v2 v3) v0 (seq (+= v1 (- v3 v2)) nil)) (seq (return v1) nil)))", 0},
}

func TestProgramToPythonHandLibrary(t *testing.T) {
	calls := 0
	for _, s := range corpus(t) {
		t.Run(s.name, func(t *testing.T) {
			want := run(t, s.src, s.input).Stdout
			prog, err := sexp.Parse(mustEncode(t, s.src))
			if err != nil {
				t.Fatal(err)
			}
			var lib []Concept
			for _, c := range handLibrary {
				var n int
				prog, n = rewrite(prog, c.Name, c.Body, c.Arity)
				if n == 0 {
					continue
				}
				lib = append(lib, c)
			}
			if len(lib) == 0 {
				return
			}
			py, err := ProgramToPython(prog.String(), lib)
			if err != nil {
				t.Fatal(err)
			}
			calls += strings.Count(py, "def fn_")
			checkRewritten(t, s, want, prog, lib)
		})
	}
	if calls < 5 {
		t.Errorf("only %d concept functions were printed; the call-site rules are too strict", calls)
	}
}

// TestProgramToPythonGenerated cuts concepts out of the corpus programs:
// for a sample of subtrees, each child (or each list child) becomes a hole;
// every matching subtree is rewritten into an application, and the printed
// program must parse and behave like the original.
func TestProgramToPythonGenerated(t *testing.T) {
	calls, total := 0, 0
	for _, s := range corpus(t) {
		t.Run(s.name, func(t *testing.T) {
			want := run(t, s.src, s.input).Stdout
			prog, err := sexp.Parse(mustEncode(t, s.src))
			if err != nil {
				t.Fatal(err)
			}
			var subs []*sexp.Node
			var collect func(n *sexp.Node)
			collect = func(n *sexp.Node) {
				if n.IsList {
					if len(n.List) > 2 && head(n) != "module" {
						subs = append(subs, n)
					}
					for _, c := range n.List {
						collect(c)
					}
				}
			}
			collect(prog)
			step := max(1, len(subs)/12)
			for i := 0; i < len(subs); i += step {
				for variant := 0; variant < 3; variant++ {
					body, arity := holeUp(subs[i], variant)
					c := Concept{Name: "fn_0", Body: body.String(), Arity: arity}
					if src, err := ConceptToPython(c); err == nil {
						if err := Check(context.Background(), []byte(src)); err != nil {
							t.Fatalf("ConceptToPython(%v) is not Python: %v\n%s", c, err, src)
						}
					}
					rp, n := rewrite(prog, c.Name, c.Body, c.Arity)
					if n == 0 {
						t.Fatalf("concept %s matched nothing", c.Body)
					}
					total++
					if checkRewritten(t, s, want, rp, []Concept{c}) {
						calls++
					}
				}
			}
		})
	}
	t.Logf("%d of %d generated concepts printed as functions", calls, total)
	if calls*10 < total {
		t.Errorf("only %d of %d generated concepts were printed as functions", calls, total)
	}
}

// holeUp abstracts the children of n: variant 0 turns every list child into
// a hole, variant 1 every child, variant 2 is variant 0 without the last
// child, keeping the head; a repeated child gets the same hole.
func holeUp(n *sexp.Node, variant int) (*sexp.Node, int) {
	out := &sexp.Node{IsList: true, List: []*sexp.Node{n.List[0]}}
	seen := map[string]int{}
	kids := n.List[1:]
	if variant == 2 {
		// A curried prefix, as Stitch may learn: (h a b) from (h a b c).
		kids = kids[:len(kids)-1]
		variant = 0
	}
	for _, c := range kids {
		if variant == 0 && !c.IsList {
			out.List = append(out.List, c)
			continue
		}
		k, ok := seen[c.String()]
		if !ok {
			k = len(seen)
			seen[c.String()] = k
		}
		out.List = append(out.List, &sexp.Node{Atom: fmt.Sprintf("#%d", k)})
	}
	return out, len(seen)
}
