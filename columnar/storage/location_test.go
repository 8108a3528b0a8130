package storage_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/atlas-ai/atlas-learn/columnar/storage"
)

func TestParseLocation(t *testing.T) {
	tests := []struct {
		uri     string
		driver  storage.Driver
		bucket  string
		path    string
		str     string
		isFile  bool
		wantErr string
	}{
		{uri: "s3://bkt", driver: storage.DriverS3, bucket: "bkt", path: "", str: "s3://bkt"},
		{uri: "s3://bkt/a/b/", driver: storage.DriverS3, bucket: "bkt", path: "a/b", str: "s3://bkt/a/b"},
		{uri: "s3://bkt/a/x.parquet", driver: storage.DriverS3, bucket: "bkt", path: "a/x.parquet", str: "s3://bkt/a/x.parquet", isFile: true},
		{uri: "data/out", driver: storage.DriverFile, path: "data/out", str: "data/out"},
		{uri: "./data/../d/x.jsonl", driver: storage.DriverFile, path: "d/x.jsonl", str: "d/x.jsonl", isFile: true},
		{uri: "file:///abs/dir", driver: storage.DriverFile, path: "/abs/dir", str: "/abs/dir"},
		{uri: "file://localhost/abs", driver: storage.DriverFile, path: "/abs", str: "/abs"},
		{uri: "", wantErr: "empty location"},
		{uri: "s3://", wantErr: "no bucket name"},
		{uri: "s3://user:secret@bkt/p", wantErr: "credentials"},
		{uri: "file://data/x", wantErr: "needs an absolute path"},
		{uri: "gs://b/p", wantErr: `unsupported scheme "gs"`},
	}
	for _, tc := range tests {
		t.Run(tc.uri, func(t *testing.T) {
			l, err := storage.ParseLocation(tc.uri, storage.S3Config{})
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				if strings.Contains(err.Error(), "secret") {
					t.Fatalf("the error leaks the secret: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if l.Driver != tc.driver || l.Bucket != tc.bucket || l.Path != tc.path || l.String() != tc.str || l.IsDataFile() != tc.isFile {
				t.Fatalf("got %+v (%s, data file %v)", l, l, l.IsDataFile())
			}
		})
	}
}

func TestLocationSplitJoin(t *testing.T) {
	tests := []struct {
		uri, dir, name, joined string
	}{
		{"s3://b/p/x.json", "s3://b/p", "x.json", "s3://b/p/x.json/runs/r"},
		{"s3://b/x.json", "s3://b", "x.json", "s3://b/x.json/runs/r"},
		{"out/lib.json", "out", "lib.json", "out/lib.json/runs/r"},
		{"lib.json", ".", "lib.json", "lib.json/runs/r"},
	}
	for _, tc := range tests {
		l, err := storage.ParseLocation(tc.uri, storage.S3Config{})
		if err != nil {
			t.Fatal(err)
		}
		dir, name, err := l.Split()
		if err != nil || dir.String() != tc.dir || name != tc.name {
			t.Errorf("%s: split = %s, %q, %v", tc.uri, dir, name, err)
		}
		if j := l.Join("runs", "r"); j.String() != tc.joined {
			t.Errorf("%s: join = %s", tc.uri, j)
		}
	}
	root, _ := storage.ParseLocation("s3://b", storage.S3Config{})
	if _, _, err := root.Split(); err == nil {
		t.Error("a bucket's root names no object")
	}
}

func TestLocationLocal(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	l, err := storage.ParseLocation(filepath.Join(dir, "obj", "x.json"), storage.S3Config{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.ReadObject(ctx); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("missing object: %v", err)
	}
	if err := l.WriteObject(ctx, []byte("hi")); err != nil {
		t.Fatal(err)
	}
	if got, err := l.ReadObject(ctx); err != nil || string(got) != "hi" {
		t.Fatalf("read = %q, %v", got, err)
	}
	// Reading never creates a directory.
	missing, _ := storage.ParseLocation(filepath.Join(dir, "nope"), storage.S3Config{})
	if _, _, err := missing.OpenReader(ctx); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("open missing: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "nope")); !os.IsNotExist(err) {
		t.Fatal("OpenReader created the directory")
	}
	f, _ := storage.ParseLocation(filepath.Join(dir, "obj", "x.jsonl"), storage.S3Config{})
	b, key, err := f.OpenReader(ctx)
	if err != nil || key != "x.jsonl" {
		t.Fatalf("open data file: %q, %v", key, err)
	}
	b.Close()
}
