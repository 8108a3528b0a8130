package memory

import (
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Plan is a SAGE-style plan: the key steps of a successful trajectory, in
// order, with the task abstracted, stored as a document an agent can
// retrieve and follow without any fine-tuning. Plans with the same
// abstracted task and steps are one plan (ID is their hash).
type Plan struct {
	ID       string   `parquet:"id" json:"id"`
	Task     string   `parquet:"task" json:"task"`
	Domain   string   `parquet:"domain" json:"domain"`
	Steps    []string `parquet:"steps,list" json:"steps"`
	Strategy string   `parquet:"strategy" json:"strategy"`
	// UsedIn, Uses, FirstRun, LastRun, FirstVersion, LastVersion and
	// LastUsed are as for a Strategy.
	UsedIn       []string  `parquet:"used_in,list" json:"used_in"`
	Uses         int64     `parquet:"uses" json:"uses"`
	FirstRun     string    `parquet:"first_run" json:"first_run"`
	LastRun      string    `parquet:"last_run" json:"last_run"`
	FirstVersion int64     `parquet:"first_version" json:"first_version"`
	LastVersion  int64     `parquet:"last_version" json:"last_version"`
	LastUsed     time.Time `parquet:"last_used,timestamp(millisecond)" json:"last_used"`
}

// PlanStep is one key step as a plan holds it.
type PlanStep struct{ Thought, Action string }

// maxStepText bounds each step's text in a plan.
const maxStepText = 240

// NewPlan builds the plan of a successful trajectory (its id, task
// description, domain, creation time, strategy name and key steps in
// order); it returns false when there is no key step.
func NewPlan(trajectoryID, task, domain string, created time.Time, strategy string, steps []PlanStep) (Plan, bool) {
	var texts []string
	for _, s := range steps {
		t := stepText(s)
		if t != "" && (len(texts) == 0 || texts[len(texts)-1] != t) {
			texts = append(texts, t)
		}
	}
	if len(texts) == 0 {
		return Plan{}, false
	}
	abstract := AbstractTask(task)
	h := sha256.New()
	h.Write([]byte(abstract))
	for _, t := range texts {
		h.Write([]byte{0})
		h.Write([]byte(AbstractTask(t)))
	}
	return Plan{ID: hex.EncodeToString(h.Sum(nil))[:16], Task: abstract, Domain: domain, Steps: texts, Strategy: strategy,
		UsedIn: []string{trajectoryID}, LastUsed: created.UTC()}, true
}

// stepText is a step's first line of thought, then its action's first
// line, cut to maxStepText runes.
func stepText(s PlanStep) string {
	first := func(x string) string {
		x = strings.TrimSpace(x)
		if i := strings.IndexByte(x, '\n'); i >= 0 {
			x = strings.TrimSpace(x[:i])
		}
		return x
	}
	parts := []string{}
	if t := first(s.Thought); t != "" {
		parts = append(parts, t)
	}
	if a := first(s.Action); a != "" {
		parts = append(parts, "→ "+a)
	}
	t := strings.Join(parts, " ")
	if r := []rune(t); len(r) > maxStepText {
		t = string(r[:maxStepText-1]) + "…"
	}
	return t
}

var (
	quotedRe = regexp.MustCompile(`"[^"\n]*"|'[^'\n]*'`)
	listRe   = regexp.MustCompile(`\[[^\[\]\n]*\]`)
	numberRe = regexp.MustCompile(`\b-?\d+(\.\d+)?\b`)
)

// AbstractTask replaces a task's literals (quoted strings, bracketed
// lists, numbers) with placeholders, so that tasks differing only in
// their values read the same.
func AbstractTask(s string) string {
	s = quotedRe.ReplaceAllString(s, "<str>")
	for range 3 { // nested lists, innermost first
		s = listRe.ReplaceAllString(s, "<list>")
	}
	s = numberRe.ReplaceAllString(s, "<num>")
	return strings.Join(strings.Fields(s), " ")
}

// MergePlans merges incoming plans (each with the new trajectories that
// followed it) into the library: plans of the same id are one, whose
// uses add up; the library is then cut to o.MaxPlans by o.Eviction. The
// result is sorted by id.
func MergePlans(library, incoming []Plan, o Options) ([]Plan, Stats, error) {
	if err := o.Validate(); err != nil {
		return nil, Stats{}, err
	}
	st := Stats{Incoming: len(incoming)}
	out := make([]Plan, len(library))
	byID := map[string]int{}
	for i, p := range library {
		p.Steps, p.UsedIn = slices.Clone(p.Steps), slices.Clone(p.UsedIn)
		out[i] = p
		byID[p.ID] = i
	}
	in := slices.Clone(incoming)
	slices.SortStableFunc(in, func(a, b Plan) int { return strings.Compare(a.ID, b.ID) })
	for _, p := range in {
		if len(p.UsedIn) == 0 {
			continue
		}
		i, ok := byID[p.ID]
		if !ok {
			n := p
			n.Steps, n.UsedIn, n.Uses, n.LastUsed = slices.Clone(p.Steps), nil, 0, time.Time{}
			n.FirstRun, n.FirstVersion = o.RunID, o.Version
			out = append(out, n)
			i = len(out) - 1
			byID[p.ID] = i
			st.Added++
		} else {
			st.MergedByName++
		}
		e := &out[i]
		if e.Strategy == "" {
			e.Strategy = p.Strategy
		}
		var added int
		e.UsedIn, added = appendNew(e.UsedIn, unionSorted(nil, p.UsedIn))
		e.Uses += int64(added)
		st.UsesAdded += int64(added)
		if o.MaxUsedIn > 0 && len(e.UsedIn) > o.MaxUsedIn {
			e.UsedIn = slices.Clone(e.UsedIn[len(e.UsedIn)-o.MaxUsedIn:])
		}
		e.LastRun, e.LastVersion = o.RunID, o.Version
		if p.LastUsed.After(e.LastUsed) {
			e.LastUsed = p.LastUsed.UTC()
		}
	}
	out, st.EvictedNames = evict(out, o.MaxPlans, o, func(p *Plan) (string, int64, int64) { return p.ID, p.Uses, p.LastVersion })
	st.Evicted = len(st.EvictedNames)
	slices.SortFunc(out, func(a, b Plan) int { return strings.Compare(a.ID, b.ID) })
	for i := range out {
		if out[i].UsedIn == nil {
			out[i].UsedIn = []string{}
		}
	}
	st.Size = len(out)
	return out, st, nil
}

// CombinePlans merges plans of the same id within one batch (their
// UsedIn joined, the newest LastUsed kept), in first-seen order.
func CombinePlans(plans []Plan) []Plan {
	var out []Plan
	at := map[string]int{}
	for _, p := range plans {
		i, ok := at[p.ID]
		if !ok {
			at[p.ID] = len(out)
			out = append(out, p)
			continue
		}
		out[i].UsedIn = append(out[i].UsedIn, p.UsedIn...)
		if p.LastUsed.After(out[i].LastUsed) {
			out[i].LastUsed = p.LastUsed
		}
	}
	return out
}
