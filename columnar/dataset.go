package columnar

import (
	"context"
	"errors"
	"fmt"
	"path"
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
// skipping paths with a segment that starts with "_" or ".". A root that is
// itself a data file is read alone.
func OpenSource(ctx context.Context, b storage.BucketReader, root string) (*Source, error) {
	root = strings.Trim(root, "/")
	src := &Source{Bucket: b, Root: root}
	if root != "" && FormatOf(root) != "" {
		info, err := b.Stat(ctx, root)
		if err != nil {
			return nil, err
		}
		src.Files = []SourceFile{{Key: root, Rel: path.Base(root), Size: info.Size, Format: FormatOf(root)}}
		return src, nil
	}
	m, err := ReadManifest(ctx, b, storage.Join(root, DatasetManifest))
	if errors.Is(err, storage.ErrNotFound) {
		// A run directory: its manifest names the run's datasets.
		m, err = ReadManifest(ctx, b, storage.Join(root, RunManifest))
	}
	if err == nil {
		src.Manifest = m
		d := m.Dataset(TrajectoriesDataset)
		if d == nil {
			return nil, fmt.Errorf("%s: the manifest has no %q dataset", storage.Join(b.Name(), root), TrajectoriesDataset)
		}
		for _, f := range d.Files {
			src.Files = append(src.Files, SourceFile{Key: storage.Join(root, f.Path), Rel: f.Path, Size: f.Bytes, Format: FormatOf(f.Path), Partition: f.Partition})
		}
		return src, nil
	}
	if !errors.Is(err, storage.ErrNotFound) {
		return nil, err
	}
	prefix := root
	if prefix != "" {
		prefix += "/"
	}
	objs, err := storage.List(ctx, b, prefix, nil)
	if err != nil {
		return nil, err
	}
	for _, o := range objs {
		rel := strings.TrimPrefix(o.Key, prefix)
		if hidden(rel) || FormatOf(rel) == "" {
			continue
		}
		src.Files = append(src.Files, SourceFile{Key: o.Key, Rel: rel, Size: o.Size, Format: FormatOf(rel), Partition: PartitionOf(rel)})
	}
	if len(src.Files) == 0 {
		return nil, fmt.Errorf("%s: no .parquet or .jsonl files found: %w", storage.Join(b.Name(), root), storage.ErrNotFound)
	}
	return src, nil
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

// ScanFile streams the records of one data file into fn. T is Trajectory
// or a projection of it (a struct with a subset of its fields and tags):
// only T's columns are decoded. Full trajectories are validated; a bad
// record is a *RecordError naming the file and row or line, which stops
// the scan under OnErrorFail and is counted, passed to onBad and passed
// over under OnErrorSkip.
func ScanFile[T any](ctx context.Context, b storage.BucketReader, f SourceFile, opts ReadOptions, policy OnError, onBad func(*RecordError), fn func(rec *T, pos Position) error) (ScanStats, error) {
	var st ScanStats
	name := strings.TrimSuffix(b.Name(), "/") + "/" + f.Key
	bad := func(re *RecordError) error {
		if policy != OnErrorSkip {
			return re
		}
		st.Skipped++
		if onBad != nil {
			onBad(re)
		}
		return nil
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
				if t, ok := any(&batch[i]).(*Trajectory); ok {
					if err := t.Validate(); err != nil {
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
			if t, ok := any(rec).(*Trajectory); ok {
				if err := t.Validate(); err != nil {
					return bad(&RecordError{File: name, Line: line, Err: err})
				}
			}
			st.Rows++
			return fn(rec, Position{File: name, Line: line, Row: -1})
		})
		return st, err
	}
	return st, fmt.Errorf("%s: unknown data file format (want .parquet or .jsonl)", name)
}
