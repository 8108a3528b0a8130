package frontend

import (
	"context"
	"strings"
	"testing"

	"github.com/smacker/go-tree-sitter/python"
)

// miniSpec maps a sliver of Python with every rule mode, to test the walk
// independently of the real Python table.
func miniSpec() *Spec {
	return &Spec{
		Name:     "mini",
		Language: python.GetLanguage(),
		Rules: map[string]Rule{
			"module":               {Mode: Seq, Head: "prog"},
			"comment":              {Mode: Drop},
			"expression_statement": {Mode: Unwrap},
			"identifier":           {Mode: Leaf},
			"integer":              {Mode: Leaf},
			"binary_operator":      {Mode: Op, Field: "operator"},
			"call":                 {Mode: Children, Head: "app"},
			"argument_list":        {Mode: Children, Head: "args"},
			"pass_statement":       {Mode: Const, Head: "skip"},
			"subscript":            {Mode: Children, Head: "idx"},
			"slice":                {Mode: Split, Head: "range", Sep: ":"},
			"lambda":               {Mode: Fields, Head: "fn", Fields: []string{"parameters?", "body"}},
			"lambda_parameters":    {Mode: Children, Head: "ps"},
			"block":                {Mode: Seq, NonEmpty: true},
			"while_statement":      {Mode: Children, Head: "loop"},
		},
		Leaf:    func(kind, text string) (string, error) { return kind[:1] + ":" + text, nil },
		SeqHead: "cons",
		Nil:     "end",
	}
}

func TestEncodeModes(t *testing.T) {
	tests := []struct{ name, src, want string }{
		{"seq op leaf", "a + 1  # c\npass\n", "(prog (cons (+ i:a i:1) (cons skip end)))"},
		{"children", "f(x, y)\n", "(prog (cons (app i:f (args i:x i:y)) end))"},
		{"split", "a[1:]\na[::2]\n", "(prog (cons (idx i:a (range i:1 end)) (cons (idx i:a (range end end i:2)) end)))"},
		{"optional field as nil", "lambda: x\nlambda y: y\n", "(prog (cons (fn end i:x) (cons (fn (ps i:y) i:y) end)))"},
		{"block", "while a:\n    pass\n", "(prog (cons (loop i:a (cons skip end)) end))"},
		{"empty", "", "(prog end)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Encode(context.Background(), miniSpec(), []byte(tt.src))
			if err != nil {
				t.Fatal(err)
			}
			if got.String() != tt.want {
				t.Fatalf("got %s, want %s", got, tt.want)
			}
		})
	}
}

func TestEncodeErrors(t *testing.T) {
	tests := []struct{ name, src, want string }{
		{"unknown kind", "x = 1\n", `1:1: unsupported syntax "assignment"`},
		{"syntax error", "f(\n", "mini syntax error at 1:"},
		{"empty block", "while a:\npass\n", "empty block"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Encode(context.Background(), miniSpec(), []byte(tt.src))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want %q", err, tt.want)
			}
			if tt.name == "syntax error" {
				if err := CheckSyntax(context.Background(), miniSpec(), []byte(tt.src)); err == nil {
					t.Fatal("CheckSyntax accepted invalid input")
				}
			}
		})
	}
}

func FuzzEscape(f *testing.F) {
	for _, s := range []string{"", "a b", "(%);", "é\x00", "'\"\\"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e := Escape(s)
		for i := 0; i < len(e); i++ {
			if unsafe(e[i]) && e[i] != '%' {
				t.Fatalf("Escape(%q) = %q keeps byte %q", s, e, e[i])
			}
		}
		u, err := Unescape(e)
		if err != nil || u != s {
			t.Fatalf("Unescape(Escape(%q)) = %q, %v", s, u, err)
		}
	})
}
