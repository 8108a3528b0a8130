package pyfront

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/atlas-ai/atlas-learn/compress/sexp"
)

// FuzzRoundTrip: whatever Encode accepts, Decode prints as Python that
// parses and encodes to the same term.
func FuzzRoundTrip(f *testing.F) {
	for _, s := range snippets {
		f.Add(s.src)
	}
	files, _ := filepath.Glob("testdata/*.py")
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(string(b))
		}
	}
	f.Add("x = (yield)\n")
	f.Add("a = b = c = d\n")
	f.Fuzz(func(t *testing.T, src string) {
		e1, err := Encode(context.Background(), []byte(src))
		if err != nil {
			return
		}
		py, err := Decode(e1)
		if err != nil {
			t.Fatalf("decode %s: %v", e1, err)
		}
		if err := Check(context.Background(), []byte(py)); err != nil {
			t.Fatalf("decoded Python does not parse: %v\n%s\nfrom %q", err, py, src)
		}
		e2, err := Encode(context.Background(), []byte(py))
		if err != nil {
			t.Fatal(err)
		}
		if e1 != e2 {
			t.Fatalf("not a fixed point:\n%s\n%s\n%s", e1, e2, py)
		}
	})
}

// FuzzPrinters: arbitrary terms and concepts never crash the printers.
func FuzzPrinters(f *testing.F) {
	f.Add("(module (seq (fn_0 x (seq pass nil)) nil))", "(seq (call print (args #0)) #1)", 2)
	f.Add("(module (seq (fn_0 1 2) nil))", "(+ #0 #1)", 2)
	f.Add("(module (seq (= (fn_0 a) 1) nil))", "(sub #0 0)", 1)
	f.Add("(module (seq (call f (fn_0 x)) nil))", "(args #0 #0)", 1)
	f.Add("(module nil)", "#0", 1)
	f.Add("(module (seq (if fn_0 (seq pass nil)) nil))", "(lam $0)", 0)
	f.Fuzz(func(t *testing.T, prog, body string, arity int) {
		if arity < 0 || arity > 8 {
			return
		}
		c := Concept{Name: "fn_0", Body: body, Arity: arity}
		_, _ = ConceptToPython(c)
		_, _ = ProgramToPython(prog, []Concept{c})
		_, _ = Decode(prog)
	})
}

// FuzzConceptCut cuts a concept out of an encoded program, rewrites the
// program with it and checks that the printed program and concept parse.
func FuzzConceptCut(f *testing.F) {
	for i, s := range snippets {
		f.Add(s.src, uint16(i*7), uint8(i))
	}
	f.Fuzz(func(t *testing.T, src string, pick uint16, variant uint8) {
		e, err := Encode(context.Background(), []byte(src))
		if err != nil {
			return
		}
		prog, err := sexp.Parse(e)
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
		if len(subs) == 0 {
			return
		}
		body, arity := holeUp(subs[int(pick)%len(subs)], int(variant%3))
		c := Concept{Name: "fn_0", Body: body.String(), Arity: arity}
		rp, _ := rewrite(prog, c.Name, c.Body, c.Arity)
		py, err := ProgramToPython(rp.String(), []Concept{c})
		if err != nil {
			if strings.Contains(err.Error(), "also a name") {
				return
			}
			t.Fatalf("ProgramToPython: %v\n%s\n%s", err, c.Body, rp)
		}
		if err := Check(context.Background(), []byte(py)); err != nil {
			t.Fatalf("printed program does not parse: %v\n%s\n%s", err, c.Body, py)
		}
		if fn, err := ConceptToPython(c); err == nil {
			if err := Check(context.Background(), []byte(fn)); err != nil {
				t.Fatalf("printed concept does not parse: %v\n%s", err, fn)
			}
		}
	})
}
