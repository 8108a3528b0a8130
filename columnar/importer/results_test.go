package importer

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/atlas-ai/atlas-learn/columnar"
)

func TestReadResults(t *testing.T) {
	tests := []struct {
		name, src string
		want      map[string]bool
		wantErr   string
	}{
		{"report.json", `{"astropy__astropy-12907": {"patch_is_None": false, "patch_exists": true, "patch_successfully_applied": true, "resolved": true, "tests_status": {}}}`,
			map[string]bool{"astropy__astropy-12907": true}, ""},
		{"report.json, two instances", `{"a": {"resolved": false}, "b": {"resolved": true}}`, map[string]bool{"a": false, "b": true}, ""},
		{"run report", `{"total_instances": 5, "resolved_instances": 1, "submitted_ids": ["a", "b", "c"], "completed_ids": ["a", "b"], "resolved_ids": ["a"], "unresolved_ids": ["b"], "error_ids": ["c"], "empty_patch_ids": ["d"], "incomplete_ids": ["e"], "schema_version": 2}`,
			map[string]bool{"a": true, "b": false, "c": false, "d": false}, ""},
		{"older results.json", `{"generated": ["a", "b"], "applied": ["a", "b"], "resolved": ["a"]}`, map[string]bool{"a": true, "b": false}, ""},
		{"resolved list only", `{"resolved": ["a"]}`, map[string]bool{"a": true}, ""},
		{"not an object", `["a"]`, nil, "r.json: not a results file (want a JSON object)"},
		{"entry without resolved", `{"a": {"patch_exists": true}}`, nil, "r.json: field a.resolved: want a boolean"},
		{"entry not an object", `{"a": true}`, nil, `r.json: field a: want a per-instance report {"resolved": bool, ...} or an id list such as "resolved_ids", got boolean`},
		{"list of numbers", `{"resolved_ids": [1]}`, nil, "r.json: field resolved_ids: want a list of instance ids"},
		{"empty", `{}`, nil, "r.json: no results"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ReadResults("r.json", []byte(tc.src))
			if tc.wantErr != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want prefix %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}

func TestApplyResult(t *testing.T) {
	tr := columnar.Trajectory{TrajectoryID: "x", Outcome: columnar.Outcome{Success: true}, Extra: json.RawMessage(`{"source_format":"swe-agent","source":{"a":"<b>"},"notes":{"success_basis":"heuristic"}}`)}
	if err := ApplyResult(&tr, false, "evaluation results: r.json"); err != nil {
		t.Fatal(err)
	}
	if tr.Outcome.Success || tr.Outcome.Reward != 0 {
		t.Errorf("outcome %+v", tr.Outcome)
	}
	want := `{"notes":{"heuristic_basis":"heuristic","heuristic_success":true,"success_basis":"evaluation results: r.json"},"source":{"a":"<b>"},"source_format":"swe-agent"}`
	if string(tr.Extra) != want {
		t.Errorf("extra = %s\nwant    %s", tr.Extra, want)
	}
	if err := ApplyResult(&tr, true, "b"); err != nil || !tr.Outcome.Success || tr.Outcome.Reward != 1 {
		t.Errorf("resolved: %v %+v", err, tr.Outcome)
	}
}
