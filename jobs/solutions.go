package jobs

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"

	"golang.org/x/sync/errgroup"

	"github.com/atlas-ai/atlas-learn/columnar"
	"github.com/atlas-ai/atlas-learn/columnar/storage"
	"github.com/atlas-ai/atlas-learn/compress/pyfront"
)

// Solution is the final code of one successful trajectory.
type Solution struct {
	TrajectoryID string
	Code         string
	// TaskInput is the task's structured input (task.input), read by
	// SolutionsWithTasks only.
	TaskInput string
}

// solutionRow is the projection Solutions reads: ids, outcomes and
// solutions, never the steps.
type solutionRow struct {
	TrajectoryID string            `parquet:"trajectory_id" json:"trajectory_id"`
	Outcome      columnar.Outcome  `parquet:"outcome" json:"outcome"`
	Solution     columnar.Solution `parquet:"solution" json:"solution"`
}

// solutionTaskRow is solutionRow with the task, for SolutionsWithTasks.
type solutionTaskRow struct {
	TrajectoryID string            `parquet:"trajectory_id" json:"trajectory_id"`
	Task         columnar.Task     `parquet:"task" json:"task"`
	Outcome      columnar.Outcome  `parquet:"outcome" json:"outcome"`
	Solution     columnar.Solution `parquet:"solution" json:"solution"`
}

// errEnoughSolutions stops the scan once Solutions has limit solutions. It
// is private so that no other error, a cancelled context above all, can be
// mistaken for it.
var errEnoughSolutions = errors.New("enough solutions")

// Solutions reads the solution code of every successful trajectory in the
// dataset at uri whose solution is in language (e.g. "python"), in
// dataset order, at most limit of them (limit <= 0: all).
func Solutions(ctx context.Context, uri, language string, limit int, s3 storage.S3Config) ([]Solution, error) {
	return scanSolutions(ctx, uri, limit, s3, func(r *solutionRow) (Solution, bool) {
		return Solution{TrajectoryID: r.TrajectoryID, Code: r.Solution.Code}, r.Outcome.Success && r.Solution.Code != "" && (language == "" || r.Solution.Language == language)
	})
}

// SolutionsWithTasks is Solutions with each solution's task input.
func SolutionsWithTasks(ctx context.Context, uri, language string, limit int, s3 storage.S3Config) ([]Solution, error) {
	return scanSolutions(ctx, uri, limit, s3, func(r *solutionTaskRow) (Solution, bool) {
		return Solution{TrajectoryID: r.TrajectoryID, Code: r.Solution.Code, TaskInput: r.Task.Input}, r.Outcome.Success && r.Solution.Code != "" && (language == "" || r.Solution.Language == language)
	})
}

func scanSolutions[R any](ctx context.Context, uri string, limit int, s3 storage.S3Config, take func(*R) (Solution, bool)) ([]Solution, error) {
	b, root, err := storage.OpenInput(ctx, uri, s3)
	if err != nil {
		return nil, err
	}
	defer b.Close()
	src, err := columnar.OpenSource(ctx, b, root)
	if err != nil {
		return nil, err
	}
	var out []Solution
	for _, f := range src.Files {
		// A scan of a file that holds no record checks nothing: a
		// cancelled context must not look like an empty dataset.
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("solutions: %w", err)
		}
		_, err := columnar.ScanFile(ctx, b, f, columnar.ReadOptions{}, columnar.OnErrorFail, nil, func(r *R, _ columnar.Position) error {
			sol, ok := take(r)
			if !ok {
				return nil
			}
			out = append(out, sol)
			if limit > 0 && len(out) >= limit {
				return errEnoughSolutions
			}
			return nil
		})
		if errors.Is(err, errEnoughSolutions) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("solutions: %w", err)
	}
	return out, nil
}

// SolutionCorpus encodes, for library learning, the Python solutions of
// the successful trajectories in the dataset at uri (at most limit; <= 0:
// all) as programs in Stitch syntax, with workers parsing in parallel. The
// result is in dataset order whatever workers is. A solution that is not
// valid Python is an error naming its trajectory.
func SolutionCorpus(ctx context.Context, uri string, limit, workers int, s3 storage.S3Config) ([]string, error) {
	sols, err := Solutions(ctx, uri, "python", limit, s3)
	if err != nil {
		return nil, err
	}
	if workers < 1 {
		workers = 1
	}
	programs := make([]string, len(sols))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(workers)
	for i := range sols {
		g.Go(func() error {
			p, err := pyfront.Encode(gctx, []byte(sols[i].Code))
			if err != nil {
				return fmt.Errorf("%s: trajectory %s: solution.code: %w", storage.Redact(uri), sols[i].TrajectoryID, err)
			}
			programs[i] = p
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return programs, nil
}

// IsDataset tells whether an input location names a trajectory dataset
// (an s3:// location, a .parquet or .jsonl file, or a directory holding a
// manifest or data files) rather than Python sources.
func IsDataset(uri string) bool {
	if strings.HasPrefix(uri, "s3://") || strings.HasSuffix(uri, ".parquet") || strings.HasSuffix(uri, ".jsonl") {
		return true
	}
	dataset := false
	_ = filepath.WalkDir(strings.TrimPrefix(uri, "file://"), func(p string, d fs.DirEntry, err error) error {
		if err != nil || dataset {
			return filepath.SkipAll
		}
		if !d.IsDir() {
			base := d.Name()
			if base == columnar.DatasetManifest || base == columnar.RunManifest || columnar.FormatOf(base) != "" {
				dataset = true
				return filepath.SkipAll
			}
		}
		return nil
	})
	return dataset
}
