package columnar

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// MaxJSONLLine bounds one JSONL record (64 MiB): a longer line is reported
// as an error rather than exhausting memory.
const MaxJSONLLine = 64 << 20

// OnError says what a reader does with a bad record.
type OnError string

// The two policies for bad records.
const (
	// OnErrorFail stops at the first bad record with an error naming it.
	OnErrorFail OnError = "fail"
	// OnErrorSkip counts the bad record, logs it and goes on.
	OnErrorSkip OnError = "skip"
)

// Validate reports an unknown policy.
func (o OnError) Validate() error {
	switch o {
	case OnErrorFail, OnErrorSkip:
		return nil
	}
	return fmt.Errorf("on_error: want fail or skip, got %q", string(o))
}

// Handle applies the policy to a bad record: under OnErrorSkip it passes
// re to onBad (when not nil) and returns nil, so that the caller goes on
// with the next record; under OnErrorFail (or an empty policy) it returns
// re, which stops the caller. It is the one place the choice is made.
func (o OnError) Handle(re *RecordError, onBad func(*RecordError)) error {
	if o != OnErrorSkip {
		return re
	}
	if onBad != nil {
		onBad(re)
	}
	return nil
}

// RecordError is a bad record: the file, its line or row, and what is
// wrong. It is the error every reader and importer reports for a record it
// cannot read, for example "chat.jsonl: line 7: field messages: expected a
// list, got string".
type RecordError struct {
	File string
	// Line is the 1-based line of the record (JSONL) or of the fault in a
	// single-document file, or 0.
	Line int64
	// Row is the 0-based Parquet row, or -1 when the record is not a row.
	Row int64
	// Field is the path of the offending field, like "messages[3].role";
	// empty when the error is not about one field.
	Field string
	Err   error
}

func (e *RecordError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	switch {
	case e.Line > 0:
		fmt.Fprintf(&b, ": line %d", e.Line)
	case e.Row >= 0:
		fmt.Fprintf(&b, ": row %d", e.Row)
	}
	if e.Field != "" {
		fmt.Fprintf(&b, ": field %s", e.Field)
	}
	fmt.Fprintf(&b, ": %v", e.Err)
	return b.String()
}

func (e *RecordError) Unwrap() error { return e.Err }

// ReadJSONL streams JSON-lines records of type T from r into fn, one at a
// time, reading lines with ScanLines (capped at MaxJSONLLine). Blank lines
// are ignored. Invalid UTF-8 in a line is replaced with U+FFFD before it
// is decoded (see SanitizeJSON), and a Trajectory records the count (see
// UTF8ReplacedKey). A line that is not valid JSON for T, or is too long, is a
// *RecordError naming name and the line; with OnErrorSkip, onBad (when not
// nil) gets it and reading goes on.
func ReadJSONL[T any](ctx context.Context, r io.Reader, name string, policy OnError, onBad func(*RecordError), fn func(rec *T, line int64) error) error {
	// A full trajectory must have no field the schema lacks (it would be
	// lost); projections read what they need and ignore the rest.
	_, strict := any(new(T)).(*Trajectory)
	return ScanLines(ctx, r, name, MaxJSONLLine, policy, onBad, func(b []byte, line int64) error {
		// Invalid UTF-8 would be replaced silently by the decoder (and kept
		// verbatim in raw JSON fields): replace it first, and count it.
		b, replaced := SanitizeJSON(b)
		var rec T
		if err := decodeStrict(b, &rec, strict); err != nil {
			return policy.Handle(&RecordError{File: name, Line: line, Row: -1, Err: err}, onBad)
		}
		if t, ok := any(&rec).(*Trajectory); ok {
			t.AddUTF8Replacements(replaced)
		}
		// The callback's errors are its own (a bad record it found, a
		// failed write): they pass through as they are.
		return fn(&rec, line)
	})
}

// decodeStrict decodes one JSON value and explains type errors by field.
func decodeStrict(b []byte, v any, noUnknown bool) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	if noUnknown {
		dec.DisallowUnknownFields()
	}
	if err := dec.Decode(v); err != nil {
		if f, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
			return fmt.Errorf("field %s: not in trajectory schema version %d (put source fields in extra)", strings.Trim(f, `"`), SchemaVersion)
		}
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return fmt.Errorf("field %s: expected %s, got JSON %s", te.Field, te.Type, te.Value)
		}
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return fmt.Errorf("malformed JSON at byte %d: %v", se.Offset, err)
		}
		return fmt.Errorf("malformed JSON: %w", err)
	}
	if dec.More() {
		return errors.New("malformed JSON: more than one value on the line")
	}
	return nil
}

// JSONLWriter writes records as JSON lines, HTML characters unescaped and
// map keys sorted, so the same records give the same bytes.
type JSONLWriter[T any] struct {
	bw   *bufio.Writer
	enc  *json.Encoder
	rows int64
}

// NewJSONLWriter writes JSON lines to w.
func NewJSONLWriter[T any](w io.Writer) *JSONLWriter[T] {
	bw := bufio.NewWriterSize(w, 1<<20)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	return &JSONLWriter[T]{bw: bw, enc: enc}
}

// Write appends records.
func (w *JSONLWriter[T]) Write(recs []T) error {
	for i := range recs {
		if err := w.enc.Encode(&recs[i]); err != nil {
			return err
		}
		w.rows++
	}
	return nil
}

// Rows is the number of records written so far.
func (w *JSONLWriter[T]) Rows() int64 { return w.rows }

// Close flushes buffered output; it does not close the underlying writer.
func (w *JSONLWriter[T]) Close() error { return w.bw.Flush() }
