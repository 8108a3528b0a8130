package importer

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/atlas-ai/atlas-learn/columnar"
	"github.com/atlas-ai/atlas-learn/internal/shareddata"
)

// ohStepWant is what one imported OpenHands step must be; code is a prefix
// of Step.Code ("" means empty).
type ohStepWant struct {
	actionType, action, code, thought string
	isError                           bool
}

func checkOHSteps(t *testing.T, tr columnar.Trajectory, wants []ohStepWant) {
	t.Helper()
	if len(tr.Steps) != len(wants) {
		t.Fatalf("%s: %d steps, want %d", tr.TrajectoryID, len(tr.Steps), len(wants))
	}
	for i, w := range wants {
		s := tr.Steps[i]
		if s.ActionType != w.actionType || !strings.HasPrefix(s.Action, w.action) || s.IsError != w.isError ||
			(w.code == "") != (s.Code == "") || !strings.HasPrefix(s.Code, w.code) || !strings.HasPrefix(s.Thought, w.thought) {
			t.Errorf("%s step %d: got type %q action %.60q code %.40q thought %.40q error %v; want %+v",
				tr.TrajectoryID, i, s.ActionType, s.Action, s.Code, s.Thought, s.IsError, w)
		}
	}
}

// TestOpenHandsRealFiles pins the steps of the shared event streams (the
// outcomes are in TestImportRealFiles): the editor's calls come from
// tool_call_metadata, a command that timed out (exit code -1, success
// false) is an error, each action is observed by the event whose cause is
// its id.
func TestOpenHandsRealFiles(t *testing.T) {
	root := filepath.Join(shareddata.Dir(t), "trajectories", "openhands")
	tests := []struct {
		file  string
		steps []ohStepWant
		obs   map[int]string // observation prefixes
	}{
		{"basic.json", []ohStepWant{
			{ActionEdit, `str_replace_editor {"command":"create"`, "import random\nimport keyboard\n", "I'll help you create a simple 2048 game", false},
			{ActionSubmit, "finish", "", "I've created a simple implementation", false},
		}, map[int]string{0: "--- /workspace/game_2048.py\n+++ /workspace/game_2048.py"}},
		{"basic_gui_mode.json", []ohStepWant{
			{ActionBash, "mkdir -p /workspace/todo-app", "", "I'll help you create a Vue.js application", false},
			{ActionEdit, `str_replace_editor {"command":"create"`, "<!DOCTYPE html>", "Let's create the main HTML file:", false},
			{ActionEdit, `str_replace_editor {"command":"create"`, "const { createApp } = Vue", "Now, let's create the JavaScript file", false},
			{ActionPython, "cd /workspace/todo-app && python3 -m http.server 8000", "", "Let's serve this application", true},
			{"", "", "", "I've created a complete Vue.js todo application", false},
		}, map[int]string{3: "Serving HTTP on 0.0.0.0 port 8000"}},
		{"basic_interactions.json", []ohStepWant{
			{"", "", "", "1 + 1 equals 2.", false},
			{"", "", "", "Goldbach's conjecture is an unsolved problem", false},
			{ActionSubmit, "finish", "", "All done! What's next on the agenda?", false},
		}, nil},
		{"wrong_initial_state.json", []ohStepWant{
			{ActionView, `str_replace_editor {"command":"view","path":"/workspace"}`, "", "I'll help you rename the file.", false},
			{ActionBash, "mv /workspace/game_2048.py /workspace/2048.py", "", "Great, I found the file.", false},
			{ActionView, `str_replace_editor {"command":"view","path":"/workspace"}`, "", "Let me verify", false},
			{ActionSubmit, "finish", "", "The file has been successfully renamed", false},
		}, map[int]string{0: "Here's the files and directories up to 2 levels deep in /workspace"}},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			tr := importOne(t, OpenHands, filepath.Join(root, tc.file))
			checkOHSteps(t, tr, tc.steps)
			for i, p := range tc.obs {
				if !strings.HasPrefix(tr.Steps[i].Observation, p) {
					t.Errorf("step %d observation = %.80q, want prefix %q", i, tr.Steps[i].Observation, p)
				}
			}
			if v, ok := extraValue(t, tr, "source.events"); !ok {
				t.Errorf("extra.source.events missing")
			} else if l, _ := v.([]any); len(l) == 0 {
				t.Errorf("extra.source.events = %v", v)
			}
		})
	}
}

// TestOpenHandsOutputJSONL imports crafted evaluation output: a resolved
// record with ids and causes, an older record of [action, observation]
// pairs that ended on an error, and a record without history.
func TestOpenHandsOutputJSONL(t *testing.T) {
	out, st, err := importFile(t, OpenHands, filepath.Join("testdata", "openhands_output.jsonl"), Options{OnError: columnar.OnErrorSkip})
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 2 || st.Skipped != 1 {
		t.Fatalf("%d imported, stats %+v; want 2 imported and 1 skipped", len(out), st)
	}
	if e := st.Errors[0]; e.Line != 3 || e.Field != "history" {
		t.Errorf("bad record error = %v (line %d, field %q); want line 3, field history", e, e.Line, e.Field)
	}

	r := out[0]
	if !strings.HasPrefix(r.TrajectoryID, "calc__calc-3-") || r.Task.ID != "calc__calc-3" || r.Agent.Name != "CodeActAgent" || r.Agent.Model != "anthropic/claude-3-7-sonnet" {
		t.Errorf("ids = %q %q %q %q", r.TrajectoryID, r.Task.ID, r.Agent.Name, r.Agent.Model)
	}
	if !strings.HasPrefix(r.Task.Description, "<uploaded_files>") {
		t.Errorf("description = %.40q, want the first user message", r.Task.Description)
	}
	if !r.Outcome.Success || r.Outcome.Reward != 1 || r.Outcome.ExitStatus != "submitted" || r.Solution.Language != "diff" {
		t.Errorf("outcome %+v, language %q", r.Outcome, r.Solution.Language)
	}
	if got, _ := extraValue(t, r, "notes.success_basis"); got != "test_result.report.resolved" {
		t.Errorf("success_basis = %v", got)
	}
	if !r.CreatedAt.Equal(time.Date(2025, 3, 1, 10, 0, 0, 250e6, time.UTC)) {
		t.Errorf("created_at = %v", r.CreatedAt)
	}
	checkOHSteps(t, r, []ohStepWant{
		{ActionTest, "cd /workspace/calc && python -m pytest -q", "", "Run the tests first.", true},
		{ActionPython, "import calc", "import calc\ncalc.mean([])", "Reproduce.", false},
		{ActionEdit, "edit {", "return sum(xs) / len(xs) if xs else 0.0", "Guard the empty list.", true},
		{ActionEdit, "edit {", "    return sum(xs) / len(xs) if xs else 0.0", "", false},
		{ActionSubmit, "finish", "", "Fixed mean() for empty lists.", false},
	})
	for _, key := range []string{"source.history", "source.metrics.accumulated_cost", "source.test_result.git_patch", "source.instruction", "source.metadata.agent_class"} {
		if _, ok := extraValue(t, r, key); !ok {
			t.Errorf("extra.%s missing", key)
		}
	}

	p := out[1]
	if p.Outcome.Success || p.Outcome.ExitStatus != "error" || p.Outcome.ErrorInfo != "Agent got stuck in a loop" || p.Task.Description != "Add a README" {
		t.Errorf("pairs record: outcome %+v, description %q", p.Outcome, p.Task.Description)
	}
	checkOHSteps(t, p, []ohStepWant{
		{ActionView, "ls", "", "Look.", false},
		{ActionBrowse, "https://example.com", "", "Read docs.", false},
	})
	if p.Steps[0].Observation != "setup.py" || p.Steps[1].Observation != "Example Domain" {
		t.Errorf("pair observations = %q, %q", p.Steps[0].Observation, p.Steps[1].Observation)
	}
}

// TestOpenHandsMalformed checks that bad event lists are record errors
// naming the field.
func TestOpenHandsMalformed(t *testing.T) {
	tests := []struct{ name, src, field string }{
		{"event neither action nor observation", `[{"id": 0, "source": "user"}]`, "[0]"},
		{"event not an object", `[{"action": "message", "source": "user"}, 3]`, "[1]"},
		{"history not a list", `{"instance_id": "a", "history": {}}` + "\n", "history"},
		{"action not a string", `[{"action": 1}]`, "[0].action"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := importString(t, OpenHands, "bad.json", tc.src, Options{})
			var re *columnar.RecordError
			if !errors.As(err, &re) || re.Field != tc.field {
				t.Errorf("error = %v, want a record error at field %q", err, tc.field)
			}
		})
	}
}
