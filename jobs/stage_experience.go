package jobs

import (
	"context"

	"github.com/atlas-ai/atlas-learn/columnar"
	"github.com/atlas-ai/atlas-learn/internal/textcut"
	"github.com/atlas-ai/atlas-learn/jobs/memory"
)

// ExperienceSchema is the schema of the run's experience dataset and of
// the memory's.
var ExperienceSchema = columnar.Schema{Name: memory.ExperienceSchema, Version: memory.SchemaVersion}

// ExperienceDataset is the experience dataset's name.
const ExperienceDataset = "experience"

// The experience stage hashes every trajectory of the run (concurrently,
// in the stream) and writes its experience row: the run's experience
// dataset, from which the memory stage stores each trajectory once.
type experienceStage struct{}

func newExperienceStage(*Config) (Stage, error) { return experienceStage{}, nil }

func (experienceStage) Name() string { return "experience" }

// maxExperienceText bounds the text fields of an experience row.
const maxExperienceText = 8 << 10

func (experienceStage) Open(_ context.Context, env *Env) (TrajectoryProcessor, error) {
	sink, err := NewDataset(env, DatasetSpec[memory.Experience]{Name: ExperienceDataset, Schema: ExperienceSchema})
	if err != nil {
		return nil, err
	}
	n := env.Counters()
	return Processor(
		func(_ context.Context, it *Item) (memory.Experience, error) {
			t := &it.Trajectory
			h, err := memory.ContentHash(t)
			if err != nil {
				return memory.Experience{}, err
			}
			return memory.Experience{TrajectoryID: t.TrajectoryID, ContentHash: h, TaskID: t.Task.ID,
				Task: textcut.Cut(t.Task.Description, maxExperienceText), Domain: t.Task.Domain,
				Success: t.Outcome.Success, Reward: t.Outcome.Reward, ErrorInfo: textcut.Cut(t.Outcome.ErrorInfo, maxExperienceText),
				Steps: int32(len(t.Steps)), KeySteps: []int32{}, Solution: textcut.Cut(t.Solution.Code, 4*maxExperienceText),
				Language: t.Solution.Language, CreatedAt: t.CreatedAt.UTC(), FirstRun: env.RunID}, nil
		},
		func(ctx context.Context, _ *Item, e memory.Experience) error {
			n.Add("rows_written", 1)
			return sink.Write(ctx, e)
		},
		func(ctx context.Context) error { return sink.Close(ctx) },
	), nil
}
