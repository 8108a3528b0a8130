package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func run(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := newRootCmd()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs(append(args, "--log-level", "error"))
	err := cmd.ExecuteContext(context.Background())
	return out.String(), err
}

func TestCLIGenRunInspect(t *testing.T) {
	dir := t.TempDir()
	gen := filepath.Join(dir, "gen")
	if _, err := run(t, "gen", "--n", "500", "--seed", "3", "--output", gen); err != nil {
		t.Fatal(err)
	}
	out, err := run(t, "inspect", "--json", gen)
	if err != nil {
		t.Fatal(err)
	}
	var in map[string]any
	if err := json.Unmarshal([]byte(out), &in); err != nil {
		t.Fatalf("inspect --json printed %q: %v", out, err)
	}
	for _, k := range []string{"schema_version", "partitions", "rows", "successes"} {
		if _, ok := in[k]; !ok {
			t.Errorf("inspect --json lacks %q", k)
		}
	}
	if in["rows"].(float64) != 500 || in["schema_version"].(float64) != 1 {
		t.Fatalf("inspect = %v", in)
	}
	out, err = run(t, "run", "--input", gen, "--output", filepath.Join(dir, "out"), "--workers", "2")
	if err != nil || !strings.Contains(out, "500 trajectories read") {
		t.Fatalf("run: %q, %v", out, err)
	}
}

func TestCLIErrors(t *testing.T) {
	dir := t.TempDir()
	cfgFile := filepath.Join(dir, "bad.yaml")
	os.WriteFile(cfgFile, []byte("workers: 2\nnot_a_key: 1\n"), 0o644)
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"run", "--config", cfgFile}, "not_a_key"},
		{[]string{"run", "--on-error", "maybe"}, "on_error"},
		{[]string{"run", "--set", "nokey=1"}, "unknown configuration key"},
		{[]string{"run", "--input", filepath.Join(dir, "missing"), "--output", filepath.Join(dir, "o")}, "no such file or directory"},
		{[]string{"run", "--input", dir, "--output", filepath.Join(dir, "o")}, "no .parquet or .jsonl files"},
		{[]string{"import", "--from", "swe-agent", "--output", dir}, "requires at least 1 arg"},
		{[]string{"inspect", "s3://"}, "no bucket"},
	}
	for _, tc := range cases {
		_, err := run(t, tc.args...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: err = %v; want %q", tc.args, err, tc.want)
		}
	}
}
