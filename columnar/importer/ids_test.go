package importer

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/atlas-ai/atlas-learn/columnar"
	"github.com/atlas-ai/atlas-learn/internal/shareddata"
)

// realFileIDs are the trajectory ids of the shared data's files: the stem
// and the first 8 hex digits of the SHA-256 of the file (sha256sum FILE |
// cut -c1-8). None of these files carries a run id.
var realFileIDs = map[string]string{
	"mini-swe-agent-1.1/pvlib__pvlib-python-1154.traj.json": "pvlib__pvlib-python-1154-1d40576d",
	"mini-swe-agent-1.1/pvlib__pvlib-python-1606.traj.json": "pvlib__pvlib-python-1606-46e90567",
	"mini-swe-agent-1.1/pvlib__pvlib-python-1854.traj.json": "pvlib__pvlib-python-1854-c9d658a8",
	"mini-swe-agent/github_issue.traj.json":                 "github_issue-86d060a4",
	"mini-swe-agent/local.traj.json":                        "local-e75ec9ab",
	"swe-agent/ctf__crypto__BabyEncryption.traj":            "ctf__crypto__BabyEncryption-fe26571d",
	"swe-agent/ctf__crypto__BabyTimeCapsule.traj":           "ctf__crypto__BabyTimeCapsule-c17a00dc",
	"swe-agent/ctf__crypto__eps.traj":                       "ctf__crypto__eps-a43b6149",
	"swe-agent/ctf__crypto__katy.traj":                      "ctf__crypto__katy-17dde30d",
	"swe-agent/ctf__forensics__flash.traj":                  "ctf__forensics__flash-7b504b5c",
	"swe-agent/ctf__misc__networking_1.traj":                "ctf__misc__networking_1-00531c58",
	"swe-agent/ctf__pwn__warmup.traj":                       "ctf__pwn__warmup-d006299b",
	"swe-agent/ctf__rev__rock.traj":                         "ctf__rev__rock-13592b73",
	"swe-agent/ctf__web__i_got_id_demo.traj":                "ctf__web__i_got_id_demo-451dc564",
	"swe-agent/function_calling_simple.traj":                "function_calling_simple-b75b7744",
	"swe-agent/human_thought__swe-bench-HumanEvalFix-python__lcb__t-0.00__p-0.95__c-4.00__install-0__humanevalfix-python-0.traj":                                          "human_thought__swe-bench-HumanEvalFix-python__lcb__t-0.00__p-0.95__c-4.00__install-0__humanevalfix-python-0-d55e0474",
	"swe-agent/replay__marshmallow-code__marshmallow-1867__default__t-0.20__p-0.95__c-2.00__install-1___install_from_source__marshmallow-code__marshmallow-1867.traj":     "replay__marshmallow-code__marshmallow-1867__default__t-0.20__p-0.95__c-2.00__install-1___install_from_source__marshmallow-code__marshmallow-1867-8856076e",
	"swe-agent/replay__marshmallow-code__marshmallow-1867__default_sys-env_cursors_window100__t-0.20__p-0.95__c-2.00__install-1__marshmallow-code__marshmallow-1867.traj": "replay__marshmallow-code__marshmallow-1867__default_sys-env_cursors_window100__t-0.20__p-0.95__c-2.00__install-1__marshmallow-code__marshmallow-1867-bcd55c68",
	"swe-agent/replay__marshmallow-code__marshmallow-1867__default_sys-env_window100__t-0.20__p-0.95__c-2.00__install-1__marshmallow-code__marshmallow-1867.traj":         "replay__marshmallow-code__marshmallow-1867__default_sys-env_window100__t-0.20__p-0.95__c-2.00__install-1__marshmallow-code__marshmallow-1867-da31b291",
	"swe-agent/replay__marshmallow-code__marshmallow-1867__function_calling__install-1__marshmallow-code__marshmallow-1867.traj":                                          "replay__marshmallow-code__marshmallow-1867__function_calling__install-1__marshmallow-code__marshmallow-1867-c2ca395c",
	"swe-agent/replay__marshmallow-code__marshmallow-1867__function_calling_replace__install-1__marshmallow-code__marshmallow-1867.traj":                                  "replay__marshmallow-code__marshmallow-1867__function_calling_replace__install-1__marshmallow-code__marshmallow-1867-446e76ce",
	"swe-agent/replay__marshmallow-code__marshmallow-1867__function_calling_replace_from_source__marshmallow-code__marshmallow-1867.traj":                                 "replay__marshmallow-code__marshmallow-1867__function_calling_replace_from_source__marshmallow-code__marshmallow-1867-cb042a1b",
	"swe-agent/replay__marshmallow-code__marshmallow-1867__xml_sys-env_cursors_window100__t-0.20__p-0.95__c-2.00__install-1__marshmallow-code__marshmallow-1867.traj":     "replay__marshmallow-code__marshmallow-1867__xml_sys-env_cursors_window100__t-0.20__p-0.95__c-2.00__install-1__marshmallow-code__marshmallow-1867-ac53752a",
	"swe-agent/replay__marshmallow-code__marshmallow-1867__xml_sys-env_window100__t-0.20__p-0.95__c-2.00__install-1__marshmallow-code__marshmallow-1867.traj":             "replay__marshmallow-code__marshmallow-1867__xml_sys-env_window100__t-0.20__p-0.95__c-2.00__install-1__marshmallow-code__marshmallow-1867-b227c946",
}

// wantRealFileID is the id TestImportRealFiles expects for file (relative to
// the shared trajectories); a file missing from realFileIDs is held to the
// rule itself.
func wantRealFileID(t *testing.T, root, file string) string {
	t.Helper()
	if id, ok := realFileIDs[file]; ok {
		return id
	}
	data, err := os.ReadFile(filepath.Join(root, file))
	if err != nil {
		t.Fatal(err)
	}
	return fileStem(file) + "-" + sha256Hex(data)[:fileIDHexDigits]
}

// TestFileIDs covers the id rule for single-trajectory files: files of one
// name (an instance id) but different bytes get different ids, the same
// bytes the same id wherever the file lies, and a run id in the source wins.
func TestFileIDs(t *testing.T) {
	root := filepath.Join(shareddata.Dir(t), "trajectories")
	// The 8 marshmallow-1867 replays, renamed the way SWE-agent names them
	// in their run directories: all "marshmallow-code__marshmallow-1867.traj".
	replays, err := filepath.Glob(filepath.Join(root, "swe-agent", "replay__marshmallow-code__marshmallow-1867__*.traj"))
	if err != nil || len(replays) != 8 {
		t.Fatalf("replays: %d files, %v", len(replays), err)
	}
	ids := map[string]string{}
	for _, p := range replays {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out, _, err := importString(t, SWEAgent, "run/marshmallow-code__marshmallow-1867.traj", string(data), Options{})
		if err != nil || len(out) != 1 {
			t.Fatalf("%s: %v", p, err)
		}
		id := out[0].TrajectoryID
		if prev, dup := ids[id]; dup {
			t.Errorf("%s and %s both got id %q", filepath.Base(prev), filepath.Base(p), id)
		}
		ids[id] = p
		if want := "marshmallow-code__marshmallow-1867-" + sha256Hex(data)[:8]; id != want {
			t.Errorf("%s: id %q, want %q", filepath.Base(p), id, want)
		}
		// Re-importing, from another directory, gives the same id.
		again, _, _ := importString(t, SWEAgent, "elsewhere/marshmallow-code__marshmallow-1867.traj", string(data), Options{})
		if len(again) != 1 || again[0].TrajectoryID != id {
			t.Errorf("%s: re-import changed the id", filepath.Base(p))
		}
		if out[0].Task.ID != "marshmallow-code__marshmallow-1867" {
			t.Errorf("task.id = %q", out[0].Task.ID)
		}
	}

	tests := []struct {
		name, file, src, want string
		format                Format
	}{
		{"swe-agent run id", "a.traj", `{"run_id": "run-7", "history": []}`, "run-7", SWEAgent},
		{"swe-agent trajectory_id wins", "a.traj", `{"trajectory_id": "t-1", "run_id": "run-7", "history": []}`, "t-1", SWEAgent},
		{"numeric run id", "a.traj", `{"run_id": 12, "history": []}`, "12", SWEAgent},
		{"blank run id", "a.traj", `{"run_id": "", "history": []}`, "a-" + sha256Hex([]byte(`{"run_id": "", "history": []}`))[:8], SWEAgent},
		{"mini object", "x/i-1.traj.json", `{"info": {}, "messages": [], "run_id": "r9"}`, "r9", MiniSWEAgent},
		{"mini bare list", "x/i-1.traj.json", `[]`, "i-1-" + sha256Hex([]byte(`[]`))[:8], MiniSWEAgent},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, _, err := importString(t, tc.format, tc.file, tc.src, Options{})
			if err != nil || len(out) != 1 {
				t.Fatalf("err %v, %d trajectories", err, len(out))
			}
			if out[0].TrajectoryID != tc.want {
				t.Errorf("id = %q, want %q", out[0].TrajectoryID, tc.want)
			}
		})
	}
}

// TestDuplicateIDs checks Options.IDs: under fail the second record with
// an id stops the import naming both places; under skip it is passed over
// and counted.
func TestDuplicateIDs(t *testing.T) {
	rec := `{"id": "r1", "messages": []}`
	tests := []struct {
		name      string
		onError   columnar.OnError
		files     []string // sources, one per file, imported with one IDSet
		wantErr   string
		imported  int
		skipped   int
		duplicate int
	}{
		{"distinct", columnar.OnErrorFail, []string{rec + "\n", `{"id": "r2", "messages": []}` + "\n"}, "", 2, 0, 0},
		{"same line twice, fail", columnar.OnErrorFail, []string{rec + "\n" + rec + "\n"}, `f0.jsonl: line 2: field trajectory_id: duplicate trajectory_id "r1": already imported from f0.jsonl line 1`, 1, 0, 0},
		{"across files, fail", columnar.OnErrorFail, []string{rec + "\n", "\n" + rec + "\n"}, `f1.jsonl: line 2: field trajectory_id: duplicate trajectory_id "r1": already imported from f0.jsonl line 1`, 1, 0, 0},
		{"across files, skip", columnar.OnErrorSkip, []string{rec + "\n", rec + "\n" + rec + "\n"}, "", 1, 2, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ids := &IDSet{}
			var total Stats
			var err error
			for i, src := range tc.files {
				var st Stats
				_, st, err = importString(t, OpenAIChat, "f"+string(rune('0'+i))+".jsonl", src, Options{OnError: tc.onError, IDs: ids})
				total.Imported += st.Imported
				total.Skipped += st.Skipped
				total.DuplicateIDs += st.DuplicateIDs
				if err != nil {
					break
				}
			}
			if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || err.Error() != tc.wantErr) {
				t.Fatalf("err = %v, want %q", err, tc.wantErr)
			}
			var de *DuplicateIDError
			if tc.wantErr != "" && !errors.As(err, &de) {
				t.Errorf("err %T is not a *DuplicateIDError", err)
			}
			if total.Imported != tc.imported || total.Skipped != tc.skipped || total.DuplicateIDs != tc.duplicate {
				t.Errorf("stats %+v, want imported %d skipped %d duplicates %d", total, tc.imported, tc.skipped, tc.duplicate)
			}
		})
	}
	// Two copies of a single-trajectory file: the second names the first.
	ids := &IDSet{}
	src := `{"history": []}`
	if _, _, err := importString(t, SWEAgent, "a/x.traj", src, Options{IDs: ids}); err != nil {
		t.Fatal(err)
	}
	_, _, err := importString(t, SWEAgent, "b/x.traj", src, Options{IDs: ids})
	if err == nil || !strings.Contains(err.Error(), "b/x.traj: field trajectory_id: duplicate") || !strings.Contains(err.Error(), "from a/x.traj") {
		t.Errorf("copied file: err = %v", err)
	}
}
