package storage

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/atlas-ai/atlas-learn/internal/s3test"
)

// BenchmarkS3Upload writes one 256 MiB object to versitygw on 127.0.0.1
// in 16 MiB parts, sent one after another (UploadConcurrency 1) and four
// at a time (4):
//
//	go test -run '^$' -bench BenchmarkS3Upload -benchtime 3x ./columnar/storage/
//
// On the loopback the client's payload hashing and the server's disk work
// bound both; the latency-20ms pair adds 20ms before every part request,
// as a distant endpoint's round trips would, which parts in flight hide.
func BenchmarkS3Upload(b *testing.B) {
	srv := s3test.Start(b)
	data := testData(256 << 20)
	for _, bc := range []struct {
		name        string
		concurrency int
		latency     time.Duration
	}{
		{"sequential", 1, 0},
		{"inflight-4", 4, 0},
		{"latency-20ms/sequential", 1, 20 * time.Millisecond},
		{"latency-20ms/inflight-4", 4, 20 * time.Millisecond},
	} {
		b.Run(bc.name, func(b *testing.B) {
			bucket := fmt.Sprintf("bench-%d-%d", bc.concurrency, bc.latency.Milliseconds())
			bkt, _ := hookedS3(b, srv, bucket, S3Config{UploadConcurrency: bc.concurrency, PartSizeMiB: 16}, func(r *http.Request) error {
				if bc.latency > 0 && partNumber(r) != "" {
					return sleepCtx(r, bc.latency)
				}
				return nil
			})
			ctx := context.Background()
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				w, err := bkt.NewWriter(ctx, "obj.bin")
				if err != nil {
					b.Fatal(err)
				}
				for off := 0; off < len(data); off += 1 << 20 {
					if _, err := w.Write(data[off : off+1<<20]); err != nil {
						b.Fatal(err)
					}
				}
				if err := w.Close(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
