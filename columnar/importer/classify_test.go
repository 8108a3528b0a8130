package importer

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"
)

func TestClassifyCommand(t *testing.T) {
	tests := []struct {
		action     string
		actionType string
		code       string
	}{
		{"", "", ""},
		{"submit\n", ActionSubmit, ""},
		{"submit 'flag{x}'\n", ActionSubmit, ""},
		{"echo COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT && git add -A && git diff --cached", ActionSubmit, ""},
		{"edit 5:7\n    return x\nend_of_edit\n", ActionEdit, "    return x"},
		{"edit\nfoo()\nbar()\nend_of_edit", ActionEdit, "foo()\nbar()"},
		{"edit 'old text' 'new\n  text'", ActionEdit, "new\n  text"},
		{`edit 'it'"'"'s' 'it is'`, ActionEdit, "it is"},
		{"insert 'import os\n' 3", ActionEdit, "import os\n"},
		{"create reproduce.py\n", ActionEdit, ""},
		{"str_replace_editor create /x.py --file_text 'print(1)\n'", ActionEdit, "print(1)\n"},
		{"str_replace_editor str_replace /x.py --old_str 'a' --new_str 'b'", ActionEdit, "b"},
		{"str_replace_editor view /x.py", ActionView, ""},
		{"open src/a.py 10\n", ActionView, ""},
		{"set_cursors 1 2", ActionView, ""},
		{"decompile --function_name main rock", ActionView, ""},
		{"find_file \"fields.py\" src", ActionSearch, ""},
		{"search_dir foo", ActionSearch, ""},
		{"grep -rn 'def get' .", ActionSearch, ""},
		{"cd /repo && grep -rn x .", ActionSearch, ""},
		{"export FOO=1; cd /repo && find . -name '*.py'", ActionSearch, ""},
		{"X=1 Y=2; rg foo", ActionSearch, ""},
		{"ls -la", ActionView, ""},
		{"cat tests/a.py", ActionView, ""},
		{"nl -ba a.py | sed -n '1,20p'", ActionView, ""},
		{"sed -n '10,20p' a.py", ActionView, ""},
		{"sed -i 's/a/b/' a.py", ActionEdit, ""},
		{"perl -pi -e 's/a/b/' a.py", ActionEdit, ""},
		{"cat > a.py << 'EOF'\nprint(1)\nEOF", ActionEdit, "print(1)"},
		{"cat <<EOF > a.py\nx = 1\n\ty = 2\nEOF\npython a.py", ActionEdit, "x = 1\n\ty = 2"},
		{"cd /repo && cat <<-'PY' > b.py\n\tz = 3\n\tPY", ActionEdit, "\tz = 3"},
		{"tee out.txt <<EOF\nhello\nEOF", ActionEdit, "hello"},
		{"python3 - <<'EOF'\nimport sys\nprint(sys.version)\nEOF", ActionPython, "import sys\nprint(sys.version)"},
		{"python reproduce.py\n", ActionPython, ""},
		{"/usr/bin/python3.11 x.py", ActionPython, ""},
		{`python -c "import a; print(a.f())"`, ActionPython, "import a; print(a.f())"},
		{"cd /repo && python -m pytest tests -q", ActionTest, ""},
		{"pytest -x", ActionTest, ""},
		{"pip install -e .", ActionBash, ""},
		{"./rock\n", ActionBash, ""},
		{"connect_sendline Y", ActionBash, ""},
		{"echo 'unterminated", ActionBash, ""},
	}
	for _, tc := range tests {
		gotType, gotCode := classifyCommand(tc.action)
		if gotType != tc.actionType || gotCode != tc.code {
			t.Errorf("classifyCommand(%q) = %q, %q; want %q, %q", tc.action, gotType, gotCode, tc.actionType, tc.code)
		}
	}
}

func TestClassifyToolCall(t *testing.T) {
	tests := []struct {
		name, args               string
		action, actionType, code string
	}{
		{"execute_bash", `{"command": "ls -la"}`, "ls -la", ActionView, ""},
		{"bash", `{"command": "python x.py"}`, "python x.py", ActionPython, ""},
		{"str_replace_editor", `{"command": "view", "path": "/a"}`, `str_replace_editor {"command":"view","path":"/a"}`, ActionView, ""},
		{"str_replace_editor", `{"command": "create", "path": "/a", "file_text": "x=1"}`, `str_replace_editor {"command":"create","path":"/a","file_text":"x=1"}`, ActionEdit, "x=1"},
		{"str_replace_editor", `{"command": "insert", "path": "/a", "insert_line": 3, "new_str": "y"}`, `str_replace_editor {"command":"insert","path":"/a","insert_line":3,"new_str":"y"}`, ActionEdit, "y"},
		{"execute_ipython_cell", `{"code": "print(2)"}`, `execute_ipython_cell {"code":"print(2)"}`, ActionPython, "print(2)"},
		{"finish", `{}`, "finish", ActionSubmit, ""},
		{"submit", ``, "submit", ActionSubmit, ""},
		{"think", `{"thought": "hm"}`, `think {"thought":"hm"}`, ActionThink, ""},
		{"find_file", `{"file_name": "a.py"}`, `find_file {"file_name":"a.py"}`, ActionSearch, ""},
		{"edit", `{"search": "a", "replace": "b"}`, `edit {"search":"a","replace":"b"}`, ActionEdit, "b"},
		{"web_search", `{"q": "go"}`, `web_search {"q":"go"}`, ActionFunctionCall, ""},
		{"bash", `not json`, "bash not json", ActionBash, ""},
	}
	for _, tc := range tests {
		var args map[string]json.RawMessage
		_ = json.Unmarshal([]byte(tc.args), &args)
		action, typ, code := classifyToolCall(tc.name, args, tc.args)
		if action != tc.action || typ != tc.actionType || code != tc.code {
			t.Errorf("classifyToolCall(%q, %s) = %q, %q, %q; want %q, %q, %q", tc.name, tc.args, action, typ, code, tc.action, tc.actionType, tc.code)
		}
	}
}

func TestShellWords(t *testing.T) {
	tests := []struct {
		in   string
		want []string
		ok   bool
	}{
		{"a b  c", []string{"a", "b", "c"}, true},
		{`edit 'x y' "a \"b\" \$c \d"`, []string{"edit", "x y", `a "b" $c \d`}, true},
		{`'it'"'"'s'`, []string{"it's"}, true},
		{`a\ b c`, []string{"a b", "c"}, true},
		{"''", []string{""}, true},
		{"'open", nil, false},
		{`"open`, nil, false},
	}
	for _, tc := range tests {
		got, ok := shellWords(tc.in)
		if ok != tc.ok || tc.ok && !reflect.DeepEqual(got, tc.want) {
			t.Errorf("shellWords(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestObservationFailed(t *testing.T) {
	tests := []struct {
		obs  string
		want bool
	}{
		{"Wrong flag!", true},
		{"Your proposed edit has introduced new syntax error(s). Please read", true},
		{"\nEXECUTION TIMED OUT", true},
		{"partial output\nEXECUTION TIMED OUT", true},
		{"/bin/bash: line 1: vim: command not found", true},
		{"bash: gdb: command not found", true},
		{"<returncode>2</returncode>\n<output>\n</output>", true},
		{"<returncode>0</returncode>\n<output>\nok\n</output>", false},
		{"x\n[Command finished with exit code 1]", true},
		{"x\n[Command finished with exit code 0]", false},
		{"ERROR:\nInvalid `path` parameter", true},
		{"The last command <command>sleep 100</command> timed out and has been killed.", true},
		{"Please always provide EXACTLY ONE action in triple backticks, found 2 actions.", true},
		{"Traceback (most recent call last):\n  File \"x.py\"", false},
		{"Found 1 matches", false},
		{"", false},
	}
	for _, tc := range tests {
		if got := observationFailed(tc.obs); got != tc.want {
			t.Errorf("observationFailed(%q) = %v, want %v", tc.obs, got, tc.want)
		}
	}
}

func TestSolutionLanguage(t *testing.T) {
	tests := []struct{ code, want string }{
		{"", ""},
		{"  \n", ""},
		{"\r\ndiff --git a/x b/x\r\n", "diff"},
		{"--- a/x\n+++ b/x\n@@ -1 +1 @@\n", "diff"},
		{"def f(x):\n    return x\n", "python"},
		{"import os\nprint(os.sep)", "python"},
		{"flag{People always make the best exploits.}", "text"},
		{"125379498", "text"},
	}
	for _, tc := range tests {
		if got := solutionLanguage(tc.code); got != tc.want {
			t.Errorf("solutionLanguage(%q) = %q, want %q", tc.code, got, tc.want)
		}
	}
}

func TestSplitTextAction(t *testing.T) {
	tests := []struct {
		content, thought, action string
		ok                       bool
	}{
		{"DISCUSSION\nLook.\n\n```\nls -a\n```", "Look.", "ls -a", true},
		{"THOUGHT: two blocks\n```python\nx\n```\nthen\n```bash\npwd\n```", "two blocks\n```python\nx\n```\nthen", "pwd", true},
		{"Plan.\n<command>\nsubmit\n</command>", "Plan.", "submit", true},
		{"Just talking.", "Just talking.", "", false},
	}
	for _, tc := range tests {
		th, act, ok := splitTextAction(tc.content)
		if th != tc.thought || act != tc.action || ok != tc.ok {
			t.Errorf("splitTextAction(%q) = %q, %q, %v; want %q, %q, %v", tc.content, th, act, ok, tc.thought, tc.action, tc.ok)
		}
	}
}

func TestUnwrapMiniObservation(t *testing.T) {
	tests := []struct{ in, want string }{
		{"<returncode>0</returncode>\n<output>\nhello\n</output>", "hello\n"},
		{"<returncode>1</returncode>\n<output>\n</output>", ""},
		{"<returncode>0</returncode>\n<warning>\ntoo long\n</warning>", "<returncode>0</returncode>\n<warning>\ntoo long\n</warning>"},
		{"plain", "plain"},
	}
	for _, tc := range tests {
		if got := unwrapMiniObservation(tc.in); got != tc.want {
			t.Errorf("unwrapMiniObservation(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestDescriptions(t *testing.T) {
	// fromTemplate reads the task through an instance template; "-" when
	// the template does not apply.
	fromTemplate := func(tmpl, prompt string) string {
		if s, ok := miniTaskFromTemplate(tmpl, prompt); ok {
			return s
		}
		return "-"
	}
	const pr = "<pr_description>\nConsider the following PR description:\n{{task}}\n</pr_description>\n\n<instructions>\nWork in {{cwd}}.\n</instructions>"
	tests := []struct {
		name, got, want string
	}{
		{"swe issue", sweTaskDescription("We're currently solving the following issue within our repository. Here's the issue text:\nISSUE:\nBug here\n\nINSTRUCTIONS:\nDo it."), "Bug here"},
		{"swe ctf", sweTaskDescription("We're solving a CTF challenge named x.\n\nINSTRUCTIONS:\nGo."), "We're solving a CTF challenge named x."},
		{"swe other", sweTaskDescription("  just text  "), "just text"},
		{"mini pr", miniTaskDescription("<pr_description>\nFix it\n</pr_description>\n<instructions>"), "Fix it"},
		{"mini issue", miniTaskDescription("Please solve this issue: Crash\n\nYou can execute bash commands and edit files."), "Crash"},
		{"mini other", miniTaskDescription("Do a thing"), "Do a thing"},
		{"mini template", fromTemplate(pr, "<pr_description>\nConsider the following PR description:\nBug\r\nmore\n</pr_description>\n\n<instructions>\nWork in /testbed.\n</instructions>"), "Bug\r\nmore"},
		{"mini template spacing", fromTemplate("{{ intro }}Task: {{- task -}}\nEnd{% if x %}y{% endif %}", "Hi. Task:FixEndy"), "Fix"},
		{"mini template no border", fromTemplate("Task: {{ task }}\n{% if x %}y{% endif %}", "Task: Fix\ny"), "-"},
		{"mini template only task", fromTemplate("{{ task }}", "  Just this  "), "Just this"},
		{"mini template no task", fromTemplate("Fix {{issue}}", "Fix it"), "-"},
		{"mini template other prompt", fromTemplate(pr, "Please solve this issue: Crash"), "-"},
		{"mini template empty", fromTemplate("", "Fix it"), "-"},
	}
	for _, tc := range tests {
		if tc.got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.name, tc.got, tc.want)
		}
	}
}

func TestFileStem(t *testing.T) {
	tests := []struct{ in, want string }{
		{"/a/b/ctf__rev__rock.traj", "ctf__rev__rock"},
		{"local.traj.json", "local"},
		{"LOCAL.TRAJ.JSON", "LOCAL"},
		{"data/chat.jsonl", "chat"},
		{"x.json", "x"},
		{".traj", ".traj"},
		{"noext", "noext"},
	}
	for _, tc := range tests {
		if got := fileStem(tc.in); got != tc.want {
			t.Errorf("fileStem(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestParseTimestamp(t *testing.T) {
	tests := []struct {
		raw     string
		want    time.Time
		wantErr bool
	}{
		{`"2024-11-02T14:05:09.123456Z"`, time.Date(2024, 11, 2, 14, 5, 9, 123e6, time.UTC), false},
		{`"2024-11-02T16:05:09+02:00"`, time.Date(2024, 11, 2, 14, 5, 9, 0, time.UTC), false},
		{`"2024-11-02 14:05:09"`, time.Date(2024, 11, 2, 14, 5, 9, 0, time.UTC), false},
		{`1717243200.5`, time.UnixMilli(1717243200500), false},
		{`1717243200500`, time.UnixMilli(1717243200500), false},
		{`"1717243200"`, time.Unix(1717243200, 0), false},
		{`"soon"`, time.Time{}, true},
		{`true`, time.Time{}, true},
	}
	for _, tc := range tests {
		got, err := parseTimestamp("ts", json.RawMessage(tc.raw))
		if (err != nil) != tc.wantErr || !tc.wantErr && !got.Equal(tc.want) {
			t.Errorf("parseTimestamp(%s) = %v, %v; want %v (error %v)", tc.raw, got, err, tc.want, tc.wantErr)
		}
		if err == nil && got.Location() != time.UTC {
			t.Errorf("parseTimestamp(%s) is not UTC", tc.raw)
		}
	}
}
