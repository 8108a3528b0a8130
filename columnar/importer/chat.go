package importer

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"
)

// chatMessage is one decoded OpenAI-style chat message.
type chatMessage struct {
	index      int
	role       string
	content    string
	reasoning  string
	toolCalls  []toolCall
	toolCallID string
	obj        *object // the whole message, for format-specific fields
}

// toolCall is one function call of an assistant message.
type toolCall struct {
	id       string
	name     string
	args     map[string]json.RawMessage // nil when the arguments are not a JSON object
	argsText string                     // the arguments as JSON text
}

// parseMessages decodes the chat messages of the list at path. A message
// needs a string role; its content may be a string, null or a list of
// parts, and is read from "text" when "content" is absent (the
// nebius/SWE-agent-trajectories spelling).
func parseMessages(path string, raws []json.RawMessage) ([]chatMessage, error) {
	msgs := make([]chatMessage, 0, len(raws))
	for i, raw := range raws {
		p := indexPath(path, i)
		o, err := decodeObject(p, raw)
		if err != nil {
			return nil, err
		}
		m := chatMessage{index: i, obj: o}
		if !o.has("role") {
			return nil, fieldErrorf(childPath(p, "role"), "missing")
		}
		if m.role, err = o.str("role"); err != nil {
			return nil, err
		}
		m.role = normalRole(m.role)
		key := "content"
		if _, ok := o.fields["content"]; !ok && o.has("text") {
			key = "text"
		}
		if raw, ok := o.fields[key]; ok {
			if m.content, err = flattenContent(childPath(p, key), raw); err != nil {
				return nil, err
			}
		}
		if m.reasoning, _, err = o.firstStr("reasoning_content", "reasoning"); err != nil {
			return nil, err
		}
		if m.toolCallID, err = o.str("tool_call_id"); err != nil {
			return nil, err
		}
		calls, _, err := o.list("tool_calls")
		if err != nil {
			return nil, err
		}
		for j, c := range calls {
			tc, err := parseToolCall(indexPath(childPath(p, "tool_calls"), j), c)
			if err != nil {
				return nil, err
			}
			m.toolCalls = append(m.toolCalls, tc)
		}
		msgs = append(msgs, m)
	}
	return msgs, nil
}

// normalRole maps the role spellings of other chat formats onto OpenAI's
// ("ai" in nebius/SWE-agent-trajectories, "human"/"gpt" in ShareGPT).
func normalRole(role string) string {
	switch strings.ToLower(role) {
	case "ai", "gpt", "model", "bot", "assistant":
		return "assistant"
	case "human", "user":
		return "user"
	case "function", "tool":
		return "tool"
	}
	return role
}

// parseToolCall decodes {"id", "type", "function": {"name", "arguments"}},
// also accepting name and arguments at the top level.
func parseToolCall(path string, raw json.RawMessage) (toolCall, error) {
	var tc toolCall
	o, err := decodeObject(path, raw)
	if err != nil {
		return tc, err
	}
	if tc.id, err = o.id("id"); err != nil {
		return tc, err
	}
	fn := o
	fnPath := path
	if o.has("function") {
		if fn, err = o.object("function"); err != nil {
			return tc, err
		}
		fnPath = childPath(path, "function")
	}
	if !fn.has("name") {
		return tc, fieldErrorf(childPath(fnPath, "name"), "missing")
	}
	if tc.name, err = fn.str("name"); err != nil {
		return tc, err
	}
	if a, ok := fn.raw("arguments"); ok {
		switch jsonKind(a) {
		case "string":
			if tc.argsText, err = fn.str("arguments"); err != nil {
				return tc, err
			}
		case "object":
			var buf bytes.Buffer
			if err := json.Compact(&buf, a); err != nil {
				return tc, fieldErrorf(childPath(fnPath, "arguments"), "%w", err)
			}
			tc.argsText = buf.String()
		default:
			return tc, fieldErrorf(childPath(fnPath, "arguments"), "expected a JSON string or an object, got %s", jsonKind(a))
		}
		// Arguments that are not a JSON object are kept as text only: a
		// model's malformed call is data, not a malformed record.
		var args map[string]json.RawMessage
		if json.Unmarshal([]byte(tc.argsText), &args) == nil {
			tc.args = args
		}
	}
	return tc, nil
}

// replies returns the messages after msgs[k] up to the next assistant
// message.
func replies(msgs []chatMessage, k int) []chatMessage {
	end := k + 1
	for end < len(msgs) && msgs[end].role != "assistant" {
		end++
	}
	return msgs[k+1 : end]
}

// firstUser returns the content of the first user message, or "".
func firstUser(msgs []chatMessage) string {
	for _, m := range msgs {
		if m.role == "user" {
			return m.content
		}
	}
	return ""
}

// fencedBlockRE matches a fenced code block with an optional info string.
var fencedBlockRE = regexp.MustCompile("(?s)```([A-Za-z0-9_.+-]*)[ \t]*\r?\n(.*?)\r?\n?```")

// commandTagRE matches SWE-agent's XML action form.
var commandTagRE = regexp.MustCompile(`(?s)<command>\r?\n?(.*?)\r?\n?</command>`)

// splitTextAction reads a text-only assistant message the way SWE-agent's
// parsers do: the action is the last fenced code block (or <command>
// element) and the thought is the text before it. ok is false when the
// message holds no action.
func splitTextAction(content string) (thought, action string, ok bool) {
	if ms := fencedBlockRE.FindAllStringSubmatchIndex(content, -1); ms != nil {
		m := ms[len(ms)-1]
		return cleanThought(content[:m[0]]), content[m[4]:m[5]], true
	}
	if ms := commandTagRE.FindAllStringSubmatchIndex(content, -1); ms != nil {
		m := ms[len(ms)-1]
		return cleanThought(content[:m[0]]), content[m[2]:m[3]], true
	}
	return cleanThought(content), "", false
}

// cleanThought trims a thought and drops the "THOUGHT:" or "DISCUSSION"
// label that agent prompts ask for.
func cleanThought(s string) string {
	s = strings.TrimSpace(s)
	for _, label := range []string{"THOUGHT:", "DISCUSSION"} {
		if strings.HasPrefix(s, label) {
			s = strings.TrimSpace(s[len(label):])
		}
	}
	return s
}
