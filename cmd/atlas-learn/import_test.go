package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/atlas-ai/atlas-learn/internal/shareddata"
)

// TestCLIImportAppend imports two shared files one command at a time into
// one dataset with --append, and a third time without it: the dataset
// grows, then is replaced.
func TestCLIImportAppend(t *testing.T) {
	dir := filepath.Join(shareddata.Dir(t), "trajectories/swe-agent")
	out := filepath.Join(t.TempDir(), "ds")
	rows := func() float64 {
		t.Helper()
		js, err := run(t, "inspect", "--json", out)
		if err != nil {
			t.Fatal(err)
		}
		var in map[string]any
		if err := json.Unmarshal([]byte(js), &in); err != nil {
			t.Fatalf("inspect --json printed %q: %v", js, err)
		}
		return in["rows"].(float64)
	}
	steps := []struct {
		args []string
		say  string
		rows float64
	}{
		{[]string{"--append", filepath.Join(dir, "ctf__crypto__eps.traj")}, "imported 1 trajectories (0 skipped) into " + out + "\n", 1},
		{[]string{"--append", filepath.Join(dir, "ctf__pwn__warmup.traj")}, "imported 1 trajectories (0 skipped) into " + out + ", after the 1 already there: 2 in all\n", 2},
		{[]string{filepath.Join(dir, "ctf__rev__rock.traj")}, "imported 1 trajectories (0 skipped) into " + out + "\n", 1},
	}
	for i, s := range steps {
		got, err := run(t, append([]string{"import", "--from", "swe-agent", "--output", out}, s.args...)...)
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if !strings.HasPrefix(got, s.say) {
			t.Errorf("step %d printed %q, want %q", i, got, s.say)
		}
		if n := rows(); n != s.rows {
			t.Errorf("step %d: %v rows, want %v", i, n, s.rows)
		}
	}
}
