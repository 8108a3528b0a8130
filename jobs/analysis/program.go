package analysis

import (
	"context"
	"fmt"
	"strings"

	sitter "github.com/smacker/go-tree-sitter"
	"github.com/smacker/go-tree-sitter/python"

	"github.com/atlas-ai/atlas-learn/columnar"
)

// The program of a program-synthesis trajectory, as the code replayer
// rebuilds it. The convention is the one `atlas-learn gen` writes (and
// agents that edit a module one definition at a time follow):
//
//   - a step whose action_type is "edit" and that carries code adds the
//     code's top-level definitions (functions, classes, assignments,
//     imports) to the program, replacing earlier definitions of the same
//     names;
//   - a step whose action is "revert" and that carries no code undoes the
//     last edit before it: the names that edit defined get back their
//     definitions from before it;
//   - every other step (running tests, exploratory code) leaves the
//     program as it is.
//
// The program is its definitions in the order their names were first
// defined. Removing a step removes what it did; removing a revert also
// removes the edit it undid (the pair then never happened), so a change
// that was tried and reverted gets no credit either way.

// unit is one top-level definition.
type unit struct {
	name, src string
}

// stepKind is what a step does to the program.
type stepKind int

const (
	stepNone stepKind = iota
	stepEdit
	stepRevert
)

// progStep is one step's effect on the program.
type progStep struct {
	kind   stepKind
	units  []unit
	target int // stepRevert: the edit it undoes, or -1
}

// programOf reads the program steps of t. A step whose code is not valid
// Python becomes one opaque unit (running it then raises SyntaxError, as
// it would have for the agent).
func programOf(ctx context.Context, t *columnar.Trajectory) ([]progStep, error) {
	steps := make([]progStep, len(t.Steps))
	p := sitter.NewParser()
	p.SetLanguage(python.GetLanguage())
	lastEdit := -1
	for i, s := range t.Steps {
		switch {
		case s.ActionType == "edit" && s.Code != "":
			us, err := topLevel(ctx, p, i, s.Code)
			if err != nil {
				return nil, fmt.Errorf("step %d: %w", i, err)
			}
			steps[i] = progStep{kind: stepEdit, units: us}
			lastEdit = i
		case s.Action == "revert" && s.Code == "":
			steps[i] = progStep{kind: stepRevert, target: lastEdit}
			lastEdit = -1
		}
	}
	return steps, nil
}

// topLevel splits src into its top-level statements, keyed by the name
// each defines.
func topLevel(ctx context.Context, p *sitter.Parser, step int, src string) ([]unit, error) {
	tree, err := p.ParseCtx(ctx, nil, []byte(src))
	if err != nil {
		return nil, err
	}
	defer tree.Close()
	root := tree.RootNode()
	b := []byte(src)
	if root.HasError() {
		return []unit{{name: fmt.Sprintf("<step %d>", step), src: src}}, nil
	}
	var out []unit
	for i := 0; i < int(root.NamedChildCount()); i++ {
		n := root.NamedChild(i)
		if n.Type() == "comment" {
			continue
		}
		out = append(out, unit{name: unitName(n, b, step, i), src: n.Content(b)})
	}
	return out, nil
}

func unitName(n *sitter.Node, src []byte, step, i int) string {
	switch n.Type() {
	case "decorated_definition":
		if d := n.ChildByFieldName("definition"); d != nil {
			return unitName(d, src, step, i)
		}
	case "function_definition", "class_definition":
		if name := n.ChildByFieldName("name"); name != nil {
			return name.Content(src)
		}
	case "expression_statement":
		if n.NamedChildCount() == 1 {
			a := n.NamedChild(0)
			if a.Type() == "assignment" {
				if left := a.ChildByFieldName("left"); left != nil && left.Type() == "identifier" {
					return left.Content(src)
				}
			}
		}
	case "import_statement", "import_from_statement":
		return "import " + strings.Join(strings.Fields(n.Content(src)), " ")
	}
	return fmt.Sprintf("<step %d statement %d>", step, i)
}

// build assembles the program with the steps in removed left out.
func build(steps []progStep, removed map[int]bool) string {
	var order []string
	defs := map[string]string{}
	// before[i] holds, for edit i, each name's definition before it ("",
	// false when the name was undefined).
	type prev struct {
		src string
		ok  bool
	}
	before := map[int]map[string]prev{}
	for i, s := range steps {
		if removed[i] {
			continue
		}
		switch s.kind {
		case stepEdit:
			b := map[string]prev{}
			for _, u := range s.units {
				if _, seen := b[u.name]; !seen {
					src, ok := defs[u.name]
					b[u.name] = prev{src, ok}
				}
				if _, ok := defs[u.name]; !ok {
					order = append(order, u.name)
				}
				defs[u.name] = u.src
			}
			before[i] = b
		case stepRevert:
			b, ok := before[s.target]
			if s.target < 0 || !ok {
				continue // the edit it undoes was removed: nothing to undo
			}
			for name, p := range b {
				if p.ok {
					defs[name] = p.src
				} else {
					delete(defs, name)
				}
			}
		}
	}
	var sb strings.Builder
	for _, name := range order {
		src, ok := defs[name]
		if !ok {
			continue
		}
		sb.WriteString(src)
		if !strings.HasSuffix(src, "\n") {
			sb.WriteByte('\n')
		}
		sb.WriteByte('\n')
	}
	return sb.String()
}

// removal is what leaving step k out removes: k, and for a revert the
// edit it undid.
func removal(steps []progStep, k int) map[int]bool {
	r := map[int]bool{k: true}
	if steps[k].kind == stepRevert && steps[k].target >= 0 {
		r[steps[k].target] = true
	}
	return r
}
