package jobs_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/atlas-ai/atlas-learn/columnar"
	"github.com/atlas-ai/atlas-learn/jobs"
)

// Trajectories whose code attacks the machine, through a whole run with
// counterfactual credit: the run completes, every attack is contained and
// its row says what stopped it, no secret reaches any output or log, and
// nothing is created outside the sandbox.
func TestRunContainsAttacks(t *testing.T) {
	home := t.TempDir()
	const secret = "atlas-planted-secret-7f3a"
	if err := os.WriteFile(filepath.Join(home, ".secret"), []byte(secret), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("HOME", home)
	t.Setenv("ATLAS_TEST_JOB_SECRET", secret)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var accepted atomic.Int32
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			c.Close()
		}
	}()
	in := t.TempDir()
	out := t.TempDir()
	evil := filepath.Join(out, "created-by-attack")
	inputFile := filepath.Join(in, "attacks.jsonl")
	attacks := []struct {
		name, code, want string
	}{
		{"read a planted secret", "def solve(x):\n    import os\n    return open(os.path.expanduser('~/.secret')).read()\n", "FileNotFoundError"},
		{"read the job's input", fmt.Sprintf("def solve(x):\n    return open(%q).read()\n", inputFile), "FileNotFoundError"},
		{"read the job's environment", "def solve(x):\n    import os\n    return os.environ['ATLAS_TEST_JOB_SECRET']\n", "KeyError"},
		{"connect to 127.0.0.1", fmt.Sprintf("def solve(x):\n    import socket\n    socket.create_connection(('127.0.0.1', %d), timeout=1)\n    return x\n", ln.Addr().(*net.TCPAddr).Port), "Error"},
		{"os.system", fmt.Sprintf("def solve(x):\n    import os\n    os.system('touch %s')\n    return x + 1\n", evil), ""},
		{"write outside the sandbox", fmt.Sprintf("def solve(x):\n    open(%q, 'w').write('x')\n    return x\n", evil), "Error"},
		{"fork bomb", "def solve(x):\n    import os\n    while True:\n        os.fork()\n", "Error"},
		{"memory bomb", "def solve(x):\n    b = bytearray(1 << 40)\n    return x\n", "MemoryError"},
		{"infinite loop", "def solve(x):\n    while True:\n        pass\n", "Timeout"},
		{"infinite loop ignoring SIGALRM", "import signal\nsignal.signal(signal.SIGALRM, signal.SIG_IGN)\ndef solve(x):\n    while True:\n        pass\n", "Timeout"},
		{"close the result pipe and hang", "import os, signal, time\nsignal.signal(signal.SIGALRM, signal.SIG_IGN)\nfor fd in range(3, 256):\n    try:\n        os.close(fd)\n    except OSError:\n        pass\ndef solve(x):\n    time.sleep(3600)\n", "Crashed"},
		{"huge write", "def solve(x):\n    with open('big', 'wb') as f:\n        while True:\n            f.write(b'x' * (1 << 20))\n", "Error"},
	}
	var lines []byte
	for i, a := range attacks {
		tr := columnar.Trajectory{SchemaVersion: columnar.SchemaVersion, TrajectoryID: fmt.Sprintf("attack-%02d", i),
			Task:    columnar.Task{ID: "add-one", Description: "add one", Input: `{"examples": [{"input": 1, "output": 2}, {"input": 5, "output": 6}]}`},
			Steps:   []columnar.Step{{Index: 0, ActionType: "edit", Action: "write_code", Code: a.code}, {Index: 1, ActionType: "test", Action: "run_tests"}},
			Outcome: columnar.Outcome{Success: true}, Solution: columnar.Solution{Code: a.code, Language: "python"}}
		b, _ := json.Marshal(tr)
		lines = append(append(lines, b...), '\n')
	}
	// And one honest trajectory, which must still be analysed normally.
	good := columnar.Trajectory{SchemaVersion: columnar.SchemaVersion, TrajectoryID: "honest",
		Task:    columnar.Task{ID: "add-one", Input: `{"examples": [{"input": 1, "output": 2}]}`},
		Steps:   []columnar.Step{{Index: 0, ActionType: "edit", Action: "write_code", Code: "def solve(x):\n    return x + 1\n"}, {Index: 1, ActionType: "test", Action: "run_tests"}},
		Outcome: columnar.Outcome{Success: true}}
	b, _ := json.Marshal(good)
	lines = append(append(lines, b...), '\n')
	if err := os.WriteFile(inputFile, lines, 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := config(t, in, out)
	cfg.Stages = []string{"trajectories", "analysis"}
	cfg.Analysis.Credit = "counterfactual"
	cfg.Analysis.ReplayTimeout = time.Second
	cfg.Sandbox.MaxMemoryMiB = 512
	var logs strings.Builder
	res, err := jobs.Run(context.Background(), cfg, slogTo(&logs))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Manifest.Warnings) != 0 {
		t.Fatalf("warnings: %v", res.Manifest.Warnings)
	}
	rows := readAnalysis(t, filepath.Join(out, res.RunDir))
	byID := map[string]string{}
	for _, r := range rows {
		byID[r.TrajectoryID] = r.Method + " | " + r.Fallback
	}
	for i, a := range attacks {
		got := byID[fmt.Sprintf("attack-%02d", i)]
		if a.want == "" {
			// os.system runs nothing (there is no shell in the sandbox):
			// the program's answer is right and it is analysed normally.
			if got != "counterfactual | " {
				t.Errorf("%s: row says %q", a.name, got)
			}
			continue
		}
		if !strings.Contains(got, "simple | counterfactual: not replayable") || !strings.Contains(got, a.want) {
			t.Errorf("%s: row says %q, want a fallback naming %q", a.name, got, a.want)
		} else {
			t.Logf("%-28s %s", a.name, got)
		}
	}
	if got := byID["honest"]; got != "counterfactual | " {
		t.Errorf("the honest trajectory: %q", got)
	}
	if n := accepted.Load(); n != 0 {
		t.Errorf("the listener accepted %d connections", n)
	}
	if _, err := os.Stat(evil); !os.IsNotExist(err) {
		t.Errorf("an attack created %s", evil)
	}
	if strings.Contains(logs.String(), secret) {
		t.Error("the secret is in the logs")
	}
	for p, data := range dataFiles(t, out) {
		if strings.Contains(string(data), secret) {
			t.Errorf("the secret is in %s", p)
		}
	}
}

func slogTo(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// Where no sandbox can be made, the run refuses to run trajectory code,
// naming the key that would allow it; with the key set it runs with
// resource limits only and says so first.
func TestRunRequiresIsolation(t *testing.T) {
	in := genInput(t, 20, 31)
	out := t.TempDir()
	cfg := config(t, in, out)
	cfg.Stages = []string{"trajectories", "analysis"}
	cfg.Analysis.Credit = "counterfactual"
	cfg.Sandbox.Bwrap = "/nonexistent/bwrap"
	_, err := jobs.Run(context.Background(), cfg, quiet())
	if err == nil || !strings.Contains(err.Error(), "sandbox.require_isolation") || !strings.Contains(err.Error(), "nothing committed") {
		t.Fatalf("without bubblewrap: %v", err)
	}
	cfg.Sandbox.RequireIsolation = false
	res, err := jobs.Run(context.Background(), cfg, quiet())
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Manifest.Warnings) != 1 || !strings.Contains(res.Manifest.Warnings[0], "WITHOUT isolation") {
		t.Fatalf("warnings %v", res.Manifest.Warnings)
	}
	if d := res.Manifest.Dataset(jobs.AnalysisDataset); d == nil || d.Rows != 20 {
		t.Fatalf("analysis %+v", d)
	}
}
