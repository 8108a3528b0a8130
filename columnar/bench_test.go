package columnar_test

import (
	"bytes"
	"context"
	"io"
	"testing"

	"github.com/parquet-go/parquet-go"

	"github.com/atlas-ai/atlas-learn/columnar"
	"github.com/atlas-ai/atlas-learn/internal/trajgen"
)

// benchFile is 20,000 generated trajectories (internal/trajgen: tasks,
// steps with code and test output, successes and failures) written the way
// the job writes them.
func benchFile(b *testing.B) []byte {
	b.Helper()
	cfg := trajgen.DefaultConfig()
	cfg.N = 20000
	rows := make([]columnar.Trajectory, 0, cfg.N)
	err := trajgen.Generate(context.Background(), cfg, func(t columnar.Trajectory) error { rows = append(rows, t); return nil })
	if err != nil {
		b.Fatal(err)
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
