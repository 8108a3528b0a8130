package jobs_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/atlas-ai/atlas-learn/columnar"
	"github.com/atlas-ai/atlas-learn/columnar/storage"
	"github.com/atlas-ai/atlas-learn/internal/trajgen"
	"github.com/atlas-ai/atlas-learn/jobs"
	"github.com/atlas-ai/atlas-learn/jobs/analysis"
)

// runSharded runs the map step as n shards, one after another, then the
// reduce.
func runSharded(t *testing.T, cfg jobs.Config, n int) *jobs.Result {
	t.Helper()
	ctx := context.Background()
	for i := range n {
		if _, err := jobs.RunWithOptions(ctx, cfg, quiet(), jobs.RunOptions{Shard: jobs.Shard{Index: i, Count: n}}); err != nil {
			t.Fatalf("shard %d/%d: %v", i, n, err)
		}
	}
	res, err := jobs.RunWithOptions(ctx, cfg, quiet(), jobs.RunOptions{Reduce: n})
	if err != nil {
		t.Fatalf("reduce %d: %v", n, err)
	}
	return res
}

// datasetRows reads a committed dataset's rows as JSON, in order.
func datasetRows[T any](t *testing.T, uri, dataset string, schema columnar.Schema) []string {
	t.Helper()
	var out []string
	if err := jobs.ReadDataset(context.Background(), uri, storage.S3Config{}, dataset, schema, func(r *T) error {
		b, err := json.Marshal(r)
		out = append(out, string(b))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

// checkWhole fails when a file the run manifest names is missing or not
// what it recorded.
func checkWhole(t *testing.T, out string, res *jobs.Result) {
	t.Helper()
	for _, d := range res.Manifest.Datasets {
		for _, f := range d.Files {
			data, err := os.ReadFile(filepath.Join(out, res.RunDir, f.Path))
			if err != nil {
				t.Fatalf("dataset %s: %v", d.Name, err)
			}
			if sum := sha256.Sum256(data); hex.EncodeToString(sum[:]) != f.SHA256 {
				t.Fatalf("dataset %s: %s is not the file the manifest recorded", d.Name, f.Path)
			}
		}
	}
}

// Twelve shards over an input whose Hive partitions recur in two
// directories (agent-a/dt=…, agent-b/dt=…): the reduce reads the shards'
// files partition by partition and shard by shard, as one process reads
// its own, so the rows and every batch stage's files are the same. Then
// the same run reduced again with other shard counts keeps every file
// its manifest names.
func TestShardedRunOrderAndShardCounts(t *testing.T) {
	in := t.TempDir()
	for _, agent := range []string{"agent-a", "agent-b"} {
		b, err := storage.NewLocal(filepath.Join(in, agent))
		if err != nil {
			t.Fatal(err)
		}
		makeInput(t, b, 12, 40)
	}
	one := t.TempDir()
	cfg := config(t, in, one)
	cfg.Workers = 2
	single, err := jobs.Run(context.Background(), cfg, quiet())
	if err != nil {
		t.Fatal(err)
	}
	many := t.TempDir()
	cfg.Output = many
	cfg.Incremental = false // the same run, reduced with several shard counts
	sharded := runSharded(t, cfg, 12)
	checkWhole(t, many, sharded)
	if single.RunDir != sharded.RunDir {
		t.Fatalf("run dirs %s and %s", single.RunDir, sharded.RunDir)
	}
	byName := func(m *columnar.Manifest) map[string]columnar.DatasetEntry {
		out := map[string]columnar.DatasetEntry{}
		for _, d := range m.Datasets {
			out[d.Name] = d
		}
		return out
	}
	sd, md := byName(single.Manifest), byName(sharded.Manifest)
	for name, d := range sd {
		if d.Stage == "trajectories" || d.Stage == "analysis" || d.Stage == "experience" {
			continue
		}
		var a, b []string
		for _, f := range d.Files {
			a = append(a, f.SHA256)
		}
		for _, f := range md[name].Files {
			b = append(b, f.SHA256)
		}
		if !reflect.DeepEqual(a, b) {
			t.Errorf("batch dataset %s differs between one process and 12 shards", name)
		}
	}
	for _, ds := range []struct {
		name string
		rows func(uri string) []string
	}{
		{"trajectories", func(uri string) []string {
			return datasetRows[columnar.Trajectory](t, uri, "trajectories", columnar.TrajectorySchema)
		}},
		{"analysis", func(uri string) []string { return datasetRows[analysis.Row](t, uri, "analysis", jobs.AnalysisSchema) }},
	} {
		a, b := ds.rows(filepath.Join(one, single.RunDir)), ds.rows(filepath.Join(many, sharded.RunDir))
		for i := range min(len(a), len(b)) {
			if a[i] != b[i] {
				t.Logf("%s: first difference at row %d:\n%.200s\n%.200s", ds.name, i, a[i], b[i])
				break
			}
		}
		if len(a) != 960 || !reflect.DeepEqual(a, b) {
			t.Errorf("%s: %d rows in one process, %d from 12 shards, or not in the same order", ds.name, len(a), len(b))
		}
	}
	// Reduced again with 2, then 3, then 2 shards: replacing the run
	// manifest never deletes a shard's files.
	for _, n := range []int{2, 3, 2} {
		res := runSharded(t, cfg, n)
		checkWhole(t, many, res)
		if res.Manifest.Run.Shards != n {
			t.Fatalf("reduce %d: manifest says %d shards", n, res.Manifest.Run.Shards)
		}
	}
	// Readers of the output's runs/ see each run once (its shards are
	// under "_", read only through the run manifest), in the reduce's
	// order.
	runs, _ := filepath.Glob(filepath.Join(many, "runs", "*", columnar.RunManifest))
	insp, err := jobs.Inspect(context.Background(), filepath.Join(many, "runs"), storage.S3Config{})
	if err != nil || len(runs) == 0 || insp.Rows != int64(960*len(runs)) {
		t.Fatalf("inspect runs/ (%d runs): %+v, %v", len(runs), insp, err)
	}
	if got := datasetRows[columnar.Trajectory](t, filepath.Join(many, sharded.RunDir), "trajectories", columnar.TrajectorySchema); !reflect.DeepEqual(got, datasetRows[columnar.Trajectory](t, filepath.Join(one, single.RunDir), "trajectories", columnar.TrajectorySchema)) {
		t.Fatal("the reduced run read back differs")
	}
	// And a reader of the directory takes the run's files in its
	// manifest's order (shard 10 after shard 9), not in key order.
	lb, _ := storage.NewLocal(many)
	src, err := columnar.OpenSource(context.Background(), lb, "runs")
	if err != nil {
		t.Fatal(err)
	}
	id := filepath.Base(sharded.RunDir)
	var got, want []string
	for _, f := range src.Files {
		if rest, ok := strings.CutPrefix(f.Rel, id+"/"); ok {
			got = append(got, rest)
		}
	}
	for _, d := range sharded.Manifest.Datasets {
		if d.Name == "trajectories" {
			for _, f := range d.Files {
				want = append(want, f.Path)
			}
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("files read from runs/:\n%v\nmanifest:\n%v", got, want)
	}
	_ = fmt.Sprint
}

// With counterfactual credit each shard writes its replay cache; the
// reduce merges them by key into the cache one process writes.
func TestShardedRunMergesReplayCaches(t *testing.T) {
	in := filepath.Join(t.TempDir(), "gen")
	gc := trajgen.DefaultConfig()
	gc.N, gc.Seed = 60, 5
	if _, err := jobs.Gen(context.Background(), jobs.GenOptions{Gen: gc, Output: in, Workers: 2, Parquet: jobs.ParquetConfig{RowsPerFile: 10}}, quiet()); err != nil {
		t.Fatal(err)
	}
	one := t.TempDir()
	cfg := config(t, in, one)
	cfg.Stages = []string{"trajectories", "analysis", "error_patterns"}
	cfg.Analysis.Credit = "counterfactual"
	cfg.Workers = 2
	single, err := jobs.Run(context.Background(), cfg, quiet())
	if err != nil {
		t.Fatal(err)
	}
	many := t.TempDir()
	cfg.Output = many
	sharded := runSharded(t, cfg, 3)
	checkWhole(t, many, sharded)
	type replay struct {
		Key   string  `parquet:"key"`
		Score float64 `parquet:"score"`
	}
	a := datasetRows[replay](t, filepath.Join(one, single.RunDir), "replays", jobs.ReplaysSchema)
	b := datasetRows[replay](t, filepath.Join(many, sharded.RunDir), "replays", jobs.ReplaysSchema)
	if len(a) == 0 || !reflect.DeepEqual(a, b) {
		t.Fatalf("replays: %d rows in one process, %d from 3 shards, or not the same", len(a), len(b))
	}
	for _, name := range []string{"analysis", "error_patterns", "error_occurrences"} {
		var x, y columnar.DatasetEntry
		for _, d := range single.Manifest.Datasets {
			if d.Name == name {
				x = d
			}
		}
		for _, d := range sharded.Manifest.Datasets {
			if d.Name == name {
				y = d
			}
		}
		if x.Rows != y.Rows || x.Rows == 0 {
			t.Errorf("%s: %d rows, sharded %d", name, x.Rows, y.Rows)
		}
	}
	a2 := datasetRows[analysis.Row](t, filepath.Join(one, single.RunDir), "analysis", jobs.AnalysisSchema)
	b2 := datasetRows[analysis.Row](t, filepath.Join(many, sharded.RunDir), "analysis", jobs.AnalysisSchema)
	if !reflect.DeepEqual(a2, b2) {
		t.Fatal("analysis rows differ between one process and 3 shards")
	}
}
