package jobs_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/atlas-ai/atlas-learn/columnar"
	"github.com/atlas-ai/atlas-learn/columnar/storage"
	"github.com/atlas-ai/atlas-learn/internal/shareddata"
	"github.com/atlas-ai/atlas-learn/jobs"
)

// TestImportResults imports the 19 shared SWE-agent runs with crafted
// SWE-bench reports. The files' heuristic calls 18 of them successes; a
// per-instance report.json says marshmallow-1867 was not resolved (all
// eight replays match: five by the task id their replay_config names, three
// by the instance id at the end of their file stem), and
// a combined run report resolves ctf__crypto__eps, fails ctf__crypto__katy,
// names an instance not imported and holds ctf__rev__rock only among the
// incomplete (no verdict).
func TestImportResults(t *testing.T) {
	data := shareddata.Dir(t)
	cfg := config(t, "unused", "unused")
	files, _ := filepath.Glob(filepath.Join(data, "trajectories/swe-agent/*.traj"))
	if len(files) != 19 {
		t.Fatalf("%d files", len(files))
	}
	dir := t.TempDir()
	write := func(name, src string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	report := write("report.json", `{"marshmallow-code__marshmallow-1867": {"patch_is_None": false, "patch_exists": true, "patch_successfully_applied": true, "resolved": false, "tests_status": {}}}`)
	combined := write("gpt-4o.run1.json", `{"total_instances": 4, "resolved_ids": ["ctf__crypto__eps"], "unresolved_ids": ["ctf__crypto__katy", "astropy__astropy-12907"], "incomplete_ids": ["ctf__rev__rock"], "schema_version": 2}`)

	out := t.TempDir()
	m, err := jobs.Import(context.Background(), jobs.ImportOptions{Format: "swe-agent", Files: files, Output: out, OnError: columnar.OnErrorFail, Parquet: cfg.Parquet, Results: []string{report, combined}}, quiet())
	if err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]int64{"rows_imported": 19, "results_matched": 10, "results_unmatched": 9, "results_unused": 1} {
		if m.Counters[k] != want {
			t.Errorf("%s = %d, want %d", k, m.Counters[k], want)
		}
	}
	in, err := jobs.Inspect(context.Background(), out, cfg.S3)
	if err != nil {
		t.Fatal(err)
	}
	if in.Successes != 18-8-1 {
		t.Errorf("successes = %d, want 9", in.Successes)
	}
	type want struct {
		success bool
		reward  float64
		basis   string
	}
	byTask := map[string]want{
		"marshmallow-code__marshmallow-1867": {false, 0, "evaluation results: " + report},
		"ctf__crypto__eps":                   {true, 1, "evaluation results: " + combined},
		"ctf__crypto__katy":                  {false, 0, "evaluation results: " + combined},
		"ctf__rev__rock":                     {true, 0, `exit_status == "submitted" and a non-blank submission; the source holds no test result`},
	}
	for _, tr := range importedTrajectories(t, out, m) {
		w, ok := byTask[tr.Task.ID]
		if strings.HasSuffix(tr.Task.ID, "__marshmallow-code__marshmallow-1867") {
			w, ok = byTask["marshmallow-code__marshmallow-1867"], true
		}
		if !ok {
			continue
		}
		var x struct {
			Notes map[string]any `json:"notes"`
		}
		if err := json.Unmarshal(tr.Extra, &x); err != nil {
			t.Fatal(err)
		}
		if tr.Outcome.Success != w.success || tr.Outcome.Reward != w.reward || x.Notes["success_basis"] != w.basis {
			t.Errorf("%s: success %v reward %v basis %v; want %+v", tr.TrajectoryID, tr.Outcome.Success, tr.Outcome.Reward, x.Notes["success_basis"], w)
		}
		if strings.HasPrefix(w.basis, "evaluation") && x.Notes["heuristic_success"] != true {
			t.Errorf("%s: heuristic_success = %v, want true", tr.TrajectoryID, x.Notes["heuristic_success"])
		}
	}

	// Reports that disagree are an error naming both.
	other := write("other.json", `{"resolved_ids": ["marshmallow-code__marshmallow-1867"]}`)
	_, err = jobs.Import(context.Background(), jobs.ImportOptions{Format: "swe-agent", Files: files, Output: t.TempDir(), OnError: columnar.OnErrorFail, Parquet: cfg.Parquet, Results: []string{report, other}}, quiet())
	if err == nil || !strings.Contains(err.Error(), "instance marshmallow-code__marshmallow-1867: "+report+" says resolved=false, "+other+" says resolved=true") {
		t.Errorf("conflict: err = %v", err)
	}
	// A file that is not a report says so.
	_, err = jobs.Import(context.Background(), jobs.ImportOptions{Format: "swe-agent", Files: files, Output: t.TempDir(), OnError: columnar.OnErrorFail, Parquet: cfg.Parquet, Results: []string{files[0]}}, quiet())
	if err == nil || !strings.Contains(err.Error(), "--results: "+files[0]) {
		t.Errorf("not a report: err = %v", err)
	}
}

// TestImportResultsAtScale is the held-out check in small: 300 runs of
// distinct instances, each a copy of the real github_issue.traj.json, which
// the heuristic calls a success, and a combined SWE-bench report that
// resolves 223 of them, fails 70 with tests, 5 with empty patches and 2 with
// errors. With --results the imported successes are exactly the report's
// resolved count, every run is imported once under an id of its own and
// every verdict is used.
func TestImportResultsAtScale(t *testing.T) {
	cfg := config(t, "unused", "unused")
	id := func(i int) string { return fmt.Sprintf("org__repo-%d", 1000+i) }
	files := miniRuns(t, "github_issue.traj.json", 300, id)
	lists := map[string][]string{}
	for i := range files {
		switch {
		case i < 223:
			lists["resolved_ids"] = append(lists["resolved_ids"], id(i))
		case i < 293:
			lists["unresolved_ids"] = append(lists["unresolved_ids"], id(i))
		case i < 298:
			lists["empty_patch_ids"] = append(lists["empty_patch_ids"], id(i))
		default:
			lists["error_ids"] = append(lists["error_ids"], id(i))
		}
		lists["completed_ids"] = append(lists["completed_ids"], id(i))
	}
	rep, err := json.Marshal(lists)
	if err != nil {
		t.Fatal(err)
	}
	results := filepath.Join(t.TempDir(), "mini.run1.json")
	if err := os.WriteFile(results, rep, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name      string
		results   []string
		successes int64
	}{
		{"heuristic", nil, 300},
		{"with --results", []string{results}, 223},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "ds")
			m, err := jobs.Import(context.Background(), jobs.ImportOptions{Format: "mini-swe-agent", Files: files, Output: out, OnError: columnar.OnErrorFail, Parquet: cfg.Parquet, Results: tc.results}, quiet())
			if err != nil {
				t.Fatal(err)
			}
			if tc.results != nil && (m.Counters["results_matched"] != 300 || m.Counters["results_unmatched"] != 0 || m.Counters["results_unused"] != 0) {
				t.Errorf("counters %v: want 300 matched, none unmatched or unused", m.Counters)
			}
			in, err := jobs.Inspect(context.Background(), out, cfg.S3)
			if err != nil {
				t.Fatal(err)
			}
			if in.Rows != 300 || in.Successes != tc.successes {
				t.Errorf("rows %d, successes %d; want 300 and %d", in.Rows, in.Successes, tc.successes)
			}
			ids := map[string]bool{}
			err = jobs.ReadDataset(context.Background(), out, storage.S3Config{}, columnar.TrajectoriesDataset, columnar.TrajectorySchema, func(tr *columnar.Trajectory) error {
				ids[tr.TrajectoryID] = true
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(ids) != 300 {
				t.Errorf("%d distinct ids, want 300", len(ids))
			}
		})
	}
}
