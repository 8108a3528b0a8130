package storage_test

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/atlas-ai/atlas-learn/columnar/storage"
	"github.com/atlas-ai/atlas-learn/columnar/storage/storagetest"
	"github.com/atlas-ai/atlas-learn/internal/s3test"
)

func TestLocalConformance(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) storage.Bucket {
		b, err := storage.NewLocal(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		return b
	})
}

func TestLocalRejectsEscapingKeys(t *testing.T) {
	b, _ := storage.NewLocal(t.TempDir())
	if err := storage.Put(context.Background(), b, "../escape", []byte("x")); err == nil {
		t.Fatal("a key escaping the bucket was accepted")
	}
}

func openS3(t testing.TB, srv *s3test.Server, uri string, cfg storage.S3Config) storage.Bucket {
	t.Helper()
	cfg.Endpoint, cfg.PathStyle = srv.Endpoint, true
	if cfg.PartSizeMiB == 0 {
		cfg.PartSizeMiB = 5
	}
	b, err := storage.Open(s3test.WaitCtx(t), uri, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestS3Conformance runs the suite on versitygw, each subtest in a fresh
// bucket and under a prefix, so that the driver's prefix narrowing is
// part of what is checked. With 5 MiB parts the large write is a
// three-part upload with parts in flight.
func TestS3Conformance(t *testing.T) {
	srv := s3test.Start(t)
	var n atomic.Int64
	storagetest.Run(t, func(t *testing.T) storage.Bucket {
		bucket := fmt.Sprintf("conf-%d", n.Add(1))
		srv.CreateBucket(t, bucket)
		return openS3(t, srv, "s3://"+bucket+"/some/prefix", storage.S3Config{})
	})
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
