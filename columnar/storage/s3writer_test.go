package storage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/atlas-ai/atlas-learn/internal/s3test"
)

// hookClient wraps the S3 client's HTTP client to watch and break
// requests: hook runs before each request and may fail it.
type hookClient struct {
	inner s3.HTTPClient
	hook  func(r *http.Request) error

	mu          sync.Mutex
	inFlight    int // UploadPart requests
	maxInFlight int
	aborts      int // AbortMultipartUpload requests
}

func partNumber(r *http.Request) string {
	if q := r.URL.Query(); r.Method == http.MethodPut && q.Has("uploadId") {
		return q.Get("partNumber")
	}
	return ""
}

func (c *hookClient) Do(r *http.Request) (*http.Response, error) {
	isPart := partNumber(r) != ""
	c.mu.Lock()
	if isPart {
		c.inFlight++
		c.maxInFlight = max(c.maxInFlight, c.inFlight)
	}
	if r.Method == http.MethodDelete && r.URL.Query().Has("uploadId") {
		c.aborts++
	}
	c.mu.Unlock()
	defer func() {
		if isPart {
			c.mu.Lock()
			c.inFlight--
			c.mu.Unlock()
		}
	}()
	if c.hook != nil {
		if err := c.hook(r); err != nil {
			if r.Body != nil {
				r.Body.Close()
			}
			return nil, err
		}
	}
	return c.inner.Do(r)
}

func (c *hookClient) stats() (maxInFlight, aborts int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.maxInFlight, c.aborts
}

func (c *hookClient) partsInFlight() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.inFlight
}

// sleepCtx holds a request for d, so that parts overlap.
func sleepCtx(r *http.Request, d time.Duration) error {
	select {
	case <-time.After(d):
		return nil
	case <-r.Context().Done():
		return r.Context().Err()
	}
}

// hookedS3 opens s3://bucket on srv (with 5 MiB parts unless cfg says),
// its requests going through a hookClient.
func hookedS3(t testing.TB, srv *s3test.Server, bucket string, cfg S3Config, hook func(*http.Request) error) (*S3, *hookClient) {
	t.Helper()
	srv.CreateBucket(t, bucket)
	cfg.Endpoint, cfg.PathStyle = srv.Endpoint, true
	if cfg.PartSizeMiB == 0 {
		cfg.PartSizeMiB = 5
	}
	b, err := NewS3(s3test.WaitCtx(t), bucket, "", cfg)
	if err != nil {
		t.Fatal(err)
	}
	hc := &hookClient{inner: b.client.Options().HTTPClient, hook: hook}
	b.client = s3.New(b.client.Options(), func(o *s3.Options) { o.HTTPClient = hc })
	return b, hc
}

func testData(n int) []byte {
	data := make([]byte, n)
	for i := range data {
		data[i] = byte(i*31%253) ^ byte(i>>20)
	}
	return data
}

// writeChunks writes data in pieces of an odd size, stopping at the
// first error.
func writeChunks(w Writer, data []byte) error {
	const chunk = 700_001
	for off := 0; off < len(data); off += chunk {
		if _, err := w.Write(data[off:min(off+chunk, len(data))]); err != nil {
			return err
		}
	}
	return nil
}

func TestS3PartsInFlight(t *testing.T) {
	srv := s3test.Start(t)
	// 5 parts: four of 5 MiB and a last one of 3 MiB and a bit.
	data := testData(23<<20 + 12345)
	for _, conc := range []int{1, 2, 4} {
		t.Run(fmt.Sprintf("concurrency=%d", conc), func(t *testing.T) {
			ctx := s3test.WaitCtx(t)
			bucket := fmt.Sprintf("inflight-%d", conc)
			b, hc := hookedS3(t, srv, bucket, S3Config{UploadConcurrency: conc}, func(r *http.Request) error {
				if partNumber(r) != "" {
					return sleepCtx(r, 100*time.Millisecond)
				}
				return nil
			})
			w, err := b.NewWriter(ctx, "obj.bin")
			if err != nil {
				t.Fatal(err)
			}
			if err := writeChunks(w, data); err != nil {
				t.Fatal(err)
			}
			if n := w.(*s3Writer).nbufs; n > conc {
				t.Errorf("the writer holds %d part buffers, more than UploadConcurrency %d", n, conc)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			got, err := Get(ctx, b, "obj.bin")
			if err != nil || !bytes.Equal(got, data) {
				t.Fatalf("round trip: %d bytes (want %d), %v; identical %v", len(got), len(data), err, bytes.Equal(got, data))
			}
			info, err := b.Stat(ctx, "obj.bin")
			if err != nil || !strings.HasSuffix(info.ETag, "-5") {
				t.Errorf("Stat = %+v, %v; want the ETag of a 5-part upload", info, err)
			}
			maxInFlight, _ := hc.stats()
			if maxInFlight > conc || (conc > 1 && maxInFlight < 2) {
				t.Errorf("%d parts were in flight at most; want 2..%d", maxInFlight, conc)
			}
			if p := srv.PendingUploads(t, bucket); len(p) != 0 {
				t.Errorf("pending uploads left: %v", p)
			}
		})
	}
}

// TestS3FailedUploadsLeaveNothing breaks multipart uploads in several
// ways, with parts in flight, and checks that the write fails, no object
// is visible and no multipart upload is left pending.
func TestS3FailedUploadsLeaveNothing(t *testing.T) {
	srv := s3test.Start(t)
	reset := &net.OpError{Op: "write", Net: "tcp", Err: &net.AddrError{Err: "injected"}}
	tests := []struct {
		name string
		// hook breaks requests; cancel ends the write's context.
		hook func(r *http.Request, cancel context.CancelFunc) error
		// abort calls Abort after writing everything instead of Close.
		abort bool
		size  int    // of the object; 28 MiB (6 parts) when 0
		want  string // in the error
		// drain, when set, replaces the writer's wait for parts in
		// flight before an abort.
		drain time.Duration
	}{
		{
			name: "part 3 fails on every attempt",
			hook: func(r *http.Request, _ context.CancelFunc) error {
				if partNumber(r) == "3" {
					return &net.OpError{Op: "write", Net: "tcp", Err: syscall.ECONNRESET}
				}
				return sleepCtx(r, 50*time.Millisecond)
			},
			want: "upload part 3 of",
		},
		{
			name: "context cancelled while part 2 is sent",
			hook: func(r *http.Request, cancel context.CancelFunc) error {
				if partNumber(r) == "2" {
					cancel()
				}
				return sleepCtx(r, 50*time.Millisecond)
			},
			want: "context canceled",
		},
		{
			name: "complete fails",
			hook: func(r *http.Request, _ context.CancelFunc) error {
				if r.Method == http.MethodPost && r.URL.Query().Has("uploadId") {
					return reset
				}
				return nil
			},
			want: "complete multipart upload of",
		},
		{
			name: "abort with parts in flight",
			hook: func(r *http.Request, _ context.CancelFunc) error {
				if partNumber(r) != "" {
					return sleepCtx(r, 300*time.Millisecond)
				}
				return nil
			},
			abort: true,
			// Parts 1 and 2 in flight, the third buffer full: the writes
			// do not wait for a free buffer.
			size: 15 << 20,
		},
		{
			name: "abort with parts hung",
			hook: func(r *http.Request, _ context.CancelFunc) error {
				if partNumber(r) != "" {
					<-r.Context().Done()
					return r.Context().Err()
				}
				return nil
			},
			abort: true,
			size:  15 << 20,
			drain: 200 * time.Millisecond,
		},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(s3test.WaitCtx(t))
			defer cancel()
			bucket := fmt.Sprintf("fail-%d", i)
			b, hc := hookedS3(t, srv, bucket, S3Config{UploadConcurrency: 3}, func(r *http.Request) error { return tc.hook(r, cancel) })
			if tc.drain > 0 {
				b.drainTimeout = tc.drain
			}
			w, err := b.NewWriter(ctx, "obj.bin")
			if err != nil {
				t.Fatal(err)
			}
			size := tc.size
			if size == 0 {
				size = 28 << 20
			}
			err = writeChunks(w, testData(size))
			if tc.abort {
				if err != nil {
					t.Fatal(err)
				}
				start := time.Now()
				if err := w.Abort(); err != nil {
					t.Fatalf("Abort: %v", err)
				}
				if n := hc.partsInFlight(); n != 0 {
					t.Errorf("Abort returned with %d parts in flight", n)
				}
				if took := time.Since(start); took > 10*time.Second {
					t.Errorf("Abort took %v", took)
				}
				if err := w.Close(); err == nil {
					t.Fatal("Close after Abort succeeded")
				}
			} else {
				if err == nil {
					err = w.Close()
				} else if cerr := w.Close(); cerr == nil {
					t.Fatal("Close succeeded after a failed Write")
				}
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("write = %v; want an error containing %q", err, tc.want)
				}
				if err := w.Abort(); err != nil {
					t.Fatalf("Abort after the failure: %v", err)
				}
			}
			bg := s3test.WaitCtx(t)
			if _, err := b.Stat(bg, "obj.bin"); !errors.Is(err, ErrNotFound) {
				t.Fatalf("Stat after the failed write = %v; want ErrNotFound", err)
			}
			if p := srv.PendingUploads(t, bucket); len(p) != 0 {
				t.Fatalf("pending multipart uploads left: %v", p)
			}
			if _, aborts := hc.stats(); aborts != 1 {
				t.Errorf("%d AbortMultipartUpload requests, want 1", aborts)
			}
		})
	}
}
