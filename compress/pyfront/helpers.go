package pyfront

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/atlas-ai/atlas-learn/compress/sexp"
)

// helperPref starts the atom that stands for a shared helper's definition.
const helperPref = "def:"

// Helper is a top-level function definition found, identical, in several
// programs of a corpus: an existing concept, named by its own name. Each
// program refers to it by the atom Ref in place of the definition, so the
// search neither counts it again nor re-learns it as a wrapper.
type Helper struct {
	Name string `json:"name"`
	// Ref is the atom standing for the definition: def:NAME, or
	// def:NAME:K for the K-th distinct helper of that name.
	Ref string `json:"ref"`
	// Def is the definition's term.
	Def string `json:"-"`
	// Python is the definition as Python.
	Python string `json:"python"`
	// Programs counts the programs that define it.
	Programs int `json:"programs"`
}

// SharedHelpers finds the top-level function definitions (decorated ones
// included) that occur identically, name and body, in at least two of the
// programs, and returns the programs with each such definition replaced by
// its helper's Ref atom, and the helpers in order of first occurrence.
// Programs are (module BLOCK) terms as Encode writes them. A caller keeps
// each helper's definition once in the corpus (HelperProgram), so that
// what it shares with other code can still be learned, and puts the
// definitions back when printing (ExpandHelpers).
func SharedHelpers(programs []string) ([]string, []Helper, error) {
	// First pass: count the programs defining each definition; the trees
	// are not kept, to bound memory on large corpora.
	count := map[string]int{}
	for i, p := range programs {
		if !strings.Contains(p, "(def ") && !strings.Contains(p, "(adef ") {
			continue
		}
		t, err := sexp.Parse(p)
		if err != nil {
			return nil, nil, fmt.Errorf("program %d: %w", i, err)
		}
		seen := map[string]bool{}
		eachTopDef(t, func(cell *sexp.Node) {
			k := cell.List[1].String()
			if !seen[k] {
				seen[k] = true
				count[k]++
			}
		})
	}
	for k, n := range count {
		if n < 2 {
			delete(count, k)
		}
	}
	byDef := map[string]*Helper{}
	names := map[string]int{}
	var order []*Helper
	out := make([]string, len(programs))
	for i, p := range programs {
		out[i] = p
		if len(count) == 0 || (!strings.Contains(p, "(def ") && !strings.Contains(p, "(adef ")) {
			continue
		}
		t, err := sexp.Parse(p)
		if err != nil {
			return nil, nil, fmt.Errorf("program %d: %w", i, err)
		}
		changed := false
		eachTopDef(t, func(cell *sexp.Node) {
			k := cell.List[1].String()
			if count[k] < 2 {
				return
			}
			h := byDef[k]
			if h == nil {
				name := defName(cell.List[1])
				names[name]++
				ref := helperPref + name
				if names[name] > 1 {
					ref += ":" + strconv.Itoa(names[name])
				}
				py, err := Decode(moduleOf([]*sexp.Node{cell.List[1]}).String())
				if err != nil {
					py = ""
				}
				h = &Helper{Name: name, Ref: ref, Def: k, Python: py}
				byDef[k] = h
				order = append(order, h)
			}
			h.Programs++
			cell.List[1] = &sexp.Node{Atom: h.Ref}
			changed = true
		})
		if changed {
			out[i] = t.String()
		}
	}
	helpers := make([]Helper, len(order))
	for i, h := range order {
		helpers[i] = *h
	}
	return out, helpers, nil
}

// HelperProgram is the program that keeps a helper's definition once in
// the corpus: (module (seq DEF nil)).
func (h Helper) HelperProgram() string { return "(module (seq " + h.Def + " nil))" }

// HelperDef reads the (rewritten) definition back from a HelperProgram.
func HelperDef(program string) (string, error) {
	t, err := sexp.Parse(program)
	if err != nil {
		return "", err
	}
	if head(t) != "module" || len(t.List) != 2 || head(t.List[1]) != seqHead || len(t.List[1].List) != 3 {
		return "", fmt.Errorf("not a helper program: %.80s", program)
	}
	return t.List[1].List[1].String(), nil
}

// eachTopDef calls f with each cell (seq DEF REST) of the module's
// top-level block whose statement is a function definition.
func eachTopDef(t *sexp.Node, f func(cell *sexp.Node)) {
	if head(t) != "module" || len(t.List) != 2 {
		return
	}
	for c := t.List[1]; c.IsList && head(c) == seqHead && len(c.List) == 3; c = c.List[2] {
		switch head(c.List[1]) {
		case "def", "adef", "decorated":
			f(c)
		}
	}
}

// ExpandHelpers puts the definitions back in place of their Ref atoms in
// a (rewritten) program; defs maps each Ref to a definition's term (the
// helper's own, or its rewritten HelperProgram's, see HelperDef).
func ExpandHelpers(program string, defs map[string]string) string {
	if len(defs) == 0 || !strings.Contains(program, helperPref) {
		return program
	}
	var b strings.Builder
	for i := 0; i < len(program); {
		if strings.HasPrefix(program[i:], helperPref) && (i == 0 || program[i-1] == ' ' || program[i-1] == '(') {
			j := i
			for j < len(program) && program[j] != ' ' && program[j] != ')' && program[j] != '(' {
				j++
			}
			if d, ok := defs[program[i:j]]; ok {
				b.WriteString(d)
				i = j
				continue
			}
		}
		b.WriteByte(program[i])
		i++
	}
	return b.String()
}
