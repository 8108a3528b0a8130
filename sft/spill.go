package sft

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
)

// store holds one bucket's examples, encoded, in memory or in a file.
type store struct {
	path string // "" for memory
	mem  bytes.Buffer
	f    *os.File
	w    *bufio.Writer
	n    int64 // records
	buf  []byte
}

// newStore starts a store: a file in dir, or memory when dir is "".
func newStore(dir, name string) (*store, error) {
	s := &store{}
	if dir == "" {
		return s, nil
	}
	s.path = dir + string(os.PathSeparator) + name
	f, err := os.Create(s.path)
	if err != nil {
		return nil, fmt.Errorf("sft: spill: %w", err)
	}
	s.f, s.w = f, bufio.NewWriterSize(f, 256<<10)
	return s, nil
}

// put appends e.
func (s *store) put(e *Example) error {
	s.buf = encodeExample(s.buf[:0], e)
	var n [binary.MaxVarintLen64]byte
	k := binary.PutUvarint(n[:], uint64(len(s.buf)))
	s.n++
	if s.f == nil {
		s.mem.Write(n[:k])
		s.mem.Write(s.buf)
		return nil
	}
	if _, err := s.w.Write(n[:k]); err != nil {
		return fmt.Errorf("sft: spill: %w", err)
	}
	if _, err := s.w.Write(s.buf); err != nil {
		return fmt.Errorf("sft: spill: %w", err)
	}
	return nil
}

// finish ends the writing; the store can then be read (more than once).
func (s *store) finish() error {
	if s.f == nil {
		return nil
	}
	if err := s.w.Flush(); err != nil {
		return fmt.Errorf("sft: spill: %w", err)
	}
	if err := s.f.Close(); err != nil {
		return fmt.Errorf("sft: spill: %w", err)
	}
	s.f, s.w = nil, nil
	return nil
}

// reader reads the store's examples back in the order they were put.
func (s *store) reader() (*storeReader, error) {
	if s.path == "" {
		return &storeReader{r: bufio.NewReader(bytes.NewReader(s.mem.Bytes()))}, nil
	}
	f, err := os.Open(s.path)
	if err != nil {
		return nil, fmt.Errorf("sft: spill: %w", err)
	}
	return &storeReader{r: bufio.NewReaderSize(f, 128<<10), f: f}, nil
}

// drop frees the store's memory or deletes its file.
func (s *store) drop() error {
	s.mem = bytes.Buffer{}
	if s.f != nil {
		s.f.Close()
		s.f = nil
	}
	if s.path == "" {
		return nil
	}
	err := os.Remove(s.path)
	if errors.Is(err, os.ErrNotExist) {
		err = nil
	}
	return err
}

type storeReader struct {
	r   *bufio.Reader
	f   *os.File
	buf []byte
}

// next decodes the next example into e; io.EOF at the end.
func (r *storeReader) next(e *Example, system string) error {
	n, err := binary.ReadUvarint(r.r)
	if err != nil {
		if errors.Is(err, io.EOF) {
			return io.EOF
		}
		return fmt.Errorf("sft: spill: %w", err)
	}
	if uint64(cap(r.buf)) < n {
		r.buf = make([]byte, n)
	}
	r.buf = r.buf[:n]
	if _, err := io.ReadFull(r.r, r.buf); err != nil {
		return fmt.Errorf("sft: spill: %w", err)
	}
	if err := decodeExample(string(r.buf), e); err != nil {
		return err
	}
	e.System = system
	return nil
}

func (r *storeReader) close() {
	if r.f != nil {
		r.f.Close()
	}
}

// readAll decodes every example of s.
func (s *store) readAll(system string) ([]Example, error) {
	r, err := s.reader()
	if err != nil {
		return nil, err
	}
	defer r.close()
	out := make([]Example, 0, s.n)
	for {
		var e Example
		err := r.next(&e, system)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
}

// Example flags in the encoding.
const (
	flagTruncated = 1 << iota
	flagCounted
	flagErr
)

// encodeExample appends e's fields but System (every example's is the
// options'), Split and QualityBin (set last).
func encodeExample(b []byte, e *Example) []byte {
	b = binary.AppendVarint(b, e.rk.seq)
	b = binary.LittleEndian.AppendUint64(b, e.rk.hash)
	for _, s := range [...]string{e.ID, e.TrajectoryID, e.TaskID, e.Kind, e.Subkind, e.Prompt, e.Completion, e.QualitySource, e.taskText, e.history} {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	b = binary.AppendVarint(b, int64(e.Step))
	for _, f := range [...]float64{e.Weight, e.Quality, e.Reward} {
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(f))
	}
	for _, n := range [...]int32{e.SystemTokens, e.PromptTokens, e.CompletionTokens, e.TotalTokens} {
		b = binary.AppendVarint(b, int64(n))
	}
	var fl byte
	if e.Truncated {
		fl |= flagTruncated
	}
	if e.counted {
		fl |= flagCounted
	}
	if e.isErr {
		fl |= flagErr
	}
	return append(b, fl)
}

// decodeExample decodes what encodeExample wrote; the strings share rec.
func decodeExample(rec string, e *Example) error {
	d := decoder{s: rec}
	seq := d.varint()
	hash := d.u64()
	var strs [10]string
	for i := range strs {
		strs[i] = d.str()
	}
	e.ID, e.TrajectoryID, e.TaskID, e.Kind, e.Subkind, e.Prompt, e.Completion, e.QualitySource, e.taskText, e.history =
		strs[0], strs[1], strs[2], strs[3], strs[4], strs[5], strs[6], strs[7], strs[8], strs[9]
	e.Step = int32(d.varint())
	e.Weight, e.Quality, e.Reward = math.Float64frombits(d.u64()), math.Float64frombits(d.u64()), math.Float64frombits(d.u64())
	e.SystemTokens, e.PromptTokens, e.CompletionTokens, e.TotalTokens = int32(d.varint()), int32(d.varint()), int32(d.varint()), int32(d.varint())
	fl := d.byte()
	if d.bad {
		return fmt.Errorf("sft: spill: a corrupt record")
	}
	e.Truncated, e.counted, e.isErr = fl&flagTruncated != 0, fl&flagCounted != 0, fl&flagErr != 0
	e.QualityBin = -1
	e.rk = rankKeyOf(e, hash, seq)
	return nil
}

type decoder struct {
	s   string
	bad bool
}

func (d *decoder) varint() int64 {
	v, n := binary.Varint([]byte(d.s[:min(len(d.s), binary.MaxVarintLen64)]))
	if n <= 0 {
		d.bad = true
		return 0
	}
	d.s = d.s[n:]
	return v
}

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint([]byte(d.s[:min(len(d.s), binary.MaxVarintLen64)]))
	if n <= 0 {
		d.bad = true
		return 0
	}
	d.s = d.s[n:]
	return v
}

func (d *decoder) u64() uint64 {
	if len(d.s) < 8 {
		d.bad = true
		return 0
	}
	v := binary.LittleEndian.Uint64([]byte(d.s[:8]))
	d.s = d.s[8:]
	return v
}

func (d *decoder) str() string {
	n := d.uvarint()
	if d.bad || uint64(len(d.s)) < n {
		d.bad = true
		return ""
	}
	s := d.s[:n]
	d.s = d.s[n:]
	return s
}

func (d *decoder) byte() byte {
	if len(d.s) < 1 {
		d.bad = true
		return 0
	}
	b := d.s[0]
	d.s = d.s[1:]
	return b
}
