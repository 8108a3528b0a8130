package jobs_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/atlas-ai/atlas-learn/internal/trajgen"
	"github.com/atlas-ai/atlas-learn/jobs"
)

// BenchmarkRunStages runs the same input with and without the analysis
// stage (simple credit) side by side: the ratio of their ns/op is the
// stage's cost. go test -run '^$' -bench RunStages ./jobs/
func BenchmarkRunStages(b *testing.B) {
	dir := b.TempDir()
	in := filepath.Join(dir, "gen")
	gc := trajgen.DefaultConfig()
	gc.N = 20000
	cfg, err := jobs.LoadConfig("", func(string) string { return "" })
	if err != nil {
		b.Fatal(err)
	}
	if _, err := jobs.Gen(context.Background(), jobs.GenOptions{Gen: gc, Output: in, Workers: 2, Parquet: cfg.Parquet}, quiet()); err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name   string
		stages []string
	}{
		{"trajectories", []string{"trajectories"}},
		{"trajectories+analysis-simple", []string{"trajectories", "analysis"}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				c := cfg
				c.Input, c.Output, c.Workers, c.Stages = in, filepath.Join(dir, "out", bc.name), 2, bc.stages
				c.RunID = "bench"
				if _, err := jobs.Run(context.Background(), c, quiet()); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(gc.N)*float64(b.N)/b.Elapsed().Seconds(), "trajectories/s")
		})
	}
}
