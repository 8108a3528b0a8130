package jobs

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"strings"

	"github.com/atlas-ai/atlas-learn/columnar/storage"
	"github.com/atlas-ai/atlas-learn/jobs/recall"
)

// A memory root is a storage location (a local directory or s3://…)
// holding versions of the memory and a pointer to the current one:
//
//	<memory>/CURRENT                               the MemoryPointer, JSON
//	<memory>/versions/<version>/...                the version's datasets and manifest
//	<memory>/versions/<version>/index/recall.idx   its recall index (package recall's format)
//
// A version is written whole first; CURRENT is written last, with one
// atomic object write (the local driver writes a temporary file and
// renames it into place; S3 replaces an object atomically with the single
// PUT a small object takes), so a reader sees the old version or the new
// one, never a part. Paths in the pointer are relative to the root.

// MemoryPointerKey is the name of the pointer object under a memory root.
const MemoryPointerKey = "CURRENT"

// MemoryPointer names the current memory version.
type MemoryPointer struct {
	// Version is the version's name, "000003": letters, digits, '.', '_'
	// and '-'.
	Version string `json:"version"`
	// Dir is the version's directory relative to the root,
	// "versions/000003".
	Dir string `json:"dir"`
	// Index is the recall index object relative to the root, inside Dir:
	// "versions/000003/index/recall.idx".
	Index string `json:"index"`
	// RunID is the run that wrote the version.
	RunID string `json:"run_id"`
	// CreatedAt is when, from the run's data (RFC 3339), never the wall
	// clock of the writer, so that reruns write the same pointer.
	CreatedAt string `json:"created_at"`
}

// MemoryVersionName is the name of version n, zero-padded so that names
// sort as numbers do: 3 gives "000003".
func MemoryVersionName(n int) string { return fmt.Sprintf("%06d", n) }

// NewMemoryPointer is the pointer to version in the standard layout:
// versions/<version>/ with its index at versions/<version>/index/recall.idx.
func NewMemoryPointer(version, runID, createdAt string) MemoryPointer {
	dir := path.Join("versions", version)
	return MemoryPointer{Version: version, Dir: dir, Index: path.Join(dir, "index", "recall.idx"), RunID: runID, CreatedAt: createdAt}
}

// Validate names the first invalid field.
func (p MemoryPointer) Validate() error {
	if p.Version == "" || strings.Trim(p.Version, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != "" || p.Version == "." || p.Version == ".." {
		return fmt.Errorf("version: want letters, digits, '.', '_' or '-', got %q", p.Version)
	}
	for _, f := range []struct{ name, v string }{{"dir", p.Dir}, {"index", p.Index}} {
		if f.v == "" || strings.HasPrefix(f.v, "/") || path.Clean(f.v) != f.v || f.v == "." || f.v == ".." || strings.HasPrefix(f.v, "../") {
			return fmt.Errorf("%s: want a clean path relative to the memory root, got %q", f.name, f.v)
		}
	}
	if !strings.HasPrefix(p.Index, p.Dir+"/") {
		return fmt.Errorf("index: %q is not inside the version directory %q", p.Index, p.Dir)
	}
	return nil
}

// NoMemoryError says that a memory root has no pointer: no run has
// written a memory there yet. It matches errors.Is(err, ErrNoMemory).
type NoMemoryError struct {
	// Location is the memory root, for the message.
	Location string
}

// ErrNoMemory is matched by *NoMemoryError.
var ErrNoMemory = errors.New("no memory")

func (e *NoMemoryError) Error() string {
	return fmt.Sprintf("no memory at %s: run atlas-learn run first", e.Location)
}

// Is makes errors.Is(err, ErrNoMemory) hold.
func (e *NoMemoryError) Is(target error) bool { return target == ErrNoMemory }

// ReadMemoryPointer reads root's CURRENT from b. When there is none it
// returns a *NoMemoryError (errors.Is(err, ErrNoMemory)); a pointer that
// is not valid JSON or fails Validate is an error naming the object.
func ReadMemoryPointer(ctx context.Context, b storage.BucketReader, root string) (*MemoryPointer, error) {
	key := storage.Join(root, MemoryPointerKey)
	data, err := storage.Get(ctx, b, key)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, &NoMemoryError{Location: memoryName(b, root)}
	}
	if err != nil {
		return nil, fmt.Errorf("memory pointer: %w", err)
	}
	var p MemoryPointer
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("memory pointer %s: %w", objName(b, key), err)
	}
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("memory pointer %s: %w", objName(b, key), err)
	}
	return &p, nil
}

// WriteMemoryPointer validates p and writes it as root's CURRENT with one
// atomic object write. Writers call it last, after the version's datasets
// and index are written.
func WriteMemoryPointer(ctx context.Context, b storage.Bucket, root string, p MemoryPointer) error {
	if err := p.Validate(); err != nil {
		return fmt.Errorf("memory pointer: %w", err)
	}
	data, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return fmt.Errorf("memory pointer: %w", err)
	}
	if err := storage.Put(ctx, b, storage.Join(root, MemoryPointerKey), append(data, '\n')); err != nil {
		return fmt.Errorf("memory pointer: %w", err)
	}
	return nil
}

// WriteIndex writes ix as the object key of b, streamed; the object
// appears whole or not at all.
func WriteIndex(ctx context.Context, b storage.Bucket, key string, ix *recall.Index) error {
	w, err := b.NewWriter(ctx, key)
	if err != nil {
		return fmt.Errorf("recall index %s: %w", objName(b, key), err)
	}
	defer w.Abort()
	if _, err := ix.WriteTo(w); err != nil {
		return fmt.Errorf("recall index %s: %w", objName(b, key), err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("recall index %s: %w", objName(b, key), err)
	}
	return nil
}

// ReadIndex reads the recall index object key of b. Errors name the
// object; a file that is not a readable index matches recall.ErrFormat.
func ReadIndex(ctx context.Context, b storage.BucketReader, key string) (*recall.Index, error) {
	data, err := storage.Get(ctx, b, key)
	if err != nil {
		return nil, fmt.Errorf("recall index: %w", err)
	}
	ix, err := recall.Decode(data)
	if err != nil {
		return nil, fmt.Errorf("recall index %s: %w", objName(b, key), err)
	}
	return ix, nil
}

func objName(b storage.BucketReader, key string) string {
	return strings.TrimSuffix(b.Name(), "/") + "/" + key
}

func memoryName(b storage.BucketReader, root string) string {
	if root == "" {
		return b.Name()
	}
	return objName(b, root)
}

// PublishRecallIndex writes ix at p.Index under root, then p as root's
// CURRENT: the last two writes of a memory version (whose datasets are
// written before).
func PublishRecallIndex(ctx context.Context, b storage.Bucket, root string, p MemoryPointer, ix *recall.Index) error {
	if err := p.Validate(); err != nil {
		return fmt.Errorf("memory pointer: %w", err)
	}
	if err := WriteIndex(ctx, b, storage.Join(root, p.Index), ix); err != nil {
		return err
	}
	return WriteMemoryPointer(ctx, b, root, p)
}
