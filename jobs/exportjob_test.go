package jobs_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/atlas-ai/atlas-learn/columnar"
	"github.com/atlas-ai/atlas-learn/columnar/importer"
	"github.com/atlas-ai/atlas-learn/internal/shareddata"
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

// TestExportJSONLRestoresSource imports the shared OpenHands event streams
// (whose extra refers to the columns for the texts they repeat), exports
// the dataset as JSONL, and checks that each line's extra holds the
// file's event stream event for event, that the export has no column
// reference left, and that importing the export gives the same columns.
func TestExportJSONLRestoresSource(t *testing.T) {
	cfg, err := jobs.LoadConfig("", func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	files := glob(t, filepath.Join(shareddata.Dir(t), "trajectories", "openhands", "*.json"))
	dataset := filepath.Join(t.TempDir(), "ds")
	if _, err := jobs.Import(ctx, jobs.ImportOptions{Format: "openhands", Files: files, Output: dataset, OnError: columnar.OnErrorFail, Parquet: cfg.Parquet}, quiet()); err != nil {
		t.Fatal(err)
	}
	var orig []columnar.Trajectory
	readParquetDataset(t, dataset, &orig)
	refs := 0
	for _, tr := range orig {
		if bytes.Contains(tr.Extra, []byte(`"`+columnar.RefKey+`"`)) {
			refs++
		}
	}
	if refs == 0 {
		t.Fatal("no imported trajectory refers to its columns: the test checks nothing")
	}
	out := filepath.Join(t.TempDir(), "export")
	st, err := jobs.Export(ctx, jobs.ExportOptions{To: jobs.ExportJSONL, Input: dataset, Output: out}, quiet())
	if err != nil || st.Exported != len(orig) {
		t.Fatalf("export: %+v %v", st, err)
	}
	path := filepath.Join(out, jobs.ExportJSONLName)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(data, []byte(`"\u0024col"`)) || bytes.Contains(data, []byte(`"$col"`)) || bytes.Contains(data, []byte(`"$refs"`)) {
		t.Error("the export still holds column references")
	}
	// each file's events, in the order the dataset holds them
	events := map[string]any{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var ev any
		if err := json.Unmarshal(b, &ev); err != nil {
			t.Fatal(err)
		}
		events[canonical(t, ev)] = f
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) != len(orig) {
		t.Fatalf("%d lines for %d trajectories", len(lines), len(orig))
	}
	matched := map[any]bool{}
	for i, l := range lines {
		var rec struct {
			TrajectoryID string `json:"trajectory_id"`
			Extra        struct {
				Source struct {
					Events any `json:"events"`
				} `json:"source"`
			} `json:"extra"`
		}
		if err := json.Unmarshal([]byte(l), &rec); err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
		if rec.TrajectoryID != orig[i].TrajectoryID {
			t.Errorf("line %d: %s, want %s (the dataset's order)", i+1, rec.TrajectoryID, orig[i].TrajectoryID)
		}
		f, ok := events[canonical(t, rec.Extra.Source.Events)]
		if !ok {
			t.Errorf("line %d (%s): extra.source.events is not the event stream of any input file", i+1, rec.TrajectoryID)
			continue
		}
		matched[f] = true
	}
	if len(matched) != len(files) {
		t.Errorf("%d of %d files' event streams found in the export", len(matched), len(files))
	}
	// the export imports back to the same columns
	back := filepath.Join(t.TempDir(), "back")
	if _, err := jobs.Import(ctx, jobs.ImportOptions{Format: jobs.NativeJSONL, Files: []string{path}, Output: back, OnError: columnar.OnErrorFail, Parquet: cfg.Parquet}, quiet()); err != nil {
		t.Fatal(err)
	}
	var again []columnar.Trajectory
	readParquetDataset(t, back, &again)
	if len(again) != len(orig) {
		t.Fatalf("%d trajectories back, want %d", len(again), len(orig))
	}
	for i := range orig {
		a, b := orig[i], again[i]
		a.Extra, b.Extra = nil, nil
		if !reflect.DeepEqual(a, b) {
			t.Errorf("%s: the columns changed through export and import", orig[i].TrajectoryID)
		}
	}
}

// canonical is v as JSON with sorted keys.
func canonical(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
