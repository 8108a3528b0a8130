package jobs

import (
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/atlas-ai/atlas-learn/columnar"
	"github.com/atlas-ai/atlas-learn/columnar/importer"
)

// evalResults holds the verdicts of import --results: instance id to
// resolved, with the file each came from.
type evalResults struct {
	verdict map[string]bool
	file    map[string]string
	used    map[string]bool
}

// loadResults reads the results files (see importer.ReadResults). Two
// files that disagree about an instance are an error naming both.
func loadResults(files []string) (*evalResults, error) {
	r := &evalResults{verdict: map[string]bool{}, file: map[string]string{}, used: map[string]bool{}}
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			return nil, fmt.Errorf("--results: %w", err)
		}
		v, err := importer.ReadResults(name, data)
		if err != nil {
			return nil, fmt.Errorf("--results: %w", err)
		}
		ids := make([]string, 0, len(v))
		for id := range v {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		for _, id := range ids {
			if prev, ok := r.verdict[id]; ok && prev != v[id] {
				return nil, fmt.Errorf("--results: instance %s: %s says resolved=%v, %s says resolved=%v", id, r.file[id], prev, name, v[id])
			}
			if _, ok := r.verdict[id]; !ok {
				r.file[id] = name
			}
			r.verdict[id] = v[id]
		}
	}
	return r, nil
}

// apply sets t's outcome from its instance's verdict: the instance is
// task.id, else the source file's stem (metadata source_name, the instance
// id for agents that name their files by it), else the stem's last two
// "__"-separated parts (a SWE-bench id is owner__repo-number, and SWE-agent
// names replays <run>__<instance_id>). It reports whether a verdict was
// found.
func (r *evalResults) apply(t *columnar.Trajectory) (bool, error) {
	stem := t.Metadata["source_name"]
	for _, id := range []string{t.Task.ID, stem, trailingInstance(stem)} {
		resolved, ok := r.verdict[id]
		if id == "" || !ok {
			continue
		}
		r.used[id] = true
		return true, importer.ApplyResult(t, resolved, "evaluation results: "+r.file[id])
	}
	return false, nil
}

// trailingInstance is the last two "__"-separated parts of s, or "" when
// s has fewer than three.
func trailingInstance(s string) string {
	parts := strings.Split(s, "__")
	if len(parts) < 3 {
		return ""
	}
	return strings.Join(parts[len(parts)-2:], "__")
}

// unused is the number of instances with a verdict that no imported
// trajectory matched.
func (r *evalResults) unused() int64 { return int64(len(r.verdict) - len(r.used)) }
