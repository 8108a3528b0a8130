package pyfront

import "testing"

func TestDecode(t *testing.T) {
	tests := []struct{ name, prog, want string }{
		{"childless forms", "(module (seq (= x (list [] {} tuple:)) (seq (call f args) (seq (def g params (seq return nil)) (seq yield nil)))))",
			"x = [[], {}, ()]\nf()\n\ndef g():\n    return\n(yield)\n"},
		{"precedence from structure", "(module (seq (* (+ a b) (- c)) (seq (** (- 2) 2) (seq (- (** 2 2)) (seq (attr 1 real) nil)))))",
			"(a + b) * -c\n(-2) ** 2\n-2 ** 2\n(1).real\n"},
		{"local prefixes avoid globals", "(module (seq (def f (params v0) (seq (return (+ v0 i:v0)) nil)) nil))",
			"def f(v_0):\n    return v_0 + v0\n"},
		{"escaped names and strings", "(module (seq (= i:lam s:'a%20b') (seq (= i:%CF%80 1) nil)))",
			"lam = 'a b'\nπ = 1\n"},
		{"nested lambda and conditional", "(module (seq (= f (lmb (ifexp c0 c1 (lmb c0)) (params c0 c1))) nil))",
			"f = lambda c0, c1: c0 if c1 else lambda: c0\n"},
		{"chained comparison and not in", "(module (seq (and (cmp a < b <= c) (notin x y)) nil))",
			"a < b <= c and x not in y\n"},
		{"walrus and star", "(module (seq (if (:= n (call len (args (star a)))) (seq (= (tuple x (star y)) z) nil)) nil))",
			"if (n := len(*a)):\n    (x, *y) = z\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Decode(tt.prog)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("Decode(%s)\n got %q\nwant %q", tt.prog, got, tt.want)
			}
		})
	}
}
