package columnar

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"unicode"
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
// A string holding the Python literal of those arguments (OpenHands keeps
// print(file_editor(**{'command': 'create', ...})) beside each editor
// call) refers to them with "$py", the text before and after the literal
// (at most 256 bytes together):
//
//	{"$col": "steps.0.action", "$cut": 19, "$py": ["print(file_editor(**", "))"]}
//
// A longer string that holds column texts of at least MinCatBytes (an
// observation within its prompt template, a thought and an action within
// the model's response) becomes a concatenation of its literal pieces and
// references:
//
//	{"$cat": ["OBSERVATION:\n", {"$col": "steps.3.observation"}, "\n(Open file: a.py)"]}
//
// Each kind of reference is made only when it reproduces the source string
// exactly. ShareExtraText marks the extra object with the top-level key
// "$refs": 1. So that a source object can never be mistaken for a
// reference, every object key of a marked extra that starts with "$" gets
// one more "$" ("$schema" is stored as "$$schema"): a "$col" or "$cat" key
// is always a reference. ExpandExtra undoes both: it returns extra as the
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
	// CatKey is the only key of a concatenation object: a list of
	// strings and references whose texts, joined, are the source string.
	CatKey = "$cat"
)

// pyPrefix is how many leading bytes of a Python literal index it (at
// most MinRefBytes, the shortest literal referred to).
const pyPrefix = 16

// maxPyWrap bounds the text around a Python literal of a tool call's
// arguments in a string that refers to it ("$py"): the call wrapped
// around them, not a document that happens to quote them.
const maxPyWrap = 256

// MinCatBytes is the shortest column text that a longer source string
// holding it refers to, within a concatenation.
const MinCatBytes = 64

// catPrefix is how many leading bytes of a column text index it for
// finding it within source strings.
const catPrefix = 32

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
	type literal struct {
		text string
		ref  colRef
	}
	var literals []literal
	for _, c := range t.textColumns() {
		if i := strings.IndexByte(c.value, ' '); i > 0 && i+1 < len(c.value) && (c.value[i+1] == '{' || c.value[i+1] == '[') {
			tail := c.value[i+1:]
			add(tail, colRef{path: c.path, cut: i + 1})
			if sp := spaceJSON(tail); sp != tail {
				add(sp, colRef{path: c.path, cut: i + 1, spaced: true})
			}
			if lit, ok := pyLiteral(tail); ok && len(lit) >= MinRefBytes {
				literals = append(literals, literal{lit, colRef{path: c.path, cut: i + 1}})
			}
		}
	}
	// A source extra that already has the marker key must be escaped
	// and marked even with nothing to share, or ExpandExtra would read
	// its own "$refs" as the marker.
	mustMark := hasRefsMarker(t.Extra)
	if len(refs) == 0 && !mustMark {
		return nil
	}
	// Python literals by their first pyPrefix bytes: a string refers to
	// one only when the literal starts within maxPyWrap bytes of its
	// start, so each string is looked up at most maxPyWrap times.
	byPrefix := map[string][]literal{}
	for _, l := range literals {
		byPrefix[l.text[:pyPrefix]] = append(byPrefix[l.text[:pyPrefix]], l)
	}
	pyRef := func(s string) (json.RawMessage, bool) {
		for at := 0; at <= maxPyWrap && at+MinRefBytes <= len(s); at++ {
			if c := s[at]; c != '{' && c != '[' {
				continue
			}
			for _, l := range byPrefix[s[at:at+pyPrefix]] {
				if len(s) > len(l.text)+maxPyWrap || !strings.HasPrefix(s[at:], l.text) {
					continue
				}
				r := l.ref
				r.py = &[2]string{s[:at], s[at+len(l.text):]}
				if got, err := r.text(l.ref.column(t)); err == nil && got == s {
					if raw, err := r.encode(); err == nil {
						return raw, true
					}
				}
			}
		}
		return nil, false
	}
	cat := newCatIndex(t.textColumns())
	var buf bytes.Buffer
	n := 0
	rw := &extraRewriter{
		str: func(s string) (json.RawMessage, bool) {
			raw, ok := refs[s]
			if !ok && len(literals) > 0 {
				raw, ok = pyRef(s)
			}
			if !ok && len(s) > MinCatBytes {
				raw, ok = cat.concat(s)
			}
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
	if n == 0 && !mustMark {
		return nil
	}
	t.Extra = json.RawMessage(buf.Bytes())
	return nil
}

// ExpandExtra returns t.Extra with every column reference replaced by the
// column's text and the "$" escape of keys undone: extra as the importer
// built it, holding every source field. An extra without the "$refs"
// marker is returned unchanged. The result is an equal JSON value (the
// same objects, keys in the same order, the same strings and numbers), not
// byte for byte the importer's text: string escapes come back in Go's
// encoding. A reference to a column t lacks is an error.
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
			return r.text(s)
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
		if first && (k == RefKey || k == CatKey) && rw.ref != nil {
			return rw.reference(k)
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

// reference reads the rest of a reference or concatenation object, after
// its first key (RefKey or CatKey), and writes the text it stands for.
func (rw *extraRewriter) reference(first string) error {
	fields := map[string]json.RawMessage{}
	var raw json.RawMessage
	if err := rw.dec.Decode(&raw); err != nil {
		return err
	}
	fields[first] = raw
	for rw.dec.More() {
		ktok, err := rw.dec.Token()
		if err != nil {
			return err
		}
		k, _ := ktok.(string)
		var v json.RawMessage // a new one: Decode reuses a RawMessage's bytes
		if err := rw.dec.Decode(&v); err != nil {
			return err
		}
		fields[k] = v
	}
	if _, err := rw.dec.Token(); err != nil {
		return err
	}
	var s string
	if first == CatKey {
		if len(fields) != 1 {
			return fmt.Errorf("concatenation: keys beside %s", CatKey)
		}
		var parts []json.RawMessage
		if err := json.Unmarshal(fields[CatKey], &parts); err != nil {
			return fmt.Errorf("concatenation: %w", err)
		}
		var b strings.Builder
		for _, p := range parts {
			var lit string
			if json.Unmarshal(p, &lit) == nil {
				b.WriteString(lit)
				continue
			}
			var pf map[string]json.RawMessage
			if err := json.Unmarshal(p, &pf); err != nil {
				return fmt.Errorf("concatenation: part %s: neither a string nor a reference", p)
			}
			text, err := rw.resolve(pf)
			if err != nil {
				return err
			}
			b.WriteString(text)
		}
		s = b.String()
	} else {
		text, err := rw.resolve(fields)
		if err != nil {
			return err
		}
		s = text
	}
	return rw.writeString(s)
}

// resolve gives the text of the reference object with these fields.
func (rw *extraRewriter) resolve(fields map[string]json.RawMessage) (string, error) {
	var r colRef
	if err := json.Unmarshal(fields[RefKey], &r.path); err != nil {
		return "", fmt.Errorf("reference: not a column path: %s", fields[RefKey])
	}
	for k, raw := range fields {
		var dst any
		switch k {
		case RefKey:
			continue
		case "$cut":
			dst = &r.cut
		case "$spaced":
			dst = &r.spaced
		case "$py":
			r.py = new([2]string)
			dst = r.py
		default:
			return "", fmt.Errorf("reference to %q: unknown key %q", r.path, k)
		}
		if err := json.Unmarshal(raw, dst); err != nil {
			return "", fmt.Errorf("reference to %q: %s: %w", r.path, k, err)
		}
	}
	return rw.ref(r)
}

// colRef is a reference to (part of) a text column.
type colRef struct {
	path   string
	cut    int  // the text starts at this byte of the column
	spaced bool // the text is spaceJSON of the column's text from cut
	// py, when set, makes the text py[0] + the Python literal of the
	// column's JSON text from cut (see pyLiteral) + py[1].
	py *[2]string
}

// encode writes r as a reference object.
func (r colRef) encode() (json.RawMessage, error) {
	m := []any{RefKey, r.path}
	if r.cut > 0 {
		m = append(m, "$cut", r.cut)
	}
	if r.spaced {
		m = append(m, "$spaced", true)
	}
	if r.py != nil {
		m = append(m, "$py", r.py[:])
	}
	b := []byte{'{'}
	for i := 0; i < len(m); i += 2 {
		if i > 0 {
			b = append(b, ',')
		}
		k, err := marshalCompact(m[i])
		if err != nil {
			return nil, err
		}
		v, err := marshalCompact(m[i+1])
		if err != nil {
			return nil, err
		}
		b = append(append(append(b, k...), ':'), v...)
	}
	return append(b, '}'), nil
}

// text is the text r refers to in the column value col.
func (r colRef) text(col string) (string, error) {
	if r.cut < 0 || r.cut > len(col) {
		return "", fmt.Errorf("reference to %q: offset %d outside its %d bytes", r.path, r.cut, len(col))
	}
	s := col[r.cut:]
	if r.spaced {
		s = spaceJSON(s)
	}
	if r.py != nil {
		lit, ok := pyLiteral(s)
		if !ok {
			return "", fmt.Errorf("reference to %q: no Python literal of its JSON text", r.path)
		}
		s = r.py[0] + lit + r.py[1]
	}
	return s, nil
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

// column is the value of the column r refers to in t ("" when t has none).
func (r colRef) column(t *Trajectory) string {
	s, _ := t.columnText(r.path)
	return s
}

// pyLiteral renders the JSON text s as Python writes the value it decodes
// to (repr of dicts, lists, str, int, True, False and None: OpenHands'
// translated_ipython_code holds a tool call's arguments so), keeping the
// order of keys. ok is false for JSON that is invalid or holds a number
// that is not an integer.
func pyLiteral(s string) (string, bool) {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var b strings.Builder
	b.Grow(len(s) + 16)
	if !pyValue(dec, &b) {
		return "", false
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return "", false
	}
	return b.String(), true
}

func pyValue(dec *json.Decoder, b *strings.Builder) bool {
	tok, err := dec.Token()
	if err != nil {
		return false
	}
	switch v := tok.(type) {
	case json.Delim:
		isObj := v == '{'
		if isObj {
			b.WriteByte('{')
		} else {
			b.WriteByte('[')
		}
		for i := 0; dec.More(); i++ {
			if i > 0 {
				b.WriteString(", ")
			}
			if isObj {
				k, err := dec.Token()
				if err != nil {
					return false
				}
				ks, _ := k.(string)
				pyString(b, ks)
				b.WriteString(": ")
			}
			if !pyValue(dec, b) {
				return false
			}
		}
		if _, err := dec.Token(); err != nil {
			return false
		}
		if isObj {
			b.WriteByte('}')
		} else {
			b.WriteByte(']')
		}
	case string:
		pyString(b, v)
	case json.Number:
		n, err := strconv.ParseInt(v.String(), 10, 64)
		if err != nil {
			return false
		}
		b.WriteString(strconv.FormatInt(n, 10))
	case bool:
		if v {
			b.WriteString("True")
		} else {
			b.WriteString("False")
		}
	case nil:
		b.WriteString("None")
	}
	return true
}

// pyString writes Python's repr of s: single quotes unless s holds a
// single quote and no double quote; backslash, the quote, tab, newline and
// carriage return escaped; other control characters as \xHH; non-ASCII
// characters as they are when printable, else as \xHH, \uHHHH or
// \UHHHHHHHH.
func pyString(b *strings.Builder, s string) {
	quote := byte('\'')
	if strings.IndexByte(s, '\'') >= 0 && strings.IndexByte(s, '"') < 0 {
		quote = '"'
	}
	b.WriteByte(quote)
	for _, r := range s {
		switch {
		case r == rune(quote) || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r < ' ' || r == 0x7f:
			fmt.Fprintf(b, `\x%02x`, r)
		case r < 0x7f:
			b.WriteRune(r)
		case unicode.IsPrint(r):
			b.WriteRune(r)
		case r <= 0xff:
			fmt.Fprintf(b, `\x%02x`, r)
		case r <= 0xffff:
			fmt.Fprintf(b, `\u%04x`, r)
		default:
			fmt.Fprintf(b, `\U%08x`, r)
		}
	}
	b.WriteByte(quote)
}

// catIndex finds column texts of at least MinCatBytes within longer
// strings, by their first catPrefix bytes.
type catIndex struct {
	byPrefix map[string][]textColumn // longest first
	first    [256]bool               // first bytes of the texts
}

func newCatIndex(cols []textColumn) *catIndex {
	x := &catIndex{byPrefix: map[string][]textColumn{}}
	seen := map[string]bool{}
	for _, c := range cols {
		if len(c.value) < MinCatBytes || seen[c.value] {
			continue
		}
		seen[c.value] = true
		k := c.value[:catPrefix]
		x.byPrefix[k] = append(x.byPrefix[k], c)
		x.first[c.value[0]] = true
	}
	for _, cs := range x.byPrefix {
		sort.SliceStable(cs, func(i, j int) bool { return len(cs[i].value) > len(cs[j].value) })
	}
	return x
}

// concat returns s as a concatenation object of its literal pieces and
// references to the column texts it holds (leftmost first, the longest at
// each place); ok is false when it holds none.
func (x *catIndex) concat(s string) (json.RawMessage, bool) {
	if len(x.byPrefix) == 0 {
		return nil, false
	}
	var parts []json.RawMessage
	last := 0
	// budget bounds the bytes compared where a text's prefix matches but
	// the text does not (long runs of one character), so that a
	// pathological string costs linear time: the search stops there.
	budget := 8*len(s) + 1<<20
	for i := 0; i+MinCatBytes <= len(s) && budget > 0; {
		if !x.first[s[i]] {
			i++
			continue
		}
		var hit *textColumn
		for j, c := range x.byPrefix[s[i:i+catPrefix]] {
			if strings.HasPrefix(s[i:], c.value) {
				hit = &x.byPrefix[s[i:i+catPrefix]][j]
				break
			}
			budget -= min(len(c.value), len(s)-i)
		}
		if hit == nil {
			i++
			continue
		}
		if i > last {
			lit, err := marshalCompact(s[last:i])
			if err != nil {
				return nil, false
			}
			parts = append(parts, lit)
		}
		ref, err := colRef{path: hit.path}.encode()
		if err != nil {
			return nil, false
		}
		parts = append(parts, ref)
		i += len(hit.value)
		last = i
	}
	if len(parts) == 0 {
		return nil, false
	}
	if last < len(s) {
		lit, err := marshalCompact(s[last:])
		if err != nil {
			return nil, false
		}
		parts = append(parts, lit)
	}
	list, err := marshalCompact(parts)
	if err != nil {
		return nil, false
	}
	return json.RawMessage(`{"` + CatKey + `":` + string(list) + `}`), true
}
