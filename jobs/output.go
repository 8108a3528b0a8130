package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/atlas-ai/atlas-learn/columnar"
	"github.com/atlas-ai/atlas-learn/columnar/storage"
)

// datasetOutput is a trajectory dataset being written at a location: the
// store, its committer and the sink its records go to.
type datasetOutput struct {
	b    storage.Bucket
	c    *columnar.Committer
	sink *columnar.Sink[columnar.Trajectory]
}

// openDatasetOutput starts a dataset at uri whose files carry fp and are
// partitioned by partition.
func openDatasetOutput(ctx context.Context, uri string, s3 storage.S3Config, p ParquetConfig, fp string, partition func(*columnar.Trajectory) string) (*datasetOutput, error) {
	b, err := storage.Open(ctx, uri, s3)
	if err != nil {
		return nil, fmt.Errorf("output: %w", err)
	}
	c, err := columnar.NewCommitter(ctx, b, "", columnar.DatasetManifest)
	if err != nil {
		b.Close()
		return nil, err
	}
	sink := columnar.NewSink(c, columnar.SinkOptions[columnar.Trajectory]{
		Fingerprint: fp, Partition: partition,
		RowsPerFile: p.RowsPerFile, JSONL: p.JSONL, Parquet: p.Writer(),
	})
	return &datasetOutput{b: b, c: c, sink: sink}, nil
}

// abort discards everything written.
func (o *datasetOutput) abort(ctx context.Context) {
	o.sink.Abort()
	_ = o.c.Abort(ctx)
}

func (o *datasetOutput) close() { o.b.Close() }

// commit stamps m's run-time fields and commits c with it: the one way
// every command ends. Failing before the manifest is written, it removes
// what was written; after, a failed clean-up is only logged.
func commit(ctx context.Context, c *columnar.Committer, m *columnar.Manifest, id, command string, started time.Time, log *slog.Logger, stages []columnar.StageTiming) error {
	finished := time.Now().UTC()
	m.Run = columnar.RunInfo{ID: id, Command: command, Version: Version, StartedAt: started, FinishedAt: finished, ElapsedMS: finished.Sub(started).Milliseconds(), Stages: stages, Shards: m.Run.Shards}
	if err := c.Commit(ctx, m); err != nil {
		var unknown *columnar.UnknownCommitError
		if !errors.As(err, &unknown) {
			_ = c.Abort(ctx)
		}
		return err
	}
	if err := c.CleanupErr(); err != nil {
		log.Warn("committed; some replaced files could not be deleted (readers ignore them)", "error", err)
	}
	return nil
}
