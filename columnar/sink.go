package columnar

import (
	"context"
	"fmt"
	"sort"

	"github.com/atlas-ai/atlas-learn/columnar/storage"
)

// SinkOptions configures a Sink.
type SinkOptions struct {
	// Dataset names the dataset in the manifest (default "trajectories").
	Dataset string
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
	Partition func(*Trajectory) string
	// RowsPerFile starts a new part file after this many rows (default
	// 100,000).
	RowsPerFile int64
	// JSONL writes the native JSONL form beside each Parquet file.
	JSONL bool
	// Parquet configures the Parquet files.
	Parquet WriterOptions
}

// Sink writes trajectories into Parquet part files, one sequence of parts
// per partition, through a Committer. Records go to files in the order
// they arrive, so the same sequence of records gives the same files.
type Sink struct {
	c     *Committer
	opts  SinkOptions
	parts map[string]*sinkPart
}

type sinkPart struct {
	index int
	rows  int64
	fw    *FileWriter
	pw    *Writer[Trajectory]
	jfw   *FileWriter
	jw    *JSONLWriter[Trajectory]
	buf   []Trajectory
}

// NewSink starts a dataset on c.
func NewSink(c *Committer, opts SinkOptions) *Sink {
	if opts.Dataset == "" {
		opts.Dataset = TrajectoriesDataset
	}
	if opts.RowsPerFile <= 0 {
		opts.RowsPerFile = 100_000
	}
	return &Sink{c: c, opts: opts, parts: map[string]*sinkPart{}}
}

const sinkBatch = 256

// Write adds one trajectory.
func (s *Sink) Write(ctx context.Context, t Trajectory) error {
	t.Normalize()
	if err := t.Validate(); err != nil {
		return fmt.Errorf("trajectory %q: %w", t.TrajectoryID, err)
	}
	part := ""
	if s.opts.Partition != nil {
		part = s.opts.Partition(&t)
	}
	p := s.parts[part]
	if p == nil {
		p = &sinkPart{}
		s.parts[part] = p
	}
	if p.pw == nil {
		if err := s.open(ctx, part, p); err != nil {
			return err
		}
	}
	p.buf = append(p.buf, t)
	p.rows++
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

func (s *Sink) open(ctx context.Context, part string, p *sinkPart) error {
	name := fmt.Sprintf("part-%05d", p.index)
	if s.opts.Shard != "" {
		name = fmt.Sprintf("part-%s-%05d", s.opts.Shard, p.index)
	}
	base := storage.Join(s.opts.Dir, part, name)
	if s.opts.Fingerprint != "" {
		base += "-" + s.opts.Fingerprint
	}
	fw, err := s.c.Create(ctx, s.opts.Dataset, "parquet", base+".parquet", part)
	if err != nil {
		return err
	}
	pw, err := NewWriter[Trajectory](fw, s.opts.Parquet)
	if err != nil {
		fw.Abort()
		return err
	}
	p.fw, p.pw, p.rows = fw, pw, 0
	if s.opts.JSONL {
		jfw, err := s.c.Create(ctx, s.opts.Dataset+".jsonl", "jsonl", base+".jsonl", part)
		if err != nil {
			return err
		}
		p.jfw, p.jw = jfw, NewJSONLWriter[Trajectory](jfw)
	}
	return nil
}

func (p *sinkPart) flush() error {
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

func (s *Sink) closePart(p *sinkPart) error {
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

// Close finishes every open part file, in partition order.
func (s *Sink) Close() error {
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
func (s *Sink) Abort() {
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
