package trajgen

import (
	"strconv"
	"strings"
)

// The generator models the Python values its tasks deal in with plain Go
// values: int, string, bool and []any (a Python list). Tuples never reach
// an example or an observation.

// pyRepr appends Python's repr of v to b.
func pyRepr(b *strings.Builder, v any) {
	switch v := v.(type) {
	case int:
		b.WriteString(strconv.Itoa(v))
	case bool:
		if v {
			b.WriteString("True")
		} else {
			b.WriteString("False")
		}
	case string:
		pyStrRepr(b, v)
	case []any:
		b.WriteByte('[')
		for i, e := range v {
			if i > 0 {
				b.WriteString(", ")
			}
			pyRepr(b, e)
		}
		b.WriteByte(']')
	default:
		panic("trajgen: no repr for value")
	}
}

func reprString(v any) string {
	var b strings.Builder
	pyRepr(&b, v)
	return b.String()
}

// pyStrRepr writes Python's repr of an ASCII string.
func pyStrRepr(b *strings.Builder, s string) {
	q := byte('\'')
	if strings.IndexByte(s, '\'') >= 0 && strings.IndexByte(s, '"') < 0 {
		q = '"'
	}
	b.WriteByte(q)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == q || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c == '\n':
			b.WriteString(`\n`)
		case c == '\t':
			b.WriteString(`\t`)
		case c < 0x20 || c >= 0x7f:
			b.WriteString(`\x`)
			b.WriteString(strconv.FormatInt(int64(c)>>4, 16))
			b.WriteString(strconv.FormatInt(int64(c)&15, 16))
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte(q)
}

// writeJSON appends the JSON text of v to b.
func writeJSON(b *strings.Builder, v any) {
	switch v := v.(type) {
	case int:
		b.WriteString(strconv.Itoa(v))
	case bool:
		if v {
			b.WriteString("true")
		} else {
			b.WriteString("false")
		}
	case string:
		writeJSONString(b, v)
	case []any:
		b.WriteByte('[')
		for i, e := range v {
			if i > 0 {
				b.WriteString(", ")
			}
			writeJSON(b, e)
		}
		b.WriteByte(']')
	default:
		panic("trajgen: no JSON for value")
	}
}

func writeJSONString(b *strings.Builder, s string) {
	const hex = "0123456789abcdef"
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < 0x20:
			b.WriteString(`\u00`)
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
}

// pyEqual is Python's == on the modelled values.
func pyEqual(a, b any) bool {
	switch a := a.(type) {
	case int:
		bv, ok := b.(int)
		return ok && a == bv
	case bool:
		bv, ok := b.(bool)
		return ok && a == bv
	case string:
		bv, ok := b.(string)
		return ok && a == bv
	case []any:
		bv, ok := b.([]any)
		if !ok || len(a) != len(bv) {
			return false
		}
		for i := range a {
			if !pyEqual(a[i], bv[i]) {
				return false
			}
		}
		return true
	}
	return false
}

// pyMod is Python's % on ints (the result takes the divisor's sign).
func pyMod(a, n int) int {
	m := a % n
	if m != 0 && (m < 0) != (n < 0) {
		m += n
	}
	return m
}

// pyFloorDiv is Python's // on ints.
func pyFloorDiv(a, n int) int {
	q := a / n
	if (a%n != 0) && ((a < 0) != (n < 0)) {
		q--
	}
	return q
}

func ints(v []int) []any {
	out := make([]any, len(v))
	for i, x := range v {
		out[i] = x
	}
	return out
}
