package jobs

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/atlas-ai/atlas-learn/columnar"
	"github.com/atlas-ai/atlas-learn/columnar/storage"
)

// Version is the job's version, recorded in manifests.
const Version = "0.1.0"

// Result is what a run committed.
type Result struct {
	// RunDir is the run's directory under the output location.
	RunDir   string
	Manifest *columnar.Manifest
}

// Run reads every trajectory of cfg.Input, validates it, and commits the
// run's datasets and manifest under cfg.Output/runs/<run-id>/. Input files
// are processed by cfg.Workers errgroup workers; input file i becomes
// output part file(s) i, so the outputs do not depend on the worker count.
// Nothing is visible to readers until the manifest, written last, exists.
func Run(ctx context.Context, cfg Config, log *slog.Logger) (*Result, error) {
	return RunWith(ctx, cfg, log, nil)
}

// Opener opens a storage location; storage.Open is the one the job uses.
type Opener func(ctx context.Context, uri string, cfg storage.S3Config) (storage.Bucket, error)

// RunWith is Run with the storage opener given (nil: storage.OpenInput for
// the input, storage.Open for the output): tests use it to wrap the
// buckets, for example to stop the server in the middle of a write.
func RunWith(ctx context.Context, cfg Config, log *slog.Logger, open Opener) (*Result, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	started := time.Now().UTC()
	in, root, err := openInput(ctx, cfg.Input, cfg.S3, open)
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
	openOut := open
	if openOut == nil {
		openOut = storage.Open
	}
	out, err := openOut(ctx, cfg.Output, cfg.S3)
	if err != nil {
		return nil, fmt.Errorf("output: %w", err)
	}
	defer out.Close()

	// The fingerprint covers what determines the outputs: the input listing
	// and the settings that shape the data files.
	var listing []byte
	for _, f := range src.Files {
		listing = fmt.Appendf(listing, "%s %d %s\n", f.Rel, f.Size, f.ContentID)
	}
	shape, _ := json.Marshal(struct {
		OnError columnar.OnError
		Parquet ParquetConfig
		Version string
	}{cfg.OnError, cfg.Parquet, Version})
	fp := columnar.Fingerprint(listing, shape)
	runID := cfg.RunID
	if runID == "" {
		runID = "run-" + fp
	}
	runDir := storage.Join("runs", runID)
	log.Info("run starting", "run_id", runID, "input", storage.Redact(cfg.Input), "files", len(src.Files), "output", storage.Redact(cfg.Output), "workers", cfg.Workers)

	c, err := columnar.NewCommitter(ctx, out, runDir, columnar.RunManifest)
	if err != nil {
		return nil, err
	}
	counts := make([]columnar.ScanStats, len(src.Files))
	successes := make([]int64, len(src.Files))
	var logMu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(cfg.Workers)
	for i, f := range src.Files {
		g.Go(func() error {
			sink := columnar.NewSink(c, columnar.SinkOptions{
				Dir: columnar.TrajectoriesDataset, Fingerprint: fp, Shard: fmt.Sprintf("%05d", i),
				Partition:   func(*columnar.Trajectory) string { return f.Partition },
				RowsPerFile: cfg.Parquet.RowsPerFile, JSONL: cfg.Parquet.JSONL, Parquet: cfg.Parquet.Writer(),
			})
			st, err := columnar.ScanFile(gctx, in, f, columnar.ReadOptions{}, cfg.OnError,
				func(re *columnar.RecordError) {
					logMu.Lock()
					defer logMu.Unlock()
					log.Warn("skipping bad record", "error", re.Error())
				},
				func(t *columnar.Trajectory, _ columnar.Position) error {
					if t.Outcome.Success {
						successes[i]++
					}
					return sink.Write(gctx, *t)
				})
			if err != nil {
				sink.Abort()
				return err
			}
			counts[i] = st
			if err := sink.Close(); err != nil {
				sink.Abort()
				return err
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		if aerr := c.Abort(ctx); aerr != nil {
			log.Warn("cleaning up after a failed run", "error", aerr)
		}
		return nil, fmt.Errorf("run %s: %w (nothing committed)", runID, err)
	}

	m := &columnar.Manifest{Kind: "run", Fingerprint: fp, Counters: map[string]int64{}}
	for i, f := range src.Files {
		m.Inputs = append(m.Inputs, columnar.InputEntry{Path: f.Rel, Bytes: f.Size, Rows: counts[i].Rows + counts[i].Skipped})
		m.Counters["rows_read"] += counts[i].Rows
		m.Counters["rows_skipped"] += counts[i].Skipped
		m.Counters["successes"] += successes[i]
	}
	m.Counters["files_read"] = int64(len(src.Files))
	m.Config, _ = json.Marshal(cfg.Redacted())
	if err := commit(ctx, c, m, runID, "run", started, log); err != nil {
		return nil, fmt.Errorf("run %s: %w (nothing committed)", runID, err)
	}
	log.Info("run committed", "run_id", runID, "rows", m.Counters["rows_read"], "skipped", m.Counters["rows_skipped"], "manifest", strings.TrimSuffix(storage.Redact(cfg.Output), "/")+"/"+storage.Join(runDir, columnar.RunManifest))
	return &Result{RunDir: runDir, Manifest: m}, nil
}

// openInput opens an input location with open: a directory, or one data
// file (its directory, and the file's name as the root).
func openInput(ctx context.Context, uri string, cfg storage.S3Config, open Opener) (storage.Bucket, string, error) {
	if open == nil {
		return storage.OpenInput(ctx, uri, cfg)
	}
	if strings.HasSuffix(uri, ".parquet") || strings.HasSuffix(uri, ".jsonl") {
		i := strings.LastIndex(uri, "/")
		if i < 0 {
			b, err := open(ctx, ".", cfg)
			return b, uri, err
		}
		b, err := open(ctx, uri[:i], cfg)
		return b, uri[i+1:], err
	}
	b, err := open(ctx, uri, cfg)
	return b, "", err
}
