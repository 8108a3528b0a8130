package jobs_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/atlas-ai/atlas-learn/columnar"
	"github.com/atlas-ai/atlas-learn/columnar/storage"
	"github.com/atlas-ai/atlas-learn/internal/shareddata"
	"github.com/atlas-ai/atlas-learn/internal/trajgen"
	"github.com/atlas-ai/atlas-learn/jobs"
	"github.com/atlas-ai/atlas-learn/jobs/concepts"
	"github.com/atlas-ai/atlas-learn/jobs/memory"
)

// genRange writes generated trajectories [lo, hi) of seed as one input
// directory.
func genRange(t *testing.T, seed int64, lo, hi int) string {
	t.Helper()
	gc := trajgen.DefaultConfig()
	gc.N, gc.Seed = hi, seed
	g, err := trajgen.New(gc)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), fmt.Sprintf("in-%d-%d", lo, hi))
	b, err := storage.NewLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	w, err := b.NewWriter(ctx, "part-00000.parquet")
	if err != nil {
		t.Fatal(err)
	}
	pw, _ := columnar.NewWriter[columnar.Trajectory](w, columnar.WriterOptions{RowGroupRows: 256})
	var rows []columnar.Trajectory
	if err := g.Range(ctx, lo, hi, func(tr columnar.Trajectory) error { rows = append(rows, tr); return nil }); err != nil {
		t.Fatal(err)
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
	return dir
}

func readPointer(t *testing.T, out string) jobs.MemoryPointer {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(out, "memory", "CURRENT"))
	if err != nil {
		t.Fatal(err)
	}
	var p jobs.MemoryPointer
	if err := json.Unmarshal(data, &p); err != nil {
		t.Fatal(err)
	}
	return p
}

func readMemory[T any](t *testing.T, out, dir, dataset string, schema columnar.Schema) []T {
	t.Helper()
	var rows []T
	err := jobs.ReadDataset(context.Background(), filepath.Join(out, "memory", dir), storage.S3Config{}, dataset, schema, func(r *T) error {
		rows = append(rows, *r)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

func countersOf(m *columnar.Manifest, stage string) map[string]int64 {
	for _, s := range m.Stages {
		if s.Name == stage {
			return s.Counters
		}
	}
	return nil
}

// Two nightly runs over overlapping trajectories grow one memory: each
// trajectory is stored once, plan uses add up, the concept lineage spans
// both runs, and running either night again changes nothing.
func TestMemoryTwoNights(t *testing.T) {
	night1, night2 := genRange(t, 5, 0, 600), genRange(t, 5, 300, 900)
	out := t.TempDir()
	run := func(in, id string) *jobs.Result {
		cfg := config(t, in, out)
		cfg.RunID = id
		cfg.Stages = []string{"trajectories", "analysis", "experience", "concepts", "strategies", "memory"}
		cfg.Concepts.Iterations = 3
		res, err := jobs.Run(context.Background(), cfg, quiet())
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	r1 := run(night1, "night-1")
	if c := countersOf(r1.Manifest, "memory"); c["experience_new"] != 600 || c["memory_version"] != 1 {
		t.Fatalf("night 1 memory counters %v", c)
	}
	p1 := readPointer(t, out)
	if p1.Version != "000001" || p1.RunID != "night-1" {
		t.Fatalf("pointer after night 1: %+v", p1)
	}
	r2 := run(night2, "night-2")
	c2 := countersOf(r2.Manifest, "memory")
	// the 300 trajectories of night 1 that night 2 reads again are left
	// out of its stages (the memory holds them with the same content)
	if c2["experience_new"] != 300 || c2["experience_duplicates"] != 0 || c2["memory_version"] != 2 {
		t.Fatalf("night 2 memory counters %v", c2)
	}
	if got := r2.Manifest.Counters["rows_already_in_memory"]; got != 300 || r2.Manifest.Counters["rows_read"] != 600 {
		t.Fatalf("night 2 run counters %v", r2.Manifest.Counters)
	}
	if d := r2.Manifest.Dataset(columnar.TrajectoriesDataset); d == nil || d.Rows != 300 {
		t.Fatalf("night 2 trajectories dataset %+v, want the 300 new ones", d)
	}
	p2 := readPointer(t, out)
	if p2.Version != "000002" {
		t.Fatalf("pointer after night 2: %+v", p2)
	}
	exp := readMemory[memory.Experience](t, out, p2.Dir, jobs.MemoryExperience, jobs.ExperienceSchema)
	ids := map[string]bool{}
	successes := 0
	for _, e := range exp {
		if ids[e.TrajectoryID] {
			t.Fatalf("trajectory %s stored twice", e.TrajectoryID)
		}
		ids[e.TrajectoryID] = true
		if e.Success && len(e.KeySteps) > 0 {
			successes++
		}
	}
	if len(exp) != 900 {
		t.Fatalf("experience holds %d trajectories, want 900", len(exp))
	}
	plans := readMemory[memory.Plan](t, out, p2.Dir, jobs.MemoryPlans, jobs.MemoryPlanSchema)
	var uses int64
	for _, p := range plans {
		uses += p.Uses
	}
	if uses != int64(successes) || len(plans) == 0 || len(plans) >= successes {
		t.Fatalf("%d plans with %d uses; %d successful trajectories with key steps", len(plans), uses, successes)
	}
	// Night 1's concepts keep their names (and bodies) on night 2.
	lib2 := map[string]string{}
	for _, c := range readMemory[concepts.Concept](t, out, p2.Dir, jobs.MemoryConcepts, jobs.ConceptsSchema) {
		lib2[c.Name] = c.Body
	}
	for _, c := range readMemory[concepts.Concept](t, out, p1.Dir, jobs.MemoryConcepts, jobs.ConceptsSchema) {
		if body, ok := lib2[c.Name]; !ok || body != c.Body {
			t.Fatalf("concept %s of night 1 (%s) is %q on night 2", c.Name, c.Body, body)
		}
	}
	lineage := readMemory[memory.Lineage](t, out, p2.Dir, jobs.MemoryLineage, jobs.MemoryLineageSchema)
	if len(lineage) == 0 {
		t.Fatal("no concept lineage")
	}
	spanning := 0
	for _, l := range lineage {
		if l.FirstRun == "night-1" && len(l.Runs) == 2 {
			spanning++
		}
	}
	if spanning == 0 {
		t.Fatalf("no concept of night 1 used again on night 2: %+v", lineage)
	}
	// Strategies: unique names, and uses that add up to the trajectories
	// the experience memory credits to a strategy.
	bank := readMemory[memory.Strategy](t, out, p2.Dir, jobs.MemoryStrategies, jobs.MemoryStrategySchema)
	names := map[string]bool{}
	var strategyUses int64
	for _, s := range bank {
		if names[s.Name] {
			t.Fatalf("strategy %s twice", s.Name)
		}
		names[s.Name] = true
		strategyUses += s.Uses
	}
	credited := 0
	for _, e := range exp {
		if e.Strategy != "" {
			credited++
		}
	}
	if len(bank) == 0 || strategyUses != int64(credited) {
		t.Fatalf("%d strategies with %d uses; %d trajectories credited to one", len(bank), strategyUses, credited)
	}
	// The version's recall index answers with the plans it holds.
	mb, err := jobs.OpenMemoryRoot(context.Background(), filepath.Join(out, "memory"), storage.S3Config{})
	if err != nil {
		t.Fatal(err)
	}
	mem, err := jobs.LoadMemory(context.Background(), mb, "")
	mb.Close()
	if err != nil {
		t.Fatal(err)
	}
	if mem.Pointer.Version != "000002" || mem.Index.Len() != len(plans)+len(bank)+countPython(t, out, p2.Dir) {
		t.Fatalf("recall index of version %s holds %d documents", mem.Pointer.Version, mem.Index.Len())
	}
	res, err := mem.Recall(jobs.RecallQuery{Query: exp[0].Task, K: 3, Kinds: []string{"plan"}})
	if err != nil || len(res.Hits) == 0 {
		t.Fatalf("recall %q: %+v, %v", exp[0].Task, res, err)
	}
	before := dataFiles(t, filepath.Join(out, "memory"))
	// Either night again: nothing new, nothing changes. An incremental run
	// reads nothing; a full one reads everything and finds nothing new.
	for _, again := range []struct {
		in, id      string
		incremental bool
	}{{night2, "night-2", true}, {night1, "night-1-again", true}, {night2, "night-2", false}, {night1, "night-1-again", false}} {
		cfg := config(t, again.in, out)
		cfg.RunID, cfg.Incremental = again.id, again.incremental
		cfg.Stages = []string{"trajectories", "analysis", "experience", "concepts", "strategies", "memory"}
		cfg.Concepts.Iterations = 3
		r, err := jobs.Run(context.Background(), cfg, quiet())
		if err != nil {
			t.Fatal(err)
		}
		if again.incremental {
			if !r.NothingNew || r.SkippedFiles != 1 || r.Manifest != nil {
				t.Fatalf("incremental re-run %s: %+v", again.id, r)
			}
		} else if c := countersOf(r.Manifest, "memory"); c["memory_unchanged"] != 1 || c["experience_new"] != 0 || c["input_files_new"] != 0 {
			t.Fatalf("re-run %s: memory counters %v", again.id, c)
		}
		if p := readPointer(t, out); p != p2 {
			t.Fatalf("re-run %s moved the pointer: %+v", again.id, p)
		}
	}
	t.Logf("night 2: %v; %d plans, %d lineage", c2, len(plans), len(lineage))
	sameFiles(t, "memory after re-runs", before, dataFiles(t, filepath.Join(out, "memory")))
}

// countPython counts the concepts of a memory version that print as Python
// (the only ones recall indexes).
func countPython(t *testing.T, out, dir string) int {
	n := 0
	for _, c := range readMemory[concepts.Concept](t, out, dir, jobs.MemoryConcepts, jobs.ConceptsSchema) {
		if c.Python != "" {
			n++
		}
	}
	return n
}

// TestIncrementalRunAfterAppend: an append rewrites the dataset's small
// part file with the old rows and the new; the next incremental run reads
// the rewritten file but leaves out the trajectories the memory holds, so
// its stages see only the appended ones.
func TestIncrementalRunAfterAppend(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(shareddata.Dir(t), "trajectories/swe-agent")
	files := []string{filepath.Join(dir, "ctf__crypto__eps.traj"), filepath.Join(dir, "ctf__pwn__warmup.traj"), filepath.Join(dir, "function_calling_simple.traj")}
	in := filepath.Join(t.TempDir(), "in")
	out := t.TempDir()
	cfg0 := config(t, in, out)
	imp := func(files ...string) {
		t.Helper()
		if _, err := jobs.Import(ctx, jobs.ImportOptions{Format: "swe-agent", Files: files, Output: in, OnError: columnar.OnErrorFail, Parquet: cfg0.Parquet, Append: true}, quiet()); err != nil {
			t.Fatal(err)
		}
	}
	run := func(id string) *jobs.Result {
		t.Helper()
		cfg := config(t, in, out)
		cfg.RunID = id
		cfg.Stages = []string{"trajectories", "analysis", "experience", "memory"}
		res, err := jobs.Run(ctx, cfg, quiet())
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	imp(files[:2]...)
	r1 := run("night-1")
	if d := r1.Manifest.Dataset(columnar.TrajectoriesDataset); d == nil || d.Rows != 2 || r1.Manifest.Counters["rows_already_in_memory"] != 0 {
		t.Fatalf("night 1: %+v, counters %v", d, r1.Manifest.Counters)
	}
	imp(files[2])
	r2 := run("night-2")
	c := r2.Manifest.Counters
	if c["rows_read"] != 3 || c["rows_already_in_memory"] != 2 {
		t.Fatalf("night 2 counters %v: want the rewritten file read (3 rows), 2 of them left out", c)
	}
	if d := r2.Manifest.Dataset(columnar.TrajectoriesDataset); d == nil || d.Rows != 1 {
		t.Fatalf("night 2 trajectories %+v, want the appended one", d)
	}
	if m := countersOf(r2.Manifest, "memory"); m["experience_new"] != 1 || m["memory_version"] != 2 {
		t.Fatalf("night 2 memory counters %v", m)
	}
	// without incremental, every row is processed again
	cfg := config(t, in, t.TempDir())
	cfg.Incremental = false
	cfg.Stages = []string{"trajectories", "analysis", "experience", "memory"}
	res, err := jobs.Run(ctx, cfg, quiet())
	if err != nil {
		t.Fatal(err)
	}
	if d := res.Manifest.Dataset(columnar.TrajectoriesDataset); d == nil || d.Rows != 3 {
		t.Fatalf("a full run: %+v", d)
	}
}
