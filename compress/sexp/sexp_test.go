package sexp

import (
	"strings"
	"testing"
)

func TestParseAndPrint(t *testing.T) {
	tests := []struct {
		in, want, err string
	}{
		{in: "a", want: "a"},
		{in: "  (f  a\n (g b) )  ", want: "(f a (g b))"},
		{in: "()", want: "()"},
		{in: "(lam (+ $0 #1))", want: "(lam (+ $0 #1))"},
		{in: "", err: "empty program"},
		{in: "(f a", err: "unbalanced parentheses: 1 unclosed '('"},
		{in: "f a)", err: "after the end of the expression"},
		{in: ")", err: "unexpected ')'"},
		{in: "(a) (b)", err: "after the end of the expression"},
	}
	for _, tc := range tests {
		n, err := Parse(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("Parse(%q) error = %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("Parse(%q): %v", tc.in, err)
			continue
		}
		if got := n.String(); got != tc.want {
			t.Errorf("Parse(%q).String() = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestDeepNesting(t *testing.T) {
	deep := strings.Repeat("(f ", 50000) + "x" + strings.Repeat(")", 50000)
	n, err := Parse(deep)
	if err != nil {
		t.Fatal(err)
	}
	if n.String() != deep {
		t.Fatal("deep round trip differs")
	}
	if _, err := Parse(strings.Repeat("(", MaxDepth+1)); err == nil || !strings.Contains(err.Error(), "nesting deeper") {
		t.Fatalf("over-deep: %v", err)
	}
}
