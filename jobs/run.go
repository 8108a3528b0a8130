package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"time"

	"github.com/atlas-ai/atlas-learn/columnar"
	"github.com/atlas-ai/atlas-learn/columnar/storage"
	"github.com/atlas-ai/atlas-learn/internal/llm"
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
// opens its output and how it shows progress.
type RunOptions struct {
	// Open opens the output (nil: Location.Open).
	Open Opener
	// Progress, when set, is a terminal to draw a progress bar on.
	Progress io.Writer
}

// RunWithOptions is Run with options.
func RunWithOptions(ctx context.Context, cfg Config, log *slog.Logger, ro RunOptions) (*Result, error) {
	open := ro.Open
	if err := cfg.Validate(); err != nil {
		return nil, &ConfigError{Err: err}
	}
	started := time.Now().UTC()
	inLoc, _ := storage.ParseLocation(cfg.Input, cfg.S3)
	outLoc, _ := storage.ParseLocation(cfg.Output, cfg.S3)
	trajStages, batchStages, err := buildStages(&cfg)
	if err != nil {
		return nil, &ConfigError{Err: err}
	}
	in, root, err := inLoc.OpenReader(ctx)
	if err != nil {
		return nil, fmt.Errorf("input: %w", err)
	}
	defer in.Close()
	src, err := columnar.OpenSource(ctx, in, root)
	if err != nil {
		return nil, fmt.Errorf("input: %w", err)
	}
	// Content identities (manifest checksums, ETags, or hashes of local
	// files) make the fingerprint change whenever any input byte does.
	if err := src.Identify(ctx); err != nil {
		return nil, fmt.Errorf("input: %w", err)
	}
	// An incremental run reads only the files the memory has not seen.
	var skippedFiles int
	if cfg.Incremental && slices.Contains(cfg.Stages, "memory") {
		seen, version, err := processedInputs(ctx, &cfg)
		if err != nil {
			return nil, err
		}
		all := len(src.Files)
		src.Files = slices.DeleteFunc(src.Files, func(f columnar.SourceFile) bool { return seen[inputKey(f)] })
		skippedFiles = all - len(src.Files)
		if len(src.Files) == 0 {
			log.Info("nothing new: the memory has processed every input file", "files", all, "memory_version", version, "input", inLoc.String())
			return &Result{NothingNew: true, SkippedFiles: skippedFiles}, nil
		}
		if skippedFiles > 0 {
			log.Info("incremental: skipping input files the memory has processed", "skipped", skippedFiles, "new", len(src.Files), "memory_version", version)
		}
	}
	if open == nil {
		open = func(ctx context.Context, l storage.Location) (storage.Bucket, error) { return l.Open(ctx) }
	}
	out, err := open(ctx, outLoc)
	if err != nil {
		return nil, fmt.Errorf("output: %w", err)
	}
	defer out.Close()

	fp, err := runFingerprint(ctx, &cfg, src, trajStages, batchStages)
	if err != nil {
		return nil, err
	}
	runID := cfg.RunID
	if runID == "" {
		runID = "run-" + fp
	}
	runDir := storage.Join("runs", runID)
	log.Info("run starting", "run_id", runID, "input", inLoc.String(), "files", len(src.Files), "output", outLoc.String(), "workers", cfg.Workers, "stages", cfg.Stages)

	c, err := columnar.NewCommitter(ctx, out, runDir, columnar.RunManifest)
	if err != nil {
		return nil, err
	}
	m := &columnar.Manifest{Kind: "run", Fingerprint: fp, Counters: map[string]int64{}}
	var timings []columnar.StageTiming
	warnings := &Warnings{}
	hooks := &runHooks{}
	var aborts []func(context.Context)
	var opened []TrajectoryProcessor
	fail := func(err error) (*Result, error) {
		for _, p := range opened {
			if r, ok := p.(Releaser); ok {
				r.Release()
			}
		}
		var unknown *columnar.UnknownCommitError
		if errors.As(err, &unknown) {
			return nil, fmt.Errorf("run %s: %w", runID, err)
		}
		if aerr := c.Abort(ctx); aerr != nil {
			log.Warn("cleaning up after a failed run", "error", aerr)
		}
		for _, fn := range aborts {
			fn(ctx)
		}
		return nil, fmt.Errorf("run %s: %w (nothing committed)", runID, err)
	}
	newEnv := func(name string) (*Env, *[]string) {
		ds := &[]string{}
		return &Env{RunID: runID, Fingerprint: fp, RunDir: runDir, Workers: cfg.Workers, Log: log.With("stage", name), S3: cfg.S3,
			stage: name, c: c, parquet: cfg.Parquet, counters: &Counters{}, runtime: &Counters{}, datasets: ds, warnings: warnings, hooks: hooks, aborts: &aborts, inputs: src.Files}, ds
	}

	// The trajectory stages share one stream of the input.
	streamStart := time.Now()
	envs := make([]*Env, len(trajStages))
	dsets := make([]*[]string, len(trajStages))
	procs := make([]TrajectoryProcessor, len(trajStages))
	for i, st := range trajStages {
		envs[i], dsets[i] = newEnv(st.Name())
		p, err := st.Open(ctx, envs[i])
		if err != nil {
			return fail(fmt.Errorf("stage %s: %w", st.Name(), err))
		}
		procs[i] = p
		opened = append(opened, p)
	}
	// Local files need no large reads; remote ones read 1 MiB per request.
	read := columnar.ReadOptions{ReadBufferSize: 1 << 20}
	if inLoc.Driver == storage.DriverFile {
		read.ReadBufferSize = 128 << 10
	}
	so := streamOptions{workers: cfg.Workers, read: read, onError: cfg.OnError, log: log}
	var bar *Progress
	if ro.Progress != nil {
		bar = NewProgress(ro.Progress, len(src.Files))
		so.progress = bar.update
	}
	stats, err := stream(ctx, src, procs, so)
	if bar != nil {
		bar.Finish()
	}
	if err != nil {
		return fail(err)
	}
	for i, p := range procs {
		if err := p.Close(ctx); err != nil {
			return fail(fmt.Errorf("stage %s: %w", trajStages[i].Name(), err))
		}
	}
	streamMS := time.Since(streamStart).Milliseconds()
	for i, st := range trajStages {
		m.Stages = append(m.Stages, columnar.StageEntry{Name: st.Name(), Kind: KindTrajectory, Datasets: *dsets[i], Counters: envs[i].counters.Snapshot()})
		// The trajectory stages run together: each is charged the stream.
		timings = append(timings, columnar.StageTiming{Name: st.Name(), ElapsedMS: streamMS, Counters: envs[i].runtime.Snapshot()})
	}
	for i, f := range src.Files {
		m.Inputs = append(m.Inputs, columnar.InputEntry{Path: f.Rel, Bytes: f.Size, Rows: stats[i].Rows + stats[i].Skipped})
		m.Counters["rows_read"] += stats[i].Rows
		m.Counters["rows_skipped"] += stats[i].Skipped
		m.Counters["successes"] += stats[i].successes
	}
	m.Counters["files_read"] = int64(len(src.Files))
	m.Counters["files_skipped_processed"] = int64(skippedFiles)

	for _, st := range batchStages {
		start := time.Now()
		env, ds := newEnv(st.Name())
		if err := st.Run(ctx, env); err != nil {
			return fail(fmt.Errorf("stage %s: %w", st.Name(), err))
		}
		m.Stages = append(m.Stages, columnar.StageEntry{Name: st.Name(), Kind: KindBatch, Datasets: *ds, Counters: env.counters.Snapshot()})
		timings = append(timings, columnar.StageTiming{Name: st.Name(), ElapsedMS: time.Since(start).Milliseconds(), Counters: env.runtime.Snapshot()})
		log.Info("stage done", "stage", st.Name(), "elapsed", time.Since(start).Round(time.Millisecond))
	}

	m.Config, _ = json.Marshal(cfg.Redacted())
	m.Warnings = warnings.List()
	m.Decisions = hooks.decisions
	if err := commit(ctx, c, m, runID, "run", started, log, timings); err != nil {
		return fail(err)
	}
	// Committed: what must advance only with a committed run does now.
	// Failures do not undo the commit; they are reported with it.
	var after []error
	for _, fn := range hooks.afterCommit {
		if err := fn(ctx); err != nil {
			after = append(after, err)
		}
	}
	res := &Result{RunDir: runDir, Manifest: m, SkippedFiles: skippedFiles}
	if err := errors.Join(after...); err != nil {
		log.Error("run committed, but updating after the commit failed", "run_id", runID, "error", err)
		return res, fmt.Errorf("run %s committed, but after the commit: %w", runID, err)
	}
	log.Info("run committed", "run_id", runID, "rows", m.Counters["rows_read"], "skipped", m.Counters["rows_skipped"], "manifest", outLoc.Join(runDir, columnar.RunManifest).String())
	if err := WriteReport(ctx, out, runDir, outLoc.Join(runDir).String(), cfg.S3, m); err != nil {
		return res, fmt.Errorf("run %s: committed, but: %w", runID, err)
	}
	return res, nil
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
