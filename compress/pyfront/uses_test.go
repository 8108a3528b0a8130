package pyfront

import (
	"regexp"
	"strings"
	"testing"

	"github.com/atlas-ai/atlas-learn/compress/sexp"
)

// TestProgramToPythonUseSites checks the decision between calling and
// inlining, and that either way the program still behaves the same.
func TestProgramToPythonUseSites(t *testing.T) {
	tests := []struct {
		name, src, input string
		lib              []Concept
		wantCall         bool
	}{
		{"run returns its bindings", "def main():\n    n = int(input())\n    xs = []\n    for i in range(n):\n        xs.append(i * 2)\n    print(n, xs)\nmain()\n", "3\n",
			[]Concept{{"fn_0", "(seq (= v0 (call int (args (call input args)))) (seq (= v1 []) #0))", 1}}, true},
		{"conditional binding used later", "def main(flag):\n    if flag:\n        r = 1\n    else:\n        r = 2\n    print(r)\nmain(True)\n", "",
			[]Concept{{"fn_0", "(seq (if #0 (seq (= v1 1) nil) (else (seq (= v1 2) nil))) #1)", 2}}, false},
		{"loop variable unused later", "def main(xs):\n    for x in xs:\n        print(x)\n    print('done')\nmain([1, 2])\n", "",
			[]Concept{{"fn_0", "(seq (for v1 #0 (seq (call print (args v1)) nil)) #1)", 2}}, true},
		{"loop variable used later", "def main(xs):\n    for x in xs:\n        print(x)\n    print(x)\nmain([1, 2])\n", "",
			[]Concept{{"fn_0", "(seq (for v1 #0 (seq (call print (args v1)) nil)) #1)", 2}}, false},
		{"effectful argument first", "a = input()\nprint(input(), a)\n", "x\ny\n",
			[]Concept{{"fn_0", "(call print (args #0 #1))", 2}}, true},
		{"effectful argument after a call", "print(input(), input())\n", "x\ny\n",
			[]Concept{{"fn_0", "(call print (args (call input args) #0))", 1}}, false},
		{"effectful arguments out of order", "def f(s):\n    print(s)\n    return s\nprint(f('a') + f('b'))\n", "",
			[]Concept{{"fn_0", "(+ #1 #0)", 2}}, false},
		{"argument captured by the body", "xs = [1, 2]\nprint([x + 1 for x in xs])\n", "",
			[]Concept{{"fn_0", "(listcomp #0 (cfor c0 #1))", 2}}, false},
		{"lazy effectful argument", "def f():\n    print('f ran')\n    return 1\na = 5\nprint(a or f())\n", "",
			[]Concept{{"fn_0", "(or #0 #1)", 2}}, false},
		{"lazy atomic arguments", "a = 0\nb = 7\nprint(a or b)\n", "",
			[]Concept{{"fn_0", "(or #0 #1)", 2}}, true},
		{"class body", "class A:\n    x = int('3')\nprint(A.x)\n", "",
			[]Concept{{"fn_0", "(= x (call int (args #0)))", 1}}, false},
		{"reads a local of the caller", "def f(key):\n    return key + 1\nprint(f(key=1))\n", "",
			[]Concept{{"fn_0", "(+ key 1)", 0}}, false},
		{"reads a local of an outer function", "def outer(key):\n    def inner():\n        return key + 1\n    return inner()\nprint(outer(key=1))\n", "",
			[]Concept{{"fn_0", "(+ key 1)", 0}}, false},
		{"ends in return", "def f(a):\n    b = a * 2\n    return b + 1\nprint(f(3))\n", "",
			[]Concept{{"fn_0", "(seq (= v1 (* #0 2)) (seq (return (+ v1 1)) nil))", 1}}, true},
		{"tail continues after the call", "def f(a):\n    print('start')\n    print(a)\n    return a\nprint(f(3))\n", "",
			[]Concept{{"fn_0", "(seq (call print (args s:'start')) (seq (call print (args #0)) #1))", 2}}, true},
		{"module-level bindings", "n = int(input())\nm = n * 2\nprint(n, m)\n", "4\n",
			[]Concept{{"fn_0", "(seq (= n (call int (args (call input args)))) (seq (= m (* n 2)) #0))", 1}}, true},
		{"curried over-application", "xs = []\nxs.append(1)\nprint(xs)\n", "",
			[]Concept{{"fn_0", "(call (attr #0 append))", 1}}, false},
		{"concept using a concept", "print(int(input()))\n", "5\n",
			[]Concept{{"fn_0", "(call int (args (call input args)))", 0}, {"fn_1", "(call print (args fn_0))", 0}}, true},
		{"closure reads the variable later", "def main():\n    x = 1\n    f = lambda: x\n    x = 2\n    print(f())\nmain()\n", "",
			[]Concept{{"fn_0", "(lmb #0)", 1}}, false},
		{"closure over a literal", "def main():\n    f = lambda: 3\n    print(f())\nmain()\n", "",
			[]Concept{{"fn_0", "(lmb #0)", 1}}, true},
		{"future import stays first", "from __future__ import annotations\nprint(int('7'))\n", "",
			[]Concept{{"fn_0", "(call int (args #0))", 1}}, true},
		{"assignment target", "a = [0]\na[0] = 1\nprint(a)\n", "",
			[]Concept{{"fn_0", "(sub #0 0)", 1}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := sample{name: tt.name, src: tt.src, input: tt.input}
			want := run(t, tt.src, tt.input)
			if want.ExitCode != 0 {
				t.Fatalf("original fails: %s", want.Stderr)
			}
			prog, err := sexp.Parse(mustEncode(t, tt.src))
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range tt.lib {
				var n int
				prog, n = rewrite(prog, c.Name, c.Body, c.Arity)
				if n == 0 {
					t.Fatalf("concept %s matches nothing in %s", c.Body, prog)
				}
			}
			py, err := ProgramToPython(prog.String(), tt.lib)
			if err != nil {
				t.Fatal(err)
			}
			last := tt.lib[len(tt.lib)-1].Name
			called := regexp.MustCompile(`(?m)^(?:\s+|.*[^\w])` + last + `\(`).MatchString(py)
			if called != tt.wantCall {
				t.Errorf("called = %v, want %v:\n%s", called, tt.wantCall, py)
			}
			checkRewritten(t, s, want.Stdout, prog, tt.lib)
		})
	}
}

func TestProgramToPythonErrors(t *testing.T) {
	lib := []Concept{{"fn_0", "(+ #0 #1)", 2}}
	tests := []struct {
		name, prog string
		lib        []Concept
		want       string
	}{
		{"not a term", "(module (seq", lib, "unbalanced"},
		{"not a module", "(seq pass nil)", lib, "not (module BLOCK)"},
		{"under-applied", "(module (seq (fn_0 1) nil))", lib, "applied to 1 arguments, needs 2"},
		{"unknown head", "(module (seq (frob 1) nil))", lib, "unknown statement"},
		{"hole in program", "(module (seq #0 nil))", lib, "hole"},
		{"fragment as statement", "(module (seq (slice 1 2) nil))", lib, "unknown statement"},
		{"bad concept", "(module nil)", []Concept{{"fn_0", "(+ #0", 1}}, "concept fn_0"},
		{"duplicate concept", "(module nil)", []Concept{lib[0], lib[0]}, "defined twice"},
		{"concept name used as a variable", "(module (seq (call fn_0 args) nil))", lib, "applied to 0 arguments"},
		{"self-referent concept", "(module (seq fn_1 nil))", []Concept{{"fn_1", "(+ fn_1 1)", 0}}, "nested more than 64"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ProgramToPython(tt.prog, tt.lib)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("ProgramToPython(%s) = %q, %v; want error containing %q", tt.prog, got, err, tt.want)
			}
		})
	}
}

// TestLongProgram checks that long blocks (deeply nested statement lists)
// encode, print and run.
func TestLongProgram(t *testing.T) {
	var b strings.Builder
	b.WriteString("total = 0\n")
	for i := 0; i < 400; i++ {
		b.WriteString("total += " + strings.Repeat("1 + ", i%5) + "1\n")
		if i%50 == 0 {
			b.WriteString("print(total)\n")
		}
	}
	src := b.String()
	prog, err := sexp.Parse(mustEncode(t, src))
	if err != nil {
		t.Fatal(err)
	}
	lib := []Concept{{"fn_0", "(seq (call print (args #0)) #1)", 2}}
	prog, n := rewrite(prog, lib[0].Name, lib[0].Body, lib[0].Arity)
	if n != 8 {
		t.Fatalf("rewrote %d uses, want 8", n)
	}
	want := run(t, src, "")
	if !checkRewritten(t, sample{name: "long", src: src}, want.Stdout, prog, lib) {
		t.Error("fn_0 was not called")
	}
}

func TestCurriedHeads(t *testing.T) {
	// A hole in head position receives a partial application; ((h a) b) is
	// (h a b).
	lib := []Concept{{"fn_0", "(#0 (args #1))", 2}}
	prog := "(module (seq (fn_0 (call print) 7) (seq ((call print) (args 8)) nil)))"
	got, err := ProgramToPython(prog, lib)
	if want := "print(7)\nprint(8)\n"; err != nil || got != want {
		t.Fatalf("ProgramToPython = %q, %v; want %q", got, err, want)
	}
}
