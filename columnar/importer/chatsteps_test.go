package importer

import (
	"testing"
)

// TestOpenAIChatOneStepPerToolCall pins the README's rule: an assistant
// message with several tool calls gives one step per call, in call order,
// its thought on the first, each observed by the tool message with its
// tool_call_id wherever that stands.
func TestOpenAIChatOneStepPerToolCall(t *testing.T) {
	row := `{"instance_id": "x-1", "messages": [` +
		`{"role": "user", "content": "fix it"},` +
		`{"role": "assistant", "content": "Two looks.", "tool_calls": [` +
		`{"id": "a", "type": "function", "function": {"name": "execute_bash", "arguments": "{\"command\": \"ls\"}"}},` +
		`{"id": "b", "type": "function", "function": {"name": "execute_bash", "arguments": "{\"command\": \"cat x.py\"}"}}]},` +
		`{"role": "tool", "tool_call_id": "b", "content": "print(1)"},` +
		`{"role": "tool", "tool_call_id": "a", "content": "x.py"},` +
		`{"role": "assistant", "content": "Done.", "tool_calls": [{"id": "c", "type": "function", "function": {"name": "finish", "arguments": "{}"}}]}]}`
	out, _, err := importString(t, OpenAIChat, "multi.jsonl", row+"\n", Options{})
	if err != nil {
		t.Fatal(err)
	}
	type want struct{ action, thought, obs, actionType string }
	wants := []want{
		{"ls", "Two looks.", "x.py", ActionView},
		{"cat x.py", "", "print(1)", ActionView},
		{"finish", "Done.", "", ActionSubmit},
	}
	steps := out[0].Steps
	if len(steps) != len(wants) {
		t.Fatalf("%d steps, want %d", len(steps), len(wants))
	}
	for i, w := range wants {
		s := steps[i]
		if got := (want{s.Action, s.Thought, s.Observation, s.ActionType}); got != w {
			t.Errorf("step %d = %+v, want %+v", i, got, w)
		}
	}
}
