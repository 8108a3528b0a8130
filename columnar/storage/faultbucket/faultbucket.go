// Package faultbucket wraps a storage.Bucket to inject faults, for tests
// of how the stages above the store survive it: fail the n-th call of an
// operation, or every call a predicate picks, with a given error; cut
// writes after n bytes (the write fails, Close fails, nothing is
// visible); add latency before calls; and count the calls of each
// operation.
//
// Faults are deterministic: there is no randomness, so a test that fails
// once fails again. "The n-th call" counts calls of the operation from the
// bucket's creation, in the order they reach the bucket, so with
// concurrent callers which caller gets it depends on scheduling; use
// FailWhen with a key predicate to pick a caller.
//
// With no faults configured the bucket passes storagetest's suite. It
// does not pass through the inner bucket's OpenReaderAt fast path:
// storage.OpenReaderAt falls back to GetRange, so reads stay visible to
// the faults.
package faultbucket

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/atlas-ai/atlas-learn/columnar/storage"
)

// Op names an operation that faults can target.
type Op string

// The operations.
const (
	OpIter      Op = "Iter"
	OpGetRange  Op = "GetRange"
	OpRead      Op = "Read" // a Read of a body GetRange returned
	OpStat      Op = "Stat"
	OpNewWriter Op = "NewWriter"
	OpWrite     Op = "Write"  // a Writer's Write
	OpCommit    Op = "Commit" // a Writer's Close
	OpAbort     Op = "Abort"  // a Writer's Abort
	OpDelete    Op = "Delete"
)

// ErrInjected is the error of faults configured with a nil error.
var ErrInjected = errors.New("injected fault")

// Call describes one call, for predicates.
type Call struct {
	Op Op
	// Key is the object's key; for OpIter, the prefix.
	Key string
	// N numbers the calls of Op, from 1.
	N int
	// Off is, for OpGetRange, the offset asked for; for OpWrite, the bytes
	// the writer took before; for OpRead, the bytes read before from the
	// body.
	Off int64
	// Len is, for OpGetRange, the length asked for; for OpWrite and
	// OpRead, len(p).
	Len int64
}

type fault struct {
	op    Op
	nth   int             // > 0: only the nth call
	match func(Call) bool // nil: every call
	err   error
}

type cut struct {
	after int64
	match func(key string) bool
	err   error
}

// Bucket is a storage.Bucket that injects the faults configured on it
// into the calls it passes to the inner bucket. It is safe for
// concurrent use, and faults may be added while it is in use.
type Bucket struct {
	inner storage.Bucket

	mu     sync.Mutex
	calls  map[Op]int
	faults []fault
	cuts   []cut
	delays map[Op]time.Duration
}

// New wraps inner, with no faults.
func New(inner storage.Bucket) *Bucket {
	return &Bucket{inner: inner, calls: make(map[Op]int), delays: make(map[Op]time.Duration)}
}

// Inner is the wrapped bucket.
func (b *Bucket) Inner() storage.Bucket { return b.inner }

// FailNth makes the n-th call (from 1) of op fail with err (ErrInjected
// when nil), without reaching the inner bucket.
func (b *Bucket) FailNth(op Op, n int, err error) {
	if n < 1 {
		panic(fmt.Sprintf("faultbucket: FailNth(%s, %d): n counts from 1", op, n))
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.faults = append(b.faults, fault{op: op, nth: n, err: err})
}

// FailWhen makes every call of op for which match returns true fail with
// err (ErrInjected when nil), without reaching the inner bucket. match
// must not call the bucket.
func (b *Bucket) FailWhen(op Op, match func(Call) bool, err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.faults = append(b.faults, fault{op: op, match: match, err: err})
}

// CutWritesAfter cuts every writer started from now on whose key match
// accepts (every writer when match is nil) after n bytes: the Write that
// would pass them hands the inner writer only the first n and fails with
// err (ErrInjected when nil), and Close then fails and aborts the inner
// writer, so nothing becomes visible.
func (b *Bucket) CutWritesAfter(n int64, match func(key string) bool, err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.cuts = append(b.cuts, cut{after: n, match: match, err: err})
}

// Delay makes every call of op wait d before it runs (or fails). The wait
// ends early, failing the call, when the call's context is done.
func (b *Bucket) Delay(op Op, d time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.delays[op] = d
}

// Clear removes every fault, cut and delay; the counts stay.
func (b *Bucket) Clear() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.faults, b.cuts = nil, nil
	clear(b.delays)
}

// Calls is the number of calls of op so far, failed ones included.
func (b *Bucket) Calls(op Op) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.calls[op]
}

// enter counts the call, waits its delay and returns its injected error,
// if any.
func (b *Bucket) enter(ctx context.Context, c Call) error {
	b.mu.Lock()
	b.calls[c.Op]++
	c.N = b.calls[c.Op]
	delay := b.delays[c.Op]
	var injected error
	for _, f := range b.faults {
		if f.op != c.Op || (f.nth > 0 && f.nth != c.N) || (f.match != nil && !f.match(c)) {
			continue
		}
		injected = f.err
		if injected == nil {
			injected = ErrInjected
		}
		break
	}
	b.mu.Unlock()
	if delay > 0 {
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("faultbucket: %s %s: waiting the injected delay: %w", c.Op, b.object(c.Key), ctx.Err())
		}
	}
	if injected != nil {
		return fmt.Errorf("faultbucket: %s %s (call %d): %w", c.Op, b.object(c.Key), c.N, injected)
	}
	return nil
}

func (b *Bucket) object(key string) string {
	name := b.inner.Name()
	if len(name) > 0 && name[len(name)-1] == '/' {
		return name + key
	}
	return name + "/" + key
}

// Name implements storage.BucketReader.
func (b *Bucket) Name() string { return b.inner.Name() }

// Iter implements storage.BucketReader.
func (b *Bucket) Iter(ctx context.Context, prefix string, fn func(storage.ObjectInfo) error) error {
	if err := b.enter(ctx, Call{Op: OpIter, Key: prefix}); err != nil {
		return err
	}
	return b.inner.Iter(ctx, prefix, fn)
}

// GetRange implements storage.BucketReader.
func (b *Bucket) GetRange(ctx context.Context, key string, off, length int64) (io.ReadCloser, error) {
	if err := b.enter(ctx, Call{Op: OpGetRange, Key: key, Off: off, Len: length}); err != nil {
		return nil, err
	}
	r, err := b.inner.GetRange(ctx, key, off, length)
	if err != nil {
		return nil, err
	}
	return &body{ctx: ctx, b: b, key: key, r: r}, nil
}

type body struct {
	ctx  context.Context
	b    *Bucket
	key  string
	r    io.ReadCloser
	read int64
}

func (r *body) Read(p []byte) (int, error) {
	if err := r.b.enter(r.ctx, Call{Op: OpRead, Key: r.key, Off: r.read, Len: int64(len(p))}); err != nil {
		return 0, err
	}
	n, err := r.r.Read(p)
	r.read += int64(n)
	return n, err
}

func (r *body) Close() error { return r.r.Close() }

// Stat implements storage.BucketReader.
func (b *Bucket) Stat(ctx context.Context, key string) (storage.ObjectInfo, error) {
	if err := b.enter(ctx, Call{Op: OpStat, Key: key}); err != nil {
		return storage.ObjectInfo{}, err
	}
	return b.inner.Stat(ctx, key)
}

// Delete implements storage.Bucket.
func (b *Bucket) Delete(ctx context.Context, key string) error {
	if err := b.enter(ctx, Call{Op: OpDelete, Key: key}); err != nil {
		return err
	}
	return b.inner.Delete(ctx, key)
}

// Close implements storage.Bucket; it closes the inner bucket.
func (b *Bucket) Close() error { return b.inner.Close() }

// NewWriter implements storage.Bucket.
func (b *Bucket) NewWriter(ctx context.Context, key string) (storage.Writer, error) {
	if err := b.enter(ctx, Call{Op: OpNewWriter, Key: key}); err != nil {
		return nil, err
	}
	w := &writer{ctx: ctx, b: b, key: key, limit: -1}
	b.mu.Lock()
	for _, c := range b.cuts {
		if c.match == nil || c.match(key) {
			w.limit, w.cutErr = c.after, c.err
			if w.cutErr == nil {
				w.cutErr = ErrInjected
			}
			break
		}
	}
	b.mu.Unlock()
	inner, err := b.inner.NewWriter(ctx, key)
	if err != nil {
		return nil, err
	}
	w.w = inner
	return w, nil
}

// writer passes calls to the inner writer; after a failed Write it fails
// for good, aborting the inner writer on Close.
type writer struct {
	ctx     context.Context
	b       *Bucket
	key     string
	w       storage.Writer
	written int64
	limit   int64 // < 0: no cut
	cutErr  error
	err     error
}

func (w *writer) Write(p []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	if err := w.b.enter(w.ctx, Call{Op: OpWrite, Key: w.key, Off: w.written, Len: int64(len(p))}); err != nil {
		w.err = err
		return 0, err
	}
	var cutErr error
	if w.limit >= 0 && w.written+int64(len(p)) > w.limit {
		p = p[:w.limit-w.written]
		cutErr = fmt.Errorf("faultbucket: write %s cut after %d bytes: %w", w.b.object(w.key), w.limit, w.cutErr)
	}
	n, err := w.w.Write(p)
	w.written += int64(n)
	if err == nil {
		err = cutErr
	}
	if err != nil {
		w.err = err
	}
	return n, err
}

func (w *writer) Close() error {
	if err := w.b.enter(w.ctx, Call{Op: OpCommit, Key: w.key}); err != nil {
		_ = w.w.Abort()
		if w.err == nil {
			w.err = err
		}
		return err
	}
	if w.err != nil {
		_ = w.w.Abort()
		return w.err
	}
	return w.w.Close()
}

func (w *writer) Abort() error {
	if err := w.b.enter(w.ctx, Call{Op: OpAbort, Key: w.key}); err != nil {
		return err
	}
	return w.w.Abort()
}

var _ storage.Bucket = (*Bucket)(nil)
