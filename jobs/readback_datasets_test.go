package jobs_test

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/atlas-ai/atlas-learn/columnar"
	"github.com/atlas-ai/atlas-learn/columnar/storage"
	"github.com/atlas-ai/atlas-learn/internal/pyread"
	"github.com/atlas-ai/atlas-learn/jobs"
)

// Every dataset a run commits — the run's and the memory version's,
// Parquet and their JSONL copies, and the sft exports — read whole by
// pyarrow and DuckDB: both find the rows the manifest records, and every
// column pyarrow finds is documented in the README.
func TestRunDatasetsInPyarrowAndDuckDB(t *testing.T) {
	ctx := context.Background()
	in := genInput(t, 400, 11)
	out := t.TempDir()
	cfg := config(t, in, out)
	cfg.Parquet.JSONL = true
	cfg.Concepts.Iterations = 3
	res, err := jobs.Run(ctx, cfg, quiet())
	if err != nil {
		t.Fatal(err)
	}
	b, err := storage.NewLocal(out)
	if err != nil {
		t.Fatal(err)
	}
	ptr, err := jobs.ReadMemoryPointer(ctx, b, "memory")
	if err != nil {
		t.Fatal(err)
	}
	type want struct {
		rows int64
	}
	wants := map[string]want{}
	var sets []pyread.Dataset
	add := func(prefix, dir string, m *columnar.Manifest) {
		for _, d := range m.Datasets {
			if d.Format != "parquet" && d.Format != "jsonl" {
				continue // the dataset card (markdown), the recall index
			}
			ds := pyread.Dataset{Name: prefix + d.Name, Format: d.Format}
			for _, f := range d.Files {
				ds.Files = append(ds.Files, filepath.Join(out, dir, f.Path))
			}
			sets = append(sets, ds)
			wants[ds.Name] = want{d.Rows}
		}
	}
	add("", res.RunDir, res.Manifest)
	vm, err := columnar.ReadManifest(ctx, b, storage.Join("memory", ptr.Dir, columnar.RunManifest))
	if err != nil {
		t.Fatal(err)
	}
	add("memory/", storage.Join("memory", ptr.Dir), vm)
	if len(sets) < 25 {
		t.Fatalf("only %d datasets to read", len(sets))
	}
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string]bool{}
	for _, span := range regexp.MustCompile("`[^`\n]+`").FindAllString(string(readme), -1) {
		for _, w := range regexp.MustCompile(`[A-Za-z_][A-Za-z0-9_]*`).FindAllString(span, -1) {
			documented[w] = true
		}
	}
	got := pyread.ReadDatasets(t, sets)
	for _, ds := range sets {
		r, w := got[ds.Name], wants[ds.Name]
		if len(r.Errors) > 0 {
			continue // reported by ReadDatasets
		}
		if r.PyarrowRows != w.rows || r.DuckDBRows != w.rows {
			t.Errorf("%s: the manifest says %d rows; pyarrow read %d, DuckDB %d", ds.Name, w.rows, r.PyarrowRows, r.DuckDBRows)
		}
		if w.rows > 0 && len(r.Columns) == 0 {
			t.Errorf("%s: no columns", ds.Name)
		}
		var undocumented []string
		for _, c := range r.Columns {
			if !documented[c] {
				undocumented = append(undocumented, c)
			}
		}
		if len(undocumented) > 0 {
			t.Errorf("%s: columns not documented in the README: %s", ds.Name, strings.Join(undocumented, ", "))
		}
	}
	t.Logf("%d datasets read by pyarrow and DuckDB", len(sets))
}
