package compress

import (
	"context"
	"fmt"
	"github.com/atlas-ai/atlas-learn/internal/shareddata"
	"path/filepath"
	"testing"
)

// BenchmarkCogsci times full runs on the cogsci corpora (Stitch's settings).
func BenchmarkCogsci(b *testing.B) {
	dir := filepath.Join(shareddata.Dir(b), "stitch", "cogsci")
	for _, tc := range []struct {
		domain                     string
		arity, iterations, workers int
	}{
		{"nuts-bolts", 3, 10, 1}, {"dials", 3, 10, 1}, {"furniture", 3, 10, 1}, {"wheels", 3, 10, 1},
		{"bridge", 2, 10, 1}, {"bridge", 2, 10, 2}, {"house", 3, 10, 1}, {"house", 3, 10, 2},
	} {
		progs := loadPrograms(b, filepath.Join(dir, tc.domain+".json"))
		b.Run(fmt.Sprintf("%s-a%d-i%d-w%d", tc.domain, tc.arity, tc.iterations, tc.workers), func(b *testing.B) {
			for b.Loop() {
				if _, err := Compress(context.Background(), progs, Options{Iterations: tc.iterations, MaxArity: tc.arity, Workers: tc.workers}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
