package pyfront

import (
	"strings"
	"testing"
)

func TestConceptToPython(t *testing.T) {
	tests := []struct {
		name  string
		c     Concept
		want  string // exact output, when err is empty
		error string // substring of the error
	}{
		{"expression", Concept{"fn_0", "(call (attr #0 append) (args #1))", 2},
			"def fn_0(p0, p1):\n    return p0.append(p1)\n", ""},
		{"expression precedence", Concept{"fn_1", "(* (+ #0 1) #1)", 2},
			"def fn_1(p0, p1):\n    return (p0 + 1) * p1\n", ""},
		{"no holes", Concept{"fn_2", "(call list (args (call map (args int (call (attr (call input args) split) args)))))", 0},
			"def fn_2():\n    return list(map(int, input().split()))\n", ""},
		{"comprehension binds its own variable", Concept{"fn_3", "(listcomp (* c0 #0) (cfor c0 (call range (args #1))))", 2},
			"def fn_3(p0, p1):\n    return [c0 * p0 for c0 in range(p1)]\n", ""},
		{"statement run with tail", Concept{"fn_4", "(seq (call print (args #0)) (seq (call print (args #1)) #2))", 3},
			"def fn_4(p0, p1):\n    print(p0)\n    print(p1)\n", ""},
		{"run returns what it binds", Concept{"fn_5", "(seq (= v3 (call int (args (call input args)))) (seq (= v4 []) #0))", 1},
			"def fn_5():\n    v3 = int(input())\n    v4 = []\n    return v3, v4\n", ""},
		{"run ending in return", Concept{"fn_6", "(seq (= v2 (+ #0 1)) (seq (return (* v2 v2)) nil))", 1},
			"def fn_6(p0):\n    v2 = p0 + 1\n    return v2 * v2\n", ""},
		{"single statement", Concept{"fn_7", "(for c0 #0 (seq (call print (args c0)) nil))", 1},
			"def fn_7(p0):\n    for c0 in p0:\n        print(c0)\n", ""},
		{"loop variable is not returned", Concept{"fn_8", "(seq (for v1 #0 (seq (call print (args v1)) nil)) #1)", 2},
			"def fn_8(p0):\n    for v1 in p0:\n        print(v1)\n", ""},
		{"uses other concept", Concept{"fn_9", "(+ (fn_0 #0 1) 2)", 1},
			"def fn_9(p0):\n    return fn_0(p0, 1) + 2\n", ""},
		{"arg list fragment", Concept{"fn_a", "(args #0 #1)", 2}, "", "fragment"},
		{"partial call", Concept{"fn_b", "(call (attr #0 append))", 1}, "", "call needs"},
		{"hole as target", Concept{"fn_c", "(= #0 (call input args))", 1}, "", "hole #0 in assignment target position"},
		{"hole as attribute", Concept{"fn_d", "(attr x #0)", 1}, "", "hole #0 in"},
		{"hole as statement", Concept{"fn_e", "(seq #0 (seq pass nil))", 1}, "", "hole #0 in statement position"},
		{"hole in nested block tail", Concept{"fn_f", "(if a (seq pass #0))", 1}, "", "statement tail position"},
		{"free local", Concept{"fn_g", "(+ v3 #0)", 1}, "", "reads v3"},
		{"read before bind", Concept{"fn_h", "(seq (+= v3 1) #0)", 1}, "", "reads v3 before binding"},
		{"break outside loop", Concept{"fn_i", "(seq (call f args) (seq break #0))", 1}, "", "break or continue"},
		{"early return", Concept{"fn_j", "(seq (if #0 (seq (return 1) nil)) #1)", 2}, "", "return other than"},
		{"yield", Concept{"fn_k", "(yield #0)", 1}, "", "yield"},
		{"walrus", Concept{"fn_l", "(:= v1 #0)", 1}, "", ":="},
		{"hole beyond arity", Concept{"fn_m", "(+ #0 #1)", 1}, "", "outside arity"},
		{"lambda calculus", Concept{"fn_n", "(lam (+ $0 #0))", 1}, "", "not Python"},
		{"bad name", Concept{"call", "(+ #0 1)", 1}, "", "not usable"},
		{"bare hole", Concept{"fn_o", "#0", 1}, "", "not an expression"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ConceptToPython(tt.c)
			if tt.error != "" {
				if err == nil || !strings.Contains(err.Error(), tt.error) {
					t.Fatalf("ConceptToPython(%v) = %q, %v; want error containing %q", tt.c, got, err, tt.error)
				}
				return
			}
			if err != nil {
				t.Fatalf("ConceptToPython(%v): %v", tt.c, err)
			}
			if got != tt.want {
				t.Fatalf("ConceptToPython(%v)\n got %q\nwant %q", tt.c, got, tt.want)
			}
		})
	}
}

func TestConceptToPythonLib(t *testing.T) {
	lib := []Concept{
		{"fn_0", "(seq #0 nil)", 1},
		{"fn_1", "(call #1 (args #0))", 2},
		{"fn_2", "(fn_1 #1 (attr #0 append))", 2},
		{"fn_3", "(def #0 params (fn_0 (return (fn_1 #1 len))))", 2},
	}
	got, err := ConceptToPythonLib(lib[2], lib)
	if want := "def fn_2(p0, p1):\n    return p0.append(p1)\n"; err != nil || got != want {
		t.Errorf("ConceptToPythonLib(fn_2) = %q, %v; want %q", got, err, want)
	}
	got, err = ConceptToPythonLib(lib[3], lib)
	if err == nil || !strings.Contains(err.Error(), "hole #0 in definition name position") {
		t.Errorf("ConceptToPythonLib(fn_3) = %q, %v; want an error about the definition name", got, err)
	}
	// On its own, an application of an unknown concept is a call...
	got, err = ConceptToPython(lib[2])
	if want := "def fn_2(p0, p1):\n    return fn_1(p1, p0.append)\n"; err != nil || got != want {
		t.Errorf("ConceptToPython(fn_2) = %q, %v; want %q", got, err, want)
	}
	// ... unless that cannot be, which the error explains.
	if _, err := ConceptToPython(lib[3]); err == nil || !strings.Contains(err.Error(), "ConceptToPythonLib") {
		t.Errorf("ConceptToPython(fn_3) error = %v, want a pointer to ConceptToPythonLib", err)
	}
}

func TestConceptHolesInLiteralPositions(t *testing.T) {
	for _, body := range []string{"(strs #0 s:'a')", "(import (alias #0 os))", "(from #0 x)", "(fstr s:f' (fmt x #0) s:')", "(cmp a #0 b < c)", "(global #0)"} {
		if got, err := ConceptToPython(Concept{"fn_0", body, 1}); err == nil {
			t.Errorf("ConceptToPython(%s) = %q, want an error", body, got)
		}
	}
}
