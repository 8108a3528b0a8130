package jobs_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/atlas-ai/atlas-learn/columnar"
	"github.com/atlas-ai/atlas-learn/internal/shareddata"
	"github.com/atlas-ai/atlas-learn/jobs"
)

// TestImportAuto imports files of every format in one --from auto run and
// checks the per-format counters; a file that names no format fails the
// import, naming the file.
func TestImportAuto(t *testing.T) {
	data := filepath.Join(shareddata.Dir(t), "trajectories")
	cfg := config(t, "unused", "unused")
	files := append(glob(t, filepath.Join(data, "openhands", "*.json")),
		filepath.Join(data, "swe-agent", "ctf__crypto__eps.traj"),
		filepath.Join(data, "mini-swe-agent", "local.traj.json"),
		filepath.Join(data, "mini-swe-agent-1.1", "pvlib__pvlib-python-1606.traj.json"),
		"../columnar/importer/testdata/chat_sample.jsonl",
		writeNativeJSONL(t, 2))
	m, err := jobs.Import(context.Background(), jobs.ImportOptions{Format: "auto", Files: files, Output: t.TempDir(), OnError: columnar.OnErrorFail, Parquet: cfg.Parquet}, quiet())
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int64{"format_openhands": 4, "format_swe_agent": 1, "format_mini_swe_agent": 2, "format_openai_chat": 1, "format_jsonl": 1, "rows_imported": 4 + 1 + 2 + 3 + 2}
	for k, v := range want {
		if m.Counters[k] != v {
			t.Errorf("counter %s = %d, want %d (counters %v)", k, m.Counters[k], v, m.Counters)
		}
	}

	bad := filepath.Join(t.TempDir(), "odd.json")
	if err := os.WriteFile(bad, []byte(`{"foo": 1}`), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = jobs.Import(context.Background(), jobs.ImportOptions{Format: "auto", Files: []string{bad}, Output: t.TempDir(), OnError: columnar.OnErrorFail, Parquet: cfg.Parquet}, quiet())
	if err == nil || !strings.Contains(err.Error(), "odd.json") || !strings.Contains(err.Error(), "--from") {
		t.Errorf("undetectable file: %v", err)
	}
}
