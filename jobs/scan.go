package jobs

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/atlas-ai/atlas-learn/columnar"
	"github.com/atlas-ai/atlas-learn/columnar/storage"
)

// ScanResult is what a bare scan of a run's input read.
type ScanResult struct {
	Files   int
	Rows    int64
	Skipped int64
	Elapsed time.Duration
}

// Scan reads and decodes every trajectory of cfg.Input through the run's
// stream, with the run's workers and read settings, and runs no stage:
// the floor under a run's time, which `bench run` puts beside the run's
// stages to show whether reading is the bottleneck.
func Scan(ctx context.Context, cfg Config, log *slog.Logger) (*ScanResult, error) {
	if err := cfg.Validate(); err != nil {
		return nil, &ConfigError{Err: err}
	}
	start := time.Now()
	inLoc, _ := storage.ParseLocation(cfg.Input, cfg.S3)
	in, src, err := openCommitted(ctx, cfg.Input, cfg.S3, columnar.TrajectoriesDataset, columnar.TrajectorySchema)
	if err != nil {
		return nil, fmt.Errorf("input: %w", err)
	}
	defer in.Close()
	stats, err := stream(ctx, src, nil, streamOptions{workers: cfg.Workers, read: readOptions(inLoc), onError: cfg.OnError, log: log})
	if err != nil {
		return nil, fmt.Errorf("scan %s: %w", inLoc, err)
	}
	res := &ScanResult{Files: len(src.Files), Elapsed: time.Since(start)}
	for _, s := range stats {
		res.Rows += s.Rows
		res.Skipped += s.Skipped
	}
	return res, nil
}
