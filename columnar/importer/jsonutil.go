package importer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/atlas-ai/atlas-learn/columnar"
)

// fieldError is a problem with one field of a record; path is like
// "messages[3].role", or empty for the record as a whole.
type fieldError struct {
	path string
	err  error
}

func (e *fieldError) Error() string {
	if e.path == "" {
		return e.err.Error()
	}
	return "field " + e.path + ": " + e.err.Error()
}

func (e *fieldError) Unwrap() error { return e.err }

func fieldErrorf(path, format string, args ...any) error {
	return &fieldError{path: path, err: fmt.Errorf(format, args...)}
}

// childPath is the path of key inside the object at path.
func childPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// indexPath is the path of element i of the list at path.
func indexPath(path string, i int) string { return fmt.Sprintf("%s[%d]", path, i) }

// jsonKind names the kind of JSON value raw holds, for error messages.
func jsonKind(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "nothing"
	}
	switch raw[0] {
	case '"':
		return "string"
	case '{':
		return "object"
	case '[':
		return "list"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	}
	return "number"
}

func isNull(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) == 0 || string(raw) == "null"
}

// object is a decoded JSON object whose fields are read one at a time.
// Getters do not mark a field as mapped; consume does, and rest returns the
// fields never consumed, so that they can be kept in Extra.
type object struct {
	path     string
	fields   map[string]json.RawMessage
	consumed map[string]bool
}

// decodeObject decodes raw, which must be a JSON object, found at path.
func decodeObject(path string, raw json.RawMessage) (*object, error) {
	if k := jsonKind(raw); k != "object" {
		return nil, fieldErrorf(path, "expected an object, got %s", k)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fieldErrorf(path, "%w", err)
	}
	return &object{path: path, fields: m, consumed: map[string]bool{}}, nil
}

// has reports whether key is present with a non-null value.
func (o *object) has(key string) bool {
	raw, ok := o.fields[key]
	return ok && !isNull(raw)
}

// raw returns key's value; ok is false when absent or null.
func (o *object) raw(key string) (json.RawMessage, bool) {
	raw, ok := o.fields[key]
	if !ok || isNull(raw) {
		return nil, false
	}
	return raw, true
}

// consume marks keys as mapped to columns. A null value is not consumed:
// its column reads it as "" (or 0, false), so it stays in extra, where the
// difference between null and an empty value is kept.
func (o *object) consume(keys ...string) {
	for _, k := range keys {
		if raw, ok := o.fields[k]; ok && isNull(raw) {
			continue
		}
		o.consumed[k] = true
	}
}

// rest returns the fields not consumed, or nil when there are none.
func (o *object) rest() map[string]json.RawMessage {
	var out map[string]json.RawMessage
	for k, v := range o.fields {
		if o.consumed[k] {
			continue
		}
		if out == nil {
			out = map[string]json.RawMessage{}
		}
		out[k] = v
	}
	return out
}

// str returns key's string value; "" when absent or null.
func (o *object) str(key string) (string, error) {
	raw, ok := o.raw(key)
	if !ok {
		return "", nil
	}
	var s string
	if jsonKind(raw) != "string" || json.Unmarshal(raw, &s) != nil {
		return "", fieldErrorf(childPath(o.path, key), "expected a string, got %s", jsonKind(raw))
	}
	return s, nil
}

// firstStr returns the value of the first of keys present, and which key it
// was.
func (o *object) firstStr(keys ...string) (string, string, error) {
	for _, k := range keys {
		if o.has(k) {
			s, err := o.str(k)
			return s, k, err
		}
	}
	return "", "", nil
}

// id returns key's value as a string; a JSON number is accepted and kept
// as written.
func (o *object) id(key string) (string, error) {
	raw, ok := o.raw(key)
	if !ok {
		return "", nil
	}
	if jsonKind(raw) == "number" {
		return string(bytes.TrimSpace(raw)), nil
	}
	return o.str(key)
}

// number returns key's numeric value; ok is false when absent or null.
func (o *object) number(key string) (float64, bool, error) {
	raw, ok := o.raw(key)
	if !ok {
		return 0, false, nil
	}
	var f float64
	if jsonKind(raw) != "number" || json.Unmarshal(raw, &f) != nil {
		return 0, false, fieldErrorf(childPath(o.path, key), "expected a number, got %s", jsonKind(raw))
	}
	return f, true, nil
}

// truth returns key's value read as a verdict: a boolean, or a number where
// non-zero is true. ok is false when absent or null.
func (o *object) truth(key string) (bool, bool, error) {
	raw, ok := o.raw(key)
	if !ok {
		return false, false, nil
	}
	switch jsonKind(raw) {
	case "boolean":
		return string(bytes.TrimSpace(raw)) == "true", true, nil
	case "number":
		f, _, err := o.number(key)
		return f != 0, true, err
	}
	return false, false, fieldErrorf(childPath(o.path, key), "expected a boolean or a number, got %s", jsonKind(raw))
}

// list returns key's list elements; ok is false when absent or null.
func (o *object) list(key string) ([]json.RawMessage, bool, error) {
	raw, ok := o.raw(key)
	if !ok {
		return nil, false, nil
	}
	l, err := decodeList(childPath(o.path, key), raw)
	return l, err == nil, err
}

// object returns key's object value; nil when absent or null.
func (o *object) object(key string) (*object, error) {
	raw, ok := o.raw(key)
	if !ok {
		return nil, nil
	}
	return decodeObject(childPath(o.path, key), raw)
}

// decodeList decodes raw, which must be a JSON list, found at path.
func decodeList(path string, raw json.RawMessage) ([]json.RawMessage, error) {
	if k := jsonKind(raw); k != "list" {
		return nil, fieldErrorf(path, "expected a list, got %s", k)
	}
	var l []json.RawMessage
	if err := json.Unmarshal(raw, &l); err != nil {
		return nil, fieldErrorf(path, "%w", err)
	}
	return l, nil
}

// lookupString follows keys through nested objects and returns the string
// found there, or "" when any step is missing or not of the right kind. It
// is for optional, informative fields (a model name in a config), whose
// enclosing object is kept whole in Extra anyway.
func lookupString(o *object, keys ...string) string {
	cur := o
	for i, k := range keys {
		if cur == nil {
			return ""
		}
		if i == len(keys)-1 {
			s, err := cur.str(k)
			if err != nil {
				return ""
			}
			return s
		}
		next, err := cur.object(k)
		if err != nil {
			return ""
		}
		cur = next
	}
	return ""
}

// marshalJSON encodes v compactly without HTML escaping; map keys come out
// sorted, so equal values encode to equal bytes.
func marshalJSON(v any) (json.RawMessage, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

// extraBuilder assembles Trajectory.Extra.
type extraBuilder struct {
	format Format
	source map[string]json.RawMessage
	steps  []map[string]any
	notes  map[string]any
}

func newExtra(f Format) *extraBuilder {
	return &extraBuilder{format: f, notes: map[string]any{}}
}

// setSource keeps a source field verbatim.
func (x *extraBuilder) setSource(key string, raw json.RawMessage) {
	if x.source == nil {
		x.source = map[string]json.RawMessage{}
	}
	x.source[key] = raw
}

// addSource keeps all of fields verbatim.
func (x *extraBuilder) addSource(fields map[string]json.RawMessage) {
	for k, v := range fields {
		x.setSource(k, v)
	}
}

// addStep appends step i's unmapped fields; nil or empty records nothing
// for it.
func (x *extraBuilder) addStep(fields map[string]any) { x.steps = append(x.steps, fields) }

func (x *extraBuilder) note(key string, v any) { x.notes[key] = v }

// build encodes the Extra object.
func (x *extraBuilder) build() (json.RawMessage, error) {
	out := map[string]any{"source_format": string(x.format)}
	if len(x.source) > 0 {
		out["source"] = x.source
	}
	for _, s := range x.steps {
		if len(s) > 0 {
			steps := make([]any, len(x.steps))
			for i, s := range x.steps {
				if len(s) > 0 {
					steps[i] = s
				}
			}
			out["steps"] = steps
			break
		}
	}
	if len(x.notes) > 0 {
		out["notes"] = x.notes
	}
	raw, err := marshalJSON(out)
	if err != nil {
		return nil, fmt.Errorf("encode extra: %w", err)
	}
	return raw, nil
}

// epoch is created_at for sources without a timestamp.
var epoch = time.Unix(0, 0).UTC()

// parseTimestamp reads a timestamp: an RFC 3339 string (or "YYYY-MM-DD
// HH:MM:SS[.frac]" taken as UTC) or Unix seconds as a number (values above
// 1e11 are taken as milliseconds). The result is UTC, truncated to the
// millisecond precision of the created_at column.
func parseTimestamp(path string, raw json.RawMessage) (time.Time, error) {
	switch jsonKind(raw) {
	case "number":
		var f float64
		if err := json.Unmarshal(raw, &f); err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return time.Time{}, fieldErrorf(path, "not a usable number")
		}
		if f > 1e11 {
			f /= 1000
		}
		sec, frac := math.Modf(f)
		return time.Unix(int64(sec), int64(frac*1e9)).UTC().Truncate(time.Millisecond), nil
	case "string":
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return time.Time{}, fieldErrorf(path, "%w", err)
		}
		for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999Z07:00", "2006-01-02 15:04:05.999999999"} {
			if t, err := time.Parse(layout, s); err == nil {
				return t.UTC().Truncate(time.Millisecond), nil
			}
		}
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			return parseTimestamp(path, json.RawMessage(strconv.FormatFloat(f, 'f', -1, 64)))
		}
		return time.Time{}, fieldErrorf(path, "cannot read %q as a timestamp", s)
	}
	return time.Time{}, fieldErrorf(path, "expected a timestamp string or number, got %s", jsonKind(raw))
}

// jsonSyntax is a JSON syntax error with its position.
type jsonSyntax struct {
	line int64
	err  error
}

// at makes the record error; line, when positive, is the line the document
// starts on (JSONL), else the line is computed from the offset.
func (s *jsonSyntax) at(name string, line int64) *columnar.RecordError {
	if line == 0 {
		line = s.line
	}
	return &columnar.RecordError{File: name, Line: line, Row: -1, Err: fmt.Errorf("invalid JSON: %w", s.err)}
}

// syntaxError checks that data is one well-formed JSON value.
func syntaxError(data []byte) *jsonSyntax {
	var v json.RawMessage
	err := json.Unmarshal(data, &v)
	if err == nil {
		return nil
	}
	off := int64(len(data))
	var se *json.SyntaxError
	if errors.As(err, &se) {
		off = se.Offset
	}
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	return &jsonSyntax{line: 1 + int64(bytes.Count(data[:off], []byte("\n"))), err: err}
}

// utf8BOM is stripped from the start of a file.
var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// lines reads r as JSONL, one record per non-blank line, with
// columnar.ScanLines: no more than one line, of at most Options.MaxLine
// bytes, is held in memory, and a longer line is a bad record like any
// other.
func (s *session) lines(r io.Reader, conv converter) error {
	stem := fileStem(s.name)
	return columnar.ScanLines(s.ctx, r, s.name, s.opts.MaxLine, s.opts.OnError, s.skipped, func(line []byte, n int64) error {
		clean, replaced := columnar.SanitizeJSON(line)
		if serr := syntaxError(clean); serr != nil {
			return s.bad(serr.at(s.name, n))
		}
		return s.handle(record{name: s.name, stem: stem, line: n, data: clean, replaced: replaced}, conv)
	})
}

// flattenContent reads a chat message's content: a string, null, or a list
// of parts whose text parts are joined by newlines.
func flattenContent(path string, raw json.RawMessage) (string, error) {
	switch jsonKind(raw) {
	case "null", "nothing":
		return "", nil
	case "string":
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", fieldErrorf(path, "%w", err)
		}
		return s, nil
	case "list":
		parts, err := decodeList(path, raw)
		if err != nil {
			return "", err
		}
		var texts []string
		for i, p := range parts {
			switch jsonKind(p) {
			case "string":
				var s string
				if err := json.Unmarshal(p, &s); err != nil {
					return "", fieldErrorf(indexPath(path, i), "%w", err)
				}
				texts = append(texts, s)
			case "object":
				po, err := decodeObject(indexPath(path, i), p)
				if err != nil {
					return "", err
				}
				t, err := po.str("text")
				if err != nil {
					return "", err
				}
				if po.has("text") {
					texts = append(texts, t)
				}
			default:
				return "", fieldErrorf(indexPath(path, i), "expected a content part object, got %s", jsonKind(p))
			}
		}
		return strings.Join(texts, "\n"), nil
	}
	return "", fieldErrorf(path, "expected a string or a list of content parts, got %s", jsonKind(raw))
}
