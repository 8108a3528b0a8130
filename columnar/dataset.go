package columnar

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"path"
	"slices"
	"sort"
	"strings"

	"github.com/atlas-ai/atlas-learn/columnar/storage"
)

// TrajectoriesDataset is the name of the canonical trajectory dataset.
const TrajectoriesDataset = "trajectories"

// SourceFile is one data file of an input dataset.
type SourceFile struct {
	// Key is the object key in the bucket; Rel is relative to the root.
	Key, Rel string
	Size     int64
	// Format is "parquet" or "jsonl", from the extension.
	Format string
	// Partition is the Hive-style partition path ("dt=2026-11-24"), or "".
	Partition string
	// ContentID identifies the file's content: the manifest's sha256, the
	// store's ETag, or "" when neither is known (see Source.Identify).
	ContentID string
}

// Source is an input dataset: the data files under a root, in a stable
// order.
type Source struct {
	Bucket storage.BucketReader
	Root   string
	Files  []SourceFile
	// Manifest is the dataset's manifest when it has one; its files are
	// then exactly the files read.
	Manifest *Manifest
	// Schema is the schema of the dataset's rows.
	Schema Schema
}

// FormatOf tells a data file's format from its name ("" when it is not one).
func FormatOf(key string) string {
	switch {
	case strings.HasSuffix(key, ".parquet"):
		return "parquet"
	case strings.HasSuffix(key, ".jsonl"):
		return "jsonl"
	}
	return ""
}

// hidden tells paths that readers skip, by the Hive and Spark convention:
// any segment starting with "_" or ".".
func hidden(rel string) bool {
	for _, seg := range strings.Split(rel, "/") {
		if strings.HasPrefix(seg, "_") || strings.HasPrefix(seg, ".") {
			return true
		}
	}
	return false
}

// PartitionOf is the Hive partition path of rel: its directory segments of
// the form key=value.
func PartitionOf(rel string) string {
	var parts []string
	for _, seg := range strings.Split(path.Dir(rel), "/") {
		if strings.Contains(seg, "=") {
			parts = append(parts, seg)
		}
	}
	return strings.Join(parts, "/")
}

// OpenSource finds the data files of the dataset under root. A dataset
// with a manifest is read exactly as the manifest lists it; otherwise every
// .parquet and .jsonl file under root is read, recursively, in key order,
// skipping paths with a segment that starts with "_" or "." — except that a
// sub-directory holding a manifest (a committed dataset or run) contributes
// exactly its manifest's trajectory files, never leftovers beside them. A
// root that is itself a data file is read alone.
func OpenSource(ctx context.Context, b storage.BucketReader, root string) (*Source, error) {
	return OpenDataset(ctx, b, root, TrajectoriesDataset, TrajectorySchema)
}

// OpenDataset is OpenSource for any dataset: under a manifest it reads the
// entry named dataset, which must be of schema want; without one, every
// data file under root.
func OpenDataset(ctx context.Context, b storage.BucketReader, root, dataset string, want Schema) (*Source, error) {
	root = strings.Trim(root, "/")
	src := &Source{Bucket: b, Root: root, Schema: want}
	where := locationName(b, root)
	if root != "" && FormatOf(root) != "" {
		info, err := b.Stat(ctx, root)
		if err != nil {
			return nil, err
		}
		src.Files = []SourceFile{{Key: root, Rel: path.Base(root), Size: info.Size, Format: FormatOf(root), ContentID: etagID(info.ETag)}}
		return src, nil
	}
	m, err := readAnyManifest(ctx, b, root)
	if err != nil {
		return nil, err
	}
	if m != nil {
		src.Manifest = m
		files, err := manifestFiles(m, root, where, dataset, want)
		if err != nil {
			return nil, err
		}
		src.Files = files
		return src, nil
	}
	prefix := root
	if prefix != "" {
		prefix += "/"
	}
	objs, err := storage.List(ctx, b, prefix, nil)
	if err != nil {
		return nil, err
	}
	// Directories governed by a manifest, deepest first wins by prefix.
	var governed []string
	for _, o := range objs {
		rel := strings.TrimPrefix(o.Key, prefix)
		base := path.Base(rel)
		if (base == DatasetManifest || base == RunManifest || base == PendingMarker) && rel != base && !hidden(path.Dir(rel)) {
			governed = append(governed, path.Dir(rel))
		}
	}
	slices.Sort(governed)
	governed = slices.Compact(governed)
	for _, o := range objs {
		if strings.TrimPrefix(o.Key, prefix) == PendingMarker {
			return nil, fmt.Errorf("%s: an output is being written here, or its writer crashed (%s, no manifest): nothing committed to read", where, PendingMarker)
		}
	}
	underManifest := func(rel string) bool {
		for _, d := range governed {
			if strings.HasPrefix(rel, d+"/") {
				return true
			}
		}
		return false
	}
	// Loose files sort by key; a governed directory's files sort as one
	// group, at its key, in its manifest's order (a reduced run's shard
	// files are in shard order, which is not key order past 9 shards).
	type keyed struct {
		group string
		f     SourceFile
	}
	var all []keyed
	for _, o := range objs {
		rel := strings.TrimPrefix(o.Key, prefix)
		if hidden(rel) || FormatOf(rel) == "" || underManifest(rel) {
			continue
		}
		all = append(all, keyed{o.Key, SourceFile{Key: o.Key, Rel: rel, Size: o.Size, Format: FormatOf(rel), Partition: PartitionOf(rel), ContentID: etagID(o.ETag)}})
	}
	for _, d := range governed {
		sub := storage.Join(root, d)
		m, err := readAnyManifest(ctx, b, sub)
		if err != nil {
			return nil, err
		}
		if m == nil {
			continue // only pending: an output not committed (yet)
		}
		files, err := manifestFiles(m, sub, locationName(b, sub), dataset, want)
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			f.Rel = storage.Join(d, f.Rel)
			all = append(all, keyed{storage.Join(root, d) + "/", f})
		}
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].group < all[j].group })
	for _, k := range all {
		src.Files = append(src.Files, k.f)
	}
	if len(src.Files) == 0 {
		return nil, fmt.Errorf("%s: no .parquet or .jsonl files found: %w", where, storage.ErrNotFound)
	}
	return src, nil
}

// readAnyManifest reads dir's dataset manifest, else its run manifest;
// nil when it has neither.
func readAnyManifest(ctx context.Context, b storage.BucketReader, dir string) (*Manifest, error) {
	for _, name := range []string{DatasetManifest, RunManifest} {
		m, err := ReadManifest(ctx, b, storage.Join(dir, name))
		if err == nil {
			return m, nil
		}
		if !errors.Is(err, storage.ErrNotFound) {
			return nil, err
		}
	}
	return nil, nil
}

// safeRel tells relative paths that stay below their root: not absolute,
// no "." or ".." segment, no empty segment.
func safeRel(p string) bool {
	if p == "" || strings.HasPrefix(p, "/") || strings.Contains(p, "\\") {
		return false
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return false
		}
	}
	return true
}

// safePartition tells Hive partition paths: key=value segments that stay
// below their root ("" is no partition).
func safePartition(p string) bool {
	if p == "" {
		return true
	}
	if !safeRel(p) {
		return false
	}
	for _, seg := range strings.Split(p, "/") {
		if !strings.Contains(seg, "=") {
			return false
		}
	}
	return true
}

func manifestFiles(m *Manifest, dir, where, dataset string, want Schema) ([]SourceFile, error) {
	d := m.Dataset(dataset)
	if d == nil {
		return nil, fmt.Errorf("%s: the manifest has no %q dataset", where, dataset)
	}
	if err := d.Check(want); err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	var out []SourceFile
	for _, f := range d.Files {
		if !safeRel(f.Path) || !safePartition(f.Partition) {
			return nil, fmt.Errorf("%s: dataset %q: file %q (partition %q) is not a path below the manifest", where, dataset, f.Path, f.Partition)
		}
		out = append(out, SourceFile{Key: storage.Join(dir, f.Path), Rel: f.Path, Size: f.Bytes, Format: FormatOf(f.Path), Partition: f.Partition, ContentID: "sha256:" + f.SHA256})
	}
	return out, nil
}

func etagID(etag string) string {
	if etag == "" {
		return ""
	}
	return "etag:" + etag
}

// locationName is a location for messages: the store's name and a key.
func locationName(b storage.BucketReader, key string) string {
	if key == "" {
		return b.Name()
	}
	return strings.TrimSuffix(b.Name(), "/") + "/" + key
}

// Identify fills in the ContentID of files that lack one by hashing their
// content (sha256), so that a fingerprint over the source changes whenever
// any byte of the input does.
func (s *Source) Identify(ctx context.Context) error {
	for i := range s.Files {
		f := &s.Files[i]
		if f.ContentID != "" {
			continue
		}
		r, err := s.Bucket.GetRange(ctx, f.Key, 0, -1)
		if err != nil {
			return err
		}
		h := sha256.New()
		_, err = io.Copy(h, r)
		r.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", locationName(s.Bucket, f.Key), err)
		}
		f.ContentID = "sha256:" + hex.EncodeToString(h.Sum(nil))
	}
	return nil
}

// ScanStats counts what a scan saw.
type ScanStats struct {
	Rows    int64 // records passed to the callback
	Skipped int64 // bad records skipped under OnErrorSkip
}

// Position locates a record: its file and its row (Parquet, 0-based) or
// line (JSONL, 1-based).
type Position struct {
	File string
	Row  int64
	Line int64
}

// ScanFile streams the records of one data file into fn. T is a dataset's
// row type or a projection of it (a struct with a subset of its fields and
// tags): only T's columns are decoded. The file must be of opts.Schema
// (zero: the trajectory schema). Rows whose type implements Validator are
// validated (after Normalizer, for JSONL); a bad record is a *RecordError
// naming the file and row or line, which stops the scan under OnErrorFail
// and is counted, passed to onBad and passed over under OnErrorSkip.
func ScanFile[T any](ctx context.Context, b storage.BucketReader, f SourceFile, opts ReadOptions, policy OnError, onBad func(*RecordError), fn func(rec *T, pos Position) error) (ScanStats, error) {
	var st ScanStats
	name := locationName(b, f.Key)
	bad := func(re *RecordError) error {
		return policy.Handle(re, func(re *RecordError) {
			st.Skipped++
			if onBad != nil {
				onBad(re)
			}
		})
	}
	switch f.Format {
	case "parquet":
		ra, size, err := storage.OpenReaderAt(ctx, b, f.Key)
		if err != nil {
			return st, err
		}
		defer ra.Close()
		err = ReadParquet(ctx, ra, size, name, opts, func(batch []T, first int64) error {
			for i := range batch {
				if v, ok := any(&batch[i]).(Validator); ok {
					if err := v.Validate(); err != nil {
						if err := bad(&RecordError{File: name, Row: first + int64(i), Err: err}); err != nil {
							return err
						}
						continue
					}
				}
				if err := fn(&batch[i], Position{File: name, Row: first + int64(i)}); err != nil {
					return err
				}
				st.Rows++
			}
			return nil
		})
		return st, err
	case "jsonl":
		r, err := b.GetRange(ctx, f.Key, 0, -1)
		if err != nil {
			return st, err
		}
		defer r.Close()
		err = ReadJSONL(ctx, r, name, policy, func(re *RecordError) { _ = bad(re) }, func(rec *T, line int64) error {
			if n, ok := any(rec).(Normalizer); ok {
				n.Normalize()
			}
			if v, ok := any(rec).(Validator); ok {
				if err := v.Validate(); err != nil {
					return bad(&RecordError{File: name, Line: line, Row: -1, Err: err})
				}
			}
			st.Rows++
			return fn(rec, Position{File: name, Line: line, Row: -1})
		})
		return st, err
	}
	return st, fmt.Errorf("%s: unknown data file format (want .parquet or .jsonl)", name)
}
