package jobs_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/atlas-ai/atlas-learn/columnar"
	"github.com/atlas-ai/atlas-learn/columnar/storage"
	"github.com/atlas-ai/atlas-learn/internal/shareddata"
	"github.com/atlas-ai/atlas-learn/jobs"
)

// importedTrajectories reads back the dataset an import committed at dir.
func importedTrajectories(t *testing.T, dir string, m *columnar.Manifest) []columnar.Trajectory {
	t.Helper()
	b, err := storage.OpenLocalDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	var out []columnar.Trajectory
	readAll(t, context.Background(), b, m.Datasets[0].Name, columnar.TrajectorySchema, func(tr *columnar.Trajectory) { out = append(out, *tr) })
	return out
}

// copyAs copies each src to dir/<i>/name, the way agents lay out runs of one
// instance: one directory per run, the file named by the instance id.
func copyAs(t *testing.T, name string, srcs ...string) []string {
	t.Helper()
	dir := t.TempDir()
	var out []string
	for i, src := range srcs {
		data, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, "run"+string(rune('a'+i)), name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		out = append(out, p)
	}
	return out
}

// TestImportIDsUnique imports the eight marshmallow-1867 replays under one
// file name, as SWE-agent writes them: eight distinct ids, the same ones on
// a re-import. Two copies of one file are a duplicate id: an error naming
// both under fail, a counted skip under skip.
func TestImportIDsUnique(t *testing.T) {
	data := shareddata.Dir(t)
	cfg := config(t, "unused", "unused")
	replays, _ := filepath.Glob(filepath.Join(data, "trajectories/swe-agent/replay__marshmallow-code__marshmallow-1867__*.traj"))
	if len(replays) != 8 {
		t.Fatalf("%d replays, want 8", len(replays))
	}
	files := copyAs(t, "marshmallow-code__marshmallow-1867.traj", replays...)
	idsOf := func(files []string) []string {
		out := t.TempDir()
		m, err := jobs.Import(context.Background(), jobs.ImportOptions{Format: "swe-agent", Files: files, Output: out, OnError: columnar.OnErrorFail, Parquet: cfg.Parquet}, quiet())
		if err != nil {
			t.Fatal(err)
		}
		if m.Counters["duplicate_ids"] != 0 {
			t.Errorf("duplicate_ids = %d", m.Counters["duplicate_ids"])
		}
		var ids []string
		for _, tr := range importedTrajectories(t, out, m) {
			ids = append(ids, tr.TrajectoryID)
			if tr.Task.ID != "marshmallow-code__marshmallow-1867" {
				t.Errorf("task.id = %q", tr.Task.ID)
			}
		}
		return ids
	}
	first := idsOf(files)
	seen := map[string]bool{}
	for _, id := range first {
		if seen[id] || !strings.HasPrefix(id, "marshmallow-code__marshmallow-1867-") {
			t.Errorf("id %q repeated or not <stem>-<hash>", id)
		}
		seen[id] = true
	}
	if len(seen) != 8 {
		t.Fatalf("ids %v: want 8 distinct", first)
	}
	// Re-importing the same bytes from elsewhere gives the same ids.
	again := idsOf(copyAs(t, "marshmallow-code__marshmallow-1867.traj", replays...))
	if strings.Join(again, " ") != strings.Join(first, " ") {
		t.Errorf("re-import: ids %v, want %v", again, first)
	}

	issue := filepath.Join(data, "trajectories/mini-swe-agent/github_issue.traj.json")
	copies := copyAs(t, "github_issue.traj.json", issue, issue)
	tests := []struct {
		onError columnar.OnError
		wantErr []string
		rows    int64
	}{
		{columnar.OnErrorFail, []string{copies[1] + ": field trajectory_id: duplicate trajectory_id \"github_issue-86d060a4\": already imported from " + copies[0], "nothing committed"}, 0},
		{columnar.OnErrorSkip, nil, 1},
	}
	for _, tc := range tests {
		t.Run(string(tc.onError), func(t *testing.T) {
			out := t.TempDir()
			m, err := jobs.Import(context.Background(), jobs.ImportOptions{Format: "mini-swe-agent", Files: copies, Output: out, OnError: tc.onError, Parquet: cfg.Parquet}, quiet())
			if tc.wantErr != nil {
				for _, w := range tc.wantErr {
					if err == nil || !strings.Contains(err.Error(), w) {
						t.Errorf("err = %v, want it to contain %q", err, w)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if m.Counters["rows_imported"] != tc.rows || m.Counters["duplicate_ids"] != 1 || m.Counters["rows_skipped"] != 1 {
				t.Errorf("counters %v", m.Counters)
			}
		})
	}

	// Native JSONL: a repeated trajectory_id is caught the same way.
	native := filepath.Join(t.TempDir(), "n.jsonl")
	line, _ := json.Marshal(traj(1))
	os.WriteFile(native, []byte(string(line)+"\n"+string(line)+"\n"), 0o644)
	_, err := jobs.Import(context.Background(), jobs.ImportOptions{Format: "jsonl", Files: []string{native}, Output: t.TempDir(), OnError: columnar.OnErrorFail, Parquet: cfg.Parquet}, quiet())
	if err == nil || !strings.Contains(err.Error(), "n.jsonl: line 2: field trajectory_id: duplicate trajectory_id") || !strings.Contains(err.Error(), "n.jsonl line 1") {
		t.Errorf("native duplicate: err = %v", err)
	}
}

// TestImportNothing covers inputs that yield no trajectory: an empty file is
// "FILE: no trajectories" under fail and a counted skip under skip; an
// import that yields nothing fails either way, and a failed import to a
// new directory leaves no directory behind.
func TestImportNothing(t *testing.T) {
	cfg := config(t, "unused", "unused")
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.jsonl")
	os.WriteFile(empty, []byte("\n\n"), 0o644)
	good := filepath.Join(dir, "good.jsonl")
	os.WriteFile(good, []byte(`{"instance_id": "i1", "messages": [{"role": "user", "content": "hi"}]}`+"\n"), 0o644)
	tests := []struct {
		name    string
		onError columnar.OnError
		files   []string
		wantErr string
		empty   int64
	}{
		{"empty, fail", columnar.OnErrorFail, []string{empty}, empty + ": no trajectories", 0},
		{"empty, skip", columnar.OnErrorSkip, []string{empty}, "no trajectories imported from 1 files", 0},
		{"empty beside good, fail", columnar.OnErrorFail, []string{good, empty}, empty + ": no trajectories", 0},
		{"empty beside good, skip", columnar.OnErrorSkip, []string{good, empty}, "", 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "new", "dataset")
			m, err := jobs.Import(context.Background(), jobs.ImportOptions{Format: "openai-chat", Files: tc.files, Output: out, OnError: tc.onError, Parquet: cfg.Parquet}, quiet())
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				if _, serr := os.Stat(filepath.Dir(out)); !os.IsNotExist(serr) {
					t.Errorf("failed import left %s: %v", filepath.Dir(out), serr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if m.Counters["files_empty"] != tc.empty || m.Counters["rows_imported"] != 1 {
				t.Errorf("counters %v", m.Counters)
			}
			if _, err := jobs.Inspect(context.Background(), out, cfg.S3); err != nil {
				t.Errorf("inspect: %v", err)
			}
		})
	}
	// A failed import into a directory that existed keeps it.
	existing := t.TempDir()
	if _, err := jobs.Import(context.Background(), jobs.ImportOptions{Format: "openai-chat", Files: []string{empty}, Output: existing, OnError: columnar.OnErrorFail, Parquet: cfg.Parquet}, quiet()); err == nil {
		t.Fatal("no error")
	}
	if _, err := os.Stat(existing); err != nil {
		t.Errorf("existing output dir: %v", err)
	}
}
