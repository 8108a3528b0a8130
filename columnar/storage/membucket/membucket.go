// Package membucket is an in-memory storage.Bucket for tests of the stages
// above the object store: it keeps the drivers' contract (objects appear
// whole on Close and never on Abort, listings sorted by key, ErrNotFound
// for missing objects) without touching disk or network, is safe for
// concurrent use, and is deterministic. It passes storagetest's suite.
package membucket

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"

	"github.com/atlas-ai/atlas-learn/columnar/storage"
)

// Bucket is an in-memory store. The zero value is not usable; call New.
type Bucket struct {
	name string
	mu   sync.RWMutex
	objs map[string]object
}

// object is one stored object; data is never changed once stored.
type object struct {
	data []byte
	etag string
}

// New returns an empty bucket. name is the bucket's location in messages;
// "" gives "mem://".
func New(name string) *Bucket {
	if name == "" {
		name = "mem://"
	}
	return &Bucket{name: name, objs: make(map[string]object)}
}

// Name implements storage.BucketReader.
func (b *Bucket) Name() string { return b.name }

func (b *Bucket) object(key string) string {
	return strings.TrimSuffix(b.name, "/") + "/" + key
}

func (b *Bucket) errorf(op, key string, notFound bool, err error) error {
	return &storage.Error{Op: op, Object: b.object(key), Err: err, NotFound: notFound}
}

func (b *Bucket) notFound(op, key string) error {
	return &storage.Error{Op: op, Object: b.object(key), Hint: "not found", Err: storage.ErrNotFound, NotFound: true}
}

func (b *Bucket) checkKey(op, key string) error {
	if key == "" {
		return b.errorf(op, key, false, errors.New("empty key"))
	}
	return nil
}

func (b *Bucket) get(key string) (object, bool) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	o, ok := b.objs[key]
	return o, ok
}

// Iter implements storage.BucketReader. It lists the objects present when
// it starts, in ascending byte order of their keys; fn may use the bucket.
func (b *Bucket) Iter(ctx context.Context, prefix string, fn func(storage.ObjectInfo) error) error {
	if err := ctx.Err(); err != nil {
		return b.errorf("list", prefix, false, err)
	}
	b.mu.RLock()
	var infos []storage.ObjectInfo
	for k, o := range b.objs {
		if strings.HasPrefix(k, prefix) {
			infos = append(infos, storage.ObjectInfo{Key: k, Size: int64(len(o.data)), ETag: o.etag})
		}
	}
	b.mu.RUnlock()
	slices.SortFunc(infos, func(x, y storage.ObjectInfo) int { return strings.Compare(x.Key, y.Key) })
	for _, info := range infos {
		if err := ctx.Err(); err != nil {
			return b.errorf("list", prefix, false, err)
		}
		if err := fn(info); err != nil {
			return err
		}
	}
	return nil
}

// GetRange implements storage.BucketReader. An offset beyond the end is an
// error (as on S3); a length past the end reads to the end.
func (b *Bucket) GetRange(ctx context.Context, key string, off, length int64) (io.ReadCloser, error) {
	if err := ctx.Err(); err != nil {
		return nil, b.errorf("read", key, false, err)
	}
	if err := b.checkKey("read", key); err != nil {
		return nil, err
	}
	o, ok := b.get(key)
	if !ok {
		return nil, b.notFound("read", key)
	}
	size := int64(len(o.data))
	if off < 0 || off > size {
		return nil, b.errorf("read", key, false, fmt.Errorf("offset %d outside the object's %d bytes", off, size))
	}
	end := size
	if length >= 0 && off+length < size {
		end = off + length
	}
	return io.NopCloser(bytes.NewReader(o.data[off:end])), nil
}

// Stat implements storage.BucketReader.
func (b *Bucket) Stat(ctx context.Context, key string) (storage.ObjectInfo, error) {
	if err := ctx.Err(); err != nil {
		return storage.ObjectInfo{}, b.errorf("stat", key, false, err)
	}
	if err := b.checkKey("stat", key); err != nil {
		return storage.ObjectInfo{}, err
	}
	o, ok := b.get(key)
	if !ok {
		return storage.ObjectInfo{}, b.notFound("stat", key)
	}
	return storage.ObjectInfo{Key: key, Size: int64(len(o.data)), ETag: o.etag}, nil
}

// OpenReaderAt reads the object's bytes directly, as storage.OpenReaderAt
// does for local files. The reader sees the object as it was when opened.
func (b *Bucket) OpenReaderAt(ctx context.Context, key string) (storage.ReaderAtCloser, int64, error) {
	if err := ctx.Err(); err != nil {
		return nil, 0, b.errorf("open", key, false, err)
	}
	if err := b.checkKey("open", key); err != nil {
		return nil, 0, err
	}
	o, ok := b.get(key)
	if !ok {
		return nil, 0, b.notFound("open", key)
	}
	return readerAt{bytes.NewReader(o.data)}, int64(len(o.data)), nil
}

type readerAt struct{ *bytes.Reader }

func (readerAt) Close() error { return nil }

// NewWriter implements storage.Bucket. The object is stored when Close
// returns nil; until then readers see the previous object, if any.
func (b *Bucket) NewWriter(ctx context.Context, key string) (storage.Writer, error) {
	if err := ctx.Err(); err != nil {
		return nil, b.errorf("write", key, false, err)
	}
	if err := b.checkKey("write", key); err != nil {
		return nil, err
	}
	return &writer{ctx: ctx, b: b, key: key}, nil
}

// Delete implements storage.Bucket; a missing key is not an error.
func (b *Bucket) Delete(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return b.errorf("delete", key, false, err)
	}
	if err := b.checkKey("delete", key); err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.objs, key)
	return nil
}

// Close implements storage.Bucket. The objects stay readable.
func (b *Bucket) Close() error { return nil }

// Keys returns the keys of every object, sorted.
func (b *Bucket) Keys() []string {
	b.mu.RLock()
	keys := make([]string, 0, len(b.objs))
	for k := range b.objs {
		keys = append(keys, k)
	}
	b.mu.RUnlock()
	slices.Sort(keys)
	return keys
}

// writer buffers one object; it is used by one goroutine.
type writer struct {
	ctx     context.Context
	b       *Bucket
	key     string
	buf     []byte
	done    bool
	aborted bool
	err     error
}

func (w *writer) Write(p []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	if w.done {
		return 0, w.b.errorf("write", w.key, false, errors.New("write after close or abort"))
	}
	if err := w.ctx.Err(); err != nil {
		w.err = w.b.errorf("write", w.key, false, err)
		return 0, w.err
	}
	w.buf = append(w.buf, p...)
	return len(p), nil
}

func (w *writer) Close() error {
	if w.aborted {
		return w.b.errorf("write", w.key, false, errors.New("close after abort: nothing was written"))
	}
	if w.done || w.err != nil {
		w.done, w.buf = true, nil
		return w.err
	}
	w.done = true
	if err := w.ctx.Err(); err != nil {
		w.err = w.b.errorf("write", w.key, false, err)
		w.buf = nil
		return w.err
	}
	sum := md5.Sum(w.buf)
	o := object{data: w.buf, etag: hex.EncodeToString(sum[:])}
	w.buf = nil
	w.b.mu.Lock()
	w.b.objs[w.key] = o
	w.b.mu.Unlock()
	return nil
}

// Abort implements storage.Writer; after Close it does nothing.
func (w *writer) Abort() error {
	if w.done {
		return nil
	}
	w.done, w.aborted, w.buf = true, true, nil
	return nil
}

var _ storage.Bucket = (*Bucket)(nil)
