package columnar_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"testing"

	"github.com/parquet-go/parquet-go"

	"github.com/atlas-ai/atlas-learn/columnar"
)

// benchFile is 20,000 trajectories written the way the job writes them.
func benchFile(b *testing.B) []byte {
	b.Helper()
	rows := make([]columnar.Trajectory, 20000)
	for i := range rows {
		rows[i] = sample(i)
		// Realistic step sizes: a few hundred bytes of code and output.
		for j := range rows[i].Steps {
			st := &rows[i].Steps[j]
			st.Code += fmt.Sprintf("def helper_%d(xs):\n    out = []\n    for x in xs:\n        if x %% %d == 0:\n            out.append(x * %d)\n    return out\n", i%97, j+2, i%13)
			st.Observation += fmt.Sprintf("Running tests...\ntest_%d passed in 0.%03ds\nTraceback (most recent call last):\n  File \"solution.py\", line %d, in solve\nIndexError: list index out of range\n", j, i%1000, j+3)
		}
	}
	return writeParquet(b, rows, columnar.WriterOptions{})
}

func report(b *testing.B, rows, size int) {
	b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "traj/s")
	b.ReportMetric(float64(size)*float64(b.N)/b.Elapsed().Seconds()/1e6, "MB/s")
}

// BenchmarkRead compares, on one file in one run, the job's reader (full
// rows and an outcome-only projection) with a bare parquet-go scan of the
// same file. Compare traj/s across the sub-benchmarks: Full/Bare is the
// overhead ratio, OutcomesOnly/Full the projection speed-up.
func BenchmarkRead(b *testing.B) {
	data := benchFile(b)
	const n = 20000
	b.Run("Bare", func(b *testing.B) {
		for b.Loop() {
			r := parquet.NewGenericReader[columnar.Trajectory](bytes.NewReader(data))
			buf := make([]columnar.Trajectory, 1024)
			total := 0
			for {
				k, err := r.Read(buf)
				total += k
				if err == io.EOF {
					break
				}
				if err != nil {
					b.Fatal(err)
				}
			}
			r.Close()
			if total != n {
				b.Fatalf("read %d", total)
			}
		}
		report(b, n, len(data))
	})
	b.Run("Full", func(b *testing.B) {
		for b.Loop() {
			total := 0
			err := columnar.ReadParquet(context.Background(), bytes.NewReader(data), int64(len(data)), "bench", columnar.ReadOptions{},
				func(batch []columnar.Trajectory, _ int64) error { total += len(batch); return nil })
			if err != nil || total != n {
				b.Fatal(err, total)
			}
		}
		report(b, n, len(data))
	})
	b.Run("OutcomesOnly", func(b *testing.B) {
		for b.Loop() {
			total := 0
			err := columnar.ReadParquet(context.Background(), bytes.NewReader(data), int64(len(data)), "bench", columnar.ReadOptions{},
				func(batch []outcomeOnly, _ int64) error { total += len(batch); return nil })
			if err != nil || total != n {
				b.Fatal(err, total)
			}
		}
		report(b, n, len(data))
	})
}
