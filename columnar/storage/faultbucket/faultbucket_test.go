package faultbucket_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/atlas-ai/atlas-learn/columnar/storage"
	"github.com/atlas-ai/atlas-learn/columnar/storage/faultbucket"
	"github.com/atlas-ai/atlas-learn/columnar/storage/membucket"
	"github.com/atlas-ai/atlas-learn/columnar/storage/storagetest"
)

func TestConformanceWithoutFaults(t *testing.T) {
	t.Run("membucket", func(t *testing.T) {
		storagetest.Run(t, func(t *testing.T) storage.Bucket {
			return faultbucket.New(membucket.New(""))
		})
	})
	t.Run("local", func(t *testing.T) {
		storagetest.RunWithOptions(t, func(t *testing.T) storage.Bucket {
			b, err := storage.NewLocal(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			return faultbucket.New(b)
		}, storagetest.Options{ManyObjects: 300})
	})
}

// seeded is a fault bucket over a membucket holding obj = "0123456789".
func seeded(t *testing.T) (*faultbucket.Bucket, *membucket.Bucket) {
	t.Helper()
	inner := membucket.New("mem://test")
	if err := storage.Put(context.Background(), inner, "obj", []byte("0123456789")); err != nil {
		t.Fatal(err)
	}
	return faultbucket.New(inner), inner
}

var errBoom = errors.New("boom")

// TestFaults configures one fault per case, runs the same calls, and
// checks which of them failed.
func TestFaults(t *testing.T) {
	ctx := context.Background()
	type calls map[string]error // call name -> error it returned
	run := func(b *faultbucket.Bucket) calls {
		got := calls{}
		_, got["stat1"] = b.Stat(ctx, "obj")
		_, got["stat2"] = b.Stat(ctx, "obj")
		_, got["stat3"] = b.Stat(ctx, "obj")
		_, got["get"] = storage.Get(ctx, b, "obj")
		_, got["getOther"] = storage.Get(ctx, b, "other")
		got["list"] = b.Iter(ctx, "", func(storage.ObjectInfo) error { return nil })
		got["put"] = storage.Put(ctx, b, "new", []byte("data"))
		got["delete"] = b.Delete(ctx, "gone")
		return got
	}
	tests := []struct {
		name  string
		setup func(*faultbucket.Bucket)
		fail  []string // the calls that must fail with the injected error
	}{
		{"none", func(*faultbucket.Bucket) {}, nil},
		{"second stat", func(b *faultbucket.Bucket) { b.FailNth(faultbucket.OpStat, 2, errBoom) }, []string{"stat2"}},
		{"every stat", func(b *faultbucket.Bucket) {
			b.FailWhen(faultbucket.OpStat, func(faultbucket.Call) bool { return true }, errBoom)
		}, []string{"stat1", "stat2", "stat3"}},
		{"stats after the first", func(b *faultbucket.Bucket) {
			b.FailWhen(faultbucket.OpStat, func(c faultbucket.Call) bool { return c.N > 1 }, errBoom)
		}, []string{"stat2", "stat3"}},
		{"ranges of one key", func(b *faultbucket.Bucket) {
			b.FailWhen(faultbucket.OpGetRange, func(c faultbucket.Call) bool { return c.Key == "obj" }, errBoom)
		}, []string{"get"}},
		{"first read of a body", func(b *faultbucket.Bucket) { b.FailNth(faultbucket.OpRead, 1, errBoom) }, []string{"get"}},
		{"listing", func(b *faultbucket.Bucket) { b.FailNth(faultbucket.OpIter, 1, errBoom) }, []string{"list"}},
		{"new writer", func(b *faultbucket.Bucket) { b.FailNth(faultbucket.OpNewWriter, 1, errBoom) }, []string{"put"}},
		{"write", func(b *faultbucket.Bucket) { b.FailNth(faultbucket.OpWrite, 1, errBoom) }, []string{"put"}},
		{"commit", func(b *faultbucket.Bucket) { b.FailNth(faultbucket.OpCommit, 1, errBoom) }, []string{"put"}},
		{"cut write", func(b *faultbucket.Bucket) { b.CutWritesAfter(2, nil, errBoom) }, []string{"put"}},
		{"cut other keys", func(b *faultbucket.Bucket) {
			b.CutWritesAfter(0, func(key string) bool { return key != "new" }, errBoom)
		}, nil},
		{"delete", func(b *faultbucket.Bucket) { b.FailNth(faultbucket.OpDelete, 1, errBoom) }, []string{"delete"}},
		{"nil error", func(b *faultbucket.Bucket) { b.FailNth(faultbucket.OpStat, 1, nil) }, []string{"stat1"}},
		{"cleared", func(b *faultbucket.Bucket) {
			b.FailNth(faultbucket.OpStat, 1, errBoom)
			b.CutWritesAfter(0, nil, errBoom)
			b.Clear()
		}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, inner := seeded(t)
			tc.setup(b)
			got := run(b)
			want := errBoom
			if tc.name == "nil error" {
				want = faultbucket.ErrInjected
			}
			for name, err := range got {
				switch {
				case name == "getOther":
					if !errors.Is(err, storage.ErrNotFound) {
						t.Errorf("%s = %v; want the inner bucket's ErrNotFound", name, err)
					}
				case slices.Contains(tc.fail, name):
					if !errors.Is(err, want) {
						t.Errorf("%s = %v; want the injected %v", name, err, want)
					}
				case err != nil:
					t.Errorf("%s = %v; want nil", name, err)
				}
			}
			// A failed put leaves nothing; a successful one its object.
			wantKeys := []string{"new", "obj"}
			if slices.Contains(tc.fail, "put") {
				wantKeys = []string{"obj"}
			}
			if got := inner.Keys(); !slices.Equal(got, wantKeys) {
				t.Errorf("inner bucket holds %v, want %v", got, wantKeys)
			}
		})
	}
}

func TestCutWrite(t *testing.T) {
	ctx := context.Background()
	b, inner := seeded(t)
	b.CutWritesAfter(5, func(key string) bool { return strings.HasPrefix(key, "cut/") }, nil)

	w, err := b.NewWriter(ctx, "cut/obj")
	if err != nil {
		t.Fatal(err)
	}
	if n, err := w.Write([]byte("abc")); n != 3 || err != nil {
		t.Fatalf("first Write = %d, %v; want all of it", n, err)
	}
	n, err := w.Write([]byte("defgh"))
	if n != 2 || !errors.Is(err, faultbucket.ErrInjected) || !strings.Contains(err.Error(), "cut after 5 bytes") {
		t.Fatalf("second Write = %d, %v; want 2 bytes and the cut", n, err)
	}
	if _, err := w.Write([]byte("i")); !errors.Is(err, faultbucket.ErrInjected) {
		t.Fatalf("Write after the cut = %v", err)
	}
	if err := w.Close(); !errors.Is(err, faultbucket.ErrInjected) {
		t.Fatalf("Close after the cut = %v; want the cut's error", err)
	}
	if ok, _ := storage.Exists(ctx, inner, "cut/obj"); ok {
		t.Fatal("a cut write is visible")
	}
	// Other keys are not cut.
	if err := storage.Put(ctx, b, "whole", bytes.Repeat([]byte("x"), 100)); err != nil {
		t.Fatal(err)
	}
	if got := inner.Keys(); !slices.Equal(got, []string{"obj", "whole"}) {
		t.Fatalf("inner bucket holds %v", got)
	}
}

func TestReadCutMidway(t *testing.T) {
	ctx := context.Background()
	b, _ := seeded(t)
	// Reads of the body fail once 4 bytes were read.
	b.FailWhen(faultbucket.OpRead, func(c faultbucket.Call) bool { return c.Key == "obj" && c.Off >= 4 }, io.ErrUnexpectedEOF)
	r, err := b.GetRange(ctx, "obj", 0, -1)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	p := make([]byte, 4)
	if _, err := io.ReadFull(r, p); err != nil || string(p) != "0123" {
		t.Fatalf("first read = %q, %v", p, err)
	}
	if _, err := r.Read(p); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("read past 4 bytes = %v; want the injected error", err)
	}
	// Through OpenReaderAt too: it reads with GetRange.
	ra, _, err := storage.OpenReaderAt(ctx, b, "obj")
	if err != nil {
		t.Fatal(err)
	}
	defer ra.Close()
	if _, err := ra.ReadAt(make([]byte, 2), 0); err != nil {
		t.Fatalf("ReadAt(0) = %v", err)
	}
}

func TestFailedAbortKeepsInnerWriter(t *testing.T) {
	ctx := context.Background()
	b, inner := seeded(t)
	b.FailNth(faultbucket.OpAbort, 1, errBoom)
	w, err := b.NewWriter(ctx, "x")
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Abort(); !errors.Is(err, errBoom) {
		t.Fatalf("Abort = %v; want the injected error", err)
	}
	// The abort did not reach the inner writer, which can still commit.
	if err := w.Close(); err != nil {
		t.Fatalf("Close = %v", err)
	}
	if got := inner.Keys(); !slices.Equal(got, []string{"obj", "x"}) {
		t.Fatalf("inner bucket holds %v", got)
	}
}

func TestDelay(t *testing.T) {
	const d = 40 * time.Millisecond
	tests := []struct {
		name string
		op   faultbucket.Op
		call func(context.Context, storage.Bucket) error
	}{
		{"stat", faultbucket.OpStat, func(ctx context.Context, b storage.Bucket) error { _, err := b.Stat(ctx, "obj"); return err }},
		{"get", faultbucket.OpGetRange, func(ctx context.Context, b storage.Bucket) error { _, err := storage.Get(ctx, b, "obj"); return err }},
		{"commit", faultbucket.OpCommit, func(ctx context.Context, b storage.Bucket) error { return storage.Put(ctx, b, "p", []byte("x")) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, _ := seeded(t)
			b.Delay(tc.op, d)
			start := time.Now()
			if err := tc.call(context.Background(), b); err != nil {
				t.Fatal(err)
			}
			if took := time.Since(start); took < d {
				t.Fatalf("took %v; want at least the delay, %v", took, d)
			}
			// A context that ends first cuts the wait short.
			b.Delay(tc.op, time.Hour)
			ctx, cancel := context.WithTimeout(context.Background(), d)
			defer cancel()
			start = time.Now()
			if err := tc.call(ctx, b); !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("with a context ending first: %v", err)
			}
			if took := time.Since(start); took > 10*time.Second {
				t.Fatalf("the wait did not end with the context: %v", took)
			}
		})
	}
}

func TestCalls(t *testing.T) {
	ctx := context.Background()
	b, _ := seeded(t)
	b.FailNth(faultbucket.OpStat, 1, errBoom)
	for range 3 {
		_, _ = b.Stat(ctx, "obj")
	}
	_ = storage.Put(ctx, b, "a", []byte("xy"))
	_, _ = storage.Get(ctx, b, "a")
	_ = b.Delete(ctx, "a")
	_, _ = storage.List(ctx, b, "", nil)
	want := map[faultbucket.Op]int{
		faultbucket.OpStat: 3, faultbucket.OpNewWriter: 1, faultbucket.OpWrite: 1, faultbucket.OpCommit: 1,
		faultbucket.OpAbort: 0, faultbucket.OpGetRange: 1, faultbucket.OpDelete: 1, faultbucket.OpIter: 1,
	}
	for op, n := range want {
		if got := b.Calls(op); got != n {
			t.Errorf("Calls(%s) = %d, want %d", op, got, n)
		}
	}
	if got := b.Calls(faultbucket.OpRead); got < 1 {
		t.Errorf("Calls(Read) = %d, want at least 1", got)
	}
}
