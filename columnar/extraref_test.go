package columnar_test

import (
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/atlas-ai/atlas-learn/columnar"
)

// jsonEqual reports whether a and b are JSON texts of equal values.
func jsonEqual(t *testing.T, a, b json.RawMessage) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatalf("%s: %v", a, err)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	return reflect.DeepEqual(x, y)
}

// TestShareExtraText checks that ShareExtraText replaces the texts extra
// repeats from columns by references, escapes keys that look like its own,
// and that ExpandExtra gives back the very extra it was given.
func TestShareExtraText(t *testing.T) {
	obs := strings.Repeat("output line\n", 6)
	thought := "I will look at the parser first, then run the tests to see what fails."
	code := "def solve(x):\n    return x + 1\n"
	args := `{"command":"create","path":"/a.py","file_text":"print(1)\n"}`
	base := func() columnar.Trajectory {
		tr := sample(1)
		tr.Task.Description = "Fix the bug in the parser, please."
		tr.Steps[0].Observation = obs
		tr.Steps[1].Code = code
		tr.Steps[1].Thought = thought
		tr.Steps[2].Action = "str_replace_editor " + args
		tr.Solution.Code = code // the step's code comes first
		return tr
	}
	spaced := `{"command": "create", "path": "/a.py", "file_text": "print(1)\n"}`
	tests := []struct {
		name  string
		extra string
		refs  []string // what the shared extra must contain
		same  bool     // nothing to share: extra stays byte for byte
	}{
		{"no text repeated", `{"source":{"a":"short","b":1.50,"c":[true,null]}}`, nil, true},
		{"not an object", `[1,2]`, nil, true},
		{"short text kept", `{"source":{"m":"add numbers"}}`, nil, true},
		{"description and observation", `{"source":{"messages":[{"content":"Fix the bug in the parser, please."},{"content":` + quote(obs) + `,"n":12345678901234567890}]}}`,
			[]string{`{"$col":"task.description"}`, `{"$col":"steps.0.observation"}`, `12345678901234567890`, `"$refs":1`}, false},
		{"first column wins", `{"source":{"patch":` + quote(code) + `}}`, []string{`{"$col":"steps.1.code"}`}, false},
		{"tool call arguments", `{"source":{"args":` + quote(args) + `,"py":` + quote(spaced) + `}}`,
			[]string{`{"$col":"steps.2.action","$cut":19}`, `{"$col":"steps.2.action","$cut":19,"$spaced":true}`}, false},
		{"tool call arguments as a Python literal", `{"source":{"translated":` + quote(`print(file_editor(**{'command': 'create', 'path': '/a.py', 'file_text': 'print(1)\n'}))`) + `}}`,
			[]string{`{"$col":"steps.2.action","$cut":19,"$py":["print(file_editor(**","))"]}`}, false},
		{"texts within longer strings", `{"source":{"m":` + quote("OBSERVATION:\n"+obs+"\n(Open file: x)") + `,"r":` + quote(thought+"\n\n"+obs) + `,"t":` + quote(obs+"!") + `}}`,
			[]string{`{"$cat":["OBSERVATION:\n",{"$col":"steps.0.observation"},"\n(Open file: x)"]}`,
				`{"$cat":[{"$col":"steps.1.thought"},"\n\n",{"$col":"steps.0.observation"}]}`,
				`{"$cat":[{"$col":"steps.0.observation"},"!"]}`}, false},
		// the source's own marker key with nothing to share: still escaped
		// and marked, or ExpandExtra would read it as the marker
		{"source marker with nothing shared", `{"$refs":1,"$schema":"x","a":{"$col":"task.description"}}`,
			[]string{`"$$refs":1`, `"$$schema":"x"`, `{"$$col":"task.description"}`, `"$refs":1`}, false},
		{"keys like references escaped", `{"$refs":2,"source":{"$col":"steps.0.observation","$$x":{"$col":"a"},"$cat":["b"],"o":` + quote(obs) + `}}`,
			[]string{`"$$refs":2`, `"$$col":"steps.0.observation"`, `"$$$x"`, `{"$$col":"a"}`, `"$$cat":["b"]`}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := base()
			tr.Extra = json.RawMessage(tc.extra)
			if err := tr.ShareExtraText(); err != nil {
				t.Fatal(err)
			}
			if tc.same {
				if string(tr.Extra) != tc.extra {
					t.Errorf("extra = %s, want it unchanged", tr.Extra)
				}
			}
			for _, r := range tc.refs {
				if !strings.Contains(string(tr.Extra), r) {
					t.Errorf("extra = %s, want it to hold %s", tr.Extra, r)
				}
			}
			back, err := tr.ExpandExtra()
			if err != nil {
				t.Fatal(err)
			}
			if !jsonEqual(t, back, json.RawMessage(tc.extra)) {
				t.Errorf("ExpandExtra = %s\nwant          %s", back, tc.extra)
			}
			if strings.Contains(string(back), "12345678901234567890") != strings.Contains(tc.extra, "12345678901234567890") {
				t.Errorf("ExpandExtra = %s: a number lost its digits", back)
			}
		})
	}
}

// TestExpandExtraErrors checks that a reference to a missing column is
// an error and that an extra without the marker is left alone.
func TestExpandExtraErrors(t *testing.T) {
	tests := []struct {
		name, extra, err string
	}{
		{"no marker", `{"x":{"$col":"steps.99.code"}}`, ""},
		{"no such step", `{"$refs":1,"x":{"$col":"steps.99.code"}}`, "no such column"},
		{"no such column", `{"$refs":1,"x":{"$col":"agent.name"}}`, "no such column"},
		{"cut outside", `{"$refs":1,"x":{"$col":"task.description","$cut":500}}`, "outside"},
		{"unknown key", `{"$refs":1,"x":{"$col":"task.description","k":1}}`, "unknown key"},
		{"concatenation with another key", `{"$refs":1,"x":{"$cat":["a"],"k":1}}`, "keys beside"},
		{"concatenation of a number", `{"$refs":1,"x":{"$cat":["a",1]}}`, "neither a string nor a reference"},
		{"concatenation of a bad reference", `{"$refs":1,"x":{"$cat":["a",{"$col":"steps.9.code"}]}}`, "no such column"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := sample(2)
			tr.Extra = json.RawMessage(tc.extra)
			got, err := tr.ExpandExtra()
			switch {
			case tc.err == "" && err != nil:
				t.Fatal(err)
			case tc.err == "" && string(got) != tc.extra:
				t.Errorf("ExpandExtra = %s, want it unchanged", got)
			case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
				t.Errorf("error %v, want one with %q", err, tc.err)
			}
		})
	}
}

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// TestShareExtraTextPythonLiterals: many steps with tool calls, each
// quoted back as a Python literal in extra, all become references, with a
// search that looks each string up at most maxPyWrap times (see
// BenchmarkShareExtraTextPython for its scaling).
func TestShareExtraTextPythonLiterals(t *testing.T) {
	tr, want := pyLiteralTrajectory(500)
	if err := tr.ShareExtraText(); err != nil {
		t.Fatal(err)
	}
	if got := strings.Count(string(tr.Extra), `"$py"`); got != want {
		t.Errorf("%d Python literals referred to, want %d", got, want)
	}
	back, err := tr.ExpandExtra()
	if err != nil {
		t.Fatal(err)
	}
	orig, _ := pyLiteralTrajectory(500)
	if !jsonEqual(t, back, orig.Extra) {
		t.Error("ExpandExtra does not give back the source")
	}
}

// pyLiteralTrajectory is a trajectory of n editor calls whose extra
// holds each call's arguments as OpenHands writes them in Python, plus
// other strings, and the number of literals in it.
func pyLiteralTrajectory(n int) (columnar.Trajectory, int) {
	tr := sample(1)
	step := tr.Steps[0]
	tr.Steps = nil
	var events []map[string]string
	for i := range n {
		st := step
		args := `{"command":"create","path":"/w/f` + strings.Repeat("x", i%7) + `.py","file_text":"print(` + strconv.Itoa(i) + `)\n"}`
		st.Action = "str_replace_editor " + args
		tr.Steps = append(tr.Steps, st)
		py := `{'command': 'create', 'path': '/w/f` + strings.Repeat("x", i%7) + `.py', 'file_text': 'print(` + strconv.Itoa(i) + `)\n'}`
		events = append(events, map[string]string{
			"code":  "print(file_editor(**" + py + "))",
			"other": strings.Repeat("unrelated text {not a literal} ", 3) + strconv.Itoa(i),
		})
	}
	b, _ := json.Marshal(map[string]any{"source": map[string]any{"events": events}})
	tr.Extra = json.RawMessage(b)
	return tr, n
}

func BenchmarkShareExtraTextPython(b *testing.B) {
	for _, n := range []int{1000, 4000} {
		b.Run(strconv.Itoa(n)+" steps", func(b *testing.B) {
			for range b.N {
				b.StopTimer()
				tr, _ := pyLiteralTrajectory(n)
				b.StartTimer()
				if err := tr.ShareExtraText(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
