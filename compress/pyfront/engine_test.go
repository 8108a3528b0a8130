package pyfront

import (
	"context"
	"strings"
	"testing"

	"github.com/atlas-ai/atlas-learn/compress"
)

// TestEngineCorpus runs the library-learning engine on the encoded corpus
// and checks that every rewritten program prints as Python that behaves
// like the original, and that concepts print on their own.
func TestEngineCorpus(t *testing.T) {
	samples := corpus(t)
	var progs []string
	for _, s := range samples {
		progs = append(progs, mustEncode(t, s.src))
	}
	res, err := compress.Compress(context.Background(), progs, compress.Options{Iterations: 15, MaxArity: 3})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Abstractions) == 0 {
		t.Fatal("the engine learned nothing from the corpus")
	}
	var lib []Concept
	printable := 0
	for _, a := range res.Abstractions {
		c := Concept{Name: a.Name, Body: a.Body, Arity: a.Arity}
		lib = append(lib, c)
		src, err := ConceptToPythonLib(c, lib)
		if err != nil {
			if !strings.Contains(err.Error(), "cannot be a Python function") {
				t.Errorf("%s %s: %v", c.Name, c.Body, err)
			}
			continue
		}
		printable++
		if err := Check(context.Background(), []byte(src)); err != nil {
			t.Errorf("%s prints as invalid Python: %v\n%s", c.Name, err, src)
		}
	}
	if printable == 0 {
		t.Error("no learned concept prints as a function")
	}
	calls := 0
	for i, s := range samples {
		py, err := ProgramToPython(res.Rewritten[i], lib)
		if err != nil {
			t.Fatalf("%s: %v\n%s", s.name, err, res.Rewritten[i])
		}
		calls += strings.Count(py, "\ndef fn_") + strings.Count(py[:min(len(py), 4)], "def ")
		want := run(t, s.src, s.input)
		got := run(t, py, s.input)
		if got.Stdout != want.Stdout || got.ExitCode != 0 {
			t.Errorf("%s: output differs:\nwant %q\ngot  %q\n%s\n%s", s.name, want.Stdout, got.Stdout, got.Stderr, py)
		}
	}
	if calls == 0 {
		t.Error("no rewritten program calls a concept function")
	}
}
