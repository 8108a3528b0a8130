package sft

import (
	"unicode"

	"github.com/dlclark/regexp2/v2/helpers"
	"github.com/dlclark/regexp2/v2/syntax"
)

// The pre-tokenizers below split text into the pieces that byte-pair
// encoding then merges, exactly as github.com/tiktoken-go/tokenizer does
// it: that package runs the encodings' split patterns with regexp2's
// generated matchers (codec/regexp.gen.go), whose every branch, predicate
// and backtracking step is mirrored here, quirks included (the generated
// `\s*[\r\n]+` backs off to the first line break of the white space, not
// the last). Only the allocations differ: regexp2 allocates a match per
// piece, these return the piece's end. The differential tests hold them to
// the package's Encode.

// The character sets of the generated matchers beyond ASCII, built from
// the same runtime encodings: [^\r\n\p{L}\p{N}] and [^\s\p{L}\p{N}].
var (
	setNotNLLetterNumber    = syntax.NewCharSetRuntime("\x01\x02\x00\x00\x00\x02\x00\x00\x00\n\n\r\r\x01L\x01N")
	setNotSpaceLetterNumber = syntax.NewCharSetRuntime("\x01\x00\x00\x00\x00\x03\x00\x00\x00\x01 \x01L\x01N")
)

// Character classes, as bits of charClass.
const (
	clsPrefix = 1 << iota // [^\r\n\p{L}\p{N}]
	clsUpper              // [\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]
	clsLower              // [\p{Ll}\p{Lm}\p{Lo}\p{M}]
	clsNumber             // \p{N}
	clsPunct              // [^\s\p{L}\p{N}]
	clsSpace              // \s (unicode.IsSpace)
	clsLetter             // \p{L}
)

// asciiClasses are the classes of the ASCII characters, computed with the
// predicates the generated matchers use.
var asciiClasses = func() (t [128]uint8) {
	for r := rune(0); r < 128; r++ {
		t[r] = classOfSlow(r)
	}
	return t
}()

// classOfSlow computes the classes of r as the generated matchers test
// them.
func classOfSlow(r rune) uint8 {
	var c uint8
	if (r < 128 && helpers.IsInASCIIBitmap(r, 0xfc00ffffffffdbff, 0x78000001f8000001)) || (r >= 128 && setNotNLLetterNumber.CharIn(r)) {
		c |= clsPrefix
	}
	if unicode.In(r, unicode.Lu, unicode.Lt, unicode.Lm, unicode.Lo, unicode.M) {
		c |= clsUpper
	}
	if unicode.In(r, unicode.Ll, unicode.Lm, unicode.Lo, unicode.M) {
		c |= clsLower
	}
	if unicode.In(r, unicode.N) {
		c |= clsNumber
	}
	if (r < 128 && helpers.IsInASCIIBitmap(r, 0xfc00fffeffffc1ff, 0x78000001f8000001)) || (r >= 128 && setNotSpaceLetterNumber.CharIn(r)) {
		c |= clsPunct
	}
	if unicode.IsSpace(r) {
		c |= clsSpace
	}
	if unicode.In(r, unicode.L) {
		c |= clsLetter
	}
	return c
}

// classes are the classes of runes, one per rune of a text.
func classify(rs []rune, cls []uint8) []uint8 {
	cls = cls[:0]
	for _, r := range rs {
		if r >= 0 && r < 128 {
			cls = append(cls, asciiClasses[r])
		} else {
			cls = append(cls, classOfSlow(r))
		}
	}
	return cls
}

func isNL(r rune) bool { return r == '\n' || r == '\r' }

// runOf is the end of the run of runes with class bit c from i.
func runOf(cls []uint8, i int, c uint8) int {
	for i < len(cls) && cls[i]&c != 0 {
		i++
	}
	return i
}

// contraction is the end of an optional (?i:'s|'t|'re|'ve|'m|'ll|'d) at
// i, as the generated matchers test it.
func contraction(rs []rune, i int) int {
	s := rs[i:]
	if len(s) == 0 || s[0] != '\'' || len(s) < 2 {
		return i
	}
	switch s[1] {
	case 'S', 'T', 's', 't', 'ſ', 'M', 'm', 'D', 'd':
		return i + 2
	case 'R', 'r', 'V', 'v':
		if len(s) < 3 || s[2]|0x20 != 'e' {
			return i
		}
		return i + 3
	case 'L', 'l':
		if len(s) < 3 || s[1]|0x20 != 'l' || s[2]|0x20 != 'l' {
			return i
		}
		return i + 3
	}
	return i
}

// spaceBranches are the last three branches of both patterns:
// \s*[\r\n]+ | \s+(?!\S) | \s+. They return the end of the match at pos,
// or -1.
func spaceBranches(rs []rune, cls []uint8, pos int) int {
	n := len(rs)
	// \s*[\r\n]+, backing off to the first line break of the white space.
	ws := runOf(cls, pos, clsSpace)
	if j := nlRun(rs, ws); j > ws {
		return j
	}
	for k := pos; k < ws; k++ {
		if isNL(rs[k]) {
			return nlRun(rs, k)
		}
	}
	// \s+(?!\S): the white space but its last character when something
	// follows.
	if ws > pos {
		if ws == n {
			return ws
		}
		if pos+1 < ws {
			return ws - 1
		}
		// \s+
		return ws
	}
	return -1
}

func nlRun(rs []rune, i int) int {
	for i < len(rs) && isNL(rs[i]) {
		i++
	}
	return i
}

// nextO200k is the end of o200k_base's piece at pos, or -1 when none
// starts there (the scanner then moves on by one character).
func nextO200k(rs []rune, cls []uint8, pos int) int {
	n := len(rs)
	hasPrefix := pos < n && cls[pos]&clsPrefix != 0
	// [^\r\n\p{L}\p{N}]?[upper]*[lower]+('s...)?
	for p := 1; p >= 0; p-- {
		if p == 1 && !hasPrefix {
			continue
		}
		start := pos + p
		u := runOf(cls, start, clsUpper)
		for k := u; k >= start; k-- {
			if l := runOf(cls, k, clsLower); l > k {
				return contraction(rs, l)
			}
		}
	}
	// [^\r\n\p{L}\p{N}]?[upper]+[lower]*('s...)?
	for p := 1; p >= 0; p-- {
		if p == 1 && !hasPrefix {
			continue
		}
		start := pos + p
		if u := runOf(cls, start, clsUpper); u > start {
			return contraction(rs, runOf(cls, u, clsLower))
		}
	}
	// \p{N}{1,3}
	if i := numberRun(cls, pos); i > pos {
		return i
	}
	// ' '?[^\s\p{L}\p{N}]+[\r\n/]*
	i := pos
	if i < n && rs[i] == ' ' {
		i++
	}
	if j := runOf(cls, i, clsPunct); j > i {
		for j < n && (isNL(rs[j]) || rs[j] == '/') {
			j++
		}
		return j
	}
	return spaceBranches(rs, cls, pos)
}

// nextCl100k is the end of cl100k_base's piece at pos, or -1 when none
// starts there.
func nextCl100k(rs []rune, cls []uint8, pos int) int {
	n := len(rs)
	// (?i:'s|'t|'re|'ve|'m|'ll|'d)
	if c := contraction(rs, pos); c > pos {
		return c
	}
	// [^\r\n\p{L}\p{N}]?\p{L}+
	if pos < n && cls[pos]&clsPrefix != 0 {
		if l := runOf(cls, pos+1, clsLetter); l > pos+1 {
			return l
		}
	}
	if l := runOf(cls, pos, clsLetter); l > pos {
		return l
	}
	// \p{N}{1,3}
	if i := numberRun(cls, pos); i > pos {
		return i
	}
	// ' '?[^\s\p{L}\p{N}]+[\r\n]*
	i := pos
	if i < n && rs[i] == ' ' {
		i++
	}
	if j := runOf(cls, i, clsPunct); j > i {
		return nlRun(rs, j)
	}
	return spaceBranches(rs, cls, pos)
}

func numberRun(cls []uint8, pos int) int {
	i := pos
	for i < len(cls) && i-pos < 3 && cls[i]&clsNumber != 0 {
		i++
	}
	return i
}
