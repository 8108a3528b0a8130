package importer

import (
	"bytes"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/atlas-ai/atlas-learn/columnar"
)

// TestATIFSample imports the hand-written ATIF-v1.4 document in testdata.
func TestATIFSample(t *testing.T) {
	tr := importOne(t, ATIF, filepath.Join("testdata", "atif_sample.json"))
	if tr.TrajectoryID != "atif-sample-0001" || tr.Task.ID != "atif-sample-0001" {
		t.Errorf("ids: %q, task %q", tr.TrajectoryID, tr.Task.ID)
	}
	if tr.Task.Description != "Create a file called hello.txt with 'Hello, world!' as the content." {
		t.Errorf("task: %q", tr.Task.Description)
	}
	if tr.Agent != (columnar.Agent{Name: "terminus-2", Model: "anthropic/claude-sonnet-4"}) {
		t.Errorf("agent: %+v", tr.Agent)
	}
	if want := time.Date(2025, 10, 16, 14, 30, 0, 0, time.UTC); !tr.CreatedAt.Equal(want) {
		t.Errorf("created_at %s, want %s", tr.CreatedAt, want)
	}
	thought := "The file does not exist yet.\n\nI will write the file and list the directory."
	wants := []columnar.Step{
		{Index: 0, Thought: thought, Action: "echo 'Hello, world!' > hello.txt", ActionType: ActionBash},
		{Index: 1, Action: "ls /nonexistent", ActionType: ActionView, Observation: "ls: cannot access '/nonexistent': No such file or directory", IsError: true},
		{Index: 2, Thought: "Checking the content.", Action: `read_file {"path":"hello.txt"}`, ActionType: ActionView, Observation: "Hello, world!"},
		{Index: 3, Thought: "hello.txt now holds 'Hello, world!'."},
	}
	if len(tr.Steps) != len(wants) {
		t.Fatalf("%d steps, want %d: %+v", len(tr.Steps), len(wants), tr.Steps)
	}
	for i, w := range wants {
		got := tr.Steps[i]
		got.Code = ""
		if got != w {
			t.Errorf("step %d:\n got %+v\nwant %+v", i, got, w)
		}
	}
	if !tr.Outcome.Success || tr.Outcome.Reward != 1 {
		t.Errorf("outcome %+v, want success with reward 1 (extra.reward)", tr.Outcome)
	}
	var x struct {
		SourceFormat string                     `json:"source_format"`
		Source       map[string]json.RawMessage `json:"source"`
		Steps        []map[string]any           `json:"steps"`
		Notes        map[string]string          `json:"notes"`
	}
	if err := json.Unmarshal(tr.Extra, &x); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"steps", "agent", "notes", "final_metrics", "extra", "schema_version"} {
		if _, ok := x.Source[k]; !ok {
			t.Errorf("extra.source lacks %s", k)
		}
	}
	if !bytes.Contains(x.Source["steps"], []byte(`"reasoning_tokens":12`)) || !bytes.Contains(x.Source["agent"], []byte(`"version":"2.0.0"`)) {
		t.Errorf("metrics or agent version not kept: %s / %s", x.Source["steps"], x.Source["agent"])
	}
	if x.SourceFormat != "atif" || len(x.Steps) != 4 || x.Steps[1]["tool_call_id"] != "call_ls_2" || x.Steps[1]["step_id"] != 3.0 {
		t.Errorf("extra: %s", tr.Extra)
	}
	if x.Notes["success_basis"] != "extra.reward above 0" {
		t.Errorf("success_basis %q", x.Notes["success_basis"])
	}
}

// TestATIFRoundTrip exports trajectories to ATIF and imports them back.
func TestATIFRoundTrip(t *testing.T) {
	orig := []columnar.Trajectory{
		{
			SchemaVersion: columnar.SchemaVersion, TrajectoryID: "django__django-1/run 2",
			Task:  columnar.Task{ID: "django__django-1", Description: "Fix the bug.", Domain: "swe", Input: `{"k":1}`},
			Agent: columnar.Agent{Name: "swe-agent", Model: "gpt-4o"},
			Steps: []columnar.Step{
				{Index: 0, Thought: " look first ", Action: "ls -la", ActionType: ActionView, Observation: "a\nb"},
				{Index: 1, Thought: "edit", Action: "str_replace_editor {\"command\":\"create\"}", ActionType: ActionEdit, Code: "print(1)\n", Observation: "ERROR: nope", IsError: true, Reward: 0.5},
				{Index: 2, Thought: "only a thought"},
				{Index: 3, Observation: "stray output"},
				{Index: 4, Action: "submit", ActionType: ActionSubmit},
			},
			Outcome:   columnar.Outcome{Success: true, Reward: 1, ExitStatus: "submitted", ErrorInfo: "x"},
			Solution:  columnar.Solution{Code: "diff --git a b", Language: "diff"},
			CreatedAt: time.Date(2025, 1, 2, 3, 4, 5, 6e6, time.UTC),
			Metadata:  map[string]string{"k": "v"},
		},
		{SchemaVersion: columnar.SchemaVersion, TrajectoryID: "empty", CreatedAt: epoch},
	}
	for _, o := range orig {
		doc, err := ExportATIF(o)
		if err != nil {
			t.Fatal(err)
		}
		again, err := ExportATIF(o)
		if err != nil || !bytes.Equal(doc, again) {
			t.Fatalf("export is not deterministic")
		}
		d, err := DetectFormat("x.json", bytes.NewReader(doc))
		if err != nil || d.Format != ATIF {
			t.Fatalf("detect exported document: %+v %v", d, err)
		}
		out, _, err := importString(t, ATIF, "x.json", string(doc), Options{})
		if err != nil || len(out) != 1 {
			t.Fatalf("import exported %s: %v (%d)\n%s", o.TrajectoryID, err, len(out), doc)
		}
		got := out[0]
		if got.TrajectoryID != o.TrajectoryID || got.Task != o.Task || got.Agent != o.Agent || got.Outcome != o.Outcome ||
			got.Solution != o.Solution || !got.CreatedAt.Equal(o.CreatedAt) {
			t.Errorf("round trip of %s:\n got %+v\nwant %+v", o.TrajectoryID, got, o)
		}
		if len(got.Steps) != len(o.Steps) {
			t.Fatalf("%s: %d steps, want %d", o.TrajectoryID, len(got.Steps), len(o.Steps))
		}
		for i := range o.Steps {
			if got.Steps[i] != o.Steps[i] {
				t.Errorf("%s step %d:\n got %+v\nwant %+v", o.TrajectoryID, i, got.Steps[i], o.Steps[i])
			}
		}
		if got.Metadata["k"] != o.Metadata["k"] || got.Metadata["source_format"] != "atif" {
			t.Errorf("metadata %v", got.Metadata)
		}
	}
}

// TestATIFWithoutExtension reads a foreign document: tool calls answered
// by results without ids, outcome from extra.success, a JSONL of two
// documents.
func TestATIFWithoutExtension(t *testing.T) {
	doc1 := `{"schema_version":"ATIF-v1.6","session_id":"s1","agent":{"name":"a","version":"1"},"extra":{"success":false,"exit_status":"timeout"},"steps":[` +
		`{"step_id":1,"source":"user","message":[{"type":"text","text":"do it"}]},` +
		`{"step_id":2,"source":"agent","model_name":"m","message":"","tool_calls":[{"tool_call_id":"c1","function_name":"run","arguments":{}}],"observation":{"results":[{"content":"[Command finished with exit code 2]"}]}},` +
		`{"step_id":3,"source":"agent","message":"delegating","observation":{"results":[{"subagent_trajectory_ref":[{"session_id":"sub-1"}]}]}}]}`
	doc2 := `{"schema_version":"ATIF-v1.2","session_id":7,"agent":{"name":"b","version":"1"},"steps":[]}`
	out, st, err := importString(t, ATIF, "runs.jsonl", doc1+"\n"+doc2+"\n", Options{})
	if err != nil || len(out) != 2 || st.Imported != 2 {
		t.Fatalf("import: %v, %d, %+v", err, len(out), st)
	}
	a := out[0]
	if a.Task.Description != "do it" || a.Agent.Model != "m" || len(a.Steps) != 2 {
		t.Fatalf("first: %+v", a)
	}
	if s := a.Steps[0]; s.Action != "run" || s.ActionType != ActionFunctionCall || !s.IsError || s.Observation != "[Command finished with exit code 2]" {
		t.Errorf("step 0: %+v", s)
	}
	if s := a.Steps[1]; s.Thought != "delegating" || s.Observation != "subagent trajectory sub-1" || s.Action != "" {
		t.Errorf("step 1: %+v", s)
	}
	if a.Outcome.Success || a.Outcome.ExitStatus != "timeout" {
		t.Errorf("outcome %+v", a.Outcome)
	}
	if b := out[1]; b.TrajectoryID != "7" || len(b.Steps) != 0 || b.Outcome.Success {
		t.Errorf("second: %+v", b)
	}
}

// TestATIFMalformed names the field at fault.
func TestATIFMalformed(t *testing.T) {
	tests := []struct {
		name, src, field, msg string
	}{
		{"no version", `{"session_id":"s","agent":{},"steps":[]}`, "schema_version", "missing"},
		{"other version", `{"schema_version":"ATIF-v2.0","session_id":"s","agent":{},"steps":[]}`, "schema_version", "not an ATIF-v1.x version"},
		{"no session", `{"schema_version":"ATIF-v1.4","agent":{},"steps":[]}`, "session_id", "missing"},
		{"no agent", `{"schema_version":"ATIF-v1.4","session_id":"s","steps":[]}`, "agent", "missing"},
		{"agent not object", `{"schema_version":"ATIF-v1.4","session_id":"s","agent":"x","steps":[]}`, "agent", "expected an object"},
		{"no steps", `{"schema_version":"ATIF-v1.4","session_id":"s","agent":{}}`, "steps", "missing"},
		{"steps not list", `{"schema_version":"ATIF-v1.4","session_id":"s","agent":{},"steps":{}}`, "steps", "expected a list"},
		{"bad source", `{"schema_version":"ATIF-v1.4","session_id":"s","agent":{},"steps":[{"step_id":1,"source":"robot","message":""}]}`, "steps[0].source", "not system, user or agent"},
		{"no source", `{"schema_version":"ATIF-v1.4","session_id":"s","agent":{},"steps":[{"step_id":1,"message":""}]}`, "steps[0].source", "missing"},
		{"call without name", `{"schema_version":"ATIF-v1.4","session_id":"s","agent":{},"steps":[{"step_id":1,"source":"agent","message":"","tool_calls":[{"tool_call_id":"c","arguments":{}}]}]}`, "steps[0].tool_calls[0].function_name", "missing"},
		{"arguments not object", `{"schema_version":"ATIF-v1.4","session_id":"s","agent":{},"steps":[{"step_id":1,"source":"agent","message":"","tool_calls":[{"tool_call_id":"c","function_name":"f","arguments":"x"}]}]}`, "steps[0].tool_calls[0].arguments", "expected an object"},
		{"results not list", `{"schema_version":"ATIF-v1.4","session_id":"s","agent":{},"steps":[{"step_id":1,"source":"agent","message":"","observation":{"results":3}}]}`, "steps[0].observation.results", "expected a list"},
		{"bad timestamp", `{"schema_version":"ATIF-v1.4","session_id":"s","agent":{},"steps":[{"step_id":1,"source":"user","message":"","timestamp":"yesterday"}]}`, "steps[0].timestamp", "cannot read"},
		{"list document", `[1]`, "", "expected an object"},
	}
	for _, tc := range tests {
		_, _, err := importString(t, ATIF, "bad.json", tc.src, Options{})
		var re *columnar.RecordError
		if !errors.As(err, &re) || re.Field != tc.field || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%s: got %v (field %q), want field %q with %q", tc.name, err, fieldOf(re), tc.field, tc.msg)
		}
	}
}

func fieldOf(re *columnar.RecordError) string {
	if re == nil {
		return ""
	}
	return re.Field
}

// TestATIFDetect: --from auto tells ATIF by its schema_version.
func TestATIFDetect(t *testing.T) {
	for _, src := range []string{
		`{"schema_version": "ATIF-v1.4", "session_id": "s", "agent": {}, "steps": []}`,
		"{\"schema_version\":\"ATIF-v1.5\",\"session_id\":\"a\",\"steps\":[]}\n{\"schema_version\":\"ATIF-v1.5\",\"session_id\":\"b\",\"steps\":[]}\n",
	} {
		d, err := DetectFormat("t.json", strings.NewReader(src))
		if err != nil || d.Format != ATIF {
			t.Errorf("%.40s: %+v %v", src, d, err)
		}
	}
	d, err := DetectFormat("t.json", strings.NewReader(`{"schema_version": 1, "trajectory_id": "x"}`))
	if err != nil || d.Format != Native {
		t.Errorf("native: %+v %v", d, err)
	}
	if f, err := ParseFormat("atif"); err != nil || f != ATIF {
		t.Errorf("ParseFormat: %v %v", f, err)
	}
}
