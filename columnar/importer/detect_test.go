package importer

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/atlas-ai/atlas-learn/internal/shareddata"
)

// TestDetectFormatFiles detects every shared trajectory file and the
// samples in testdata from their content.
func TestDetectFormatFiles(t *testing.T) {
	want := map[string]Format{
		filepath.Join("testdata", "chat_sample.jsonl"):        OpenAIChat,
		filepath.Join("testdata", "chat_textcalls.jsonl"):     OpenAIChat,
		filepath.Join("testdata", "mini_current.traj.json"):   MiniSWEAgent,
		filepath.Join("testdata", "mini_toolcalls.traj.json"): MiniSWEAgent,
		filepath.Join("testdata", "mini_v1_limits.traj.json"): MiniSWEAgent,
		filepath.Join("testdata", "mini_micro_old.traj.json"): MiniSWEAgent,
		filepath.Join("testdata", "swe_bad_step.traj"):        SWEAgent,
		filepath.Join("testdata", "openhands_output.jsonl"):   OpenHands,
		filepath.Join("testdata", "atif_sample.json"):         ATIF,
	}
	// The shared files are named by their format: detection must agree.
	root := filepath.Join(shareddata.Dir(t), "trajectories")
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if f, ok := FormatFromName(p); ok {
			want[p] = f
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(want) < 36 {
		t.Fatalf("%d files, want at least 36", len(want))
	}
	for p, f := range want {
		fh, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		d, err := DetectFormat(filepath.Base(p), fh)
		fh.Close()
		if err != nil || d.Format != f || d.Reason == "" {
			t.Errorf("%s: detected %+v, %v; want %s", p, d, err, f)
		}
	}
}

// TestDetectFormat covers each rule and the refusals.
func TestDetectFormat(t *testing.T) {
	tests := []struct {
		name, src string
		want      Format // "" means an error
		errPart   string
	}{
		{"native", `{"schema_version": 1, "trajectory_id": "a", "steps": []}` + "\n" + `{"schema_version": 1, "trajectory_id": "b"}` + "\n", Native, ""},
		{"native one line", `{"schema_version": 1, "trajectory_id": "a"}`, Native, ""},
		{"chat jsonl", `{"messages": [{"role": "user", "content": "hi"}]}` + "\n" + `{"messages": []}` + "\n", OpenAIChat, ""},
		{"nebius", `{"instance_id": "x", "trajectory": [{"role": "system", "text": "s"}]}` + "\n", OpenAIChat, ""},
		{"openhands events", `[{"id": 0, "source": "user", "action": "message"}, {"id": 1, "observation": "null", "cause": 0}]`, OpenHands, ""},
		{"openhands pairs", `{"instance_id": "a", "history": [[{"action": "message"}, {}]]}` + "\n", OpenHands, ""},
		{"openhands output", `{"instance_id": "a", "history": [{"action": "message"}]}` + "\n" + `{"instance_id": "b", "history": []}`, OpenHands, ""},
		{"mini object", "{\n \"trajectory_format\": \"mini-swe-agent-1\",\n \"messages\": []\n}", MiniSWEAgent, ""},
		{"mini info", `{"info": {"mini_version": "1.0"}, "messages": [{"role": "system", "content": "x"}]}`, MiniSWEAgent, ""},
		{"mini prompt", `{"messages": [{"role": "system", "content": "To finish, issue: echo COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT"}]}`, MiniSWEAgent, ""},
		{"mini bare list", `[{"role": "system", "content": "x"}, {"role": "user", "content": "y"}]`, MiniSWEAgent, ""},
		{"swe-agent", `{"trajectory": [{"action": "ls", "observation": "a"}], "history": [], "info": {}}`, SWEAgent, ""},
		{"older swe-agent", `{"history": [{"role": "system", "content": "s"}]}`, SWEAgent, ""},
		{"byte order mark", "\xEF\xBB\xBF" + `[{"action": "run"}]`, OpenHands, ""},
		{"empty", "  \n", "", "empty"},
		{"not JSON", "hello", "", "invalid JSON in the first record"},
		{"number", "42", "", "not an object or a list"},
		{"empty list", "[]", "", "an empty list"},
		{"unknown object", `{"foo": 1}`, "", "none of the keys"},
		{"list of numbers", `[1, 2]`, "", "neither events nor chat messages"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, err := DetectFormat("f.json", strings.NewReader(tc.src))
			if tc.want == "" {
				if err == nil || !strings.Contains(err.Error(), tc.errPart) || !strings.Contains(err.Error(), "f.json") {
					t.Errorf("got %+v, %v; want an error naming f.json with %q", d, err, tc.errPart)
				}
				return
			}
			if err != nil || d.Format != tc.want {
				t.Errorf("got %+v, %v; want %s", d, err, tc.want)
			}
		})
	}
}
