package columnar_test

import (
	"context"
	"io"
	"sync/atomic"
	"testing"

	"github.com/atlas-ai/atlas-learn/columnar"
	"github.com/atlas-ai/atlas-learn/columnar/storage"
	"github.com/atlas-ai/atlas-learn/internal/s3test"
)

// countingBucket counts the range requests and bytes read through it.
type countingBucket struct {
	storage.BucketReader
	requests, bytes atomic.Int64
}

func (c *countingBucket) GetRange(ctx context.Context, key string, off, n int64) (io.ReadCloser, error) {
	c.requests.Add(1)
	r, err := c.BucketReader.GetRange(ctx, key, off, n)
	if err != nil {
		return nil, err
	}
	return countingReadCloser{r, &c.bytes}, nil
}

type countingReadCloser struct {
	io.ReadCloser
	n *atomic.Int64
}

func (c countingReadCloser) Read(p []byte) (int, error) {
	n, err := c.ReadCloser.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// TestS3ProjectedRangeReads reads a Parquet object from a real S3 server:
// the footer and the projected columns come by range requests, and an
// outcome-only read fetches a small part of the object.
func TestS3ProjectedRangeReads(t *testing.T) {
	srv := s3test.Start(t)
	srv.CreateBucket(t, "cols")
	ctx := s3test.WaitCtx(t)
	b, err := storage.Open(ctx, "s3://cols", storage.S3Config{Endpoint: srv.Endpoint, PathStyle: true})
	if err != nil {
		t.Fatal(err)
	}
	var rows []columnar.Trajectory
	for i := 0; i < 3000; i++ {
		rows = append(rows, sample(i))
	}
	data := writeParquet(t, rows, columnar.WriterOptions{RowGroupRows: 1000})
	if err := storage.Put(ctx, b, "dt=2026-11-20/part-00000.parquet", data); err != nil {
		t.Fatal(err)
	}
	cb := &countingBucket{BucketReader: b}
	src, err := columnar.OpenSource(ctx, cb, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(src.Files) != 1 || src.Files[0].Partition != "dt=2026-11-20" {
		t.Fatalf("files = %+v", src.Files)
	}
	read := func(full bool) (requests, bytes, n int64) {
		cb.requests.Store(0)
		cb.bytes.Store(0)
		var st columnar.ScanStats
		var err error
		if full {
			st, err = columnar.ScanFile(ctx, cb, src.Files[0], columnar.ReadOptions{ReadBufferSize: 64 << 10}, columnar.OnErrorFail, nil, func(*columnar.Trajectory, columnar.Position) error { return nil })
		} else {
			st, err = columnar.ScanFile(ctx, cb, src.Files[0], columnar.ReadOptions{ReadBufferSize: 64 << 10}, columnar.OnErrorFail, nil, func(*outcomeOnly, columnar.Position) error { return nil })
		}
		if err != nil {
			t.Fatal(err)
		}
		return cb.requests.Load(), cb.bytes.Load(), st.Rows
	}
	fr, fb, fn := read(true)
	pr, pb, pn := read(false)
	t.Logf("full read: %d requests, %d bytes; outcome-only: %d requests, %d bytes; object %d bytes", fr, fb, pr, pb, len(data))
	if fn != 3000 || pn != 3000 {
		t.Fatalf("rows %d %d", fn, pn)
	}
	if fr < 2 || pr < 2 {
		t.Fatal("expected range requests (footer, then columns)")
	}
	if pb*3 > int64(len(data)) {
		t.Fatalf("outcome-only read fetched %d of %d bytes", pb, len(data))
	}
}
