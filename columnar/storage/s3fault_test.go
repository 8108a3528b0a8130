package storage_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/atlas-ai/atlas-learn/columnar/storage"
	"github.com/atlas-ai/atlas-learn/columnar/storage/faultbucket"
	"github.com/atlas-ai/atlas-learn/internal/s3test"
)

// TestS3CutWriteLeavesNothing cuts multipart writes on versitygw part-way,
// at and between part boundaries, with parts in flight: the write fails,
// no object is visible and no multipart upload is left pending.
func TestS3CutWriteLeavesNothing(t *testing.T) {
	srv := s3test.Start(t)
	srv.CreateBucket(t, "cut")
	ctx := s3test.WaitCtx(t)
	s3b := openS3(t, srv, "s3://cut", storage.S3Config{UploadConcurrency: 3})
	tests := []struct {
		name string
		cut  int64
	}{
		{"inside the first part", 3 << 20},
		{"after two parts", 10 << 20},
		{"inside the fourth part", 17<<20 + 5},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := faultbucket.New(s3b)
			b.CutWritesAfter(tc.cut, nil, nil)
			data := bytes.Repeat([]byte("0123456789abcdef"), (24<<20)/16)
			err := storage.Put(ctx, b, "obj.bin", data)
			if !errors.Is(err, faultbucket.ErrInjected) {
				t.Fatalf("Put = %v; want the cut", err)
			}
			if ok, err := storage.Exists(ctx, s3b, "obj.bin"); ok || err != nil {
				t.Fatalf("after the cut: Exists = %v, %v", ok, err)
			}
			if p := srv.PendingUploads(t, "cut"); len(p) != 0 {
				t.Fatalf("pending multipart uploads left: %v", p)
			}
			if n := b.Calls(faultbucket.OpAbort); n != 1 {
				t.Errorf("%d Aborts, want 1", n)
			}
		})
	}
}
