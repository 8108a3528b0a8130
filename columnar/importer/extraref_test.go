package importer

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/atlas-ai/atlas-learn/columnar"
	"github.com/atlas-ai/atlas-learn/internal/shareddata"
)

// TestExtraReferencesRoundTrip imports every shared trajectory file (and
// the test data) with and without column references in extra, and reads
// both back from Parquet: the columns must be the same, ExpandExtra of a
// row read back must give the extra built without references, and an OpenHands event stream must come back whole, event
// for event, from extra.source.events. The shared files must share some
// text (else the test would prove nothing). Bad records of the test data
// are skipped.
func TestExtraReferencesRoundTrip(t *testing.T) {
	root := filepath.Join(shareddata.Dir(t), "trajectories")
	groups := []struct {
		format  Format
		pattern string
		shares  bool // every file has a text to share
	}{
		{SWEAgent, filepath.Join(root, "swe-agent", "*.traj"), true},
		{MiniSWEAgent, filepath.Join(root, "mini-swe-agent", "*.traj.json"), false}, // local.traj.json: texts too short
		{MiniSWEAgent, filepath.Join(root, "mini-swe-agent-1.1", "*.traj.json"), true},
		{OpenHands, filepath.Join(root, "openhands", "*.json"), true},
		{MiniSWEAgent, filepath.Join("testdata", "mini_*.traj.json"), false},
		{OpenHands, filepath.Join("testdata", "openhands_output.jsonl"), false},
		{OpenAIChat, filepath.Join("testdata", "chat_sample.jsonl"), false},
		{ATIF, filepath.Join("testdata", "atif_sample.json"), false},
	}
	shared := 0
	for _, g := range groups {
		files, err := filepath.Glob(g.pattern)
		if err != nil || len(files) == 0 {
			t.Fatalf("%s: no files (%v)", g.pattern, err)
		}
		for _, p := range files {
			t.Run(filepath.Base(p), func(t *testing.T) {
				got, _, err := importFile(t, g.format, p, Options{OnError: columnar.OnErrorSkip})
				if err != nil {
					t.Fatal(err)
				}
				plain, _, err := importFile(t, g.format, p, Options{OnError: columnar.OnErrorSkip, keepExtraText: true})
				if err != nil {
					t.Fatal(err)
				}
				if len(got) != len(plain) {
					t.Fatalf("%d trajectories, %d without references", len(got), len(plain))
				}
				got, plain = throughParquet(t, got), throughParquet(t, plain)
				for i := range got {
					back, err := got[i].ExpandExtra()
					if err != nil {
						t.Fatal(err)
					}
					if !sameJSON(t, back, plain[i].Extra) {
						t.Errorf("trajectory %d: ExpandExtra differs from the extra built without references", i)
					}
					refs := strings.Contains(string(got[i].Extra), `"`+columnar.RefsMarkerKey+`":1`)
					if refs {
						shared++
					} else if g.shares {
						t.Errorf("trajectory %d: no text shared with a column", i)
					}
					if !refs && string(got[i].Extra) != string(plain[i].Extra) {
						t.Errorf("trajectory %d: extra changed without a reference", i)
					}
					a, b := got[i], plain[i]
					a.Extra, b.Extra = nil, nil
					if !reflect.DeepEqual(a, b) {
						t.Errorf("trajectory %d: columns differ with references", i)
					}
				}
				if g.format == OpenHands && strings.HasSuffix(p, ".json") {
					src, err := os.ReadFile(p)
					if err != nil {
						t.Fatal(err)
					}
					var x struct {
						Source struct {
							Events json.RawMessage `json:"events"`
						} `json:"source"`
					}
					back, _ := got[0].ExpandExtra()
					if err := json.Unmarshal(back, &x); err != nil {
						t.Fatal(err)
					}
					if !sameJSON(t, x.Source.Events, src) {
						t.Errorf("extra.source.events, expanded, is not the file's event list")
					}
				}
			})
		}
	}
	if shared == 0 {
		t.Error("no trajectory shares a text with its columns")
	}
}

// throughParquet writes trs to a Parquet file and reads them back: the
// rows as a reader of the dataset gets them.
func throughParquet(t *testing.T, trs []columnar.Trajectory) []columnar.Trajectory {
	t.Helper()
	var buf bytes.Buffer
	w, err := columnar.NewWriter[columnar.Trajectory](&buf, columnar.WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range trs {
		trs[i].Normalize()
	}
	if err := w.Write(trs); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	var out []columnar.Trajectory
	err = columnar.ReadParquet(context.Background(), bytes.NewReader(buf.Bytes()), int64(buf.Len()), "test.parquet", columnar.ReadOptions{}, func(batch []columnar.Trajectory, _ int64) error {
		for _, tr := range batch {
			out = append(out, tr)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// sameJSON reports whether a and b hold equal JSON values (numbers
// compared by their text).
func sameJSON(t *testing.T, a, b []byte) bool {
	t.Helper()
	dec := func(raw []byte) any {
		d := json.NewDecoder(strings.NewReader(string(raw)))
		d.UseNumber()
		var v any
		if err := d.Decode(&v); err != nil {
			t.Fatalf("not JSON: %v", err)
		}
		return v
	}
	return reflect.DeepEqual(dec(a), dec(b))
}
