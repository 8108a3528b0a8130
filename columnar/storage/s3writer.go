package storage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

const (
	// maxParts is S3's limit on the parts of one multipart upload.
	maxParts = 10000
	// partDrainTimeout is the default of S3.drainTimeout.
	partDrainTimeout = 30 * time.Second
	// abortTimeout bounds the AbortMultipartUpload request.
	abortTimeout = 30 * time.Second
)

// NewWriter implements Bucket. Up to one part size is buffered and written
// with one PUT on Close; anything larger becomes a multipart upload whose
// parts are sent as they fill, up to S3Config.UploadConcurrency at once
// (the writer holds at most that many part buffers, and Write waits while
// all are in flight), and which is aborted if anything fails, so no
// partial object is ever visible.
//
// Requests whose outcome decides what is visible (the parts, the
// completion, the single PUT) are not cancelled with the write's context:
// a request cancelled on the client may still be carried out by the
// server once it has the whole body, so a part could land after the
// abort (leaving the upload pending) or an object appear after Close
// reported failure. Instead the context is checked between requests, and
// on any failure the writer stops sending, waits for the parts in flight
// to be answered (at most 30s), and only then aborts, on a
// fresh context.
//
// The SDK's upload manager (feature/s3/manager, and its successor
// feature/s3/transfermanager) is not used: it reads from an io.Reader, so a
// streaming Writer would need an io.Pipe and a goroutine, with Abort
// becoming CloseWithError; it copies every byte once more into its own
// part buffers; on failure it cancels the parts in flight and sends
// AbortMultipartUpload with the upload's own context, so a cancelled
// context leaves the upload (and the storage its parts use) pending.
func (b *S3) NewWriter(ctx context.Context, key string) (Writer, error) {
	return &s3Writer{ctx: ctx, b: b, key: key, nbufs: 1}, nil
}

// s3Writer is used by one goroutine; the goroutines it starts for parts
// share only the fields under mu, wg, free and failed.
type s3Writer struct {
	ctx context.Context
	b   *S3
	key string
	// buf is the part being filled. The first buffer grows with the data,
	// so small objects take only what they need; later ones are whole
	// parts. nbufs counts the buffers allocated, at most b.concurrency.
	buf   []byte
	nbufs int

	// Set when the multipart upload starts.
	uploadID *string
	partCtx  context.Context    // the parts' requests: not the write's context
	cancel   context.CancelFunc // of partCtx, for parts that outlive the drain
	free     chan []byte        // buffers back from parts sent
	failed   chan struct{}      // closed when a part fails
	wg       sync.WaitGroup     // parts in flight

	mu      sync.Mutex
	parts   []types.CompletedPart // by part number - 1
	partErr error                 // the first failed part's

	err     error
	done    bool
	aborted bool
}

func (w *s3Writer) fullKey() *string { return aws.String(w.b.prefix + w.key) }

func (w *s3Writer) Write(p []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	if w.done {
		return 0, w.b.wrap("write", w.key, errors.New("write after close or abort"))
	}
	n := len(p)
	for len(p) > 0 {
		// A full part is sent only when more data comes, so that an
		// object of exactly one part size is still one PUT and the last
		// part of an upload is never empty.
		if int64(len(w.buf)) == w.b.partSize {
			if err := w.sendPart(); err != nil {
				w.fail(err)
				return 0, w.err
			}
		}
		room := int(w.b.partSize) - len(w.buf)
		if room > len(p) {
			room = len(p)
		}
		w.buf = appendBounded(w.buf, p[:room], int(w.b.partSize))
		p = p[room:]
	}
	return n, nil
}

// appendBounded appends p to buf, growing it as append does but never
// beyond limit bytes of capacity.
func appendBounded(buf, p []byte, limit int) []byte {
	if len(buf)+len(p) > cap(buf) {
		c := max(2*cap(buf), len(buf)+len(p), 64<<10)
		grown := make([]byte, len(buf), min(c, limit))
		copy(grown, buf)
		buf = grown
	}
	return append(buf, p...)
}

// sendPart starts the upload of w.buf as the next part and takes a buffer
// for the one after, waiting while b.concurrency parts are in flight.
func (w *s3Writer) sendPart() error {
	if err := w.startPart(); err != nil {
		return err
	}
	if w.nbufs < w.b.concurrency {
		w.nbufs++
		w.buf = make([]byte, 0, w.b.partSize)
		return nil
	}
	select {
	case buf := <-w.free:
		w.buf = buf[:0]
		return nil
	case <-w.failed:
	case <-w.ctx.Done():
	}
	return w.failure()
}

// startPart sends w.buf as the next part, starting the multipart upload
// first if need be. The buffer belongs to the part until it comes back
// through w.free.
func (w *s3Writer) startPart() error {
	if err := w.failure(); err != nil {
		return err
	}
	if w.uploadID == nil {
		out, err := w.b.client.CreateMultipartUpload(w.ctx, &s3.CreateMultipartUploadInput{Bucket: &w.b.bucket, Key: w.fullKey()})
		if err != nil {
			return w.b.wrap("start multipart upload of", w.key, err)
		}
		w.uploadID = out.UploadId
		w.partCtx, w.cancel = context.WithCancel(context.WithoutCancel(w.ctx))
		w.free = make(chan []byte, w.b.concurrency)
		w.failed = make(chan struct{})
	}
	w.mu.Lock()
	num := int32(len(w.parts) + 1)
	if num > maxParts {
		w.mu.Unlock()
		return w.b.wrap("write", w.key, fmt.Errorf("more than %d parts of %d MiB: raise s3.part_size_mib", maxParts, w.b.partSize>>20))
	}
	w.parts = append(w.parts, types.CompletedPart{PartNumber: aws.Int32(num)})
	w.mu.Unlock()

	buf := w.buf
	w.buf = nil
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		out, err := w.b.client.UploadPart(w.partCtx, &s3.UploadPartInput{
			Bucket: &w.b.bucket, Key: w.fullKey(), UploadId: w.uploadID,
			PartNumber: aws.Int32(num), Body: bytes.NewReader(buf), ContentLength: aws.Int64(int64(len(buf))),
		})
		w.mu.Lock()
		defer w.mu.Unlock()
		if err != nil {
			// The buffer is not reused: the transport may still be
			// reading it after a failed request.
			if w.partErr == nil {
				w.partErr = w.b.wrap(fmt.Sprintf("upload part %d of", num), w.key, err)
				close(w.failed)
			}
			return
		}
		w.parts[num-1].ETag = out.ETag
		w.free <- buf // never blocks: it has room for every buffer
	}()
	return nil
}

// failure is the first failed part's error, or the write context's.
func (w *s3Writer) failure() error {
	w.mu.Lock()
	err := w.partErr
	w.mu.Unlock()
	if err != nil {
		return err
	}
	if err := w.ctx.Err(); err != nil {
		return w.b.wrap("write", w.key, err)
	}
	return nil
}

// fail ends the writer with err, aborting the upload.
func (w *s3Writer) fail(err error) {
	w.done = true
	w.buf = nil
	if abortErr := w.abortUpload(); abortErr != nil {
		err = errors.Join(err, abortErr)
	}
	w.err = err
}

func (w *s3Writer) Close() error {
	if w.aborted {
		return w.b.wrap("write", w.key, errors.New("close after abort: nothing was written"))
	}
	if w.done || w.err != nil {
		return w.err
	}
	w.done = true
	if w.uploadID == nil {
		if err := w.ctx.Err(); err != nil {
			w.err = w.b.wrap("write", w.key, err)
			return w.err
		}
		_, err := w.b.client.PutObject(context.WithoutCancel(w.ctx), &s3.PutObjectInput{
			Bucket: &w.b.bucket, Key: w.fullKey(), Body: bytes.NewReader(w.buf), ContentLength: aws.Int64(int64(len(w.buf))),
		})
		w.buf = nil
		if err != nil {
			w.err = w.b.wrap("write", w.key, err)
		}
		return w.err
	}
	if err := w.startPart(); err != nil {
		w.fail(err)
		return w.err
	}
	w.wg.Wait()
	if err := w.failure(); err != nil {
		w.fail(err)
		return w.err
	}
	// Parts are listed in part-number order, as S3 requires, whatever
	// order they finished in. Once sent, the completion is not cancelled:
	// its answer is what Close reports.
	_, err := w.b.client.CompleteMultipartUpload(w.partCtx, &s3.CompleteMultipartUploadInput{
		Bucket: &w.b.bucket, Key: w.fullKey(), UploadId: w.uploadID,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: w.parts},
	})
	if err != nil {
		w.fail(w.b.wrap("complete multipart upload of", w.key, err))
		return w.err
	}
	w.cancel()
	w.uploadID, w.free, w.parts = nil, nil, nil
	return nil
}

// abortUpload waits for the parts in flight to be answered, so that none
// lands after the abort, and aborts the multipart upload. Parts still
// unanswered after b.drainTimeout (a hung server) are cancelled first; the
// abort is then best effort.
func (w *s3Writer) abortUpload() error {
	if w.uploadID == nil {
		return nil
	}
	drained := make(chan struct{})
	go func() { w.wg.Wait(); close(drained) }()
	t := time.NewTimer(w.b.drainTimeout)
	select {
	case <-drained:
		t.Stop()
	case <-t.C:
		w.cancel()
		<-drained
	}
	w.cancel()
	// A fresh context: the write's own may be what was cancelled.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(w.ctx), abortTimeout)
	defer cancel()
	_, err := w.b.client.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: &w.b.bucket, Key: w.fullKey(), UploadId: w.uploadID})
	w.uploadID, w.free, w.parts = nil, nil, nil
	var noUpload *types.NoSuchUpload
	if err != nil && !errors.As(err, &noUpload) {
		return w.b.wrap("abort multipart upload of", w.key, err)
	}
	return nil
}

// Abort implements Writer. It waits for the parts in flight to be
// answered; after a Close (successful or not) it does nothing.
func (w *s3Writer) Abort() error {
	if w.done {
		return nil
	}
	w.done, w.aborted = true, true
	w.buf = nil
	return w.abortUpload()
}
