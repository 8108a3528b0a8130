package jobs_test

import (
	"context"
	"github.com/atlas-ai/atlas-learn/internal/shareddata"
	"os"
	"path/filepath"
	"reflect"
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

// TestImportPartition checks the layouts of import.partition: by default
// the part files of an import are not partitioned (the four OpenHands runs,
// from three days, make one file); "day" puts them in a dt= directory per
// day, where appending one file at a time gives the part files of importing
// together too; anything else is an error.
func TestImportPartition(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(shareddata.Dir(t), "trajectories", "openhands", "*.json"))
	if len(files) != 4 {
		t.Fatalf("%d OpenHands files, want 4", len(files))
	}
	cfg := config(t, "unused", "unused")
	tests := []struct {
		partition string
		dirs      []string // the part files' directories under the dataset
	}{
		{"", []string{"."}},
		{jobs.ImportPartitionNone, []string{"."}},
		{jobs.ImportPartitionDay, []string{"dt=2025-01-20", "dt=2025-01-27", "dt=2025-02-01"}},
	}
	for _, tc := range tests {
		t.Run("partition="+tc.partition, func(t *testing.T) {
			importTo := func(batches [][]string) string {
				out := t.TempDir()
				for _, b := range batches {
					opts := jobs.ImportOptions{Format: "openhands", Files: b, Output: out, OnError: columnar.OnErrorFail, Parquet: cfg.Parquet, Partition: tc.partition, Append: true}
					if _, err := jobs.Import(context.Background(), opts, quiet()); err != nil {
						t.Fatal(err)
					}
				}
				return out
			}
			together := importTo([][]string{files})
			var dirs []string
			seen := map[string]bool{}
			for _, p := range filesUnder(t, together, ".parquet") {
				rel, _ := filepath.Rel(together, filepath.Dir(p))
				if !seen[rel] {
					seen[rel] = true
					dirs = append(dirs, rel)
				}
			}
			if strings.Join(dirs, " ") != strings.Join(tc.dirs, " ") {
				t.Errorf("part files in %v, want %v", dirs, tc.dirs)
			}
			in, err := jobs.Inspect(context.Background(), together, cfg.S3)
			if err != nil || in.Rows != 4 {
				t.Fatalf("inspect: %+v, %v", in, err)
			}
			var one [][]string
			for _, f := range files {
				one = append(one, []string{f})
			}
			appended := importTo(one)
			a, b := partFiles(t, filesUnder(t, appended, ".parquet")), partFiles(t, filesUnder(t, together, ".parquet"))
			if !reflect.DeepEqual(a, b) {
				t.Errorf("appending one at a time gave %v, importing together %v", a, b)
			}
		})
	}
	_, err := jobs.Import(context.Background(), jobs.ImportOptions{Format: "openhands", Files: files, Output: t.TempDir(), OnError: columnar.OnErrorFail, Partition: "month"}, quiet())
	if err == nil || !strings.Contains(err.Error(), "import.partition") {
		t.Errorf("partition month: error %v, want one naming import.partition", err)
	}
}
