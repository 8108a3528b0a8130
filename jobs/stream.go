package jobs

import (
	"context"
	"log/slog"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/atlas-ai/atlas-learn/columnar"
)

// streamBatch is the number of trajectories read, processed and emitted
// together: the unit of work of the stream's workers.
const streamBatch = 256

// streamOptions configures the stream of a run's trajectories.
type streamOptions struct {
	workers int
	// readers bounds the files read at once (default min(workers, 2)):
	// each open file holds a read buffer per column.
	readers int
	// read configures the Parquet reads.
	read    columnar.ReadOptions
	onError columnar.OnError
	log     *slog.Logger
	// progress, when set, is told of every batch emitted: its
	// trajectories and the input files finished before it.
	progress func(rows, filesDone int)
	// skip, when set, says which trajectories the processors do not see
	// (called from the workers, concurrently).
	skip func(*columnar.Trajectory) (bool, error)
}

// fileStats is what the stream read of one input file.
type fileStats struct {
	columnar.ScanStats
	successes int64
}

type readBatch struct {
	items []Item
}

type doneBatch struct {
	items []Item
	emits [][]func(context.Context) error // [item][stage]
}

// stream reads the source's files and drives the processors, after the
// ordered pipeline of gen.go: up to readers files are read at once,
// each into its own bounded channel; a sequencer takes the files' batches
// in file order and hands each to a worker (at most workers at a time)
// that calls every processor's Process; the results are taken back in the
// same order and each processor's emit functions are called, in that
// order, by a goroutine of its own. Memory is bounded by the
// files being read (one read buffer per column each) and the batches in
// flight (about 2 × workers + 13 batches of streamBatch trajectories),
// whatever the input's size, and the emitted order is the input order,
// whatever the number of workers.
func stream(ctx context.Context, src *columnar.Source, procs []TrajectoryProcessor, o streamOptions) ([]fileStats, error) {
	stats := make([]fileStats, len(src.Files))
	g, gctx := errgroup.WithContext(ctx)
	if o.readers <= 0 {
		o.readers = min(o.workers, 2)
	}
	// The sequencer holds one file's channel; readers-1 more wait here.
	files := make(chan chan readBatch, o.readers-1)
	var logMu sync.Mutex

	// Readers: one per file, at most workers ahead of the sequencer.
	g.Go(func() error {
		defer close(files)
		for i, f := range src.Files {
			ch := make(chan readBatch, 2)
			select {
			case files <- ch:
			case <-gctx.Done():
				return gctx.Err()
			}
			g.Go(func() error {
				defer close(ch)
				batch := make([]Item, 0, streamBatch)
				send := func() error {
					select {
					case ch <- readBatch{items: batch}:
					case <-gctx.Done():
						return gctx.Err()
					}
					batch = make([]Item, 0, streamBatch)
					return nil
				}
				st, err := columnar.ScanFile(gctx, src.Bucket, f, o.read, o.onError,
					func(re *columnar.RecordError) {
						logMu.Lock()
						defer logMu.Unlock()
						o.log.Warn("skipping bad record", "error", re.Error())
					},
					func(t *columnar.Trajectory, pos columnar.Position) error {
						if t.Outcome.Success {
							stats[i].successes++
						}
						batch = append(batch, Item{Trajectory: *t, File: f.Rel, Partition: f.Partition, Pos: pos})
						if len(batch) == streamBatch {
							return send()
						}
						return nil
					})
				if err != nil {
					return err
				}
				stats[i].ScanStats = st
				if len(batch) > 0 {
					return send()
				}
				return nil
			})
		}
		return nil
	})

	// Sequencer: batches in file order, each to a worker.
	futures := make(chan chan doneBatch, 2*o.workers)
	sem := make(chan struct{}, o.workers)
	g.Go(func() error {
		defer close(futures)
		for ch := range files {
			for b := range ch {
				fut := make(chan doneBatch, 1)
				select {
				case futures <- fut:
				case <-gctx.Done():
					return gctx.Err()
				}
				select {
				case sem <- struct{}{}:
				case <-gctx.Done():
					return gctx.Err()
				}
				g.Go(func() error {
					defer func() { <-sem }()
					d := doneBatch{items: b.items, emits: make([][]func(context.Context) error, len(b.items))}
					for i := range b.items {
						d.emits[i] = make([]func(context.Context) error, len(procs))
						if o.skip != nil {
							skip, err := o.skip(&b.items[i].Trajectory)
							if err != nil {
								return err
							}
							if skip {
								continue
							}
						}
						for j, p := range procs {
							emit, err := p.Process(gctx, &b.items[i])
							if err != nil {
								return err
							}
							d.emits[i][j] = emit
						}
					}
					fut <- d
					return nil
				})
			}
		}
		return nil
	})

	// Emitters: results in input order, one goroutine per processor, so
	// that the stages' writes (each its own Parquet encoding) run side by
	// side while each stage still sees its rows in input order.
	lanes := make([]chan []func(context.Context) error, len(procs))
	for j := range procs {
		lanes[j] = make(chan []func(context.Context) error, 4)
		g.Go(func() error {
			for emits := range lanes[j] {
				for _, emit := range emits {
					if emit == nil {
						continue
					}
					// Sinks outlive the group (they are closed after
					// Wait): their writers get ctx, not the group's.
					if err := emit(ctx); err != nil {
						return err
					}
				}
			}
			return nil
		})
	}
	g.Go(func() error {
		defer func() {
			for _, l := range lanes {
				close(l)
			}
		}()
		var lastFile string
		filesDone := 0
		for fut := range futures {
			var d doneBatch
			select {
			case d = <-fut:
			case <-gctx.Done():
				return gctx.Err()
			}
			if o.progress != nil && len(d.items) > 0 {
				for _, it := range d.items {
					if it.File != lastFile {
						if lastFile != "" {
							filesDone++
						}
						lastFile = it.File
					}
				}
				o.progress(len(d.items), filesDone)
			}
			for j := range procs {
				emits := make([]func(context.Context) error, len(d.items))
				for i := range d.items {
					emits[i] = d.emits[i][j]
				}
				select {
				case lanes[j] <- emits:
				case <-gctx.Done():
					return gctx.Err()
				}
			}
		}
		return nil
	})
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return stats, nil
}
