package jobs

import (
	"context"

	"github.com/atlas-ai/atlas-learn/columnar"
)

// The trajectories stage writes every valid input trajectory, normalized,
// to the run's trajectories dataset, in input order and in its input
// file's partition: the run's own copy of what it read, which batch
// stages read back (by projection) and later runs can take as input.

type trajectoriesStage struct{}

func newTrajectoriesStage(*Config) (Stage, error) { return trajectoriesStage{}, nil }

func (trajectoriesStage) Name() string { return "trajectories" }

func (trajectoriesStage) Open(_ context.Context, env *Env) (TrajectoryProcessor, error) {
	// Rows arrive in input order, so partitions come in runs (one input
	// file each): two open files are enough.
	sink, err := NewDataset(env, DatasetSpec[columnar.Trajectory]{Name: columnar.TrajectoriesDataset, Schema: columnar.TrajectorySchema, MaxOpenParts: 2})
	if err != nil {
		return nil, err
	}
	counters := env.Counters()
	return Processor(
		func(context.Context, *Item) (struct{}, error) { return struct{}{}, nil },
		func(ctx context.Context, it *Item, _ struct{}) error {
			counters.Add("rows_written", 1)
			return sink.WritePartition(ctx, it.Partition, it.Trajectory)
		},
		func(ctx context.Context) error { return sink.Close(ctx) },
	), nil
}
