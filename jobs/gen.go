package jobs

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/atlas-ai/atlas-learn/columnar"
	"github.com/atlas-ai/atlas-learn/columnar/storage"
	"github.com/atlas-ai/atlas-learn/internal/trajgen"
)

// GenOptions configures gen.
type GenOptions struct {
	Gen     trajgen.Config
	Output  string
	Workers int
	S3      storage.S3Config
	Parquet ParquetConfig
}

// genChunk is the number of trajectories one worker generates at a time.
const genChunk = 2048

// Gen writes opts.Gen.N generated trajectories to opts.Output as a dataset
// partitioned by day (dt=YYYY-MM-DD), with a _manifest.json written last.
// Workers generate chunks of indices in parallel; a single writer takes
// them in index order, so the files do not depend on the worker count.
func Gen(ctx context.Context, opts GenOptions, log *slog.Logger) (*columnar.Manifest, error) {
	started := time.Now().UTC()
	if err := opts.Gen.Validate(); err != nil {
		return nil, err
	}
	if opts.Workers < 1 {
		opts.Workers = 1
	}
	g, err := trajgen.New(opts.Gen)
	if err != nil {
		return nil, err
	}
	shape, _ := json.Marshal(struct {
		Gen     trajgen.Config
		Parquet ParquetConfig
		Version string
	}{opts.Gen, opts.Parquet, Version})
	fp := columnar.Fingerprint(shape)
	out, err := openDatasetOutput(ctx, opts.Output, opts.S3, opts.Parquet, fp, columnar.DatePartition)
	if err != nil {
		return nil, err
	}
	defer out.close()
	sink := out.sink
	var successes int64
	eg, ectx := errgroup.WithContext(ctx)
	futures := make(chan chan []columnar.Trajectory, opts.Workers)
	eg.Go(func() error {
		defer close(futures)
		for lo := 0; lo < opts.Gen.N; lo += genChunk {
			hi := min(lo+genChunk, opts.Gen.N)
			done := make(chan []columnar.Trajectory, 1)
			select {
			case futures <- done:
			case <-ectx.Done():
				return ectx.Err()
			}
			eg.Go(func() error {
				batch := make([]columnar.Trajectory, 0, hi-lo)
				err := g.Range(ectx, lo, hi, func(t columnar.Trajectory) error { batch = append(batch, t); return nil })
				done <- batch
				return err
			})
		}
		return nil
	})
	eg.Go(func() error {
		for done := range futures {
			var batch []columnar.Trajectory
			select {
			case batch = <-done:
			case <-ectx.Done():
				return ectx.Err()
			}
			for _, t := range batch {
				if t.Outcome.Success {
					successes++
				}
				// The sink outlives the group (it is closed after Wait), so its
				// writers get ctx, not the group's context.
				if err := sink.Write(ctx, t); err != nil {
					return err
				}
			}
		}
		return nil
	})
	err = eg.Wait()
	if err == nil {
		err = sink.Close(ctx)
	}
	if err != nil {
		out.abort(ctx)
		return nil, fmt.Errorf("gen: %w (nothing committed)", err)
	}
	m := &columnar.Manifest{Kind: "dataset", Fingerprint: fp, Counters: map[string]int64{"rows_generated": int64(opts.Gen.N), "successes": successes}}
	m.Config, _ = json.Marshal(struct {
		Gen     trajgen.Config `json:"gen"`
		Parquet ParquetConfig  `json:"parquet"`
	}{opts.Gen, opts.Parquet})
	if err := commit(ctx, out.c, m, "gen-"+fp, "gen", started, log, nil); err != nil {
		return nil, fmt.Errorf("gen: %w (nothing committed)", err)
	}
	log.Info("generated", "trajectories", opts.Gen.N, "successes", successes, "output", storage.Redact(opts.Output), "elapsed_ms", m.Run.ElapsedMS)
	return m, nil
}
