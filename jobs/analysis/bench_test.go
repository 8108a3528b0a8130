package analysis_test

import (
	"context"
	"testing"

	"github.com/atlas-ai/atlas-learn/jobs/analysis"
)

// BenchmarkAnalyzeSimple is the per-trajectory cost of the analysis stage
// with simple credit (credit, error lines, failure modes, training
// examples), on generated trajectories.
func BenchmarkAnalyzeSimple(b *testing.B) {
	trs := genTrajectories(&testing.T{}, 2000, 9)
	a, err := analysis.New(analysis.Options{Method: analysis.Simple})
	if err != nil {
		b.Fatal(err)
	}
	w := analysis.DefaultWeights()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t := &trs[i%len(trs)]
		r, err := a.Analyze(context.Background(), t, w)
		if err != nil {
			b.Fatal(err)
		}
		_ = analysis.RowOf(t, r)
	}
}
