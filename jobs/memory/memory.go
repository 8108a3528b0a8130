// Package memory grows the learning engine's long-term memory run after
// run: the experience memory (each trajectory once, by id and content
// hash), the strategy bank (strategies merged by name or by near-duplicate
// situation and suggestion, with usage counts and a size cap that evicts
// the least useful first), the plan library (SAGE-style plans of
// successful trajectories, deduplicated) and the concept library's
// lineage (when each concept was first learned and how much each run used
// it).
//
// The package is pure: it merges rows it is given into rows it returns,
// in a deterministic order, and knows nothing of storage or
// configuration. A memory version is numbered; Version is the number of
// the version being built, and "age" is measured in versions, never in
// wall-clock time, so that the same history of runs gives the same
// memory.
package memory

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
	"unicode"
)

// Schema names and versions of the memory's datasets.
const (
	ExperienceSchema = "memory_experience"
	StrategySchema   = "memory_strategies"
	PlanSchema       = "memory_plans"
	LineageSchema    = "memory_concept_lineage"
	SchemaVersion    = 1
)

// Parameter is a typed parameter of a strategy: a value the trajectory
// hard-coded.
type Parameter struct {
	Name        string `parquet:"name" json:"name"`
	Type        string `parquet:"type" json:"type"`
	Description string `parquet:"description" json:"description"`
}

// Strategy is one strategy of the bank.
type Strategy struct {
	Name           string      `parquet:"name" json:"name"`
	Situation      string      `parquet:"situation" json:"situation"`
	Suggestion     string      `parquet:"suggestion" json:"suggestion"`
	Parameters     []Parameter `parquet:"parameters,list" json:"parameters"`
	Cues           []string    `parquet:"cues,list" json:"cues"`
	Implementation string      `parquet:"implementation" json:"implementation"`
	Concepts       []string    `parquet:"concepts,list" json:"concepts"`
	Domain         string      `parquet:"domain" json:"domain"`
	// Source is how the strategy was extracted ("llm" or "heuristic").
	Source string `parquet:"source" json:"source"`
	// Aliases are the names of strategies merged into this one.
	Aliases []string `parquet:"aliases,list" json:"aliases"`
	// UsedIn are the most recent trajectories that used the strategy (at
	// most Options.MaxUsedIn, oldest first); Uses counts them all, over
	// every run.
	UsedIn []string `parquet:"used_in,list" json:"used_in"`
	Uses   int64    `parquet:"uses" json:"uses"`
	// FirstRun and LastRun are the runs that first and last used it;
	// FirstVersion and LastVersion the memory versions they built.
	FirstRun     string `parquet:"first_run" json:"first_run"`
	LastRun      string `parquet:"last_run" json:"last_run"`
	FirstVersion int64  `parquet:"first_version" json:"first_version"`
	LastVersion  int64  `parquet:"last_version" json:"last_version"`
	// LastUsed is the creation time of the newest trajectory that used it.
	LastUsed time.Time `parquet:"last_used,timestamp(millisecond)" json:"last_used"`
}

// Eviction rules: which strategies (and plans) go first when the memory
// is over its size cap.
const (
	// EvictScore evicts the lowest usefulness score first: uses,
	// halved for every HalfLife versions since the last use.
	EvictScore = "score"
	// EvictLeastUsed evicts the fewest uses first.
	EvictLeastUsed = "least_used"
	// EvictLeastRecent evicts the longest unused first.
	EvictLeastRecent = "least_recent"
)

// EvictionRules lists the eviction rules.
var EvictionRules = []string{EvictScore, EvictLeastUsed, EvictLeastRecent}

// Options are the merge's settings.
type Options struct {
	// Version is the number of the memory version being built; RunID the
	// run building it.
	Version int64
	RunID   string
	// Threshold is the similarity (Jaccard over the words of situation
	// and suggestion, in [0, 1]) at or above which two strategies of
	// different names are one; 0 merges by name only.
	Threshold float64
	// MaxStrategies and MaxPlans cap the bank and the plan library (0:
	// no cap); Eviction picks what goes (EvictScore by default) with
	// HalfLife (in versions) for EvictScore.
	MaxStrategies int
	MaxPlans      int
	Eviction      string
	HalfLife      float64
	// MaxUsedIn bounds UsedIn; MaxCues a strategy's cues (0: no bound).
	MaxUsedIn int
	MaxCues   int
}

// Validate reports the first invalid setting.
func (o Options) Validate() error {
	switch {
	case o.Threshold < 0 || o.Threshold > 1 || math.IsNaN(o.Threshold):
		return fmt.Errorf("threshold: must be in [0, 1], got %v", o.Threshold)
	case o.MaxStrategies < 0:
		return fmt.Errorf("max_strategies: must be >= 0, got %d", o.MaxStrategies)
	case o.MaxPlans < 0:
		return fmt.Errorf("max_plans: must be >= 0, got %d", o.MaxPlans)
	case o.MaxUsedIn < 0:
		return fmt.Errorf("max_used_in: must be >= 0, got %d", o.MaxUsedIn)
	case o.MaxCues < 0:
		return fmt.Errorf("max_cues: must be >= 0, got %d", o.MaxCues)
	case o.Eviction != "" && !slices.Contains(EvictionRules, o.Eviction):
		return fmt.Errorf("eviction: must be one of %v, got %q", EvictionRules, o.Eviction)
	case o.Eviction == EvictScore && o.HalfLife <= 0:
		return fmt.Errorf("half_life: must be > 0 for eviction %q, got %v", EvictScore, o.HalfLife)
	}
	return nil
}

// Stats counts what a merge did.
type Stats struct {
	Incoming      int // strategies (or plans) offered
	Added         int // new entries
	MergedByName  int // merged into an entry of the same name (or id)
	MergedBySim   int // merged into a near-duplicate
	Evicted       int // evicted over the cap
	Size          int // entries after the merge
	UsesAdded     int64
	EvictedNames  []string
	MergedAliases [][2]string // [incoming, into] for similarity merges
}

// MergeStrategies merges incoming strategies (this run's, each with the
// new trajectories that used it in UsedIn and their newest creation time
// in LastUsed) into the bank: an incoming strategy joins the bank entry of
// its name, or else the most similar entry at or above the threshold
// (ties broken by name), or else is added; then the bank is cut to its
// cap. Incoming strategies are taken in name order, so the result does
// not depend on the order given. The result is sorted by name.
func MergeStrategies(bank, incoming []Strategy, o Options) ([]Strategy, Stats, error) {
	if err := o.Validate(); err != nil {
		return nil, Stats{}, err
	}
	st := Stats{Incoming: len(incoming)}
	out := make([]Strategy, len(bank))
	for i := range bank {
		out[i] = cloneStrategy(bank[i])
	}
	byName := map[string]int{}
	for i := range out {
		byName[out[i].Name] = i
		for _, a := range out[i].Aliases {
			if _, ok := byName[a]; !ok {
				byName[a] = i
			}
		}
	}
	idx := newSimIndex()
	for i := range out {
		idx.add(i, strategyWords(&out[i]))
	}
	in := slices.Clone(incoming)
	slices.SortStableFunc(in, func(a, b Strategy) int { return strings.Compare(a.Name, b.Name) })
	for _, s := range in {
		if len(s.UsedIn) == 0 {
			continue // no new trajectory: nothing to learn, nothing to count
		}
		if i, ok := byName[s.Name]; ok {
			before := out[i].Uses
			mergeInto(&out[i], &s, o)
			st.UsesAdded += out[i].Uses - before
			st.MergedByName++
			continue
		}
		words := strategyWords(&s)
		if j, ok := idx.best(words, o.Threshold, func(i int) string { return out[i].Name }); o.Threshold > 0 && ok {
			before := out[j].Uses
			mergeInto(&out[j], &s, o)
			st.UsesAdded += out[j].Uses - before
			if !slices.Contains(out[j].Aliases, s.Name) {
				out[j].Aliases = append(out[j].Aliases, s.Name)
				slices.Sort(out[j].Aliases)
			}
			byName[s.Name] = j
			st.MergedBySim++
			st.MergedAliases = append(st.MergedAliases, [2]string{s.Name, out[j].Name})
			continue
		}
		n := newEntry(&s, o)
		st.UsesAdded += n.Uses
		out = append(out, n)
		byName[n.Name] = len(out) - 1
		idx.add(len(out)-1, words)
		st.Added++
	}
	out, st.EvictedNames = evict(out, o.MaxStrategies, o, func(s *Strategy) (string, int64, int64) { return s.Name, s.Uses, s.LastVersion })
	st.Evicted = len(st.EvictedNames)
	slices.SortFunc(out, func(a, b Strategy) int { return strings.Compare(a.Name, b.Name) })
	st.Size = len(out)
	return out, st, nil
}

func cloneStrategy(s Strategy) Strategy {
	s.Parameters = slices.Clone(s.Parameters)
	s.Cues = slices.Clone(s.Cues)
	s.Concepts = slices.Clone(s.Concepts)
	s.Aliases = slices.Clone(s.Aliases)
	s.UsedIn = slices.Clone(s.UsedIn)
	return s
}

func newEntry(s *Strategy, o Options) Strategy {
	n := cloneStrategy(*s)
	n.Aliases = nil
	n.UsedIn = nil
	n.Uses = 0
	n.FirstRun, n.FirstVersion = o.RunID, o.Version
	n.Cues = capSorted(unionSorted(nil, s.Cues), o.MaxCues)
	n.Concepts = unionSorted(nil, s.Concepts)
	n.Parameters = mergeParams(nil, s.Parameters)
	n.LastUsed = time.Time{}
	addUses(&n, s, o)
	normalize(&n)
	return n
}

// mergeInto merges s (an incoming strategy) into e: the entry keeps its
// name, situation and suggestion (the first wording learned stays, so
// that recall results do not churn), gains s's parameters, cues and
// concepts, and counts s's uses.
func mergeInto(e, s *Strategy, o Options) {
	e.Parameters = mergeParams(e.Parameters, s.Parameters)
	e.Cues = capSorted(unionSorted(e.Cues, s.Cues), o.MaxCues)
	e.Concepts = unionSorted(e.Concepts, s.Concepts)
	if e.Implementation == "" {
		e.Implementation = s.Implementation
	}
	if e.Domain == "" {
		e.Domain = s.Domain
	}
	addUses(e, s, o)
	normalize(e)
}

func addUses(e, s *Strategy, o Options) {
	// Callers pass only trajectories new to the experience memory; an id
	// still listed in UsedIn is not counted twice all the same.
	var added int
	e.UsedIn, added = appendNew(e.UsedIn, unionSorted(nil, s.UsedIn))
	e.Uses += int64(added)
	if o.MaxUsedIn > 0 && len(e.UsedIn) > o.MaxUsedIn {
		e.UsedIn = slices.Clone(e.UsedIn[len(e.UsedIn)-o.MaxUsedIn:])
	}
	e.LastRun, e.LastVersion = o.RunID, o.Version
	if s.LastUsed.After(e.LastUsed) {
		e.LastUsed = s.LastUsed.UTC()
	}
}

// appendNew appends to have the ids (distinct) it does not hold, in
// order, and says how many: a set when the lists are long, so that a
// strategy used by a million trajectories merges in linear time.
func appendNew(have, ids []string) ([]string, int) {
	added := 0
	if len(have)*len(ids) <= 4096 {
		for _, id := range ids {
			if !slices.Contains(have, id) {
				have = append(have, id)
				added++
			}
		}
		return have, added
	}
	seen := make(map[string]struct{}, len(have))
	for _, id := range have {
		seen[id] = struct{}{}
	}
	for _, id := range ids {
		if _, ok := seen[id]; !ok {
			seen[id] = struct{}{}
			have = append(have, id)
			added++
		}
	}
	return have, added
}

// normalize makes nil lists empty, so that rows read back compare equal.
func normalize(s *Strategy) {
	for _, l := range []*[]string{&s.Cues, &s.Concepts, &s.Aliases, &s.UsedIn} {
		if *l == nil {
			*l = []string{}
		}
	}
	if s.Parameters == nil {
		s.Parameters = []Parameter{}
	}
}

// mergeParams adds the parameters of b that a does not name, in b's
// order; a parameter a names keeps a's type unless a's is "any".
func mergeParams(a, b []Parameter) []Parameter {
	out := slices.Clone(a)
	for _, p := range b {
		i := slices.IndexFunc(out, func(q Parameter) bool { return q.Name == p.Name })
		switch {
		case i < 0:
			out = append(out, p)
		case out[i].Type == "any" && p.Type != "":
			out[i].Type = p.Type
		}
	}
	return out
}

func unionSorted(a, b []string) []string {
	out := append(slices.Clone(a), b...)
	slices.Sort(out)
	out = slices.Compact(out)
	return slices.DeleteFunc(out, func(s string) bool { return s == "" })
}

func capSorted(s []string, n int) []string {
	if n > 0 && len(s) > n {
		return s[:n]
	}
	return s
}

// evict cuts entries to max by the eviction rule: the least useful go
// first, ties broken by the oldest last use and then by key, so that the
// cut is deterministic.
func evict[T any](entries []T, max int, o Options, key func(*T) (name string, uses, lastVersion int64)) ([]T, []string) {
	if max <= 0 || len(entries) <= max {
		return entries, nil
	}
	order := make([]int, len(entries))
	for i := range order {
		order[i] = i
	}
	score := func(i int) float64 {
		_, uses, last := key(&entries[i])
		switch o.Eviction {
		case EvictLeastUsed:
			return float64(uses)
		case EvictLeastRecent:
			return float64(last)
		default:
			age := float64(o.Version - last)
			return float64(uses) * math.Exp2(-age/o.HalfLife)
		}
	}
	slices.SortFunc(order, func(a, b int) int {
		if c := cmp.Compare(score(a), score(b)); c != 0 {
			return c
		}
		na, _, la := key(&entries[a])
		nb, _, lb := key(&entries[b])
		if c := cmp.Compare(la, lb); c != 0 {
			return c
		}
		return strings.Compare(na, nb)
	})
	drop := map[int]bool{}
	var names []string
	for _, i := range order[:len(entries)-max] {
		drop[i] = true
		n, _, _ := key(&entries[i])
		names = append(names, n)
	}
	slices.Sort(names)
	out := make([]T, 0, max)
	for i := range entries {
		if !drop[i] {
			out = append(out, entries[i])
		}
	}
	return out, names
}

// Words is the set of words similarity compares: lower-case letter and
// digit runs, snake_case and placeholders split, stop words dropped,
// sorted and deduplicated.
func Words(texts ...string) []string {
	var out []string
	for _, t := range texts {
		for _, w := range strings.FieldsFunc(strings.ToLower(t), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
			if len(w) > 1 && !stopWords[w] {
				out = append(out, w)
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func strategyWords(s *Strategy) []string { return Words(s.Situation, s.Suggestion) }

var stopWords = map[string]bool{
	"a": true, "an": true, "the": true, "and": true, "or": true, "of": true, "to": true, "in": true, "on": true,
	"for": true, "with": true, "by": true, "is": true, "are": true, "be": true, "it": true, "its": true, "as": true,
	"at": true, "from": true, "that": true, "this": true, "then": true, "each": true, "every": true, "into": true,
	"return": true, "returns": true, "given": true,
}

// Jaccard is |a ∩ b| / |a ∪ b| of two sorted, deduplicated word sets
// (1 when both are empty).
func Jaccard(a, b []string) float64 {
	if len(a) == 0 && len(b) == 0 {
		return 1
	}
	i, j, inter := 0, 0, 0
	for i < len(a) && j < len(b) {
		switch c := strings.Compare(a[i], b[j]); {
		case c == 0:
			inter++
			i++
			j++
		case c < 0:
			i++
		default:
			j++
		}
	}
	return float64(inter) / float64(len(a)+len(b)-inter)
}

// simIndex finds near-duplicates through an inverted index of words: two
// sets with a positive Jaccard share a word, so only entries sharing one
// are compared.
type simIndex struct {
	words    map[string][]int
	sets     map[int][]string
	maxEntry int
}

func newSimIndex() *simIndex { return &simIndex{words: map[string][]int{}, sets: map[int][]string{}} }

func (x *simIndex) add(i int, words []string) {
	x.sets[i] = words
	for _, w := range words {
		x.words[w] = append(x.words[w], i)
	}
}

// best returns the entry most similar to words at or above threshold,
// ties broken by the smaller name.
func (x *simIndex) best(words []string, threshold float64, name func(int) string) (int, bool) {
	seen := map[int]bool{}
	best, bestSim, found := -1, -1.0, false
	for _, w := range words {
		for _, i := range x.words[w] {
			if seen[i] {
				continue
			}
			seen[i] = true
			s := Jaccard(words, x.sets[i])
			if s < threshold {
				continue
			}
			if s > bestSim || (s == bestSim && name(i) < name(best)) {
				best, bestSim, found = i, s, true
			}
		}
	}
	return best, found
}
