package columnar_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/atlas-ai/atlas-learn/columnar"
	"github.com/atlas-ai/atlas-learn/columnar/storage"
)

func sample(i int) columnar.Trajectory {
	steps := make([]columnar.Step, 3+i%4)
	for j := range steps {
		steps[j] = columnar.Step{Index: int32(j), Thought: fmt.Sprintf("think %d.%d", i, j), Action: "python", ActionType: "write_code",
			Observation: strings.Repeat("ok ", j+1), Code: fmt.Sprintf("def f%d(x):\n    return x + %d\n", j, i), IsError: j == 1 && i%3 == 0, Reward: float64(j) / 10}
	}
	return columnar.Trajectory{
		SchemaVersion: columnar.SchemaVersion,
		TrajectoryID:  fmt.Sprintf("t-%05d", i),
		Task:          columnar.Task{ID: fmt.Sprintf("task-%d", i%7), Description: "add numbers", Domain: "math", Input: `{"examples":[{"input":1,"output":2}]}`},
		Agent:         columnar.Agent{Name: "test-agent", Model: "m1"},
		Steps:         steps,
		Outcome:       columnar.Outcome{Success: i%3 != 0, Reward: float64(i % 2), ExitStatus: "submitted", ErrorInfo: map[bool]string{true: "", false: "AssertionError"}[i%3 != 0]},
		Solution:      columnar.Solution{Code: "def solve(x): return x+1", Language: "python"},
		CreatedAt:     time.Date(2026, 11, 20+i%3, 10, 0, i%60, 0, time.UTC),
		Metadata:      map[string]string{"k": "v", "i": fmt.Sprint(i)},
		Extra:         json.RawMessage(`{"source":"test"}`),
	}
}

func writeParquet(t testing.TB, rows []columnar.Trajectory, opts columnar.WriterOptions) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := columnar.NewWriter[columnar.Trajectory](&buf, opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(rows); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func readAll[T any](t testing.TB, data []byte, name string) ([]T, error) {
	var out []T
	err := columnar.ReadParquet(context.Background(), bytes.NewReader(data), int64(len(data)), name, columnar.ReadOptions{BatchRows: 7},
		func(batch []T, first int64) error {
			if first != int64(len(out)) {
				return fmt.Errorf("first row %d, want %d", first, len(out))
			}
			out = append(out, batch...)
			return nil
		})
	return out, err
}

func TestParquetRoundTrip(t *testing.T) {
	var rows []columnar.Trajectory
	for i := 0; i < 50; i++ {
		rows = append(rows, sample(i))
	}
	data := writeParquet(t, rows, columnar.WriterOptions{RowGroupRows: 16})
	got, err := readAll[columnar.Trajectory](t, data, "x.parquet")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(rows) {
		t.Fatalf("read %d rows, want %d", len(got), len(rows))
	}
	for i := range rows {
		if !reflect.DeepEqual(got[i], rows[i]) {
			t.Fatalf("row %d differs:\n got %+v\nwant %+v", i, got[i], rows[i])
		}
	}
	// Deterministic bytes.
	if again := writeParquet(t, rows, columnar.WriterOptions{RowGroupRows: 16}); !bytes.Equal(again, data) {
		t.Fatal("the same rows gave different bytes")
	}
}

// outcomeOnly is a projection: reading it must not need the steps.
type outcomeOnly struct {
	TrajectoryID string           `parquet:"trajectory_id"`
	Outcome      columnar.Outcome `parquet:"outcome"`
}

func TestParquetProjection(t *testing.T) {
	// Enough rows that the data, not the footer every reader reads, makes
	// up most of the file.
	var rows []columnar.Trajectory
	for i := 0; i < 200; i++ {
		rows = append(rows, sample(i))
	}
	data := writeParquet(t, rows, columnar.WriterOptions{})
	got, err := readAll[outcomeOnly](t, data, "x.parquet")
	if err != nil {
		t.Fatal(err)
	}
	for i := range rows {
		if got[i].TrajectoryID != rows[i].TrajectoryID || got[i].Outcome != rows[i].Outcome {
			t.Fatalf("row %d: %+v", i, got[i])
		}
	}
	// The projection reads far fewer bytes than the file holds.
	cr := &countingReader{r: bytes.NewReader(data)}
	err = columnar.ReadParquet(context.Background(), cr, int64(len(data)), "x", columnar.ReadOptions{ReadBufferSize: 4096},
		func([]outcomeOnly, int64) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	if cr.n*2 > int64(len(data)) {
		t.Fatalf("projected read touched %d of %d bytes", cr.n, len(data))
	}
}

type countingReader struct {
	r *bytes.Reader
	n int64
}

func (c *countingReader) ReadAt(p []byte, off int64) (int, error) {
	n, err := c.r.ReadAt(p, off)
	c.n += int64(n)
	return n, err
}

func TestParquetBadInput(t *testing.T) {
	good := writeParquet(t, []columnar.Trajectory{sample(1), sample(2)}, columnar.WriterOptions{})
	var other bytes.Buffer
	type alien struct {
		Name string `parquet:"name"`
	}
	aw, _ := columnar.NewWriter[alien](&other, columnar.WriterOptions{})
	aw.Write([]alien{{"x"}})
	aw.Close()

	bad := sample(3)
	bad.SchemaVersion = 9
	future := writeParquet(t, []columnar.Trajectory{bad}, columnar.WriterOptions{Metadata: map[string]string{}})

	cases := []struct {
		name string
		data []byte
		want string
	}{
		{"truncated", good[:len(good)/2], "bad.parquet: not a readable Parquet file"},
		{"garbage", []byte("this is not parquet at all, not at all"), "bad.parquet: not a readable Parquet file"},
		{"empty", nil, "bad.parquet"},
		{"other schema", other.Bytes(), "missing columns"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := readAll[columnar.Trajectory](t, tc.data, "bad.parquet")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v; want it to contain %q", err, tc.want)
			}
		})
	}
	t.Run("corrupt pages", func(t *testing.T) {
		// Flip bytes in the middle (the pages), keep the footer.
		data := append([]byte(nil), good...)
		for i := 8; i < len(data)/2; i += 3 {
			data[i] ^= 0x5a
		}
		_, err := readAll[columnar.Trajectory](t, data, "bad.parquet")
		if err == nil || !strings.Contains(err.Error(), "bad.parquet") {
			t.Fatalf("err = %v; want an error naming the file", err)
		}
	})
	t.Run("schema version row", func(t *testing.T) {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, "v9.parquet"), future, 0o644)
		b, _ := storage.NewLocal(dir)
		src, err := columnar.OpenSource(context.Background(), b, "")
		if err != nil {
			t.Fatal(err)
		}
		_, err = columnar.ScanFile(context.Background(), b, src.Files[0], columnar.ReadOptions{}, columnar.OnErrorFail, nil,
			func(*columnar.Trajectory, columnar.Position) error { return nil })
		var sv *columnar.SchemaVersionError
		if !errors.As(err, &sv) || !strings.Contains(err.Error(), "v9.parquet: row 0") {
			t.Fatalf("err = %v; want a schema version error at row 0", err)
		}
	})
}

func TestJSONLRoundTripAndErrors(t *testing.T) {
	var buf bytes.Buffer
	w := columnar.NewJSONLWriter[columnar.Trajectory](&buf)
	rows := []columnar.Trajectory{sample(1), sample(2)}
	if err := w.Write(rows); err != nil {
		t.Fatal(err)
	}
	w.Close()
	text := buf.String()
	lines := strings.Split(strings.TrimSpace(text), "\n")
	input := lines[0] + "\n\n{\"trajectory_id\": 5}\n" + "{not json\n" + lines[1] + "\n" + `{"trajectory_id": "x", "surprise": 1}` + "\n"

	var got []columnar.Trajectory
	err := columnar.ReadJSONL(context.Background(), strings.NewReader(text), "a.jsonl", columnar.OnErrorFail, nil,
		func(r *columnar.Trajectory, _ int64) error { got = append(got, *r); return nil })
	if err != nil || !reflect.DeepEqual(got, rows) {
		t.Fatalf("round trip: %v\n%+v", err, got)
	}
	err = columnar.ReadJSONL(context.Background(), strings.NewReader(input), "a.jsonl", columnar.OnErrorFail, nil,
		func(*columnar.Trajectory, int64) error { return nil })
	if err == nil || err.Error() != "a.jsonl: line 3: field trajectory_id: expected string, got JSON number" {
		t.Fatalf("fail policy: %v", err)
	}
	var bad []string
	n := 0
	err = columnar.ReadJSONL(context.Background(), strings.NewReader(input), "a.jsonl", columnar.OnErrorSkip,
		func(re *columnar.RecordError) { bad = append(bad, re.Error()) },
		func(*columnar.Trajectory, int64) error { n++; return nil })
	if err != nil || n != 2 || len(bad) != 3 || !strings.HasPrefix(bad[1], "a.jsonl: line 4: malformed JSON") ||
		bad[2] != "a.jsonl: line 6: field surprise: not in trajectory schema version 1 (put source fields in extra)" {
		t.Fatalf("skip policy: err=%v n=%d bad=%q", err, n, bad)
	}
}

func TestCommitterAtomicReplace(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	b, _ := storage.NewLocal(dir)
	write := func(fp string, n int, fail bool) error {
		c, err := columnar.NewCommitter(ctx, b, "out", columnar.DatasetManifest)
		if err != nil {
			return err
		}
		s := columnar.NewSink(c, columnar.SinkOptions[columnar.Trajectory]{Fingerprint: fp, Partition: columnar.DatePartition, RowsPerFile: 4})
		for i := 0; i < n; i++ {
			if err := s.Write(ctx, sample(i)); err != nil {
				return err
			}
		}
		if fail {
			s.Abort()
			c.Abort(ctx)
			return errors.New("crash")
		}
		if err := s.Close(ctx); err != nil {
			return err
		}
		return c.Commit(ctx, &columnar.Manifest{Kind: "dataset", Fingerprint: fp})
	}
	if err := write("aaaa", 10, false); err != nil {
		t.Fatal(err)
	}
	countRows := func() int64 {
		src, err := columnar.OpenSource(ctx, b, "out")
		if err != nil {
			t.Fatal(err)
		}
		var n int64
		for _, f := range src.Files {
			st, err := columnar.ScanFile(ctx, b, f, columnar.ReadOptions{}, columnar.OnErrorFail, nil, func(*outcomeOnly, columnar.Position) error { return nil })
			if err != nil {
				t.Fatal(err)
			}
			n += st.Rows
		}
		return n
	}
	if n := countRows(); n != 10 {
		t.Fatalf("rows = %d", n)
	}
	// A crashed replacement leaves the committed dataset whole.
	if err := write("bbbb", 7, true); err == nil {
		t.Fatal("expected the crash")
	}
	if n := countRows(); n != 10 {
		t.Fatalf("after a crashed replace: rows = %d", n)
	}
	// A completed replacement replaces it and removes the old files.
	if err := write("bbbb", 7, false); err != nil {
		t.Fatal(err)
	}
	if n := countRows(); n != 7 {
		t.Fatalf("after replace: rows = %d", n)
	}
	objs, _ := storage.List(ctx, b, "out/", nil)
	for _, o := range objs {
		if strings.Contains(o.Key, "aaaa") {
			t.Fatalf("old file left: %s", o.Key)
		}
	}
	m, err := columnar.ReadManifest(ctx, b, "out/_manifest.json")
	if err != nil || m.Datasets[0].Rows != 7 || len(m.Datasets[0].Files) != 3 || m.Datasets[0].Files[0].Partition != "dt=2026-11-20" {
		t.Fatalf("manifest: %v %+v", err, m)
	}
}

// TestCommitterCarry keeps a file of the previous manifest in the next
// one without rewriting it: Commit leaves it in place while it deletes the
// previous files not carried, and Carry refuses a file the previous
// manifest does not list (or lists with another checksum) and a dataset
// not declared.
func TestCommitterCarry(t *testing.T) {
	ctx := context.Background()
	b, _ := storage.NewLocal(t.TempDir())
	first, err := columnar.NewCommitter(ctx, b, "", columnar.DatasetManifest)
	if err != nil {
		t.Fatal(err)
	}
	s := columnar.NewSink(first, columnar.SinkOptions[columnar.Trajectory]{Fingerprint: "aaaa", RowsPerFile: 2})
	for i := 0; i < 4; i++ {
		if err := s.Write(ctx, sample(i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if err := first.Commit(ctx, &columnar.Manifest{Kind: "dataset", Fingerprint: "aaaa"}); err != nil {
		t.Fatal(err)
	}
	old, _ := columnar.ReadManifest(ctx, b, columnar.DatasetManifest)
	files := old.Dataset(columnar.TrajectoriesDataset).Files
	if len(files) != 2 {
		t.Fatalf("%d files, want 2", len(files))
	}

	c, err := columnar.NewCommitter(ctx, b, "", columnar.DatasetManifest)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Carry(columnar.TrajectoriesDataset, files[0]); err == nil || !strings.Contains(err.Error(), "not declared") {
		t.Errorf("carry before declaring: %v", err)
	}
	s = columnar.NewSink(c, columnar.SinkOptions[columnar.Trajectory]{Fingerprint: "bbbb"})
	changed := files[1]
	changed.SHA256 = strings.Repeat("0", 64)
	for _, bad := range []columnar.FileEntry{{Path: "part-00009-aaaa.parquet"}, changed} {
		if err := c.Carry(columnar.TrajectoriesDataset, bad); err == nil || !strings.Contains(err.Error(), "not a file of the previous manifest") {
			t.Errorf("carry %+v: %v", bad, err)
		}
	}
	if err := c.Carry(columnar.TrajectoriesDataset, files[0]); err != nil {
		t.Fatal(err)
	}
	if err := s.Write(ctx, sample(9)); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.Commit(ctx, &columnar.Manifest{Kind: "dataset", Fingerprint: "bbbb"}); err != nil {
		t.Fatal(err)
	}
	m, _ := columnar.ReadManifest(ctx, b, columnar.DatasetManifest)
	d := m.Dataset(columnar.TrajectoriesDataset)
	if d.Rows != 3 || len(d.Files) != 2 || d.Files[0] != files[0] {
		t.Errorf("dataset %+v: want the carried file and one new one, 3 rows", d)
	}
	for _, f := range files {
		_, err := b.Stat(ctx, f.Path)
		if carried := f == files[0]; carried != (err == nil) {
			t.Errorf("%s: stat %v, carried %v", f.Path, err, carried)
		}
	}
}

// Two attempts at the same output at once (two pods of one Kubernetes
// index): the one that fails after the other committed keeps the files
// the committed manifest names, which have the same names as its own.
func TestCommitterConcurrentAttempts(t *testing.T) {
	ctx := context.Background()
	b, _ := storage.NewLocal(t.TempDir())
	start := func() (*columnar.Committer, *columnar.Sink[columnar.Trajectory]) {
		c, err := columnar.NewCommitter(ctx, b, "out", columnar.RunManifest)
		if err != nil {
			t.Fatal(err)
		}
		s := columnar.NewSink(c, columnar.SinkOptions[columnar.Trajectory]{Fingerprint: "ffff"})
		for i := range 5 {
			if err := s.Write(ctx, sample(i)); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.Close(ctx); err != nil {
			t.Fatal(err)
		}
		return c, s
	}
	x, _ := start()
	y, _ := start() // began before x committed: no previous manifest
	if err := x.Commit(ctx, &columnar.Manifest{Kind: "run", Fingerprint: "ffff"}); err != nil {
		t.Fatal(err)
	}
	if err := y.Abort(ctx); err != nil {
		t.Fatal(err)
	}
	m, err := columnar.ReadManifest(ctx, b, "out/"+columnar.RunManifest)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range m.Datasets {
		for _, f := range d.Files {
			if ok, err := storage.Exists(ctx, b, "out/"+f.Path); !ok || err != nil {
				t.Fatalf("the committed %s is gone after the other attempt's abort: %v", f.Path, err)
			}
		}
	}
}
