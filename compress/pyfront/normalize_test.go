package pyfront

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// TestInlineLocals checks which locals the data-flow normalisation moves.
func TestInlineLocals(t *testing.T) {
	cases := []struct {
		name, src, want string
	}{
		{"chain", "def f(a):\n    x = g(a)\n    y = h(x, 1)\n    return y\n",
			"def f(v0):\n    return h(g(v0), 1)\n"},
		{"past pure statements", "def f(a):\n    x = g(a)\n    z = k(a)\n    return h(x, z, z)\n",
			"def f(v0):\n    v1 = k(v0)\n    return h(g(v0), v1, v1)\n"},
		{"used twice stays", "def f(a):\n    x = g(a)\n    return h(x, x)\n",
			"def f(v0):\n    v1 = g(v0)\n    return h(v1, v1)\n"},
		{"method call is not pure", "def f(a):\n    x = a.pop()\n    return h(x)\n",
			"def f(v0):\n    v1 = v0.pop()\n    return h(v1)\n"},
		{"no move past an effect", "def f(a):\n    x = g(a)\n    print(a)\n    return h(x)\n",
			"def f(v0):\n    v1 = g(v0)\n    print(v0)\n    return h(v1)\n"},
		{"no move past a rebinding", "def f(a):\n    x = g(a)\n    a = 2\n    return h(x, a)\n",
			"def f(v0):\n    v1 = g(v0)\n    v0 = 2\n    return h(v1, v0)\n"},
		{"not into a branch", "def f(a):\n    x = g(a)\n    return 1 if a else x\n",
			"def f(v0):\n    v1 = g(v0)\n    return 1 if v0 else v1\n"},
		{"not into a lambda", "def f(a):\n    x = g(a)\n    return lambda: x\n",
			"def f(v0):\n    v1 = g(v0)\n    return lambda: v1\n"},
		{"not into a loop", "def f(a):\n    x = g(a)\n    for i in a:\n        h(x)\n",
			"def f(v0):\n    v1 = g(v0)\n    for v2 in v0:\n        h(v1)\n"},
		{"into an impure call's argument", "def f(a):\n    x = g(a)\n    print(x)\n",
			"def f(v0):\n    print(g(v0))\n"},
		{"not after an earlier impure argument", "def f(a):\n    x = g(a)\n    k(input(), x)\n",
			"def f(v0):\n    v1 = g(v0)\n    k(input(), v1)\n"},
		{"module level stays", "x = g(1)\ny = h(x)\n", "x = g(1)\ny = h(x)\n"},
		{"first statement", "def f(a):\n    x = g(a)\n    return x\n", "def f(v0):\n    return g(v0)\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ps, err := EncodeUnits(context.Background(), []byte(tc.src), EncodeOptions{Inline: true})
			if err != nil {
				t.Fatal(err)
			}
			got, err := Decode(ps[0].Term)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("got\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
}

// TestFunctionUnits checks that a file of functions is a corpus of many
// programs, each with the file's context.
func TestFunctionUnits(t *testing.T) {
	src := "from lib import *\n\nK = 3\n\ndef a(x):\n    y = f(x)\n    return g(y, K)\n\n@dec\ndef b(x):\n    return x\n\nprint(a(1))\n"
	ps, err := EncodeUnits(context.Background(), []byte(src), EncodeOptions{Unit: UnitFunction, Inline: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 2 || ps[0].Name != "a" || ps[1].Name != "b" {
		t.Fatalf("programs %+v", ps)
	}
	if want := "from lib import *\nK = 3\n"; ps[0].Context != want {
		t.Errorf("context %q, want %q", ps[0].Context, want)
	}
	got, err := Decode(ps[0].Term)
	if err != nil {
		t.Fatal(err)
	}
	if want := "def a(v0):\n    return g(f(v0), K)\n"; got != want {
		t.Errorf("got %q want %q", got, want)
	}
}

// TestAdmissible checks which concepts are well formed.
func TestAdmissible(t *testing.T) {
	cases := []struct {
		body  string
		arity int
		want  error // nil: admitted; errNotFunction: cannot be a function
	}{
		{"(call fill (args #0 FOUR (call mfilter (args #1 #2))))", 3, nil},
		{"(call objects (args #0 T F #1))", 2, nil},
		{"#0", 1, errNotFunction},
		{"(call #0 (args #1 None))", 2, ErrScaffolding},
		{"(seq (= #2 (call #1 #0)) #3)", 4, errNotFunction},
		{"(call #0 (args #1))", 2, ErrScaffolding},
		{"(call compose (args #0 #1))", 2, ErrAlias},
		{"return", 0, errNotFunction},
		{"(seq (from dsl *) #0)", 1, errNotFunction},
		{"(def helper (params v0) (seq (return (call f (args v0 K))) nil))", 0, errNotFunction},
		{"(call fill (args v0 FOUR #0))", 1, errNotFunction},
		{"(seq (= v1 (call f (args #0 K))) (seq (call g (args v1)) #1))", 2, nil},
	}
	for _, tc := range cases {
		err := Admissible(Concept{Name: "fn_0", Body: tc.body, Arity: tc.arity}, nil)
		switch {
		case tc.want == nil && err != nil:
			t.Errorf("%s: %v, want admitted", tc.body, err)
		case tc.want == errNotFunction && err == nil:
			t.Errorf("%s: admitted, want rejected", tc.body)
		case tc.want != nil && tc.want != errNotFunction && !errors.Is(err, tc.want):
			t.Errorf("%s: %v, want %v", tc.body, err, tc.want)
		}
	}
}

var errNotFunction = errors.New("not a function")

// TestRenderCallsOutOfOrder: a pure argument of a pure concept is passed
// even when the body evaluates it after a call.
func TestRenderCallsOutOfOrder(t *testing.T) {
	lib := []Concept{{Name: "fn_0", Body: "(call mapply (args (call lbind (args shift #0)) (call apply (args #1 #2))))", Arity: 3}}
	prog := "(module (seq (def f (params v0) (seq (return (fn_0 (call g (args v0)) (call h (args v0)) v0)) nil)) nil))"
	out, called, err := RenderProgram(prog, lib, RenderOptions{PureCalls: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(called) != 1 || !strings.Contains(out, "return fn_0(g(v0), h(v0), v0)") {
		t.Errorf("called %v:\n%s", called, out)
	}
	out, called, err = RenderProgram(prog, lib, RenderOptions{PureCalls: true, Withdrawn: map[string]bool{"fn_0": true}})
	if err != nil {
		t.Fatal(err)
	}
	if len(called) != 0 || !strings.Contains(out, "return mapply(lbind(shift, g(v0)), apply(h(v0), v0))") {
		t.Errorf("withdrawn: called %v:\n%s", called, out)
	}
	// Without the assumption the call would evaluate h(v0) before lbind.
	if _, called, err = RenderProgram(prog, lib, RenderOptions{}); err != nil || len(called) != 0 {
		t.Errorf("without PureCalls: called %v, %v", called, err)
	}
}

// TestSharedHelpers: an identical definition in several programs becomes
// one helper referred to by its own name, and comes back when printing.
func TestSharedHelpers(t *testing.T) {
	srcs := []string{
		"def sq(x):\n    return x * x\n\ndef solve(a):\n    return sq(a) + 1\n",
		"def sq(x):\n    return x * x\n\ndef solve(a):\n    return sq(a) - 1\n",
		"def sq(y):\n    return y + y\n\ndef solve(a):\n    return sq(a)\n",
	}
	var terms []string
	for _, s := range srcs {
		p, err := Encode(context.Background(), []byte(s))
		if err != nil {
			t.Fatal(err)
		}
		terms = append(terms, p)
	}
	out, hs, err := SharedHelpers(terms)
	if err != nil {
		t.Fatal(err)
	}
	if len(hs) != 1 || hs[0].Name != "sq" || hs[0].Ref != "def:sq" || hs[0].Programs != 2 {
		t.Fatalf("helpers %+v", hs)
	}
	if !strings.Contains(out[0], "def:sq") || strings.Contains(out[0], "(def sq") || out[2] != terms[2] {
		t.Errorf("programs %q", out)
	}
	def, err := HelperDef(hs[0].HelperProgram())
	if err != nil || def != hs[0].Def {
		t.Fatalf("HelperDef %q %v", def, err)
	}
	back := ExpandHelpers(out[1], map[string]string{hs[0].Ref: def})
	if back != terms[1] {
		t.Errorf("expanded %q, want %q", back, terms[1])
	}
	if err := Admissible(Concept{Name: "fn_0", Body: "(seq def:sq (seq (call f (args K #0)) nil))", Arity: 1}, nil); err == nil {
		t.Error("a concept holding a shared helper was admitted")
	}
}
