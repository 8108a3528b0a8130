package autodoc

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/atlas-ai/atlas-learn/columnar"
	"github.com/atlas-ai/atlas-learn/compress"
	"github.com/atlas-ai/atlas-learn/internal/trajgen"
	"github.com/atlas-ai/atlas-learn/jobs/concepts"
)

func learn(t *testing.T, n int, lib []concepts.Concept) ([]concepts.Concept, concepts.Stats) {
	t.Helper()
	cfg := trajgen.DefaultConfig()
	cfg.N = n
	col := concepts.NewCollector(0, 10)
	if err := trajgen.Generate(context.Background(), cfg, func(tr columnar.Trajectory) error {
		if tr.Outcome.Success {
			col.Add(tr.TrajectoryID, tr.Solution.Code)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	rows, st, err := concepts.Learn(context.Background(), col.Solutions(), concepts.Options{Iterations: 6, MaxArity: 2, Workers: 2,
		Cost: compress.DefaultCost(), MaxIDs: 5, Library: lib})
	if err != nil {
		t.Fatal(err)
	}
	return rows, st
}

func TestApplyHeuristic(t *testing.T) {
	rows, st := learn(t, 200, nil)
	if _, err := Apply(context.Background(), rows, Options{Reserved: st.Symbols}); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	sym := map[string]bool{}
	for _, s := range st.Symbols {
		sym[s] = true
	}
	for _, r := range rows {
		if !validName(r.Name) || seen[r.Name] || sym[r.Name] || strings.HasPrefix(r.Name, "fn_") {
			t.Errorf("name %q invalid, repeated or taken", r.Name)
		}
		seen[r.Name] = true
		if r.DocSource != SourceHeuristic || checkDescription(r.Description) != nil {
			t.Errorf("%s: doc %q %q", r.Name, r.DocSource, r.Description)
		}
		if n, err := signatureArity(r.Signature); err != nil || n != pyArity(&r) {
			t.Errorf("%s: signature %q (%v)", r.Name, r.Signature, err)
		}
		if strings.Contains(r.Body, "fn_") {
			t.Errorf("%s: body still names a learned name: %s", r.Name, r.Body)
		}
		if r.Python != "" && (!strings.HasPrefix(r.Python, "def "+r.Name+"(") || !strings.Contains(r.Python, `"""`+r.Description)) {
			t.Errorf("%s: python\n%s", r.Name, r.Python)
		}
		t.Logf("%s %s %s", r.Name, r.Signature, r.Description)
	}
	// The same input names the same way.
	again, st2 := learn(t, 200, nil)
	if _, err := Apply(context.Background(), again, Options{Reserved: st2.Symbols}); err != nil {
		t.Fatal(err)
	}
	for i := range rows {
		if rows[i].Name != again[i].Name || rows[i].Python != again[i].Python {
			t.Errorf("row %d: %s vs %s", i, rows[i].Name, again[i].Name)
		}
	}
}

// A library's concepts keep their names and docs when the next run
// extends it; new concepts avoid the library's names.
func TestApplyLibraryStable(t *testing.T) {
	lib, st := learn(t, 120, nil)
	if _, err := Apply(context.Background(), lib, Options{Reserved: st.Symbols}); err != nil {
		t.Fatal(err)
	}
	rows, st2 := learn(t, 400, lib)
	if _, err := Apply(context.Background(), rows, Options{Reserved: st2.Symbols}); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for i, r := range rows {
		if seen[r.Name] {
			t.Errorf("name %s twice", r.Name)
		}
		seen[r.Name] = true
		if i < len(lib) {
			l := lib[i]
			if !r.FromLibrary || r.Name != l.Name || r.Description != l.Description || r.Signature != l.Signature || r.Python != l.Python || r.Body != l.Body {
				t.Errorf("library concept %d changed: %+v\nwas %+v", i, r, l)
			}
		}
	}
}

type fixed struct {
	docs map[string]Doc
}

func (f fixed) Document(_ context.Context, c *concepts.Concept, _ func(Doc) error) (Doc, error) {
	d, ok := f.docs[c.Name]
	if !ok {
		return Doc{}, errors.New("refused")
	}
	return d, nil
}

// Proposed names are validated; collisions get _2, _3 in row order.
func TestApplyProposals(t *testing.T) {
	rows := []concepts.Concept{
		{Name: "fn_0", Body: "(call sorted (args #0))", Arity: 1, Python: "def fn_0(p0):\n    return sorted(p0)\n"},
		{Name: "fn_1", Body: "(call sorted (args (fn_0 #0)))", Arity: 1, Python: "def fn_1(p0):\n    return sorted(sorted(p0))\n"},
		{Name: "fn_2", Body: "(call len (args #0))", Arity: 1, Python: "def fn_2(p0):\n    return len(p0)\n"},
		{Name: "fn_3", Body: "(call max (args #0))", Arity: 1},
	}
	d := Doc{Name: "sort_all", Description: "Sorts the items.", Signature: "(xs: list[int]) -> list[int]"}
	st, err := Apply(context.Background(), rows, Options{Source: SourceLLM, Reserved: []string{"helper"}, Documenter: fixed{map[string]Doc{
		"fn_0": d, "fn_1": {Name: "sort_all", Description: "Sorts twice.", Signature: "(xs) -> list"},
		"fn_2": {Name: "len", Description: "Counts.", Signature: "(xs) -> int"},
		"fn_3": {Name: "helper", Description: "Max.", Signature: "(xs) -> int"}}}})
	if err != nil {
		t.Fatal(err)
	}
	want := []struct{ name, src, fb string }{
		{"sort_all", "llm", ""}, {"sort_all_2", "llm", ""},
		{"apply_len", "heuristic", "llm: name \"len\" is not"}, {"apply_max", "heuristic", `llm: name "helper" is already a name in the corpus`},
	}
	for i, w := range want {
		r := rows[i]
		if r.Name != w.name || r.DocSource != w.src || !strings.HasPrefix(r.DocFallback, w.fb) {
			t.Errorf("row %d: %q %q %q, want %+v", i, r.Name, r.DocSource, r.DocFallback, w)
		}
	}
	if rows[1].Body != "(call sorted (args (sort_all #0)))" || st.Fallbacks != 2 || st.Renamed != 4 {
		t.Errorf("body %s, stats %+v", rows[1].Body, st)
	}
	one := []concepts.Concept{rows[0]}
	one[0].Name = "fn_0"
	if _, err := Apply(context.Background(), one, Options{Source: SourceLLM, Documenter: fixed{}}); err != nil || !strings.HasPrefix(one[0].DocFallback, "llm: refused") {
		t.Errorf("refusal: %v %+v", err, one[0])
	}
	if !strings.Contains(rows[0].Python, "def sort_all(") || !strings.Contains(rows[0].Python, "Signature: (xs: list[int]) -> list[int]") {
		t.Errorf("python\n%s", rows[0].Python)
	}
}

func TestSignatureArity(t *testing.T) {
	for _, c := range []struct {
		sig string
		n   int
		ok  bool
	}{
		{"(xs: list[int], k: int) -> list[int]", 2, true},
		{"() -> Any", 0, true},
		{"(p0, p1) -> Any", 2, true},
		{"(d: dict[str, int]) -> int", 1, true},
		{"xs -> int", 0, false},
		{"(a, b", 0, false},
		{"(a) int", 0, false},
	} {
		n, err := signatureArity(c.sig)
		if (err == nil) != c.ok || (c.ok && n != c.n) {
			t.Errorf("signatureArity(%q) = %d, %v", c.sig, n, err)
		}
	}
}
