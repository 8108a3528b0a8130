package columnar

import (
	"bytes"
	"encoding/json"
	"maps"
	"slices"
	"sort"
	"strconv"
	"unicode/utf8"
)

// UTF-8 rule.
//
// Parquet strings, the JSON of extra and the native JSONL form must all be
// UTF-8: pyarrow and DuckDB reject a file whose strings are not, and Go's
// encoding/json silently turns invalid bytes into U+FFFD when it decodes a
// string but copies them verbatim into a json.RawMessage. ATLAS therefore
// replaces, in every string it writes, each byte that does not start a valid
// UTF-8 sequence with U+FFFD (one replacement per such byte, as
// encoding/json does), and in JSON text also each \u escape of an unpaired
// UTF-16 surrogate with \ufffd. Nothing is transcoded: a Latin-1 file's
// non-ASCII bytes become U+FFFD. Every replacement is counted, and the count
// is recorded in the trajectory's metadata under UTF8ReplacedKey, so that a
// changed record can always be told from an untouched one; importers add the
// total to their statistics and the import manifest's utf8_replacements
// counter.

// UTF8ReplacedKey is the metadata key under which a trajectory records how
// many invalid UTF-8 sequences ATLAS replaced with U+FFFD in it (a decimal
// count). Trajectories with no replacement do not have it.
const UTF8ReplacedKey = "atlas.utf8_replaced"

// SanitizeUTF8 replaces invalid UTF-8 in every string field of t — ids, task,
// agent, step texts, outcome, solution, metadata keys and values, and the
// JSON of extra — with U+FFFD, adds the number of replacements to t's
// UTF8ReplacedKey metadata entry and returns that number. It is idempotent:
// a second call finds nothing and returns 0. Steps and metadata are copied
// before they are changed, so a copy of t made earlier (a Trajectory passed
// by value) is left as it was.
func (t *Trajectory) SanitizeUTF8() int {
	n := 0
	str := func(s *string) {
		var k int
		*s, k = sanitizeString(*s)
		n += k
	}
	str(&t.TrajectoryID)
	str(&t.Task.ID)
	str(&t.Task.Description)
	str(&t.Task.Domain)
	if in, k := SanitizeJSON([]byte(t.Task.Input)); k > 0 {
		t.Task.Input, n = string(in), n+k
	}
	str(&t.Agent.Name)
	str(&t.Agent.Model)
	cloned := false
	for i := range t.Steps {
		s := &t.Steps[i]
		if utf8.ValidString(s.Thought) && utf8.ValidString(s.Action) && utf8.ValidString(s.ActionType) &&
			utf8.ValidString(s.Observation) && utf8.ValidString(s.Code) {
			continue
		}
		if !cloned {
			t.Steps, cloned = slices.Clone(t.Steps), true
			s = &t.Steps[i]
		}
		str(&s.Thought)
		str(&s.Action)
		str(&s.ActionType)
		str(&s.Observation)
		str(&s.Code)
	}
	str(&t.Outcome.ExitStatus)
	str(&t.Outcome.ErrorInfo)
	str(&t.Solution.Code)
	str(&t.Solution.Language)
	if !validMetadata(t.Metadata) {
		t.Metadata = maps.Clone(t.Metadata)
		n += sanitizeMetadata(t.Metadata)
	}
	if x, k := SanitizeJSON(t.Extra); k > 0 {
		t.Extra, n = json.RawMessage(x), n+k
	}
	t.AddUTF8Replacements(n)
	return n
}

// UTF8Replacements is the count recorded under UTF8ReplacedKey: how many
// invalid UTF-8 sequences were replaced in t since it was imported (0 when
// none, or when the entry is not a count).
func (t *Trajectory) UTF8Replacements() int {
	n, err := strconv.Atoi(t.Metadata[UTF8ReplacedKey])
	if err != nil || n < 0 {
		return 0
	}
	return n
}

// AddUTF8Replacements adds n replacements to the count recorded under
// UTF8ReplacedKey; n <= 0 changes nothing. Importers that replace invalid
// UTF-8 in the source before decoding it (see SanitizeJSON) record their
// count with it.
func (t *Trajectory) AddUTF8Replacements(n int) {
	if n <= 0 {
		return
	}
	prev := t.UTF8Replacements()
	t.Metadata = maps.Clone(t.Metadata) // never the map of an earlier copy of t
	if t.Metadata == nil {
		t.Metadata = map[string]string{}
	}
	t.Metadata[UTF8ReplacedKey] = strconv.Itoa(prev + n)
}

// validMetadata reports whether every key and value of m is UTF-8.
func validMetadata(m map[string]string) bool {
	for k, v := range m {
		if !utf8.ValidString(k) || !utf8.ValidString(v) {
			return false
		}
	}
	return true
}

// SanitizeJSON applies the UTF-8 rule to JSON text b: each byte that does not
// start a valid UTF-8 sequence becomes U+FFFD, and each \u escape of an
// unpaired UTF-16 surrogate becomes \ufffd (the rune encoding/json decodes
// it to). It returns b itself when nothing was replaced, else a new slice,
// and the number of replacements. The result is valid JSON whenever b is.
func SanitizeJSON(b []byte) ([]byte, int) {
	if utf8.Valid(b) && !bytes.Contains(b, []byte(`\u`)) {
		return b, 0
	}
	var out []byte // nil until the first replacement
	n := 0
	replace := func(i int, with string) {
		if out == nil {
			out = append(make([]byte, 0, len(b)+16), b[:i]...)
		}
		out = append(out, with...)
		n++
	}
	keep := func(p []byte) {
		if out != nil {
			out = append(out, p...)
		}
	}
	for i := 0; i < len(b); {
		c := b[i]
		switch {
		case c == '\\' && i+1 < len(b) && b[i+1] == 'u':
			r, ok := hex4(b[i+2:])
			switch {
			case !ok || !isSurrogate(r):
				keep(b[i : i+2])
				i += 2
			case r < 0xDC00 && i+12 <= len(b) && b[i+6] == '\\' && b[i+7] == 'u' && isLowSurrogate(b[i+8:]):
				keep(b[i : i+12]) // a valid pair
				i += 12
			default:
				replace(i, `\ufffd`)
				i += 6
			}
		case c == '\\' && i+1 < len(b):
			keep(b[i : i+2]) // any other escape, including \\ before a u
			i += 2
		case c < utf8.RuneSelf:
			j := i + 1 // a run of plain ASCII, kept at once
			for j < len(b) && b[j] < utf8.RuneSelf && b[j] != '\\' {
				j++
			}
			keep(b[i:j])
			i = j
		default:
			r, size := utf8.DecodeRune(b[i:])
			if r == utf8.RuneError && size == 1 {
				replace(i, "\uFFFD")
			} else {
				keep(b[i : i+size])
			}
			i += size
		}
	}
	if out == nil {
		return b, 0
	}
	return out, n
}

// hex4 reads the 4 hex digits of a \u escape.
func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range b[:4] {
		r <<= 4
		switch {
		case '0' <= c && c <= '9':
			r |= rune(c - '0')
		case 'a' <= c && c <= 'f':
			r |= rune(c - 'a' + 10)
		case 'A' <= c && c <= 'F':
			r |= rune(c - 'A' + 10)
		default:
			return 0, false
		}
	}
	return r, true
}

func isSurrogate(r rune) bool { return 0xD800 <= r && r < 0xE000 }

func isLowSurrogate(b []byte) bool {
	r, ok := hex4(b)
	return ok && 0xDC00 <= r && r < 0xE000
}

// SanitizeString applies the UTF-8 rule to s: each byte that does not
// start a valid UTF-8 sequence becomes U+FFFD. It returns the result and
// the number of bytes replaced. Importers that hold source values as Go
// strings (rather than JSON text, see SanitizeJSON) apply it before
// encoding them, since encoding/json would replace the bytes uncounted.
func SanitizeString(s string) (string, int) { return sanitizeString(s) }

// sanitizeString replaces each byte of s that does not start a valid UTF-8
// sequence with U+FFFD and returns the result and the number replaced.
func sanitizeString(s string) (string, int) {
	if utf8.ValidString(s) {
		return s, 0
	}
	out := make([]byte, 0, len(s)+8)
	n := 0
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			out = append(out, "\uFFFD"...)
			n++
		} else {
			out = append(out, s[i:i+size]...)
		}
		i += size
	}
	return string(out), n
}

// sanitizeMetadata applies the rule to m's keys and values in place. A key
// that becomes equal to another one keeps its value under the replaced key
// followed by "#2", "#3", ..., so that no value is lost.
func sanitizeMetadata(m map[string]string) int {
	n := 0
	var bad []string
	for k, v := range m {
		if !utf8.ValidString(k) {
			bad = append(bad, k)
			continue
		}
		if clean, c := sanitizeString(v); c > 0 {
			m[k], n = clean, n+c
		}
	}
	sort.Strings(bad) // a deterministic choice of suffixes
	for _, k := range bad {
		v := m[k]
		delete(m, k)
		clean, c := sanitizeString(k)
		cv, cc := sanitizeString(v)
		n += c + cc
		key := clean
		for i := 2; ; i++ {
			if _, taken := m[key]; !taken {
				break
			}
			key = clean + "#" + strconv.Itoa(i)
		}
		m[key] = cv
	}
	return n
}
