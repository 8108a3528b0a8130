package jobs_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/atlas-ai/atlas-learn/columnar"
	"github.com/atlas-ai/atlas-learn/columnar/storage"
	"github.com/atlas-ai/atlas-learn/columnar/storage/faultbucket"
	"github.com/atlas-ai/atlas-learn/internal/s3test"
	"github.com/atlas-ai/atlas-learn/jobs"
)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func traj(i int) columnar.Trajectory {
	return columnar.Trajectory{
		SchemaVersion: columnar.SchemaVersion,
		TrajectoryID:  fmt.Sprintf("t-%06d", i),
		Task:          columnar.Task{ID: fmt.Sprint(i % 13), Description: "reverse a list", Domain: "list"},
		Steps: []columnar.Step{
			{Index: 0, Thought: "look", Action: "print(x)", ActionType: "python", Observation: "[1, 2]"},
			{Index: 1, Thought: "solve", Action: "write", ActionType: "write_code", Code: fmt.Sprintf("def solve(x):\n    return x[::-1]  # %d\n", i)},
		},
		Outcome:   columnar.Outcome{Success: i%4 != 0, ExitStatus: "submitted"},
		Solution:  columnar.Solution{Code: "def solve(x): return x[::-1]", Language: "python"},
		CreatedAt: time.Date(2026, 11, 1+i%3, 0, 0, 0, 0, time.UTC),
	}
}

// makeInput writes files Hive-partitioned Parquet files of per rows each.
func makeInput(t *testing.T, b storage.Bucket, files, per int) {
	t.Helper()
	ctx := context.Background()
	for f := 0; f < files; f++ {
		w, err := b.NewWriter(ctx, fmt.Sprintf("dt=2026-11-%02d/part-%05d.parquet", f%3+1, f))
		if err != nil {
			t.Fatal(err)
		}
		pw, _ := columnar.NewWriter[columnar.Trajectory](w, columnar.WriterOptions{RowGroupRows: 100})
		rows := make([]columnar.Trajectory, per)
		for i := range rows {
			rows[i] = traj(f*per + i)
		}
		if err := pw.Write(rows); err != nil {
			t.Fatal(err)
		}
		if err := pw.Close(); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

func config(t *testing.T, in, out string) jobs.Config {
	t.Helper()
	cfg, err := jobs.LoadConfig("", func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	cfg.Input, cfg.Output = in, out
	return cfg
}

// dataFiles maps relative path to content for every file under dir except
// the manifest.
func dataFiles(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		// The manifest and the report hold run times: they are compared
		// apart, where at all.
		if err != nil || info.IsDir() || info.Name() == columnar.RunManifest || info.Name() == "report.md" || info.Name() == "report.html" {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		if out[rel], err = os.ReadFile(p); err != nil {
			return err
		}
		return nil
	})
	if err != nil {
		t.Fatalf("read %s: %v", dir, err)
	}
	return out
}

// sameFiles fails the test unless a and b hold the same file names, none
// of them empty, with the same contents; what names the two sides.
func sameFiles(t *testing.T, what string, a, b map[string][]byte) {
	t.Helper()
	an, bn := slices.Sorted(maps.Keys(a)), slices.Sorted(maps.Keys(b))
	if !slices.Equal(an, bn) {
		t.Fatalf("%s: different files:\n%v\n%v", what, an, bn)
	}
	for _, p := range an {
		if len(a[p]) == 0 {
			t.Errorf("%s: %s is empty", what, p)
		}
		if !bytes.Equal(a[p], b[p]) {
			t.Errorf("%s: %s differs", what, p)
		}
	}
}

func TestRunDeterministicAcrossWorkers(t *testing.T) {
	in := t.TempDir()
	b, _ := storage.NewLocal(in)
	makeInput(t, b, 6, 250)
	var results []map[string][]byte
	var manifests []*columnar.Manifest
	for _, workers := range []int{1, 2, 8} {
		out := t.TempDir()
		cfg := config(t, in, out)
		cfg.Workers = workers
		cfg.Parquet.RowsPerFile = 100
		res, err := jobs.Run(context.Background(), cfg, quiet())
		if err != nil {
			t.Fatal(err)
		}
		if got := res.Manifest.Counters["rows_read"]; got != 1500 {
			t.Fatalf("rows_read = %d", got)
		}
		results = append(results, dataFiles(t, filepath.Join(out, res.RunDir)))
		manifests = append(manifests, res.Manifest)
	}
	// 1500 rows in 3 partitions of 500, 100 rows per file: 15 trajectory
	// files; the analysis and experience rows, unpartitioned: 15 more
	// each; one concepts file, one strategies file, one error_patterns
	// file and one error_occurrences file (these trajectories have no
	// error messages).
	// Beside them, the sft stage's Parquet dataset, exports and card.
	sftFiles := 0
	for p := range results[0] {
		if strings.HasPrefix(p, "sft"+string(filepath.Separator)) {
			sftFiles++
		}
	}
	if n := len(results[0]) - sftFiles; n != 3*5+15+15+4 || sftFiles == 0 {
		t.Fatalf("%d data files and %d sft files, want 49 (3 partitions x 5 parts, 15 analysis and 15 experience parts, concepts, strategies, error patterns and occurrences) and some", n, sftFiles)
	}
	for _, want := range []struct {
		name, schema, stage string
		version             int32
	}{{"trajectories", "trajectory", "trajectories", 1}, {"concepts", "concept", "concepts", jobs.ConceptsSchema.Version}} {
		d := manifests[0].Dataset(want.name)
		if d == nil || d.Schema != want.schema || d.Stage != want.stage || d.SchemaVersion != want.version {
			t.Fatalf("manifest entry %s = %+v", want.name, d)
		}
	}
	for i := 1; i < len(results); i++ {
		sameFiles(t, fmt.Sprintf("run %d against run 0", i), results[0], results[i])
		a, b := *manifests[0], *manifests[i]
		a.Run, b.Run = columnar.RunInfo{}, columnar.RunInfo{}
		a.Config, b.Config = nil, nil
		ja, _ := json.Marshal(a)
		jb, _ := json.Marshal(b)
		if !bytes.Equal(ja, jb) {
			t.Fatalf("manifests differ beyond run-time fields:\n%s\n%s", ja, jb)
		}
	}
	// The run's output is itself a readable dataset.
	insp, err := jobs.Inspect(context.Background(), filepath.Join(t.TempDir(), "nope"), storage.S3Config{})
	if err == nil || !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("inspect of an empty location: %v %+v", err, insp)
	}
}

func TestRunBadRecords(t *testing.T) {
	in := t.TempDir()
	b, _ := storage.NewLocal(in)
	makeInput(t, b, 1, 10)
	good, _ := json.Marshal(traj(99))
	bad := traj(100)
	bad.Steps[1].Index = 7
	badLine, _ := json.Marshal(bad)
	os.WriteFile(filepath.Join(in, "extra.jsonl"), []byte(string(good)+"\n{\"trajectory_id\": [1]}\n"+string(badLine)+"\n"), 0o644)

	t.Run("fail", func(t *testing.T) {
		out := t.TempDir()
		_, err := jobs.Run(context.Background(), config(t, in, out), quiet())
		if err == nil || !strings.Contains(err.Error(), "extra.jsonl: line 2: field trajectory_id") || !strings.Contains(err.Error(), "nothing committed") {
			t.Fatalf("err = %v", err)
		}
		if files := dataFiles(t, out); len(files) != 0 {
			t.Fatalf("a failed run left files: %v", files)
		}
	})
	t.Run("skip", func(t *testing.T) {
		out := t.TempDir()
		cfg := config(t, in, out)
		cfg.OnError = columnar.OnErrorSkip
		res, err := jobs.Run(context.Background(), cfg, quiet())
		if err != nil {
			t.Fatal(err)
		}
		if res.Manifest.Counters["rows_skipped"] != 2 || res.Manifest.Counters["rows_read"] != 11 {
			t.Fatalf("counters = %v", res.Manifest.Counters)
		}
	})
}

// stopAfter wraps a bucket and stops the server when the n-th object write
// starts: a crash in the middle of the run's writes.
type stopAfter struct {
	storage.Bucket
	n    *atomic.Int32
	stop func()
}

func (s stopAfter) NewWriter(ctx context.Context, key string) (storage.Writer, error) {
	if s.n.Add(-1) == 0 {
		s.stop()
	}
	return s.Bucket.NewWriter(ctx, key)
}

func TestRunS3WithServerCrash(t *testing.T) {
	srv := s3test.Start(t)
	srv.CreateBucket(t, "traj")
	srv.CreateBucket(t, "atlas")
	ctx := s3test.WaitCtx(t)
	s3cfg := storage.S3Config{Endpoint: srv.Endpoint, PathStyle: true, MaxAttempts: 1}
	inB, err := storage.Open(ctx, "s3://traj/raw", s3cfg)
	if err != nil {
		t.Fatal(err)
	}
	makeInput(t, inB, 5, 200)

	// The crash run reads local files, so that what fails is the write.
	localIn := t.TempDir()
	lb, _ := storage.NewLocal(localIn)
	makeInput(t, lb, 5, 200)
	cfg := config(t, localIn, "s3://atlas/nightly")
	cfg.S3 = s3cfg
	cfg.Workers = 1
	var n atomic.Int32
	n.Store(3)
	crashing := func(ctx context.Context, loc storage.Location) (storage.Bucket, error) {
		b, err := loc.Open(ctx)
		if err != nil || !strings.HasPrefix(loc.String(), "s3://atlas") {
			return b, err
		}
		return stopAfter{Bucket: b, n: &n, stop: srv.Stop}, nil
	}
	_, err = jobs.RunWith(ctx, cfg, quiet(), crashing)
	if err == nil || !strings.Contains(err.Error(), "nothing committed") || !strings.Contains(err.Error(), "endpoint unreachable") {
		t.Fatalf("run with the server stopped mid-write: %v", err)
	}
	t.Logf("crash run: %v", err)
	if strings.Contains(err.Error(), s3test.SecretKey) {
		t.Fatal("the secret key leaked into an error")
	}
	srv.Restart(t)
	outB, err := storage.Open(ctx, "s3://atlas/nightly", s3cfg)
	if err != nil {
		t.Fatal(err)
	}
	manifests, err := storage.List(ctx, outB, "runs/", func(k string) bool { return strings.HasSuffix(k, columnar.RunManifest) })
	if err != nil || len(manifests) != 0 {
		t.Fatalf("after the crash: manifests %v, %v", manifests, err)
	}

	res, err := jobs.Run(ctx, cfg, quiet())
	if err != nil {
		t.Fatal(err)
	}
	if res.Manifest.Counters["rows_read"] != 1000 {
		t.Fatalf("counters %v", res.Manifest.Counters)
	}
	// And S3 to S3, the nightly set-up (into an output and memory of its
	// own: the memory above holds these trajectories already, and an
	// incremental run would leave them out).
	cfg.Input = "s3://traj/raw"
	cfg.Output = "s3://atlas/nightly-s3"
	res, err = jobs.Run(ctx, cfg, quiet())
	if err != nil {
		t.Fatal(err)
	}
	if res.Manifest.Counters["rows_read"] != 1000 {
		t.Fatalf("counters %v", res.Manifest.Counters)
	}
	insp, err := jobs.Inspect(ctx, "s3://atlas/nightly-s3/"+res.RunDir, s3cfg)
	if err != nil || insp.Rows != 1000 || insp.Successes != 750 || len(insp.Partitions) != 3 {
		t.Fatalf("inspect = %+v, %v", insp, err)
	}
	outS3, err := storage.Open(ctx, "s3://atlas/nightly-s3", s3cfg)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := storage.Get(ctx, outS3, res.RunDir+"/"+columnar.RunManifest)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(raw, []byte(s3test.SecretKey)) || bytes.Contains(raw, []byte(s3test.AccessKey)) {
		t.Fatal("credentials in the manifest")
	}
}

// An input whose bytes change (even at the same size) is a different
// input: a new run id and new file names, so a failing re-run can never
// touch the files of the committed run.
func TestRunFingerprintCoversContent(t *testing.T) {
	in := t.TempDir()
	a, _ := json.Marshal(traj(1))
	p := filepath.Join(in, "x.jsonl")
	os.WriteFile(p, append(a, '\n'), 0o644)
	out := t.TempDir()
	first, err := jobs.Run(context.Background(), config(t, in, out), quiet())
	if err != nil {
		t.Fatal(err)
	}
	b := bytes.Replace(a, []byte("t-000001"), []byte("t-000002"), 1)
	os.WriteFile(p, append(b, '\n'), 0o644)
	second, err := jobs.Run(context.Background(), config(t, in, out), quiet())
	if err != nil {
		t.Fatal(err)
	}
	if first.RunDir == second.RunDir {
		t.Fatalf("changed input, same run %s", first.RunDir)
	}
	// A single file can be the input too.
	single, err := jobs.Run(context.Background(), config(t, p, t.TempDir()), quiet())
	if err != nil || single.Manifest.Counters["rows_read"] != 1 {
		t.Fatalf("single-file input: %v", err)
	}
}

// A run whose output store fails part-way (the n-th file commit, a write
// cut short) commits nothing and leaves nothing behind; the next run
// succeeds. The fault-injecting bucket wraps the real one.
func TestRunOutputFaults(t *testing.T) {
	in := t.TempDir()
	lb, _ := storage.NewLocal(in)
	makeInput(t, lb, 3, 200)
	tests := []struct {
		name   string
		inject func(fb *faultbucket.Bucket)
	}{
		{"second file commit fails", func(fb *faultbucket.Bucket) { fb.FailNth(faultbucket.OpCommit, 2, nil) }},
		{"manifest commit fails", func(fb *faultbucket.Bucket) {
			fb.FailWhen(faultbucket.OpNewWriter, func(c faultbucket.Call) bool { return strings.HasSuffix(c.Key, columnar.RunManifest) }, nil)
		}},
		{"a concepts write is cut", func(fb *faultbucket.Bucket) {
			fb.CutWritesAfter(100, func(k string) bool { return strings.Contains(k, "/concepts/") }, nil)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out := t.TempDir()
			cfg := config(t, in, out)
			open := func(ctx context.Context, loc storage.Location) (storage.Bucket, error) {
				b, err := loc.Open(ctx)
				if err != nil {
					return nil, err
				}
				fb := faultbucket.New(b)
				tc.inject(fb)
				return fb, nil
			}
			_, err := jobs.RunWith(context.Background(), cfg, quiet(), open)
			if err == nil || !strings.Contains(err.Error(), "nothing committed") || !errors.Is(err, faultbucket.ErrInjected) {
				t.Fatalf("run with a fault: %v", err)
			}
			if left := dataFiles(t, out); len(left) != 0 {
				t.Fatalf("a failed run left %v", slices.Sorted(maps.Keys(left)))
			}
			if _, err := jobs.Run(context.Background(), cfg, quiet()); err != nil {
				t.Fatal(err)
			}
		})
	}
}
