package columnar

import (
	"strings"
	"testing"
	"time"
)

// TestPyLiteral checks pyLiteral against what Python's repr writes for the
// same values (the wants are CPython's output).
func TestPyLiteral(t *testing.T) {
	tests := []struct {
		json, want string
		ok         bool
	}{
		{`{"command": "view", "path": "/workspace"}`, `{'command': 'view', 'path': '/workspace'}`, true},
		{`{"b":1,"a":[true,false,null,-7]}`, `{'b': 1, 'a': [True, False, None, -7]}`, true},
		{`{}`, `{}`, true},
		{`[[],{}]`, `[[], {}]`, true},
		{`"it's"`, `"it's"`, true},
		{`"say \"hi\""`, `'say "hi"'`, true},
		{`"a'b\"c"`, `'a\'b"c'`, true},
		{`"back\\slash\ttab\nnl\rcr"`, `'back\\slash\ttab\nnl\rcr'`, true},
		{`"\u0000\u001b\u007f"`, `'\x00\x1b\x7f'`, true},
		{`"é\u200b\u0085\u00a0"`, `'é\u200b\x85\xa0'`, true},
		{`"😀\udb40\udc01"`, `'😀\U000e0001'`, true},
		{`1.5`, ``, false},
		{`{"a":1e3}`, ``, false},
		{`{"a":`, ``, false},
		{`1 2`, ``, false},
	}
	for _, tc := range tests {
		got, ok := pyLiteral(tc.json)
		if ok != tc.ok || got != tc.want {
			t.Errorf("pyLiteral(%s) = %s, %v; want %s, %v", tc.json, got, ok, tc.want, tc.ok)
		}
	}
}

// TestCatIndexBounded checks that a string whose every offset starts a
// long near-match of a column text is searched in bounded time, and that
// found texts are still found.
func TestCatIndexBounded(t *testing.T) {
	run := strings.Repeat("a", 1<<20)
	near := strings.Repeat("a", 100000) + "b"
	x := newCatIndex([]textColumn{{"steps.0.observation", near}})
	start := time.Now()
	if _, ok := x.concat(run); ok {
		t.Error("found a text the string does not hold")
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("searching took %v", d)
	}
	raw, ok := x.concat("x" + near + "y")
	if want := `{"$cat":["x",{"$col":"steps.0.observation"},"y"]}`; !ok || string(raw) != want {
		t.Errorf("concat = %s, %v; want %s", raw, ok, want)
	}
}
