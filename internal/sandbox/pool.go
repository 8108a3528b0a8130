package sandbox

import (
	"context"
	"sync"
	"time"
)

// Pool keeps warm sandboxes, each with an interpreter that forks a fresh,
// limited child per run, so that a run costs a fork instead of starting
// bubblewrap and Python. A Pool of size n runs n programs at once. It is
// safe for concurrent use; Close it when done.
type Pool struct {
	opts  Options
	probe prober
	slots chan *server // size entries; nil for a sandbox not started

	mu     sync.Mutex
	closed bool
}

// NewPool returns a Pool of size sandboxes (at least one), started on
// first use or by Start.
func NewPool(opts Options, size int) *Pool {
	size = max(size, 1)
	p := &Pool{opts: opts, slots: make(chan *server, size)}
	for range size {
		p.slots <- nil
	}
	return p
}

// Environment reports how runs are isolated on this machine; see
// Runner.Environment.
func (p *Pool) Environment(ctx context.Context) (Environment, error) {
	return environmentOf(ctx, &p.probe, p.opts)
}

// Start starts every sandbox of the pool that is not running.
func (p *Pool) Start(ctx context.Context) error {
	env, err := p.probe.get(ctx, p.opts)
	if err != nil {
		return err
	}
	n := cap(p.slots)
	taken := make([]*server, 0, n)
	defer func() {
		for _, s := range taken {
			p.slots <- s
		}
	}()
	for range n {
		select {
		case s := <-p.slots:
			taken = append(taken, s)
		case <-ctx.Done():
			return errorf("starting pool: %w", ctx.Err())
		}
	}
	if p.isClosed() {
		return ErrClosed
	}
	for i, s := range taken {
		if s != nil && !s.dead() {
			continue
		}
		if s != nil {
			s.close()
		}
		taken[i] = nil
		s, err := startServer(ctx, env, p.diskBytes(), false)
		if err != nil {
			return err
		}
		taken[i] = s
	}
	return nil
}

func (p *Pool) diskBytes() int64 { return p.opts.Limits.withDefaults().MaxDiskBytes }

func (p *Pool) isClosed() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.closed
}

// RunPython runs code with stdin as its standard input; see Run.
func (p *Pool) RunPython(ctx context.Context, code string, stdin []byte) (Result, error) {
	return p.Run(ctx, Program{Code: code, Stdin: stdin})
}

// Run runs prog in a warm sandbox, starting (or replacing) one when
// needed; errors are as for Runner.Run. Program.Limits.MaxDiskBytes is
// ignored: the pool's sandboxes are made with the pool's.
func (p *Pool) Run(ctx context.Context, prog Program) (Result, error) {
	env, err := p.probe.get(ctx, p.opts)
	if err != nil {
		return Result{}, err
	}
	start := time.Now()
	var s *server
	select {
	case s = <-p.slots:
	case <-ctx.Done():
		return Result{}, errorf("waiting for a sandbox: %w", ctx.Err())
	}
	defer func() { p.slots <- s }()
	if p.isClosed() {
		return Result{}, ErrClosed
	}
	if s != nil && s.dead() {
		s.close()
		s = nil
	}
	if s == nil {
		if s, err = startServer(ctx, env, p.diskBytes(), false); err != nil {
			return Result{}, err
		}
	}
	lim := prog.Limits.over(p.opts.Limits).withDefaults()
	res, err := s.run(ctx, prog, lim)
	if s.dead() {
		p.opts.logger().Debug("sandbox: replacing a sandbox after a run", "limit", res.Limit)
		s.close()
		s = nil
	}
	res.Duration = time.Since(start)
	return res, err
}

// Close stops the pool's sandboxes, waiting for runs in progress.
func (p *Pool) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	p.mu.Unlock()
	for range cap(p.slots) {
		if s := <-p.slots; s != nil {
			s.close()
		}
	}
	for range cap(p.slots) {
		p.slots <- nil
	}
	return nil
}
