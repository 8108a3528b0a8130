package sft

import (
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"
)

// tokenCases are texts that reach every branch of both split patterns and
// their corners: contractions in both cases (and ſ), marks after
// prefixes, upper-case runs, long digit runs, punctuation before line
// breaks and slashes, white space runs of every shape around line breaks
// (the generated matcher backs off to the first break), invalid UTF-8
// and characters no branch takes.
var tokenCases = []string{
	"", "a", " ", "  ", "   x", "\n", "\r\n", " \n \nx", "x \n \n y", "\t\n\t\n\tz", "a\u00a0\u00a0b", "a\u2003\u3000b",
	"hello world", "Hello WORLD, HeLLo", "don't DON'T we'RE I'Ve they'll THEY'LL she'd I'M it'ſ x'q 'l 'll 'L",
	"'s's'S", "x'", "ab'r", "ab'rx", "ab'Re", "ab'LLama",
	"12345678901", "x1x22x333x4444", "٣٤٥٦", "Ⅻ½",
	"a+b==c;;\n/x", "def f(x):\n    return x[::-1]  # note\n\n\n", "x := !!\n\n/\n/ y", " ...\n\r/ .",
	"é\u0301e\u0301 \u0301x \u0301\u0301A", "ÉCOLE École éCOLE", "ǅungla ǈ", "ʰʰa", "中文字符 かな カナ 한국어",
	"emoji 😀😀 👍🏽 ok", "tab\tsep\tvalues", "mixed  \t \n\n  spaces\n", "trailing   ", "\u0085\u2028\u2029x",
	"bad \xff\xfe bytes \xc3", "\x00\x01\x02 ctrl\x7f", "zero\u200bwidth\u200d", "<|endoftext|> special",
	strings.Repeat("a", 500), strings.Repeat("ab ", 200), strings.Repeat(" ", 300) + "x", strings.Repeat("!?", 120),
	strings.Repeat("\n \n", 40), strings.Repeat("9", 400), strings.Repeat("é", 150),
}

// tokenAlphabet mixes the characters the patterns tell apart.
var tokenAlphabet = []rune("aZéÉǅʰ中か\u0301' \t\n\r\u00a0\u2003.,/!#0123456789٣Ⅻ½😀_-\"sStTlLdDmMrReEvVſ\x00\u200b")

// The fast counter gives the codec's counts on every case, on random
// strings over the patterns' character classes, and on random bytes.
func TestTokenCountMatchesCodec(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var texts []string
	texts = append(texts, tokenCases...)
	for range 3000 {
		n := r.IntN(40)
		var b strings.Builder
		for range n {
			b.WriteRune(tokenAlphabet[r.IntN(len(tokenAlphabet))])
		}
		texts = append(texts, b.String())
	}
	// Multi-line texts: the counter cuts them into lines.
	lineAlphabet := []rune("ab Z_9(/:\n\n\n  \t\r'é\u00a0#")
	for range 2000 {
		n := r.IntN(120)
		var b strings.Builder
		for range n {
			b.WriteRune(lineAlphabet[r.IntN(len(lineAlphabet))])
		}
		texts = append(texts, b.String())
	}
	for range 300 {
		b := make([]byte, r.IntN(30))
		for i := range b {
			b[i] = byte(r.IntN(256))
		}
		texts = append(texts, string(b))
	}
	for _, enc := range Encodings() {
		tok, err := NewTokenizer(enc)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range texts {
			want, err := tok.codec.Count(s)
			if err != nil {
				t.Fatal(err)
			}
			// Twice: the second count comes from the piece memory.
			for i := range 2 {
				got, err := tok.Count(s)
				if err != nil || got != want {
					t.Fatalf("%s: Count(%q) = %d, %v (pass %d); the codec says %d", enc, s, got, err, i, want)
				}
			}
		}
	}
}

// The counts of generated prompts and completions are the codec's.
func TestTokenCountGenerated(t *testing.T) {
	ins := generated(t, 150, 5)
	var texts []string
	var st BuildStats
	for _, in := range ins {
		exs, err := Build(in, DefaultWeights(), "sys", Default(), &st)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range exs {
			texts = append(texts, e.Prompt, e.Completion, e.history)
		}
	}
	for _, enc := range Encodings() {
		tok, err := NewTokenizer(enc)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range texts {
			want, _ := tok.codec.Count(s)
			if got, _ := tok.Count(s); got != want {
				t.Fatalf("%s: %d tokens, the codec says %d, in %q", enc, got, want, s)
			}
		}
	}
}

// The line memory gives the same counts the second time, in another
// text.
func TestTokenCountLines(t *testing.T) {
	tok := testTokenizer(t)
	for _, s := range []string{"def f(x):\n    return x\n", "a\nb\n/c\n d\n\ne", "x:\n/y\nz", "\n\n\nq\r\nw"} {
		want, _ := tok.codec.Count(s)
		for _, text := range []string{s, s + s, "pre " + s + "\npost"} {
			w, _ := tok.codec.Count(text)
			if got, _ := tok.Count(text); got != w {
				t.Errorf("Count(%q) = %d, the codec says %d", text, got, w)
			}
		}
		if got, _ := tok.Count(s); got != want {
			t.Errorf("Count(%q) = %d again, the codec says %d", s, got, want)
		}
	}
}

// FuzzTokenCount holds the fast counter to the codec on any input.
func FuzzTokenCount(f *testing.F) {
	for _, s := range tokenCases {
		f.Add(s)
	}
	toks := map[string]*Tokenizer{}
	for _, enc := range Encodings() {
		tok, err := NewTokenizer(enc)
		if err != nil {
			f.Fatal(err)
		}
		toks[enc] = tok
	}
	f.Fuzz(func(t *testing.T, s string) {
		for enc, tok := range toks {
			want, _ := tok.codec.Count(s)
			if got, _ := tok.Count(s); got != want {
				t.Fatalf("%s: Count(%q) = %d, the codec says %d (valid UTF-8: %v)", enc, s, got, want, utf8.ValidString(s))
			}
		}
	})
}
