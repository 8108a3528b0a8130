package jobs_test

import (
	"context"
	"github.com/atlas-ai/atlas-learn/internal/shareddata"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/atlas-ai/atlas-learn/columnar"
	"github.com/atlas-ai/atlas-learn/jobs"
)

func TestImportSharedTrajectories(t *testing.T) {
	data := shareddata.Dir(t)
	cfg := config(t, "unused", "unused")
	cases := []struct {
		format, glob           string
		rows, successes, steps int64
	}{
		{"swe-agent", "trajectories/swe-agent/*.traj", 19, 18, 210},
		{"mini-swe-agent", "trajectories/mini-swe-agent/*.traj.json", 2, 1, 12},
	}
	for _, tc := range cases {
		t.Run(tc.format, func(t *testing.T) {
			files, _ := filepath.Glob(filepath.Join(data, tc.glob))
			if len(files) == 0 {
				t.Fatalf("no files match %s", tc.glob)
			}
			out := t.TempDir()
			m, err := jobs.Import(context.Background(), jobs.ImportOptions{Format: tc.format, Files: files, Output: out, OnError: columnar.OnErrorFail, Parquet: cfg.Parquet}, quiet())
			if err != nil {
				t.Fatal(err)
			}
			if m.Counters["rows_imported"] != tc.rows {
				t.Fatalf("imported %d, want %d", m.Counters["rows_imported"], tc.rows)
			}
			in, err := jobs.Inspect(context.Background(), out, cfg.S3)
			if err != nil {
				t.Fatal(err)
			}
			if in.Rows != tc.rows || in.Successes != tc.successes || in.Steps != tc.steps || !in.HasManifest {
				t.Fatalf("inspect = %+v", in)
			}
			// Importing again is byte-identical.
			out2 := t.TempDir()
			if _, err := jobs.Import(context.Background(), jobs.ImportOptions{Format: tc.format, Files: files, Output: out2, OnError: columnar.OnErrorFail, Parquet: cfg.Parquet}, quiet()); err != nil {
				t.Fatal(err)
			}
			a, b := dataFiles(t, out), dataFiles(t, out2)
			delete(a, columnar.DatasetManifest)
			delete(b, columnar.DatasetManifest)
			if len(a) == 0 {
				t.Fatal("the import wrote no data files")
			}
			sameFiles(t, "two imports", a, b)
		})
	}
}

func TestImportBadFile(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "broken.traj")
	os.WriteFile(bad, []byte(`{"trajectory": [{"action": "ls"`), 0o644)
	out := t.TempDir()
	cfg := config(t, "unused", "unused")
	_, err := jobs.Import(context.Background(), jobs.ImportOptions{Format: "swe-agent", Files: []string{bad}, Output: out, OnError: columnar.OnErrorFail, Parquet: cfg.Parquet}, quiet())
	if err == nil || !strings.Contains(err.Error(), "broken.traj") {
		t.Fatalf("err = %v; want it to name broken.traj", err)
	}
	if files := dataFiles(t, out); len(files) != 0 {
		t.Fatalf("a failed import left %v", files)
	}
	_, err = jobs.Import(context.Background(), jobs.ImportOptions{Format: "nope", Files: []string{bad}, Output: out, OnError: columnar.OnErrorFail, Parquet: cfg.Parquet}, quiet())
	if err == nil || !strings.Contains(err.Error(), "--from") {
		t.Fatalf("unknown format: %v", err)
	}
}
