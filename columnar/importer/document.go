package importer

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/atlas-ai/atlas-learn/columnar"
)

// linesOrDocument reads a JSONL format's input. JSON lines, one record per
// line, stream through lines. A file whose first record does not end on
// its first line — a pretty-printed JSON object, an array of records, or
// several pretty-printed objects one after another — is read whole as a
// JSON document instead: each top-level object is a record, and so is each
// element of a top-level array; a record's line is the line it starts on.
// When the file is not a well-formed JSON document either, it is read as
// JSON lines after all, so that each bad line is reported (and, under
// skip, passed over) on its own.
func (s *session) linesOrDocument(r io.Reader, conv converter) error {
	br := bufio.NewReaderSize(r, 64<<10)
	head, first, over, err := readHead(br, s.maxLine())
	if err != nil {
		return fmt.Errorf("import %s: read: %w", s.name, err)
	}
	if over || !documentStart(first) {
		return s.lines(io.MultiReader(bytes.NewReader(head), br), conv)
	}
	rest, err := io.ReadAll(br)
	if err != nil {
		return fmt.Errorf("import %s: read: %w", s.name, err)
	}
	all := append(head, rest...)
	spans, errAt, derr := documentRecords(all)
	if derr != nil {
		if errAt <= int64(len(head)) || json.Valid(bytes.TrimSpace(nextLine(rest))) {
			// The first line is bad on its own, or the next one is a
			// whole JSON value: JSON lines with a bad first line.
			return s.lines(bytes.NewReader(all), conv)
		}
		line := 1 + int64(bytes.Count(all[:errAt], []byte("\n")))
		return s.bad(&columnar.RecordError{File: s.name, Line: line, Row: -1,
			Err: fmt.Errorf("invalid JSON: %w (the file is a JSON document spanning lines, not JSON lines with one record per line)", derr)})
	}
	stem := fileStem(s.name)
	for _, sp := range spans {
		if err := s.ctx.Err(); err != nil {
			return fmt.Errorf("import %s: %w", s.name, err)
		}
		clean, replaced := columnar.SanitizeJSON(all[sp.start:sp.end])
		line := 1 + int64(bytes.Count(all[:sp.start], []byte("\n")))
		if err := s.handle(record{name: s.name, stem: stem, line: line, data: clean, replaced: replaced}, conv); err != nil {
			return err
		}
	}
	return nil
}

// maxLine is the line cap in force.
func (s *session) maxLine() int {
	if s.opts.MaxLine > 0 {
		return s.opts.MaxLine
	}
	return columnar.MaxJSONLLine
}

// readHead reads r up to and including its first non-blank line (at most
// max bytes of it); head is everything read, first that line, and over
// tells that the line is longer than max.
func readHead(br *bufio.Reader, max int) (head, first []byte, over bool, err error) {
	for {
		start := len(head)
		for {
			chunk, err := br.ReadSlice('\n')
			head = append(head, chunk...)
			if err == bufio.ErrBufferFull && len(head)-start <= max {
				continue
			}
			if err != nil && err != bufio.ErrBufferFull && err != io.EOF {
				return nil, nil, false, err
			}
			if len(head)-start > max {
				return head, head[start:], true, nil
			}
			if err == io.EOF {
				return head, head[start:], false, nil
			}
			break
		}
		line := bytes.TrimSpace(bytes.TrimPrefix(head[start:], utf8BOM))
		if len(line) > 0 {
			return head, head[start:], false, nil
		}
	}
}

// documentStart reports whether a file's first non-blank line starts a
// JSON document that does not end on it: an object or an array left open.
// A line that is a whole JSON value is a JSON line, whatever its kind.
func documentStart(first []byte) bool {
	line := bytes.TrimSpace(bytes.TrimPrefix(first, utf8BOM))
	if len(line) == 0 {
		return false
	}
	return (line[0] == '{' || line[0] == '[') && !json.Valid(line)
}

// span is a record's byte range in a document.
type span struct{ start, end int64 }

// documentRecords splits data, a sequence of JSON values, into records:
// each top-level object, or each element of a top-level array. When data
// is not such a sequence, err says why and errAt is about where.
func documentRecords(data []byte) (spans []span, errAt int64, err error) {
	bom := int64(0) // offsets below are into data after its BOM
	if bytes.HasPrefix(data, utf8BOM) {
		bom = int64(len(utf8BOM))
		data = data[bom:]
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	start := func() int64 {
		i := dec.InputOffset()
		for i < int64(len(data)) && bytes.IndexByte([]byte(" \t\r\n,"), data[i]) >= 0 {
			i++
		}
		return i
	}
	fail := func(err error) ([]span, int64, error) {
		at := int64(len(data))
		var se *json.SyntaxError
		if errors.As(err, &se) && se.Offset < at {
			at = se.Offset
		}
		return nil, at + bom, err
	}
	for {
		i := start()
		if i >= int64(len(data)) {
			break
		}
		if data[i] == '[' {
			if _, err := dec.Token(); err != nil {
				return fail(err)
			}
			for dec.More() {
				st := start()
				var v json.RawMessage
				if err := dec.Decode(&v); err != nil {
					return fail(err)
				}
				spans = append(spans, span{st + bom, dec.InputOffset() + bom})
			}
			if _, err := dec.Token(); err != nil {
				return fail(err)
			}
			continue
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return fail(err)
		}
		spans = append(spans, span{i + bom, dec.InputOffset() + bom})
	}
	return spans, 0, nil
}

// nextLine is data's first non-blank line.
func nextLine(data []byte) []byte {
	for len(data) > 0 {
		line, rest, _ := bytes.Cut(data, []byte("\n"))
		if len(bytes.TrimSpace(line)) > 0 {
			return line
		}
		data = rest
	}
	return nil
}
