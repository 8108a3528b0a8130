package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/atlas-ai/atlas-learn/internal/shareddata"
)

// runIO runs the CLI with stdin and returns stdout and stderr apart.
func runIO(t *testing.T, stdin string, args ...string) (string, string, error) {
	t.Helper()
	cmd := newRootCmd()
	var out, errb bytes.Buffer
	cmd.SetIn(strings.NewReader(stdin))
	cmd.SetOut(&out)
	cmd.SetErr(&errb)
	cmd.SetArgs(args)
	err := cmd.ExecuteContext(context.Background())
	return out.String(), errb.String(), err
}

func TestPatternsCLI(t *testing.T) {
	dir := t.TempDir()
	a := filepath.Join(dir, "a.txt")
	os.WriteFile(a, []byte("KeyError: 'x'\nConnection reset by peer\nKeyError: 'y'\n"), 0o644)
	stdin := "\nKeyError: 'z'\r\n"
	out, _, err := runIO(t, stdin, "patterns", a, "-")
	if err != nil {
		t.Fatal(err)
	}
	want := "1\tKeyError: '<*>'\n2\tConnection reset by peer\n1\tKeyError: '<*>'\n3\t\n1\tKeyError: '<*>'\n"
	if out != want {
		t.Errorf("patterns printed\n%q\nwant\n%q", out, want)
	}

	out, _, err = runIO(t, stdin, "patterns", "--json", a, "-")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Templates []struct {
			ID       int    `json:"id"`
			Template string `json:"template"`
			Count    int    `json:"count"`
			First    int    `json:"first"`
			Last     int    `json:"last"`
			Examples []int  `json:"examples"`
		} `json:"templates"`
		Assignments []int `json:"assignments"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("--json printed %q: %v", out, err)
	}
	if !strings.Contains(out, `"KeyError: '<*>'"`) {
		t.Errorf("--json escapes the templates: %q", out)
	}
	if strings.Count(strings.TrimSpace(out), "\n") != 0 {
		t.Errorf("--json: want one line, got %q", out)
	}
	if len(doc.Templates) != 3 || doc.Templates[0].Template != "KeyError: '<*>'" || doc.Templates[0].Count != 3 ||
		doc.Templates[0].Last != 4 || len(doc.Templates[0].Examples) != 3 {
		t.Errorf("templates %+v", doc.Templates)
	}
	if got := doc.Assignments; len(got) != 5 || got[0] != 1 || got[1] != 2 || got[3] != 3 || got[4] != 1 {
		t.Errorf("assignments %v", got)
	}

	// options reach the miner: no split keeps two words as a variable
	out, _, err = runIO(t, "cupsd startup ok\ncupsd shutdown ok\n", "patterns", "--min-distinct", "0", "--depth", "1", "-")
	if err != nil || out != "1\tcupsd <*> ok\n1\tcupsd <*> ok\n" {
		t.Errorf("--min-distinct 0: %q, %v", out, err)
	}

	// errors name the file, or the setting
	if _, _, err := runIO(t, "", "patterns", filepath.Join(dir, "missing.txt")); err == nil || !strings.Contains(err.Error(), "missing.txt") {
		t.Errorf("missing file: %v", err)
	}
	if _, _, err := runIO(t, "", "patterns", "--sim-threshold", "2", a); err == nil || !strings.Contains(err.Error(), "sim_threshold") {
		t.Errorf("bad option: %v", err)
	}
	if _, _, err := runIO(t, "", "patterns"); err == nil {
		t.Error("no FILE: want an error")
	}
}

// TestBenchPatternsCLI runs the benchmark on the shared Loghub data without
// Drain3 (its virtual environment is the benchmark's business, not the
// tests').
func TestBenchPatternsCLI(t *testing.T) {
	data := filepath.Join(shareddata.Dir(t), "loghub")
	out, _, err := runIO(t, "", "bench", "patterns", "--data", data, "--no-drain3")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Proxifier", "OpenSSH", "mean", "Drain3 not run"} {
		if !strings.Contains(out, want) {
			t.Errorf("bench patterns output lacks %q:\n%s", want, out)
		}
	}
}
