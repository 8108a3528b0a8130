package jobs_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/parquet-go/parquet-go"

	"github.com/atlas-ai/atlas-learn/columnar"
	"github.com/atlas-ai/atlas-learn/columnar/storage"
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
	testdata := "../columnar/importer/testdata/"
	every := func() []string {
		return append(append(append(append(glob(t, filepath.Join(data, "trajectories/*/*.traj")),
			glob(t, filepath.Join(data, "trajectories/*/*.traj.json"))...),
			glob(t, filepath.Join(data, "trajectories/openhands/*.json"))...),
			testdata+"atif_sample.json", testdata+"chat_sample.jsonl", testdata+"chat_textcalls.jsonl", testdata+"openhands_output.jsonl"),
			smithParquet(t, 20), writeNativeJSONL(t, 5))
	}
	// One case per importer, over every file of its format we hold (the
	// shared real files and the samples in testdata), and auto over all of
	// them at once.
	for _, imp := range []struct {
		format string
		files  func() []string
	}{
		{"swe-agent", func() []string { return glob(t, filepath.Join(data, "trajectories/swe-agent/*.traj")) }},
		{"mini-swe-agent", func() []string {
			samples := slices.DeleteFunc(glob(t, testdata+"mini_*.traj.json"), func(p string) bool { return strings.Contains(p, "truncated") }) // that one is broken on purpose
			return append(glob(t, filepath.Join(data, "trajectories/mini-swe-agent*/*.traj.json")), samples...)
		}},
		{"openai-chat", func() []string { return []string{testdata + "chat_sample.jsonl", testdata + "chat_textcalls.jsonl"} }},
		{"openhands", func() []string {
			return append(glob(t, filepath.Join(data, "trajectories/openhands/*.json")), testdata+"openhands_output.jsonl")
		}},
		{"atif", func() []string { return []string{testdata + "atif_sample.json", atifExport(t)} }},
		{"parquet", func() []string { return []string{smithParquet(t, 200)} }},
		{jobs.NativeJSONL, func() []string { return []string{writeNativeJSONL(t, 50)} }},
		{"auto", every},
	} {
		cases = append(cases, output{"import " + imp.format, func(out string) error {
			opts := jobs.ImportOptions{Format: imp.format, Files: imp.files(), Output: out, OnError: columnar.OnErrorFail, Parquet: cfg.Parquet}
			if imp.format == "openhands" || imp.format == "auto" {
				opts.OnError = columnar.OnErrorSkip // openhands_output.jsonl holds a record without history on purpose
			}
			if imp.format == "parquet" || imp.format == "auto" {
				opts.Map = "swe-smith"
			}
			_, err := jobs.Import(context.Background(), opts, quiet())
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
		// A foreign Parquet file whose strings are not UTF-8: in a mapped
		// message (2 bytes), in the patch (1) and in an unmapped column
		// kept in extra (1).
		{"foreign Parquet", "parquet", []string{smithParquetOf(t, 2, func(r *smithRow) {
			r.Messages[1].Content += " caf\xe9 \xff"
			r.Patch += "\xfe"
			r.Model += "\xc3"
		})}, 8, nil},
	}
	root := t.TempDir() // outlives the subtests, for the check at the end
	var files []string
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(root, fmt.Sprint(i))
			opts := jobs.ImportOptions{Format: tc.format, Files: tc.files, Output: out, OnError: columnar.OnErrorFail, Parquet: cfg.Parquet}
			if tc.format == "parquet" {
				opts.Map = "swe-smith"
			}
			m, err := jobs.Import(context.Background(), opts, quiet())
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

// TestImportLargeSWEAgent imports SWE-agent files of many megabytes: a
// 50 MB one alone, and a 20 MB one between two small files in one part
// file. Once such files gave Parquet that pyarrow rejected ("Deserializing
// page header failed"), four times the input's size.
func TestImportLargeSWEAgent(t *testing.T) {
	data := shareddata.Dir(t)
	cfg := config(t, "unused", "unused")
	dir := filepath.Join(data, "trajectories/swe-agent")
	small := []string{filepath.Join(dir, "function_calling_simple.traj"), filepath.Join(dir, "ctf__pwn__warmup.traj")}
	cases := []struct {
		name  string
		files []string
	}{
		{"50 MB alone", []string{largeSWEAgent(t, filepath.Join(dir, "ctf__rev__rock.traj"), 50<<20)}},
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
			var in, zin int64
			for _, f := range tc.files {
				b, err := os.ReadFile(f)
				if err != nil {
					t.Fatal(err)
				}
				in += int64(len(b))
				zin += zstdSize(t, b)
			}
			pq := filesUnder(t, out, ".parquet")
			var got int64
			for _, p := range pq {
				st, _ := os.Stat(p)
				got += st.Size()
			}
			t.Logf("%d bytes of input, %d in zstd, %d of Parquet", in, zin, got)
			if got*2 > zin*3 {
				t.Errorf("%d bytes of Parquet for %d of input, %d in zstd: want at most 1.5 × zstd", got, in, zin)
			}
			files = append(files, pq...)
		})
	}
	pyread.Check(t, files...)
}

// smithMessage and smithRow are the shape of a SWE-smith trajectory
// dataset in Parquet: a list of chat messages and outcome columns.
type smithMessage struct {
	Role    string `parquet:"role"`
	Content string `parquet:"content"`
}

type smithRow struct {
	InstanceID string         `parquet:"instance_id"`
	TrajID     string         `parquet:"traj_id"`
	Model      string         `parquet:"model"`
	Resolved   bool           `parquet:"resolved"`
	Patch      string         `parquet:"patch"`
	Messages   []smithMessage `parquet:"messages,list"`
}

// smithParquet writes n rows of the SWE-smith shape, their tool calls
// written in the text as SWE-smith writes them, to a foreign Parquet file
// (written by parquet-go's defaults, not ours) and returns its path.
func smithParquet(t *testing.T, n int) string {
	t.Helper()
	return smithParquetOf(t, n, nil)
}

// smithParquetOf is smithParquet with each row passed through edit first.
func smithParquetOf(t *testing.T, n int, edit func(*smithRow)) string {
	t.Helper()
	rows := make([]smithRow, n)
	for i := range rows {
		rows[i] = smithRow{
			InstanceID: fmt.Sprintf("repo__pkg-%d", i), TrajID: fmt.Sprintf("repo__pkg-%d.run", i), Model: "claude", Resolved: i%3 == 0,
			Patch: fmt.Sprintf("diff --git a/f%d.py b/f%d.py\n", i, i),
			Messages: []smithMessage{
				{"system", "You are a software engineer."},
				{"user", fmt.Sprintf("Fix issue %d: the parser drops the last token.", i)},
				{"assistant", "Look at the parser first.\n<function=bash><parameter=command>grep -n token parser.py</parameter></function>"},
				{"user", fmt.Sprintf("%d: tokens = tokens[:-1]", 40+i)},
				{"assistant", "Done.\n<function=submit></function>"},
				{"user", "submitted"},
			},
		}
		if edit != nil {
			edit(&rows[i])
		}
	}
	p := filepath.Join(t.TempDir(), "smith.parquet")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	w := parquet.NewGenericWriter[smithRow](f)
	if _, err := w.Write(rows); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return p
}

// atifExport imports a real SWE-agent file, exports it with export --to
// atif and returns the ATIF document written, so that the atif importer's
// read-back covers our own documents as well as the hand-written sample.
func atifExport(t *testing.T) string {
	t.Helper()
	ds := filepath.Join(t.TempDir(), "ds")
	src := filepath.Join(shareddata.Dir(t), "trajectories/swe-agent/ctf__crypto__eps.traj")
	if _, err := jobs.Import(context.Background(), jobs.ImportOptions{Format: "swe-agent", Files: []string{src}, Output: ds, OnError: columnar.OnErrorFail}, quiet()); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "atif")
	if _, err := jobs.Export(context.Background(), jobs.ExportOptions{To: "atif", Input: ds, Output: out}, quiet()); err != nil {
		t.Fatal(err)
	}
	return glob(t, filepath.Join(out, "*.json"))[0]
}

// smallMiniFiles writes n small mini-swe-agent files, copies of the real
// local.traj.json (3 KB) each with a task of its own, and returns their
// paths.
func smallMiniFiles(t *testing.T, n int) []string {
	t.Helper()
	return miniRuns(t, "local.traj.json", n, func(i int) string { return fmt.Sprintf("local_%04d", i) })
}

// miniRuns writes n copies of the shared mini-swe-agent file src, each
// with a task of its own, as mini-swe-agent lays out a batch run:
// <id>/<id>.traj.json with the ids that name gives. It returns their paths.
func miniRuns(t *testing.T, src string, n int, name func(int) string) []string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(shareddata.Dir(t), "trajectories/mini-swe-agent", src))
	if err != nil {
		t.Fatal(err)
	}
	var msgs []map[string]any
	if err := json.Unmarshal(data, &msgs); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	out := make([]string, n)
	for i := range out {
		for _, m := range msgs {
			if m["role"] == "user" {
				m["content"] = fmt.Sprintf("%v\n(variant %d)", m["content"], i)
				break
			}
		}
		b, err := json.MarshalIndent(msgs, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		out[i] = filepath.Join(dir, name(i), name(i)+".traj.json")
		if err := os.MkdirAll(filepath.Dir(out[i]), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(out[i], b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// TestImportManySmallFiles imports 500 small files in one command into one
// dataset: one part file of 500 rows that pyarrow and DuckDB read whole,
// every file a trajectory with an id of its own.
func TestImportManySmallFiles(t *testing.T) {
	cfg := config(t, "unused", "unused")
	files := smallMiniFiles(t, 500)
	out := filepath.Join(t.TempDir(), "ds")
	m, err := jobs.Import(context.Background(), jobs.ImportOptions{Format: "mini-swe-agent", Files: files, Output: out, OnError: columnar.OnErrorFail, Parquet: cfg.Parquet}, quiet())
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Counters["rows_imported"]; got != int64(len(files)) {
		t.Fatalf("rows_imported = %d, want %d", got, len(files))
	}
	ids := map[string]bool{}
	err = jobs.ReadDataset(context.Background(), out, storage.S3Config{}, columnar.TrajectoriesDataset, columnar.TrajectorySchema, func(tr *columnar.Trajectory) error {
		ids[tr.TrajectoryID] = true
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) != len(files) {
		t.Errorf("%d distinct ids for %d files", len(ids), len(files))
	}
	pq := filesUnder(t, out, ".parquet")
	if len(pq) != 1 {
		t.Errorf("%d part files, want 1", len(pq))
	}
	pyread.Check(t, pq...)
}
