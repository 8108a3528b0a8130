package jobs_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/atlas-ai/atlas-learn/columnar"
	"github.com/atlas-ai/atlas-learn/columnar/storage"
	"github.com/atlas-ai/atlas-learn/internal/trajgen"
	"github.com/atlas-ai/atlas-learn/jobs"
)

// genInput generates n trajectories into a new directory.
func genInput(t *testing.T, n int, seed int64) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "gen")
	gc := trajgen.DefaultConfig()
	gc.N, gc.Seed = n, seed
	cfg := config(t, dir, dir)
	if _, err := jobs.Gen(context.Background(), jobs.GenOptions{Gen: gc, Output: dir, Workers: 2, Parquet: cfg.Parquet}, quiet()); err != nil {
		t.Fatal(err)
	}
	return dir
}

// The concepts stage learns from the run's successful solutions, with
// the same files whatever the worker count, and extends an earlier run's
// library.
func TestRunConceptsStage(t *testing.T) {
	in := genInput(t, 3000, 11)
	var first map[string][]byte
	var firstRun string
	var firstOut string
	for _, workers := range []int{1, 2, 8} {
		out := t.TempDir()
		cfg := config(t, in, out)
		cfg.Workers = workers
		cfg.Concepts.Iterations = 4
		cfg.Concepts.MaxSolutions = 500
		res, err := jobs.Run(context.Background(), cfg, quiet())
		if err != nil {
			t.Fatal(err)
		}
		files := dataFiles(t, filepath.Join(out, res.RunDir))
		d := res.Manifest.Dataset(jobs.ConceptsDataset)
		if d == nil || d.Rows != 4 || d.Stage != "concepts" || d.Schema != "concept" {
			t.Fatalf("concepts entry %+v", d)
		}
		var st *columnar.StageEntry
		for i := range res.Manifest.Stages {
			if res.Manifest.Stages[i].Name == "concepts" {
				st = &res.Manifest.Stages[i]
			}
		}
		if st == nil || st.Kind != "batch" || st.Counters["distinct_solutions"] != 500 || st.Counters["solutions_over_cap"] == 0 ||
			st.Counters["solutions_seen"] != res.Manifest.Counters["successes"] {
			t.Fatalf("concepts stage %+v (run counters %v)", st, res.Manifest.Counters)
		}
		if first == nil {
			first, firstRun, firstOut = files, res.RunDir, out
			continue
		}
		sameFiles(t, "workers", first, files)
	}
	concepts, err := jobs.ReadConcepts(context.Background(), filepath.Join(firstOut, firstRun), columnarS3())
	if err != nil {
		t.Fatal(err)
	}
	if len(concepts) != 4 || concepts[0].Trajectories == 0 || len(concepts[0].TrajectoryIDs) == 0 {
		t.Fatalf("concepts %+v", concepts)
	}

	// The next night: new trajectories, yesterday's library extended.
	in2 := genInput(t, 2000, 12)
	out2 := t.TempDir()
	cfg := config(t, in2, out2)
	cfg.Concepts.Iterations = 2
	cfg.Concepts.Library = filepath.Join(firstOut, firstRun)
	res, err := jobs.Run(context.Background(), cfg, quiet())
	if err != nil {
		t.Fatal(err)
	}
	ext, err := jobs.ReadConcepts(context.Background(), filepath.Join(out2, res.RunDir, jobs.ConceptsDataset), columnarS3())
	if err != nil {
		t.Fatal(err)
	}
	if len(ext) < 4 {
		t.Fatalf("extended library has %d concepts", len(ext))
	}
	for i := range concepts {
		if ext[i].Name != concepts[i].Name || ext[i].Body != concepts[i].Body || !ext[i].FromLibrary {
			t.Fatalf("library concept %d: %+v", i, ext[i])
		}
	}
	// The library is part of the run's identity.
	cfg.Concepts.Library = ""
	res2, err := jobs.Run(context.Background(), cfg, quiet())
	if err != nil {
		t.Fatal(err)
	}
	if res2.RunDir == res.RunDir {
		t.Fatal("runs with and without a library share an id")
	}

	// A library of another schema is refused, naming the schema.
	cfg.Concepts.Library, cfg.Incremental = in, false
	_, err = jobs.Run(context.Background(), cfg, quiet())
	if err == nil || !strings.Contains(err.Error(), "concepts.library") || !strings.Contains(err.Error(), `no "concepts" dataset`) {
		t.Fatalf("a trajectory dataset as library: %v", err)
	}
}

// Without successful solutions the stage still writes its dataset, empty
// but with its schema.
func TestRunConceptsEmpty(t *testing.T) {
	in := t.TempDir()
	rows := []columnar.Trajectory{traj(0), traj(4), traj(8)} // all failures
	var lines []byte
	for _, r := range rows {
		b, _ := json.Marshal(r)
		lines = append(append(lines, b...), '\n')
	}
	if err := os.WriteFile(filepath.Join(in, "x.jsonl"), lines, 0o644); err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	res, err := jobs.Run(context.Background(), config(t, in, out), quiet())
	if err != nil {
		t.Fatal(err)
	}
	d := res.Manifest.Dataset(jobs.ConceptsDataset)
	if d == nil || d.Rows != 0 || len(d.Files) != 1 {
		t.Fatalf("empty concepts entry %+v", d)
	}
	got, err := jobs.ReadConcepts(context.Background(), filepath.Join(out, res.RunDir), columnarS3())
	if err != nil || len(got) != 0 {
		t.Fatalf("read empty concepts: %v, %v", got, err)
	}
}

func columnarS3() storage.S3Config { return storage.S3Config{} }

// TestRunConceptsSearchTimeout: a search that runs out of
// concepts.search_timeout stops the learning with a warning and a counter
// (on_search_timeout: stop, the default), or fails the run naming the
// iteration (fail).
func TestRunConceptsSearchTimeout(t *testing.T) {
	in := genInput(t, 300, 5)
	for _, policy := range []string{jobs.OnSearchTimeoutStop, jobs.OnSearchTimeoutFail} {
		t.Run(policy, func(t *testing.T) {
			cfg := config(t, in, t.TempDir())
			cfg.Stages = []string{"trajectories", "concepts"}
			cfg.Concepts.Iterations = 3
			cfg.Concepts.SearchTimeout = time.Nanosecond
			cfg.Concepts.OnSearchTimeout = policy
			res, err := jobs.Run(context.Background(), cfg, quiet())
			if policy == jobs.OnSearchTimeoutFail {
				if err == nil || !strings.Contains(err.Error(), "iteration 0: the search ran out of its time") {
					t.Fatalf("run: %v, want the timeout of iteration 0", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			c := countersOf(res.Manifest, "concepts")
			if c["search_timeouts"] != 1 || c["concepts_learned"] != 0 {
				t.Errorf("counters %v", c)
			}
			if d := res.Manifest.Dataset(jobs.ConceptsDataset); d == nil || d.Rows != 0 {
				t.Errorf("concepts dataset %+v", d)
			}
			warned := false
			for _, w := range res.Manifest.Warnings {
				warned = warned || strings.Contains(w, "concepts.search_timeout")
			}
			if !warned {
				t.Errorf("no warning about the timeout in %q", res.Manifest.Warnings)
			}
		})
	}
	cfg := config(t, in, t.TempDir())
	cfg.Concepts.OnSearchTimeout = "retry"
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "concepts.on_search_timeout") {
		t.Errorf("on_search_timeout retry: %v", err)
	}
}
