package pyfront

import (
	"context"
	"regexp"
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
	if len(res.Rewritten) != len(samples) {
		t.Fatalf("%d rewritten programs for %d samples", len(res.Rewritten), len(samples))
	}
	var lib []Concept
	printable := map[string]bool{}
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
		printable[c.Name] = true
		if !regexp.MustCompile(`(?m)^def ` + regexp.QuoteMeta(c.Name) + `\(`).MatchString(src) {
			t.Errorf("%s prints without defining it:\n%s", c.Name, src)
		}
		if err := Check(context.Background(), []byte(src)); err != nil {
			t.Errorf("%s prints as invalid Python: %v\n%s", c.Name, err, src)
		}
	}
	if len(printable) == 0 {
		t.Error("no learned concept prints as a function")
	}
	// A concept that prints as a function is defined once, at the top
	// level, by the programs that call it, and called by each program that
	// defines it; one that cannot be a function is inlined and its name
	// never appears. At least one program must call a concept function.
	callers := 0
	for i, s := range samples {
		py, err := ProgramToPython(res.Rewritten[i], lib)
		if err != nil {
			t.Fatalf("%s: %v\n%s", s.name, err, res.Rewritten[i])
		}
		calls := 0
		for _, c := range lib {
			name := regexp.QuoteMeta(c.Name)
			defs := len(regexp.MustCompile(`(?m)^def `+name+`\(`).FindAllStringIndex(py, -1))
			uses := len(regexp.MustCompile(`\b`+name+`\(`).FindAllStringIndex(py, -1)) - defs
			switch {
			case !printable[c.Name] && (defs > 0 || uses > 0):
				t.Errorf("%s: %s cannot be a function but is defined %d times and called %d times:\n%s", s.name, c.Name, defs, uses, py)
			case defs > 1:
				t.Errorf("%s: %s defined %d times:\n%s", s.name, c.Name, defs, py)
			case defs == 1 && uses == 0:
				t.Errorf("%s: %s defined but never called:\n%s", s.name, c.Name, py)
			case defs == 0 && uses > 0:
				t.Errorf("%s: %s called but not defined:\n%s", s.name, c.Name, py)
			}
			calls += uses
		}
		if calls > 0 {
			callers++
		}
		want := run(t, s.src, s.input)
		if want.ExitCode != 0 || want.Stdout == "" {
			t.Fatalf("%s: the original program exits %d with output %q: nothing to compare\n%s", s.name, want.ExitCode, want.Stdout, want.Stderr)
		}
		got := run(t, py, s.input)
		if got.Stdout != want.Stdout || got.ExitCode != 0 {
			t.Errorf("%s: output differs:\nwant %q\ngot  %q\n%s\n%s", s.name, want.Stdout, got.Stdout, got.Stderr, py)
		}
	}
	if callers == 0 {
		t.Error("no rewritten program calls a concept function")
	}
}
