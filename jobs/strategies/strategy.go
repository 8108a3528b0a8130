// Package strategies abstracts successful trajectories into reusable
// strategies, after ArcMemo: for each trajectory worth abstracting, a
// named, parameterised description of the situation it solved, the
// approach that solved it, the cues that recognise the situation and
// notes on the implementation. Literals of the task become typed
// parameters, so that tasks of one family yield one strategy.
//
// Two extractors fill a Strategy: the LLM extractor (a model answers with
// strict JSON, validated and retried with the validation error fed back)
// and the heuristic extractor (always available, labelled Source
// "heuristic"), which the LLM extractor falls back to, saying why.
// Merge folds the strategies of one run that share a name into one.
//
// The package knows nothing of storage or configuration: the run's
// strategies stage (jobs/stage_strategies.go) feeds it and writes its
// rows.
package strategies

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"sort"
)

// Schema of the strategies dataset (see Strategy).
const (
	SchemaName    = "strategies"
	SchemaVersion = 1
)

// Sources of a strategy.
const (
	SourceLLM       = "llm"
	SourceHeuristic = "heuristic"
)

// ParamTypes are the parameter types a strategy may declare.
var ParamTypes = []string{"int", "float", "str", "bool", "list", "grid", "dict", "any"}

// Parameter is a typed parameter: a value the trajectory had hard-coded.
type Parameter struct {
	Name        string `parquet:"name" json:"name"`
	Type        string `parquet:"type" json:"type"`
	Description string `parquet:"description" json:"description"`
}

// Strategy is one row of the strategies dataset.
type Strategy struct {
	// Name is snake_case, derived from the abstracted situation: tasks of
	// one kind get one name, which is what merging by name relies on.
	Name string `parquet:"name" json:"name"`
	// Situation is when the strategy applies: the task abstracted
	// (literals replaced by {name:type} parameter placeholders).
	Situation string `parquet:"situation" json:"situation"`
	// Suggestion is the approach, abstracted.
	Suggestion string      `parquet:"suggestion" json:"suggestion"`
	Parameters []Parameter `parquet:"parameters,list" json:"parameters"`
	// Cues are recognisable features of the situation (sorted, unique).
	Cues []string `parquet:"cues,list" json:"cues"`
	// Implementation notes: the functions defined and the calls made, in
	// order.
	Implementation string `parquet:"implementation" json:"implementation"`
	// UsedIn are trajectory ids (sorted, at most the configured number);
	// Trajectories counts them all.
	UsedIn       []string `parquet:"used_in,list" json:"used_in"`
	Trajectories int64    `parquet:"trajectories" json:"trajectories"`
	// Concepts are the learned concepts and helper functions it relies on
	// (sorted, unique).
	Concepts []string `parquet:"concepts,list" json:"concepts"`
	Domain   string   `parquet:"domain" json:"domain"`
	// Source is "llm" or "heuristic"; Model the model that answered ("" for
	// heuristic rows); Fallback why a heuristic row is not an LLM row
	// ("llm: <reason>"), "" otherwise.
	Source   string `parquet:"source" json:"source"`
	Model    string `parquet:"model" json:"model"`
	Fallback string `parquet:"fallback" json:"fallback"`
}

// Step is one step of a trajectory as an extractor sees it.
type Step struct {
	Index                             int
	Thought, Action, ActionType, Code string
}

// Input is what an extractor sees of one successful trajectory.
type Input struct {
	TrajectoryID, TaskID string
	Description, Domain  string
	// KeySteps are the steps credit assignment named, in order.
	KeySteps []Step
	// Code is the final solution (Python); Language its language.
	Code, Language string
	// Concepts are learned concepts whose uses include this trajectory.
	Concepts []string
}

// Extractor builds a strategy from one trajectory.
type Extractor interface {
	Extract(ctx context.Context, in *Input) (Strategy, error)
}

var snakeRE = regexp.MustCompile(`^[a-z][a-z0-9]*(_[a-z0-9]+)*$`)

// IsSnakeCase tells whether s is a snake_case name: lower-case words of
// letters and digits joined by single underscores, starting with a
// letter.
func IsSnakeCase(s string) bool { return snakeRE.MatchString(s) }

// Merge folds strategies with the same name into one, in order of first
// appearance: the first's texts, source and model are kept; used_in,
// parameters (by name, first wins), cues and concepts are united; used_in
// is sorted and cut to maxUsedIn (0: no cap) and cues to maxCues (0: no
// cap). Trajectories adds up.
func Merge(rows []Strategy, maxUsedIn, maxCues int) []Strategy {
	m := NewMerger(maxUsedIn, maxCues)
	for _, r := range rows {
		m.Add(r)
	}
	return m.Result()
}

// Merger is Merge one strategy at a time, in bounded memory: what it
// keeps per name is compacted as it grows (sorted, deduplicated and cut
// to the caps, which gives what cutting the whole union gives), so that
// a million extractions of a few hundred names hold a few hundred rows.
type Merger struct {
	maxUsedIn, maxCues int
	out                []Strategy
	at                 map[string]int
	// sizes after the last compaction of each row's lists
	compacted []int
}

// NewMerger starts a merge with Merge's caps.
func NewMerger(maxUsedIn, maxCues int) *Merger {
	return &Merger{maxUsedIn: maxUsedIn, maxCues: maxCues, at: map[string]int{}}
}

// Add folds r in.
func (g *Merger) Add(r Strategy) {
	i, ok := g.at[r.Name]
	if !ok {
		g.at[r.Name] = len(g.out)
		r.UsedIn = slices.Clone(r.UsedIn)
		r.Parameters = slices.Clone(r.Parameters)
		r.Cues = slices.Clone(r.Cues)
		r.Concepts = slices.Clone(r.Concepts)
		g.out = append(g.out, r)
		g.compacted = append(g.compacted, 0)
		return
	}
	m := &g.out[i]
	m.UsedIn = append(m.UsedIn, r.UsedIn...)
	m.Trajectories += r.Trajectories
	for _, p := range r.Parameters {
		if !slices.ContainsFunc(m.Parameters, func(q Parameter) bool { return q.Name == p.Name }) {
			m.Parameters = append(m.Parameters, p)
		}
	}
	m.Cues = append(m.Cues, r.Cues...)
	m.Concepts = append(m.Concepts, r.Concepts...)
	if n := len(m.UsedIn) + len(m.Cues) + len(m.Concepts); n > 2*g.compacted[i]+256 {
		g.compact(m)
		g.compacted[i] = len(m.UsedIn) + len(m.Cues) + len(m.Concepts)
	}
}

// compact puts a row's lists in their final form.
func (g *Merger) compact(m *Strategy) {
	m.UsedIn = capped(sortedUnique(m.UsedIn), g.maxUsedIn)
	m.Cues = capped(sortedUnique(m.Cues), g.maxCues)
	m.Concepts = sortedUnique(m.Concepts)
}

func capped(xs []string, n int) []string {
	if n > 0 && len(xs) > n {
		return xs[:n:n]
	}
	return xs
}

// Result is the merged strategies, in order of first appearance.
func (g *Merger) Result() []Strategy {
	for i := range g.out {
		g.compact(&g.out[i])
		if g.out[i].Parameters == nil {
			g.out[i].Parameters = []Parameter{}
		}
	}
	return g.out
}

// sortedUnique sorts xs and drops duplicates and empty strings; never
// nil.
func sortedUnique(xs []string) []string {
	out := make([]string, 0, len(xs))
	for _, x := range xs {
		if x != "" {
			out = append(out, x)
		}
	}
	sort.Strings(out)
	return slices.Compact(out)
}

// finish fills the fields every extractor sets the same way.
func finish(s *Strategy, in *Input, maxCues int) {
	s.UsedIn = []string{in.TrajectoryID}
	s.Trajectories = 1
	s.Domain = in.Domain
	s.Cues = sortedUnique(s.Cues)
	if maxCues > 0 && len(s.Cues) > maxCues {
		s.Cues = s.Cues[:maxCues]
	}
	if s.Parameters == nil {
		s.Parameters = []Parameter{}
	}
	s.Concepts = sortedUnique(append(slices.Clone(in.Concepts), definedHelpers(in.Code)...))
}

// Validate checks a strategy's fields: a snake_case name, the texts
// present and bounded, parameters named and typed.
func Validate(s *Strategy, maxCues int) error {
	switch {
	case !IsSnakeCase(s.Name):
		return fmt.Errorf("name %q is not snake_case (lower-case words joined by _)", s.Name)
	case len(s.Name) > maxName:
		return fmt.Errorf("name %q is longer than %d characters", s.Name, maxName)
	case s.Situation == "":
		return fmt.Errorf("situation is empty")
	case len(s.Situation) > maxText:
		return fmt.Errorf("situation is longer than %d characters", maxText)
	case s.Suggestion == "":
		return fmt.Errorf("suggestion is empty")
	case len(s.Suggestion) > maxText:
		return fmt.Errorf("suggestion is longer than %d characters", maxText)
	case len(s.Implementation) > maxText:
		return fmt.Errorf("implementation is longer than %d characters", maxText)
	case maxCues > 0 && len(s.Cues) > maxCues:
		return fmt.Errorf("%d cues, at most %d allowed", len(s.Cues), maxCues)
	case len(s.Parameters) > maxParams:
		return fmt.Errorf("%d parameters, at most %d allowed", len(s.Parameters), maxParams)
	}
	for i, c := range s.Cues {
		if c == "" || len(c) > maxCue {
			return fmt.Errorf("cue %d: must be 1..%d characters, got %d", i, maxCue, len(c))
		}
	}
	seen := map[string]bool{}
	for i, p := range s.Parameters {
		switch {
		case !identRE.MatchString(p.Name):
			return fmt.Errorf("parameter %d: name %q is not an identifier", i, p.Name)
		case seen[p.Name]:
			return fmt.Errorf("parameter %d: name %q repeated", i, p.Name)
		case !slices.Contains(ParamTypes, p.Type):
			return fmt.Errorf("parameter %s: type %q is not one of %v", p.Name, p.Type, ParamTypes)
		case len(p.Description) > maxCue*4:
			return fmt.Errorf("parameter %s: description longer than %d characters", p.Name, maxCue*4)
		}
		seen[p.Name] = true
	}
	return nil
}

// Bounds of a strategy's fields.
const (
	maxName   = 64
	maxText   = 2000
	maxCue    = 60
	maxParams = 16
)

var identRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
