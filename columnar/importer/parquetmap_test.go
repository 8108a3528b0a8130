package importer

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"

	"github.com/atlas-ai/atlas-learn/columnar"
)

type pqFunction struct {
	Name      string `parquet:"name"`
	Arguments string `parquet:"arguments"`
}

type pqCall struct {
	ID       string     `parquet:"id"`
	Function pqFunction `parquet:"function"`
}

type pqMessage struct {
	Role       string   `parquet:"role"`
	Content    string   `parquet:"content"`
	ToolCalls  []pqCall `parquet:"tool_calls,list"`
	ToolCallID string   `parquet:"tool_call_id,optional"`
}

// swe-smith / chat shape: a messages list of structs and outcome columns.
type pqSmithRow struct {
	InstanceID string            `parquet:"instance_id"`
	TrajID     string            `parquet:"traj_id"`
	Model      string            `parquet:"model"`
	Resolved   bool              `parquet:"resolved"`
	Patch      string            `parquet:"patch"`
	Messages   []pqMessage       `parquet:"messages,list"`
	Meta       map[string]string `parquet:"meta"`
}

type pqNebiusMessage struct {
	Role       string `parquet:"role"`
	Text       string `parquet:"text"`
	CutoffDate string `parquet:"cutoff_date,optional"`
}

// nebius shape: a trajectory list of {role, text}.
type pqNebiusRow struct {
	InstanceID     string            `parquet:"instance_id"`
	ModelName      string            `parquet:"model_name"`
	Target         bool              `parquet:"target"`
	ExitStatus     string            `parquet:"exit_status"`
	GeneratedPatch string            `parquet:"generated_patch"`
	EvalLogs       string            `parquet:"eval_logs"`
	Trajectory     []pqNebiusMessage `parquet:"trajectory,list"`
}

func writeParquet[T any](t *testing.T, rows []T) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := parquet.NewGenericWriter[T](&buf)
	if _, err := w.Write(rows); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func importPQ(t *testing.T, name string, data []byte, m *ParquetMapping, onErr columnar.OnError) ([]columnar.Trajectory, Stats, error) {
	t.Helper()
	var out []columnar.Trajectory
	st, err := Import(context.Background(), Parquet, name, bytes.NewReader(data), func(tr columnar.Trajectory) error {
		out = append(out, tr)
		return nil
	}, Options{OnError: onErr, Mapping: m})
	return out, st, err
}

func builtin(t *testing.T, name string) *ParquetMapping {
	t.Helper()
	m, err := LoadParquetMapping(name)
	if err != nil {
		t.Fatal(err)
	}
	return &m
}

func extraOf(t *testing.T, tr columnar.Trajectory) map[string]any {
	t.Helper()
	var x map[string]any
	if err := json.Unmarshal(tr.Extra, &x); err != nil {
		t.Fatal(err)
	}
	return x
}

func smithRows() []pqSmithRow {
	return []pqSmithRow{{
		InstanceID: "repo__x-1", TrajID: "repo__x-1.run7", Model: "claude", Resolved: true, Patch: "diff --git a/f b/f\n",
		Meta: map[string]string{"split": "train"},
		Messages: []pqMessage{
			{Role: "system", Content: "You are an agent."},
			{Role: "user", Content: "Fix the bug."},
			{Role: "assistant", Content: "Look first.", ToolCalls: []pqCall{{ID: "c1", Function: pqFunction{Name: "bash", Arguments: `{"command":"ls"}`}}}},
			{Role: "tool", Content: "a.py", ToolCallID: "c1"},
			{Role: "assistant", Content: "Done.\n```bash\nsubmit\n```"},
			{Role: "user", Content: "submitted"},
		},
	}}
}

func TestParquetSweSmith(t *testing.T) {
	data := writeParquet(t, smithRows())
	for _, name := range []string{"swe-smith", "chat"} {
		trs, st, err := importPQ(t, "smith.parquet", data, builtin(t, name), "")
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if st.Imported != 1 || len(trs) != 1 {
			t.Fatalf("%s: imported %d", name, st.Imported)
		}
		tr := trs[0]
		if tr.Task.ID != "repo__x-1" || tr.Agent.Model != "claude" || !tr.Outcome.Success || tr.Outcome.Reward != 1 {
			t.Errorf("%s: task %q model %q outcome %+v", name, tr.Task.ID, tr.Agent.Model, tr.Outcome)
		}
		if len(tr.Steps) != 2 || tr.Steps[0].Action != "ls" || tr.Steps[0].Observation != "a.py" || tr.Steps[0].Thought != "Look first." || tr.Steps[1].Action != "submit" {
			t.Errorf("%s: steps %+v", name, tr.Steps)
		}
		if tr.Solution.Code != "diff --git a/f b/f\n" || tr.Task.Description != "Fix the bug." {
			t.Errorf("%s: solution %q task %q", name, tr.Solution.Code, tr.Task.Description)
		}
		x := extraOf(t, tr)
		src, _ := x["source"].(map[string]any)
		if x["source_format"] != "parquet" || tr.Metadata["source_format"] != "parquet" {
			t.Errorf("%s: source_format %v", name, x["source_format"])
		}
		if meta, _ := src["meta"].(map[string]any); meta["split"] != "train" {
			t.Errorf("%s: extra.source.meta = %v", name, src["meta"])
		}
		if msgs, _ := src["messages"].([]any); len(msgs) != 6 {
			t.Errorf("%s: extra.source.messages has %d messages", name, len(msgs))
		}
		for _, k := range []string{"instance_id", "resolved", "model", "patch"} {
			if _, ok := src[k]; ok {
				t.Errorf("%s: mapped column %s in extra.source", name, k)
			}
		}
		switch name {
		case "swe-smith":
			if tr.TrajectoryID != "repo__x-1.run7" {
				t.Errorf("trajectory id %q", tr.TrajectoryID)
			}
			if _, ok := src["traj_id"]; ok {
				t.Errorf("traj_id kept in extra.source though mapped")
			}
		case "chat":
			// chat does not know traj_id: a derived id, traj_id kept.
			if !strings.HasPrefix(tr.TrajectoryID, "repo__x-1-") || src["traj_id"] != "repo__x-1.run7" {
				t.Errorf("chat: id %q, extra traj_id %v", tr.TrajectoryID, src["traj_id"])
			}
		}
	}
}

func TestParquetNebius(t *testing.T) {
	rows := []pqNebiusRow{{
		InstanceID: "django__django-1", ModelName: "swe-agent-llama-70b", Target: false, ExitStatus: "submitted",
		GeneratedPatch: "diff --git a/x b/x\n", EvalLogs: "FAILED",
		Trajectory: []pqNebiusMessage{
			{Role: "system", Text: "sys"},
			{Role: "user", Text: "Issue: crash", CutoffDate: "2024-01-01"},
			{Role: "ai", Text: "Let me look.\n```\nls\n```"},
			{Role: "user", Text: "setup.py"},
		},
	}}
	trs, _, err := importPQ(t, "nebius.parquet", writeParquet(t, rows), builtin(t, "nebius"), "")
	if err != nil {
		t.Fatal(err)
	}
	tr := trs[0]
	if tr.Task.ID != "django__django-1" || tr.Agent.Model != "swe-agent-llama-70b" || tr.Outcome.Success || tr.Outcome.ExitStatus != "submitted" || tr.Solution.Code == "" {
		t.Errorf("ids/outcome: %q %q %+v %q", tr.Task.ID, tr.Agent.Model, tr.Outcome, tr.Solution.Code)
	}
	if len(tr.Steps) != 1 || tr.Steps[0].Action != "ls" || tr.Steps[0].Observation != "setup.py" || tr.Task.Description != "Issue: crash" {
		t.Errorf("steps %+v task %q", tr.Steps, tr.Task.Description)
	}
	src := extraOf(t, tr)["source"].(map[string]any)
	if src["eval_logs"] != "FAILED" {
		t.Errorf("eval_logs not in extra: %v", src)
	}
	msgs := src["trajectory"].([]any)
	if m := msgs[1].(map[string]any); m["text"] != "Issue: crash" || m["cutoff_date"] != "2024-01-01" {
		t.Errorf("extra.source.trajectory keeps the messages as read: %v", m)
	}
}

// A custom mapping: other column and field names, a JSON-string message
// list, and a rival "model" column that the mapping overrides.
type pqCustomMessage struct {
	From  string `parquet:"from"`
	Value string `parquet:"value"`
}

type pqCustomRow struct {
	Task     string            `parquet:"task"`
	Run      int64             `parquet:"run"`
	Agent    string            `parquet:"agent_model"`
	Model    string            `parquet:"model"`
	Score    float64           `parquet:"score"`
	Passed   bool              `parquet:"passed"`
	Convo    []pqCustomMessage `parquet:"convo,list"`
	Messages string            `parquet:"messages"`
}

func TestParquetCustomMapping(t *testing.T) {
	rows := []pqCustomRow{{
		Task: "t-1", Run: 3, Agent: "gpt-x", Model: "judge-model", Score: 0.25, Passed: true, Messages: "not messages",
		Convo: []pqCustomMessage{{From: "human", Value: "Do it."}, {From: "gpt", Value: "```bash\necho hi\n```"}, {From: "human", Value: "hi"}},
	}}
	m, err := ParseParquetMapping([]byte("messages: convo\nrole: from\ncontent: value\ninstance_id: task\nmodel: agent_model\nresolved: passed\nreward: score\n"))
	if err != nil {
		t.Fatal(err)
	}
	m.Name = "custom"
	trs, _, err := importPQ(t, "custom.parquet", writeParquet(t, rows), &m, "")
	if err != nil {
		t.Fatal(err)
	}
	tr := trs[0]
	if tr.Task.ID != "t-1" || tr.Agent.Model != "gpt-x" || !tr.Outcome.Success || tr.Outcome.Reward != 0.25 {
		t.Errorf("got %q %q %+v", tr.Task.ID, tr.Agent.Model, tr.Outcome)
	}
	if len(tr.Steps) != 1 || tr.Steps[0].Action != "echo hi" || tr.Steps[0].Observation != "hi" {
		t.Errorf("steps %+v", tr.Steps)
	}
	x := extraOf(t, tr)
	src := x["source"].(map[string]any)
	if src["model"] != "judge-model" || src["messages"] != "not messages" || src["run"] != float64(3) {
		t.Errorf("withheld and unmapped columns in extra.source: %v", src)
	}
	if _, ok := src["convo"]; !ok {
		t.Errorf("message column not kept in extra.source: %v", src)
	}
	if notes := x["notes"].(map[string]any); notes["parquet_mapping"].(map[string]any)["name"] != "custom" {
		t.Errorf("notes %v", notes)
	}

	// The message list as a JSON string.
	type strRow struct {
		ID   string `parquet:"instance_id"`
		Msgs string `parquet:"messages"`
	}
	trs, _, err = importPQ(t, "str.parquet", writeParquet(t, []strRow{{ID: "s-1", Msgs: `[{"role":"user","content":"go"},{"role":"assistant","content":"` + "```bash\\nls\\n```" + `"}]`}}), nil, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(trs[0].Steps) != 1 || trs[0].Steps[0].Action != "ls" {
		t.Errorf("JSON-string messages: steps %+v", trs[0].Steps)
	}
}

func TestParquetMappingErrors(t *testing.T) {
	data := writeParquet(t, smithRows())
	m := ParquetMapping{Name: "bad", Messages: "messages", Resolved: "is_resolved"}
	_, _, err := importPQ(t, "smith.parquet", data, &m, columnar.OnErrorSkip)
	if err == nil || !strings.Contains(err.Error(), `column "is_resolved"`) || !strings.Contains(err.Error(), "smith.parquet") {
		t.Fatalf("missing column: %v", err)
	}
	m = ParquetMapping{Name: "bad", Content: "body"}
	_, _, err = importPQ(t, "smith.parquet", data, &m, "")
	if err == nil || !strings.Contains(err.Error(), `message field "body"`) || !strings.Contains(err.Error(), "smith.parquet") {
		t.Fatalf("missing message field: %v", err)
	}
	// Optional columns may be missing.
	type minimal struct {
		ID       string      `parquet:"instance_id"`
		Resolved bool        `parquet:"resolved"`
		Messages []pqMessage `parquet:"messages,list"`
	}
	trs, _, err := importPQ(t, "min.parquet", writeParquet(t, []minimal{{ID: "a", Resolved: true, Messages: smithRows()[0].Messages}}), builtin(t, "swe-smith"), "")
	if err != nil || len(trs) != 1 {
		t.Fatalf("optional columns: %v", err)
	}
	if _, err := ParseParquetMapping([]byte("mesages: x\n")); err == nil {
		t.Error("unknown key accepted")
	}
	if _, err := ParseParquetMapping([]byte("optional: [nope]\n")); err == nil {
		t.Error("unknown optional key accepted")
	}
	if _, err := LoadParquetMapping("no-such-mapping"); err == nil || !strings.Contains(err.Error(), "swe-smith") {
		t.Errorf("unknown mapping: %v", err)
	}
	dir := t.TempDir()
	p := filepath.Join(dir, "m.yaml")
	if err := os.WriteFile(p, []byte("messages: convo\noptional: [model]\nmodel: m\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if fm, err := LoadParquetMapping(p); err != nil || fm.Messages != "convo" || fm.Name != p {
		t.Errorf("mapping file: %+v %v", fm, err)
	}
}

func TestParquetBadRowSkippable(t *testing.T) {
	type strRow struct {
		ID   string `parquet:"instance_id"`
		Msgs string `parquet:"messages"`
	}
	ok := `[{"role":"user","content":"go"},{"role":"assistant","content":"hi"}]`
	data := writeParquet(t, []strRow{
		{ID: "a", Msgs: ok},
		{ID: "b", Msgs: "not json"},          // fails reading the row
		{ID: "c", Msgs: `[{"content":"x"}]`}, // fails conversion: no role
		{ID: "d", Msgs: ok},
	})
	_, _, err := importPQ(t, "rows.parquet", data, nil, "")
	var re *columnar.RecordError
	if !errors.As(err, &re) || re.File != "rows.parquet" || re.Row != 1 || re.Field != "messages" || !strings.Contains(re.Error(), "rows.parquet: row 1") {
		t.Fatalf("fail policy: %v", err)
	}
	trs, st, err := importPQ(t, "rows.parquet", data, nil, columnar.OnErrorSkip)
	if err != nil || st.Skipped != 2 || len(trs) != 2 || trs[1].Task.ID != "d" {
		t.Fatalf("skip policy: %v %+v", err, st)
	}
	if st.Errors[0].Row != 1 || st.Errors[1].Row != 2 || st.Errors[1].Field != "messages[0].role" {
		t.Errorf("errors: %v, %v", st.Errors[0], st.Errors[1])
	}
}

// TestParquetInvalidUTF8 reads a foreign Parquet file whose strings and
// map keys are not UTF-8. Each invalid byte becomes U+FFFD and is counted,
// in mapped columns and in extra.source alike; encoding/json once replaced
// them uncounted, so the import reported none.
func TestParquetInvalidUTF8(t *testing.T) {
	rows := smithRows()
	rows[0].Messages[1].Content = "Fix the caf\xe9 bug."      // mapped: the task (1)
	rows[0].Messages[3].Content = "a.py \xff\xfe"             // mapped: an observation (2)
	rows[0].Meta = map[string]string{"sp\xfflit": "tr\xe9in"} // unmapped: key and value (2)
	trs, st, err := importPQ(t, "smith.parquet", writeParquet(t, rows), builtin(t, "swe-smith"), "")
	if err != nil {
		t.Fatal(err)
	}
	if st.UTF8Replacements != 5 || len(trs) != 1 || trs[0].UTF8Replacements() != 5 {
		t.Fatalf("replacements: stats %d, trajectory %d; want 5", st.UTF8Replacements, trs[0].UTF8Replacements())
	}
	tr := trs[0]
	if tr.Task.Description != "Fix the caf\uFFFD bug." || tr.Steps[0].Observation != "a.py \uFFFD\uFFFD" {
		t.Errorf("task %q, observation %q", tr.Task.Description, tr.Steps[0].Observation)
	}
	src, _ := extraOf(t, tr)["source"].(map[string]any)
	if meta, _ := src["meta"].(map[string]any); meta["sp\uFFFDlit"] != "tr\uFFFDin" {
		t.Errorf("extra.source.meta = %v", src["meta"])
	}
	if c := tr; c.SanitizeUTF8() != 0 {
		t.Errorf("the trajectory still holds invalid UTF-8")
	}
}
