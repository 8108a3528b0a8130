package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"sort"
	"sync"

	"github.com/atlas-ai/atlas-learn/columnar"
	"github.com/atlas-ai/atlas-learn/columnar/storage"
)

// A run is a sequence of stages. Trajectory stages see each trajectory of
// the input once: the run streams the input through bounded workers that
// call every trajectory stage's Process concurrently, and one goroutine
// that calls their Emit in input order, so that what a stage writes does
// not depend on the number of workers. Batch stages run after the stream,
// once, in the configured order, over what earlier stages emitted (read
// back with ReadEmitted) and over committed datasets (an earlier run's
// library, for example). Every stage writes its own datasets under
// runs/<run-id>/<dataset>/ through NewDataset; the run commits them all
// with one manifest, written last, or nothing.
//
// A stage's algorithm lives in its own package, which knows nothing of
// storage or configuration; its wiring into the run — reading its
// configuration section, declaring its datasets, calling the algorithm —
// is one file of this package, stage_<name>.go.

// Stage kinds, as recorded in the manifest.
const (
	KindTrajectory = "trajectory"
	KindBatch      = "batch"
)

// Stage is one step of a run: a TrajectoryStage or a BatchStage.
type Stage interface {
	// Name is the stage's name in the configuration and the manifest.
	Name() string
}

// TrajectoryStage is a stage that sees each trajectory once.
type TrajectoryStage interface {
	Stage
	// Open prepares the stage for one run: it declares its datasets on
	// env and returns the processor the stream drives.
	Open(ctx context.Context, env *Env) (TrajectoryProcessor, error)
}

// BatchStage is a stage that runs once over the batch.
type BatchStage interface {
	Stage
	// Run does the stage's work. It reads what earlier stages emitted
	// with ReadEmitted and writes its datasets with NewDataset.
	Run(ctx context.Context, env *Env) error
}

// Fingerprinter is implemented by stages whose outputs depend on more
// than the input and the configuration (an earlier run's library, for
// example): what Fingerprint returns goes into the run's fingerprint.
type Fingerprinter interface {
	Fingerprint(ctx context.Context) ([]byte, error)
}

// Needer is implemented by stages that read datasets other stages emit.
type Needer interface {
	// Needs names the stages that must run before this one.
	Needs() []string
}

// Item is one trajectory of the run's input, with where it came from.
type Item struct {
	Trajectory columnar.Trajectory
	// File is the input file, relative to the input's root.
	File string
	// Partition is the input file's Hive partition ("dt=2026-11-24").
	Partition string
	// Pos locates the record in its file.
	Pos columnar.Position
}

// TrajectoryProcessor is a trajectory stage's work for one run.
type TrajectoryProcessor interface {
	// Process is called concurrently, once per trajectory. It returns
	// the function that emits its result (writes rows, updates state);
	// the run calls those functions from one goroutine, in input order.
	// Neither may keep item after the emit function returns.
	Process(ctx context.Context, item *Item) (emit func(context.Context) error, err error)
	// Close is called once after the last emit: it closes the stage's
	// datasets. It is not called when the run fails.
	Close(ctx context.Context) error
}

// Releaser is implemented by processors that hold resources (warm
// sandboxes, clients) to release when a run fails before Close. Release
// may be called after Close and more than once.
type Releaser interface {
	Release()
}

// WithRelease attaches release to p: it is called (once) by Close's
// caller on failure, and by Close itself.
func WithRelease(p TrajectoryProcessor, release func()) TrajectoryProcessor {
	var once sync.Once
	return &releasing{TrajectoryProcessor: p, release: func() { once.Do(release) }}
}

type releasing struct {
	TrajectoryProcessor
	release func()
}

func (r *releasing) Close(ctx context.Context) error {
	defer r.release()
	return r.TrajectoryProcessor.Close(ctx)
}

func (r *releasing) Release() { r.release() }

// Processor builds a TrajectoryProcessor from typed functions: process
// runs concurrently and computes an R from a trajectory; emit gets the
// Rs one at a time, in input order.
func Processor[R any](process func(context.Context, *Item) (R, error), emit func(context.Context, *Item, R) error, closeFn func(context.Context) error) TrajectoryProcessor {
	return typedProcessor[R]{process: process, emit: emit, close: closeFn}
}

type typedProcessor[R any] struct {
	process func(context.Context, *Item) (R, error)
	emit    func(context.Context, *Item, R) error
	close   func(context.Context) error
}

func (p typedProcessor[R]) Process(ctx context.Context, item *Item) (func(context.Context) error, error) {
	r, err := p.process(ctx, item)
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context) error { return p.emit(ctx, item, r) }, nil
}

func (p typedProcessor[R]) Close(ctx context.Context) error {
	if p.close == nil {
		return nil
	}
	return p.close(ctx)
}

// Env is what a stage sees of its run.
type Env struct {
	// RunID and Fingerprint identify the run; RunDir is its directory
	// under the output (a shard's directory in the map step of a
	// many-worker run).
	RunID, Fingerprint, RunDir string
	// CacheDir is the run's LLM response cache, under the output: the
	// same for every shard of a run ("": RunDir/_llm_cache).
	CacheDir string
	// Workers bounds the goroutines a stage may use.
	Workers int
	// Log is the run's logger, with the stage's name attached.
	Log *slog.Logger
	// S3 configures storage for locations a stage opens itself (an
	// earlier run's library).
	S3 storage.S3Config

	stage    string
	c        *columnar.Committer
	parquet  ParquetConfig
	counters *Counters
	runtime  *Counters
	datasets *[]string
	warnings *Warnings
	aborts   *[]func(context.Context)
	inputs   []columnar.SourceFile
	hooks    *runHooks
}

// runHooks are what stages leave for the run to do at commit: decisions
// for the manifest, and functions to call once it is committed. Shared by
// a run's Envs, safe for concurrent use.
type runHooks struct {
	mu          sync.Mutex
	decisions   map[string]json.RawMessage
	afterCommit []func(context.Context) error
	// last run after afterCommit: what tells the next run that this one
	// is done (the memory's CURRENT) must advance after everything else.
	last []func(context.Context) error
}

// run calls the after-commit functions, then the last ones — only when
// all the others succeeded, so that a run whose updates failed is not
// marked done and is re-run whole — and joins their errors.
func (h *runHooks) run(ctx context.Context) error {
	h.mu.Lock()
	first := append([]func(context.Context) error(nil), h.afterCommit...)
	last := append([]func(context.Context) error(nil), h.last...)
	h.mu.Unlock()
	var errs []error
	for _, fn := range first {
		if err := fn(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 && len(last) > 0 {
		errs = append(errs, errors.New("so the memory did not advance: run again to finish this run"))
		return errors.Join(errs...)
	}
	for _, fn := range last {
		if err := fn(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Decide records a decision the stage made (v's JSON form) in the run
// manifest's decisions, under name; a later decision of the same name
// replaces it. What v holds must be deterministic, like the rest of the
// manifest.
func (e *Env) Decide(name string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("stage %s: decision %s: %w", e.stage, name, err)
	}
	e.hooks.mu.Lock()
	defer e.hooks.mu.Unlock()
	if e.hooks.decisions == nil {
		e.hooks.decisions = map[string]json.RawMessage{}
	}
	e.hooks.decisions[name] = data
	return nil
}

// AfterCommit registers fn to be called once the run's manifest is
// committed, in registration order; it is never called when the run
// fails. An error from fn does not undo the commit: the run reports it.
// It is how a stage updates state that must advance only with a
// committed run (the fine-tune state, for example).
func (e *Env) AfterCommit(fn func(ctx context.Context) error) {
	e.hooks.mu.Lock()
	defer e.hooks.mu.Unlock()
	e.hooks.afterCommit = append(e.hooks.afterCommit, fn)
}

// AfterCommitLast is AfterCommit for the one update that marks the run
// as done for later runs (the memory's CURRENT pointer, which makes the
// next incremental run skip this run's input): it runs after every
// AfterCommit function, so that a crash before it leaves the run to be
// re-run whole, never half-applied.
func (e *Env) AfterCommitLast(fn func(ctx context.Context) error) {
	e.hooks.mu.Lock()
	defer e.hooks.mu.Unlock()
	e.hooks.last = append(e.hooks.last, fn)
}

// llmCacheDir is where the stage caches LLM responses.
func (e *Env) llmCacheDir() string {
	if e.CacheDir != "" {
		return e.CacheDir
	}
	return storage.Join(e.RunDir, "_llm_cache")
}

// EmittedDatasets lists the datasets the run's stages have declared so
// far, sorted by name.
func (e *Env) EmittedDatasets() []string { return e.c.Declared() }

// EmittedFiles returns the files of a dataset an earlier stage of this
// run wrote and closed, in path order; Rel is relative to RunDir.
func (e *Env) EmittedFiles(dataset string) ([]columnar.SourceFile, error) {
	files, _, err := e.c.Emitted(dataset)
	if err != nil {
		return nil, fmt.Errorf("stage %s: %w", e.stage, err)
	}
	return files, nil
}

// Warnings are what a run must tell its user first (the run's manifest
// lists them, and the command prints them before anything else), safe
// for concurrent use.
type Warnings struct {
	mu   sync.Mutex
	list []string
}

func (w *Warnings) add(msg string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, m := range w.list {
		if m == msg {
			return
		}
	}
	w.list = append(w.list, msg)
}

// List returns the warnings in the order they came.
func (w *Warnings) List() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.list...)
}

// Counters are a stage's counts, safe for concurrent use; they go into the
// manifest.
type Counters struct {
	mu sync.Mutex
	m  map[string]int64
}

// Add adds n to the counter name.
func (c *Counters) Add(name string, n int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[string]int64{}
	}
	c.m[name] += n
}

// Snapshot copies the counters.
func (c *Counters) Snapshot() map[string]int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := maps.Clone(c.m)
	if out == nil {
		out = map[string]int64{}
	}
	return out
}

// Counters are the stage's counters: pure functions of the input and the
// configuration, recorded in the manifest's stages[].
func (e *Env) Counters() *Counters { return e.counters }

// RunCounters are the stage's counts that depend on more than the input
// and the configuration (cache hits, replays actually run, fallbacks on a
// time budget): they go into the manifest's run section, beside the
// timings.
func (e *Env) RunCounters() *Counters { return e.runtime }

// Warn records a warning the run reports first (and logs it).
func (e *Env) Warn(msg string) {
	e.Log.Warn(msg)
	e.warnings.add(e.stage + ": " + msg)
}

// OnAbort registers fn to run when the run fails before its manifest is
// committed: it undoes what the stage wrote outside the run's directory
// (files a committer of its own holds, say).
func (e *Env) OnAbort(fn func(ctx context.Context)) { *e.aborts = append(*e.aborts, fn) }

// Inputs are the input files the run reads, in order.
func (e *Env) Inputs() []columnar.SourceFile { return e.inputs }

// Stage is the name of the stage this Env belongs to.
func (e *Env) Stage() string { return e.stage }

// DatasetSpec declares one dataset of a stage.
type DatasetSpec[T any] struct {
	// Name is the dataset's name: its directory under the run and its
	// entry in the manifest.
	Name   string
	Schema columnar.Schema
	// Dir is the dataset's directory under the run ("": Name).
	Dir string
	// Partition gives a row's Hive partition, or nil for none.
	Partition func(*T) string
	// MaxOpenParts bounds the partitions with a file open at once (0: the
	// sink's default, see columnar.SinkOptions).
	MaxOpenParts int
}

// NewDataset starts one of the stage's datasets: Parquet part files under
// runs/<run-id>/<name>/ (and JSONL beside them when parquet.jsonl is set),
// named in the manifest with the stage and the schema. The caller writes
// rows in a deterministic order and closes the sink; a dataset that gets
// no rows is written as one empty file, so that it still carries its
// schema.
func NewDataset[T any](e *Env, spec DatasetSpec[T]) (*columnar.Sink[T], error) {
	if err := spec.Schema.Validate(); err != nil {
		return nil, fmt.Errorf("stage %s: dataset %s: %w", e.stage, spec.Name, err)
	}
	if spec.Name == "" || storage.Join(spec.Name) != spec.Name {
		return nil, fmt.Errorf("stage %s: bad dataset name %q", e.stage, spec.Name)
	}
	dir := spec.Dir
	if dir == "" {
		dir = spec.Name
	}
	*e.datasets = append(*e.datasets, spec.Name)
	if e.parquet.JSONL {
		*e.datasets = append(*e.datasets, spec.Name+".jsonl")
	}
	return columnar.NewSink(e.c, columnar.SinkOptions[T]{
		Dataset:      columnar.DatasetInfo{Name: spec.Name, Schema: spec.Schema, Stage: e.stage},
		Dir:          dir,
		Fingerprint:  e.Fingerprint,
		Partition:    spec.Partition,
		RowsPerFile:  e.parquet.RowsPerFile,
		JSONL:        e.parquet.JSONL,
		WriteEmpty:   true,
		MaxOpenParts: spec.MaxOpenParts,
		Parquet:      e.parquet.Writer(),
	}), nil
}

// ReadEmitted streams the rows of a dataset that an earlier stage of this
// run wrote (and closed) into fn, in file order: T is the dataset's row
// type or a projection of it. It reads the Parquet files only.
func ReadEmitted[T any](ctx context.Context, e *Env, dataset string, fn func(*T) error) error {
	files, schema, err := e.c.Emitted(dataset)
	if err != nil {
		return fmt.Errorf("stage %s: %w", e.stage, err)
	}
	if err := scanParquet(ctx, e.c.Bucket(), files, schema, fn); err != nil {
		return fmt.Errorf("stage %s: reading %s: %w", e.stage, dataset, err)
	}
	return nil
}

// ReadPrevious streams the rows of a dataset of the run's previous commit
// (the same run id committed before: a re-run) into fn; it does nothing
// when there is none or it has no such dataset. Stages use it to reuse
// what the previous attempt computed (the replay cache, for example).
func ReadPrevious[T any](ctx context.Context, e *Env, dataset string, schema columnar.Schema, fn func(*T) error) error {
	m := e.c.Previous()
	if m == nil {
		return nil
	}
	d := m.Dataset(dataset)
	if d == nil || d.Format != "parquet" {
		return nil
	}
	if err := d.Check(schema); err != nil {
		return fmt.Errorf("stage %s: previous commit: %w", e.stage, err)
	}
	files := make([]columnar.SourceFile, len(d.Files))
	for i, f := range d.Files {
		files[i] = columnar.SourceFile{Key: storage.Join(e.RunDir, f.Path), Rel: f.Path, Size: f.Bytes, Format: "parquet"}
	}
	if err := scanParquet(ctx, e.c.Bucket(), files, schema, fn); err != nil {
		return fmt.Errorf("stage %s: previous %s: %w", e.stage, dataset, err)
	}
	return nil
}

// stageDef is one stage the run knows: its name, kind, and how its wiring
// builds it from the configuration.
type stageDef struct {
	name  string
	kind  string
	build func(cfg *Config) (Stage, error)
}

// stageDefs lists the stages, in the order the documentation lists them.
func stageDefs() []stageDef {
	return []stageDef{
		{name: "trajectories", kind: KindTrajectory, build: newTrajectoriesStage},
		{name: "analysis", kind: KindTrajectory, build: newAnalysisStage},
		{name: "error_patterns", kind: KindBatch, build: newPatternsStage},
		{name: "concepts", kind: KindBatch, build: newConceptsStage},
		{name: "strategies", kind: KindBatch, build: newStrategiesStage},
		{name: "experience", kind: KindTrajectory, build: newExperienceStage},
		{name: "memory", kind: KindBatch, build: newMemoryStage},
		{name: "sft", kind: KindBatch, build: newSFTStage},
		{name: "finetune", kind: KindBatch, build: newFinetuneStage},
	}
}

// StageNames lists the stages a configuration may name.
func StageNames() []string {
	var out []string
	for _, d := range stageDefs() {
		out = append(out, d.name)
	}
	return out
}

func (c Config) validateStages() error {
	if len(c.Stages) == 0 {
		return fmt.Errorf("stages: name at least one of %v", StageNames())
	}
	defs := map[string]stageDef{}
	for _, d := range stageDefs() {
		defs[d.name] = d
	}
	seen := map[string]bool{}
	for _, s := range c.Stages {
		if _, ok := defs[s]; !ok {
			return fmt.Errorf("stages: unknown stage %q (known: %v)", s, StageNames())
		}
		if seen[s] {
			return fmt.Errorf("stages: %q listed twice", s)
		}
		seen[s] = true
	}
	return nil
}

// buildStages builds the configured stages: trajectory stages first (they
// share the stream), then batch stages in the configured order; a stage
// whose needs are missing or come later is an error.
func buildStages(cfg *Config) (traj []TrajectoryStage, batch []BatchStage, err error) {
	defs := map[string]stageDef{}
	for _, d := range stageDefs() {
		defs[d.name] = d
	}
	done := map[string]bool{}
	// Trajectory stages all run before any batch stage.
	ordered := append([]string(nil), cfg.Stages...)
	sort.SliceStable(ordered, func(i, j int) bool {
		return defs[ordered[i]].kind == KindTrajectory && defs[ordered[j]].kind != KindTrajectory
	})
	for _, name := range ordered {
		st, err := defs[name].build(cfg)
		if err != nil {
			return nil, nil, fmt.Errorf("stage %s: %w", name, err)
		}
		if n, ok := st.(Needer); ok {
			for _, need := range n.Needs() {
				if !done[need] {
					return nil, nil, fmt.Errorf("stages: %s needs %s to run before it; add %q to stages", name, need, need)
				}
			}
		}
		switch s := st.(type) {
		case TrajectoryStage:
			traj = append(traj, s)
		case BatchStage:
			batch = append(batch, s)
		default:
			return nil, nil, fmt.Errorf("stage %s: neither a trajectory nor a batch stage", name)
		}
		done[name] = true
	}
	return traj, batch, nil
}
