package importer

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/atlas-ai/atlas-learn/internal/shareddata"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/atlas-ai/atlas-learn/columnar"
)

// importFile imports one file and returns what was emitted.
func importFile(t *testing.T, format Format, path string, opts Options) ([]columnar.Trajectory, Stats, error) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	defer f.Close()
	var out []columnar.Trajectory
	st, err := Import(context.Background(), format, filepath.Base(path), f, func(tr columnar.Trajectory) error {
		out = append(out, tr)
		return nil
	}, opts)
	return out, st, err
}

// importString imports src given as a string.
func importString(t *testing.T, format Format, name, src string, opts Options) ([]columnar.Trajectory, Stats, error) {
	t.Helper()
	var out []columnar.Trajectory
	st, err := Import(context.Background(), format, name, strings.NewReader(src), func(tr columnar.Trajectory) error {
		out = append(out, tr)
		return nil
	}, opts)
	return out, st, err
}

// importOne imports a file that must yield exactly one trajectory.
func importOne(t *testing.T, format Format, path string) columnar.Trajectory {
	t.Helper()
	out, st, err := importFile(t, format, path, Options{})
	if err != nil {
		t.Fatalf("import %s: %v", path, err)
	}
	if len(out) != 1 || st.Imported != 1 || st.Skipped != 0 {
		t.Fatalf("import %s: got %d trajectories, stats %+v; want exactly one", path, len(out), st)
	}
	return out[0]
}

// expandedExtra is tr.Extra with its column references expanded: the
// source fields as the importer read them.
func expandedExtra(t *testing.T, tr columnar.Trajectory) json.RawMessage {
	t.Helper()
	x, err := tr.ExpandExtra()
	if err != nil {
		t.Fatal(err)
	}
	return x
}

// extraValue decodes t.Extra, its column references expanded, and follows
// a dotted path such as "source.info.model_stats.api_calls" or
// "steps[4].execution_time".
func extraValue(t *testing.T, tr columnar.Trajectory, path string) (any, bool) {
	t.Helper()
	var v any
	if err := json.Unmarshal(expandedExtra(t, tr), &v); err != nil {
		t.Fatalf("extra is not JSON: %v", err)
	}
	for _, part := range strings.Split(path, ".") {
		name, idx, hasIdx := strings.Cut(part, "[")
		if name != "" {
			m, ok := v.(map[string]any)
			if !ok {
				return nil, false
			}
			if v, ok = m[name]; !ok {
				return nil, false
			}
		}
		for hasIdx {
			var n string
			n, idx, _ = strings.Cut(idx, "]")
			i, err := strconv.Atoi(n)
			if err != nil {
				t.Fatalf("bad path %q", path)
			}
			l, ok := v.([]any)
			if !ok || i >= len(l) {
				return nil, false
			}
			v = l[i]
			_, idx, hasIdx = strings.Cut(idx, "[")
		}
	}
	return v, true
}

// TestImportRealFiles imports every trajectory in shared/data and checks
// what each became. The expected values were read off the files: step
// counts are the length of the SWE-agent "trajectory" list (the assistant
// messages of "history" for function_calling_simple, which has no list),
// the number of assistant messages of the older mini-swe-agent files and
// the number of assistant tool calls of the mini-swe-agent-1.1 files.
func TestImportRealFiles(t *testing.T) {
	root := filepath.Join(shareddata.Dir(t), "trajectories")
	const (
		mm = "replay__marshmallow-code__marshmallow-1867__"
		ms = "__marshmallow-code__marshmallow-1867.traj"
	)
	tests := []struct {
		file       string
		format     Format
		steps      int
		success    bool
		exitStatus string
		taskID     string
		domain     string
		language   string
		model      string
	}{
		{"swe-agent/ctf__crypto__BabyEncryption.traj", SWEAgent, 16, true, "submitted", "ctf__crypto__BabyEncryption", "ctf", "text", ""},
		{"swe-agent/ctf__crypto__BabyTimeCapsule.traj", SWEAgent, 9, true, "submitted", "ctf__crypto__BabyTimeCapsule", "ctf", "text", ""},
		{"swe-agent/ctf__crypto__eps.traj", SWEAgent, 14, true, "submitted", "ctf__crypto__eps", "ctf", "text", ""},
		{"swe-agent/ctf__crypto__katy.traj", SWEAgent, 18, true, "submitted", "ctf__crypto__katy", "ctf", "text", ""},
		{"swe-agent/ctf__forensics__flash.traj", SWEAgent, 4, true, "submitted", "ctf__forensics__flash", "ctf", "text", ""},
		{"swe-agent/ctf__misc__networking_1.traj", SWEAgent, 4, true, "submitted", "ctf__misc__networking_1", "ctf", "text", ""},
		{"swe-agent/ctf__pwn__warmup.traj", SWEAgent, 7, true, "submitted", "ctf__pwn__warmup", "ctf", "text", ""},
		{"swe-agent/ctf__rev__rock.traj", SWEAgent, 12, true, "submitted", "ctf__rev__rock", "ctf", "text", ""},
		{"swe-agent/ctf__web__i_got_id_demo.traj", SWEAgent, 21, true, "submitted", "ctf__web__i_got_id_demo", "ctf", "text", ""},
		{"swe-agent/function_calling_simple.traj", SWEAgent, 5, false, "", "function_calling_simple", "swe", "diff", ""},
		{"swe-agent/human_thought__swe-bench-HumanEvalFix-python__lcb__t-0.00__p-0.95__c-4.00__install-0__humanevalfix-python-0.traj", SWEAgent, 5, true, "submitted",
			"human_thought__swe-bench-HumanEvalFix-python__lcb__t-0.00__p-0.95__c-4.00__install-0__humanevalfix-python-0", "swe", "diff", ""},
		{"swe-agent/" + mm + "default__t-0.20__p-0.95__c-2.00__install-1___install_from_source" + ms, SWEAgent, 14, true, "submitted",
			mm + "default__t-0.20__p-0.95__c-2.00__install-1___install_from_source__marshmallow-code__marshmallow-1867", "swe", "diff", ""},
		{"swe-agent/" + mm + "default_sys-env_cursors_window100__t-0.20__p-0.95__c-2.00__install-1" + ms, SWEAgent, 12, true, "submitted",
			mm + "default_sys-env_cursors_window100__t-0.20__p-0.95__c-2.00__install-1__marshmallow-code__marshmallow-1867", "swe", "diff", ""},
		{"swe-agent/" + mm + "default_sys-env_window100__t-0.20__p-0.95__c-2.00__install-1" + ms, SWEAgent, 11, true, "submitted", "marshmallow-code__marshmallow-1867", "swe", "diff", "gpt-4o"},
		{"swe-agent/" + mm + "function_calling__install-1" + ms, SWEAgent, 11, true, "submitted", "marshmallow-code__marshmallow-1867", "swe", "diff", "gpt-4o"},
		{"swe-agent/" + mm + "function_calling_replace__install-1" + ms, SWEAgent, 11, true, "submitted", "marshmallow-code__marshmallow-1867", "swe", "diff", "gpt-4o"},
		{"swe-agent/" + mm + "function_calling_replace_from_source" + ms, SWEAgent, 13, true, "submitted", "marshmallow-code__marshmallow-1867", "swe", "diff", "replay"},
		{"swe-agent/" + mm + "xml_sys-env_cursors_window100__t-0.20__p-0.95__c-2.00__install-1" + ms, SWEAgent, 12, true, "submitted",
			mm + "xml_sys-env_cursors_window100__t-0.20__p-0.95__c-2.00__install-1__marshmallow-code__marshmallow-1867", "swe", "diff", ""},
		{"swe-agent/" + mm + "xml_sys-env_window100__t-0.20__p-0.95__c-2.00__install-1" + ms, SWEAgent, 11, true, "submitted", "marshmallow-code__marshmallow-1867", "swe", "diff", "gpt-4o"},
		{"mini-swe-agent/github_issue.traj.json", MiniSWEAgent, 10, true, "Submitted", "github_issue", "swe", "diff", ""},
		{"mini-swe-agent/local.traj.json", MiniSWEAgent, 2, false, "Submitted", "local", "swe", "", ""},
		// mini-swe-agent-1.1 tool-calling runs (mini_version 2.2.7), read
		// off the files as follows. Steps: the tool_calls of the assistant
		// messages, one each (1154 and 1854 hold only system, user and exit
		// messages: the first model call failed; 1606 has four assistant
		// messages with one bash call each, each answered by the tool
		// message with its tool_call_id). Exit status: info.exit_status,
		// the same as the exit message's extra.exit_status ("Timeout" for
		// 1154, "InternalServerError" for the others: litellm errors of the
		// DeepSeek API). Success: false, as info.submission and the exit
		// message's submission are "" in all three, so no solution and no
		// language. Task id: the top-level instance_id (equal to the file
		// stem). Domain: swe, as for every mini-swe-agent run (SWE-bench
		// images). Model: info.config.model.model_name.
		{"mini-swe-agent-1.1/pvlib__pvlib-python-1154.traj.json", MiniSWEAgent, 0, false, "Timeout", "pvlib__pvlib-python-1154", "swe", "", "deepseek/deepseek-reasoner"},
		{"mini-swe-agent-1.1/pvlib__pvlib-python-1606.traj.json", MiniSWEAgent, 4, false, "InternalServerError", "pvlib__pvlib-python-1606", "swe", "", "deepseek/deepseek-reasoner"},
		{"mini-swe-agent-1.1/pvlib__pvlib-python-1854.traj.json", MiniSWEAgent, 0, false, "InternalServerError", "pvlib__pvlib-python-1854", "swe", "", "deepseek/deepseek-reasoner"},
		// OpenHands event streams (tests/runtime/trajs), read off the files:
		// steps are the agent action events other than state changes
		// (basic: edit, finish; basic_gui_mode: run, edit, edit, run,
		// message; basic_interactions: message, message, finish;
		// wrong_initial_state: read, run, read, finish). Exit status
		// "submitted" where the agent ran finish; basic_gui_mode ends on a
		// message awaiting the user. No test result and no patch, so no
		// success. Model: tool_call_metadata.model_response.model.
		{"openhands/basic.json", OpenHands, 2, false, "submitted", "basic", "swe", "", "claude-3-5-sonnet-20241022"},
		{"openhands/basic_gui_mode.json", OpenHands, 5, false, "", "basic_gui_mode", "swe", "", "claude-3-5-sonnet-20241022"},
		{"openhands/basic_interactions.json", OpenHands, 3, false, "submitted", "basic_interactions", "swe", "", "gpt-4o-2024-08-06"},
		{"openhands/wrong_initial_state.json", OpenHands, 4, false, "submitted", "wrong_initial_state", "swe", "", "claude-3-5-sonnet-20241022"},
	}
	// createdAt holds the files with timestamps: the earliest
	// extra.timestamp of 1606's messages is its first assistant message's,
	// 1776075647.1506512. The others have none and get the epoch.
	createdAt := map[string]time.Time{
		"mini-swe-agent-1.1/pvlib__pvlib-python-1606.traj.json": time.UnixMilli(1776075647150),
		// OpenHands: the first event's timestamp, read as UTC.
		"openhands/basic.json":               time.UnixMilli(1738017896900),
		"openhands/basic_gui_mode.json":      time.UnixMilli(1737404953519),
		"openhands/basic_interactions.json":  time.UnixMilli(1738368850787),
		"openhands/wrong_initial_state.json": time.UnixMilli(1738019810239),
	}

	// Every trajectory file in the shared data must be in the table.
	listed := map[string]bool{}
	for _, tc := range tests {
		listed[tc.file] = true
	}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if _, ok := FormatFromName(p); !ok {
			return nil // licences
		}
		rel, _ := filepath.Rel(root, p)
		if !listed[filepath.ToSlash(rel)] {
			t.Errorf("%s is not covered by the table", rel)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("walk %s: %v", root, err)
	}

	for _, tc := range tests {
		t.Run(filepath.Base(tc.file), func(t *testing.T) {
			path := filepath.Join(root, tc.file)
			if f, ok := FormatFromName(path); !ok || f != tc.format {
				t.Errorf("FormatFromName = %q, %v; want %q", f, ok, tc.format)
			}
			tr := importOne(t, tc.format, path)
			if err := tr.Validate(); err != nil {
				t.Errorf("Validate: %v", err)
			}
			if got := len(tr.Steps); got != tc.steps {
				t.Errorf("steps = %d, want %d", got, tc.steps)
			}
			if tr.Outcome.Success != tc.success {
				t.Errorf("success = %v, want %v", tr.Outcome.Success, tc.success)
			}
			if tr.Outcome.ExitStatus != tc.exitStatus {
				t.Errorf("exit_status = %q, want %q", tr.Outcome.ExitStatus, tc.exitStatus)
			}
			if tr.Task.ID != tc.taskID {
				t.Errorf("task.id = %q, want %q", tr.Task.ID, tc.taskID)
			}
			if tr.Task.Domain != tc.domain {
				t.Errorf("task.domain = %q, want %q", tr.Task.Domain, tc.domain)
			}
			if tr.Solution.Language != tc.language {
				t.Errorf("solution.language = %q, want %q", tr.Solution.Language, tc.language)
			}
			if tr.Agent.Model != tc.model {
				t.Errorf("agent.model = %q, want %q", tr.Agent.Model, tc.model)
			}
			if want := wantRealFileID(t, root, tc.file); tr.TrajectoryID != want {
				t.Errorf("trajectory_id = %q, want %q", tr.TrajectoryID, want)
			}
			wantCreated, ok := createdAt[tc.file]
			if !ok {
				wantCreated = time.Unix(0, 0) // no timestamp in the source
			}
			if !tr.CreatedAt.Equal(wantCreated) {
				t.Errorf("created_at = %v, want %v", tr.CreatedAt, wantCreated.UTC())
			}
			if tr.Task.Description == "" {
				t.Errorf("task.description is empty")
			}
			if tc.success && tr.Solution.Code == "" {
				t.Errorf("successful run without solution code")
			}
			if got, _ := extraValue(t, tr, "source_format"); got != string(tc.format) {
				t.Errorf("extra.source_format = %v, want %q", got, tc.format)
			}
			for i, s := range tr.Steps {
				if s.Action != "" && s.ActionType == "" {
					t.Errorf("step %d: action %q has no action type", i, s.Action)
				}
			}
			// A run that ended by submitting ends with the submit; one that
			// ended on an error (Timeout, InternalServerError) need not.
			if n := len(tr.Steps); strings.EqualFold(tc.exitStatus, "submitted") && (n == 0 || tr.Steps[n-1].ActionType != ActionSubmit) {
				t.Errorf("%d steps, the last not a submit; want a final submit", n)
			}
			if !tc.success && tc.exitStatus != "" && !strings.EqualFold(tc.exitStatus, "submitted") && tr.Outcome.ErrorInfo == "" {
				t.Errorf("run ended with %q but error_info is empty", tc.exitStatus)
			}
		})
	}
}

// TestRealFileDetails pins steps whose mapping is not a plain copy: action
// types, written code and error flags.
func TestRealFileDetails(t *testing.T) {
	root := filepath.Join(shareddata.Dir(t), "trajectories")
	type stepWant struct {
		index      int
		actionType string
		code       string // prefix of Step.Code; "" means Code must be empty
		isError    bool
	}
	tests := []struct {
		file   string
		format Format
		steps  []stepWant
	}{
		{"swe-agent/ctf__crypto__BabyEncryption.traj", SWEAgent, []stepWant{
			{0, ActionView, "", false},
			{1, ActionEdit, "", false},
			{2, ActionEdit, "with open('msg.enc', 'rb') as f:\n", false},
			{3, ActionPython, "", false}, // a traceback from the agent's own script is output, not a tool failure
			{7, ActionEdit, "    cipher = binascii.unhexlify(f.read())", true},
			{15, ActionSubmit, "", false},
		}},
		{"swe-agent/ctf__crypto__eps.traj", SWEAgent, []stepWant{
			{8, ActionSubmit, "", true}, // "Wrong flag!"
			{13, ActionSubmit, "", false},
		}},
		{"swe-agent/ctf__rev__rock.traj", SWEAgent, []stepWant{
			{0, ActionBash, "", true}, // EXECUTION TIMED OUT
			{1, ActionView, "", false},
		}},
		{"swe-agent/function_calling_simple.traj", SWEAgent, []stepWant{
			{0, ActionSearch, "", false},
			{1, ActionView, "", false},
			{2, ActionEdit, "def division(a: float, b: float) -> float:", false},
			{3, ActionPython, "", false},
			{4, ActionSubmit, "", false},
		}},
		{"swe-agent/replay__marshmallow-code__marshmallow-1867__function_calling_replace__install-1__marshmallow-code__marshmallow-1867.traj", SWEAgent, []stepWant{
			{1, ActionEdit, "from marshmallow.fields import TimeDelta\n", false},
			{6, ActionEdit, "# round to nearest int\nreturn int(round(", true},
			{7, ActionEdit, "# round to nearest int\n        return int(round(", false},
		}},
		{"swe-agent/replay__marshmallow-code__marshmallow-1867__default_sys-env_cursors_window100__t-0.20__p-0.95__c-2.00__install-1__marshmallow-code__marshmallow-1867.traj", SWEAgent, []stepWant{
			{6, ActionView, "", false}, // set_cursors
			{8, ActionEdit, "        return int(round(value.total_seconds()", false},
		}},
		{"mini-swe-agent/github_issue.traj.json", MiniSWEAgent, []stepWant{
			{0, ActionView, "", true}, // returncode 1
			{4, ActionEdit, "", false},
			{7, ActionPython, "from tests.missing_colon import division", true},
			{8, ActionEdit, "#!/usr/bin/env python3\n\n\ndef division(a: float, b: float) -> float:\n    if b == 0:", false},
			{9, ActionSubmit, "", false},
		}},
		{"mini-swe-agent-1.1/pvlib__pvlib-python-1606.traj.json", MiniSWEAgent, []stepWant{
			{0, ActionView, "", false},   // ls -la /testbed, returncode 0
			{1, ActionView, "", false},   // ls -la /testbed/pvlib/
			{2, ActionSearch, "", false}, // grep -n "_golden_sect_DataFrame" ...
			{3, ActionView, "", false},   // sed -n '302,400p' ...
		}},
	}
	for _, tc := range tests {
		t.Run(filepath.Base(tc.file), func(t *testing.T) {
			tr := importOne(t, tc.format, filepath.Join(root, tc.file))
			for _, w := range tc.steps {
				s := tr.Steps[w.index]
				if s.ActionType != w.actionType {
					t.Errorf("step %d (%.40q): action_type = %q, want %q", w.index, s.Action, s.ActionType, w.actionType)
				}
				if w.code == "" && s.Code != "" || !strings.HasPrefix(s.Code, w.code) {
					t.Errorf("step %d: code = %.80q, want prefix %q", w.index, s.Code, w.code)
				}
				if s.IsError != w.isError {
					t.Errorf("step %d: is_error = %v, want %v (observation %.60q)", w.index, s.IsError, w.isError, s.Observation)
				}
			}
		})
	}

	// Spot checks of text mapping.
	fc := importOne(t, SWEAgent, filepath.Join(root, "swe-agent/function_calling_simple.traj"))
	if got := fc.Steps[3].Observation; got != "8.2" {
		t.Errorf("history observation = %q, want the output without SWE-agent's state footer", got)
	}
	if !strings.Contains(fc.Solution.Code, "+def division(a: float, b: float) -> float:") || strings.Contains(fc.Solution.Code, "bash-$") {
		t.Errorf("solution from the submit observation = %q", fc.Solution.Code)
	}
	gi := importOne(t, MiniSWEAgent, filepath.Join(root, "mini-swe-agent/github_issue.traj.json"))
	if got, want := gi.Steps[6].Observation, "8.2\n"; got != want {
		t.Errorf("mini observation = %q, want %q (unwrapped from <output>)", got, want)
	}
	if !strings.HasPrefix(gi.Task.Description, "GitHub Issue: SyntaxError: invalid syntax") || strings.Contains(gi.Task.Description, "Recommended Workflow") {
		t.Errorf("mini task description = %.100q", gi.Task.Description)
	}
	if got, want := gi.Steps[0].Thought, "I'll help you solve this issue. Let me first examine the content of the file that's causing the syntax error."; got != want {
		t.Errorf("mini thought = %q, want %q", got, want)
	}

	// mini-swe-agent-1.1: the thought is the reasoning_content (content is
	// empty), the observation the tool message's <output>, which here is
	// the whole raw_output, so no steps[i].raw_output is kept beside it.
	pv := importOne(t, MiniSWEAgent, filepath.Join(root, "mini-swe-agent-1.1/pvlib__pvlib-python-1606.traj.json"))
	if got, want := pv.Steps[2].Thought, "The error mentions `tools.py` line 364 `_golden_sect_DataFrame`. Let's first look at that file to understand the issue. Let's examine the relevant function:"; got != want {
		t.Errorf("1.1 thought = %q, want %q", got, want)
	}
	if got, want := pv.Steps[2].Action, `grep -n "_golden_sect_DataFrame" /testbed/pvlib/tools.py`; got != want {
		t.Errorf("1.1 action = %q, want %q", got, want)
	}
	if got, want := pv.Steps[2].Observation, "302:def _golden_sect_DataFrame(params, lower, upper, func, atol=1e-8):\n"; got != want {
		t.Errorf("1.1 observation = %q, want %q", got, want)
	}
	if _, ok := extraValue(t, pv, "steps[2].raw_output"); ok {
		t.Errorf("steps[2].raw_output kept though it equals the observation")
	}
	if !strings.HasPrefix(pv.Task.Description, "golden-section search fails when upper and lower bounds are equal") {
		t.Errorf("1.1 task description = %.100q, want the {{task}} of the instance template", pv.Task.Description)
	}
	if !strings.HasPrefix(pv.Outcome.ErrorInfo, "Traceback (most recent call last):") || !strings.Contains(pv.Outcome.ErrorInfo, "UNEXPECTED_EOF_WHILE_READING") {
		t.Errorf("1.1 error_info = %.100q, want info.traceback", pv.Outcome.ErrorInfo)
	}
}

// TestDeterministic imports every real file twice and expects identical
// trajectories.
func TestDeterministic(t *testing.T) {
	root := filepath.Join(shareddata.Dir(t), "trajectories")
	var files []string
	for _, pat := range []string{"swe-agent/*.traj", "mini-swe-agent/*.traj.json", "mini-swe-agent-1.1/*.traj.json", "openhands/*.json"} {
		m, err := filepath.Glob(filepath.Join(root, pat))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	files = append(files, filepath.Join("testdata", "chat_sample.jsonl"), filepath.Join("testdata", "mini_current.traj.json"), filepath.Join("testdata", "mini_toolcalls.traj.json"))
	if len(files) < 25 {
		t.Fatalf("found %d files, want at least 25", len(files))
	}
	for _, p := range files {
		f, _ := FormatFromName(p)
		a, _, err := importFile(t, f, p, Options{})
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		b, _, err := importFile(t, f, p, Options{})
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if !reflect.DeepEqual(a, b) {
			t.Errorf("%s: two imports differ", p)
		}
	}
}

// TestExtraKeepsSourceFields checks that fields without a column survive in
// Extra.
func TestExtraKeepsSourceFields(t *testing.T) {
	root := filepath.Join(shareddata.Dir(t), "trajectories")
	fcReplace := filepath.Join(root, "swe-agent/replay__marshmallow-code__marshmallow-1867__function_calling_replace__install-1__marshmallow-code__marshmallow-1867.traj")
	pvlib1606 := filepath.Join(root, "mini-swe-agent-1.1/pvlib__pvlib-python-1606.traj.json")
	tests := []struct {
		path   string
		format Format
		record int // index among the emitted trajectories
		field  string
		want   any
	}{
		{fcReplace, SWEAgent, 0, "source.info.model_stats.api_calls", 11.0},
		{fcReplace, SWEAgent, 0, "source.environment", "main"},
		{fcReplace, SWEAgent, 0, "source.replay_config.env.deployment.image", "swebench/sweb.eval.x86_64.marshmallow-code_1776_marshmallow-1867:latest"},
		{fcReplace, SWEAgent, 0, "source.history[0].role", "system"},
		{fcReplace, SWEAgent, 0, "steps[1].state.working_dir", "/testbed"},
		{fcReplace, SWEAgent, 0, "steps[0].response", "Let's first start by reproducing the results of the issue. The issue includes some example code for reproduction, which we can use. We'll create a new file called `reproduce.py` and paste the example code into it."},
		{filepath.Join(root, "swe-agent/ctf__crypto__eps.traj"), SWEAgent, 0, "steps[0].state", `{"open_file": "n/a", "working_dir": "/__home__minghao__projects__LLM_CTF_Dataset_Dev__2015__CSAW-Quals__crypto__eps"}`},
		{filepath.Join(root, "swe-agent/function_calling_simple.traj"), SWEAgent, 0, "source.history[2].tool_calls[0].id", "call_PbWErNIge3YTrli3fiVvmIid"},
		{filepath.Join(root, "swe-agent/function_calling_simple.traj"), SWEAgent, 0, "steps[4].history_index", 10.0},
		{filepath.Join(root, "mini-swe-agent/local.traj.json"), MiniSWEAgent, 0, "source.messages[1].role", "user"},
		{filepath.Join(root, "mini-swe-agent/github_issue.traj.json"), MiniSWEAgent, 0, "steps[0].returncode", 1.0},
		{filepath.Join("testdata", "mini_current.traj.json"), MiniSWEAgent, 0, "source.info.mini_version", "2.0.0"},
		{filepath.Join("testdata", "mini_current.traj.json"), MiniSWEAgent, 0, "source.trajectory_format", "mini-swe-agent-1.1"},
		{filepath.Join("testdata", "mini_current.traj.json"), MiniSWEAgent, 0, "source.messages[2].extra.response.id", "msg_01"},
		{filepath.Join("testdata", "mini_current.traj.json"), MiniSWEAgent, 0, "steps[2].raw_output", "Traceback (most recent call last):\nZeroDivisionError: division by zero\n"},
		{pvlib1606, MiniSWEAgent, 0, "steps[3].tool_call_id", "call_00_9dpTIPcbnpGzIUWuncKX5Pli"},
		{pvlib1606, MiniSWEAgent, 0, "steps[3].observation_index", 9.0},
		{pvlib1606, MiniSWEAgent, 0, "steps[3].returncode", 0.0},
		{pvlib1606, MiniSWEAgent, 0, "source.trajectory_format", "mini-swe-agent-1.1"},
		{pvlib1606, MiniSWEAgent, 0, "source.info.exception_str", "litellm.InternalServerError: InternalServerError: DeepseekException - [SSL: UNEXPECTED_EOF_WHILE_READING] EOF occurred in violation of protocol (_ssl.c:1000)"},
		{pvlib1606, MiniSWEAgent, 0, "source.info.mini_version", "2.2.7"},
		{pvlib1606, MiniSWEAgent, 0, "source.messages[7].extra.raw_output", "302:def _golden_sect_DataFrame(params, lower, upper, func, atol=1e-8):\n"},
		{pvlib1606, MiniSWEAgent, 0, "source.messages[2].provider_specific_fields.reasoning_content", "I'll start by exploring the current directory to understand the codebase structure. Let's first see what's in /testbed."},
		{pvlib1606, MiniSWEAgent, 0, "source.messages[10].role", "exit"},
		{pvlib1606, MiniSWEAgent, 0, "source.messages[10].extra.exit_status", "InternalServerError"},
		{filepath.Join("testdata", "chat_sample.jsonl"), OpenAIChat, 0, "source.tools[1].function.name", "str_replace_editor"},
		{filepath.Join("testdata", "chat_sample.jsonl"), OpenAIChat, 0, "steps[2].tool_call_id", "toolu_03"},
		{filepath.Join("testdata", "chat_sample.jsonl"), OpenAIChat, 1, "source.eval_logs", "FAILED tests/test_units.py::test_seconds_rounding"},
		{filepath.Join("testdata", "chat_sample.jsonl"), OpenAIChat, 1, "source.trajectory[0].cutoff_date", "2024-10-01"},
		{filepath.Join("testdata", "chat_sample.jsonl"), OpenAIChat, 2, "source.split", "train"},
	}
	for _, tc := range tests {
		t.Run(filepath.Base(tc.path)+"/"+tc.field, func(t *testing.T) {
			out, _, err := importFile(t, tc.format, tc.path, Options{})
			if err != nil {
				t.Fatal(err)
			}
			got, ok := extraValue(t, out[tc.record], tc.field)
			if !ok {
				t.Fatalf("extra.%s is missing", tc.field)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("extra.%s = %#v, want %#v", tc.field, got, tc.want)
			}
		})
	}
}

// TestExtraCoversEveryField checks, for every SWE-agent file, that each
// top-level, info and step field is either mapped to a column or found
// verbatim in Extra.
func TestExtraCoversEveryField(t *testing.T) {
	root := filepath.Join(shareddata.Dir(t), "trajectories")
	files, err := filepath.Glob(filepath.Join(root, "swe-agent", "*.traj"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no SWE-agent files: %v", err)
	}
	mapped := map[string]bool{"trajectory": true}
	mappedInfo := map[string]bool{"exit_status": true, "submission": true}
	mappedStep := map[string]bool{"action": true, "observation": true, "thought": true}
	for _, p := range files {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		var src map[string]json.RawMessage
		if err := json.Unmarshal(data, &src); err != nil {
			t.Fatal(err)
		}
		tr := importOne(t, SWEAgent, p)
		var extra struct {
			Source map[string]json.RawMessage   `json:"source"`
			Steps  []map[string]json.RawMessage `json:"steps"`
		}
		if err := json.Unmarshal(expandedExtra(t, tr), &extra); err != nil {
			t.Fatal(err)
		}
		same := func(a, b json.RawMessage) bool {
			var x, y any
			return json.Unmarshal(a, &x) == nil && json.Unmarshal(b, &y) == nil && reflect.DeepEqual(x, y)
		}
		for k, v := range src {
			switch {
			case k == "info":
				var info, kept map[string]json.RawMessage
				_ = json.Unmarshal(v, &info)
				_ = json.Unmarshal(extra.Source["info"], &kept)
				for ik, iv := range info {
					if !mappedInfo[ik] && !same(iv, kept[ik]) {
						t.Errorf("%s: info.%s not kept in extra", filepath.Base(p), ik)
					}
				}
			case mapped[k]:
			case !same(v, extra.Source[k]):
				t.Errorf("%s: %s not kept in extra", filepath.Base(p), k)
			}
		}
		var steps []map[string]json.RawMessage
		_ = json.Unmarshal(src["trajectory"], &steps)
		for i, s := range steps {
			for k, v := range s {
				if mappedStep[k] {
					continue
				}
				if i >= len(extra.Steps) || !same(v, extra.Steps[i][k]) {
					t.Errorf("%s: trajectory[%d].%s not kept in extra", filepath.Base(p), i, k)
				}
			}
		}
	}
}

// TestOpenAIChatSample checks the mapping of each record of the sample.
func TestOpenAIChatSample(t *testing.T) {
	out, st, err := importFile(t, OpenAIChat, filepath.Join("testdata", "chat_sample.jsonl"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if st.Imported != 3 || st.Skipped != 0 || len(out) != 3 {
		t.Fatalf("stats %+v, %d trajectories; want 3 imported (the blank line is no record)", st, len(out))
	}
	tests := []struct {
		id, taskID, agent, model, exit, language string
		success                                  bool
		reward                                   float64
		created                                  time.Time
		types                                    []string
		errs                                     []bool
	}{
		{
			id: "confy__confy-112-58539cf1b8fa", taskID: "confy__confy-112", agent: "openhands", model: "claude-3-5-sonnet-20241022",
			exit: "submitted", language: "diff", success: true, reward: 1,
			created: time.Date(2024, 11, 2, 14, 5, 9, 123e6, time.UTC),
			types:   []string{ActionSearch, ActionView, ActionEdit, ActionPython, ActionEdit, ActionTest, ActionSubmit},
			errs:    []bool{false, false, false, false, false, true, false},
		},
		{
			id: "units__units-7-f4dc6ea52c33", taskID: "units__units-7", model: "Qwen2.5-72B-Instruct",
			exit: "submitted", language: "diff", success: false, reward: 0, created: time.Unix(0, 0),
			types: []string{ActionSearch, ActionView, ActionEdit, ActionSubmit},
			errs:  []bool{false, false, false, false},
		},
		{
			id: "42", taskID: "humaneval/17", model: "gpt-4o-mini", language: "python", success: true, reward: 0.75,
			created: time.UnixMilli(1717243200500),
			types:   []string{ActionPython, ""},
			errs:    []bool{true, false},
		},
	}
	for i, tc := range tests {
		tr := out[i]
		if tr.TrajectoryID != tc.id || tr.Task.ID != tc.taskID || tr.Agent.Name != tc.agent || tr.Agent.Model != tc.model {
			t.Errorf("record %d: ids = %q %q %q %q, want %q %q %q %q", i, tr.TrajectoryID, tr.Task.ID, tr.Agent.Name, tr.Agent.Model, tc.id, tc.taskID, tc.agent, tc.model)
		}
		if tr.Outcome.ExitStatus != tc.exit || tr.Outcome.Success != tc.success || tr.Outcome.Reward != tc.reward {
			t.Errorf("record %d: outcome = %+v, want exit %q success %v reward %v", i, tr.Outcome, tc.exit, tc.success, tc.reward)
		}
		if tr.Solution.Language != tc.language {
			t.Errorf("record %d: language = %q, want %q", i, tr.Solution.Language, tc.language)
		}
		if !tr.CreatedAt.Equal(tc.created) {
			t.Errorf("record %d: created_at = %v, want %v", i, tr.CreatedAt, tc.created)
		}
		var types []string
		var errs []bool
		for _, s := range tr.Steps {
			types = append(types, s.ActionType)
			errs = append(errs, s.IsError)
		}
		if !reflect.DeepEqual(types, tc.types) || !reflect.DeepEqual(errs, tc.errs) {
			t.Errorf("record %d: action types %q errors %v, want %q %v", i, types, errs, tc.types, tc.errs)
		}
		if err := tr.Validate(); err != nil {
			t.Errorf("record %d: %v", i, err)
		}
	}

	// Tool results are matched by tool_call_id, not by position.
	r := out[0]
	if got := r.Steps[2].Observation; got != "File created successfully at: /workspace/repro.py" {
		t.Errorf("create observation = %q", got)
	}
	if got := r.Steps[3]; got.Action != "python /workspace/repro.py" || !strings.HasPrefix(got.Observation, "None\n") {
		t.Errorf("bash step = %q / %q", got.Action, got.Observation)
	}
	if got := r.Steps[2].Code; got != "from confy.config import Config\nprint(Config({'a': None}).get('a', 5))\n" {
		t.Errorf("create code = %q", got)
	}
	if got := r.Steps[4].Code; !strings.HasPrefix(got, "        value = self._data.get(key)") {
		t.Errorf("str_replace code = %q", got)
	}
	if got := r.Steps[2].Thought; got != "The default is only used for missing keys. I'll write a reproduction and fix get()." {
		t.Errorf("thought = %q", got)
	}
	// Text actions: the last fenced block, with the DISCUSSION label dropped.
	nb := out[1]
	if nb.Steps[2].Action != "edit 3:3\n    return round(ms / 1000)\nend_of_edit" || nb.Steps[2].Code != "    return round(ms / 1000)" || nb.Steps[2].Thought != "Use round instead of int." {
		t.Errorf("nebius edit step = %+v", nb.Steps[2])
	}
	if !strings.HasPrefix(nb.Task.Description, "We're currently solving") {
		t.Errorf("description falls back to the first user message, got %.60q", nb.Task.Description)
	}
	if got := out[2].Steps[1].Thought; got != "Filtering empty tokens fixes it; here is the final function." {
		t.Errorf("final message thought = %q", got)
	}
}

// TestMiniSWEAgentSamples checks the current object form and a 1.x run that
// hit its limits.
func TestMiniSWEAgentSamples(t *testing.T) {
	cur := importOne(t, MiniSWEAgent, filepath.Join("testdata", "mini_current.traj.json"))
	if !strings.HasPrefix(cur.TrajectoryID, "mini_current-") || cur.Task.ID != "calc__calc-3" || cur.Agent.Model != "anthropic/claude-sonnet-4-5-20250929" {
		t.Errorf("ids = %q %q %q", cur.TrajectoryID, cur.Task.ID, cur.Agent.Model)
	}
	if cur.Task.Description != "mean() raises ZeroDivisionError on an empty list; it should return 0.0." {
		t.Errorf("description = %q", cur.Task.Description)
	}
	if !cur.Outcome.Success || cur.Outcome.ExitStatus != "Submitted" || cur.Solution.Language != "diff" || !strings.HasPrefix(cur.Solution.Code, "diff --git a/calc.py") {
		t.Errorf("outcome %+v solution %+v", cur.Outcome, cur.Solution)
	}
	if !cur.CreatedAt.Equal(time.UnixMilli(1760000001250)) {
		t.Errorf("created_at = %v, want the first message timestamp", cur.CreatedAt)
	}
	wantCur := []struct {
		actionType  string
		isError     bool
		observation string
	}{
		{ActionSearch, false, "./calc.py:1:def mean(xs):\n"},
		{"", true, "Please always provide EXACTLY ONE action in triple backticks, found 0 actions."},
		// What the model saw (the tool message's <output>), not the longer
		// extra.raw_output, which is kept in extra.steps[2].raw_output.
		{ActionPython, true, "ZeroDivisionError: division by zero\n"},
		{ActionEdit, false, ""},
		{ActionSubmit, false, cur.Solution.Code},
	}
	if len(cur.Steps) != len(wantCur) {
		t.Fatalf("steps = %d, want %d", len(cur.Steps), len(wantCur))
	}
	for i, w := range wantCur {
		s := cur.Steps[i]
		if s.ActionType != w.actionType || s.IsError != w.isError || s.Observation != w.observation {
			t.Errorf("step %d = %q err=%v obs=%q; want %q err=%v obs=%q", i, s.ActionType, s.IsError, s.Observation, w.actionType, w.isError, w.observation)
		}
	}
	if cur.Steps[2].Code != "import calc; calc.mean([])" {
		t.Errorf("python -c code = %q", cur.Steps[2].Code)
	}

	old := importOne(t, MiniSWEAgent, filepath.Join("testdata", "mini_v1_limits.traj.json"))
	if old.Outcome.Success || old.Outcome.ExitStatus != "LimitsExceeded" || old.Solution.Code != "" || old.Agent.Model != "openai/gpt-4.1" {
		t.Errorf("outcome %+v solution %+v model %q", old.Outcome, old.Solution, old.Agent.Model)
	}
	if old.Task.Description != "Tests in tests/test_io.py hang." {
		t.Errorf("description = %q", old.Task.Description)
	}
	var types []string
	var errs []bool
	for _, s := range old.Steps {
		types = append(types, s.ActionType)
		errs = append(errs, s.IsError)
	}
	if want := []string{ActionTest, ActionEdit, ActionView}; !reflect.DeepEqual(types, want) {
		t.Errorf("action types = %q, want %q", types, want)
	}
	if want := []bool{true, false, false}; !reflect.DeepEqual(errs, want) {
		t.Errorf("errors = %v, want %v (a timeout is an error)", errs, want)
	}
	if old.Steps[1].Code != "import io\nprint(io.DEFAULT_BUFFER_SIZE)" {
		t.Errorf("heredoc code = %q", old.Steps[1].Code)
	}
	if !strings.HasPrefix(old.Steps[2].Observation, "<returncode>0</returncode>\n<warning>") {
		t.Errorf("a truncated output is kept whole, got %.60q", old.Steps[2].Observation)
	}
}

// TestMiniSWEAgentToolCalls checks the mini-swe-agent-1.1 tool-calling
// rules on inputs that the real runs do not exercise: several tool calls in
// one message, tool messages out of order, truncated outputs, exceptions,
// rejected turns and the exit message answering a submit.
func TestMiniSWEAgentToolCalls(t *testing.T) {
	type stepWant struct {
		action      string
		actionType  string
		thought     string
		observation string // "=submission" for the submitted solution
		isError     bool
		extra       map[string]any // fields of extra.steps[i]; nil value: must be absent
	}
	const (
		sys     = `{"role": "system", "content": "You are a helpful assistant."}`
		prompt  = `{"role": "user", "content": "<pr_description>\nFix it.\n</pr_description>"}`
		submit  = `{"role": "assistant", "content": "Look, submit, report.", "tool_calls": [{"id": "a", "type": "function", "function": {"name": "bash", "arguments": "{\"command\": \"ls\"}"}}, {"id": "b", "type": "function", "function": {"name": "bash", "arguments": "{\"command\": \"echo COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT && git diff\"}"}}, {"id": "c", "type": "function", "function": {"name": "bash", "arguments": "{\"command\": \"echo done\"}"}}]}`
		twoCmds = `{"role": "assistant", "content": "", "reasoning_content": "Look around.", "tool_calls": [{"id": "a", "type": "function", "function": {"name": "bash", "arguments": "{\"command\": \"ls\"}"}}, {"id": "b", "type": "function", "function": {"name": "bash", "arguments": "{\"command\": \"cat x\"}"}}]}`
	)
	toolcalls, err := os.ReadFile(filepath.Join("testdata", "mini_toolcalls.traj.json"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name        string
		src         string
		steps       []stepWant
		exitStatus  string
		success     bool
		errorInfo   string // prefix
		description string
		notes       map[string]any // fields of extra.notes that must be present
	}{
		{
			name: "sample run", src: string(toolcalls),
			steps: []stepWant{
				// Two calls of one message, answered in reverse order; the
				// thought (reasoning_content) goes to the first.
				{"grep -rn 'def parse' .", ActionSearch, "Look for parse() and its test.", "./parse.py:1:def parse(s):\n", false,
					map[string]any{"tool_call_id": "call_1", "observation_index": 4.0, "message_index": 2.0, "returncode": 0.0, "raw_output": nil}},
				{"cat tests/test_parse.py", ActionView, "", "cat: tests/test_parse.py: No such file or directory\n", true,
					map[string]any{"tool_call_id": "call_2", "observation_index": 3.0, "message_index": 2.0, "returncode": 1.0}},
				// A rejected turn: only the user message with the
				// FormatError interrupt records it.
				{"", "", "I will run the module with python.", "Tool call error:\n\n<error>\nUnknown tool 'python'.\n</error>\n\nEvery response needs to use the 'bash' tool at least once to execute commands.", true,
					map[string]any{"format_error": true, "observation_index": 5.0}},
				// Truncated: the observation is the elided text the model
				// saw, the full output is kept beside it.
				{"nl -ba parse.py", ActionView, "Read the module with line numbers.",
					"<returncode>0</returncode>\n<warning>\nThe output of your last command was too long.\n</warning><output_head>\n     1\tdef parse(s):\n</output_head>\n<elided_chars>\n50 characters elided\n</elided_chars>\n<output_tail>\n     3\t    return out\n</output_tail>", false,
					map[string]any{"raw_output": "     1\tdef parse(s):\n     2\t    out = s.split(',')[:-1]\n     3\t    return out\n"}},
				{"pytest -q tests", ActionTest, "Run the tests and read my notes.", "<exception>Command timed out after 60 seconds</exception>\n<returncode>-1</returncode>\n<output>\n</output>", true,
					map[string]any{"returncode": -1.0}},
				// A structured return code 0 wins over text that looks
				// like a failure.
				{"cat notes.txt", ActionView, "", "bash: mycmd: command not found\n", false, nil},
				// The run submitted while executing this message, so
				// neither call has a tool message; the exit message
				// answers the submit.
				{`sed -i "s/\[:-1\]//" parse.py`, ActionEdit, "Keep the last field, then submit.", "", false,
					map[string]any{"tool_call_id": "call_6", "observation_index": nil}},
				{"echo COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT && git diff", ActionSubmit, "", "=submission", false,
					map[string]any{"tool_call_id": "call_7", "observation_index": 12.0}},
			},
			exitStatus: "Submitted", success: true, description: "parse() drops the last field.",
			notes: map[string]any{"raw_output": nil},
		},
		{
			name: "no info: the exit message gives the outcome",
			src: `{"trajectory_format": "mini-swe-agent-1.1", "messages": [` + sys + `, ` + prompt + `, ` + submit + `,
				{"role": "exit", "content": "diff --git a/x b/x\n", "extra": {"exit_status": "Submitted", "submission": "diff --git a/x b/x\n"}}]}`,
			steps: []stepWant{
				// The submit call, not the last one, gets the exit message.
				{"ls", ActionView, "Look, submit, report.", "", false, map[string]any{"observation_index": nil}},
				{"echo COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT && git diff", ActionSubmit, "", "=submission", false, map[string]any{"observation_index": 3.0}},
				{"echo done", ActionBash, "", "", false, map[string]any{"observation_index": nil}},
			},
			exitStatus: "Submitted", success: true, description: "Fix it.",
			notes: map[string]any{"exit_status_source": nil},
		},
		{
			name: "an error while executing: the exit message answers the last call",
			src: `{"trajectory_format": "mini-swe-agent-1.1", "messages": [` + sys + `, ` + prompt + `, ` + twoCmds + `,
				{"role": "exit", "content": "boom", "extra": {"exit_status": "RuntimeError", "submission": "", "exception_str": "boom", "traceback": "Traceback (most recent call last):\nRuntimeError: boom\n"}}]}`,
			steps: []stepWant{
				{"ls", ActionView, "Look around.", "", false, nil},
				{"cat x", ActionView, "", "boom", true, map[string]any{"observation_index": 3.0}},
			},
			exitStatus: "RuntimeError", errorInfo: "Traceback (most recent call last):\nRuntimeError: boom", description: "Fix it.",
		},
		{
			name: "info wins over the exit message",
			src: `{"trajectory_format": "mini-swe-agent-1.1", "info": {"exit_status": "LimitsExceeded", "submission": ""}, "messages": [` + sys + `, ` + prompt + `, ` + twoCmds + `,
				{"role": "tool", "tool_call_id": "b", "content": "<returncode>2</returncode>\n<output>\ncat: x: No such file or directory\n</output>", "extra": {"raw_output": "cat: x: No such file or directory\n", "returncode": 2}},
				{"role": "tool", "tool_call_id": "a", "content": "<returncode>0</returncode>\n<output>\nx.py\n</output>", "extra": {"raw_output": "x.py\n", "returncode": 0}},
				{"role": "exit", "content": "LimitsExceeded", "extra": {"exit_status": "LimitsExceeded", "submission": ""}}]}`,
			steps: []stepWant{
				{"ls", ActionView, "Look around.", "x.py\n", false, map[string]any{"observation_index": 4.0}},
				{"cat x", ActionView, "", "cat: x: No such file or directory\n", true, map[string]any{"observation_index": 3.0, "returncode": 2.0}},
			},
			exitStatus: "LimitsExceeded", description: "Fix it.",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, _, err := importString(t, MiniSWEAgent, "run.traj.json", tc.src, Options{})
			if err != nil {
				t.Fatal(err)
			}
			tr := out[0]
			if len(tr.Steps) != len(tc.steps) {
				t.Fatalf("steps = %d, want %d", len(tr.Steps), len(tc.steps))
			}
			for i, w := range tc.steps {
				s := tr.Steps[i]
				if w.observation == "=submission" {
					w.observation = tr.Solution.Code
				}
				if s.Action != w.action || s.ActionType != w.actionType || s.Thought != w.thought || s.Observation != w.observation || s.IsError != w.isError {
					t.Errorf("step %d = {%q %q thought %q obs %q err %v}\nwant {%q %q thought %q obs %q err %v}", i,
						s.Action, s.ActionType, s.Thought, s.Observation, s.IsError, w.action, w.actionType, w.thought, w.observation, w.isError)
				}
				for k, want := range w.extra {
					got, ok := extraValue(t, tr, fmt.Sprintf("steps[%d].%s", i, k))
					switch {
					case want == nil && ok:
						t.Errorf("step %d: extra %s = %#v, want it absent", i, k, got)
					case want != nil && !reflect.DeepEqual(got, want):
						t.Errorf("step %d: extra %s = %#v, want %#v", i, k, got, want)
					}
				}
			}
			if tr.Outcome.ExitStatus != tc.exitStatus || tr.Outcome.Success != tc.success {
				t.Errorf("outcome = %q success %v, want %q %v", tr.Outcome.ExitStatus, tr.Outcome.Success, tc.exitStatus, tc.success)
			}
			if tc.success && (tr.Solution.Language != "diff" || !strings.HasPrefix(tr.Solution.Code, "diff --git")) {
				t.Errorf("solution = %+v, want the submitted diff", tr.Solution)
			}
			if !strings.HasPrefix(tr.Outcome.ErrorInfo, tc.errorInfo) || tc.errorInfo == "" && tr.Outcome.ErrorInfo != "" {
				t.Errorf("error_info = %q, want prefix %q", tr.Outcome.ErrorInfo, tc.errorInfo)
			}
			if tr.Task.Description != tc.description {
				t.Errorf("description = %q, want %q", tr.Task.Description, tc.description)
			}
			for k := range tc.notes {
				if _, ok := extraValue(t, tr, "notes."+k); !ok {
					t.Errorf("extra.notes.%s is missing", k)
				}
			}
		})
	}

	// The sample's other fields.
	out, _, err := importString(t, MiniSWEAgent, "mini_toolcalls.traj.json", string(toolcalls), Options{})
	if err != nil {
		t.Fatal(err)
	}
	tr := out[0]
	if tr.Task.ID != "parse__parse-7" || tr.Agent.Model != "openai/gpt-5-mini" || !tr.CreatedAt.Equal(time.UnixMilli(1770000000500)) {
		t.Errorf("task %q model %q created_at %v", tr.Task.ID, tr.Agent.Model, tr.CreatedAt)
	}
	for _, field := range []string{"source.messages[5].extra.response.choices[0].message.tool_calls[0].function.name", "source.messages[12].role"} {
		if _, ok := extraValue(t, tr, field); !ok {
			t.Errorf("extra.%s is missing", field)
		}
	}
}

// TestMalformed checks that bad input fails with an error naming the file,
// line and field, and that Skip counts bad records and goes on.
func TestMalformed(t *testing.T) {
	realFile := filepath.Join(shareddata.Dir(t), "trajectories", "swe-agent", "ctf__crypto__eps.traj")
	whole, err := os.ReadFile(realFile)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		format  Format
		file    string // a testdata file, or
		src     string // inline input
		wantErr string
		line    int
		field   string
	}{
		{name: "truncated SWE-agent file", format: SWEAgent, file: "ctf__crypto__eps.traj", src: string(whole[:len(whole)/2]),
			wantErr: "ctf__crypto__eps.traj: line ", line: bytes.Count(whole[:len(whole)/2], []byte("\n")) + 1},
		{name: "truncated mini file", format: MiniSWEAgent, file: "testdata/mini_truncated.traj.json",
			wantErr: "mini_truncated.traj.json: line ", line: -1},
		{name: "bad step type", format: SWEAgent, file: "testdata/swe_bad_step.traj",
			wantErr: "swe_bad_step.traj: field trajectory[1].action: expected a string, got number", field: "trajectory[1].action"},
		{name: "empty SWE-agent file", format: SWEAgent, file: "empty.traj", src: "",
			wantErr: "empty.traj: line 1: invalid JSON: unexpected end of JSON input", line: 1},
		{name: "SWE-agent list", format: SWEAgent, file: "list.traj", src: "[]",
			wantErr: "list.traj: expected an object, got list"},
		{name: "SWE-agent without steps", format: SWEAgent, file: "bare.traj", src: `{"info": {"exit_status": "submitted"}}`,
			wantErr: "bare.traj: field trajectory: missing, and there is no history to read steps from", field: "trajectory"},
		{name: "SWE-agent info not an object", format: SWEAgent, file: "info.traj", src: `{"trajectory": [{"action": "ls"}], "info": "done"}`,
			wantErr: "info.traj: field info: expected an object, got string", field: "info"},
		{name: "mini without messages", format: MiniSWEAgent, file: "m.traj.json", src: `{"info": {}}`,
			wantErr: "m.traj.json: field messages: missing", field: "messages"},
		{name: "mini messages not a list", format: MiniSWEAgent, file: "m.traj.json", src: `{"messages": {}}`,
			wantErr: "m.traj.json: field messages: expected a list, got object", field: "messages"},
		{name: "mini bad role", format: MiniSWEAgent, file: "m.traj.json", src: `[{"role": 1, "content": "x"}]`,
			wantErr: "m.traj.json: field [0].role: expected a string, got number", field: "[0].role"},
		{name: "mini scalar", format: MiniSWEAgent, file: "m.traj.json", src: `"hello"`,
			wantErr: "m.traj.json: expected an object or a list of messages, got string"},
		{name: "chat tool call without name", format: OpenAIChat, file: "c.jsonl", src: `{"messages":[{"role":"assistant","tool_calls":[{"id":"x","function":{}}]}]}`,
			wantErr: "c.jsonl: line 1: field messages[0].tool_calls[0].function.name: missing", line: 1, field: "messages[0].tool_calls[0].function.name"},
		{name: "chat bad timestamp", format: OpenAIChat, file: "c.jsonl", src: "\n\n" + `{"created_at": "yesterday", "messages": []}`,
			wantErr: `c.jsonl: line 3: field created_at: cannot read "yesterday" as a timestamp`, line: 3, field: "created_at"},
		{name: "chat content number", format: OpenAIChat, file: "c.jsonl", src: `{"messages":[{"role":"user","content":7}]}`,
			wantErr: "c.jsonl: line 1: field messages[0].content: expected a string or a list of content parts, got number", line: 1, field: "messages[0].content"},
		{name: "chat not an object", format: OpenAIChat, file: "c.jsonl", src: `[1, 2]`,
			wantErr: "c.jsonl: line 1: expected an object, got list", line: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out []columnar.Trajectory
			var st Stats
			var err error
			if tc.src != "" || !strings.HasPrefix(tc.file, "testdata/") {
				out, st, err = importString(t, tc.format, tc.file, tc.src, Options{})
			} else {
				out, st, err = importFile(t, tc.format, tc.file, Options{})
			}
			if err == nil {
				t.Fatalf("no error; got %d trajectories", len(out))
			}
			if !strings.HasPrefix(err.Error(), tc.wantErr) {
				t.Errorf("error = %q, want prefix %q", err, tc.wantErr)
			}
			var ie *columnar.RecordError
			if !errors.As(err, &ie) {
				t.Fatalf("error %T is not a *columnar.RecordError", err)
			}
			if tc.line > 0 && ie.Line != int64(tc.line) || tc.line < 0 && ie.Line <= 0 || tc.line == 0 && ie.Line != 0 {
				t.Errorf("line = %d, want %d", ie.Line, tc.line)
			}
			if ie.Field != tc.field {
				t.Errorf("field = %q, want %q", ie.Field, tc.field)
			}
			if len(out) != 0 || st.Imported != 0 {
				t.Errorf("imported %d", st.Imported)
			}

			// Under Skip the same input is counted, not fatal.
			if tc.src != "" || !strings.HasPrefix(tc.file, "testdata/") {
				_, st, err = importString(t, tc.format, tc.file, tc.src, Options{OnError: columnar.OnErrorSkip})
			} else {
				_, st, err = importFile(t, tc.format, tc.file, Options{OnError: columnar.OnErrorSkip})
			}
			if err != nil || st.Skipped != 1 || st.Imported != 0 || len(st.Errors) != 1 {
				t.Errorf("skip: err %v, stats %+v; want one skipped", err, st)
			}
		})
	}
}

// TestMalformedJSONL checks both policies on a file mixing good and bad
// lines.
func TestMalformedJSONL(t *testing.T) {
	path := filepath.Join("testdata", "chat_malformed.jsonl")

	out, st, err := importFile(t, OpenAIChat, path, Options{})
	if want := "chat_malformed.jsonl: line 2: field messages: expected a list, got string"; err == nil || err.Error() != want {
		t.Fatalf("fail policy: error = %v, want %q", err, want)
	}
	if st.Imported != 1 || len(out) != 1 || st.Skipped != 0 {
		t.Errorf("fail policy: stats %+v, %d emitted; want the record before the bad one", st, len(out))
	}

	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	out, st, err = importFile(t, OpenAIChat, path, Options{OnError: columnar.OnErrorSkip, Logger: logger})
	if err != nil {
		t.Fatalf("skip policy: %v", err)
	}
	if st.Imported != 2 || st.Skipped != 4 || len(out) != 2 {
		t.Fatalf("skip policy: stats %+v, %d emitted; want 2 imported, 4 skipped", st, len(out))
	}
	if out[0].Task.ID != "demo__demo-1" || out[1].Task.ID != "demo__demo-6" {
		t.Errorf("imported %q and %q, want demo__demo-1 and demo__demo-6", out[0].Task.ID, out[1].Task.ID)
	}
	want := []struct {
		line  int64
		field string
		text  string
	}{
		{2, "messages", "expected a list, got string"},
		{3, "", "invalid JSON: unexpected end of JSON input"},
		{4, "messages[1].role", "missing"},
		{5, "resolved", "expected a boolean or a number, got string"},
	}
	if len(st.Errors) != len(want) {
		t.Fatalf("kept %d errors, want %d: %v", len(st.Errors), len(want), st.Errors)
	}
	for i, w := range want {
		ie := st.Errors[i]
		if ie.File != "chat_malformed.jsonl" || ie.Line != w.line || ie.Row != -1 || ie.Field != w.field || ie.Err.Error() != w.text {
			t.Errorf("error %d = %+v (%v), want line %d field %q %q", i, ie, ie, w.line, w.field, w.text)
		}
	}
	if n := strings.Count(logs.String(), "skipping trajectory record"); n != 4 {
		t.Errorf("logged %d skips, want 4:\n%s", n, logs.String())
	}
}

// TestImportControl covers the dispatcher's own errors, emit errors and
// cancellation.
func TestImportControl(t *testing.T) {
	const rec = `{"instance_id":"a","messages":[{"role":"user","content":"hi"}]}` + "\n"
	noop := func(columnar.Trajectory) error { return nil }
	ctx := context.Background()

	if _, err := Import(ctx, "avro", "x", strings.NewReader(rec), noop, Options{}); err == nil || !strings.Contains(err.Error(), `unknown trajectory format "avro"`) {
		t.Errorf("unknown format: %v", err)
	}
	if _, err := Import(ctx, OpenAIChat, "x", strings.NewReader(rec), noop, Options{OnError: "ignore"}); err == nil || !strings.Contains(err.Error(), `on_error: want fail or skip, got "ignore"`) {
		t.Errorf("unknown policy: %v", err)
	}
	if _, err := Import(ctx, OpenAIChat, "x", strings.NewReader(rec), nil, Options{}); err == nil {
		t.Errorf("nil emit: no error")
	}

	sentinel := errors.New("disk full")
	st, err := Import(ctx, OpenAIChat, "x.jsonl", strings.NewReader(rec+rec), func(columnar.Trajectory) error { return sentinel }, Options{OnError: columnar.OnErrorSkip})
	if !errors.Is(err, sentinel) || st.Imported != 0 {
		t.Errorf("emit error: %v, stats %+v; want the emit error even under Skip", err, st)
	}

	cctx, cancel := context.WithCancel(ctx)
	n := 0
	st, err = Import(cctx, OpenAIChat, "x.jsonl", strings.NewReader(strings.Repeat(rec, 5)), func(columnar.Trajectory) error {
		n++
		if n == 2 {
			cancel()
		}
		return nil
	}, Options{})
	if !errors.Is(err, context.Canceled) || st.Imported != 2 {
		t.Errorf("cancel: %v, stats %+v; want context.Canceled after 2", err, st)
	}
	cancel()
	if _, err := Import(cctx, SWEAgent, "x.traj", strings.NewReader("{}"), noop, Options{}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled before start: %v", err)
	}

	for _, s := range []string{"swe-agent", "mini-swe-agent", "openai-chat", "openhands"} {
		if f, err := ParseFormat(s); err != nil || string(f) != s {
			t.Errorf("ParseFormat(%q) = %q, %v", s, f, err)
		}
	}
	if _, err := ParseFormat("jsonl"); err == nil {
		t.Errorf("ParseFormat(jsonl): no error")
	}
}

// TestLongLine imports a JSONL record far longer than any scanner buffer.
func TestLongLine(t *testing.T) {
	big := strings.Repeat("0123456789abcdef", 1<<17) // 2 MiB
	msgs := []map[string]any{
		{"role": "user", "content": "print a lot"},
		{"role": "assistant", "content": "```bash\ncat big.txt\n```"},
		{"role": "user", "content": big},
	}
	rec, err := json.Marshal(map[string]any{"instance_id": "big", "messages": msgs})
	if err != nil {
		t.Fatal(err)
	}
	out, st, err := importString(t, OpenAIChat, "big.jsonl", string(rec)+"\n"+string(rec), Options{})
	if err != nil || st.Imported != 2 {
		t.Fatalf("err %v stats %+v", err, st)
	}
	if got := out[1].Steps[0].Observation; got != big {
		t.Errorf("observation has %d bytes, want %d", len(got), len(big))
	}
	if out[0].TrajectoryID != out[1].TrajectoryID {
		t.Errorf("identical records got ids %q and %q", out[0].TrajectoryID, out[1].TrajectoryID)
	}
}

// TestLineOverCap checks that a JSONL line over Options.MaxLine is a bad
// record: it stops Import under fail, and under skip it is counted and the
// lines after it are read.
func TestLineOverCap(t *testing.T) {
	rec := func(id string) string {
		return `{"instance_id":"` + id + `","messages":[{"role":"user","content":"hi"}]}` + "\n"
	}
	long := `{"instance_id":"long","messages":[{"role":"user","content":"` + strings.Repeat("z", 4096) + `"}]}` + "\n"
	src := rec("a") + long + rec("b")
	maxLine := len(rec("a")) + 10

	out, st, err := importString(t, OpenAIChat, "c.jsonl", src, Options{MaxLine: maxLine})
	var re *columnar.RecordError
	if !errors.As(err, &re) || re.File != "c.jsonl" || re.Line != 2 || !errors.Is(err, columnar.ErrLineTooLong) {
		t.Fatalf("fail: error %v, want a too-long *RecordError for c.jsonl line 2", err)
	}
	if len(out) != 1 || st.Imported != 1 || st.Skipped != 0 {
		t.Errorf("fail: %d emitted, stats %+v; want the record before the long line", len(out), st)
	}

	out, st, err = importString(t, OpenAIChat, "c.jsonl", src, Options{OnError: columnar.OnErrorSkip, MaxLine: maxLine})
	if err != nil {
		t.Fatalf("skip: %v", err)
	}
	if len(out) != 2 || st.Imported != 2 || st.Skipped != 1 || len(st.Errors) != 1 {
		t.Fatalf("skip: %d emitted, stats %+v; want 2 imported, 1 skipped", len(out), st)
	}
	if out[0].Task.ID != "a" || out[1].Task.ID != "b" {
		t.Errorf("skip: imported %q and %q, want a and b", out[0].Task.ID, out[1].Task.ID)
	}
	if e := st.Errors[0]; e.Line != 2 || !errors.Is(e, columnar.ErrLineTooLong) {
		t.Errorf("skip: kept error %v, want line 2 too long", e)
	}

	if _, err := Import(context.Background(), OpenAIChat, "c.jsonl", strings.NewReader(src), func(columnar.Trajectory) error { return nil }, Options{MaxLine: -1}); err == nil {
		t.Errorf("negative MaxLine accepted")
	}
}

// TestByteOrderMark imports files that start with a UTF-8 byte order mark.
func TestByteOrderMark(t *testing.T) {
	const bom = "\xef\xbb\xbf"
	tests := []struct {
		format Format
		name   string
		src    string
	}{
		{SWEAgent, "b.traj", bom + `{"history": [{"role": "assistant", "content": "x", "action": "ls"}, {"role": "user", "content": "a.py"}]}`},
		{MiniSWEAgent, "b.traj.json", bom + `[{"role": "user", "content": "task"}]`},
		{OpenAIChat, "b.jsonl", bom + `{"id": "r1", "messages": []}` + "\n"},
	}
	for _, tc := range tests {
		out, st, err := importString(t, tc.format, tc.name, tc.src, Options{})
		if err != nil || st.Imported != 1 {
			t.Errorf("%s: err %v, stats %+v", tc.name, err, st)
			continue
		}
		if err := out[0].Validate(); err != nil {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
}
