package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/atlas-ai/atlas-learn/columnar"
	"github.com/atlas-ai/atlas-learn/columnar/storage"
	"github.com/atlas-ai/atlas-learn/internal/s3test"
	"github.com/atlas-ai/atlas-learn/jobs"
	"github.com/atlas-ai/atlas-learn/jobs/analysis"
	"github.com/atlas-ai/atlas-learn/jobs/memory"
)

// These tests run the job as separate processes, the way a scheduler
// does, against the real S3 server: N map processes and a reduce, and
// runs killed with SIGKILL at random moments.

// binary builds atlas-learn once per test binary.
var binary = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "atlas-learn-bin-")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "atlas-learn")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	return bin, nil
})

func atlasBin(t *testing.T) string {
	t.Helper()
	bin, err := binary()
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

// s3Args are the flags that point a command at the test server.
func s3Args(srv *s3test.Server) []string {
	return []string{"--set", "s3.endpoint=" + srv.Endpoint, "--set", "s3.path_style=true", "--log-level", "error"}
}

func atlasCmd(ctx context.Context, t *testing.T, srv *s3test.Server, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, atlasBin(t), append(args, s3Args(srv)...)...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	return cmd
}

func runAtlas(ctx context.Context, t *testing.T, srv *s3test.Server, args ...string) string {
	t.Helper()
	cmd := atlasCmd(ctx, t, srv, args...)
	err := cmd.Run()
	out := cmd.Stdout.(*bytes.Buffer).String()
	if err != nil {
		t.Fatalf("atlas-learn %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// N processes, each a shard of the map step (one killed half-way and run
// again, one taking its index from JOB_COMPLETION_INDEX), then the reduce
// (started before the shards finish, waiting for them): the committed run
// has exactly the datasets of a run in one process — every batch stage's
// files byte-identical, every trajectory stage's rows identical and in
// the same order — and the memory advances to the same version.
func TestShardedRunEqualsSingleProcessS3(t *testing.T) {
	srv := s3test.Start(t)
	srv.CreateBucket(t, "traj")
	srv.CreateBucket(t, "atlas")
	ctx := s3test.WaitCtx(t)
	const in = "s3://traj/raw"
	runAtlas(ctx, t, srv, "gen", "--n", "3000", "--seed", "5", "--output", in, "--set", "parquet.rows_per_file=200")

	runAtlas(ctx, t, srv, "run", "--input", in, "--output", "s3://atlas/single", "--workers", "2")

	const n = 3
	out := "s3://atlas/multi"
	// The reduce starts first and waits for the shards.
	reduce := atlasCmd(ctx, t, srv, "run", "--input", in, "--output", out, "--reduce", "--shards", fmt.Sprint(n), "--wait", "2m")
	if err := reduce.Start(); err != nil {
		t.Fatal(err)
	}
	// Shard 1 is killed once in the middle of its work, then run again.
	killed := atlasCmd(ctx, t, srv, "run", "--input", in, "--output", out, "--shard", fmt.Sprintf("1/%d", n), "--workers", "1")
	if err := killed.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(400 * time.Millisecond)
	_ = killed.Process.Signal(syscall.SIGKILL)
	_ = killed.Wait()

	var wg sync.WaitGroup
	errs := make([]error, n)
	outs := make([]string, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			args := []string{"run", "--input", in, "--output", out, "--workers", "1"}
			cmd := atlasCmd(ctx, t, srv, append(args, "--shard", fmt.Sprintf("%d/%d", i, n))...)
			if i == n-1 {
				// The Kubernetes Indexed Job way: the index from the pod's environment.
				cmd = atlasCmd(ctx, t, srv, append(args, "--shards", fmt.Sprint(n))...)
				cmd.Env = append(os.Environ(), fmt.Sprintf("JOB_COMPLETION_INDEX=%d", i))
			}
			errs[i] = cmd.Run()
			outs[i] = cmd.Stdout.(*bytes.Buffer).String()
		}()
	}
	wg.Wait()
	for i := range n {
		ok := strings.Contains(outs[i], fmt.Sprintf("shard %d/%d committed", i, n))
		if i == 1 {
			// the killed attempt may have committed before the kill came
			ok = ok || strings.Contains(outs[i], fmt.Sprintf("shard %d/%d already committed", i, n))
		}
		if errs[i] != nil || !ok {
			t.Fatalf("shard %d: %v\n%s", i, errs[i], outs[i])
		}
	}
	if err := reduce.Wait(); err != nil {
		t.Fatalf("reduce: %v\n%s", err, reduce.Stdout.(*bytes.Buffer).String())
	}
	// A shard run again finds itself committed and does nothing.
	if got := runAtlas(ctx, t, srv, "run", "--input", in, "--output", out, "--shard", "0/3"); !strings.Contains(got, "nothing new") && !strings.Contains(got, "already committed") {
		t.Fatalf("shard re-run: %s", got)
	}

	b := openS3(ctx, t, srv, "s3://atlas")
	single, multi := committed(ctx, t, b, "single"), committed(ctx, t, b, "multi")
	if single.runID != multi.runID {
		t.Fatalf("run ids %s and %s", single.runID, multi.runID)
	}
	sm, mm := single.manifest, multi.manifest
	for _, field := range []string{"counters", "stages", "inputs", "decisions", "warnings", "fingerprint", "kind"} {
		if !reflect.DeepEqual(sm[field], mm[field]) {
			t.Errorf("manifest %s: one process %v, %d shards %v", field, sm[field], n, mm[field])
		}
	}
	if multi.shards != n {
		t.Errorf("the reduce's manifest says %d shards", multi.shards)
	}
	trajectoryStage := map[string]bool{"trajectories": true, "analysis": true, "experience": true}
	if !reflect.DeepEqual(keys(single.datasets), keys(multi.datasets)) {
		t.Fatalf("datasets %v and %v", keys(single.datasets), keys(multi.datasets))
	}
	for name, sd := range single.datasets {
		md := multi.datasets[name]
		if sd.Rows != md.Rows {
			t.Errorf("dataset %s: %d rows, sharded %d", name, sd.Rows, md.Rows)
		}
		if trajectoryStage[sd.Stage] {
			if len(md.Files) < n {
				t.Errorf("dataset %s: %d files from %d shards", name, len(md.Files), n)
			}
			continue
		}
		if !reflect.DeepEqual(fileSums(sd), fileSums(md)) {
			t.Errorf("batch dataset %s: files differ:\n%v\n%v", name, fileSums(sd), fileSums(md))
		}
	}
	s3cfg := storage.S3Config{Endpoint: srv.Endpoint, PathStyle: true}
	for _, ds := range []struct {
		name string
		rows func(uri string) []string
	}{
		{"trajectories", func(uri string) []string {
			return rowsOf[columnar.Trajectory](ctx, t, uri, s3cfg, "trajectories", columnar.TrajectorySchema)
		}},
		{"analysis", func(uri string) []string {
			return rowsOf[analysis.Row](ctx, t, uri, s3cfg, "analysis", jobs.AnalysisSchema)
		}},
		{"experience", func(uri string) []string {
			return rowsOf[memory.Experience](ctx, t, uri, s3cfg, "experience", jobs.ExperienceSchema)
		}},
	} {
		a, m := ds.rows("s3://atlas/single/runs/"+single.runID), ds.rows("s3://atlas/multi/runs/"+multi.runID)
		if len(a) != 3000 || !reflect.DeepEqual(a, m) {
			t.Errorf("dataset %s: %d rows in one process, %d sharded, or not the same rows in the same order", ds.name, len(a), len(m))
		}
	}
	if !reflect.DeepEqual(single.memory, multi.memory) {
		t.Errorf("memory differs:\n%v\n%v", single.memory, multi.memory)
	}
}

// The job killed with SIGKILL at random moments, again and again, then
// run to the end: no reader ever sees a half-written dataset (every
// committed manifest's files are there with their checksums), and the
// committed result — run, datasets, memory and fine-tune state — is
// byte-identical to an uninterrupted run's.
func TestRunKilledAndResumedS3(t *testing.T) {
	srv := s3test.Start(t)
	srv.CreateBucket(t, "traj")
	srv.CreateBucket(t, "atlas")
	ctx := s3test.WaitCtx(t)
	const in = "s3://traj/raw"
	runAtlas(ctx, t, srv, "gen", "--n", "2000", "--seed", "9", "--output", in, "--set", "parquet.rows_per_file=250")
	b := openS3(ctx, t, srv, "s3://atlas")

	start := time.Now()
	runAtlas(ctx, t, srv, "run", "--input", in, "--output", "s3://atlas/ref")
	full := time.Since(start)
	ref := committed(ctx, t, b, "ref")
	t.Logf("uninterrupted run: %v", full.Round(time.Millisecond))

	seed := time.Now().UnixNano()
	rng := rand.New(rand.NewPCG(uint64(seed), 7))
	t.Logf("kill moments seeded %d", seed)
	// Each attempt is killed at a random moment of a run's duration (the
	// latest one seen to finish); an attempt that finishes first starts a
	// new chain on a fresh output, after checking its result.
	scale := full
	chain, kills := 0, 0
	out := func() string { return fmt.Sprintf("kill%d", chain) }
	finish := func(got string) {
		t.Helper()
		checkVisible(ctx, t, b, out())
		if res := committed(ctx, t, b, out()); !reflect.DeepEqual(ref.comparable(), res.comparable()) {
			t.Fatalf("%s: after %d kills (%s) the committed result differs from the uninterrupted run's:\n%v\n%v", out(), kills, strings.TrimSpace(got), ref.comparable(), res.comparable())
		}
	}
	for k := range 10 {
		cmd := atlasCmd(ctx, t, srv, "run", "--input", in, "--output", "s3://atlas/"+out())
		began := time.Now()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Half the moments anywhere, half near the end, where the commit,
		// the fine-tune state and the memory's CURRENT are written one
		// after another.
		delay := time.Duration(rng.Float64() * float64(scale))
		if k%2 == 1 {
			delay = time.Duration((0.8 + 0.25*rng.Float64()) * float64(scale))
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("%s: run: %v\n%s", out(), err, cmd.Stdout.(*bytes.Buffer).String())
			}
			scale = time.Since(began)
			t.Logf("attempt %d finished in %v, before %v", k, scale.Round(time.Millisecond), delay.Round(time.Millisecond))
			finish(cmd.Stdout.(*bytes.Buffer).String())
			chain++
		case <-time.After(delay):
			_ = cmd.Process.Signal(syscall.SIGKILL)
			<-done
			kills++
			t.Logf("attempt %d killed at %v", k, delay.Round(time.Millisecond))
			checkVisible(ctx, t, b, out())
		}
	}
	finish(runAtlas(ctx, t, srv, "run", "--input", in, "--output", "s3://atlas/"+out()))
	if kills < 5 {
		t.Fatalf("only %d of the 10 attempts were killed before they finished", kills)
	}
}

// result is what an output holds for readers: its committed run and
// memory.
type result struct {
	runID    string
	manifest map[string]any
	shards   int
	datasets map[string]columnar.DatasetEntry
	// memory maps every file the memory's current version names (and
	// CURRENT, the version manifest and the fine-tune state, with their
	// run-time fields removed) to its checksum.
	memory map[string]string
}

// comparable is the result with what two outputs can share: no
// locations, no timings.
func (r result) comparable() map[string]any {
	m := map[string]any{}
	for k, v := range r.manifest {
		if k != "run" && k != "config" {
			m[k] = v
		}
	}
	return map[string]any{"run_id": r.runID, "manifest": m, "memory": r.memory}
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func fileSums(d columnar.DatasetEntry) []string {
	out := make([]string, len(d.Files))
	for i, f := range d.Files {
		out[i] = fmt.Sprintf("%s %d", f.SHA256, f.Rows)
	}
	return out
}

func openS3(ctx context.Context, t *testing.T, srv *s3test.Server, uri string) storage.Bucket {
	t.Helper()
	b, err := storage.Open(ctx, uri, storage.S3Config{Endpoint: srv.Endpoint, PathStyle: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

// committed reads the one committed run under prefix and the memory.
func committed(ctx context.Context, t *testing.T, b storage.Bucket, prefix string) result {
	t.Helper()
	keys, err := storage.List(ctx, b, prefix+"/runs/", func(k string) bool {
		rest := strings.TrimPrefix(k, prefix+"/runs/")
		return strings.Count(rest, "/") == 1 && strings.HasSuffix(rest, "/"+columnar.RunManifest)
	})
	if err != nil || len(keys) != 1 {
		t.Fatalf("%s: run manifests %v, %v", prefix, keys, err)
	}
	key := keys[0].Key
	m, err := columnar.ReadManifest(ctx, b, key)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := storage.Get(ctx, b, key)
	r := result{runID: m.Run.ID, shards: m.Run.Shards, datasets: map[string]columnar.DatasetEntry{}, memory: map[string]string{}}
	if err := json.Unmarshal(raw, &r.manifest); err != nil {
		t.Fatal(err)
	}
	for _, d := range m.Datasets {
		r.datasets[d.Name] = d
	}
	// The memory: CURRENT, its version, the fine-tune state.
	cur, err := storage.Get(ctx, b, prefix+"/memory/CURRENT")
	if err != nil {
		t.Fatalf("%s: memory: %v", prefix, err)
	}
	r.memory["CURRENT"] = string(cur)
	var ptr struct {
		Dir string `json:"dir"`
	}
	if err := json.Unmarshal(cur, &ptr); err != nil || ptr.Dir == "" {
		t.Fatalf("%s: CURRENT %s: %v", prefix, cur, err)
	}
	vkey := storage.Join(prefix, "memory", ptr.Dir, columnar.RunManifest)
	vm, err := columnar.ReadManifest(ctx, b, vkey)
	if err != nil {
		t.Fatalf("%s: %v", prefix, err)
	}
	for _, d := range vm.Datasets {
		for _, f := range d.Files {
			r.memory[d.Name+"/"+f.Path] = f.SHA256
		}
	}
	vm.Run, vm.Config = columnar.RunInfo{}, nil
	vj, _ := json.Marshal(vm)
	r.memory["version manifest"] = string(vj)
	state, err := storage.Get(ctx, b, prefix+"/memory/finetune/state.json")
	if err != nil {
		t.Fatalf("%s: fine-tune state: %v", prefix, err)
	}
	r.memory["finetune state"] = string(state)
	return r
}

// checkVisible fails when a manifest under prefix names a file that is
// missing or not what it recorded, or CURRENT names a version without a
// manifest: what a reader would see as a half-written dataset.
func checkVisible(ctx context.Context, t *testing.T, b storage.Bucket, prefix string) {
	t.Helper()
	all, err := storage.List(ctx, b, prefix+"/", nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range all {
		if !strings.HasSuffix(o.Key, "/"+columnar.RunManifest) {
			continue
		}
		m, err := columnar.ReadManifest(ctx, b, o.Key)
		if err != nil {
			t.Fatalf("%s: a visible manifest that does not read: %v", o.Key, err)
		}
		dir := strings.TrimSuffix(o.Key, columnar.RunManifest)
		for _, d := range m.Datasets {
			for _, f := range d.Files {
				data, err := storage.Get(ctx, b, dir+f.Path)
				if err != nil {
					t.Fatalf("%s names %s (dataset %s): %v", o.Key, f.Path, d.Name, err)
				}
				if sum := sha256.Sum256(data); hex.EncodeToString(sum[:]) != f.SHA256 || int64(len(data)) != f.Bytes {
					t.Fatalf("%s names %s (dataset %s): not the file it recorded", o.Key, f.Path, d.Name)
				}
			}
		}
	}
	cur, err := storage.Get(ctx, b, prefix+"/memory/CURRENT")
	if err != nil {
		return
	}
	var ptr struct {
		Dir string `json:"dir"`
	}
	if err := json.Unmarshal(cur, &ptr); err != nil {
		t.Fatalf("CURRENT %q: %v", cur, err)
	}
	if _, err := columnar.ReadManifest(ctx, b, storage.Join(prefix, "memory", ptr.Dir, columnar.RunManifest)); err != nil {
		t.Fatalf("CURRENT names %s, whose manifest does not read: %v", ptr.Dir, err)
	}
}

// rowsOf reads a committed dataset's rows as JSON, in order.
func rowsOf[T any](ctx context.Context, t *testing.T, uri string, s3 storage.S3Config, dataset string, schema columnar.Schema) []string {
	t.Helper()
	var out []string
	err := jobs.ReadDataset(ctx, uri, s3, dataset, schema, func(r *T) error {
		b, err := json.Marshal(r)
		out = append(out, string(b))
		return err
	})
	if err != nil {
		t.Fatalf("%s %s: %v", uri, dataset, err)
	}
	return out
}
