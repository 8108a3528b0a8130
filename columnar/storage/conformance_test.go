package storage_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/atlas-ai/atlas-learn/columnar/storage"
	"github.com/atlas-ai/atlas-learn/internal/s3test"
)

// conformance is the suite every driver passes.
func conformance(t *testing.T, b storage.Bucket) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	t.Run("PutGetStat", func(t *testing.T) {
		data := []byte("hello, object")
		if err := storage.Put(ctx, b, "a/b/c.txt", data); err != nil {
			t.Fatal(err)
		}
		got, err := storage.Get(ctx, b, "a/b/c.txt")
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("Get = %q, %v", got, err)
		}
		info, err := b.Stat(ctx, "a/b/c.txt")
		if err != nil || info.Size != int64(len(data)) {
			t.Fatalf("Stat = %+v, %v", info, err)
		}
	})
	t.Run("Range", func(t *testing.T) {
		tests := []struct {
			off, n int64
			want   string
		}{{0, 5, "hello"}, {7, -1, "object"}, {7, 3, "obj"}, {0, 0, ""}}
		for _, tc := range tests {
			r, err := b.GetRange(ctx, "a/b/c.txt", tc.off, tc.n)
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(r)
			r.Close()
			if err != nil || string(got) != tc.want {
				t.Errorf("GetRange(%d,%d) = %q, %v; want %q", tc.off, tc.n, got, err, tc.want)
			}
		}
		ra, size, err := storage.OpenReaderAt(ctx, b, "a/b/c.txt")
		if err != nil || size != 13 {
			t.Fatalf("OpenReaderAt: %d, %v", size, err)
		}
		defer ra.Close()
		p := make([]byte, 6)
		if n, err := ra.ReadAt(p, 7); n != 6 || string(p) != "object" || (err != nil && err != io.EOF) {
			t.Errorf("ReadAt = %d %q %v", n, p, err)
		}
	})
	t.Run("NotFound", func(t *testing.T) {
		_, err := b.Stat(ctx, "missing/x")
		if !errors.Is(err, storage.ErrNotFound) || !strings.Contains(err.Error(), "missing/x") {
			t.Fatalf("Stat(missing) = %v; want ErrNotFound naming the key", err)
		}
		_, err = storage.Get(ctx, b, "missing/x")
		if !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("Get(missing) = %v", err)
		}
		if ok, err := storage.Exists(ctx, b, "missing/x"); ok || err != nil {
			t.Fatalf("Exists(missing) = %v, %v", ok, err)
		}
		if err := b.Delete(ctx, "missing/x"); err != nil {
			t.Fatalf("Delete(missing) = %v", err)
		}
	})
	t.Run("ListSorted", func(t *testing.T) {
		keys := []string{"l/dt=2026-11-02/part-00001.parquet", "l/dt=2026-11-01/part-00000.parquet", "l/dt=2026-11-02/part-00000.parquet", "l/z.json", "lx/other"}
		for _, k := range keys {
			if err := storage.Put(ctx, b, k, []byte(k)); err != nil {
				t.Fatal(err)
			}
		}
		got, err := storage.List(ctx, b, "l/", nil)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, o := range got {
			names = append(names, o.Key)
		}
		want := "l/dt=2026-11-01/part-00000.parquet l/dt=2026-11-02/part-00000.parquet l/dt=2026-11-02/part-00001.parquet l/z.json"
		if strings.Join(names, " ") != want {
			t.Fatalf("List = %v\nwant %v", names, want)
		}
	})
	t.Run("AbortLeavesNothing", func(t *testing.T) {
		w, err := b.NewWriter(ctx, "aborted/obj")
		if err != nil {
			t.Fatal(err)
		}
		w.Write(bytes.Repeat([]byte("x"), 1000))
		if err := w.Abort(); err != nil {
			t.Fatal(err)
		}
		if ok, _ := storage.Exists(ctx, b, "aborted/obj"); ok {
			t.Fatal("aborted object exists")
		}
		objs, _ := storage.List(ctx, b, "aborted/", nil)
		if len(objs) != 0 {
			t.Fatalf("aborted write left %v", objs)
		}
	})
	t.Run("Overwrite", func(t *testing.T) {
		for i := 0; i < 2; i++ {
			if err := storage.Put(ctx, b, "ow", []byte(fmt.Sprint(i))); err != nil {
				t.Fatal(err)
			}
		}
		if got, _ := storage.Get(ctx, b, "ow"); string(got) != "1" {
			t.Fatalf("after overwrite: %q", got)
		}
		if err := b.Delete(ctx, "ow"); err != nil {
			t.Fatal(err)
		}
		if ok, _ := storage.Exists(ctx, b, "ow"); ok {
			t.Fatal("deleted object exists")
		}
	})
}

func TestLocalConformance(t *testing.T) {
	b, err := storage.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	conformance(t, b)
}

func TestLocalRejectsEscapingKeys(t *testing.T) {
	b, _ := storage.NewLocal(t.TempDir())
	if err := storage.Put(context.Background(), b, "../escape", []byte("x")); err == nil {
		t.Fatal("a key escaping the bucket was accepted")
	}
}

func openS3(t *testing.T, srv *s3test.Server, uri string) storage.Bucket {
	t.Helper()
	b, err := storage.Open(s3test.WaitCtx(t), uri, storage.S3Config{Endpoint: srv.Endpoint, PathStyle: true, PartSizeMiB: 5})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestS3Conformance(t *testing.T) {
	srv := s3test.Start(t)
	srv.CreateBucket(t, "conf")
	conformance(t, openS3(t, srv, "s3://conf/some/prefix"))
}

func TestS3MultipartAndLargeListing(t *testing.T) {
	srv := s3test.Start(t)
	srv.CreateBucket(t, "big")
	b := openS3(t, srv, "s3://big")
	ctx := s3test.WaitCtx(t)

	// 12 MiB with 5 MiB parts: three parts.
	data := make([]byte, 12<<20)
	for i := range data {
		data[i] = byte(i * 7 % 251)
	}
	w, err := b.NewWriter(ctx, "mp/object.bin")
	if err != nil {
		t.Fatal(err)
	}
	for off := 0; off < len(data); off += 1 << 20 {
		if _, err := w.Write(data[off : off+1<<20]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	got, err := storage.Get(ctx, b, "mp/object.bin")
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("multipart round trip: %d bytes, %v", len(got), err)
	}

	// 2,500 objects: more than two pages of ListObjectsV2.
	const n = 2500
	for i := 0; i < n; i++ {
		if err := storage.Put(ctx, b, fmt.Sprintf("many/dt=2026-11-%02d/part-%05d.parquet", i%28+1, i), []byte{byte(i)}); err != nil {
			t.Fatal(err)
		}
	}
	objs, err := storage.List(ctx, b, "many/", nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) != n {
		t.Fatalf("listed %d objects, want %d", len(objs), n)
	}
	for i := 1; i < len(objs); i++ {
		if objs[i-1].Key >= objs[i].Key {
			t.Fatalf("listing not sorted at %d: %s >= %s", i, objs[i-1].Key, objs[i].Key)
		}
	}
}

func TestS3BadLocations(t *testing.T) {
	srv := s3test.Start(t)
	srv.CreateBucket(t, "okay")
	ctx := s3test.WaitCtx(t)
	cases := []struct {
		name, uri string
		cfg       storage.S3Config
		want      string
	}{
		{"missing bucket", "s3://nope/x", storage.S3Config{Endpoint: srv.Endpoint, PathStyle: true}, "s3://nope/x"},
		{"unreachable endpoint", "s3://okay", storage.S3Config{Endpoint: "http://127.0.0.1:1", PathStyle: true, MaxAttempts: 1}, "endpoint unreachable"},
		{"bad endpoint", "s3://okay", storage.S3Config{Endpoint: "ftp://x"}, "s3.endpoint"},
		{"bad scheme", "gs://okay", storage.S3Config{}, "unsupported scheme"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := storage.Open(ctx, tc.uri, tc.cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Open = %v; want an error containing %q", err, tc.want)
			}
		})
	}
	t.Run("wrong credentials", func(t *testing.T) {
		t.Setenv("AWS_SECRET_ACCESS_KEY", "wrong-secret-value-123")
		_, err := storage.Open(ctx, "s3://okay", storage.S3Config{Endpoint: srv.Endpoint, PathStyle: true})
		if err == nil || !strings.Contains(err.Error(), "credentials rejected") {
			t.Fatalf("Open = %v; want credentials rejected", err)
		}
		if strings.Contains(err.Error(), "wrong-secret-value-123") {
			t.Fatal("the secret leaked into the error")
		}
	})
}
