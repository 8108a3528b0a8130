// Package storagetest is the conformance suite of storage.Bucket drivers,
// after gocloud.dev's drivertest: every driver (local directories, S3,
// membucket, faultbucket with no faults) runs it from its tests, and so
// can any new one:
//
//	func TestConformance(t *testing.T) {
//		storagetest.Run(t, func(t *testing.T) storage.Bucket {
//			return newEmptyBucket(t)
//		})
//	}
//
// It checks the contract the rest of ATLAS relies on: an object appears
// whole, and only when its writer's Close returns nil; Abort leaves
// nothing; listings are recursive, sorted by key in byte order and match
// prefixes as strings (not path segments); GetRange honours offsets and
// lengths, -1 meaning to the end; missing objects are storage.ErrNotFound
// errors naming the key, and deleting one is not an error; OpenReaderAt
// gives random access; large (multipart-sized) writes round-trip; listings
// of thousands of objects are complete.
package storagetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/atlas-ai/atlas-learn/columnar/storage"
)

// Options tune the suite to a driver.
type Options struct {
	// LargeObjectSize is the size of the large-write test: with S3's
	// smallest part size (5 MiB) the default, 12 MiB, is a three-part
	// upload. A negative size skips the test.
	LargeObjectSize int
	// ManyObjects is the number of objects of the big-listing test; the
	// default, 2,500, is more than two pages of an S3 listing. A negative
	// number skips the test.
	ManyObjects int
	// Timeout bounds each subtest (default 2 minutes).
	Timeout time.Duration
}

func (o Options) withDefaults() Options {
	if o.LargeObjectSize == 0 {
		o.LargeObjectSize = 12 << 20
	}
	if o.ManyObjects == 0 {
		o.ManyObjects = 2500
	}
	if o.Timeout == 0 {
		o.Timeout = 2 * time.Minute
	}
	return o
}

// Run runs the suite with the default Options. open is called once per
// subtest, with the subtest's t, and must return an empty bucket (a fresh
// one, or one narrowed to a fresh prefix); the suite closes it when the
// subtest ends.
func Run(t *testing.T, open func(t *testing.T) storage.Bucket) {
	RunWithOptions(t, open, Options{})
}

// RunWithOptions runs the suite with opts.
func RunWithOptions(t *testing.T, open func(t *testing.T) storage.Bucket, opts Options) {
	opts = opts.withDefaults()
	for _, tc := range []struct {
		name string
		fn   func(context.Context, *testing.T, storage.Bucket, Options)
	}{
		{"PutGetStat", testPutGetStat},
		{"EmptyObject", testEmptyObject},
		{"VisibleOnlyAfterClose", testVisibleOnlyAfterClose},
		{"AbortLeavesNothing", testAbortLeavesNothing},
		{"WriterStates", testWriterStates},
		{"Overwrite", testOverwrite},
		{"GetRange", testGetRange},
		{"OpenReaderAt", testOpenReaderAt},
		{"NotFound", testNotFound},
		{"Delete", testDelete},
		{"IterOrder", testIterOrder},
		{"IterPrefix", testIterPrefix},
		{"IterStops", testIterStops},
		{"ConcurrentWriters", testConcurrentWriters},
		{"LargeWrite", testLargeWrite},
		{"ManyObjects", testManyObjects},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), opts.Timeout)
			defer cancel()
			b := open(t)
			if b == nil {
				t.Fatal("open returned a nil bucket")
			}
			t.Cleanup(func() {
				if err := b.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
			tc.fn(ctx, t, b, opts)
		})
	}
}

func put(ctx context.Context, t *testing.T, b storage.Bucket, key string, data []byte) {
	t.Helper()
	if err := storage.Put(ctx, b, key, data); err != nil {
		t.Fatalf("Put(%q): %v", key, err)
	}
}

func get(ctx context.Context, t *testing.T, b storage.Bucket, key string) []byte {
	t.Helper()
	data, err := storage.Get(ctx, b, key)
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	return data
}

func keys(ctx context.Context, t *testing.T, b storage.BucketReader, prefix string) []string {
	t.Helper()
	objs, err := storage.List(ctx, b, prefix, nil)
	if err != nil {
		t.Fatalf("List(%q): %v", prefix, err)
	}
	out := []string{}
	for _, o := range objs {
		out = append(out, o.Key)
	}
	return out
}

func wantMissing(ctx context.Context, t *testing.T, b storage.Bucket, key string) {
	t.Helper()
	if _, err := b.Stat(ctx, key); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("Stat(%q) = %v; want ErrNotFound", key, err)
	}
}

// pattern is n bytes that differ from part to part, so that misplaced
// ranges or parts show.
func pattern(n int) []byte {
	data := make([]byte, n)
	for i := range data {
		data[i] = byte(i*7%251) ^ byte(i>>20)
	}
	return data
}

func testPutGetStat(ctx context.Context, t *testing.T, b storage.Bucket, _ Options) {
	data := []byte("hello, object")
	put(ctx, t, b, "a/b/c.txt", data)
	if got := get(ctx, t, b, "a/b/c.txt"); !bytes.Equal(got, data) {
		t.Fatalf("Get = %q; want %q", got, data)
	}
	info, err := b.Stat(ctx, "a/b/c.txt")
	if err != nil || info.Key != "a/b/c.txt" || info.Size != int64(len(data)) {
		t.Fatalf("Stat = %+v, %v; want key a/b/c.txt, size %d", info, err, len(data))
	}
	objs, err := storage.List(ctx, b, "", nil)
	if err != nil || len(objs) != 1 || objs[0].Key != "a/b/c.txt" || objs[0].Size != int64(len(data)) {
		t.Fatalf("List = %+v, %v", objs, err)
	}
	if b.Name() == "" {
		t.Error("Name is empty")
	}
}

func testEmptyObject(ctx context.Context, t *testing.T, b storage.Bucket, _ Options) {
	put(ctx, t, b, "empty", nil)
	if got := get(ctx, t, b, "empty"); len(got) != 0 {
		t.Fatalf("Get(empty) = %q", got)
	}
	if info, err := b.Stat(ctx, "empty"); err != nil || info.Size != 0 {
		t.Fatalf("Stat(empty) = %+v, %v", info, err)
	}
	objs, err := storage.List(ctx, b, "", nil)
	if err != nil || len(objs) != 1 || objs[0].Size != 0 {
		t.Fatalf("List = %+v, %v", objs, err)
	}
}

func testVisibleOnlyAfterClose(ctx context.Context, t *testing.T, b storage.Bucket, _ Options) {
	w, err := b.NewWriter(ctx, "pending/obj")
	if err != nil {
		t.Fatal(err)
	}
	defer w.Abort()
	if _, err := w.Write([]byte("first half, ")); err != nil {
		t.Fatal(err)
	}
	wantMissing(ctx, t, b, "pending/obj")
	if _, err := w.Write([]byte("second half")); err != nil {
		t.Fatal(err)
	}
	wantMissing(ctx, t, b, "pending/obj")
	if got := keys(ctx, t, b, ""); len(got) != 0 {
		t.Fatalf("an unclosed write is listed: %v", got)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if got := get(ctx, t, b, "pending/obj"); string(got) != "first half, second half" {
		t.Fatalf("after Close: %q", got)
	}
	if got := keys(ctx, t, b, ""); !slices.Equal(got, []string{"pending/obj"}) {
		t.Fatalf("after Close, List = %v", got)
	}
}

func testAbortLeavesNothing(ctx context.Context, t *testing.T, b storage.Bucket, _ Options) {
	tests := []struct {
		name string
		size int
	}{{"nothing written", 0}, {"small", 1000}, {"one MiB", 1 << 20}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			key := "aborted/" + strings.ReplaceAll(tc.name, " ", "-")
			w, err := b.NewWriter(ctx, key)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := w.Write(pattern(tc.size)); err != nil {
				t.Fatal(err)
			}
			if err := w.Abort(); err != nil {
				t.Fatalf("Abort: %v", err)
			}
			wantMissing(ctx, t, b, key)
			if got := keys(ctx, t, b, "aborted/"); len(got) != 0 {
				t.Fatalf("an aborted write left %v", got)
			}
		})
	}
	t.Run("keeps the previous object", func(t *testing.T) {
		put(ctx, t, b, "kept", []byte("old"))
		w, err := b.NewWriter(ctx, "kept")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte("new")); err != nil {
			t.Fatal(err)
		}
		if err := w.Abort(); err != nil {
			t.Fatal(err)
		}
		if got := get(ctx, t, b, "kept"); string(got) != "old" {
			t.Fatalf("after an aborted overwrite: %q", got)
		}
	})
}

func testWriterStates(ctx context.Context, t *testing.T, b storage.Bucket, _ Options) {
	t.Run("write after close", func(t *testing.T) {
		w, err := b.NewWriter(ctx, "closed")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte("x")); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte("y")); err == nil {
			t.Fatal("Write after Close succeeded")
		}
		if got := get(ctx, t, b, "closed"); string(got) != "x" {
			t.Fatalf("object = %q", got)
		}
	})
	t.Run("abort after close does nothing", func(t *testing.T) {
		// So that `defer w.Abort()` is safe.
		w, err := b.NewWriter(ctx, "kept-after-abort")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte("x")); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if err := w.Abort(); err != nil {
			t.Fatalf("Abort after Close: %v", err)
		}
		if got := get(ctx, t, b, "kept-after-abort"); string(got) != "x" {
			t.Fatalf("object = %q", got)
		}
	})
	t.Run("close and write after abort fail", func(t *testing.T) {
		w, err := b.NewWriter(ctx, "never")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte("x")); err != nil {
			t.Fatal(err)
		}
		if err := w.Abort(); err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte("y")); err == nil {
			t.Error("Write after Abort succeeded")
		}
		if err := w.Close(); err == nil {
			t.Error("Close after Abort succeeded")
		}
		wantMissing(ctx, t, b, "never")
	})
}

func testOverwrite(ctx context.Context, t *testing.T, b storage.Bucket, _ Options) {
	put(ctx, t, b, "ow", []byte("a longer first version"))
	w, err := b.NewWriter(ctx, "ow")
	if err != nil {
		t.Fatal(err)
	}
	defer w.Abort()
	if _, err := w.Write([]byte("v2")); err != nil {
		t.Fatal(err)
	}
	if got := get(ctx, t, b, "ow"); string(got) != "a longer first version" {
		t.Fatalf("before the overwrite's Close: %q", got)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if got := get(ctx, t, b, "ow"); string(got) != "v2" {
		t.Fatalf("after the overwrite: %q", got)
	}
	if info, err := b.Stat(ctx, "ow"); err != nil || info.Size != 2 {
		t.Fatalf("Stat = %+v, %v", info, err)
	}
}

func testGetRange(ctx context.Context, t *testing.T, b storage.Bucket, _ Options) {
	const data = "hello, object" // 13 bytes
	put(ctx, t, b, "r/obj", []byte(data))
	tests := []struct {
		off, n int64
		want   string
	}{
		{0, -1, data},
		{0, 5, "hello"},
		{7, -1, "object"},
		{7, 3, "obj"},
		{12, 1, "t"},
		{12, -1, "t"},
		{0, 0, ""},
		{5, 0, ""},
		{0, 13, data},
		{7, 100, "object"}, // a length past the end reads to the end
	}
	for _, tc := range tests {
		r, err := b.GetRange(ctx, "r/obj", tc.off, tc.n)
		if err != nil {
			t.Errorf("GetRange(%d, %d): %v", tc.off, tc.n, err)
			continue
		}
		got, err := io.ReadAll(r)
		r.Close()
		if err != nil || string(got) != tc.want {
			t.Errorf("GetRange(%d, %d) = %q, %v; want %q", tc.off, tc.n, got, err, tc.want)
		}
	}
	if _, err := b.GetRange(ctx, "r/missing", 0, -1); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("GetRange(missing) = %v; want ErrNotFound", err)
	}
}

func testOpenReaderAt(ctx context.Context, t *testing.T, b storage.Bucket, _ Options) {
	data := pattern(100_000)
	put(ctx, t, b, "ra/obj", data)
	ra, size, err := storage.OpenReaderAt(ctx, b, "ra/obj")
	if err != nil || size != int64(len(data)) {
		t.Fatalf("OpenReaderAt = %d, %v; want size %d", size, err, len(data))
	}
	defer ra.Close()
	tests := []struct {
		off     int64
		n       int
		want    int
		wantEOF bool // io.EOF required; otherwise nil or io.EOF
	}{
		{0, 10, 10, false},
		{50_000, 4096, 4096, false},
		{99_990, 10, 10, false},
		{99_990, 20, 10, true}, // straddles the end
		{100_000, 1, 0, true},  // at the end
	}
	for _, tc := range tests {
		p := make([]byte, tc.n)
		n, err := ra.ReadAt(p, tc.off)
		if n != tc.want || !bytes.Equal(p[:n], data[tc.off:tc.off+int64(n)]) {
			t.Errorf("ReadAt(%d bytes at %d) = %d bytes, %v; want %d bytes of the object", tc.n, tc.off, n, err, tc.want)
		}
		if tc.wantEOF && err != io.EOF {
			t.Errorf("ReadAt(%d bytes at %d): err = %v; want io.EOF", tc.n, tc.off, err)
		}
		if !tc.wantEOF && err != nil && err != io.EOF {
			t.Errorf("ReadAt(%d bytes at %d): %v", tc.n, tc.off, err)
		}
	}
	if _, _, err := storage.OpenReaderAt(ctx, b, "ra/missing"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("OpenReaderAt(missing) = %v; want ErrNotFound", err)
	}
}

func testNotFound(ctx context.Context, t *testing.T, b storage.Bucket, _ Options) {
	put(ctx, t, b, "dir/obj", []byte("x"))
	for _, key := range []string{"missing/x", "dir", "dir/obj/below"} {
		_, err := b.Stat(ctx, key)
		if !errors.Is(err, storage.ErrNotFound) || !strings.Contains(err.Error(), key) {
			t.Errorf("Stat(%q) = %v; want ErrNotFound naming the key", key, err)
		}
	}
	if _, err := storage.Get(ctx, b, "missing/x"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("Get(missing) = %v; want ErrNotFound", err)
	}
	if ok, err := storage.Exists(ctx, b, "missing/x"); ok || err != nil {
		t.Errorf("Exists(missing) = %v, %v", ok, err)
	}
	if ok, err := storage.Exists(ctx, b, "dir/obj"); !ok || err != nil {
		t.Errorf("Exists(dir/obj) = %v, %v", ok, err)
	}
	if got := keys(ctx, t, b, "missing/"); len(got) != 0 {
		t.Errorf("List(missing/) = %v", got)
	}
}

func testDelete(ctx context.Context, t *testing.T, b storage.Bucket, _ Options) {
	put(ctx, t, b, "d/x/one", []byte("1"))
	put(ctx, t, b, "d/x/two", []byte("2"))
	if err := b.Delete(ctx, "d/x/one"); err != nil {
		t.Fatal(err)
	}
	wantMissing(ctx, t, b, "d/x/one")
	if got := keys(ctx, t, b, "d/"); !slices.Equal(got, []string{"d/x/two"}) {
		t.Fatalf("after Delete, List = %v", got)
	}
	for _, key := range []string{"d/x/one", "never/was", "d/x/two/below"} {
		if err := b.Delete(ctx, key); err != nil {
			t.Errorf("Delete(%q) of a missing key = %v; want nil", key, err)
		}
	}
	if got := get(ctx, t, b, "d/x/two"); string(got) != "2" {
		t.Fatalf("sibling = %q", got)
	}
	if err := b.Delete(ctx, "d/x/two"); err != nil {
		t.Fatal(err)
	}
	if got := keys(ctx, t, b, ""); len(got) != 0 {
		t.Fatalf("after deleting everything, List = %v", got)
	}
	put(ctx, t, b, "d/x/one", []byte("again"))
	if got := get(ctx, t, b, "d/x/one"); string(got) != "again" {
		t.Fatalf("re-created object = %q", got)
	}
}

// iterKeys are keys whose byte order differs from a path-wise walk: '-'
// and '.' sort before '/', '0' after it. No key is another's "directory"
// (a/b and a/b/c): stores over file systems cannot hold both.
var iterKeys = []string{
	"a/b", "a-b", "a.b", "a0", "a/c/d", "a/bb", "a/a", "b", "l/dt=2026-11-02/part-00001.parquet",
	"l/dt=2026-11-01/part-00000.parquet", "l/dt=2026-11-02/part-00000.parquet", "l/z.json", "lx/other",
	"l/dt=2026-11-10/part-00000.parquet", "with space/x", "Z-upper",
}

func testIterOrder(ctx context.Context, t *testing.T, b storage.Bucket, _ Options) {
	for i, k := range iterKeys {
		put(ctx, t, b, k, bytes.Repeat([]byte{'x'}, i))
	}
	want := slices.Clone(iterKeys)
	slices.Sort(want)
	var got []string
	err := b.Iter(ctx, "", func(o storage.ObjectInfo) error {
		got = append(got, o.Key)
		if i := slices.Index(iterKeys, o.Key); i >= 0 && o.Size != int64(i) {
			t.Errorf("Iter: %s has size %d, want %d", o.Key, o.Size, i)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("Iter order:\n got %q\nwant %q", got, want)
	}
}

func testIterPrefix(ctx context.Context, t *testing.T, b storage.Bucket, _ Options) {
	for _, k := range iterKeys {
		put(ctx, t, b, k, []byte(k))
	}
	tests := []struct {
		prefix string
		want   []string
	}{
		{"l/", []string{"l/dt=2026-11-01/part-00000.parquet", "l/dt=2026-11-02/part-00000.parquet", "l/dt=2026-11-02/part-00001.parquet", "l/dt=2026-11-10/part-00000.parquet", "l/z.json"}},
		{"l", []string{"l/dt=2026-11-01/part-00000.parquet", "l/dt=2026-11-02/part-00000.parquet", "l/dt=2026-11-02/part-00001.parquet", "l/dt=2026-11-10/part-00000.parquet", "l/z.json", "lx/other"}},
		{"l/dt=2026-11-0", []string{"l/dt=2026-11-01/part-00000.parquet", "l/dt=2026-11-02/part-00000.parquet", "l/dt=2026-11-02/part-00001.parquet"}},
		{"l/dt=2026-11-02/", []string{"l/dt=2026-11-02/part-00000.parquet", "l/dt=2026-11-02/part-00001.parquet"}},
		{"l/dt=2026-11-02/part-00001", []string{"l/dt=2026-11-02/part-00001.parquet"}},
		{"l/z.json", []string{"l/z.json"}},
		{"a/", []string{"a/a", "a/b", "a/bb", "a/c/d"}},
		{"a", []string{"a-b", "a.b", "a/a", "a/b", "a/bb", "a/c/d", "a0"}},
		{"a/b", []string{"a/b", "a/bb"}},
		{"a/c", []string{"a/c/d"}},
		{"with space/", []string{"with space/x"}},
		{"nothing/", nil},
		{"l/dt=2026-12", nil},
		{"z", nil},
	}
	for _, tc := range tests {
		got := keys(ctx, t, b, tc.prefix)
		if !slices.Equal(got, tc.want) && !(len(got) == 0 && len(tc.want) == 0) {
			t.Errorf("List(%q):\n got %q\nwant %q", tc.prefix, got, tc.want)
		}
	}
	if got := keys(ctx, t, b, ""); len(got) != len(iterKeys) {
		t.Errorf("List(\"\") has %d keys, want %d", len(got), len(iterKeys))
	}
}

func testIterStops(ctx context.Context, t *testing.T, b storage.Bucket, _ Options) {
	for i := range 5 {
		put(ctx, t, b, fmt.Sprintf("s/%d", i), []byte{byte(i)})
	}
	stop := errors.New("stop here")
	var seen []string
	err := b.Iter(ctx, "s/", func(o storage.ObjectInfo) error {
		seen = append(seen, o.Key)
		if len(seen) == 2 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) {
		t.Fatalf("Iter = %v; want fn's error", err)
	}
	if !slices.Equal(seen, []string{"s/0", "s/1"}) {
		t.Fatalf("Iter went on after fn's error: %v", seen)
	}
}

func testConcurrentWriters(ctx context.Context, t *testing.T, b storage.Bucket, _ Options) {
	const writers, each = 8, 4
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	for g := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				key := fmt.Sprintf("c/%d/%d", g, i)
				if err := storage.Put(ctx, b, key, []byte(key)); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	got := keys(ctx, t, b, "c/")
	if len(got) != writers*each {
		t.Fatalf("listed %d objects, want %d", len(got), writers*each)
	}
	for _, k := range got {
		if data := get(ctx, t, b, k); string(data) != k {
			t.Errorf("%s = %q", k, data)
		}
	}
}

func testLargeWrite(ctx context.Context, t *testing.T, b storage.Bucket, opts Options) {
	if opts.LargeObjectSize < 0 {
		t.Skip("the driver opted out of large writes (Options.LargeObjectSize < 0)")
	}
	data := pattern(opts.LargeObjectSize)
	w, err := b.NewWriter(ctx, "large/object.bin")
	if err != nil {
		t.Fatal(err)
	}
	defer w.Abort()
	// Writes of an odd size, so that they straddle part boundaries.
	const chunk = 1<<20 + 4099
	for off := 0; off < len(data); off += chunk {
		if _, err := w.Write(data[off:min(off+chunk, len(data))]); err != nil {
			t.Fatal(err)
		}
	}
	wantMissing(ctx, t, b, "large/object.bin")
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if info, err := b.Stat(ctx, "large/object.bin"); err != nil || info.Size != int64(len(data)) {
		t.Fatalf("Stat = %+v, %v; want size %d", info, err, len(data))
	}
	if got := get(ctx, t, b, "large/object.bin"); !bytes.Equal(got, data) {
		t.Fatalf("round trip: got %d bytes, not the %d written", len(got), len(data))
	}
	// Ranges across 5 MiB and 8 MiB boundaries, and the last bytes.
	for _, off := range []int{5<<20 - 100, 8<<20 - 1, len(data) - 10} {
		if off < 0 || off+10 > len(data) {
			continue
		}
		r, err := b.GetRange(ctx, "large/object.bin", int64(off), 200)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(r)
		r.Close()
		if want := data[off:min(off+200, len(data))]; err != nil || !bytes.Equal(got, want) {
			t.Errorf("GetRange(%d, 200): %d bytes, %v; not the object's", off, len(got), err)
		}
	}
}

func testManyObjects(ctx context.Context, t *testing.T, b storage.Bucket, opts Options) {
	if opts.ManyObjects < 0 {
		t.Skip("the driver opted out of big listings (Options.ManyObjects < 0)")
	}
	n := opts.ManyObjects
	// Writers in parallel, for remote stores' round trips.
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := g; i < n; i += 8 {
				key := fmt.Sprintf("many/dt=2026-11-%02d/part-%05d.parquet", i%28+1, i)
				if err := storage.Put(ctx, b, key, []byte{byte(i)}); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	put(ctx, t, b, "manyother", []byte("not under many/"))
	got := keys(ctx, t, b, "many/")
	if len(got) != n {
		t.Fatalf("listed %d objects, want %d", len(got), n)
	}
	if !slices.IsSorted(got) || len(slices.Compact(slices.Clone(got))) != n {
		t.Fatal("listing not sorted, or with duplicates")
	}
	day, err := storage.List(ctx, b, "many/dt=2026-11-03/", nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := (n + 25) / 28; len(day) != want && n >= 28 {
		t.Errorf("one day has %d objects, want %d", len(day), want)
	}
	kept, err := storage.List(ctx, b, "many/", func(key string) bool { return strings.HasSuffix(key, "0.parquet") })
	if err != nil {
		t.Fatal(err)
	}
	if want := (n + 9) / 10; len(kept) != want {
		t.Errorf("filtered listing has %d objects, want %d", len(kept), want)
	}
}
