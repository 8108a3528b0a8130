package sft

import (
	"fmt"
	"strings"

	"github.com/tiktoken-go/tokenizer"
)

// Encodings names the token encodings Tokenizer knows (both embedded in
// the binary: counting needs no network).
func Encodings() []string {
	return []string{string(tokenizer.O200kBase), string(tokenizer.Cl100kBase)}
}

// Tokenizer counts tokens in one tiktoken encoding; it is safe for
// concurrent use.
type Tokenizer struct {
	name  string
	codec tokenizer.Codec
}

// NewTokenizer loads the encoding name (o200k_base or cl100k_base).
func NewTokenizer(name string) (*Tokenizer, error) {
	known := false
	for _, e := range Encodings() {
		known = known || e == name
	}
	if !known {
		return nil, fmt.Errorf("encoding %q: want one of %v", name, Encodings())
	}
	c, err := tokenizer.Get(tokenizer.Encoding(name))
	if err != nil {
		return nil, fmt.Errorf("encoding %q: %w", name, err)
	}
	return &Tokenizer{name: name, codec: c}, nil
}

// Name is the encoding's name.
func (t *Tokenizer) Name() string { return t.name }

// Count is the number of tokens of s.
func (t *Tokenizer) Count(s string) (int, error) {
	if s == "" {
		return 0, nil
	}
	n, err := t.codec.Count(s)
	if err != nil {
		return 0, fmt.Errorf("counting tokens: %w", err)
	}
	return n, nil
}

// dropFront removes the first n tokens of s and returns the rest (valid
// UTF-8: a character split at the cut is dropped) and how many tokens
// it keeps.
func (t *Tokenizer) dropFront(s string, n int) (string, int, error) {
	_, toks, err := t.codec.Encode(s)
	if err != nil {
		return "", 0, fmt.Errorf("encoding tokens: %w", err)
	}
	if n >= len(toks) {
		return "", 0, nil
	}
	rest := strings.Join(toks[n:], "")
	// A cut inside a multi-byte character leaves stray bytes: drop them.
	rest = strings.ToValidUTF8(rest, "")
	return rest, len(toks) - n, nil
}
