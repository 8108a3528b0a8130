package memory

import (
	"slices"
	"strings"
)

// RunUses is what one run did with a concept.
type RunUses struct {
	RunID   string `parquet:"run_id" json:"run_id"`
	Version int64  `parquet:"version" json:"version"`
	// Uses are the concept's occurrences in the run's rewritten corpus;
	// Solutions the distinct solutions using it.
	Uses      int64 `parquet:"uses" json:"uses"`
	Solutions int64 `parquet:"solutions" json:"solutions"`
}

// Lineage is a concept's history in the library: the run and version
// that first learned it and what every run since did with it. A concept
// is identified by its body (its name may be given later).
type Lineage struct {
	Body         string    `parquet:"body" json:"body"`
	Name         string    `parquet:"name" json:"name"`
	FirstRun     string    `parquet:"first_run" json:"first_run"`
	FirstVersion int64     `parquet:"first_version" json:"first_version"`
	LastRun      string    `parquet:"last_run" json:"last_run"`
	TotalUses    int64     `parquet:"total_uses" json:"total_uses"`
	Runs         []RunUses `parquet:"runs,list" json:"runs"`
}

// ConceptUse is one concept of a run's library and its use in the run.
type ConceptUse struct {
	Name, Body      string
	Uses, Solutions int64
}

// UpdateLineage adds one run's use of its library to the lineage: a
// concept seen before (same body) gets the run appended (replacing an
// entry of the same run, so that re-running a run counts it once) and
// its current name; a new one starts its lineage here. Concepts of the
// lineage the run's library no longer holds keep their history. The
// result is sorted by body.
func UpdateLineage(prev []Lineage, uses []ConceptUse, runID string, version int64) []Lineage {
	out := make([]Lineage, len(prev))
	at := map[string]int{}
	for i, l := range prev {
		l.Runs = slices.Clone(l.Runs)
		out[i] = l
		at[l.Body] = i
	}
	for _, u := range uses {
		i, ok := at[u.Body]
		if !ok {
			out = append(out, Lineage{Body: u.Body, FirstRun: runID, FirstVersion: version})
			i = len(out) - 1
			at[u.Body] = i
		}
		l := &out[i]
		l.Name, l.LastRun = u.Name, runID
		l.Runs = slices.DeleteFunc(l.Runs, func(r RunUses) bool { return r.RunID == runID })
		l.Runs = append(l.Runs, RunUses{RunID: runID, Version: version, Uses: u.Uses, Solutions: u.Solutions})
		l.TotalUses = 0
		for _, r := range l.Runs {
			l.TotalUses += r.Uses
		}
	}
	slices.SortFunc(out, func(a, b Lineage) int { return strings.Compare(a.Body, b.Body) })
	for i := range out {
		if out[i].Runs == nil {
			out[i].Runs = []RunUses{}
		}
	}
	return out
}
