package jobs_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/atlas-ai/atlas-learn/columnar"
	"github.com/atlas-ai/atlas-learn/internal/pyread"
	"github.com/atlas-ai/atlas-learn/internal/shareddata"
	"github.com/atlas-ai/atlas-learn/internal/trajgen"
	"github.com/atlas-ai/atlas-learn/jobs"
)

// filesUnder lists the files under dir whose names end in ext.
func filesUnder(t *testing.T, dir, ext string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ext) {
			out = append(out, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func glob(t *testing.T, pattern string) []string {
	t.Helper()
	files, _ := filepath.Glob(pattern)
	if len(files) == 0 {
		t.Fatalf("no files match %s", pattern)
	}
	return files
}

// writeNativeJSONL writes n trajectories of the native JSONL form to a file
// and returns its path.
func writeNativeJSONL(t *testing.T, n int) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "native.jsonl")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := columnar.NewJSONLWriter[columnar.Trajectory](f)
	for i := 0; i < n; i++ {
		if err := w.Write([]columnar.Trajectory{traj(i)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestOutputsReadable runs every command that writes trajectories — import
// from each format, gen and run — and reads every Parquet file it wrote with
// pyarrow and DuckDB. (Native trajectories without extra once gave an empty
// string in the JSON column, which DuckDB rejects.)
func TestOutputsReadable(t *testing.T) {
	data := shareddata.Dir(t)
	cfg := config(t, "unused", "unused")
	type output struct {
		name string
		run  func(out string) error
	}
	var cases []output
	for _, imp := range []struct {
		format string
		files  func() []string
	}{
		{"swe-agent", func() []string { return glob(t, filepath.Join(data, "trajectories/swe-agent/*.traj")) }},
		{"mini-swe-agent", func() []string { return glob(t, filepath.Join(data, "trajectories/mini-swe-agent*/*.traj.json")) }},
		{"openai-chat", func() []string { return glob(t, "../columnar/importer/testdata/chat_sample.jsonl") }},
		{jobs.NativeJSONL, func() []string { return []string{writeNativeJSONL(t, 50)} }},
	} {
		cases = append(cases, output{"import " + imp.format, func(out string) error {
			_, err := jobs.Import(context.Background(), jobs.ImportOptions{Format: imp.format, Files: imp.files(), Output: out, OnError: columnar.OnErrorFail, Parquet: cfg.Parquet}, quiet())
			return err
		}})
	}
	cases = append(cases, output{"gen", func(out string) error {
		gc := trajgen.DefaultConfig()
		gc.N = 300
		_, err := jobs.Gen(context.Background(), jobs.GenOptions{Gen: gc, Output: out, Workers: 2, Parquet: cfg.Parquet}, quiet())
		return err
	}})
	cases = append(cases, output{"run", func(out string) error {
		_, err := jobs.Run(context.Background(), config(t, writeNativeJSONL(t, 50), out), quiet())
		return err
	}})
	cases = append(cases, output{"run sft", func(out string) error {
		c := config(t, writeNativeJSONL(t, 50), out)
		c.Stages = []string{"trajectories", "analysis", "sft"}
		_, err := jobs.Run(context.Background(), c, quiet())
		return err
	}})

	root := t.TempDir() // outlives the subtests, for the check at the end
	var files []string
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(root, fmt.Sprint(i))
			if err := tc.run(out); err != nil {
				t.Fatal(err)
			}
			got := filesUnder(t, out, ".parquet")
			if len(got) == 0 {
				t.Fatal("no Parquet file written")
			}
			files = append(files, got...)
		})
	}
	pyread.Check(t, files...)
}

// TestImportInvalidUTF8 imports sources with invalid UTF-8 — a SWE-agent
// file re-encoded in Latin-1 beside a clean one, and native JSONL with
// invalid bytes in mapped fields and extra — and checks the count in the
// manifest, the marker on each trajectory, and that both the Parquet files
// and their JSONL copies are valid UTF-8 that pyarrow and DuckDB read.
func TestImportInvalidUTF8(t *testing.T) {
	data := shareddata.Dir(t)
	cfg := config(t, "unused", "unused")
	cfg.Parquet.JSONL = true
	dir := t.TempDir()
	clean := filepath.Join(data, "trajectories/swe-agent/function_calling_simple.traj")
	src, err := os.ReadFile(clean)
	if err != nil {
		t.Fatal(err)
	}
	latin1 := filepath.Join(dir, "latin1.traj")
	if err := os.WriteFile(latin1, bytes.ReplaceAll(src, []byte("the "), []byte("th\xe9 ")), 0o644); err != nil {
		t.Fatal(err)
	}
	native := filepath.Join(dir, "native.jsonl")
	line := "{\"schema_version\":1,\"trajectory_id\":\"bad-%d\",\"task\":{\"id\":\"x\",\"description\":\"caf\xe9\",\"domain\":\"d\"},\"agent\":{\"name\":\"a\",\"model\":\"m\"},\"steps\":[{\"index\":0,\"observation\":\"\xff\xfe\",\"is_error\":false,\"reward\":0}],\"outcome\":{\"success\":false,\"reward\":0},\"solution\":{},\"created_at\":\"2026-01-01T00:00:00Z\",\"extra\":{\"raw\":\"\xfe\\ud800\"}}\n"
	if err := os.WriteFile(native, []byte(fmt.Sprintf(line, 1)+fmt.Sprintf(line, 2)), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, format string
		files        []string
		want         int64
		perTraj      map[string]int
	}{
		{"swe-agent Latin-1", "swe-agent", []string{clean, latin1}, int64(bytes.Count(src, []byte("the "))),
			map[string]int{"function_calling_simple": 0, "latin1": bytes.Count(src, []byte("the "))}},
		{"native JSONL", jobs.NativeJSONL, []string{native}, 10, map[string]int{"bad-1": 5, "bad-2": 5}},
	}
	root := t.TempDir() // outlives the subtests, for the check at the end
	var files []string
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(root, fmt.Sprint(i))
			m, err := jobs.Import(context.Background(), jobs.ImportOptions{Format: tc.format, Files: tc.files, Output: out, OnError: columnar.OnErrorFail, Parquet: cfg.Parquet}, quiet())
			if err != nil {
				t.Fatal(err)
			}
			if got := m.Counters["utf8_replacements"]; got != tc.want {
				t.Errorf("manifest utf8_replacements = %d, want %d", got, tc.want)
			}
			pq := filesUnder(t, out, ".parquet")
			files = append(files, pq...)
			jl := filesUnder(t, out, ".jsonl")
			if len(pq) == 0 || len(jl) == 0 {
				t.Fatalf("files: %v %v", pq, jl)
			}
			seen := map[string]int{}
			for _, p := range jl {
				b, err := os.ReadFile(p)
				if err != nil {
					t.Fatal(err)
				}
				if !utf8.Valid(b) {
					t.Errorf("%s is not UTF-8", p)
				}
				err = columnar.ReadJSONL(context.Background(), bytes.NewReader(b), p, columnar.OnErrorFail, nil, func(tr *columnar.Trajectory, _ int64) error {
					key := tr.TrajectoryID // native rows; imported ones by source file stem (their ids add a hash)
					if n := tr.Metadata["source_name"]; n != "" {
						key = n
					}
					seen[key] = tr.UTF8Replacements()
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
			}
			for id, n := range tc.perTraj {
				if got, ok := seen[id]; !ok || got != n {
					t.Errorf("trajectory %s: marker %d (present %v), want %d", id, got, ok, n)
				}
			}
		})
	}
	pyread.Check(t, files...)
}

// TestImportSizePerFile imports the SWE-agent files one at a time and all
// together. Whole-value statistics once made each one-trajectory file
// several times the size of its input (1.5 MB of files gave 7.1 MB one at a
// time, 325 KB together); what is left per file is Parquet's fixed metadata.
func TestImportSizePerFile(t *testing.T) {
	data := shareddata.Dir(t)
	cfg := config(t, "unused", "unused")
	files := glob(t, filepath.Join(data, "trajectories/swe-agent/*.traj"))
	size := func(paths []string) int64 {
		var n int64
		for _, p := range paths {
			st, err := os.Stat(p)
			if err != nil {
				t.Fatal(err)
			}
			n += st.Size()
		}
		return n
	}
	imp := func(files []string) int64 {
		out := t.TempDir()
		if _, err := jobs.Import(context.Background(), jobs.ImportOptions{Format: "swe-agent", Files: files, Output: out, OnError: columnar.OnErrorFail, Parquet: cfg.Parquet}, quiet()); err != nil {
			t.Fatal(err)
		}
		return size(filesUnder(t, out, ".parquet"))
	}
	var oneByOne int64
	for _, f := range files {
		in, got := size([]string{f}), imp([]string{f})
		if limit := in/2 + 12<<10; got > limit {
			t.Errorf("%s: %d bytes of Parquet for %d of input, want at most %d", filepath.Base(f), got, in, limit)
		}
		oneByOne += got
	}
	in, together := size(files), imp(files)
	t.Logf("input %d bytes; Parquet one at a time %d, together %d", in, oneByOne, together)
	if oneByOne > in*2/5 {
		t.Errorf("one file at a time: %d bytes of Parquet for %d of input, want at most 40%%", oneByOne, in)
	}
	if together > in*3/20 {
		t.Errorf("together: %d bytes of Parquet for %d of input, want at most 15%%", together, in)
	}
}

// largeSWEAgent writes a copy of a real SWE-agent file whose observations
// (in its trajectory and its history alike) are padded to make the file
// about size bytes, like a run that printed large logs.
func largeSWEAgent(t *testing.T, src string, size int) string {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	steps, _ := doc["trajectory"].([]any)
	if len(steps) == 0 {
		t.Fatalf("%s has no trajectory", src)
	}
	per := size / (2 * len(steps))
	pad := func(i int) string {
		var b strings.Builder
		for j := 0; b.Len() < per; j++ {
			fmt.Fprintf(&b, "step %d line %d: collected 17 items / 3 errors, test_%x.py::test_case_%d FAILED\n", i, j, j*7919, j%97)
		}
		return b.String()
	}
	for i, s := range steps {
		m := s.(map[string]any)
		m["observation"] = fmt.Sprint(m["observation"]) + pad(i)
	}
	// The history holds the same outputs as user messages after the first
	// (the task).
	history, _ := doc["history"].([]any)
	seen := 0
	for _, h := range history {
		m, _ := h.(map[string]any)
		if m["role"] != "user" {
			continue
		}
		if seen++; seen > 1 && seen <= len(steps)+1 {
			m["content"] = fmt.Sprint(m["content"]) + pad(seen-2)
		}
	}
	out, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), fmt.Sprintf("large_%d.traj", size>>20))
	if err := os.WriteFile(p, out, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestImportLargeSWEAgent imports SWE-agent files of many megabytes, alone
// and batched with small ones into one part file: once such a file gave
// Parquet that pyarrow rejected ("Deserializing page header failed"), four
// times the input's size.
func TestImportLargeSWEAgent(t *testing.T) {
	data := shareddata.Dir(t)
	cfg := config(t, "unused", "unused")
	dir := filepath.Join(data, "trajectories/swe-agent")
	small := []string{filepath.Join(dir, "function_calling_simple.traj"), filepath.Join(dir, "ctf__pwn__warmup.traj")}
	cases := []struct {
		name  string
		files []string
	}{
		{"12 MB alone", []string{largeSWEAgent(t, filepath.Join(dir, "ctf__rev__rock.traj"), 12<<20)}},
		{"20 MB between two small files", []string{small[0], largeSWEAgent(t, filepath.Join(dir, "ctf__crypto__eps.traj"), 20<<20), small[1]}},
	}
	root := t.TempDir()
	var files []string
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(root, fmt.Sprint(i))
			m, err := jobs.Import(context.Background(), jobs.ImportOptions{Format: "swe-agent", Files: tc.files, Output: out, OnError: columnar.OnErrorFail, Parquet: cfg.Parquet}, quiet())
			if err != nil {
				t.Fatal(err)
			}
			if m.Counters["rows_imported"] != int64(len(tc.files)) {
				t.Fatalf("imported %d of %d", m.Counters["rows_imported"], len(tc.files))
			}
			var in int64
			for _, f := range tc.files {
				st, _ := os.Stat(f)
				in += st.Size()
			}
			pq := filesUnder(t, out, ".parquet")
			var got int64
			for _, p := range pq {
				st, _ := os.Stat(p)
				got += st.Size()
			}
			t.Logf("%d bytes of input, %d of Parquet", in, got)
			if got > in {
				t.Errorf("%d bytes of Parquet for %d of input", got, in)
			}
			files = append(files, pq...)
		})
	}
	pyread.Check(t, files...)
}
