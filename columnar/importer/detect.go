package importer

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Auto is the --from value that detects each file's format from its
// content with DetectFormat.
const Auto = "auto"

// Native names the canonical schema's own JSONL form. DetectFormat reports
// it; Import does not read it (columnar.ReadJSONL does).
const Native Format = "jsonl"

// Detection is what DetectFormat decided and the evidence it went by.
type Detection struct {
	Format Format
	Reason string
}

// miniPromptMarkers are strings of mini-swe-agent's system and instance
// prompts, which tell its bare message lists and message objects from other
// chat transcripts.
var miniPromptMarkers = append([]string{"mswea_bash_command", "mini-swe-agent"}, submitSentinels...)

// DetectFormat tells a trajectory file's format from its content: the
// first JSON value, and whether another follows (JSONL). name is only for
// errors. The rules, in order:
//
//   - an object whose "schema_version" is a string starting with "ATIF-":
//     ATIF;
//   - JSONL (several values) or one line whose record has
//     "schema_version" and "trajectory_id": native JSONL;
//   - a list of events with "action"/"observation" keys, or a record
//     whose "history" is such a list: OpenHands;
//   - an object with "trajectory_format", or with "messages" and an "info"
//     holding "mini_version", or a message list (bare, or under
//     "messages" in a single document) whose system or first user prompt
//     holds a mini-swe-agent marker: mini-swe-agent;
//   - a single object with "trajectory" steps (not chat messages) or a
//     "history" of chat messages: SWE-agent;
//   - records with "messages" (or nebius's "trajectory" of chat messages):
//     OpenAI-chat; a bare list of chat messages without the mini prompt is
//     mini-swe-agent's older form too, the only list of messages read here.
//
// A file that starts with the Parquet magic bytes "PAR1" is Parquet.
//
// Only the first record of a JSONL file is looked at.
func DetectFormat(name string, r io.Reader) (Detection, error) {
	br := bufio.NewReader(r)
	if b, err := br.Peek(len(utf8BOM)); err == nil && bytes.Equal(b, utf8BOM) {
		_, _ = br.Discard(len(utf8BOM))
	}
	if b, err := br.Peek(4); err == nil && string(b) == "PAR1" {
		return Detection{Format: Parquet, Reason: "Parquet magic bytes PAR1"}, nil
	}
	dec := json.NewDecoder(br)
	var first json.RawMessage
	if err := dec.Decode(&first); err != nil {
		if errors.Is(err, io.EOF) {
			return Detection{}, fmt.Errorf("detect format of %s: the file is empty", name)
		}
		return Detection{}, fmt.Errorf("detect format of %s: invalid JSON in the first record: %w", name, err)
	}
	multi := dec.More()
	d, ok := classifyValue(first, multi)
	if !ok {
		return Detection{}, fmt.Errorf("detect format of %s: %s; name the format with --from", name, d.Reason)
	}
	return d, nil
}

// classifyValue applies DetectFormat's rules to the first value; when ok
// is false, Reason says what the value is.
func classifyValue(v json.RawMessage, multi bool) (Detection, bool) {
	switch jsonKind(v) {
	case "list":
		var items []json.RawMessage
		if json.Unmarshal(v, &items) != nil || len(items) == 0 {
			return Detection{Reason: "an empty list"}, false
		}
		if isEventList(items) {
			return Detection{OpenHands, "a list of events with action/observation keys"}, true
		}
		if isMessageList(items) {
			if hasMiniPrompt(items) {
				return Detection{MiniSWEAgent, "a list of chat messages with the mini-swe-agent prompt"}, true
			}
			return Detection{MiniSWEAgent, "a bare list of chat messages (older mini-swe-agent)"}, true
		}
		return Detection{Reason: "a list that holds neither events nor chat messages"}, false
	case "object":
	default:
		return Detection{Reason: "a JSON " + jsonKind(v) + ", not an object or a list"}, false
	}
	var top map[string]json.RawMessage
	if json.Unmarshal(v, &top) != nil {
		return Detection{Reason: "an unreadable object"}, false
	}
	has := func(k string) bool { raw, ok := top[k]; return ok && !isNull(raw) }
	list := func(k string) []json.RawMessage {
		var l []json.RawMessage
		if raw, ok := top[k]; ok && jsonKind(raw) == "list" {
			_ = json.Unmarshal(raw, &l)
		}
		return l
	}
	lines := "records"
	if multi {
		lines = "JSONL records"
	}
	switch {
	case isATIFVersion(top["schema_version"]):
		return Detection{ATIF, lines + " with an ATIF schema_version"}, true
	case has("schema_version") && has("trajectory_id"):
		return Detection{Native, lines + " with schema_version and trajectory_id"}, true
	case isEventList(list("history")):
		return Detection{OpenHands, lines + " with a history of events"}, true
	case !multi && has("trajectory_format"):
		return Detection{MiniSWEAgent, "an object with trajectory_format"}, true
	case !multi && has("messages") && has("info") && bytes.Contains(top["info"], []byte(`"mini_version"`)):
		return Detection{MiniSWEAgent, "an object with messages and info.mini_version"}, true
	case !multi && has("messages") && hasMiniPrompt(list("messages")):
		return Detection{MiniSWEAgent, "an object with messages holding the mini-swe-agent prompt"}, true
	case !multi && has("trajectory") && !isMessageList(list("trajectory")):
		return Detection{SWEAgent, "an object with trajectory steps"}, true
	case !multi && !has("messages") && !has("trajectory") && isMessageList(list("history")):
		return Detection{SWEAgent, "an object with a history of chat messages (older SWE-agent)"}, true
	case has("messages"):
		return Detection{OpenAIChat, lines + " with messages"}, true
	case isMessageList(list("trajectory")):
		return Detection{OpenAIChat, lines + " with a trajectory of chat messages (nebius/SWE-agent-trajectories)"}, true
	}
	return Detection{Reason: "an object with none of the keys that name a format"}, false
}

// isEventList reports whether items are OpenHands events: objects with an
// "action" or "observation" key, or [action, observation] pairs of them.
func isEventList(items []json.RawMessage) bool {
	if len(items) == 0 {
		return false
	}
	for _, it := range items {
		switch jsonKind(it) {
		case "object":
			var m map[string]json.RawMessage
			if json.Unmarshal(it, &m) != nil {
				return false
			}
			_, a := m["action"]
			_, o := m["observation"]
			_, role := m["role"]
			if role || !a && !o {
				return false
			}
		case "list":
			var pair []json.RawMessage
			if json.Unmarshal(it, &pair) != nil || len(pair) == 0 || !isEventList(nonEmpty(pair)) {
				return false
			}
		default:
			return false
		}
		return true // the first event decides
	}
	return false
}

// nonEmpty drops the empty objects of an [action, observation] pair.
func nonEmpty(items []json.RawMessage) []json.RawMessage {
	var out []json.RawMessage
	for _, it := range items {
		if s := string(bytes.TrimSpace(it)); s != "{}" && s != "null" {
			out = append(out, it)
		}
	}
	return out
}

// isMessageList reports whether items are chat messages: objects with a
// "role".
func isMessageList(items []json.RawMessage) bool {
	if len(items) == 0 {
		return false
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(items[0], &m) != nil {
		return false
	}
	_, ok := m["role"]
	return ok
}

// hasMiniPrompt reports whether the first system or user messages of a
// message list hold a mini-swe-agent marker.
func hasMiniPrompt(items []json.RawMessage) bool {
	for i, it := range items {
		if i >= 2 {
			break
		}
		var m struct {
			Content json.RawMessage `json:"content"`
		}
		if json.Unmarshal(it, &m) != nil {
			continue
		}
		text, err := flattenContent("", m.Content)
		if err != nil {
			continue
		}
		for _, k := range miniPromptMarkers {
			if strings.Contains(text, k) {
				return true
			}
		}
	}
	return false
}

// isATIFVersion reports whether raw is a schema_version string starting
// with "ATIF-".
func isATIFVersion(raw json.RawMessage) bool {
	var s string
	return jsonKind(raw) == "string" && json.Unmarshal(raw, &s) == nil && strings.HasPrefix(s, "ATIF-")
}
