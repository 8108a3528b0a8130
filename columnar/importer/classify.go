package importer

import (
	"bytes"
	"encoding/json"
	"path"
	"regexp"
	"strconv"
	"strings"
)

// Action types written to Step.ActionType.
const (
	ActionBash         = "bash"          // a shell command not classified further
	ActionEdit         = "edit"          // writes or changes a file
	ActionView         = "view"          // shows a file, a directory or a binary's code
	ActionSearch       = "search"        // searches files or their contents
	ActionPython       = "python"        // runs Python
	ActionTest         = "test"          // runs a test suite
	ActionSubmit       = "submit"        // submits the result and ends the run
	ActionThink        = "think"         // a tool call that only records a thought
	ActionFunctionCall = "function_call" // a tool call of a function not known here
)

// submitSentinels are the commands with which mini-swe-agent ends a run:
// the current one, then those of earlier versions (mini-, micro- and
// nano-swe-agent).
var submitSentinels = []string{"COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT", "MINI_SWE_AGENT_FINAL_OUTPUT", "MICRO_SWE_AGENT_FINAL_OUTPUT", "NANO_SWE_AGENT_FINAL_OUTPUT"}

// Commands of SWE-agent's tool bundles, by action type.
var (
	sweViewCommands   = setOf("open", "goto", "scroll_up", "scroll_down", "set_cursors", "view", "decompile", "disassemble", "filemap")
	sweSearchCommands = setOf("find_file", "search_dir", "search_file")
	sweEditCommands   = setOf("edit", "insert", "append", "create", "str_replace", "undo_edit")
	editorTools       = setOf("str_replace_editor", "str_replace_based_edit_tool", "text_editor", "file_editor", "edit_file")
)

// Shell programs, by action type.
var (
	shellView   = setOf("cat", "head", "tail", "less", "more", "nl", "ls", "tree", "xxd", "hexdump", "od", "bat")
	shellSearch = setOf("grep", "egrep", "fgrep", "rg", "ag", "ack", "find", "locate", "fd")
	shellTest   = setOf("pytest", "py.test", "tox", "nosetests", "nox")
	shellSetup  = setOf("cd", "export", "source", ".", "set", "unset", "pushd")
)

// Tool-call function names, by action type.
var (
	bashTools   = setOf("bash", "execute_bash", "run_bash", "shell", "run_shell_command", "terminal", "run_command", "execute_command", "cmd_run", "exec")
	pythonTools = setOf("python", "execute_python", "run_python", "ipython", "execute_ipython_cell", "python_interpreter")
	submitTools = setOf("submit", "finish", "complete", "task_complete", "done", "submit_solution")
	searchTools = setOf("find_file", "search_dir", "search_file", "grep", "search", "glob", "search_files", "find")
	viewTools   = setOf("open", "goto", "scroll_up", "scroll_down", "read_file", "view_file", "view", "list_files", "ls")
	thinkTools  = setOf("think")
)

func setOf(words ...string) map[string]bool {
	m := make(map[string]bool, len(words))
	for _, w := range words {
		m[w] = true
	}
	return m
}

// heredocRE finds a here-document on a command's first line.
var heredocRE = regexp.MustCompile(`<<(-?)\s*(['"]?)([A-Za-z_][A-Za-z0-9_]*)(['"]?)`)

// pythonRE matches python, python3, python3.11 and the like.
var pythonRE = regexp.MustCompile(`^python[0-9.]*$`)

// classifyCommand returns the action type of a command in SWE-agent's
// command language or in bash, and the code it writes when that can be
// read off the command: the body of an edit, of a file created through a
// here-document, or of a Python script passed inline.
func classifyCommand(action string) (actionType, code string) {
	a := strings.TrimSpace(action)
	if a == "" {
		return "", ""
	}
	for _, s := range submitSentinels {
		if strings.Contains(a, s) {
			return ActionSubmit, ""
		}
	}
	first, body, hasBody := strings.Cut(a, "\n")
	segment := mainSegment(first)
	words, ok := shellWords(segment)
	if !ok || len(words) == 0 {
		words = strings.Fields(segment)
	}
	if len(words) == 0 {
		return ActionBash, ""
	}
	cmd := words[0]

	// SWE-agent's own commands.
	switch {
	case cmd == "submit":
		return ActionSubmit, ""
	case editorTools[cmd]:
		return classifyEditor(a)
	case sweEditCommands[cmd]:
		return ActionEdit, sweEditCode(cmd, a, hasBody, body)
	case sweViewCommands[cmd]:
		return ActionView, ""
	case sweSearchCommands[cmd]:
		return ActionSearch, ""
	}

	// Shell programs.
	prog := path.Base(cmd)
	if m := heredocRE.FindStringSubmatch(segment); m != nil && hasBody {
		doc := heredocBody(body, m[3], m[1] == "-")
		switch {
		case pythonRE.MatchString(prog):
			return ActionPython, doc
		case prog == "tee" || prog == "cat" && strings.Contains(heredocRE.ReplaceAllString(segment, ""), ">"):
			return ActionEdit, doc
		}
	}
	switch {
	case pythonRE.MatchString(prog):
		for i := 1; i < len(words); i++ {
			if words[i] == "-m" && i+1 < len(words) && shellTest[words[i+1]] {
				return ActionTest, ""
			}
			if words[i] == "-c" {
				full, ok := shellWords(mainSegment(a))
				if ok {
					for j := 1; j+1 < len(full); j++ {
						if full[j] == "-c" {
							return ActionPython, full[j+1]
						}
					}
				}
				return ActionPython, ""
			}
		}
		return ActionPython, ""
	case shellTest[prog]:
		return ActionTest, ""
	case prog == "sed" || prog == "perl":
		for _, w := range words[1:] {
			if strings.HasPrefix(w, "-") && !strings.HasPrefix(w, "--") && strings.Contains(w, "i") {
				return ActionEdit, ""
			}
		}
		if prog == "sed" {
			return ActionView, "" // sed -n '10,20p' file
		}
		return ActionBash, ""
	case shellView[prog]:
		if prog == "cat" && strings.Contains(segment, ">") {
			return ActionEdit, ""
		}
		return ActionView, ""
	case shellSearch[prog]:
		return ActionSearch, ""
	}
	return ActionBash, ""
}

// mainSegment drops leading setup commands ("cd /repo && ...", "export
// X=1; ...") from a command line, so the program that does the work is
// first.
func mainSegment(line string) string {
	rest := strings.TrimSpace(line)
	for {
		i := strings.IndexAny(rest, "&;")
		if i < 0 {
			return rest
		}
		head := strings.TrimSpace(rest[:i])
		words := strings.Fields(head)
		if len(words) == 0 || !(shellSetup[words[0]] || isAssignment(head)) {
			return rest
		}
		tail := rest[i:]
		tail = strings.TrimLeft(tail, "&;")
		rest = strings.TrimSpace(tail)
	}
}

// isAssignment reports whether s is only shell variable assignments.
func isAssignment(s string) bool {
	words := strings.Fields(s)
	if len(words) == 0 {
		return false
	}
	for _, w := range words {
		name, _, ok := strings.Cut(w, "=")
		if !ok || name == "" || strings.ContainsAny(name, "/.-'\"$") {
			return false
		}
	}
	return true
}

// sweEditCode reads the text an SWE-agent edit command writes: the body
// between the command line and its end_of_* terminator, or the replacement
// argument of the quoted forms "edit 'search' 'replace'" and
// "insert 'text' [line]".
func sweEditCode(cmd, action string, hasBody bool, body string) string {
	if hasBody {
		lines := strings.Split(body, "\n")
		for i := len(lines) - 1; i >= 0; i-- {
			if strings.HasPrefix(strings.TrimSpace(lines[i]), "end_of_") {
				return strings.Join(lines[:i], "\n")
			}
		}
	}
	words, ok := shellWords(action)
	if !ok {
		if hasBody {
			return body
		}
		return ""
	}
	switch {
	case (cmd == "edit" || cmd == "str_replace") && len(words) >= 3:
		return words[2]
	case (cmd == "insert" || cmd == "append") && len(words) >= 2:
		return words[1]
	}
	return ""
}

// classifyEditor handles SWE-agent 1.0's str_replace_editor command line.
func classifyEditor(action string) (string, string) {
	words, ok := shellWords(action)
	if !ok || len(words) < 2 {
		return ActionEdit, ""
	}
	flag := func(name string) string {
		for i := 2; i+1 < len(words); i++ {
			if words[i] == name {
				return words[i+1]
			}
		}
		return ""
	}
	switch words[1] {
	case "view":
		return ActionView, ""
	case "create":
		return ActionEdit, flag("--file_text")
	case "str_replace", "insert":
		return ActionEdit, flag("--new_str")
	}
	return ActionEdit, ""
}

// heredocBody returns the lines of body up to the delimiter line.
func heredocBody(body, delim string, stripTabs bool) string {
	lines := strings.Split(body, "\n")
	for i, l := range lines {
		cmp := l
		if stripTabs {
			cmp = strings.TrimLeft(l, "\t")
		}
		if strings.TrimRight(cmp, " \r") == delim {
			return strings.Join(lines[:i], "\n")
		}
	}
	return body
}

// shellWords splits s into words the way a POSIX shell would, honouring
// single quotes, double quotes and backslashes. ok is false when a quote is
// left open.
func shellWords(s string) (words []string, ok bool) {
	var cur strings.Builder
	inWord := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		case c == '\'':
			inWord = true
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				return words, false
			}
			cur.WriteString(s[i+1 : i+1+j])
			i += j + 1
		case c == '"':
			inWord = true
			i++
			for ; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' && i+1 < len(s) && strings.IndexByte("\"\\$`\n", s[i+1]) >= 0 {
					i++
					if s[i] == '\n' {
						continue
					}
				}
				cur.WriteByte(s[i])
			}
			if i >= len(s) {
				return words, false
			}
		case c == '\\':
			if i+1 < len(s) {
				i++
				if s[i] != '\n' {
					cur.WriteByte(s[i])
					inWord = true
				}
			}
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, true
}

// classifyToolCall maps an OpenAI-style function call to the step's action
// text, action type and code. Shell tools are classified by their command;
// other calls are written as "name {json arguments}".
func classifyToolCall(name string, args map[string]json.RawMessage, argsText string) (action, actionType, code string) {
	n := strings.ToLower(name)
	argStr := func(keys ...string) string {
		for _, k := range keys {
			if raw, ok := args[k]; ok && jsonKind(raw) == "string" {
				var s string
				if json.Unmarshal(raw, &s) == nil {
					return s
				}
			}
		}
		return ""
	}
	action = name
	if t := strings.TrimSpace(argsText); t != "" && t != "{}" {
		var compact bytes.Buffer
		if json.Compact(&compact, []byte(t)) == nil {
			t = compact.String()
		}
		action = name + " " + t
	}
	switch {
	case bashTools[n]:
		if cmd := argStr("command", "cmd", "script"); cmd != "" {
			t, c := classifyCommand(cmd)
			return cmd, t, c
		}
		return action, ActionBash, ""
	case editorTools[n]:
		switch argStr("command") {
		case "view":
			return action, ActionView, ""
		case "create":
			return action, ActionEdit, argStr("file_text", "content")
		case "str_replace", "insert":
			return action, ActionEdit, argStr("new_str", "text")
		}
		return action, ActionEdit, ""
	case pythonTools[n]:
		return action, ActionPython, argStr("code", "source", "script")
	case submitTools[n]:
		return action, ActionSubmit, ""
	case thinkTools[n]:
		return action, ActionThink, ""
	case searchTools[n]:
		return action, ActionSearch, ""
	case viewTools[n]:
		return action, ActionView, ""
	case sweEditCommands[n]:
		return action, ActionEdit, argStr("replace", "replacement_text", "text", "new_str", "content")
	}
	return action, ActionFunctionCall, ""
}

// Observation markers with which tools report that an action failed. A
// program's own output (a traceback from a reproduction script, say) is not
// counted: it is what the action was run to see.
var (
	failurePrefixes = []string{
		"Wrong flag!", // SWE-agent CTF submit with a wrong flag
		"Your proposed edit has introduced new syntax error", // SWE-agent edit linter rejected the edit
		"ERROR:", // OpenHands editor and tools
		"Please always provide EXACTLY ONE action", // mini-swe-agent format error
	}
	failureContains = []string{
		"EXECUTION TIMED OUT", // SWE-agent command timeout
	}
	commandNotFoundRE = regexp.MustCompile(`(?m)^(?:/bin/|/usr/bin/)?(?:ba)?sh: (?:line \d+: )?[^\n:]+: command not found`)
	exitCodeRE        = regexp.MustCompile(`\[Command finished with exit code (-?\d+)\]`)
	returncodeRE      = regexp.MustCompile(`^\s*<returncode>\s*(-?\d+)\s*</returncode>`)
	miniTimeoutRE     = regexp.MustCompile(`^\s*The last command <command>[\s\S]*</command> timed out`)
)

// observationFailed reports whether an observation says its action failed,
// by the markers above, a non-zero <returncode> or OpenHands exit code, or
// a mini-swe-agent timeout.
func observationFailed(obs string) bool {
	t := strings.TrimSpace(obs)
	for _, p := range failurePrefixes {
		if strings.HasPrefix(t, p) {
			return true
		}
	}
	for _, c := range failureContains {
		if strings.Contains(t, c) {
			return true
		}
	}
	if commandNotFoundRE.MatchString(t) || miniTimeoutRE.MatchString(t) {
		return true
	}
	if rc, ok := returncodeOf(t); ok && rc != 0 {
		return true
	}
	if m := exitCodeRE.FindAllStringSubmatch(t, -1); m != nil {
		if rc, err := strconv.Atoi(m[len(m)-1][1]); err == nil && rc != 0 {
			return true
		}
	}
	return false
}

// returncodeOf reads the <returncode>N</returncode> that mini-swe-agent's
// observation template starts with; older templates put the number on a
// line of its own (<returncode>\nN\n</returncode>).
func returncodeOf(obs string) (int, bool) {
	m := returncodeRE.FindStringSubmatch(obs)
	if m == nil {
		return 0, false
	}
	rc, err := strconv.Atoi(m[1])
	return rc, err == nil
}

// miniOutputRE matches mini-swe-agent's standard observation template,
// whose <output> holds the command's output verbatim; the return code may
// stand on a line of its own, as in older templates.
var miniOutputRE = regexp.MustCompile(`^<returncode>\n?-?\d+\n?</returncode>\n<output>\n([\s\S]*)</output>$`)

// miniOldOutputRE matches the older template without <output>: the return
// code on a line of its own, then the output.
var miniOldOutputRE = regexp.MustCompile(`^<returncode>\n-?\d+\n</returncode>\n((?:[^<][\s\S]*)?)$`)

// unwrapMiniObservation returns the command output inside mini-swe-agent's
// standard observation template (or the older one without <output>), or
// content unchanged when it does not match (warnings, truncated outputs,
// timeouts, format errors).
func unwrapMiniObservation(content string) string {
	if m := miniOutputRE.FindStringSubmatch(content); m != nil {
		return m[1]
	}
	if m := miniOldOutputRE.FindStringSubmatch(content); m != nil {
		return m[1]
	}
	return content
}

// solutionLanguage names the language of a submitted solution: "diff" for
// patches, "python" for Python source, "text" for anything else (a CTF
// flag), "" when there is none.
func solutionLanguage(code string) string {
	t := strings.TrimSpace(code)
	switch {
	case t == "":
		return ""
	case strings.Contains(t, "diff --git") || strings.HasPrefix(t, "--- ") && strings.Contains(t, "\n+++ ") || strings.HasPrefix(t, "@@ "):
		return "diff"
	case pythonSourceRE.MatchString(t):
		return "python"
	}
	return "text"
}

var pythonSourceRE = regexp.MustCompile(`(?m)^(?:def [A-Za-z_]\w*\(|class [A-Za-z_]\w*[(:]|import [A-Za-z_]|from [A-Za-z_][\w.]* import )`)
