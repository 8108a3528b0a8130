package columnar

import (
	"context"
	"fmt"
	"sort"

	"github.com/atlas-ai/atlas-learn/columnar/storage"
)

// DatasetInfo describes a dataset in a manifest: its name (also the key
// of its manifest entry), the schema of its rows and the stage that
// produced it.
type DatasetInfo struct {
	Name   string
	Schema Schema
	// Stage is the run stage that wrote the dataset ("" outside runs).
	Stage string
}

// SinkOptions configures a Sink of rows of type T.
type SinkOptions[T any] struct {
	// Dataset names the dataset, its schema and stage in the manifest
	// (default: the trajectory dataset and schema).
	Dataset DatasetInfo
	// Dir is the dataset's directory under the committer's root ("" for
	// the root itself).
	Dir string
	// Fingerprint goes into every file name (part-00000-<fp>.parquet), so
	// that files of different outputs never collide.
	Fingerprint string
	// Shard, when set, goes into every file name before the part number
	// (part-<shard>-00000-<fp>.parquet): writers of different shards of
	// one dataset then never collide.
	Shard string
	// Partition gives a record's Hive partition path, or "" for none.
	Partition func(*T) string
	// RowsPerFile starts a new part file after this many rows (default
	// 100,000).
	RowsPerFile int64
	// JSONL writes each row as a JSON line beside each Parquet file, as
	// the dataset "<name>.jsonl".
	JSONL bool
	// WriteEmpty writes one Parquet file with no rows when the sink gets
	// none, so that an empty dataset still carries its schema.
	WriteEmpty bool
	// MaxOpenParts bounds the part files open at once (default 4): when a
	// row arrives for a partition without an open file and the bound is
	// reached, the least recently written partition's file is finished,
	// and that partition's next row starts a new file. An open file holds
	// a row group in memory, so this bounds the sink's memory whatever
	// the number of partitions; as files close by the order of writes,
	// the same rows in the same order still give the same files.
	MaxOpenParts int
	// Parquet configures the Parquet files (its Schema is set from
	// Dataset).
	Parquet WriterOptions
}

// Normalizer is implemented by row types that have a canonical form the
// sink puts them in before writing (Trajectory does).
type Normalizer interface{ Normalize() }

// Validator is implemented by row types with invariants: the sink refuses
// a row that fails them, and ScanFile reports such a row as a bad record.
type Validator interface{ Validate() error }

// Sink writes rows of type T into Parquet part files (and JSONL beside
// them when configured), one sequence of parts per partition, through a
// Committer. Rows go to files in the order they arrive, so the same
// sequence of rows gives the same files. A Sink is not safe for
// concurrent use.
type Sink[T any] struct {
	c     *Committer
	opts  SinkOptions[T]
	parts map[string]*sinkPart[T]
	rows  int64
}

type sinkPart[T any] struct {
	index int
	last  int64 // sequence number of the last write
	rows  int64
	fw    *FileWriter
	pw    *Writer[T]
	jfw   *FileWriter
	jw    *JSONLWriter[T]
	buf   []T
}

// NewSink starts a dataset on c.
func NewSink[T any](c *Committer, opts SinkOptions[T]) *Sink[T] {
	if opts.Dataset.Name == "" {
		opts.Dataset.Name = TrajectoriesDataset
	}
	opts.Dataset.Schema = opts.Dataset.Schema.orTrajectory()
	opts.Parquet.Schema = opts.Dataset.Schema
	if opts.RowsPerFile <= 0 {
		opts.RowsPerFile = 100_000
	}
	if opts.MaxOpenParts <= 0 {
		opts.MaxOpenParts = 4
	}
	c.Declare(opts.Dataset, "parquet")
	if opts.JSONL {
		c.Declare(jsonlInfo(opts.Dataset), "jsonl")
	}
	return &Sink[T]{c: c, opts: opts, parts: map[string]*sinkPart[T]{}}
}

func jsonlInfo(d DatasetInfo) DatasetInfo {
	d.Name += ".jsonl"
	return d
}

const sinkBatch = 256

// Write adds one row, in the partition SinkOptions.Partition gives it. A
// row type that implements Normalizer is normalized first; one that
// implements Validator must be valid.
func (s *Sink[T]) Write(ctx context.Context, row T) error {
	part := ""
	if s.opts.Partition != nil {
		part = s.opts.Partition(&row)
	}
	return s.WritePartition(ctx, part, row)
}

// WritePartition is Write into the given Hive partition ("" for none).
func (s *Sink[T]) WritePartition(ctx context.Context, part string, row T) error {
	if n, ok := any(&row).(Normalizer); ok {
		n.Normalize()
	}
	if v, ok := any(&row).(Validator); ok {
		if err := v.Validate(); err != nil {
			return fmt.Errorf("dataset %s: row %d: %w", s.opts.Dataset.Name, s.rows, err)
		}
	}
	p := s.parts[part]
	if p == nil {
		p = &sinkPart[T]{}
		s.parts[part] = p
	}
	if p.pw == nil {
		if err := s.closeLeastRecent(); err != nil {
			return err
		}
		if err := s.open(ctx, part, p); err != nil {
			return err
		}
	}
	p.last = s.rows
	p.buf = append(p.buf, row)
	p.rows++
	s.rows++
	if len(p.buf) >= sinkBatch {
		if err := p.flush(); err != nil {
			return err
		}
	}
	if p.rows >= s.opts.RowsPerFile {
		return s.closePart(p)
	}
	return nil
}

// Rows is the number of rows written so far.
func (s *Sink[T]) Rows() int64 { return s.rows }

// closeLeastRecent finishes the least recently written open part file
// when MaxOpenParts are open.
func (s *Sink[T]) closeLeastRecent() error {
	var oldest *sinkPart[T]
	open := 0
	for _, p := range s.parts {
		if p.pw == nil {
			continue
		}
		open++
		if oldest == nil || p.last < oldest.last {
			oldest = p
		}
	}
	if open < s.opts.MaxOpenParts {
		return nil
	}
	return s.closePart(oldest)
}

func (s *Sink[T]) open(ctx context.Context, part string, p *sinkPart[T]) error {
	name := fmt.Sprintf("part-%05d", p.index)
	if s.opts.Shard != "" {
		name = fmt.Sprintf("part-%s-%05d", s.opts.Shard, p.index)
	}
	base := storage.Join(s.opts.Dir, part, name)
	if s.opts.Fingerprint != "" {
		base += "-" + s.opts.Fingerprint
	}
	fw, err := s.c.Create(ctx, s.opts.Dataset.Name, base+".parquet", part)
	if err != nil {
		return err
	}
	pw, err := NewWriter[T](fw, s.opts.Parquet)
	if err != nil {
		fw.Abort()
		return err
	}
	p.fw, p.pw, p.rows = fw, pw, 0
	if s.opts.JSONL {
		jfw, err := s.c.Create(ctx, jsonlInfo(s.opts.Dataset).Name, base+".jsonl", part)
		if err != nil {
			return err
		}
		p.jfw, p.jw = jfw, NewJSONLWriter[T](jfw)
	}
	return nil
}

func (p *sinkPart[T]) flush() error {
	if p.pw == nil {
		return nil
	}
	if len(p.buf) == 0 {
		return nil
	}
	if err := p.pw.Write(p.buf); err != nil {
		return err
	}
	if p.jw != nil {
		if err := p.jw.Write(p.buf); err != nil {
			return err
		}
	}
	clear(p.buf)
	p.buf = p.buf[:0]
	return nil
}

func (s *Sink[T]) closePart(p *sinkPart[T]) error {
	if p.pw == nil {
		return nil
	}
	if err := p.flush(); err != nil {
		return err
	}
	if err := p.pw.Close(); err != nil {
		return err
	}
	p.fw.Rows = p.pw.Rows()
	if err := p.fw.Close(); err != nil {
		return err
	}
	p.pw, p.fw = nil, nil
	if p.jw != nil {
		if err := p.jw.Close(); err != nil {
			return err
		}
		p.jfw.Rows = p.jw.Rows()
		if err := p.jfw.Close(); err != nil {
			return err
		}
	}
	p.jw, p.jfw = nil, nil
	p.index++
	return nil
}

// Close finishes every open part file, in partition order. With
// WriteEmpty and no rows written, it writes one empty file first.
func (s *Sink[T]) Close(ctx context.Context) error {
	if s.opts.WriteEmpty && len(s.parts) == 0 {
		p := &sinkPart[T]{}
		s.parts[""] = p
		if err := s.open(ctx, "", p); err != nil {
			s.Abort()
			return err
		}
	}
	keys := make([]string, 0, len(s.parts))
	for k := range s.parts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if err := s.closePart(s.parts[k]); err != nil {
			s.Abort()
			return err
		}
	}
	return nil
}

// Abort discards the open part files.
func (s *Sink[T]) Abort() {
	for _, p := range s.parts {
		if p.fw != nil {
			p.fw.Abort()
		}
		if p.jfw != nil {
			p.jfw.Abort()
		}
	}
}

// DatePartition partitions by the UTC day of created_at: dt=YYYY-MM-DD.
func DatePartition(t *Trajectory) string {
	return "dt=" + t.CreatedAt.UTC().Format("2006-01-02")
}
