package columnar

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Column references in extra.
//
// An importer keeps every source field in Trajectory.Extra, including the
// texts it also maps to columns (an OpenHands event's command and output,
// a chat message's content). Parquet compresses column by column, so such a
// text would be stored twice. ShareExtraText therefore replaces each string
// value of extra that is verbatim equal to a text column of the same
// trajectory, and at least MinRefBytes long, by a reference to that column:
//
//	{"$col": "steps.3.observation"}
//
// A tool call's arguments are mapped to the action "NAME ARGS" with ARGS
// compacted (see the importers), so a source string that is the action's
// text after its first space, or that text with one space after each ","
// and ":" outside strings (the spacing of Python's json.dumps), is a
// reference too, with "$cut" (the byte offset where the text starts) and
// "$spaced": true for the second form:
//
//	{"$col": "steps.0.action", "$cut": 19, "$spaced": true}
//
// Each kind of reference is tried only when it reproduces the source string
// exactly. ShareExtraText marks the extra object with the top-level key
// "$refs": 1. So that a
// source object can never be mistaken for a reference, every object key of
// a marked extra that starts with "$" gets one more "$" ("$schema" is
// stored as "$$schema"). ExpandExtra undoes both: it returns extra as the
// importer built it, every source field in place. An extra without "$refs"
// (written by another writer, or with nothing to share) is returned as it
// is.
//
// The columns referred to are named by their path with step indexes:
// task.description, task.input, steps.N.thought, steps.N.action,
// steps.N.observation, steps.N.code, outcome.error_info, solution.code.

// MinRefBytes is the shortest string ShareExtraText replaces by a
// reference: shorter texts cost about as much as the reference itself.
const MinRefBytes = 24

// Keys of the column-reference encoding of extra.
const (
	// RefKey is the only key of a reference object; its value is the
	// column's path.
	RefKey = "$col"
	// RefsMarkerKey marks, at the top level of extra, an extra holding
	// references; its value is the version of the encoding, 1.
	RefsMarkerKey = "$refs"
)

// textColumn is one text column value of a trajectory and its path.
type textColumn struct {
	path  string
	value string
}

// textColumns lists t's text columns in a fixed order: the task, then each
// step's texts, then the outcome and solution. When two columns hold the
// same text the first one is the one referred to.
func (t *Trajectory) textColumns() []textColumn {
	cols := []textColumn{{"task.description", t.Task.Description}, {"task.input", t.Task.Input}}
	for i, s := range t.Steps {
		p := "steps." + strconv.Itoa(i) + "."
		cols = append(cols,
			textColumn{p + "thought", s.Thought},
			textColumn{p + "action", s.Action},
			textColumn{p + "observation", s.Observation},
			textColumn{p + "code", s.Code})
	}
	return append(cols, textColumn{"outcome.error_info", t.Outcome.ErrorInfo}, textColumn{"solution.code", t.Solution.Code})
}

// columnText returns the value of the text column at path.
func (t *Trajectory) columnText(path string) (string, bool) {
	switch path {
	case "task.description":
		return t.Task.Description, true
	case "task.input":
		return t.Task.Input, true
	case "outcome.error_info":
		return t.Outcome.ErrorInfo, true
	case "solution.code":
		return t.Solution.Code, true
	}
	rest, ok := strings.CutPrefix(path, "steps.")
	if !ok {
		return "", false
	}
	num, field, ok := strings.Cut(rest, ".")
	if !ok {
		return "", false
	}
	i, err := strconv.Atoi(num)
	if err != nil || i < 0 || i >= len(t.Steps) || strconv.Itoa(i) != num {
		return "", false
	}
	s := &t.Steps[i]
	switch field {
	case "thought":
		return s.Thought, true
	case "action":
		return s.Action, true
	case "observation":
		return s.Observation, true
	case "code":
		return s.Code, true
	}
	return "", false
}

// ShareExtraText replaces the string values of t.Extra that repeat a text
// column of t by references to it, as described above, so that each text
// is stored once. It changes nothing when no value repeats a column, or
// when extra is not a JSON object; ExpandExtra restores the original.
// Call it on a finished trajectory: a reference names a column by its
// path and holds its value only as long as the column keeps it.
func (t *Trajectory) ShareExtraText() error {
	if len(bytes.TrimSpace(t.Extra)) == 0 || bytes.TrimSpace(t.Extra)[0] != '{' {
		return nil
	}
	refs := map[string]json.RawMessage{}
	add := func(s string, r colRef) {
		if len(s) < MinRefBytes {
			return
		}
		if _, ok := refs[s]; ok {
			return
		}
		if raw, err := r.encode(); err == nil {
			refs[s] = raw
		}
	}
	for _, c := range t.textColumns() {
		add(c.value, colRef{path: c.path})
	}
	for _, c := range t.textColumns() {
		if i := strings.IndexByte(c.value, ' '); i > 0 && i+1 < len(c.value) && (c.value[i+1] == '{' || c.value[i+1] == '[') {
			tail := c.value[i+1:]
			add(tail, colRef{path: c.path, cut: i + 1})
			if sp := spaceJSON(tail); sp != tail {
				add(sp, colRef{path: c.path, cut: i + 1, spaced: true})
			}
		}
	}
	if len(refs) == 0 {
		return nil
	}
	var buf bytes.Buffer
	n := 0
	rw := &extraRewriter{
		str: func(s string) (json.RawMessage, bool) {
			raw, ok := refs[s]
			if ok {
				n++
			}
			return raw, ok
		},
		key: func(k string) string {
			if strings.HasPrefix(k, "$") {
				return "$" + k
			}
			return k
		},
		marker: true,
	}
	if err := rw.rewrite(t.Extra, &buf); err != nil {
		return fmt.Errorf("extra: %w", err)
	}
	if n == 0 {
		return nil
	}
	t.Extra = json.RawMessage(buf.Bytes())
	return nil
}

// ExpandExtra returns t.Extra with every column reference replaced by the
// column's text and the "$" escape of keys undone: extra as the importer
// built it, holding every source field. An extra without the "$refs"
// marker is returned unchanged. A reference to a column t lacks is an
// error.
func (t *Trajectory) ExpandExtra() (json.RawMessage, error) {
	if !hasRefsMarker(t.Extra) {
		return t.Extra, nil
	}
	var buf bytes.Buffer
	rw := &extraRewriter{
		key: func(k string) string { return strings.TrimPrefix(k, "$") },
		ref: func(r colRef) (string, error) {
			s, ok := t.columnText(r.path)
			if !ok {
				return "", fmt.Errorf("reference to %q: no such column", r.path)
			}
			if r.cut < 0 || r.cut > len(s) {
				return "", fmt.Errorf("reference to %q: offset %d outside its %d bytes", r.path, r.cut, len(s))
			}
			s = s[r.cut:]
			if r.spaced {
				s = spaceJSON(s)
			}
			return s, nil
		},
		dropMarker: true,
	}
	if err := rw.rewrite(t.Extra, &buf); err != nil {
		return nil, fmt.Errorf("trajectory %s: extra: %w", t.TrajectoryID, err)
	}
	return json.RawMessage(buf.Bytes()), nil
}

// hasRefsMarker reports whether extra is an object with the "$refs" key
// at its top level.
func hasRefsMarker(extra json.RawMessage) bool {
	if !bytes.Contains(extra, []byte(`"`+RefsMarkerKey+`"`)) {
		return false
	}
	var top map[string]json.RawMessage
	if json.Unmarshal(extra, &top) != nil {
		return false
	}
	_, ok := top[RefsMarkerKey]
	return ok
}

// extraRewriter copies a JSON value token by token, compactly, keeping
// the order of keys and the text of numbers, with string values (str),
// object keys (key) and reference objects (ref) rewritten.
type extraRewriter struct {
	dec *json.Decoder
	out *bytes.Buffer
	// str, when set, may replace a string value (not a key) by raw JSON.
	str func(s string) (json.RawMessage, bool)
	// key rewrites every object key.
	key func(k string) string
	// ref, when set, resolves reference objects to their column's text.
	ref func(r colRef) (string, error)
	// marker adds "$refs": 1 to the top-level object; dropMarker leaves
	// it out.
	marker, dropMarker bool
}

func (rw *extraRewriter) rewrite(in json.RawMessage, out *bytes.Buffer) error {
	rw.dec = json.NewDecoder(bytes.NewReader(in))
	rw.dec.UseNumber()
	rw.out = out
	if err := rw.value(0); err != nil {
		return err
	}
	if _, err := rw.dec.Token(); !errors.Is(err, io.EOF) {
		return fmt.Errorf("data after the top-level value")
	}
	return nil
}

func (rw *extraRewriter) value(depth int) error {
	tok, err := rw.dec.Token()
	if err != nil {
		return err
	}
	switch v := tok.(type) {
	case json.Delim:
		if v == '[' {
			rw.out.WriteByte('[')
			for i := 0; rw.dec.More(); i++ {
				if i > 0 {
					rw.out.WriteByte(',')
				}
				if err := rw.value(depth + 1); err != nil {
					return err
				}
			}
			if _, err := rw.dec.Token(); err != nil {
				return err
			}
			rw.out.WriteByte(']')
			return nil
		}
		return rw.object(depth)
	case string:
		if rw.str != nil {
			if raw, ok := rw.str(v); ok {
				rw.out.Write(raw)
				return nil
			}
		}
		return rw.writeString(v)
	case json.Number:
		rw.out.WriteString(v.String())
	case bool:
		rw.out.WriteString(strconv.FormatBool(v))
	case nil:
		rw.out.WriteString("null")
	}
	return nil
}

// object copies an object whose '{' was read.
func (rw *extraRewriter) object(depth int) error {
	first := true
	for rw.dec.More() {
		tok, err := rw.dec.Token()
		if err != nil {
			return err
		}
		k, _ := tok.(string)
		if first && k == RefKey && rw.ref != nil {
			return rw.reference()
		}
		if depth == 0 && k == RefsMarkerKey && rw.dropMarker {
			var skip json.RawMessage
			if err := rw.dec.Decode(&skip); err != nil {
				return err
			}
			continue
		}
		if first {
			rw.out.WriteByte('{')
		} else {
			rw.out.WriteByte(',')
		}
		first = false
		if err := rw.writeString(rw.key(k)); err != nil {
			return err
		}
		rw.out.WriteByte(':')
		if err := rw.value(depth + 1); err != nil {
			return err
		}
	}
	if _, err := rw.dec.Token(); err != nil {
		return err
	}
	if depth == 0 && rw.marker {
		if first {
			rw.out.WriteByte('{')
		} else {
			rw.out.WriteByte(',')
		}
		first = false
		rw.out.WriteString(`"` + RefsMarkerKey + `":1`)
	}
	if first {
		rw.out.WriteByte('{')
	}
	rw.out.WriteByte('}')
	return nil
}

// reference reads the rest of a reference object, after its first key,
// and writes the column's text.
func (rw *extraRewriter) reference() error {
	tok, err := rw.dec.Token()
	if err != nil {
		return err
	}
	var r colRef
	var ok bool
	if r.path, ok = tok.(string); !ok {
		return fmt.Errorf("reference: %v is not a column path", tok)
	}
	for rw.dec.More() {
		ktok, err := rw.dec.Token()
		if err != nil {
			return err
		}
		vtok, err := rw.dec.Token()
		if err != nil {
			return err
		}
		switch k, _ := ktok.(string); k {
		case "$cut":
			num, _ := vtok.(json.Number)
			n, err := strconv.Atoi(num.String())
			if err != nil {
				return fmt.Errorf("reference to %q: $cut %v is not an offset", r.path, vtok)
			}
			r.cut = n
		case "$spaced":
			if r.spaced, ok = vtok.(bool); !ok {
				return fmt.Errorf("reference to %q: $spaced %v is not a boolean", r.path, vtok)
			}
		default:
			return fmt.Errorf("reference to %q: unknown key %q", r.path, k)
		}
	}
	if _, err := rw.dec.Token(); err != nil {
		return err
	}
	s, err := rw.ref(r)
	if err != nil {
		return err
	}
	return rw.writeString(s)
}

// colRef is a reference to (part of) a text column.
type colRef struct {
	path   string
	cut    int  // the text starts at this byte of the column
	spaced bool // the text is spaceJSON of the column's text from cut
}

// encode writes r as a reference object.
func (r colRef) encode() (json.RawMessage, error) {
	p, err := marshalCompact(r.path)
	if err != nil {
		return nil, err
	}
	b := []byte(`{"` + RefKey + `":`)
	b = append(b, p...)
	if r.cut > 0 {
		b = append(b, `,"$cut":`+strconv.Itoa(r.cut)...)
	}
	if r.spaced {
		b = append(b, `,"$spaced":true`...)
	}
	return append(b, '}'), nil
}

// spaceJSON puts one space after each ',' and ':' of the JSON text s that
// is outside a string, as Python's json.dumps separates items and keys.
func spaceJSON(s string) string {
	var b strings.Builder
	b.Grow(len(s) + len(s)/8)
	inString, escaped := false, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		b.WriteByte(c)
		switch {
		case escaped:
			escaped = false
		case inString && c == '\\':
			escaped = true
		case c == '"':
			inString = !inString
		case !inString && (c == ',' || c == ':'):
			b.WriteByte(' ')
		}
	}
	return b.String()
}

func (rw *extraRewriter) writeString(s string) error {
	raw, err := marshalCompact(s)
	if err != nil {
		return err
	}
	rw.out.Write(raw)
	return nil
}

// marshalCompact encodes v without HTML escaping and without the trailing
// newline.
func marshalCompact(v any) (json.RawMessage, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}
