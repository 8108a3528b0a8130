package importer

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/atlas-ai/atlas-learn/columnar"
	"github.com/atlas-ai/atlas-learn/internal/pyread"
	"github.com/atlas-ai/atlas-learn/internal/shareddata"
)

// replaceN replaces the first n occurrences of old in data (all when n <
// 0) and fails unless it made at least one.
func replaceN(t *testing.T, data []byte, old, new string, n int) []byte {
	t.Helper()
	if !bytes.Contains(data, []byte(old)) {
		t.Fatalf("%q does not occur", old)
	}
	return bytes.Replace(data, []byte(old), []byte(new), n)
}

// importBytes imports data as the file name and returns what was emitted.
func importBytes(t *testing.T, format Format, name string, data []byte, opts Options) ([]columnar.Trajectory, Stats) {
	t.Helper()
	var out []columnar.Trajectory
	st, err := Import(context.Background(), format, name, bytes.NewReader(data), func(tr columnar.Trajectory) error {
		out = append(out, tr)
		return nil
	}, opts)
	if err != nil {
		t.Fatalf("import %s: %v", name, err)
	}
	return out, st
}

// writeParquetFile writes trajectories to dir/name through columnar's writer
// and returns the path.
func writeParquetFile(t *testing.T, dir, name string, rows []columnar.Trajectory) string {
	t.Helper()
	var buf bytes.Buffer
	w, err := columnar.NewWriter[columnar.Trajectory](&buf, columnar.WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range rows {
		rows[i].Normalize()
	}
	if err := w.Write(rows); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestInvalidUTF8 imports real files of each format made invalid: as if
// re-encoded in Latin-1 (each "the " becomes "th\xe9 ") or with assorted
// invalid sequences and unpaired surrogate escapes. Every invalid sequence
// must become U+FFFD in mapped fields and extra alike, be counted once in
// Stats, recorded on its trajectory and logged; the result must be valid
// UTF-8 everywhere and readable by pyarrow and DuckDB.
func TestInvalidUTF8(t *testing.T) {
	shared := filepath.Join(shareddata.Dir(t), "trajectories")
	read := func(p string) []byte {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	latin1 := func(data []byte) ([]byte, int) {
		return bytes.ReplaceAll(data, []byte("the "), []byte("th\xe9 ")), bytes.Count(data, []byte("the "))
	}
	type input struct {
		data []byte
		want int
		// latin1 says every "the " became "th\xe9 ", in mapped text too.
		latin1 bool
	}
	cases := []struct {
		name   string
		format Format
		file   string
		make   func(data []byte) input
	}{
		{"swe-agent Latin-1", SWEAgent, filepath.Join(shared, "swe-agent/function_calling_simple.traj"), func(d []byte) input {
			b, n := latin1(d)
			return input{b, n, true}
		}},
		{"swe-agent mixed", SWEAgent, filepath.Join(shared, "swe-agent/function_calling_simple.traj"), func(d []byte) input {
			d = replaceN(t, d, "the ", "the\xc3\xa9\xe2\x82 ", 1) // é is valid; a truncated € is 2
			d = replaceN(t, d, "the ", "the\\udc00 ", 1)          // an unpaired low surrogate
			d = replaceN(t, d, "the ", "\xff\xfe\xfd ", 1)        // 3
			return input{d, 6, false}
		}},
		{"mini-swe-agent Latin-1", MiniSWEAgent, filepath.Join(shared, "mini-swe-agent/local.traj.json"), func(d []byte) input {
			b, n := latin1(d)
			return input{b, n, true}
		}},
		{"mini-swe-agent current form", MiniSWEAgent, "testdata/mini_current.traj.json", func(d []byte) input {
			d = replaceN(t, d, `"mini_version": "2.0.0"`, `"mini_version": "2.0.0\ud83d"`, 1) // unpaired high surrogate, in extra only
			b, n := latin1(d)
			return input{b, n + 1, false}
		}},
		{"openai-chat Latin-1", OpenAIChat, "testdata/chat_sample.jsonl", func(d []byte) input {
			b, n := latin1(d)
			return input{b, n, true}
		}},
		{"openhands Latin-1", OpenHands, filepath.Join(shared, "openhands/wrong_initial_state.json"), func(d []byte) input {
			b, n := latin1(d)
			return input{b, n, true}
		}},
		{"openhands mixed", OpenHands, filepath.Join(shared, "openhands/basic.json"), func(d []byte) input {
			d = replaceN(t, d, `"object": "chat.completion`, "\"object\": \"chat.completion\\udfff\xfe", 1) // in extra only: an unpaired surrogate, an invalid byte
			b, n := latin1(d)
			return input{b, n + 2, false}
		}},
		{"atif Latin-1", ATIF, "testdata/atif_sample.json", func(d []byte) input {
			b, n := latin1(d)
			return input{b, n, true}
		}},
	}
	dir := t.TempDir()
	var files []string
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			orig := read(tc.file)
			in := tc.make(orig)
			if in.want == 0 {
				t.Fatal("the case replaces nothing")
			}
			clean, _ := importBytes(t, tc.format, filepath.Base(tc.file), orig, Options{})
			var logs bytes.Buffer
			got, st := importBytes(t, tc.format, filepath.Base(tc.file), in.data, Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
			if st.UTF8Replacements != in.want {
				t.Errorf("Stats.UTF8Replacements = %d, want %d", st.UTF8Replacements, in.want)
			}
			if len(got) != len(clean) {
				t.Fatalf("%d trajectories, %d from the clean file", len(got), len(clean))
			}
			sum := 0
			for j, tr := range got {
				sum += tr.UTF8Replacements()
				if c := tr; c.SanitizeUTF8() != 0 {
					t.Errorf("trajectory %d still holds invalid UTF-8", j)
				}
				if len(tr.Steps) != len(clean[j].Steps) {
					t.Errorf("trajectory %d: %d steps, %d from the clean file", j, len(tr.Steps), len(clean[j].Steps))
				}
				// Mapped text: as many replaced "the " as the clean import has.
				want, got := strings.Count(mappedText(t, clean[j]), "the "), strings.Count(mappedText(t, tr), "th\uFFFD ")
				t.Logf("trajectory %d: %d replacements in mapped text", j, got)
				if in.latin1 && got != want {
					t.Errorf("trajectory %d: %d replacements in the mapped text, want %d", j, got, want)
				}
				if !bytes.Contains(tr.Extra, []byte("\uFFFD")) && !bytes.Contains(tr.Extra, []byte(`\ufffd`)) {
					t.Errorf("trajectory %d: extra holds no replacement", j)
				}
			}
			if sum != in.want {
				t.Errorf("markers sum to %d, want %d", sum, in.want)
			}
			if !strings.Contains(logs.String(), "replaced invalid UTF-8") {
				t.Errorf("nothing logged:\n%s", logs.String())
			}
			files = append(files, writeParquetFile(t, dir, fmt.Sprintf("case-%d.parquet", i), got))
		})
	}
	pyread.Check(t, files...)
}

// mappedText is the JSON of tr's columns other than extra.
func mappedText(t *testing.T, tr columnar.Trajectory) string {
	t.Helper()
	tr.Extra = nil
	b, err := json.Marshal(tr)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestImportedParquetReadable imports every real file and every sample of
// each format, writes each format's trajectories to a Parquet file and reads
// the files with pyarrow and DuckDB.
func TestImportedParquetReadable(t *testing.T) {
	shared := filepath.Join(shareddata.Dir(t), "trajectories")
	cases := []struct {
		format Format
		globs  []string
	}{
		{SWEAgent, []string{filepath.Join(shared, "swe-agent/*.traj"), "testdata/*.traj"}},
		{MiniSWEAgent, []string{filepath.Join(shared, "mini-swe-agent*/*.traj.json"), "testdata/*.traj.json"}},
		{OpenAIChat, []string{"testdata/*.jsonl"}},
		{OpenHands, []string{filepath.Join(shared, "openhands/*.json"), "testdata/openhands_*.jsonl"}},
		{ATIF, []string{"testdata/atif_*.json"}},
	}
	dir := t.TempDir()
	var files []string
	for _, tc := range cases {
		t.Run(string(tc.format), func(t *testing.T) {
			var rows []columnar.Trajectory
			for _, g := range tc.globs {
				paths, _ := filepath.Glob(g)
				if len(paths) == 0 {
					t.Fatalf("no files match %s", g)
				}
				for _, p := range paths {
					out, _, err := importFile(t, tc.format, p, Options{OnError: columnar.OnErrorSkip})
					if err != nil {
						t.Fatalf("%s: %v", p, err)
					}
					rows = append(rows, out...)
				}
			}
			if len(rows) == 0 {
				t.Fatal("nothing imported")
			}
			files = append(files, writeParquetFile(t, dir, string(tc.format)+".parquet", rows))
		})
	}
	pyread.Check(t, files...)
}
