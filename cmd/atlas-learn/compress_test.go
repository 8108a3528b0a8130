package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"github.com/atlas-ai/atlas-learn/internal/shareddata"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/atlas-ai/atlas-learn/columnar/storage"
	"github.com/atlas-ai/atlas-learn/internal/s3test"
	"github.com/atlas-ai/atlas-learn/jobs"
)

func runCLI(t *testing.T, args ...string) {
	t.Helper()
	root := newRootCmd()
	root.SetArgs(args)
	root.SetOut(io.Discard)
	root.SetErr(io.Discard)
	if err := root.ExecuteContext(context.Background()); err != nil {
		t.Fatalf("atlas-learn %v: %v", args, err)
	}
}

func readJSON(t *testing.T, path string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestCompressCLI checks the RESULT.json contract and its determinism.
func TestCompressCLI(t *testing.T) {
	input := filepath.Join(shareddata.Dir(t), "stitch", "cogsci", "nuts-bolts.json")
	dir := t.TempDir()
	var docs []map[string]any
	for i, workers := range []string{"1", "3"} {
		out := filepath.Join(dir, fmt.Sprintf("r%d.json", i))
		runCLI(t, "compress", "--format", "stitch", "--iterations", "3", "--max-arity", "3", "--workers", workers,
			"--holdout", "0.2", "--seed", "5", "--out", out, input)
		docs = append(docs, readJSON(t, out))
	}
	d := docs[0]
	for _, k := range []string{"original_cost", "final_cost", "compression_ratio", "elapsed_ms", "peak_rss_bytes", "abstractions", "rewritten", "holdout_compression_ratio"} {
		if _, ok := d[k]; !ok {
			t.Errorf("RESULT.json lacks %q", k)
		}
	}
	if d["peak_rss_bytes"].(float64) <= 0 {
		t.Error("peak_rss_bytes not measured")
	}
	abs := d["abstractions"].([]any)
	if len(abs) != 3 {
		t.Fatalf("%d abstractions", len(abs))
	}
	for _, k := range []string{"name", "body", "arity", "utility", "uses", "compression_ratio"} {
		if _, ok := abs[0].(map[string]any)[k]; !ok {
			t.Errorf("abstraction lacks %q", k)
		}
	}
	if r := d["holdout_compression_ratio"].(float64); r < 2 {
		t.Errorf("held-out ratio %.2f", r)
	}
	for _, doc := range docs {
		delete(doc, "elapsed_ms")
		delete(doc, "peak_rss_bytes")
	}
	a, _ := json.Marshal(docs[0])
	b, _ := json.Marshal(docs[1])
	if !bytes.Equal(a, b) {
		t.Error("RESULT.json differs between 1 and 3 workers")
	}
}

// TestCompressCLILibrary: a nightly run extends yesterday's library.
func TestCompressCLILibrary(t *testing.T) {
	input := filepath.Join(shareddata.Dir(t), "stitch", "cogsci", "nuts-bolts.json")
	dir := t.TempDir()
	first, second := filepath.Join(dir, "1.json"), filepath.Join(dir, "2.json")
	runCLI(t, "compress", "--iterations", "2", "--max-arity", "3", "--out", first, input)
	runCLI(t, "compress", "--iterations", "2", "--max-arity", "3", "--library", first, "--out", second, input)
	d := readJSON(t, second)
	abs := d["abstractions"].([]any)
	if len(abs) != 4 || abs[3].(map[string]any)["name"] != "fn_3" {
		t.Fatalf("library not extended: %v", abs)
	}
	if d["final_cost"].(float64) >= readJSON(t, first)["final_cost"].(float64) {
		t.Error("extending the library did not compress further")
	}
}

// TestCompressCLIMapReduce drives the file protocol with separate command
// invocations and compares with a single compress run.
func TestCompressCLIMapReduce(t *testing.T) {
	dir := t.TempDir()
	mapReduce(t, func(name string) string { return filepath.Join(dir, name) }, func(uri string, data []byte) {
		if err := os.WriteFile(uri, data, 0o644); err != nil {
			t.Fatal(err)
		}
	})
}

// TestCompressCLIMapReduceS3 runs the protocol through object storage, as
// separate machines would: shards, summaries and the library live in a
// bucket of a real S3 server.
func TestCompressCLIMapReduceS3(t *testing.T) {
	srv := s3test.Start(t)
	srv.CreateBucket(t, "lib")
	t.Setenv("ATLAS_S3_ENDPOINT", srv.Endpoint)
	t.Setenv("ATLAS_S3_PATH_STYLE", "true")
	mapReduce(t, func(name string) string { return "s3://lib/job/" + name }, func(uri string, data []byte) {
		if err := storage.WriteObject(context.Background(), uri, data, storage.S3Config{Endpoint: srv.Endpoint, PathStyle: true}); err != nil {
			t.Fatal(err)
		}
	})
}

// mapReduce learns three abstractions of nuts-bolts in three shards with
// the map and reduce commands, the files named by at and written by put,
// and checks them against a single compress run.
func mapReduce(t *testing.T, at func(name string) string, put func(uri string, data []byte)) {
	input := filepath.Join(shareddata.Dir(t), "stitch", "cogsci", "nuts-bolts.json")
	b, err := os.ReadFile(input)
	if err != nil {
		t.Fatal(err)
	}
	var progs []string
	if err := json.Unmarshal(b, &progs); err != nil {
		t.Fatal(err)
	}
	cuts := []int{0, 100, 180, len(progs)}
	for i := range 3 {
		sb, _ := json.Marshal(progs[cuts[i]:cuts[i+1]])
		put(at(fmt.Sprintf("shard%d.json", i)), sb)
	}
	lib := at("lib.json")
	for it := range 3 {
		var sums []string
		for i := range 3 {
			args := []string{"compress", "map", "--shard", fmt.Sprint(i), "--first-index", fmt.Sprint(cuts[i]),
				"--summary", at(fmt.Sprintf("sum%d.json", i))}
			if it > 0 {
				args = append(args, "--library", lib)
			}
			runCLI(t, append(args, at(fmt.Sprintf("shard%d.json", i)))...)
			sums = append(sums, at(fmt.Sprintf("sum%d.json", i)))
		}
		args := []string{"compress", "reduce", "--max-arity", "3", "--out", lib}
		if it > 0 {
			args = append(args, "--library", lib)
		}
		runCLI(t, append(args, sums...)...)
	}
	ref := filepath.Join(t.TempDir(), "ref.json")
	runCLI(t, "compress", "--iterations", "3", "--max-arity", "3", "--out", ref, input)
	envCfg, err := jobs.LoadConfig("", os.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	libData, err := storage.ReadObject(context.Background(), lib, envCfg.S3)
	if err != nil {
		t.Fatal(err)
	}
	var gotLib map[string]any
	if err := json.Unmarshal(libData, &gotLib); err != nil {
		t.Fatal(err)
	}
	got, want := gotLib["abstractions"].([]any), readJSON(t, ref)["abstractions"].([]any)
	if len(got) != len(want) {
		t.Fatalf("map/reduce learned %d abstractions, compress %d", len(got), len(want))
	}
	for i := range want {
		g, w := got[i].(map[string]any), want[i].(map[string]any)
		if g["body"] != w["body"] || g["utility"] != w["utility"] || g["name"] != w["name"] {
			t.Errorf("iteration %d: map/reduce %v, compress %v", i, g["body"], w["body"])
		}
	}
}

// TestCompressCLIPython runs the python format end to end.
func TestCompressCLIPython(t *testing.T) {
	dir := t.TempDir()
	srcs := map[string]string{
		"a.py": "def area(w, h):\n    return w * h\n\nprint(area(2, 3))\nprint(area(4, 5))\n",
		"b.py": "def area(w, h):\n    return w * h\n\nprint(area(6, 7))\n",
		"c.py": "def perimeter(w, h):\n    return 2 * (w + h)\n\nprint(perimeter(6, 7))\n",
	}
	for name, src := range srcs {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out := filepath.Join(dir, "r.json")
	runCLI(t, "compress", "--format", "python", "--iterations", "2", "--max-arity", "2", "--out", out, dir)
	d := readJSON(t, out)
	if d["programs"].(float64) != 3 {
		t.Fatalf("%v programs, want 3", d["programs"])
	}
	py, ok := d["python"].(map[string]any)
	if !ok {
		t.Fatal("no python rendering")
	}
	if rw := py["rewritten"].([]any); len(rw) != 3 {
		t.Fatalf("%d python programs", len(rw))
	}
	if d["compression_ratio"].(float64) <= 1 {
		t.Errorf("compression ratio %v", d["compression_ratio"])
	}
}
