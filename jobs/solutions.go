package jobs

import (
	"context"

	"github.com/atlas-ai/atlas-learn/columnar"
	"github.com/atlas-ai/atlas-learn/columnar/storage"
)

// Solution is the final code of one successful trajectory.
type Solution struct {
	TrajectoryID string
	Code         string
}

// solutionRow is the projection Solutions reads: ids, outcomes and
// solutions, never the steps.
type solutionRow struct {
	TrajectoryID string            `parquet:"trajectory_id" json:"trajectory_id"`
	Outcome      columnar.Outcome  `parquet:"outcome" json:"outcome"`
	Solution     columnar.Solution `parquet:"solution" json:"solution"`
}

// Solutions reads the solution code of every successful trajectory in the
// dataset at uri whose solution is in language (e.g. "python"), in
// dataset order, at most limit of them (limit <= 0: all).
func Solutions(ctx context.Context, uri, language string, limit int, s3 storage.S3Config) ([]Solution, error) {
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
	errStop := context.Canceled
	for _, f := range src.Files {
		_, err := columnar.ScanFile(ctx, b, f, columnar.ReadOptions{}, columnar.OnErrorFail, nil, func(r *solutionRow, _ columnar.Position) error {
			if !r.Outcome.Success || r.Solution.Code == "" || (language != "" && r.Solution.Language != language) {
				return nil
			}
			out = append(out, Solution{TrajectoryID: r.TrajectoryID, Code: r.Solution.Code})
			if limit > 0 && len(out) >= limit {
				return errStop
			}
			return nil
		})
		if err == errStop {
			break
		}
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}
