package recall

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"sort"
)

// The on-disk format, version 1, little-endian throughout:
//
//	magic    "ATLRIDX\x00" (8 bytes)
//	version  uint32 (FormatVersion)
//	k1, b    float64 bits
//	fields   uvarint n, then n × (string name, float64 weight), sorted by name
//	kinds    uvarint n, then n strings, sorted
//	docs     uvarint n, then n × (string id, uvarint kind index, string title, bytes payload), sorted by id
//	terms    uvarint n, then n × (string term, uvarint postings, postings × (uvarint doc delta, float32 tf))
//	crc      uint32, CRC-32C (Castagnoli) of everything before it
//
// Strings and bytes are a uvarint length and the bytes. The format version
// also covers the tokenizer (Tokens, Stem, the stop words): an index is
// read only by a build that tokenizes queries as the index's builder did.

// FormatVersion is the version of the format WriteTo writes and Read reads.
const FormatVersion = 1

var magic = [8]byte{'A', 'T', 'L', 'R', 'I', 'D', 'X', 0}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// ErrFormat is matched (errors.Is) by Read's errors about data that is not
// a readable index: bad magic, another version, a checksum mismatch, a
// truncated or malformed body.
var ErrFormat = errors.New("not a readable recall index")

// WriteTo writes the index in the binary format. The same index always
// gives the same bytes.
func (ix *Index) WriteTo(w io.Writer) (int64, error) {
	cw := &countingWriter{w: w}
	bw := bufio.NewWriterSize(cw, 1<<16)
	h := crc32.New(castagnoli)
	e := &encoder{w: io.MultiWriter(bw, h)}
	e.raw(magic[:])
	e.u32(FormatVersion)
	e.f64(ix.k1)
	e.f64(ix.b)
	e.uvarint(uint64(len(ix.fields)))
	for _, f := range ix.fields {
		e.str(f.name)
		e.f64(f.weight)
	}
	e.uvarint(uint64(len(ix.kinds)))
	for _, k := range ix.kinds {
		e.str(k)
	}
	e.uvarint(uint64(len(ix.docs)))
	for _, d := range ix.docs {
		e.str(d.id)
		e.uvarint(uint64(d.kindIdx))
		e.str(d.title)
		e.str(string(d.payload))
	}
	e.uvarint(uint64(len(ix.terms)))
	for i, t := range ix.terms {
		e.str(t)
		ps := ix.post[ix.off[i]:ix.off[i+1]]
		e.uvarint(uint64(len(ps)))
		prev := uint32(0)
		for _, p := range ps {
			e.uvarint(uint64(p.doc - prev))
			prev = p.doc
			e.u32(math.Float32bits(p.tf))
		}
	}
	if e.err == nil {
		var sum [4]byte
		binary.LittleEndian.PutUint32(sum[:], h.Sum32())
		_, e.err = bw.Write(sum[:])
	}
	if e.err == nil {
		e.err = bw.Flush()
	}
	if e.err != nil {
		return cw.n, fmt.Errorf("write recall index: %w", e.err)
	}
	return cw.n, nil
}

// Read reads an index written by WriteTo. Data that is not an index of
// this version, or is corrupt or truncated, gives an error wrapping
// ErrFormat that says which.
func Read(r io.Reader) (*Index, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read recall index: %w", err)
	}
	return Decode(data)
}

// Decode is Read over bytes in memory.
func Decode(data []byte) (*Index, error) {
	const head = len(magic) + 4
	if len(data) < head+4 || [8]byte(data[:8]) != magic {
		return nil, fmt.Errorf("%w: bad magic (not a recall index file)", ErrFormat)
	}
	if v := binary.LittleEndian.Uint32(data[8:12]); v != FormatVersion {
		return nil, fmt.Errorf("%w: format version %d, this build reads version %d: rebuild the index with this build", ErrFormat, v, FormatVersion)
	}
	body, sum := data[:len(data)-4], binary.LittleEndian.Uint32(data[len(data)-4:])
	if crc32.Checksum(body, castagnoli) != sum {
		return nil, fmt.Errorf("%w: checksum mismatch (corrupt or truncated file)", ErrFormat)
	}
	d := &decoder{b: body[head:]}
	ix := &Index{k1: d.f64(), b: d.f64()}
	nf := d.count(9)
	for i := 0; i < nf && d.err == nil; i++ {
		ix.fields = append(ix.fields, fieldInfo{name: d.str(), weight: d.f64()})
	}
	nk := d.count(1)
	for i := 0; i < nk && d.err == nil; i++ {
		ix.kinds = append(ix.kinds, d.str())
	}
	nd := d.count(4)
	ix.docs = make([]storedDoc, 0, nd)
	for i := 0; i < nd && d.err == nil; i++ {
		sd := storedDoc{id: d.str()}
		ki := d.uvarint()
		if ki >= uint64(len(ix.kinds)) {
			d.fail("document %s: kind index %d out of range", sd.id, ki)
			break
		}
		sd.kindIdx, sd.kind = uint16(ki), ix.kinds[ki]
		sd.title = d.str()
		if p := d.bytes(); len(p) > 0 {
			sd.payload = append(make([]byte, 0, len(p)), p...) // not an alias of data
		}
		if i > 0 && ix.docs[i-1].id >= sd.id {
			d.fail("documents out of order at %s", sd.id)
			break
		}
		ix.docs = append(ix.docs, sd)
	}
	nt := d.count(2)
	ix.terms = make([]string, 0, nt)
	ix.off = make([]uint32, 0, nt+1)
	for i := 0; i < nt && d.err == nil; i++ {
		t := d.str()
		np := d.count(5)
		ix.off = append(ix.off, uint32(len(ix.post)))
		doc := uint64(0)
		for j := 0; j < np && d.err == nil; j++ {
			delta := d.uvarint()
			doc += delta
			if (j > 0 && delta == 0) || doc >= uint64(len(ix.docs)) {
				d.fail("term %q: posting %d: bad document number", t, j)
				break
			}
			ix.post = append(ix.post, posting{doc: uint32(doc), tf: math.Float32frombits(d.u32())})
		}
		ix.terms = append(ix.terms, t)
	}
	ix.off = append(ix.off, uint32(len(ix.post)))
	if d.err == nil && len(d.b) != 0 {
		d.fail("%d bytes after the terms", len(d.b))
	}
	if d.err == nil && !sort.StringsAreSorted(ix.terms) {
		d.fail("terms out of order")
	}
	if d.err != nil {
		return nil, fmt.Errorf("%w: %v", ErrFormat, d.err)
	}
	if err := ix.Options().Validate(); err != nil {
		return nil, fmt.Errorf("%w: options: %v", ErrFormat, err)
	}
	ix.computeIDF()
	return ix, nil
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

type encoder struct {
	w   io.Writer
	buf [binary.MaxVarintLen64]byte
	err error
}

func (e *encoder) raw(p []byte) {
	if e.err == nil {
		_, e.err = e.w.Write(p)
	}
}

func (e *encoder) uvarint(v uint64) { e.raw(e.buf[:binary.PutUvarint(e.buf[:], v)]) }

func (e *encoder) u32(v uint32) {
	binary.LittleEndian.PutUint32(e.buf[:4], v)
	e.raw(e.buf[:4])
}

func (e *encoder) f64(v float64) {
	binary.LittleEndian.PutUint64(e.buf[:8], math.Float64bits(v))
	e.raw(e.buf[:8])
}

func (e *encoder) str(s string) {
	e.uvarint(uint64(len(s)))
	if e.err == nil {
		_, e.err = io.WriteString(e.w, s)
	}
}

// decoder reads the body; the first error sticks and later reads return
// zero values.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf(format, args...)
	}
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail("truncated or bad varint")
		return 0
	}
	d.b = d.b[n:]
	return v
}

// count reads a count of items that take at least minSize bytes each,
// refusing counts the remaining data cannot hold.
func (d *decoder) count(minSize int) int {
	v := d.uvarint()
	if d.err == nil && v > uint64(len(d.b)/minSize) {
		d.fail("count %d exceeds the remaining %d bytes", v, len(d.b))
		return 0
	}
	return int(v)
}

func (d *decoder) take(n int) []byte {
	if d.err != nil {
		return nil
	}
	if n > len(d.b) {
		d.fail("truncated: want %d bytes, have %d", n, len(d.b))
		return nil
	}
	p := d.b[:n:n]
	d.b = d.b[n:]
	return p
}

func (d *decoder) u32() uint32 {
	if p := d.take(4); p != nil {
		return binary.LittleEndian.Uint32(p)
	}
	return 0
}

func (d *decoder) f64() float64 {
	if p := d.take(8); p != nil {
		return math.Float64frombits(binary.LittleEndian.Uint64(p))
	}
	return 0
}

func (d *decoder) bytes() []byte {
	n := d.uvarint()
	if d.err == nil && n > uint64(len(d.b)) {
		d.fail("truncated: want %d bytes, have %d", n, len(d.b))
		return nil
	}
	return d.take(int(n))
}

func (d *decoder) str() string { return string(d.bytes()) }
