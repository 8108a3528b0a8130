package jobs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"sync/atomic"
	"testing"
	"time"

	"github.com/atlas-ai/atlas-learn/columnar"
	"github.com/atlas-ai/atlas-learn/columnar/storage"
)

// streamSource writes files of per trajectories each into a local bucket.
func streamSource(t *testing.T, files, per int) *columnar.Source {
	t.Helper()
	ctx := context.Background()
	b, err := storage.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	id := 0
	for f := 0; f < files; f++ {
		w, err := b.NewWriter(ctx, fmt.Sprintf("part-%03d.parquet", f))
		if err != nil {
			t.Fatal(err)
		}
		pw, err := columnar.NewWriter[columnar.Trajectory](w, columnar.WriterOptions{RowGroupRows: 50})
		if err != nil {
			t.Fatal(err)
		}
		rows := make([]columnar.Trajectory, per)
		for i := range rows {
			rows[i] = columnar.Trajectory{SchemaVersion: columnar.SchemaVersion, TrajectoryID: fmt.Sprintf("t%06d", id)}
			rows[i].Normalize()
			id++
		}
		if err := pw.Write(rows); err != nil {
			t.Fatal(err)
		}
		if err := pw.Close(); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
	src, err := columnar.OpenSource(ctx, b, "")
	if err != nil {
		t.Fatal(err)
	}
	return src
}

// orderProc records the order of emits; Process sleeps at random so that
// workers finish out of order.
type orderProc struct {
	seed     uint64
	got      []string
	inFlight atomic.Int64
	maxSeen  atomic.Int64
	failAt   string
}

func (p *orderProc) Process(ctx context.Context, it *Item) (func(context.Context) error, error) {
	n := p.inFlight.Add(1)
	defer p.inFlight.Add(-1)
	for {
		m := p.maxSeen.Load()
		if n <= m || p.maxSeen.CompareAndSwap(m, n) {
			break
		}
	}
	r := rand.New(rand.NewPCG(p.seed, uint64(len(it.Trajectory.TrajectoryID))+uint64(it.Pos.Row)))
	if r.IntN(20) == 0 {
		time.Sleep(time.Duration(r.IntN(200)) * time.Microsecond)
	}
	if it.Trajectory.TrajectoryID == p.failAt {
		return nil, errors.New("boom at " + p.failAt)
	}
	id := it.Trajectory.TrajectoryID
	return func(context.Context) error { p.got = append(p.got, id); return nil }, nil
}

func (p *orderProc) Close(context.Context) error { return nil }

func TestStreamOrderAndBounds(t *testing.T) {
	src := streamSource(t, 7, 300)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	var want []string
	for i := 0; i < 7*300; i++ {
		want = append(want, fmt.Sprintf("t%06d", i))
	}
	for _, workers := range []int{1, 2, 8} {
		p1, p2 := &orderProc{seed: 1}, &orderProc{seed: 2}
		stats, err := stream(context.Background(), src, []TrajectoryProcessor{p1, p2}, streamOptions{workers: workers, onError: columnar.OnErrorFail, log: quiet})
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(p1.got) != fmt.Sprint(want) || fmt.Sprint(p2.got) != fmt.Sprint(want) {
			t.Fatalf("workers %d: emits out of input order", workers)
		}
		for i, s := range stats {
			if s.Rows != 300 {
				t.Fatalf("file %d: %d rows", i, s.Rows)
			}
		}
		// Process runs at most one batch per worker at a time.
		if m := p1.maxSeen.Load(); m > int64(workers) {
			t.Fatalf("workers %d: %d Process calls at once", workers, m)
		}
	}
}

func TestStreamErrors(t *testing.T) {
	src := streamSource(t, 4, 300)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	p := &orderProc{seed: 3, failAt: "t000777"}
	_, err := stream(context.Background(), src, []TrajectoryProcessor{p}, streamOptions{workers: 4, onError: columnar.OnErrorFail, log: quiet})
	if err == nil || err.Error() != "boom at t000777" {
		t.Fatalf("a failing stage: %v", err)
	}
	if len(p.got) > 777 {
		t.Fatalf("emitted %d trajectories, past the failure", len(p.got))
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = stream(ctx, src, []TrajectoryProcessor{&orderProc{}}, streamOptions{workers: 2, onError: columnar.OnErrorFail, log: quiet})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("a cancelled stream: %v", err)
	}
}
