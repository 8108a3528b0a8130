package strategies

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"unicode"
)

// Heuristic is the extractor that needs no model (Source "heuristic"):
//
//   - situation: the task description with its literals (numbers, quoted
//     strings) and its choice words (even/odd, ascending/descending, ...)
//     replaced by typed placeholders {name:type}; the parameters are those
//     literals (types inferred; a number is named after the content word
//     before it) plus the entry function's argument, typed by domain;
//   - name: the first five content words of the situation (stop words and
//     placeholders dropped), joined by _;
//   - cues: the domain, the calls the code makes, the situation's
//     content words and the task's choice words;
//   - suggestion: the helpers the code defines and the calls its entry
//     function makes, in order, then the key steps' thoughts;
//   - implementation: the functions defined and, per function, the calls
//     made, found by a lexical scan of the code (identifiers followed by
//     "(", comments and strings skipped) rather than a parse.
type Heuristic struct {
	// MaxCues bounds the cues (0: no bound).
	MaxCues int
}

// Extract implements Extractor; it never fails.
func (h Heuristic) Extract(_ context.Context, in *Input) (Strategy, error) {
	return h.Strategy(in), nil
}

// Strategy is the heuristic strategy of in.
func (h Heuristic) Strategy(in *Input) Strategy {
	sit, params := abstractText(in.Description)
	code := scanPython(in.Code)
	entry := code.entry()
	if entry != nil && len(entry.params) > 0 {
		p := Parameter{Name: entry.params[0], Type: domainType(in.Domain), Description: "the task's input"}
		if !slices.ContainsFunc(params, func(q Parameter) bool { return q.Name == p.Name }) {
			params = append([]Parameter{p}, params...)
		}
	}
	words := contentWords(sit)
	s := Strategy{
		Name:           nameOf(words),
		Situation:      sit,
		Suggestion:     suggestion(code, entry, in.KeySteps),
		Parameters:     params,
		Implementation: code.implementation(),
		Source:         SourceHeuristic,
	}
	var cues []string
	if in.Domain != "" {
		cues = append(cues, strings.ToLower(in.Domain))
	}
	for _, c := range code.allCalls() {
		cues = append(cues, strings.TrimPrefix(c, "."))
	}
	cues = append(cues, words...)
	cues = append(cues, choiceWords(in.Description)...)
	s.Cues = firstUnique(cues, h.MaxCues)
	finish(&s, in, h.MaxCues)
	return s
}

// firstUnique keeps the first n distinct non-empty items (n <= 0: all).
func firstUnique(xs []string, n int) []string {
	var out []string
	for _, x := range xs {
		if x == "" || len(x) > maxCue || slices.Contains(out, x) {
			continue
		}
		if n > 0 && len(out) == n {
			break
		}
		out = append(out, x)
	}
	return out
}

// maxNameWords bounds the words of a heuristic name.
const maxNameWords = 5

func nameOf(words []string) string {
	if len(words) > maxNameWords {
		words = words[:maxNameWords]
	}
	if len(words) == 0 {
		return "unnamed_task"
	}
	return strings.Join(words, "_")
}

func domainType(domain string) string {
	switch strings.ToLower(domain) {
	case "list":
		return "list"
	case "grid":
		return "grid"
	case "string":
		return "str"
	case "math":
		return "int"
	}
	return "any"
}

// choiceGroups are words that vary between tasks of one kind: each
// becomes a str parameter named after its group.
var choiceGroups = []struct {
	name  string
	words []string
}{
	{"parity", []string{"even", "odd"}},
	{"order", []string{"ascending", "descending", "increasing", "decreasing"}},
	{"case", []string{"lowercase", "uppercase"}},
	{"direction", []string{"clockwise", "counterclockwise", "anticlockwise"}},
	{"extreme", []string{"largest", "smallest", "maximum", "minimum"}},
}

func choiceGroup(w string) (string, []string, bool) {
	lw := strings.ToLower(w)
	for _, g := range choiceGroups {
		if slices.Contains(g.words, lw) {
			return g.name, g.words, true
		}
	}
	return "", nil, false
}

var stopWords = map[string]bool{}

func init() {
	for _, w := range strings.Fields(`a an the of to in on at by for from with and or but nor is are was were be been being it its
		their them they this that these those each every all any some only given return returns how many much what which who whom
		when where there then than as into onto out over under up down so such same one ones do does did not no if else while
		using use via per also just like more less very can may must should will would could let has have had here his her our
		your you we she he whose both either neither other others another whether after before until stay stays way`) {
		stopWords[w] = true
	}
}

// contentWords are the lower-cased words of text of at least three
// letters that are not stop words, outside {placeholders}, in order.
func contentWords(text string) []string {
	var out []string
	depth := 0
	var cur strings.Builder
	flush := func() {
		w := cur.String()
		cur.Reset()
		if len(w) >= 3 && !stopWords[w] {
			out = append(out, w)
		}
	}
	for _, r := range text {
		switch {
		case r == '{':
			flush()
			depth++
		case r == '}':
			if depth > 0 {
				depth--
			}
		case depth > 0:
		case r < 128 && (unicode.IsLetter(r) || unicode.IsDigit(r)):
			cur.WriteRune(unicode.ToLower(r))
		default:
			flush()
		}
	}
	flush()
	// Words made of digits alone are literals, not content.
	return slices.DeleteFunc(out, func(w string) bool { return strings.Trim(w, "0123456789") == "" })
}

// abstractText replaces the literals and choice words of a task
// description by {name:type} placeholders and returns the parameters.
func abstractText(text string) (string, []Parameter) {
	var b strings.Builder
	var params []Parameter
	prevWord := ""
	add := func(base, typ, desc string) string {
		name := base
		for n := 2; slices.ContainsFunc(params, func(p Parameter) bool { return p.Name == name }); n++ {
			name = fmt.Sprintf("%s_%d", base, n)
		}
		params = append(params, Parameter{Name: name, Type: typ, Description: desc})
		return "{" + name + ":" + typ + "}"
	}
	rs := []rune(text)
	for i := 0; i < len(rs); {
		r := rs[i]
		prevAlnum := i > 0 && (unicode.IsLetter(rs[i-1]) || unicode.IsDigit(rs[i-1]))
		switch {
		case (r == '\'' || r == '"') && !prevAlnum:
			j := i + 1
			for j < len(rs) && rs[j] != r {
				j++
			}
			if j == len(rs) {
				b.WriteRune(r)
				i++
				continue
			}
			lit := string(rs[i : j+1])
			b.WriteString(add(paramBase(prevWord, "s"), "str", "a string taken from the task, e.g. "+lit))
			i = j + 1
		case (unicode.IsDigit(r) || (r == '-' && i+1 < len(rs) && unicode.IsDigit(rs[i+1]))) && !prevAlnum:
			j := i + 1
			for j < len(rs) && unicode.IsDigit(rs[j]) {
				j++
			}
			typ := "int"
			if j+1 < len(rs) && rs[j] == '.' && unicode.IsDigit(rs[j+1]) {
				typ = "float"
				for j++; j < len(rs) && unicode.IsDigit(rs[j]); j++ {
				}
			}
			if j < len(rs) && (unicode.IsLetter(rs[j]) || rs[j] == '_') {
				// 3n, 2x: part of a formula, not a value.
				b.WriteString(string(rs[i:j]))
				i = j
				continue
			}
			lit := string(rs[i:j])
			b.WriteString(add(paramBase(prevWord, "n"), typ, "a number taken from the task, e.g. "+lit))
			i = j
		case unicode.IsLetter(r):
			j := i
			for j < len(rs) && (unicode.IsLetter(rs[j]) || unicode.IsDigit(rs[j])) {
				j++
			}
			w := string(rs[i:j])
			if g, words, ok := choiceGroup(w); ok {
				b.WriteString(add(g, "str", "one of "+strings.Join(words, ", ")))
			} else {
				b.WriteString(w)
				lw := strings.ToLower(w)
				if len(lw) >= 3 && !stopWords[lw] {
					prevWord = lw
				}
			}
			i = j
		default:
			b.WriteRune(r)
			i++
		}
	}
	return b.String(), params
}

// choiceWords are the choice words of text (see choiceGroups), lower-cased,
// in order.
func choiceWords(text string) []string {
	var out []string
	for _, w := range strings.FieldsFunc(text, func(r rune) bool { return !unicode.IsLetter(r) }) {
		if _, _, ok := choiceGroup(w); ok {
			out = append(out, strings.ToLower(w))
		}
	}
	return out
}

func paramBase(prev, orElse string) string {
	if prev == "" {
		return orElse
	}
	return prev
}

// suggestion describes the approach from the code and the key steps.
func suggestion(code *pyCode, entry *pyDef, keySteps []Step) string {
	var parts []string
	var helpers []string
	for _, d := range code.defs {
		if d != entry {
			helpers = append(helpers, d.name)
		}
	}
	if len(helpers) > 0 {
		parts = append(parts, "Define helper "+plural(len(helpers), "function", "functions")+" "+andList(helpers)+".")
	}
	if entry != nil && len(entry.calls) > 0 {
		parts = append(parts, "In "+entry.name+", call "+strings.Join(entry.calls, ", then ")+".")
	} else if calls := code.allCalls(); len(calls) > 0 {
		parts = append(parts, "Call "+strings.Join(calls, ", then ")+".")
	}
	n := 0
	for _, s := range keySteps {
		t := strings.TrimSpace(s.Thought)
		if t == "" || n == 3 {
			continue
		}
		if n == 0 {
			parts = append(parts, "Key steps:")
		}
		if len(t) > 200 {
			t = strings.TrimSpace(t[:200]) + "…"
		}
		t, _ = abstractText(t)
		parts = append(parts, t)
		n++
	}
	if len(parts) == 0 {
		return "Solve the task directly."
	}
	out := strings.Join(parts, " ")
	if len(out) > maxText {
		out = out[:maxText]
	}
	return out
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// andList joins a, b and c.
func andList(xs []string) string {
	switch len(xs) {
	case 0:
		return ""
	case 1:
		return xs[0]
	}
	return strings.Join(xs[:len(xs)-1], ", ") + " and " + xs[len(xs)-1]
}
