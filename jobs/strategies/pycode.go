package strategies

import (
	"slices"
	"strings"
	"unicode"
)

// pyCode is what a lexical scan finds in Python source: the functions it
// defines (top-level and nested, in order) and, per function, the calls
// it makes. The scan skips comments and string literals and takes an
// identifier followed by "(" as a call (".name(" as a method call); it is
// a heuristic, not a parse.
type pyCode struct {
	defs []*pyDef
	// top are the calls outside any function.
	top []string
}

type pyDef struct {
	name   string
	params []string
	calls  []string
	indent int
}

var pyKeywords = map[string]bool{}

func init() {
	for _, w := range strings.Fields(`False None True and as assert async await break class continue def del elif else except
		finally for from global if import in is lambda nonlocal not or pass raise return try while with yield`) {
		pyKeywords[w] = true
	}
}

// entryNames are the functions taken as a solution's entry point.
var entryNames = []string{"solve", "main", "solution"}

// entry is the solution's entry function: solve (or main, solution), else
// the last top-level function.
func (c *pyCode) entry() *pyDef {
	for _, n := range entryNames {
		for _, d := range c.defs {
			if d.name == n && d.indent == 0 {
				return d
			}
		}
	}
	for i := len(c.defs) - 1; i >= 0; i-- {
		if c.defs[i].indent == 0 {
			return c.defs[i]
		}
	}
	return nil
}

// allCalls are the calls of the code, once each, in order of appearance.
func (c *pyCode) allCalls() []string {
	var out []string
	add := func(xs []string) {
		for _, x := range xs {
			if !slices.Contains(out, x) {
				out = append(out, x)
			}
		}
	}
	for _, d := range c.defs {
		add(d.calls)
	}
	add(c.top)
	return out
}

// implementation lists the functions defined and the calls of each.
func (c *pyCode) implementation() string {
	var parts []string
	for _, d := range c.defs {
		s := "def " + d.name + "(" + strings.Join(d.params, ", ") + ")"
		if len(d.calls) > 0 {
			s += " calls " + strings.Join(d.calls, ", ")
		}
		parts = append(parts, s)
	}
	if len(c.top) > 0 {
		parts = append(parts, "module calls "+strings.Join(c.top, ", "))
	}
	if len(parts) == 0 {
		return ""
	}
	out := strings.Join(parts, "; ") + ". (Calls found by a lexical scan, heuristic.)"
	if len(out) > maxText {
		out = out[:maxText]
	}
	return out
}

// definedHelpers are the functions code defines other than its entry.
func definedHelpers(code string) []string {
	c := scanPython(code)
	e := c.entry()
	var out []string
	for _, d := range c.defs {
		if d != e && d.indent == 0 {
			out = append(out, d.name)
		}
	}
	return out
}

type pyTok struct {
	text   string
	indent int // indentation of the token's line
	first  bool
}

// pyTokens splits Python source into identifiers and punctuation, with
// comments, strings and numbers dropped.
func pyTokens(src string) []pyTok {
	var out []pyTok
	rs := []rune(src)
	indent, lineStart := 0, true
	for i := 0; i < len(rs); {
		r := rs[i]
		switch {
		case r == '\n':
			indent, lineStart = 0, true
			i++
		case r == ' ' || r == '\t' || r == '\r':
			if lineStart {
				indent++
			}
			i++
		case r == '#':
			for i < len(rs) && rs[i] != '\n' {
				i++
			}
		case r == '\'' || r == '"':
			i = skipString(rs, i)
			lineStart = false
		case unicode.IsLetter(r) || r == '_':
			j := i
			for j < len(rs) && (unicode.IsLetter(rs[j]) || unicode.IsDigit(rs[j]) || rs[j] == '_') {
				j++
			}
			// String prefixes: r'...', f"...", b'...'.
			if j < len(rs) && (rs[j] == '\'' || rs[j] == '"') && j-i <= 2 && strings.ContainsAny(strings.ToLower(string(rs[i:j])), "rfbu") {
				i = skipString(rs, j)
				lineStart = false
				continue
			}
			out = append(out, pyTok{text: string(rs[i:j]), indent: indent, first: lineStart})
			lineStart = false
			i = j
		case unicode.IsDigit(r):
			for i < len(rs) && (unicode.IsLetter(rs[i]) || unicode.IsDigit(rs[i]) || rs[i] == '.' || rs[i] == '_') {
				i++
			}
			lineStart = false
		default:
			out = append(out, pyTok{text: string(r), indent: indent, first: lineStart})
			lineStart = false
			i++
		}
	}
	return out
}

// skipString returns the index after the string literal starting at i.
func skipString(rs []rune, i int) int {
	q := rs[i]
	if i+2 < len(rs) && rs[i+1] == q && rs[i+2] == q {
		for j := i + 3; j+2 < len(rs); j++ {
			if rs[j] == '\\' {
				j++
				continue
			}
			if rs[j] == q && rs[j+1] == q && rs[j+2] == q {
				return j + 3
			}
		}
		return len(rs)
	}
	for j := i + 1; j < len(rs); j++ {
		switch rs[j] {
		case '\\':
			j++
		case q, '\n':
			return j + 1
		}
	}
	return len(rs)
}

// scanPython scans src (see pyCode).
func scanPython(src string) *pyCode {
	c := &pyCode{}
	toks := pyTokens(src)
	var stack []*pyDef
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		if t.first {
			for len(stack) > 0 && t.indent <= stack[len(stack)-1].indent {
				stack = stack[:len(stack)-1]
			}
		}
		if t.text == "def" && i+1 < len(toks) {
			d := &pyDef{name: toks[i+1].text, indent: t.indent}
			j := i + 2
			if j < len(toks) && toks[j].text == "(" {
				depth := 0
				expect := true
				for ; j < len(toks); j++ {
					switch toks[j].text {
					case "(", "[", "{":
						depth++
					case ")", "]", "}":
						depth--
					case ",":
						if depth == 1 {
							expect = true
						}
					case "=", ":":
						if depth == 1 {
							expect = false
						}
					default:
						if depth == 1 && expect && isIdent(toks[j].text) {
							d.params = append(d.params, toks[j].text)
							expect = false
						}
					}
					if depth == 0 {
						break
					}
				}
			}
			c.defs = append(c.defs, d)
			stack = append(stack, d)
			i = j
			continue
		}
		if !isIdent(t.text) || pyKeywords[t.text] || i+1 >= len(toks) || toks[i+1].text != "(" {
			continue
		}
		name := t.text
		if i > 0 && toks[i-1].text == "." {
			name = "." + name
		}
		if i > 0 && toks[i-1].text == "class" {
			continue
		}
		calls := &c.top
		if len(stack) > 0 {
			calls = &stack[len(stack)-1].calls
		}
		if !slices.Contains(*calls, name) {
			*calls = append(*calls, name)
		}
	}
	return c
}

func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		if !(unicode.IsLetter(r) || r == '_' || (i > 0 && unicode.IsDigit(r))) {
			return false
		}
	}
	return true
}
