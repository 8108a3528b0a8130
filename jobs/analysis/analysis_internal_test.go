package analysis

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/atlas-ai/atlas-learn/columnar"
)

func steps(specs ...string) []columnar.Step {
	var out []columnar.Step
	for i, s := range specs {
		kind, code, _ := strings.Cut(s, ":")
		st := columnar.Step{Index: int32(i)}
		switch kind {
		case "edit":
			st.ActionType, st.Action, st.Code = "edit", "write_code", strings.ReplaceAll(code, `\n`, "\n")
		case "revert":
			st.ActionType, st.Action = "edit", "revert"
		case "test":
			st.ActionType, st.Action = "test", "run_tests"
		case "explore":
			st.ActionType, st.Action, st.Code = "explore", "run_code", code
		}
		out = append(out, st)
	}
	return out
}

func TestBuildProgram(t *testing.T) {
	tr := &columnar.Trajectory{Steps: steps(
		"edit:def f(x):\n    return 1\n\ndef g(x):\n    return 2",
		"edit:def solve(x):\n    return f(x)",
		"test",
		"edit:def solve(x):\n    return g(x)", // tried...
		"test",
		"revert", // ...and reverted
		"explore:print(solve(3))",
		"edit:import math\nN = 3",
		"edit:def f(x):\n    return 10", // a fix of f
	)}
	ps, err := programOf(context.Background(), tr)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		removed []int
		want    string
	}{
		{nil, "def f(x):\n    return 10\n\ndef g(x):\n    return 2\n\ndef solve(x):\n    return f(x)\n\nimport math\n\nN = 3\n\n"},
		// Removing the tried change leaves the revert with nothing to undo.
		{[]int{3}, "def f(x):\n    return 10\n\ndef g(x):\n    return 2\n\ndef solve(x):\n    return f(x)\n\nimport math\n\nN = 3\n\n"},
		// Removing the fix brings back the first f.
		{[]int{8}, "def f(x):\n    return 1\n\ndef g(x):\n    return 2\n\ndef solve(x):\n    return f(x)\n\nimport math\n\nN = 3\n\n"},
		// Removing the first edit: f from the fix, no g.
		{[]int{0}, "def solve(x):\n    return f(x)\n\nimport math\n\nN = 3\n\ndef f(x):\n    return 10\n\n"},
	}
	for _, tc := range tests {
		removed := map[int]bool{}
		for _, r := range tc.removed {
			removed[r] = true
		}
		if got := build(ps, removed); got != tc.want {
			t.Errorf("without %v:\n%s\nwant:\n%s", tc.removed, got, tc.want)
		}
	}
	// Removing a revert removes the change it undid too.
	if r := removal(ps, 5); !r[5] || !r[3] || len(r) != 2 {
		t.Errorf("removal of the revert = %v", r)
	}
	if ps[6].kind != stepNone || ps[2].kind != stepNone {
		t.Error("tests and exploratory runs do not change the program")
	}
	// Code that does not parse is one opaque unit.
	bad := &columnar.Trajectory{Steps: steps("edit:def f(:\n")}
	ps, err = programOf(context.Background(), bad)
	if err != nil || len(ps[0].units) != 1 || !strings.Contains(ps[0].units[0].name, "step 0") {
		t.Fatalf("unparsable edit: %+v, %v", ps, err)
	}
}

func TestSimpleCredit(t *testing.T) {
	tests := []struct {
		name    string
		steps   []columnar.Step
		success bool
		want    []int
		weight  float64
	}{
		{"success: the last code step without an error", []columnar.Step{{Code: "a"}, {Code: "b", IsError: true}, {Code: "c"}, {Action: "test"}}, true, []int{2}, 1},
		{"success without code: the last step without an error", []columnar.Step{{Action: "a"}, {Action: "b"}, {Action: "c", IsError: true}}, true, []int{1}, 1},
		{"failure: the first error", []columnar.Step{{Action: "a"}, {Action: "b", IsError: true}, {Action: "c", IsError: true}}, false, []int{1}, -1},
		{"failure without errors: the last step", []columnar.Step{{Action: "a"}, {Action: "b"}}, false, []int{1}, -1},
		{"no steps", nil, true, nil, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := &columnar.Trajectory{Steps: tc.steps, Outcome: columnar.Outcome{Success: tc.success}}
			c := SimpleCredit(tr)
			if fmt.Sprint(c.KeySteps) != fmt.Sprint(tc.want) {
				t.Fatalf("key steps %v, want %v", c.KeySteps, tc.want)
			}
			if len(tc.want) > 0 && c.Attribution[tc.want[0]] != tc.weight {
				t.Fatalf("attribution %v", c.Attribution)
			}
		})
	}
}

func TestDetectFailureModes(t *testing.T) {
	st := func(at, action, obs string) columnar.Step {
		return columnar.Step{ActionType: at, Action: action, Observation: obs}
	}
	tests := []struct {
		name  string
		steps []columnar.Step
		exit  string
		want  string // "mode:steps;..."
	}{
		{"clean", []columnar.Step{st("bash", "python repro.py", "ok"), st("submit", "submit", "")}, "submitted", ""},
		{"a loop", []columnar.Step{st("view", "open a.py", ""), st("view", "open a.py", ""), st("view", "open  a.py", ""), st("bash", "python x.py", "")}, "", "loop:[0 1 2]"},
		{"alternation", []columnar.Step{st("view", "scroll_down", ""), st("view", "scroll_up", ""), st("view", "scroll_down", ""), st("view", "scroll_up", ""), st("bash", "python x", "")}, "", "loop:[0 1 2 3]"},
		{"broken edit", []columnar.Step{st("bash", "python x", ""), st("edit", "edit 3:4", "Your proposed edit has introduced new syntax error(s).\n- E999 IndentationError: unexpected indent"), st("edit", "edit 3:4", "File updated.")}, "", "broken_edit:[1]"},
		{"a lint complaint is not a broken edit", []columnar.Step{st("bash", "python x", ""), st("edit", "edit 3:4", "Your proposed edit has introduced new syntax error(s).\n- F821 undefined name 'binascii'")}, "", ""},
		{"echo runs nothing", []columnar.Step{st("bash", "echo hi", "hi"), st("submit", "submit", "")}, "submitted", "submit_without_running:[1]"},
		{"a command timeout is a tool error", []columnar.Step{st("bash", "./rock", "EXECUTION TIMED OUT BECAUSE NO OUTPUT WAS PRODUCED")}, "", "tool_error:[0]"},
		{"broken edit seen by the next run", []columnar.Step{st("edit", "str_replace", "ok"), st("python", "python a.py", "  File \"a.py\", line 3\nIndentationError: unexpected indent")}, "", "broken_edit:[0]"},
		{"test regression", []columnar.Step{st("test", "pytest", "5 passed"), st("edit", "edit", "ok"), st("test", "pytest", "1 failed, 4 passed")}, "", "test_regression:[2]"},
		{"no regression without an edit", []columnar.Step{st("test", "pytest", "5 passed"), st("test", "pytest", "1 failed, 4 passed")}, "", ""},
		{"budget", []columnar.Step{st("bash", "python x", "")}, "exit_cost", "budget_exhausted:[0]"},
		{"submit without running", []columnar.Step{st("view", "open a", ""), st("edit", "edit", ""), st("submit", "submit", "")}, "submitted", "submit_without_running:[2]"},
		{"tool error", []columnar.Step{st("bash", "foo", "bash: foo: command not found"), st("bash", "python x", "")}, "", "tool_error:[0]"},
		{"model server error before any step", nil, "InternalServerError", "tool_error:[]"},
		{"the model client's timeout is not a budget", nil, "Timeout", "tool_error:[]"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for i := range tc.steps {
				tc.steps[i].Index = int32(i)
			}
			tr := &columnar.Trajectory{Steps: tc.steps, Outcome: columnar.Outcome{ExitStatus: tc.exit}}
			var got []string
			for _, m := range DetectFailureModes(tr) {
				if m.Evidence == "" {
					t.Errorf("%s without evidence", m.Mode)
				}
				got = append(got, fmt.Sprintf("%s:%v", m.Mode, m.Steps))
			}
			if strings.Join(got, ";") != tc.want {
				t.Fatalf("modes %q, want %q", strings.Join(got, ";"), tc.want)
			}
		})
	}
}

func TestErrorLine(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Traceback (most recent call last):\n  File \"main.py\", line 3, in f\nValueError: bad value 3\n", "ValueError: bad value 3"},
		{"example 0: error\nTraceback (most recent call last):\n  File \"main.py\", line 3, in f\nIndexError: list index out of range\nexample 1: ok\n1/2 examples passed", "IndexError: list index out of range"},
		{"example 0: ok\nexample 1: expected [1, 2], got [2]\n1/2 examples passed", "example 1: expected [1, 2], got [2]"},
		{"bash: foo: command not found\n", "bash: foo: command not found"},
		{"\n\n", ""},
	}
	for _, tc := range tests {
		if got := ErrorLine(tc.in); got != tc.want {
			t.Errorf("ErrorLine(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestTestCounts(t *testing.T) {
	tests := []struct {
		obs        string
		pass, fail int
		ok         bool
	}{
		{"example 0: ok\nexample 1: expected 3, got 4\n1/2 examples passed\n", 1, 1, true},
		{"3/3 examples passed", 3, 0, true},
		{"=== 3 failed, 10 passed, 1 error in 2.1s ===", 10, 4, true},
		{"==== 12 passed in 0.5s ====", 12, 0, true},
		{"2 errors", 0, 2, true},
		{"Ran 5 tests in 0.01s\n\nFAILED (failures=2, errors=1)", 2, 3, true},
		{"Ran 4 tests in 0.01s\n\nOK", 4, 0, true},
		{"all tests passed", 0, 0, false},
		{"defined solve", 0, 0, false},
		{"the build failed", 0, 0, false},
		{"5 failedx", 0, 0, false},
	}
	for _, tc := range tests {
		p, f, ok := testCounts(tc.obs)
		if p != tc.pass || f != tc.fail || ok != tc.ok {
			t.Errorf("testCounts(%q) = %d, %d, %v; want %d, %d, %v", tc.obs, p, f, ok, tc.pass, tc.fail, tc.ok)
		}
	}
}

func TestMatcher(t *testing.T) {
	m := newMatcher(true, "command not found", "permission denied", "formaterror", "format error", "err")
	tests := []struct {
		s    string
		want int
	}{
		{"bash: foo: Command Not Found", 11},
		{"all good", -1},
		{"PERMISSION DENIED here", 0},
		{"a FormatError b", 8}, // "err" ends first
		{"xxerr", 2},
		{"", -1},
		{"commandnot found", -1},
	}
	for _, tc := range tests {
		if got := m.index(tc.s); got != tc.want {
			t.Errorf("index(%q) = %d, want %d", tc.s, got, tc.want)
		}
	}
	cs := newMatcher(false, "SyntaxError", "E999")
	if cs.index("syntaxerror") != -1 || cs.index("x SyntaxError") != 2 || cs.index("E999 x") != 0 {
		t.Error("case-sensitive matcher")
	}
}
