package columnar_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/atlas-ai/atlas-learn/columnar"
	"github.com/atlas-ai/atlas-learn/columnar/storage"
)

// failingDeletes is a bucket whose deletes fail.
type failingDeletes struct{ storage.Bucket }

func (failingDeletes) Delete(context.Context, string) error {
	return errors.New("injected delete failure")
}

func commitRows(t *testing.T, b storage.Bucket, fp string, n int) (*columnar.Committer, error) {
	t.Helper()
	ctx := context.Background()
	c, err := columnar.NewCommitter(ctx, b, "ds", columnar.DatasetManifest)
	if err != nil {
		return nil, err
	}
	s := columnar.NewSink(c, columnar.SinkOptions[columnar.Trajectory]{Fingerprint: fp})
	for i := 0; i < n; i++ {
		if err := s.Write(ctx, sample(i)); err != nil {
			return nil, err
		}
	}
	if err := s.Close(ctx); err != nil {
		return nil, err
	}
	if err := c.Commit(ctx, &columnar.Manifest{Kind: "dataset", Fingerprint: fp}); err != nil {
		return nil, errors.Join(err, c.Abort(ctx))
	}
	return c, nil
}

// After the manifest is written, nothing may undo the commit: a failed
// clean-up of replaced files is reported, and Abort deletes nothing.
func TestCommitCleanupFailureKeepsTheCommit(t *testing.T) {
	ctx := context.Background()
	local := newLocal(t, t.TempDir())
	if _, err := commitRows(t, local, "old", 5); err != nil {
		t.Fatal(err)
	}
	c, err := commitRows(t, failingDeletes{local}, "new", 7)
	if err != nil {
		t.Fatalf("commit failed although the manifest was written: %v", err)
	}
	if c.CleanupErr() == nil {
		t.Fatal("the failed clean-up was not reported")
	}
	if err := c.Abort(ctx); err != nil {
		t.Fatal(err)
	}
	src, err := columnar.OpenSource(ctx, local, "ds")
	if err != nil {
		t.Fatal(err)
	}
	// The new commit stands: its manifest is the one read, with its rows.
	if src.Manifest == nil || src.Manifest.Fingerprint != "new" {
		t.Fatalf("manifest after Abort = %+v, want the new commit's", src.Manifest)
	}
	if len(src.Manifest.Datasets) != 1 || src.Manifest.Datasets[0].Rows != 7 {
		t.Fatalf("datasets after Abort = %+v, want one of 7 rows", src.Manifest.Datasets)
	}
	if len(src.Files) == 0 {
		t.Fatal("the committed manifest names no files")
	}
	for _, f := range src.Files {
		ok, err := storage.Exists(ctx, local, f.Key)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			t.Fatalf("the committed manifest names a missing file %s", f.Key)
		}
	}
}

// newLocal opens a local bucket at dir.
func newLocal(t *testing.T, dir string) *storage.Local {
	t.Helper()
	b, err := storage.NewLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// writeFile writes a file, failing the test when it cannot.
func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestCreatedAtNormalizedAndChecked(t *testing.T) {
	tr := sample(1)
	tr.CreatedAt = time.Time{}
	tr.Normalize()
	if !tr.CreatedAt.Equal(time.Unix(0, 0)) || tr.Validate() != nil {
		t.Fatalf("zero created_at became %v (%v)", tr.CreatedAt, tr.Validate())
	}
	for _, bad := range []time.Time{time.Date(1500, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC)} {
		tr.CreatedAt = bad
		if err := tr.Validate(); err == nil || !strings.Contains(err.Error(), "created_at") {
			t.Fatalf("created_at %v: %v", bad, err)
		}
	}
}

// A directory listing takes a committed sub-dataset's files from its
// manifest, never the leftovers beside them.
func TestListingHonoursNestedManifests(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	local := newLocal(t, dir)
	if _, err := commitRows(t, local, "fp", 4); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "ds", "part-99999-crashed.parquet"), []byte("leftover of a crashed run"))
	writeFile(t, filepath.Join(dir, "loose.jsonl"), nil)
	src, err := columnar.OpenSource(ctx, local, "")
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, f := range src.Files {
		keys = append(keys, f.Key)
	}
	if strings.Join(keys, " ") != "ds/part-00000-fp.parquet loose.jsonl" {
		t.Fatalf("files = %v", keys)
	}
}

func TestOpenInputSingleFileAndMissingDir(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	data := writeParquet(t, []columnar.Trajectory{sample(1), sample(2)}, columnar.WriterOptions{})
	writeFile(t, filepath.Join(dir, "one.parquet"), data)
	b, root, err := storage.OpenInput(ctx, filepath.Join(dir, "one.parquet"), storage.S3Config{})
	if err != nil || root != "one.parquet" {
		t.Fatalf("OpenInput = %q, %v", root, err)
	}
	src, err := columnar.OpenSource(ctx, b, root)
	if err != nil || len(src.Files) != 1 || src.Files[0].Key != "one.parquet" {
		t.Fatalf("OpenSource = %+v, %v", src, err)
	}
	missing := filepath.Join(dir, "typo")
	if _, _, err := storage.OpenInput(ctx, missing, storage.S3Config{}); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("missing input: %v", err)
	}
	if _, err := os.Stat(missing); err == nil {
		t.Fatal("reading a missing input created it")
	}
	if _, err := storage.Open(ctx, "file://relative/path", storage.S3Config{}); err == nil || !strings.Contains(err.Error(), "absolute path") {
		t.Fatalf("file://relative: %v", err)
	}
}

func TestWriterAndListingEdgeCases(t *testing.T) {
	ctx := context.Background()
	local := newLocal(t, t.TempDir())
	w, err := local.NewWriter(ctx, "x")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte("data")); err != nil {
		t.Fatal(err)
	}
	if err := w.Abort(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err == nil {
		t.Fatal("Close after Abort succeeded")
	}
	if ok, err := storage.Exists(ctx, local, "x"); err != nil || ok {
		t.Fatalf("aborted object: exists %v, %v", ok, err)
	}
	if _, err := storage.List(ctx, local, "../", nil); err == nil {
		t.Fatal("a prefix escaping the bucket was listed")
	}
	var buf bytes.Buffer
	if _, err := columnar.NewWriter[columnar.Trajectory](&buf, columnar.WriterOptions{ZstdLevel: 9}); err == nil {
		t.Fatal("zstd level 9 accepted")
	}
}
