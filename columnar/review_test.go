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
		c.Abort(ctx)
		return nil, err
	}
	return c, nil
}

// After the manifest is written, nothing may undo the commit: a failed
// clean-up of replaced files is reported, and Abort deletes nothing.
func TestCommitCleanupFailureKeepsTheCommit(t *testing.T) {
	ctx := context.Background()
	local, _ := storage.NewLocal(t.TempDir())
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
	for _, f := range src.Files {
		if ok, _ := storage.Exists(ctx, local, f.Key); !ok {
			t.Fatalf("the committed manifest names a missing file %s", f.Key)
		}
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
	local, _ := storage.NewLocal(dir)
	if _, err := commitRows(t, local, "fp", 4); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "ds", "part-99999-crashed.parquet"), []byte("leftover of a crashed run"), 0o644)
	os.WriteFile(filepath.Join(dir, "loose.jsonl"), nil, 0o644)
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
	os.WriteFile(filepath.Join(dir, "one.parquet"), data, 0o644)
	b, root, err := storage.OpenInput(ctx, filepath.Join(dir, "one.parquet"), storage.S3Config{})
	if err != nil || root != "one.parquet" {
		t.Fatalf("OpenInput = %q, %v", root, err)
	}
	src, err := columnar.OpenSource(ctx, b, root)
	if err != nil || len(src.Files) != 1 {
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
	local, _ := storage.NewLocal(t.TempDir())
	w, _ := local.NewWriter(ctx, "x")
	w.Write([]byte("data"))
	w.Abort()
	if err := w.Close(); err == nil {
		t.Fatal("Close after Abort succeeded")
	}
	if ok, _ := storage.Exists(ctx, local, "x"); ok {
		t.Fatal("aborted object exists")
	}
	if _, err := storage.List(ctx, local, "../", nil); err == nil {
		t.Fatal("a prefix escaping the bucket was listed")
	}
	var buf bytes.Buffer
	if _, err := columnar.NewWriter[columnar.Trajectory](&buf, columnar.WriterOptions{ZstdLevel: 9}); err == nil {
		t.Fatal("zstd level 9 accepted")
	}
}
