package pyfront

import (
	"context"
	"strings"
	"testing"

	"github.com/atlas-ai/atlas-learn/compress/frontend"
)

func TestEncode(t *testing.T) {
	tests := []struct {
		name, src, want string
	}{
		{"assign", "x = a[i] + 1\n", "(module (seq (= x (+ (sub a i) 1)) nil))"},
		{"method call", "xs.append(y)  # comment\n", "(module (seq (call (attr xs append) (args y)) nil))"},
		{"statement list", "a = 1\nb = 2\nprint(a)\n", "(module (seq (= a 1) (seq (= b 2) (seq (call print (args a)) nil))))"},
		{"locals renamed", "def f(n, m):\n    t = n + g\n    return t * m\n",
			"(module (seq (def f (params v0 v1) (seq (= v2 (+ v0 g)) (seq (return (* v2 v1)) nil))) nil))"},
		{"same shape same term", "def h(a, b):\n    z = a + g\n    return z * b\n",
			"(module (seq (def h (params v0 v1) (seq (= v2 (+ v0 g)) (seq (return (* v2 v1)) nil))) nil))"},
		{"comprehension vars", "def f(xs):\n    return [x * x for x in xs if x]\n",
			"(module (seq (def f (params v0) (seq (return (listcomp (* c0 c0) (cfor c0 v0) (cif c0))) nil)) nil))"},
		{"lambda", "f = lambda a, b=2: a + b\n", "(module (seq (= f (lmb (+ c0 c1) (params c0 (default c1 2)))) nil))"},
		{"global kept", "def f():\n    global n\n    n = 1\n", "(module (seq (def f params (seq (global n) (seq (= n 1) nil))) nil))"},
		{"keyword param kept", "def f(a, key):\n    return a + key\nf(1, key=2)\n",
			"(module (seq (def f (params v0 key) (seq (return (+ v0 key)) nil)) (seq (call f (args 1 (kw key 2))) nil)))"},
		{"import kept", "def f():\n    import os\n    return os.sep\n", "(module (seq (def f params (seq (import os) (seq (return (attr os sep)) nil))) nil))"},
		{"closure", "def f(a):\n    def g(b):\n        return a + b\n    return g\n",
			"(module (seq (def f (params v0) (seq (def v1 (params v2) (seq (return (+ v0 v2)) nil)) (seq (return v1) nil))) nil))"},
		{"escaped names", "v1 = lam = nil = 2\n", "(module (seq (= i:v1 i:lam i:nil 2) nil))"},
		{"strings", "s = 'a b(c)%;' + \"\" + \"it's\"\n", "(module (seq (= s (+ (+ s:'a%20b%28c%29%25%3B' s:'') s:\"it's\")) nil))"},
		{"quotes normalised", "s = \"x\" + f\"{s}y\" + rb\"z\"\n", "(module (seq (= s (+ (+ s:'x' (fstr s:f' (fmt s) s:y')) s:rb'z')) nil))"},
		{"f-string", "def f(x, w):\n    return f'{x!r:>{w}} {x}'\n",
			"(module (seq (def f (params v0 v1) (seq (return (fstr s:f' (fmt v0 s:!r:> (fmt v1)) s:%20 (fmt v0) s:')) nil)) nil))"},
		{"comparison", "a < b\na < b <= c\na not in b\n", "(module (seq (< a b) (seq (cmp a < b <= c) (seq (notin a b) nil))))"},
		{"slices", "a[1:], a[::2]\n", "(module (seq (tuple (sub a (slice 1 nil)) (sub a (slice nil nil 2))) nil))"},
		{"if elif else", "if a:\n    pass\nelif b:\n    x = 1\nelse:\n    break\n",
			"(module (seq (if a (seq pass nil) (elif b (seq (= x 1) nil)) (else (seq break nil))) nil))"},
		{"parens dropped", "x = (a + b) * c\n", "(module (seq (= x (* (+ a b) c)) nil))"},
		{"unary and power", "x = -2 ** 2\n", "(module (seq (= x (- (** 2 2))) nil))"},
		{"augmented", "x += 1\n", "(module (seq (+= x 1) nil))"},
		{"with and try", "with open(p) as f:\n    pass\ntry:\n    pass\nexcept E as e:\n    raise X from e\nfinally:\n    pass\n",
			"(module (seq (with (items (as (call open (args p)) f)) (seq pass nil)) (seq (try (seq pass nil) (except (as E e) (seq (raise X e) nil)) (finally (seq pass nil))) nil)))"},
		{"class", "class A(B):\n    x = 1\n    def m(self):\n        return self.x\n",
			"(module (seq (class A (seq (= x 1) (seq (def m (params v0) (seq (return (attr v0 x)) nil)) nil)) (args B)) nil))"},
		{"return annotation", "def f(a: int) -> int:\n    return a\n",
			"(module (seq (def f (params (typed v0 int)) (seq (return v0) nil) int) nil))"},
		{"imports", "import os.path as p, sys\nfrom . import a as b, c\n",
			"(module (seq (import (alias os.path p) sys) (seq (from . (alias a b) c) nil)))"},
		{"dynamic scope kept", "def f(a):\n    return eval('a')\n", "(module (seq (def f (params a) (seq (return (call eval (args s:'a'))) nil)) nil))"},
		{"walrus binds outside comprehension", "def f(xs):\n    return [y for x in xs if (y := x)]\n",
			"(module (seq (def f (params v0) (seq (return (listcomp v1 (cfor c0 v0) (cif (:= v1 c0)))) nil)) nil))"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := mustEncode(t, tt.src)
			if got != tt.want {
				t.Errorf("Encode(%q)\n got %s\nwant %s", tt.src, got, tt.want)
			}
		})
	}
}

func TestEncodeErrors(t *testing.T) {
	tests := []struct {
		name, src, want string
	}{
		{"unclosed paren", "x = (1 +\ny = 2\n", "syntax error at"},
		{"empty block", "def f():\nreturn 1\n", "syntax error at 1:9: empty block"},
		{"stray token", "x = = 1\n", "syntax error at 1:"},
		{"match unsupported", "match x:\n    case 1:\n        pass\n", "unsupported syntax"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Encode(context.Background(), []byte(tt.src))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Encode(%q) error = %v, want it to contain %q", tt.src, err, tt.want)
			}
		})
	}
}

func TestEncodeCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	src := strings.Repeat("x = f(a, b) + g(c)\n", 2000)
	if _, err := Encode(ctx, []byte(src)); err == nil {
		t.Fatal("Encode with a cancelled context succeeded")
	}
}

// TestAtomsAreStitchPrimitives checks every atom of the corpus encodings.
func TestAtomsAreStitchPrimitives(t *testing.T) {
	for _, s := range corpus(t) {
		e := mustEncode(t, s.src)
		for _, a := range strings.FieldsFunc(e, func(r rune) bool { return r == ' ' || r == '(' || r == ')' }) {
			if a == "lam" || strings.HasPrefix(a, "#") || strings.HasPrefix(a, "$") || strings.ContainsAny(a, "\t\n\r") {
				t.Errorf("%s: atom %q is not a valid primitive", s.name, a)
			}
		}
	}
}

func TestEscape(t *testing.T) {
	for _, s := range []string{"", "abc", "a b", "(%);", "é\x00\t\n", "100%", "#x$y"} {
		e := frontend.Escape(s)
		if strings.ContainsAny(e, " ()\t\n;") {
			t.Errorf("Escape(%q) = %q has unsafe bytes", s, e)
		}
		u, err := frontend.Unescape(e)
		if err != nil || u != s {
			t.Errorf("Unescape(Escape(%q)) = %q, %v", s, u, err)
		}
	}
	for _, bad := range []string{"%", "%4", "%zz", "a%g0"} {
		if _, err := frontend.Unescape(bad); err == nil {
			t.Errorf("Unescape(%q) succeeded", bad)
		}
	}
}

func TestEncodeTreeSitterQuirks(t *testing.T) {
	tests := []struct{ name, src, want string }{
		{"starred call", "print(*a.b(), *c[0], *d.e)\n", "(module (seq (call print (args (star (call (attr a b) args)) (star (sub c 0)) (star (attr d e)))) nil))"},
		{"union annotation", "def f(x: int | None = None):\n    pass\n", "(module (seq (def f (params (typeddef v0 (| int None) None)) (seq pass nil)) nil))"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := mustEncode(t, tt.src); got != tt.want {
				t.Errorf("Encode(%q)\n got %s\nwant %s", tt.src, got, tt.want)
			}
		})
	}
}
