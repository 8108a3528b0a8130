package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync/atomic"
	"time"

	"github.com/atlas-ai/atlas-learn/columnar"
	"github.com/atlas-ai/atlas-learn/columnar/storage"
	"github.com/atlas-ai/atlas-learn/internal/llm"
	"github.com/atlas-ai/atlas-learn/jobs/memory"
)

// Version is the job's version, recorded in manifests.
const Version = "0.2.0"

// Result is what a run committed.
type Result struct {
	// RunDir is the run's directory under the output location.
	RunDir   string
	Manifest *columnar.Manifest
	// NothingNew is set when an incremental run found no input file the
	// memory had not processed: it ran nothing and committed nothing.
	NothingNew bool
	// SkippedFiles counts the input files an incremental run skipped.
	SkippedFiles int
	// Shard is set for the map step of a many-worker run: RunDir is then
	// the shard's directory and Manifest its shard manifest.
	Shard *Shard
	// AlreadyCommitted is set when the shard was committed before (by an
	// earlier attempt of the same run) and nothing was run.
	AlreadyCommitted bool
}

// Run runs the configured stages over every trajectory of cfg.Input and
// commits their datasets and the run's manifest under
// cfg.Output/runs/<run-id>/: first the trajectory stages, over one
// ordered stream of the input (see stream), then the batch stages, in
// order. Nothing is visible to readers until the manifest, written last,
// exists; a failure anywhere commits nothing.
func Run(ctx context.Context, cfg Config, log *slog.Logger) (*Result, error) {
	return RunWith(ctx, cfg, log, nil)
}

// Opener opens a parsed storage location for the run.
type Opener func(ctx context.Context, loc storage.Location) (storage.Bucket, error)

// RunWith is Run with the output's opener given (nil: Location.Open):
// tests use it to wrap the bucket, for example to stop the server in the
// middle of a write.
func RunWith(ctx context.Context, cfg Config, log *slog.Logger, open Opener) (*Result, error) {
	return RunWithOptions(ctx, cfg, log, RunOptions{Open: open})
}

// RunOptions are a run's settings that are not configuration: how it
// opens its output, how it shows progress, and which step of a
// many-worker run it is.
type RunOptions struct {
	// Open opens the output (nil: Location.Open).
	Open Opener
	// Progress, when set, is a terminal to draw a progress bar on.
	Progress io.Writer
	// Shard, when its Count is set, makes this process the map step's
	// shard Index of Count: it runs the trajectory stages over its slice
	// of the input files and commits them under
	// runs/<run-id>/_shards/<fingerprint>/<index>-of-<count>/ (see shard.go).
	Shard Shard
	// Reduce, when set, makes this process the reduce step over that many
	// committed shards: it adopts their datasets into the run and runs the
	// batch stages over the whole batch (see Reduce).
	Reduce int
	// Wait is how long the reduce step waits for shards still being
	// written (0: it fails at once when one is missing).
	Wait time.Duration
}

// runPlan is what every step of a run derives from the configuration and
// the input listing: the same in every process of a many-worker run.
type runPlan struct {
	cfg           *Config
	log           *slog.Logger
	inLoc, outLoc storage.Location
	src           *columnar.Source
	skipped       int
	// known is what the memory holds (trajectory id -> content hash)
	// when the run is incremental: those trajectories are not processed
	// again, wherever they are read from.
	known     map[string]string
	traj      []TrajectoryStage
	batch     []BatchStage
	fp, runID string
	runDir    string
	started   time.Time
	// pinEvals caches, per shard set, whether this plan reproduces it
	// (see pin).
	pinEvals map[string][]columnar.SourceFile
}

// RunWithOptions is Run with options.
func RunWithOptions(ctx context.Context, cfg Config, log *slog.Logger, ro RunOptions) (*Result, error) {
	if err := cfg.Validate(); err != nil {
		return nil, &ConfigError{Err: err}
	}
	if err := ro.validate(); err != nil {
		return nil, &ConfigError{Err: err}
	}
	p := &runPlan{cfg: &cfg, log: log, started: time.Now().UTC()}
	p.inLoc, _ = storage.ParseLocation(cfg.Input, cfg.S3)
	p.outLoc, _ = storage.ParseLocation(cfg.Output, cfg.S3)
	var err error
	p.traj, p.batch, err = buildStages(&cfg)
	if err != nil {
		return nil, &ConfigError{Err: err}
	}
	in, root, err := p.inLoc.OpenReader(ctx)
	if err != nil {
		return nil, fmt.Errorf("input: %w", err)
	}
	defer in.Close()
	if p.src, err = columnar.OpenSource(ctx, in, root); err != nil {
		return nil, fmt.Errorf("input: %w", err)
	}
	// Content identities (manifest checksums, ETags, or hashes of local
	// files) make the fingerprint change whenever any input byte does.
	if err := p.src.Identify(ctx); err != nil {
		return nil, fmt.Errorf("input: %w", err)
	}
	// An incremental run reads only the files the memory has not seen.
	if cfg.Incremental && slices.Contains(cfg.Stages, "memory") {
		mem, err := openMemoryView(ctx, &cfg)
		if err != nil {
			return nil, err
		}
		nothingNew, err := p.skipProcessed(ctx, mem)
		mem.Close()
		if err != nil {
			return nil, err
		}
		if nothingNew {
			return &Result{NothingNew: true, SkippedFiles: p.skipped}, nil
		}
	}
	open := ro.Open
	if open == nil {
		open = func(ctx context.Context, l storage.Location) (storage.Bucket, error) { return l.Open(ctx) }
	}
	out, err := open(ctx, p.outLoc)
	if err != nil {
		return nil, fmt.Errorf("output: %w", err)
	}
	defer out.Close()

	// The fingerprint, and so the run id, covers the whole listing: every
	// shard of a many-worker run derives the same one.
	if p.fp, err = runFingerprint(ctx, &cfg, p.src, p.traj, p.batch); err != nil {
		return nil, err
	}
	p.runID = cfg.RunID
	if p.runID == "" {
		p.runID = "run-" + p.fp
	}
	p.runDir = storage.Join("runs", p.runID)
	switch {
	case ro.Shard.Count > 0:
		return p.runShard(ctx, out, ro)
	case ro.Reduce > 0:
		log.Info("reduce starting", "run_id", p.runID, "shards", ro.Reduce, "input", p.inLoc.String(), "files", len(p.src.Files), "output", p.outLoc.String(), "stages", cfg.Stages)
	default:
		log.Info("run starting", "run_id", p.runID, "input", p.inLoc.String(), "files", len(p.src.Files), "output", p.outLoc.String(), "workers", cfg.Workers, "stages", cfg.Stages)
	}
	return p.run(ctx, out, ro)
}

// readOptions are the stream's Parquet reads of an input: local files
// need no large reads; remote ones read 1 MiB per request.
func readOptions(in storage.Location) columnar.ReadOptions {
	if in.Driver == storage.DriverFile {
		return columnar.ReadOptions{ReadBufferSize: 128 << 10}
	}
	return columnar.ReadOptions{ReadBufferSize: 1 << 20}
}

// attempt is one process's output: its committer and what its stages
// leave for the commit.
type attempt struct {
	p        *runPlan
	c        *columnar.Committer
	dir      string
	inputs   []columnar.SourceFile
	warnings *Warnings
	hooks    *runHooks
	aborts   []func(context.Context)
	opened   []TrajectoryProcessor
}

func (p *runPlan) newAttempt(c *columnar.Committer, dir string, inputs []columnar.SourceFile) *attempt {
	return &attempt{p: p, c: c, dir: dir, inputs: inputs, warnings: &Warnings{}, hooks: &runHooks{}}
}

// env is a stage's Env in this attempt, and the list of datasets it
// declares.
func (a *attempt) env(name string) (*Env, *[]string) {
	ds := &[]string{}
	cfg := a.p.cfg
	return &Env{RunID: a.p.runID, Fingerprint: a.p.fp, RunDir: a.dir, CacheDir: storage.Join(a.p.runDir, "_llm_cache"), Workers: cfg.Workers, Log: a.p.log.With("stage", name), S3: cfg.S3,
		stage: name, c: a.c, parquet: cfg.Parquet, counters: &Counters{}, runtime: &Counters{}, datasets: ds, warnings: a.warnings, hooks: a.hooks, aborts: &a.aborts, inputs: a.inputs}, ds
}

// fail undoes the attempt: it releases the processors, discards what was
// written and runs the stages' abort functions.
func (a *attempt) fail(ctx context.Context, what string, err error) (*Result, error) {
	for _, p := range a.opened {
		if r, ok := p.(Releaser); ok {
			r.Release()
		}
	}
	var unknown *columnar.UnknownCommitError
	if errors.As(err, &unknown) {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if aerr := a.c.Abort(ctx); aerr != nil {
		a.p.log.Warn("cleaning up after a failed run", "error", aerr)
	}
	for _, fn := range a.aborts {
		fn(ctx)
	}
	return nil, fmt.Errorf("%s: %w (nothing committed)", what, err)
}

// streamed is what the trajectory stages of one process produced.
type streamed struct {
	stages   []columnar.StageEntry
	timings  []columnar.StageTiming
	inputs   []columnar.InputEntry
	counters map[string]int64
}

// stream runs the trajectory stages over the attempt's input files.
func (a *attempt) stream(ctx context.Context, progress io.Writer) (*streamed, error) {
	p := a.p
	start := time.Now()
	envs := make([]*Env, len(p.traj))
	dsets := make([]*[]string, len(p.traj))
	procs := make([]TrajectoryProcessor, len(p.traj))
	for i, st := range p.traj {
		envs[i], dsets[i] = a.env(st.Name())
		proc, err := st.Open(ctx, envs[i])
		if err != nil {
			return nil, fmt.Errorf("stage %s: %w", st.Name(), err)
		}
		procs[i] = proc
		a.opened = append(a.opened, proc)
	}
	so := streamOptions{workers: p.cfg.Workers, read: readOptions(p.inLoc), onError: p.cfg.OnError, log: p.log}
	// An incremental run leaves out the trajectories the memory holds
	// with the same content: a file rewritten by an append, or a night
	// that overlaps the last, brings them again.
	var inMemory atomic.Int64
	if len(p.known) > 0 {
		so.skip = func(t *columnar.Trajectory) (bool, error) {
			old, ok := p.known[t.TrajectoryID]
			if !ok {
				return false, nil
			}
			h, err := memory.ContentHash(t)
			if err != nil {
				return false, err
			}
			if h == old {
				inMemory.Add(1)
				return true, nil
			}
			return false, nil
		}
	}
	var bar *Progress
	if progress != nil {
		bar = NewProgress(progress, len(a.inputs))
		so.progress = bar.update
	}
	src := *p.src
	src.Files = a.inputs
	stats, err := stream(ctx, &src, procs, so)
	if bar != nil {
		bar.Finish()
	}
	if err != nil {
		return nil, err
	}
	for i, proc := range procs {
		if err := proc.Close(ctx); err != nil {
			return nil, fmt.Errorf("stage %s: %w", p.traj[i].Name(), err)
		}
	}
	ms := time.Since(start).Milliseconds()
	out := &streamed{counters: map[string]int64{}}
	for i, st := range p.traj {
		out.stages = append(out.stages, columnar.StageEntry{Name: st.Name(), Kind: KindTrajectory, Datasets: *dsets[i], Counters: envs[i].counters.Snapshot()})
		// The trajectory stages run together: each is charged the stream.
		out.timings = append(out.timings, columnar.StageTiming{Name: st.Name(), ElapsedMS: ms, Counters: envs[i].runtime.Snapshot()})
	}
	for i, f := range a.inputs {
		out.inputs = append(out.inputs, columnar.InputEntry{Path: f.Rel, Bytes: f.Size, Rows: stats[i].Rows + stats[i].Skipped})
		out.counters["rows_read"] += stats[i].Rows
		out.counters["rows_skipped"] += stats[i].Skipped
		out.counters["successes"] += stats[i].successes
	}
	if so.skip != nil {
		out.counters["rows_already_in_memory"] = inMemory.Load()
	}
	p.known = nil // the memory stage reads its own copy: let this one go
	return out, nil
}

// run is a whole run in one process, or the reduce step of a
// many-worker one: the trajectory stages' results come from the stream
// or from the committed shards, then the batch stages run over them, and
// the run commits.
func (p *runPlan) run(ctx context.Context, out storage.Bucket, ro RunOptions) (*Result, error) {
	what := "run " + p.runID
	var shards []*columnar.Manifest
	if ro.Reduce > 0 {
		what = "reduce " + p.runID
		var err error
		if shards, err = p.waitShards(ctx, out, ro.Reduce, ro.Wait); err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
	}
	c, err := columnar.NewCommitter(ctx, out, p.runDir, columnar.RunManifest)
	if err != nil {
		return nil, err
	}
	a := p.newAttempt(c, p.runDir, p.src.Files)
	var st *streamed
	if ro.Reduce > 0 {
		st, err = a.adopt(ctx, shards)
	} else {
		st, err = a.stream(ctx, ro.Progress)
	}
	if err != nil {
		return a.fail(ctx, what, err)
	}
	m := &columnar.Manifest{Kind: "run", Fingerprint: p.fp, Counters: st.counters, Stages: st.stages, Inputs: st.inputs}
	timings := st.timings
	m.Counters["files_read"] = int64(len(p.src.Files))
	m.Counters["files_skipped_processed"] = int64(p.skipped)

	for _, bs := range p.batch {
		start := time.Now()
		env, ds := a.env(bs.Name())
		if err := bs.Run(ctx, env); err != nil {
			return a.fail(ctx, what, fmt.Errorf("stage %s: %w", bs.Name(), err))
		}
		m.Stages = append(m.Stages, columnar.StageEntry{Name: bs.Name(), Kind: KindBatch, Datasets: *ds, Counters: env.counters.Snapshot()})
		timings = append(timings, columnar.StageTiming{Name: bs.Name(), ElapsedMS: time.Since(start).Milliseconds(), Counters: env.runtime.Snapshot()})
		p.log.Info("stage done", "stage", bs.Name(), "elapsed", time.Since(start).Round(time.Millisecond))
	}

	m.Config, _ = json.Marshal(p.cfg.Redacted())
	m.Warnings = a.warnings.List()
	m.Decisions = a.hooks.decisions
	m.Run.Shards = ro.Reduce
	if err := commit(ctx, c, m, p.runID, "run", p.started, p.log, timings); err != nil {
		return a.fail(ctx, what, err)
	}
	res := &Result{RunDir: p.runDir, Manifest: m, SkippedFiles: p.skipped}
	p.log.Info("run committed", "run_id", p.runID, "rows", m.Counters["rows_read"], "skipped", m.Counters["rows_skipped"], "manifest", p.outLoc.Join(p.runDir, columnar.RunManifest).String())
	// The report before the state: a run killed after its commit is
	// re-run whole, report included, until the memory has advanced.
	reportErr := WriteReport(ctx, out, p.runDir, p.outLoc.Join(p.runDir).String(), p.cfg.S3, m)
	// Committed: what must advance only with a committed run does now.
	// Failures do not undo the commit; they are reported with it.
	if err := a.hooks.run(ctx); err != nil {
		p.log.Error("run committed, but updating after the commit failed", "run_id", p.runID, "error", err)
		return res, fmt.Errorf("run %s committed, but after the commit: %w", p.runID, errors.Join(err, reportErr))
	}
	if reportErr != nil {
		return res, fmt.Errorf("run %s: committed, but: %w", p.runID, reportErr)
	}
	return res, nil
}

// skipProcessed leaves out of the run the input files the memory version
// has processed, and reads what it holds (p.known), which the stream
// leaves out too: both from the one version mem. It reports whether
// nothing is left to run.
func (p *runPlan) skipProcessed(ctx context.Context, mem *memoryView) (bool, error) {
	seen, err := mem.processedInputs(ctx)
	if err != nil {
		return false, err
	}
	all := len(p.src.Files)
	p.src.Files = slices.DeleteFunc(p.src.Files, func(f columnar.SourceFile) bool { return seen[inputKey(f)] })
	p.skipped = all - len(p.src.Files)
	if len(p.src.Files) == 0 {
		p.log.Info("nothing new: the memory has processed every input file", "files", all, "memory_version", mem.version(), "input", p.inLoc.String())
		return true, nil
	}
	if p.skipped > 0 {
		p.log.Info("incremental: skipping input files the memory has processed", "skipped", p.skipped, "new", len(p.src.Files), "memory_version", mem.version())
	}
	p.known, err = mem.knownTrajectories(ctx)
	return false, err
}

// listingOf is the identity of a list of files: each one's path, size and
// content identity (see Source.Identify).
func listingOf(files []columnar.SourceFile) []byte {
	var out []byte
	for _, f := range files {
		out = fmt.Appendf(out, "%s %d %s\n", f.Rel, f.Size, f.ContentID)
	}
	return out
}

// runFingerprint covers what determines the outputs: the input listing,
// the settings that shape the data files, the stages and their settings
// (never the worker counts), and what stages depend on beyond these.
func runFingerprint(ctx context.Context, cfg *Config, src *columnar.Source, traj []TrajectoryStage, batch []BatchStage) (string, error) {
	listing := listingOf(src.Files)
	// Every setting that shapes what the stages write, and none of the
	// ones that only change how fast (worker counts, shards, concurrency,
	// warm interpreters), nor where the run reads and writes.
	concepts := cfg.Concepts
	concepts.Workers, concepts.Shards = 0, 0
	an := cfg.Analysis
	an.HTTP.Concurrency = 0
	sbx := cfg.Sandbox
	sbx.Warm, sbx.Preload = false, nil
	lm := cfg.LLM
	lm.MaxConcurrency = 0
	shape, _ := json.Marshal(struct {
		OnError  columnar.OnError
		Parquet  ParquetConfig
		Stages   []string
		Analysis AnalysisConfig
		Patterns PatternsConfig
		Sandbox  SandboxConfig
		LLM      llm.Config
		Concepts ConceptsConfig
		Memory   MemoryConfig
		Version  string
	}{cfg.OnError, cfg.Parquet, cfg.Stages, an, cfg.Patterns, sbx, lm, concepts, cfg.Memory, Version})
	parts := [][]byte{listing, shape}
	var stages []Stage
	for _, s := range traj {
		stages = append(stages, s)
	}
	for _, s := range batch {
		stages = append(stages, s)
	}
	for _, s := range stages {
		if f, ok := s.(Fingerprinter); ok {
			b, err := f.Fingerprint(ctx)
			if err != nil {
				return "", fmt.Errorf("stage %s: %w", s.Name(), err)
			}
			parts = append(parts, []byte(s.Name()), b)
		}
	}
	return columnar.Fingerprint(parts...), nil
}
