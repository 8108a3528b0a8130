package importer

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"

	"github.com/atlas-ai/atlas-learn/columnar"
)

// Evaluation results: what a test harness decided about each instance,
// read to replace the importers' success heuristic.
//
// ReadResults reads the SWE-bench harness's reports:
//
//   - the per-instance report.json that run_evaluation writes into each
//     instance's log directory, {"<instance_id>": {"resolved": true,
//     "patch_exists": ..., "tests_status": ...}, ...}: each instance's
//     "resolved" boolean;
//   - the combined run report (<model>.<run_id>.json), with id lists
//     "resolved_ids", "unresolved_ids", "error_ids", "empty_patch_ids",
//     "completed_ids", "submitted_ids" and "incomplete_ids";
//   - the older results.json of SWE-bench's experiments, with lists
//     "resolved", "applied", "generated", "no_apply", "test_errored", ...
//
// In the list forms an id in "resolved_ids" or "resolved" is resolved;
// an id only in another list is not (it was submitted or evaluated and not
// resolved: empty patch, error, failing tests), except "incomplete_ids",
// which were never evaluated and are not results.

// resolvedLists name the id lists of resolved instances.
var resolvedLists = map[string]bool{"resolved_ids": true, "resolved": true}

// unresolvedLists name the id lists of instances evaluated, or submitted
// for evaluation, and not resolved unless also in a resolved list.
var unresolvedLists = map[string]bool{
	"unresolved_ids": true, "error_ids": true, "empty_patch_ids": true, "completed_ids": true, "submitted_ids": true,
	"applied": true, "generated": true, "no_apply": true, "no_generation": true, "test_errored": true,
	"test_timeout": true, "install_fail": true, "reset_failed": true, "with_logs": true,
}

// ignoredLists name the id lists that hold no verdict.
var ignoredLists = map[string]bool{"incomplete_ids": true}

// ReadResults reads one evaluation results file (see above) and returns
// each instance id's verdict. name is used in errors.
func ReadResults(name string, data []byte) (map[string]bool, error) {
	data = bytes.TrimPrefix(data, utf8BOM)
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		return nil, fmt.Errorf("%s: not a results file (want a JSON object): %w", name, err)
	}
	keys := make([]string, 0, len(top))
	for k := range top {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := map[string]bool{}
	if isListReport(top) {
		var resolved []string
		for _, k := range keys {
			if !resolvedLists[k] && !unresolvedLists[k] {
				continue
			}
			var ids []string
			if err := json.Unmarshal(top[k], &ids); err != nil {
				return nil, fmt.Errorf("%s: field %s: want a list of instance ids: %w", name, k, err)
			}
			if resolvedLists[k] {
				resolved = append(resolved, ids...)
				continue
			}
			for _, id := range ids {
				out[id] = false
			}
		}
		for _, id := range resolved {
			out[id] = true
		}
		return out, nil
	}
	for _, k := range keys {
		var rep struct {
			Resolved *bool `json:"resolved"`
		}
		if jsonKind(top[k]) != "object" {
			return nil, fmt.Errorf("%s: field %s: want a per-instance report {\"resolved\": bool, ...} or an id list such as \"resolved_ids\", got %s", name, k, jsonKind(top[k]))
		}
		if err := json.Unmarshal(top[k], &rep); err != nil || rep.Resolved == nil {
			return nil, fmt.Errorf("%s: field %s.resolved: want a boolean (a SWE-bench report.json entry)", name, k)
		}
		out[k] = *rep.Resolved
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no results: want {\"<instance_id>\": {\"resolved\": bool}} or lists such as \"resolved_ids\"", name)
	}
	return out, nil
}

// isListReport tells a combined report (id lists) from per-instance
// reports: it has a known list field holding a list.
func isListReport(top map[string]json.RawMessage) bool {
	for k, v := range top {
		if (resolvedLists[k] || unresolvedLists[k] || ignoredLists[k]) && jsonKind(v) == "list" {
			return true
		}
	}
	return false
}

// ApplyResult sets t's outcome from an evaluation verdict: success is
// resolved and reward 1 or 0. extra.notes.success_basis becomes basis
// (e.g. "evaluation results: FILE"); what the importer had decided stays
// in extra.notes.heuristic_success and extra.notes.heuristic_basis.
func ApplyResult(t *columnar.Trajectory, resolved bool, basis string) error {
	extra := map[string]json.RawMessage{}
	if len(bytes.TrimSpace(t.Extra)) > 0 {
		if err := json.Unmarshal(t.Extra, &extra); err != nil {
			return fmt.Errorf("trajectory %s: extra: %w", t.TrajectoryID, err)
		}
	}
	notes := map[string]any{}
	if raw, ok := extra["notes"]; ok {
		if err := json.Unmarshal(raw, &notes); err != nil {
			return fmt.Errorf("trajectory %s: extra.notes: %w", t.TrajectoryID, err)
		}
	}
	if prev, ok := notes["success_basis"]; ok {
		notes["heuristic_basis"] = prev
	}
	notes["heuristic_success"] = t.Outcome.Success
	notes["success_basis"] = basis
	raw, err := marshalJSON(notes)
	if err != nil {
		return err
	}
	extra["notes"] = raw
	if t.Extra, err = marshalJSON(extra); err != nil {
		return err
	}
	t.Outcome.Success = resolved
	t.Outcome.Reward = 0
	if resolved {
		t.Outcome.Reward = 1
	}
	return nil
}
