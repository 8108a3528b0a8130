package jobs

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/atlas-ai/atlas-learn/columnar"
	"github.com/atlas-ai/atlas-learn/columnar/storage"
	"github.com/atlas-ai/atlas-learn/internal/shareddata"
)

// appendManifest reads the dataset manifest at dir.
func appendManifest(t *testing.T, dir string) *columnar.Manifest {
	t.Helper()
	b, err := storage.OpenLocalDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	m, err := columnar.ReadManifest(context.Background(), b, columnar.DatasetManifest)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// appendIDs reads the trajectory ids of the dataset at dir, in order.
func appendIDs(t *testing.T, dir string) []string {
	t.Helper()
	var ids []string
	err := ReadDataset(context.Background(), dir, storage.S3Config{}, columnar.TrajectoriesDataset, columnar.TrajectorySchema, func(tr *columnar.Trajectory) error {
		ids = append(ids, tr.TrajectoryID)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

func filePaths(d *columnar.DatasetEntry) []string {
	var out []string
	for _, f := range d.Files {
		out = append(out, f.Path)
	}
	sort.Strings(out)
	return out
}

// TestImportAppend appends SWE-agent files to a dataset one import at a
// time: the rows, inputs and counters add up, ids stay unique (appending a
// file again is a duplicate that commits nothing), files under the carry
// size are rewritten with the new rows and larger ones are kept as they are
// (with their JSONL copies, or rewritten when they have none and the
// import writes JSONL), and an append to an empty location creates the
// dataset.
func TestImportAppend(t *testing.T) {
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	dir := filepath.Join(shareddata.Dir(t), "trajectories/swe-agent")
	files := []string{
		filepath.Join(dir, "ctf__crypto__eps.traj"),
		filepath.Join(dir, "ctf__pwn__warmup.traj"),
		filepath.Join(dir, "function_calling_simple.traj"),
	}
	cfg, err := LoadConfig("", func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	opts := func(out string, carry int64, jsonl bool, files ...string) ImportOptions {
		p := cfg.Parquet
		p.JSONL = jsonl
		return ImportOptions{Format: "swe-agent", Files: files, Output: out, OnError: columnar.OnErrorFail, Parquet: p, Append: true, carryBytes: carry}
	}

	tests := []struct {
		name         string
		carry        int64 // carry files of at least this many bytes
		jsonl        []bool
		wantCarried  int64 // files kept by the last append
		wantFiles    int   // Parquet files at the end
		keepsOldPart bool  // the first import's part file survives
	}{
		{"rewrite", 0, []bool{false, false, false}, 0, 1, false},
		{"carry", 1, []bool{false, false, false}, 2, 3, true},
		{"carry with JSONL", 1, []bool{true, true, true}, 2, 3, true},
		{"no JSONL copy to carry", 1, []bool{false, false, true}, 0, 1, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "ds") // does not exist: the first append creates it
			var first []string
			for i, f := range files {
				m, err := Import(ctx, opts(out, tc.carry, tc.jsonl[i], f), log)
				if err != nil {
					t.Fatalf("append %d: %v", i, err)
				}
				if i == 0 {
					first = filePaths(m.Dataset(columnar.TrajectoriesDataset))
				}
				if got := m.Counters["rows_imported"]; got != int64(i+1) {
					t.Errorf("append %d: rows_imported = %d, want %d", i, got, i+1)
				}
				if got := m.Counters["files_read"]; got != int64(i+1) {
					t.Errorf("append %d: files_read = %d, want %d", i, got, i+1)
				}
				if got := m.Counters["append_previous_rows"]; got != int64(i) {
					t.Errorf("append %d: append_previous_rows = %d, want %d", i, got, i)
				}
				if len(m.Inputs) != i+1 || m.Inputs[i].Path != filepath.Base(f) {
					t.Errorf("append %d: inputs %+v", i, m.Inputs)
				}
			}
			m := appendManifest(t, out)
			d := m.Dataset(columnar.TrajectoriesDataset)
			if d.Rows != int64(len(files)) {
				t.Errorf("dataset rows = %d, want %d", d.Rows, len(files))
			}
			if got := m.Counters["append_carried_files"]; got != tc.wantCarried {
				t.Errorf("append_carried_files = %d, want %d", got, tc.wantCarried)
			}
			if len(d.Files) != tc.wantFiles {
				t.Errorf("%d part files %v, want %d", len(d.Files), filePaths(d), tc.wantFiles)
			}
			if got := filePaths(d); tc.keepsOldPart != slices.Contains(got, first[0]) {
				t.Errorf("files %v, first import's %v: kept = %v, want %v", got, first, slices.Contains(got, first[0]), tc.keepsOldPart)
			}
			if tc.jsonl[len(tc.jsonl)-1] {
				jd := m.Dataset(columnar.TrajectoriesDataset + ".jsonl")
				if jd == nil || jd.Rows != int64(len(files)) {
					t.Errorf("JSONL copy: %+v, want %d rows", jd, len(files))
				}
			}
			// Every file on disk is named by the manifest: the rewritten
			// parts are gone.
			onDisk := 0
			_ = filepath.WalkDir(out, func(p string, e os.DirEntry, err error) error {
				if err == nil && !e.IsDir() && (strings.HasSuffix(p, ".parquet") || strings.HasSuffix(p, ".jsonl")) {
					onDisk++
				}
				return err
			})
			named := len(d.Files)
			if jd := m.Dataset(columnar.TrajectoriesDataset + ".jsonl"); jd != nil {
				named += len(jd.Files)
			}
			if onDisk != named {
				t.Errorf("%d data files on disk, the manifest names %d", onDisk, named)
			}
			ids := appendIDs(t, out)
			seen := map[string]bool{}
			for _, id := range ids {
				if seen[id] {
					t.Errorf("id %s twice", id)
				}
				seen[id] = true
			}
			if len(ids) != len(files) {
				t.Errorf("%d trajectories, want %d", len(ids), len(files))
			}
			// The old rows come first, carried or rewritten: the order
			// of importing the files together.
			together := filepath.Join(t.TempDir(), "together")
			if _, err := Import(ctx, opts(together, 0, false, files...), log); err != nil {
				t.Fatal(err)
			}
			if want := appendIDs(t, together); !slices.Equal(ids, want) {
				t.Errorf("trajectories in the order %v, want %v", ids, want)
			}

			// Appending a file already in the dataset: a duplicate id.
			_, err := Import(ctx, opts(out, tc.carry, tc.jsonl[len(tc.jsonl)-1], files[1]), log)
			if err == nil || !strings.Contains(err.Error(), "duplicate trajectory_id") || !strings.Contains(err.Error(), "of the dataset appended to") {
				t.Errorf("appending %s again: %v, want a duplicate id naming the dataset", files[1], err)
			}
			if after := appendManifest(t, out); after.Fingerprint != m.Fingerprint {
				t.Errorf("the failed append changed the dataset")
			}
		})
	}
}

// TestImportAppendNotADataset refuses to append to a location whose
// manifest has no trajectory dataset.
func TestImportAppendNotADataset(t *testing.T) {
	out := t.TempDir()
	if err := os.WriteFile(filepath.Join(out, columnar.DatasetManifest), []byte(`{"format":"atlas-learn/manifest","format_version":2,"kind":"dataset","fingerprint":"x","schema_version":1,"datasets":[],"counters":{},"run":{}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(shareddata.Dir(t), "trajectories/swe-agent/ctf__crypto__eps.traj")
	_, err := Import(context.Background(), ImportOptions{Format: "swe-agent", Files: []string{src}, Output: out, OnError: columnar.OnErrorFail, Append: true}, slog.New(slog.DiscardHandler))
	if err == nil || !strings.Contains(err.Error(), `no "trajectories" dataset`) {
		t.Errorf("append to a manifest without trajectories: %v", err)
	}
}

// TestImportAppendKeepsLayout: appending under the default layout (none)
// to a dataset written with import.partition: day keeps its dt=
// partitions, so the result is the dataset one day-partitioned import of
// all the files gives (and its old rows still read first in each day).
func TestImportAppendKeepsLayout(t *testing.T) {
	ctx := context.Background()
	files, err := filepath.Glob(filepath.Join(shareddata.Dir(t), "trajectories/openhands/*.json"))
	if err != nil || len(files) < 3 {
		t.Fatalf("openhands files: %v %v", files, err)
	}
	cfg, err := LoadConfig("", func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	contents := func(m *columnar.Manifest) []string {
		var out []string
		for _, f := range m.Dataset(columnar.TrajectoriesDataset).Files {
			out = append(out, f.Partition+" "+f.SHA256)
		}
		return out
	}
	base := ImportOptions{Format: "openhands", OnError: columnar.OnErrorFail, Parquet: cfg.Parquet}
	together := base
	together.Files, together.Output, together.Partition = files, filepath.Join(t.TempDir(), "together"), ImportPartitionDay
	want, err := Import(ctx, together, nil)
	if err != nil {
		t.Fatal(err)
	}
	if datasetLayout(want) != ImportPartitionDay {
		t.Fatalf("the day import has no dt= partition: %v", contents(want))
	}
	out := filepath.Join(t.TempDir(), "appended")
	var got *columnar.Manifest
	for i, f := range files {
		o := base
		o.Files, o.Output, o.Append = []string{f}, out, true
		if i == 0 {
			o.Partition = ImportPartitionDay
		}
		if got, err = Import(ctx, o, nil); err != nil {
			t.Fatalf("append %d: %v", i, err)
		}
	}
	if !slices.Equal(contents(got), contents(want)) {
		t.Errorf("appended under the default layout: %v\nwant (one day import): %v", contents(got), contents(want))
	}
}
