package importer

import (
	"path/filepath"
	"reflect"
	"testing"
)

// TestTextToolCalls checks the parser of calls written in message text.
func TestTextToolCalls(t *testing.T) {
	tests := []struct {
		name, content  string
		ok             bool
		names          []string
		args           []string // argsText per call
		thought, after string
	}{
		{"none", "Just talking, ```ls``` maybe.", false, nil, nil, "", ""},
		{"not a call", "I typed <function= by mistake.", false, nil, nil, "", ""},
		{"bash", "THOUGHT: look\n\n<function=execute_bash>\n<parameter=command>\nls -la\n</parameter>\n</function>",
			true, []string{"execute_bash"}, []string{`{"command":"ls -la"}`}, "look", ""},
		{"indentation kept", "<function=str_replace_editor>\n<parameter=new_str>\n    x = 2\n\n</parameter>\n</function>",
			true, []string{"str_replace_editor"}, []string{`{"new_str":"    x = 2\n"}`}, "", ""},
		{"unclosed at stop sequence", "a\n<function=str_replace_editor>\n<parameter=command>view</parameter>\n<parameter=path>/w/x.py",
			true, []string{"str_replace_editor"}, []string{`{"command":"view","path":"/w/x.py"}`}, "a", ""},
		{"two calls and a tail", "t\n<function=a>\n<parameter=p>1</parameter>\n</function>\n<function=submit>\n</function>\nbye",
			true, []string{"a", "submit"}, []string{`{"p":"1"}`, ""}, "t", "bye"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			calls, thought, after, ok := textToolCalls(tc.content)
			if ok != tc.ok {
				t.Fatalf("ok = %v, want %v", ok, tc.ok)
			}
			var names, args []string
			for _, c := range calls {
				names = append(names, c.name)
				args = append(args, c.argsText)
			}
			if !reflect.DeepEqual(names, tc.names) || !reflect.DeepEqual(args, tc.args) {
				t.Errorf("calls = %q %q, want %q %q", names, args, tc.names, tc.args)
			}
			if thought != tc.thought || after != tc.after {
				t.Errorf("thought, after = %q, %q; want %q, %q", thought, after, tc.thought, tc.after)
			}
		})
	}
}

// TestOpenAIChatTextToolCalls imports SWE-smith/swe-play-like rows whose
// calls are written in the assistant text: each call is a step with its
// action, type and code; the thought is the text before the call.
func TestOpenAIChatTextToolCalls(t *testing.T) {
	out, _, err := importFile(t, OpenAIChat, filepath.Join("testdata", "chat_textcalls.jsonl"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 2 {
		t.Fatalf("%d trajectories, want 2", len(out))
	}
	type want struct {
		action, actionType, code, thought, obs string
		isError                                bool
	}
	tests := []struct {
		row   int
		steps []want
	}{
		{0, []want{
			{"grep -rn 'x =' /testbed", ActionSearch, "", "Let me look at the repository first.", "OBSERVATION:\n/testbed/a.py:1:x = 1", false},
			{`str_replace_editor {"command":"str_replace","new_str":"    x = 2","old_str":"x = 1","path":"/testbed/a.py"}`, ActionEdit, "    x = 2", "I'll fix the value.", "OBSERVATION:\nThe file /testbed/a.py has been edited.", false},
			{"python /testbed/a.py", ActionPython, "", "Run it.", "OBSERVATION:\nTraceback (most recent call last):\n\n[Command finished with exit code 1]", true},
			{"submit", ActionSubmit, "", "Done.", "OBSERVATION:\ndiff --git a/a.py b/a.py", false},
		}},
		{1, []want{
			{`str_replace_editor {"command":"create","file_text":"print('hi')","path":"/w/hello.py"}`, ActionEdit, "print('hi')", "Two things at once.", "OBSERVATION:\nFile created successfully at: /w/hello.py", false},
			{"python /w/hello.py", ActionPython, "", "", "OBSERVATION:\nhi", false},
			{`str_replace_editor {"command":"view","path":"/w/hello.py"}`, ActionView, "", "Check the file.", "OBSERVATION:\n1\tprint('hi')", false},
			{"", "", "", "I wrote <function= by mistake but this is no call.", "", false},
		}},
	}
	for _, tc := range tests {
		tr := out[tc.row]
		if len(tr.Steps) != len(tc.steps) {
			t.Fatalf("row %d: %d steps, want %d", tc.row, len(tr.Steps), len(tc.steps))
		}
		for i, w := range tc.steps {
			s := tr.Steps[i]
			got := want{s.Action, s.ActionType, s.Code, s.Thought, s.Observation, s.IsError}
			if got != w {
				t.Errorf("row %d step %d:\n got %+v\nwant %+v", tc.row, i, got, w)
			}
		}
	}
	if v, _ := extraValue(t, out[1], "steps[1].text_after_call"); v != "That should do." {
		t.Errorf("text after the last call = %v", v)
	}
	if v, _ := extraValue(t, out[0], "steps[0].text_tool_call"); v != true {
		t.Errorf("steps[0].text_tool_call = %v", v)
	}
}
