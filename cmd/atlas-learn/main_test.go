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
		{[]string{"import", "--from", "openai-chat", "--map", "nebius", "--output", filepath.Join(dir, "o"), cfgFile}, "--map nebius: only --from parquet"},
		{[]string{"import", "--from", "parquet", "--map", "nosuch", "--output", filepath.Join(dir, "o"), cfgFile}, `parquet mapping "nosuch"`},
		{[]string{"inspect", "s3://"}, "no bucket"},
		{[]string{"compress", "--set", "no.such.key=1", "--out", filepath.Join(dir, "r.json"), "x.json"}, `unknown configuration key "no.such.key"`},
		{[]string{"compress", "map", "--set", "concepts.cost.app=x", "--summary", filepath.Join(dir, "s.json"), "x.json"}, "concepts.cost.app: want an integer"},
		{[]string{"compress", "reduce", "--set", "concepts.max_arity=99", "--out", filepath.Join(dir, "l.json"), "s.json"}, "concepts.max_arity"},
		{[]string{"bench", "compress", "--set", "parquet.zstd_level=9"}, "zstd_level"},
		{[]string{"compress", "--max-arity", "-1", "--out", filepath.Join(dir, "r.json"), "x.json"}, "concepts.max_arity"},
		{[]string{"run", "--stages", "trajectories,nosuch"}, `unknown stage "nosuch"`},
		{[]string{"run", "--stages", "concepts"}, "concepts needs trajectories"},
		{[]string{"config", "--set", "workers=many"}, "workers: want an integer"},
	}
	for _, tc := range cases {
		_, err := run(t, tc.args...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: err = %v; want %q", tc.args, err, tc.want)
		}
	}
}

// A bad environment value is an error naming the variable, for every
// command (it used to drop the S3 settings silently for compress).
func TestCLIBadEnvironment(t *testing.T) {
	t.Setenv("ATLAS_S3_PATH_STYLE", "yes")
	for _, args := range [][]string{
		{"run"},
		{"compress", "--out", filepath.Join(t.TempDir(), "r.json"), "x.json"},
		{"compress", "map", "--summary", "s.json", "x.json"},
		{"compress", "reduce", "--out", "l.json", "s.json"},
		{"bench", "compress"},
		{"config"},
	} {
		_, err := run(t, args...)
		if err == nil || !strings.Contains(err.Error(), "ATLAS_S3_PATH_STYLE") {
			t.Errorf("%v: err = %v; want it to name ATLAS_S3_PATH_STYLE", args, err)
		}
	}
}

// Every key is declared once: each has a derived environment variable
// that sets it, and `config keys` lists it.
func TestCLIConfigKeys(t *testing.T) {
	out, err := run(t, "config", "keys")
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"s3.path_style\tATLAS_S3_PATH_STYLE", "concepts.max_arity", "ATLAS_CONCEPTS_COST_PRIM_DEFAULT", "stages"} {
		if !strings.Contains(strings.ReplaceAll(out, "  ", "\t"), strings.Split(k, "\t")[0]) {
			t.Errorf("config keys lacks %q:\n%s", k, out)
		}
	}
	t.Setenv("ATLAS_CONCEPTS_MAX_ARITY", "3")
	out, err = run(t, "config", "--set", "concepts.iterations=4")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "max_arity: 3") || !strings.Contains(out, "iterations: 4") {
		t.Fatalf("config did not apply the environment and --set:\n%s", out)
	}
}

// bench run prints the bare scan beside the run's stages, from one run.
func TestCLIBenchRun(t *testing.T) {
	dir := t.TempDir()
	gen := filepath.Join(dir, "gen")
	if _, err := run(t, "gen", "--n", "300", "--seed", "3", "--output", gen); err != nil {
		t.Fatal(err)
	}
	out, err := run(t, "bench", "run", "--input", gen, "--output", filepath.Join(dir, "out"), "--workers", "2")
	if err != nil {
		t.Fatalf("bench run: %v\n%s", err, out)
	}
	for _, want := range []string{"bare scan (", "stream (trajectories, analysis, experience)", "concepts", "sft", "memory", "stream / bare scan: ", "trajectories: 300 read, 0 skipped; peak RSS "} {
		if !strings.Contains(out, want) {
			t.Errorf("bench run output lacks %q:\n%s", want, out)
		}
	}
	// Again on the same output: the memory has seen the input.
	if out, err := run(t, "bench", "run", "--input", gen, "--output", filepath.Join(dir, "out")); err == nil || !strings.Contains(err.Error(), "fresh --output") {
		t.Fatalf("bench run over a memory that has seen the input: %v\n%s", err, out)
	}
}
