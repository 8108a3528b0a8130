package columnar_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/atlas-ai/atlas-learn/columnar"
	"github.com/atlas-ai/atlas-learn/columnar/storage"
)

// scoreRow is a dataset row type of its own, with a Validator.
type scoreRow struct {
	ID    string   `parquet:"id" json:"id"`
	Score float64  `parquet:"score" json:"score"`
	Tags  []string `parquet:"tags,list" json:"tags"`
	Day   string   `parquet:"day" json:"day"`
}

func (r *scoreRow) Validate() error {
	if r.ID == "" {
		return errors.New("field id: empty")
	}
	return nil
}

var scoreSchema = columnar.Schema{Name: "score", Version: 2}

func writeScores(t *testing.T, ctx context.Context, b storage.Bucket, n int, jsonl bool) *columnar.Manifest {
	t.Helper()
	c, err := columnar.NewCommitter(ctx, b, "", columnar.DatasetManifest)
	if err != nil {
		t.Fatal(err)
	}
	s := columnar.NewSink(c, columnar.SinkOptions[scoreRow]{
		Dataset: columnar.DatasetInfo{Name: "scores", Schema: scoreSchema, Stage: "test"}, Dir: "scores",
		Fingerprint: "fp", RowsPerFile: 7, JSONL: jsonl, WriteEmpty: true,
		Partition: func(r *scoreRow) string { return "day=" + r.Day },
	})
	for i := 0; i < n; i++ {
		if err := s.Write(ctx, scoreRow{ID: fmt.Sprintf("r%03d", i), Score: float64(i) / 2, Tags: []string{"a", fmt.Sprint(i)}, Day: fmt.Sprint(i % 2)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Write(ctx, scoreRow{}); err == nil || !strings.Contains(err.Error(), "field id") {
		t.Fatalf("an invalid row: %v", err)
	}
	if err := s.Close(ctx); err != nil {
		t.Fatal(err)
	}
	m := &columnar.Manifest{Kind: "dataset"}
	if err := c.Commit(ctx, m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestGenericDataset(t *testing.T) {
	ctx := context.Background()
	b, err := storage.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	m := writeScores(t, ctx, b, 20, true)
	d := m.Dataset("scores")
	if d == nil || d.Schema != "score" || d.SchemaVersion != 2 || d.Stage != "test" || d.Rows != 20 || len(d.Files) != 4 {
		t.Fatalf("manifest entry %+v", d)
	}
	if j := m.Dataset("scores.jsonl"); j == nil || j.Format != "jsonl" || j.Rows != 20 || j.Schema != "score" {
		t.Fatalf("jsonl entry %+v", j)
	}
	if m.FormatVersion != columnar.ManifestFormatVersion {
		t.Fatalf("format version %d", m.FormatVersion)
	}
	// Read back through the manifest, all columns and a projection.
	src, err := columnar.OpenDataset(ctx, b, "", "scores", scoreSchema)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, f := range src.Files {
		_, err := columnar.ScanFile(ctx, b, f, columnar.ReadOptions{Schema: scoreSchema}, columnar.OnErrorFail, nil,
			func(r *scoreRow, _ columnar.Position) error { ids = append(ids, r.ID); return nil })
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(ids) != 20 {
		t.Fatalf("read %d rows", len(ids))
	}
	type onlyScore struct {
		Score float64 `parquet:"score"`
	}
	var sum float64
	_, err = columnar.ScanFile(ctx, b, src.Files[0], columnar.ReadOptions{Schema: scoreSchema}, columnar.OnErrorFail, nil,
		func(r *onlyScore, _ columnar.Position) error { sum += r.Score; return nil })
	if err != nil || sum == 0 {
		t.Fatalf("projection: %v, %v", sum, err)
	}
	// The schema is checked per dataset: in the manifest and in each footer.
	if _, err := columnar.OpenDataset(ctx, b, "", "scores", columnar.Schema{Name: "score", Version: 1}); err == nil || !strings.Contains(err.Error(), "score/v2") {
		t.Fatalf("manifest version check: %v", err)
	}
	if _, err := columnar.OpenSource(ctx, b, ""); err == nil || !strings.Contains(err.Error(), `no "trajectories" dataset`) {
		t.Fatalf("trajectories of a scores dataset: %v", err)
	}
	_, err = columnar.ScanFile(ctx, b, src.Files[0], columnar.ReadOptions{}, columnar.OnErrorFail, nil,
		func(*columnar.Trajectory, columnar.Position) error { return nil })
	var se *columnar.SchemaError
	if !errors.As(err, &se) || se.Got != scoreSchema || !strings.Contains(err.Error(), src.Files[0].Key) {
		t.Fatalf("a score file read as trajectories: %v", err)
	}
	_, err = columnar.ScanFile(ctx, b, src.Files[0], columnar.ReadOptions{Schema: columnar.Schema{Name: "score", Version: 3}}, columnar.OnErrorFail, nil,
		func(*scoreRow, columnar.Position) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "this build reads score/v3") {
		t.Fatalf("footer version check: %v", err)
	}
}

// An empty dataset is one file with the schema and no rows.
func TestGenericDatasetEmpty(t *testing.T) {
	ctx := context.Background()
	b, _ := storage.NewLocal(t.TempDir())
	m := writeScores(t, ctx, b, 0, false)
	d := m.Dataset("scores")
	if d == nil || d.Rows != 0 || len(d.Files) != 1 {
		t.Fatalf("empty entry %+v", d)
	}
	src, err := columnar.OpenDataset(ctx, b, "", "scores", scoreSchema)
	if err != nil {
		t.Fatal(err)
	}
	st, err := columnar.ScanFile(ctx, b, src.Files[0], columnar.ReadOptions{Schema: scoreSchema}, columnar.OnErrorFail, nil,
		func(*scoreRow, columnar.Position) error { return nil })
	if err != nil || st.Rows != 0 {
		t.Fatalf("read empty: %+v, %v", st, err)
	}
}

// Manifests of format version 1 (one schema for all) still read.
func TestManifestVersion1(t *testing.T) {
	ctx := context.Background()
	b, _ := storage.NewLocal(t.TempDir())
	v1 := map[string]any{"format": columnar.ManifestFormat, "format_version": 1, "kind": "dataset", "fingerprint": "x", "schema_version": 1,
		"datasets": []map[string]any{{"name": "trajectories", "format": "parquet", "schema_version": 1, "rows": 0, "files": []any{}}}, "counters": map[string]any{}, "run": map[string]any{}}
	data, _ := json.Marshal(v1)
	if err := storage.Put(ctx, b, columnar.DatasetManifest, data); err != nil {
		t.Fatal(err)
	}
	m, err := columnar.ReadManifest(ctx, b, columnar.DatasetManifest)
	if err != nil {
		t.Fatal(err)
	}
	if s := m.Dataset("trajectories").SchemaOf(); s != columnar.TrajectorySchema {
		t.Fatalf("v1 entry schema %v", s)
	}
	v1["format_version"] = 9
	data, _ = json.Marshal(v1)
	_ = storage.Put(ctx, b, columnar.DatasetManifest, data)
	if _, err := columnar.ReadManifest(ctx, b, columnar.DatasetManifest); err == nil || !strings.Contains(err.Error(), "format version 9") {
		t.Fatalf("future manifest: %v", err)
	}
}

// With more partitions than MaxOpenParts, the least recently written
// partition's file is finished; every row is still written once, and the
// same rows give the same files.
func TestSinkMaxOpenParts(t *testing.T) {
	ctx := context.Background()
	write := func() (*columnar.Manifest, storage.Bucket) {
		b, _ := storage.NewLocal(t.TempDir())
		c, err := columnar.NewCommitter(ctx, b, "", columnar.DatasetManifest)
		if err != nil {
			t.Fatal(err)
		}
		s := columnar.NewSink(c, columnar.SinkOptions[scoreRow]{Dataset: columnar.DatasetInfo{Name: "scores", Schema: scoreSchema},
			MaxOpenParts: 2, Partition: func(r *scoreRow) string { return "day=" + r.Day }})
		// Runs of 5 rows per day, days 0,1,2,0,1,2: each run after the first
		// two finds its day's file closed.
		for i := 0; i < 30; i++ {
			if err := s.Write(ctx, scoreRow{ID: fmt.Sprint(i), Day: fmt.Sprint((i / 5) % 3)}); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.Close(ctx); err != nil {
			t.Fatal(err)
		}
		m := &columnar.Manifest{Kind: "dataset"}
		if err := c.Commit(ctx, m); err != nil {
			t.Fatal(err)
		}
		return m, b
	}
	m1, _ := write()
	m2, _ := write()
	d := m1.Dataset("scores")
	if d.Rows != 30 || len(d.Files) != 6 {
		t.Fatalf("%d rows in %d files, want 30 in 6", d.Rows, len(d.Files))
	}
	for i, f := range d.Files {
		if f.Rows != 5 || f.SHA256 != m2.Dataset("scores").Files[i].SHA256 {
			t.Fatalf("file %s: %d rows, or not deterministic", f.Path, f.Rows)
		}
	}
}

// A manifest naming files outside its directory is refused, and so is a
// file to be created outside the committer's root.
func TestPathsStayBelowTheRoot(t *testing.T) {
	ctx := context.Background()
	b, _ := storage.NewLocal(t.TempDir())
	m := map[string]any{"format": columnar.ManifestFormat, "format_version": 2, "kind": "dataset", "fingerprint": "x",
		"datasets": []map[string]any{{"name": "trajectories", "format": "parquet", "schema": "trajectory", "schema_version": 1, "rows": 1,
			"files": []map[string]any{{"path": "ok/part.parquet", "partition": "../../../escaped=1", "rows": 1, "bytes": 1, "sha256": "00"}}}},
		"counters": map[string]any{}, "run": map[string]any{}}
	data, _ := json.Marshal(m)
	if err := storage.Put(ctx, b, columnar.DatasetManifest, data); err != nil {
		t.Fatal(err)
	}
	if _, err := columnar.OpenSource(ctx, b, ""); err == nil || !strings.Contains(err.Error(), "not a path below the manifest") {
		t.Fatalf("an escaping partition: %v", err)
	}
	c, err := columnar.NewCommitter(ctx, b, "out", columnar.RunManifest)
	if err != nil {
		t.Fatal(err)
	}
	c.Declare(columnar.DatasetInfo{Name: "x", Schema: scoreSchema}, "parquet")
	for _, rel := range []string{"../x.parquet", "/abs.parquet", "a/../../x.parquet"} {
		if _, err := c.Create(ctx, "x", rel, ""); err == nil {
			t.Errorf("Create(%q) succeeded", rel)
		}
	}
}

// The files of an output that has not committed (a run in progress, or
// one whose process was killed) are never read: a reader of the parent
// directory skips them, a reader of the output itself is told.
func TestPendingOutputsAreNotRead(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	b, _ := storage.NewLocal(dir)
	// A committed dataset under a/, and a crashed one under b/.
	for _, sub := range []string{"a", "b"} {
		c, err := columnar.NewCommitter(ctx, b, sub, columnar.DatasetManifest)
		if err != nil {
			t.Fatal(err)
		}
		s := columnar.NewSink(c, columnar.SinkOptions[columnar.Trajectory]{Fingerprint: sub})
		tr := columnar.Trajectory{SchemaVersion: 1, TrajectoryID: sub}
		if err := s.Write(ctx, tr); err != nil {
			t.Fatal(err)
		}
		if err := s.Close(ctx); err != nil {
			t.Fatal(err)
		}
		if sub == "a" {
			if err := c.Commit(ctx, &columnar.Manifest{Kind: "dataset"}); err != nil {
				t.Fatal(err)
			}
		} // b: killed before its manifest
	}
	if ok, _ := storage.Exists(ctx, b, "a/"+columnar.PendingMarker); ok {
		t.Fatal("a committed output kept its pending marker")
	}
	src, err := columnar.OpenSource(ctx, b, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(src.Files) != 1 || !strings.HasPrefix(src.Files[0].Key, "a/") {
		t.Fatalf("files read: %+v", src.Files)
	}
	if _, err := columnar.OpenSource(ctx, b, "b"); err == nil || !strings.Contains(err.Error(), "nothing committed to read") {
		t.Fatalf("reading the crashed output: %v", err)
	}
}
