package jobs_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/atlas-ai/atlas-learn/columnar"
	"github.com/atlas-ai/atlas-learn/columnar/importer"
	"github.com/atlas-ai/atlas-learn/jobs"
)

// TestExportATIF imports the ATIF sample into a Parquet dataset, exports
// it back to ATIF and imports the export: the steps and outcome survive,
// the bytes are the same on a second export.
func TestExportATIF(t *testing.T) {
	cfg, err := jobs.LoadConfig("", func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	dataset := filepath.Join(t.TempDir(), "ds")
	sample := filepath.Join("..", "columnar", "importer", "testdata", "atif_sample.json")
	if _, err := jobs.Import(ctx, jobs.ImportOptions{Format: "atif", Files: []string{sample}, Output: dataset, OnError: columnar.OnErrorFail, Parquet: cfg.Parquet}, quiet()); err != nil {
		t.Fatal(err)
	}
	var orig []columnar.Trajectory
	readParquetDataset(t, dataset, &orig)
	if len(orig) != 1 {
		t.Fatalf("%d trajectories imported", len(orig))
	}

	out1, out2 := filepath.Join(t.TempDir(), "a"), filepath.Join(t.TempDir(), "b")
	for _, out := range []string{out1, out2} {
		st, err := jobs.Export(ctx, jobs.ExportOptions{To: "atif", Input: dataset, Output: out}, quiet())
		if err != nil || st.Exported != 1 {
			t.Fatalf("export: %+v %v", st, err)
		}
	}
	name := filepath.Join(out1, "atif-sample-0001.json")
	doc, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := os.ReadFile(filepath.Join(out2, "atif-sample-0001.json")); !bytes.Equal(doc, again) {
		t.Error("two exports differ")
	}
	if !bytes.HasPrefix(doc, []byte("{\n  \"schema_version\": \"ATIF-v1.4\",\n  \"session_id\": \"atif-sample-0001\"")) {
		t.Errorf("document starts %.80q", doc)
	}
	if !bytes.Contains(doc, []byte(`"version": "2.0.0"`)) {
		t.Error("the agent version kept in extra is not exported")
	}
	var back []columnar.Trajectory
	if _, err := importer.Import(ctx, importer.ATIF, name, bytes.NewReader(doc), func(tr columnar.Trajectory) error {
		back = append(back, tr)
		return nil
	}, importer.Options{}); err != nil || len(back) != 1 {
		t.Fatalf("import export: %v (%d)", err, len(back))
	}
	a, b := orig[0], back[0]
	if a.TrajectoryID != b.TrajectoryID || a.Task != b.Task || a.Agent != b.Agent || a.Outcome != b.Outcome || a.Solution != b.Solution || !a.CreatedAt.Equal(b.CreatedAt) {
		t.Errorf("round trip:\n got %+v\nwant %+v", b, a)
	}
	if len(a.Steps) != len(b.Steps) {
		t.Fatalf("%d steps back, want %d", len(b.Steps), len(a.Steps))
	}
	for i := range a.Steps {
		if a.Steps[i] != b.Steps[i] {
			t.Errorf("step %d:\n got %+v\nwant %+v", i, b.Steps[i], a.Steps[i])
		}
	}

	if _, err := jobs.Export(ctx, jobs.ExportOptions{To: "parquet", Input: dataset, Output: out1}, quiet()); err == nil || !strings.Contains(err.Error(), "unknown format") {
		t.Errorf("unknown format: %v", err)
	}
}

func readParquetDataset(t *testing.T, dataset string, out *[]columnar.Trajectory) {
	t.Helper()
	err := filepath.Walk(dataset, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() || !strings.HasSuffix(p, ".parquet") {
			return err
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		return columnar.ReadParquet(context.Background(), f, info.Size(), p, columnar.ReadOptions{}, func(batch []columnar.Trajectory, _ int64) error {
			*out = append(*out, batch...)
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestExportFileName: ids that are not safe file names get a hash.
func TestExportFileName(t *testing.T) {
	tests := map[string]string{
		"django__django-1.2": "django__django-1.2.json",
	}
	for id, want := range tests {
		if got := jobs.ExportFileName(id); got != want {
			t.Errorf("%q: %q, want %q", id, got, want)
		}
	}
	names := map[string]bool{}
	for _, id := range []string{"a/b", "a_b", "a b", "", "..", "../x", strings.Repeat("x", 300)} {
		n := jobs.ExportFileName(id)
		if names[n] || strings.ContainsAny(n, "/\\ ") || strings.HasPrefix(n, ".") || len(n) > 140 {
			t.Errorf("%q: bad or repeated name %q", id, n)
		}
		names[n] = true
	}
	keys := make([]string, 0, len(names))
	for k := range names {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if len(keys) != 7 {
		t.Errorf("names %v", keys)
	}
}
