// Package storage is the object-store layer of ATLAS: one small driver
// interface (BucketReader for reads, Bucket adding writes, after
// thanos-io/objstore), two drivers — local directories (plain paths and
// file:// URLs) and S3-compatible buckets (s3://bucket/prefix over
// aws-sdk-go-v2: AWS S3, MinIO, versitygw, ...) — and a conformance suite,
// package storagetest, that every driver passes (conformance_test.go runs
// it on both, against a real versitygw for S3).
//
// For the stages above the store, package membucket is an in-memory
// Bucket and package faultbucket wraps any Bucket to inject failures,
// cut writes, add latency and count calls.
//
// On top of the drivers it gives the job what it needs: URL parsing with
// S3 endpoint options, stable sorted listings, an io.ReaderAt over range
// requests for Parquet footers and pages, streaming writes that become
// multipart uploads with several parts in flight when large, and errors
// that name the object, never carry credentials, and hint at the cause.
package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"
)

// ObjectInfo describes one object.
type ObjectInfo struct {
	Key  string
	Size int64
	// ETag identifies the content where the store provides it (S3); "" for
	// local files.
	ETag string
}

// BucketReader is the read-only side of a store. Keys are slash-separated
// and relative to the store's root.
type BucketReader interface {
	// Iter calls fn for every object whose key starts with prefix,
	// recursively, in ascending key order.
	Iter(ctx context.Context, prefix string, fn func(ObjectInfo) error) error
	// GetRange reads length bytes from off; length < 0 reads to the end.
	GetRange(ctx context.Context, key string, off, length int64) (io.ReadCloser, error)
	// Stat returns the object's size; errors.Is(err, ErrNotFound) when it
	// is missing.
	Stat(ctx context.Context, key string) (ObjectInfo, error)
	// Name is the store's location for messages, without credentials.
	Name() string
}

// Bucket is a store that can also be written.
type Bucket interface {
	BucketReader
	// NewWriter starts writing key. The object appears, whole, only when
	// Close returns nil; Abort (or a failed Close) leaves no object behind.
	NewWriter(ctx context.Context, key string) (Writer, error)
	// Delete removes key; a missing key is not an error.
	Delete(ctx context.Context, key string) error
	Close() error
}

// Writer streams one object. A Writer is used by one goroutine.
type Writer interface {
	io.Writer
	// Close commits the object.
	Close() error
	// Abort discards everything written; the object is not created.
	// After Close it does nothing, so `defer w.Abort()` is safe.
	Abort() error
}

// ErrNotFound is matched (errors.Is) by errors about missing objects and
// buckets.
var ErrNotFound = os.ErrNotExist

// Get reads a whole object.
func Get(ctx context.Context, b BucketReader, key string) ([]byte, error) {
	r, err := b.GetRange(ctx, key, 0, -1)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", objectName(b, key), err)
	}
	return data, nil
}

// Put writes a whole object.
func Put(ctx context.Context, b Bucket, key string, data []byte) error {
	w, err := b.NewWriter(ctx, key)
	if err != nil {
		return err
	}
	if _, err := w.Write(data); err != nil {
		_ = w.Abort()
		return err
	}
	return w.Close()
}

// Exists tells whether key exists.
func Exists(ctx context.Context, b BucketReader, key string) (bool, error) {
	_, err := b.Stat(ctx, key)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// List returns, sorted by key, every object under prefix for which keep
// (when not nil) returns true.
func List(ctx context.Context, b BucketReader, prefix string, keep func(key string) bool) ([]ObjectInfo, error) {
	var out []ObjectInfo
	err := b.Iter(ctx, prefix, func(o ObjectInfo) error {
		if keep == nil || keep(o.Key) {
			out = append(out, o)
		}
		return nil
	})
	return out, err
}

// ReaderAtCloser is an io.ReaderAt that must be closed.
type ReaderAtCloser interface {
	io.ReaderAt
	io.Closer
}

// OpenReaderAt opens key for random access. Drivers with a faster path
// (local files) provide it; otherwise each ReadAt is one range request, so
// callers should read in large pieces.
func OpenReaderAt(ctx context.Context, b BucketReader, key string) (ReaderAtCloser, int64, error) {
	if o, ok := b.(interface {
		OpenReaderAt(ctx context.Context, key string) (ReaderAtCloser, int64, error)
	}); ok {
		return o.OpenReaderAt(ctx, key)
	}
	info, err := b.Stat(ctx, key)
	if err != nil {
		return nil, 0, err
	}
	return &rangeReaderAt{ctx: ctx, b: b, key: key, size: info.Size}, info.Size, nil
}

type rangeReaderAt struct {
	ctx  context.Context
	b    BucketReader
	key  string
	size int64
}

func (r *rangeReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if off >= r.size {
		return 0, io.EOF
	}
	n := int64(len(p))
	if off+n > r.size {
		n = r.size - off
	}
	rd, err := r.b.GetRange(r.ctx, r.key, off, n)
	if err != nil {
		return 0, err
	}
	defer rd.Close()
	got, err := io.ReadFull(rd, p[:n])
	if err != nil {
		return got, fmt.Errorf("read %s at %d: %w", objectName(r.b, r.key), off, err)
	}
	if n < int64(len(p)) {
		return got, io.EOF
	}
	return got, nil
}

func (r *rangeReaderAt) Close() error { return nil }

// Join joins key parts with "/", ignoring empty parts.
func Join(parts ...string) string {
	var keep []string
	for _, p := range parts {
		if p = strings.Trim(p, "/"); p != "" {
			keep = append(keep, p)
		}
	}
	return path.Join(keep...)
}

func objectName(b BucketReader, key string) string {
	return strings.TrimSuffix(b.Name(), "/") + "/" + key
}

// Error is a storage failure on one object or bucket.
type Error struct {
	Op     string // "read", "write", "list", ...
	Object string // location of the object, without credentials
	Hint   string // what it probably means, for people
	Err    error
	// NotFound marks missing objects and buckets.
	NotFound bool
}

func (e *Error) Error() string {
	msg := RedactError(e.Err)
	if e.Hint != "" {
		return fmt.Sprintf("%s %s: %s: %s", e.Op, e.Object, e.Hint, msg)
	}
	return fmt.Sprintf("%s %s: %s", e.Op, e.Object, msg)
}

func (e *Error) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrNotFound) hold for missing objects and buckets.
func (e *Error) Is(target error) bool { return target == ErrNotFound && e.NotFound }

// RedactError is err's message with any AWS secret material from the
// environment masked: a last line of defence, as SDK errors do not
// normally include it.
func RedactError(err error) string {
	if err == nil {
		return ""
	}
	msg := err.Error()
	for _, env := range []string{"AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_ACCESS_KEY_ID"} {
		if v := os.Getenv(env); len(v) >= 8 {
			msg = strings.ReplaceAll(msg, v, "[REDACTED]")
		}
	}
	return msg
}
