package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
)

// Local is a Bucket over a directory. Writes go to a hidden temporary file
// beside the target and are renamed into place on Close, so an object is
// either whole or absent.
type Local struct {
	dir string
}

// NewLocal opens dir as a bucket, creating it when missing.
func NewLocal(dir string) (*Local, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", dir, err)
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return nil, fmt.Errorf("open %s: %w", dir, err)
	}
	return &Local{dir: abs}, nil
}

// OpenLocalDir opens an existing directory as a bucket, for reading: a
// missing directory is an error wrapping ErrNotFound, never created.
func OpenLocalDir(dir string) (*Local, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", dir, err)
	}
	st, err := os.Stat(abs)
	if err != nil {
		return nil, &Error{Op: "open", Object: abs, Err: err, NotFound: errors.Is(err, fs.ErrNotExist)}
	}
	if !st.IsDir() {
		return nil, &Error{Op: "open", Object: abs, Err: errors.New("not a directory")}
	}
	return &Local{dir: abs}, nil
}

// Dir is the directory behind the bucket.
func (l *Local) Dir() string { return l.dir }

// Name implements BucketReader.
func (l *Local) Name() string { return l.dir }

func (l *Local) path(key string) (string, error) {
	clean := filepath.FromSlash(key)
	if key == "" || filepath.IsAbs(clean) || strings.HasPrefix(filepath.Clean(clean), "..") {
		return "", &Error{Op: "resolve", Object: objectName(l, key), Err: errors.New("key must be a relative path inside the bucket")}
	}
	return filepath.Join(l.dir, clean), nil
}

func (l *Local) wrap(op, key string, err error) error {
	return &Error{Op: op, Object: objectName(l, key), Err: err, NotFound: isNotExist(err)}
}

// isNotExist tells whether err means that no object has the key: also when
// a key runs through another object as if it were a directory
// ("obj/below"), which S3 reports as not found too.
func isNotExist(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)
}

// isTemp tells the writer's temporary files apart from objects.
func isTemp(name string) bool { return strings.HasPrefix(name, ".tmp-") }

// Iter implements BucketReader.
func (l *Local) Iter(ctx context.Context, prefix string, fn func(ObjectInfo) error) error {
	if strings.HasPrefix(prefix, "/") || strings.Contains("/"+prefix, "/../") || strings.HasSuffix("/"+prefix, "/..") {
		return &Error{Op: "list", Object: objectName(l, prefix), Err: errors.New("prefix must stay inside the bucket")}
	}
	// Walk from the deepest directory the prefix names.
	start := l.dir
	if i := strings.LastIndex(prefix, "/"); i >= 0 {
		start = filepath.Join(l.dir, filepath.FromSlash(prefix[:i]))
	}
	var objs []ObjectInfo
	err := filepath.WalkDir(start, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if isNotExist(err) && p == start {
				return filepath.SkipAll
			}
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if d.IsDir() || isTemp(d.Name()) {
			return nil
		}
		rel, err := filepath.Rel(l.dir, p)
		if err != nil {
			return err
		}
		key := filepath.ToSlash(rel)
		if !strings.HasPrefix(key, prefix) {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		objs = append(objs, ObjectInfo{Key: key, Size: info.Size()})
		return nil
	})
	if err != nil {
		return l.wrap("list", prefix, err)
	}
	sort.Slice(objs, func(i, j int) bool { return objs[i].Key < objs[j].Key })
	for _, o := range objs {
		if err := fn(o); err != nil {
			return err
		}
	}
	return nil
}

// GetRange implements BucketReader.
func (l *Local) GetRange(ctx context.Context, key string, off, length int64) (io.ReadCloser, error) {
	p, err := l.path(key)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, l.wrap("read", key, err)
	}
	if off > 0 {
		if _, err := f.Seek(off, io.SeekStart); err != nil {
			f.Close()
			return nil, l.wrap("read", key, err)
		}
	}
	if length < 0 {
		return f, nil
	}
	return struct {
		io.Reader
		io.Closer
	}{io.LimitReader(f, length), f}, nil
}

// Stat implements BucketReader.
func (l *Local) Stat(ctx context.Context, key string) (ObjectInfo, error) {
	p, err := l.path(key)
	if err != nil {
		return ObjectInfo{}, err
	}
	st, err := os.Stat(p)
	if err != nil {
		return ObjectInfo{}, l.wrap("stat", key, err)
	}
	if st.IsDir() {
		return ObjectInfo{}, &Error{Op: "stat", Object: objectName(l, key), Err: fs.ErrNotExist, NotFound: true, Hint: "is a directory"}
	}
	return ObjectInfo{Key: key, Size: st.Size()}, nil
}

// OpenReaderAt reads the file directly, without range requests.
func (l *Local) OpenReaderAt(ctx context.Context, key string) (ReaderAtCloser, int64, error) {
	p, err := l.path(key)
	if err != nil {
		return nil, 0, err
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, 0, l.wrap("open", key, err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, l.wrap("stat", key, err)
	}
	return f, st.Size(), nil
}

// NewWriter implements Bucket.
func (l *Local) NewWriter(ctx context.Context, key string) (Writer, error) {
	p, err := l.path(key)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return nil, l.wrap("write", key, err)
	}
	f, err := os.CreateTemp(filepath.Dir(p), ".tmp-"+filepath.Base(p)+"-*")
	if err != nil {
		return nil, l.wrap("write", key, err)
	}
	return &localWriter{l: l, key: key, final: p, f: f}, nil
}

type localWriter struct {
	l     *Local
	key   string
	final string
	f     *os.File
	done  bool
	// aborted is set by Abort; err by the first failed Write.
	aborted bool
	err     error
}

func (w *localWriter) Write(p []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	if w.done {
		return 0, w.l.wrap("write", w.key, errors.New("write after close or abort"))
	}
	n, err := w.f.Write(p)
	if err != nil {
		w.err = w.l.wrap("write", w.key, err)
		return n, w.err
	}
	return n, nil
}

func (w *localWriter) Close() error {
	if w.done {
		if w.aborted {
			return w.l.wrap("write", w.key, errors.New("close after abort: nothing was written"))
		}
		return w.err
	}
	if w.err != nil {
		_ = w.Abort()
		return w.err
	}
	w.done = true
	fail := func(err error) error {
		w.f.Close()
		os.Remove(w.f.Name())
		w.err = w.l.wrap("write", w.key, err)
		return w.err
	}
	if err := w.f.Chmod(0o644); err != nil {
		return fail(err)
	}
	if err := w.f.Sync(); err != nil {
		return fail(err)
	}
	if err := w.f.Close(); err != nil {
		return fail(err)
	}
	if err := os.Rename(w.f.Name(), w.final); err != nil {
		return fail(err)
	}
	// Make the rename itself durable before anything (a manifest) that
	// depends on it is written.
	if d, err := os.Open(filepath.Dir(w.final)); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}

func (w *localWriter) Abort() error {
	if w.done {
		return nil
	}
	w.done, w.aborted = true, true
	w.f.Close()
	return os.Remove(w.f.Name())
}

// Delete implements Bucket.
func (l *Local) Delete(ctx context.Context, key string) error {
	p, err := l.path(key)
	if err != nil {
		return err
	}
	// A key naming a directory, or running through a file ("obj/below"),
	// names no object: nothing to delete (and os.Remove, or the clean-up
	// below, must not remove what is there).
	st, err := os.Lstat(p)
	if isNotExist(err) || (err == nil && st.IsDir()) {
		return nil
	}
	if err != nil {
		return l.wrap("delete", key, err)
	}
	if err := os.Remove(p); err != nil && !isNotExist(err) {
		return l.wrap("delete", key, err)
	}
	// Remove directories the delete left empty, up to the root.
	for d := filepath.Dir(p); d != l.dir && strings.HasPrefix(d, l.dir); d = filepath.Dir(d) {
		if os.Remove(d) != nil {
			break
		}
	}
	return nil
}

// Close implements Bucket.
func (l *Local) Close() error { return nil }
