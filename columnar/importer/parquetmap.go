package importer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/format"
	"go.yaml.in/yaml/v3"

	"github.com/atlas-ai/atlas-learn/columnar"
)

// Parquet is a foreign Parquet dataset with one trajectory per row: a
// column holding a list of chat messages (a list of structs, or a string
// holding their JSON) plus outcome columns, named by a ParquetMapping.
// Each row is turned into the JSON object an OpenAI-chat record would be
// and converted exactly as OpenAIChat converts one, so steps, success and
// reward follow OpenAIChat's rules; extra.source_format is "parquet" and
// extra.source keeps the row's unmapped columns under their own names.
// Any schema parquet-go can read is accepted, nested lists and maps
// included; a column is rendered as JSON the way parquet-go reconstructs
// it into map[string]any (a MAP as an object, a LIST as a list).
const Parquet Format = "parquet"

// ParquetMapping says which columns of a Parquet dataset hold what. Every
// key names a column (or, for Role, Content and ToolCalls, a field of each
// message). A key left empty falls back to OpenAIChat's column rules
// (messages, else trajectory; instance_id, else task_id; model, else
// model_name; resolved, else target, else success; ...). A column a key
// names must be in the file's schema, or the import fails with an error
// naming the column and the file, unless the key is listed in Optional.
//
// When a key names a column, the columns OpenAIChat would otherwise read
// for that meaning are withheld from the conversion (so that the mapping
// decides) and kept in extra.source.
type ParquetMapping struct {
	// Name is the built-in's name or the mapping file's path, for errors
	// and extra.notes.parquet_mapping.
	Name string `yaml:"-" json:"name,omitempty"`

	Messages string `yaml:"messages" json:"messages,omitempty"`
	// Fields of each message.
	Role      string `yaml:"role" json:"role,omitempty"`
	Content   string `yaml:"content" json:"content,omitempty"`
	ToolCalls string `yaml:"tool_calls" json:"tool_calls,omitempty"`

	TrajectoryID string `yaml:"trajectory_id" json:"trajectory_id,omitempty"`
	InstanceID   string `yaml:"instance_id" json:"instance_id,omitempty"`
	Model        string `yaml:"model" json:"model,omitempty"`
	Resolved     string `yaml:"resolved" json:"resolved,omitempty"`
	Reward       string `yaml:"reward" json:"reward,omitempty"`
	ExitStatus   string `yaml:"exit_status" json:"exit_status,omitempty"`
	Patch        string `yaml:"patch" json:"patch,omitempty"`

	// Optional lists the mapping keys (like "model") whose column may be
	// missing from a file; such a key is then ignored for that file.
	Optional []string `yaml:"optional" json:"optional,omitempty"`
}

// Built-in Parquet mappings, by name.
var builtinMappings = map[string]ParquetMapping{
	// chat: OpenAIChat's own column rules, unchanged.
	"chat": {Name: "chat"},
	// swe-smith: SWE-bench/SWE-smith-trajectories style, a "messages"
	// list of {role, content} with instance_id, resolved and model.
	"swe-smith": {
		Name: "swe-smith", Messages: "messages", InstanceID: "instance_id", Resolved: "resolved",
		Model: "model", TrajectoryID: "traj_id", Patch: "patch",
		Optional: []string{"model", "trajectory_id", "patch"},
	},
	// nebius: nebius/SWE-agent-trajectories style, a "trajectory" list of
	// {role, text} messages with instance_id, model_name, target,
	// exit_status and generated_patch.
	"nebius": {
		Name: "nebius", Messages: "trajectory", Content: "text", InstanceID: "instance_id",
		Model: "model_name", Resolved: "target", ExitStatus: "exit_status", Patch: "generated_patch",
		Optional: []string{"model", "exit_status", "patch"},
	},
}

// BuiltinMappings lists the names of the built-in Parquet mappings.
func BuiltinMappings() []string {
	names := make([]string, 0, len(builtinMappings))
	for n := range builtinMappings {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// LoadParquetMapping returns the built-in mapping called spec, or reads
// the YAML mapping file at path spec; an empty spec is "chat".
func LoadParquetMapping(spec string) (ParquetMapping, error) {
	if spec == "" {
		spec = "chat"
	}
	if m, ok := builtinMappings[spec]; ok {
		return m, nil
	}
	data, err := os.ReadFile(spec)
	if err != nil {
		return ParquetMapping{}, fmt.Errorf("parquet mapping %q: not a built-in (%s) and not readable: %w", spec, strings.Join(BuiltinMappings(), ", "), err)
	}
	m, err := ParseParquetMapping(data)
	if err != nil {
		return m, fmt.Errorf("parquet mapping %s: %w", spec, err)
	}
	m.Name = spec
	return m, nil
}

// ParseParquetMapping decodes a YAML mapping; unknown keys are an error.
func ParseParquetMapping(data []byte) (ParquetMapping, error) {
	var m ParquetMapping
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&m); err != nil && !errors.Is(err, io.EOF) {
		return m, fmt.Errorf("decode: %w", err)
	}
	return m, m.Validate()
}

// Validate checks that Optional names known keys.
func (m ParquetMapping) Validate() error {
	known := map[string]bool{}
	for _, c := range m.columns() {
		known[c.key] = true
	}
	for _, k := range m.Optional {
		if !known[k] {
			return fmt.Errorf("optional: unknown mapping key %q", k)
		}
	}
	return nil
}

// mappedColumn is one top-level mapping key: the column it names, the key
// the chat converter reads and the columns the converter would read for
// the same meaning.
type mappedColumn struct {
	key, column, canonical string
	rivals                 []string
}

func (m ParquetMapping) columns() []mappedColumn {
	return []mappedColumn{
		{"messages", m.Messages, "messages", []string{"messages", "trajectory"}},
		{"trajectory_id", m.TrajectoryID, "trajectory_id", chatIDKeys},
		{"instance_id", m.InstanceID, "instance_id", chatInstanceKeys},
		{"model", m.Model, "model", chatModelKeys},
		{"resolved", m.Resolved, "resolved", chatVerdictKeys},
		{"reward", m.Reward, "reward", []string{"reward"}},
		{"exit_status", m.ExitStatus, "exit_status", []string{"exit_status"}},
		{"patch", m.Patch, "patch", chatPatchKeys},
	}
}

// messageFields are the message-level keys: mapped name, canonical name,
// rival names.
func (m ParquetMapping) messageFields() []mappedColumn {
	return []mappedColumn{
		{"role", m.Role, "role", []string{"role"}},
		{"content", m.Content, "content", []string{"content", "text"}},
		{"tool_calls", m.ToolCalls, "tool_calls", []string{"tool_calls"}},
	}
}

func (m ParquetMapping) optional(key string) bool {
	for _, k := range m.Optional {
		if k == key {
			return true
		}
	}
	return false
}

// boundMapping is a mapping checked against one file's schema.
type boundMapping struct {
	m       ParquetMapping
	cols    []mappedColumn // keys whose column is in the file
	fields  []mappedColumn // message fields mapped to another name
	msgCol  string         // the column renamed to "messages", or ""
	withold map[string]bool
}

// bind checks m against schema: every named column (and message field,
// where the messages column is a list of structs) must be present.
func (m ParquetMapping) bind(name string, schema *parquet.Schema) (*boundMapping, error) {
	present := map[string]parquet.Field{}
	var names []string
	for _, f := range schema.Fields() {
		present[f.Name()] = f
		names = append(names, f.Name())
	}
	b := &boundMapping{m: m, withold: map[string]bool{}}
	for _, c := range m.columns() {
		if c.column == "" {
			continue
		}
		if _, ok := present[c.column]; !ok {
			if m.optional(c.key) {
				continue
			}
			return nil, fmt.Errorf("parquet mapping %s: %s: column %q (mapping key %s) is not in the file; its columns are %s", m.Name, name, c.column, c.key, strings.Join(names, ", "))
		}
		b.cols = append(b.cols, c)
		for _, r := range c.rivals {
			if r != c.column {
				b.withold[r] = true
			}
		}
		if c.key == "messages" {
			b.msgCol = c.column
		}
	}
	msgCol := b.msgCol
	if msgCol == "" {
		if _, ok := present["messages"]; ok {
			msgCol = "messages"
		} else if _, ok := present["trajectory"]; ok {
			msgCol = "trajectory"
		}
	}
	var elem map[string]bool
	if f, ok := present[msgCol]; ok {
		elem = elementFields(f)
	}
	for _, c := range m.messageFields() {
		if c.column == "" || c.column == c.canonical {
			continue
		}
		if elem != nil && !elem[c.column] {
			return nil, fmt.Errorf("parquet mapping %s: %s: column %q has no message field %q (mapping key %s)", m.Name, name, msgCol, c.column, c.key)
		}
		b.fields = append(b.fields, c)
	}
	return b, nil
}

// elementFields returns the field names of the structs of a list column,
// or nil when f is not a list of structs (a JSON string, say).
func elementFields(f parquet.Node) map[string]bool {
	n := f
	isList := false
	if lt := n.Type().LogicalType(); lt != nil {
		_, isList = lt.Value.(*format.ListType)
	}
	if isList && !n.Leaf() && len(n.Fields()) == 1 {
		n = n.Fields()[0] // the repeated "list" group
		if !n.Leaf() && len(n.Fields()) == 1 && !n.Fields()[0].Leaf() {
			n = n.Fields()[0] // "element"
		}
	} else if !n.Repeated() {
		return nil
	}
	if n.Leaf() {
		return nil
	}
	out := map[string]bool{}
	for _, c := range n.Fields() {
		out[c.Name()] = true
	}
	return out
}

// chatRecord turns one row into the JSON object the chat converter reads,
// and returns the row's columns as JSON for extra.source and the number of
// invalid UTF-8 bytes replaced in its values.
func (b *boundMapping) chatRecord(row map[string]any) (data []byte, orig map[string]json.RawMessage, origOf map[string]string, replaced int, err error) {
	orig = make(map[string]json.RawMessage, len(row))
	for k, v := range row {
		raw, err := marshalJSON(plainValue(v, &replaced))
		if err != nil {
			return nil, nil, nil, 0, fieldErrorf(k, "encode as JSON: %w", err)
		}
		orig[k] = raw
	}
	in := map[string]json.RawMessage{}
	origOf = map[string]string{} // converter key -> column
	for k, raw := range orig {
		if b.withold[k] {
			continue
		}
		in[k] = raw
		origOf[k] = k
	}
	for _, c := range b.cols {
		raw, ok := orig[c.column]
		if !ok {
			continue
		}
		delete(in, c.column)
		delete(origOf, c.column)
		in[c.canonical] = raw
		origOf[c.canonical] = c.column
	}
	msgKey := "messages"
	if _, ok := in[msgKey]; !ok {
		if _, ok := in["trajectory"]; ok {
			msgKey = "trajectory"
		}
	}
	if raw, ok := in[msgKey]; ok {
		if in[msgKey], err = b.messages(origOf[msgKey], raw); err != nil {
			return nil, nil, nil, 0, err
		}
	}
	data, err = marshalJSON(in)
	if err != nil {
		return nil, nil, nil, 0, fmt.Errorf("encode row: %w", err)
	}
	return data, orig, origOf, replaced, nil
}

// messages decodes a message list held as a JSON string and renames the
// mapped message fields.
func (b *boundMapping) messages(col string, raw json.RawMessage) (json.RawMessage, error) {
	if jsonKind(raw) == "string" {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, fieldErrorf(col, "%w", err)
		}
		if jsonKind(json.RawMessage(s)) != "list" || !json.Valid([]byte(s)) {
			return nil, fieldErrorf(col, "expected a list of messages or a string holding their JSON list")
		}
		raw = json.RawMessage(s)
	}
	if len(b.fields) == 0 || jsonKind(raw) != "list" {
		return raw, nil
	}
	var list []json.RawMessage
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, fieldErrorf(col, "%w", err)
	}
	for i, m := range list {
		if jsonKind(m) != "object" {
			continue // the converter reports it
		}
		var o map[string]json.RawMessage
		if err := json.Unmarshal(m, &o); err != nil {
			return nil, fieldErrorf(indexPath(col, i), "%w", err)
		}
		for _, f := range b.fields {
			v, ok := o[f.column]
			for _, r := range f.rivals {
				delete(o, r) // kept in extra.source's copy of the list
			}
			delete(o, f.column)
			if ok {
				o[f.canonical] = v
			}
		}
		var err error
		if list[i], err = marshalJSON(o); err != nil {
			return nil, fieldErrorf(indexPath(col, i), "%w", err)
		}
	}
	return marshalJSON(list)
}

// plainValue makes a value read by parquet-go encodable as JSON: byte
// slices become strings (BYTE_ARRAY columns without a STRING annotation),
// and strings and map keys that are not UTF-8 get the UTF-8 rule
// (columnar.SanitizeString), counted in *replaced — encoding/json would
// replace their invalid bytes without a word.
func plainValue(v any, replaced *int) any {
	switch x := v.(type) {
	case []byte:
		s, n := columnar.SanitizeString(string(x))
		*replaced += n
		return s
	case string:
		s, n := columnar.SanitizeString(x)
		*replaced += n
		return s
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys) // a deterministic choice of "#2" below
		for _, k := range keys {
			e := x[k]
			clean, n := columnar.SanitizeString(k)
			if n > 0 {
				// As for metadata keys: a key equal to another once
				// replaced keeps its value under "KEY#2", "KEY#3", ...
				delete(x, k)
				for i, base := 2, clean; ; i++ {
					if _, taken := x[clean]; !taken {
						break
					}
					clean = fmt.Sprintf("%s#%d", base, i)
				}
			}
			*replaced += n
			x[clean] = plainValue(e, replaced)
		}
	case []any:
		for i, e := range x {
			x[i] = plainValue(e, replaced)
		}
	}
	return v
}

// importParquet reads r (an *os.File or any io.ReaderAt with a Seek, else
// read whole) as a Parquet file, one trajectory per row.
func (s *session) importParquet(r io.Reader) error {
	ra, size, err := readerAt(r)
	if err != nil {
		return fmt.Errorf("import %s: read: %w", s.name, err)
	}
	f, err := parquet.OpenFile(ra, size)
	if err != nil {
		return fmt.Errorf("import %s: open parquet: %w", s.name, err)
	}
	m := builtinMappings["chat"]
	if s.opts.Mapping != nil {
		m = *s.opts.Mapping
	}
	if m.Name == "" {
		m.Name = "(unnamed)"
	}
	if err := m.Validate(); err != nil {
		return fmt.Errorf("import %s: parquet mapping %s: %w", s.name, m.Name, err)
	}
	b, err := m.bind(s.name, f.Schema())
	if err != nil {
		return err
	}
	rd := parquet.NewReader(f, f.Schema())
	defer rd.Close()
	stem := fileStem(s.name)
	if strings.HasSuffix(strings.ToLower(stem), ".parquet") && len(stem) > len(".parquet") {
		stem = stem[:len(stem)-len(".parquet")]
	}
	for n := int64(0); ; n++ {
		if err := s.ctx.Err(); err != nil {
			return fmt.Errorf("import %s: %w", s.name, err)
		}
		row := map[string]any{}
		if err := rd.Read(&row); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return fmt.Errorf("import %s: row %d: %w", s.name, n, err)
		}
		rec := record{name: s.name, stem: stem, row: n + 1}
		data, orig, origOf, replaced, err := b.chatRecord(row)
		if err != nil {
			if herr := s.bad(s.recordError(rec, err)); herr != nil {
				return herr
			}
			continue
		}
		var more int
		rec.data, more = columnar.SanitizeJSON(data) // a JSON string column's surrogate escapes
		rec.replaced = replaced + more
		if err := s.handle(rec, b.converter(orig, origOf)); err != nil {
			return err
		}
	}
}

// converter wraps convertOpenAIChat: extra.source gets the unmapped and
// withheld columns under their own names, with their values as read.
func (b *boundMapping) converter(orig map[string]json.RawMessage, origOf map[string]string) converter {
	return func(rec record) (columnar.Trajectory, error) {
		t, err := convertOpenAIChat(rec)
		if err != nil {
			return t, err
		}
		var x map[string]json.RawMessage
		if err := json.Unmarshal(t.Extra, &x); err != nil {
			return t, fmt.Errorf("decode extra: %w", err)
		}
		var left map[string]json.RawMessage
		if raw, ok := x["source"]; ok {
			if err := json.Unmarshal(raw, &left); err != nil {
				return t, fmt.Errorf("decode extra.source: %w", err)
			}
		}
		source := map[string]json.RawMessage{}
		for k := range left {
			if col, ok := origOf[k]; ok {
				source[col] = orig[col]
			}
		}
		for k := range b.withold {
			if raw, ok := orig[k]; ok {
				if _, mapped := b.mappedColumn(k); !mapped {
					source[k] = raw
				}
			}
		}
		delete(x, "source")
		if len(source) > 0 {
			if x["source"], err = marshalJSON(source); err != nil {
				return t, fmt.Errorf("encode extra.source: %w", err)
			}
		}
		if x["source_format"], err = marshalJSON(string(Parquet)); err != nil {
			return t, err
		}
		var notes map[string]any
		if raw, ok := x["notes"]; ok {
			if err := json.Unmarshal(raw, &notes); err != nil {
				return t, fmt.Errorf("decode extra.notes: %w", err)
			}
		}
		if notes == nil {
			notes = map[string]any{}
		}
		notes["parquet_mapping"] = b.m
		notes["parquet_row"] = rec.row - 1
		if x["notes"], err = marshalJSON(notes); err != nil {
			return t, fmt.Errorf("encode extra.notes: %w", err)
		}
		if t.Extra, err = marshalJSON(x); err != nil {
			return t, fmt.Errorf("encode extra: %w", err)
		}
		t.Metadata["source_format"] = string(Parquet)
		return t, nil
	}
}

// mappedColumn reports whether column col is named by a mapping key bound
// to this file.
func (b *boundMapping) mappedColumn(col string) (mappedColumn, bool) {
	for _, c := range b.cols {
		if c.column == col {
			return c, true
		}
	}
	return mappedColumn{}, false
}

// readerAt gives random access to r for the Parquet reader.
func readerAt(r io.Reader) (io.ReaderAt, int64, error) {
	if ra, ok := r.(interface {
		io.ReaderAt
		io.Seeker
	}); ok {
		size, err := ra.Seek(0, io.SeekEnd)
		if err != nil {
			return nil, 0, err
		}
		return ra, size, nil
	}
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, 0, err
	}
	return bytes.NewReader(data), int64(len(data)), nil
}
