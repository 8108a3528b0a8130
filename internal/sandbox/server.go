package sandbox

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Timing of the conversation with a sandbox.
const (
	startTimeout = 30 * time.Second // bubblewrap and the zygote start
	killGrace    = 3 * time.Second  // the zygote reports a killed run
	drainGrace   = 2 * time.Second  // output pipes close after a run
	closeGrace   = 2 * time.Second  // the sandbox exits once told to
	maxStatus    = 4 << 10          // bytes of a child's status report
	maxDiag      = 64 << 10         // bytes of bubblewrap's and the zygote's own output
)

// server is one sandbox: bubblewrap (or, without isolation, nothing) around
// a zygote that forks a child per run.
type server struct {
	env      *environment
	cmd      *exec.Cmd
	conn     *net.UnixConn
	msgs     chan []string // control messages from the zygote; closed at EOF
	exited   chan struct{} // closed when the sandbox process has exited
	diag     *cappedBuffer
	hostWork string
	oneshot  bool
	nextID   int
	retired  bool // takes no more runs (it exits by itself or when told)
	broken   bool // must be killed
}

// startServer starts a sandbox and waits until its zygote is ready. A
// oneshot sandbox serves one run; others import Options.Preload first.
func startServer(ctx context.Context, env *environment, diskBytes int64, oneshot bool) (*server, error) {
	s := &server{env: env, oneshot: oneshot, diag: &cappedBuffer{limit: maxDiag},
		msgs: make(chan []string, 16), exited: make(chan struct{})}
	if env.Mode == ModeNone {
		dir, err := os.MkdirTemp("", "atlas-sandbox-*")
		if err != nil {
			return nil, errorf("creating working directory: %w", err)
		}
		s.hostWork = dir
	}
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_SEQPACKET|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		s.removeWork()
		return nil, errorf("socketpair: %w", err)
	}
	mine := os.NewFile(uintptr(fds[0]), "sandbox-control")
	theirs := os.NewFile(uintptr(fds[1]), "sandbox-control-zygote")
	defer theirs.Close()
	c, err := net.FileConn(mine)
	mine.Close()
	if err != nil {
		s.removeWork()
		return nil, errorf("control socket: %w", err)
	}
	s.conn = c.(*net.UnixConn)

	argv, cred := env.serverCommand(diskBytes, oneshot, s.hostWork)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = []string{"PATH=" + sandboxPath, "LANG=C.UTF-8"}
	cmd.Dir = "/"
	if s.hostWork != "" {
		cmd.Dir = s.hostWork
	}
	cmd.Stdin = bytes.NewReader(nil)
	cmd.Stdout, cmd.Stderr = s.diag, s.diag
	cmd.ExtraFiles = []*os.File{theirs}
	if env.seccomp != nil && env.Mode != ModeNone {
		r, w, err := os.Pipe()
		if err != nil {
			s.conn.Close()
			s.removeWork()
			return nil, errorf("pipe: %w", err)
		}
		_, err = w.Write(env.seccomp) // far less than a pipe's buffer
		w.Close()
		defer r.Close()
		if err != nil {
			s.conn.Close()
			s.removeWork()
			return nil, errorf("writing the seccomp filter: %w", err)
		}
		cmd.ExtraFiles = append(cmd.ExtraFiles, r)
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Credential: cred}
	cmd.WaitDelay = closeGrace
	if err := cmd.Start(); err != nil {
		s.conn.Close()
		s.removeWork()
		return nil, errorf("starting %s: %w", argv[0], err)
	}
	s.cmd = cmd
	theirs.Close() // the sandbox holds it now: its exit is seen as EOF
	go func() {
		_ = cmd.Wait()
		close(s.exited)
	}()
	go s.readLoop()

	timer := time.NewTimer(startTimeout)
	defer timer.Stop()
	select {
	case m, ok := <-s.msgs:
		if ok && len(m) == 3 && m[0] == "ready" {
			return s, nil
		}
		s.kill()
		return nil, errorf("sandbox did not start: %s", s.diagnostics())
	case <-ctx.Done():
		s.kill()
		return nil, errorf("starting sandbox: %w", ctx.Err())
	case <-timer.C:
		s.kill()
		return nil, errorf("sandbox did not start within %v: %s", startTimeout, s.diagnostics())
	}
}

func (s *server) readLoop() {
	defer close(s.msgs)
	buf := make([]byte, 4096)
	for {
		n, _, _, _, err := s.conn.ReadMsgUnix(buf, nil)
		if err != nil || n == 0 {
			return
		}
		s.msgs <- strings.Fields(string(buf[:n]))
	}
}

// diagnostics is what bubblewrap and the zygote printed, waiting briefly
// for the sandbox to exit so that it is complete.
func (s *server) diagnostics() string {
	select {
	case <-s.exited:
	case <-time.After(500 * time.Millisecond):
	}
	d := strings.TrimSpace(s.diag.String())
	if d == "" {
		d = "no output"
	}
	return d
}

// kill kills the sandbox and everything in it, and waits for it.
func (s *server) kill() {
	s.broken, s.retired = true, true
	if s.cmd != nil && s.cmd.Process != nil {
		_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
		_ = s.cmd.Process.Kill()
		select {
		case <-s.exited:
		case <-time.After(closeGrace):
		}
	}
	s.conn.Close()
	s.removeWork()
}

// close stops the sandbox: the zygote exits when its socket closes.
func (s *server) close() {
	if s.broken {
		s.kill()
		return
	}
	s.retired = true
	s.conn.Close()
	select {
	case <-s.exited:
	case <-time.After(closeGrace):
		s.kill()
	}
	s.removeWork()
}

func (s *server) removeWork() {
	if s.hostWork != "" {
		_ = os.RemoveAll(s.hostWork)
	}
}

// dead reports whether the sandbox has exited.
func (s *server) dead() bool {
	select {
	case <-s.exited:
		return true
	default:
		return s.retired
	}
}

// runPipes are the pipes of one run; the child's ends go to the zygote.
type runPipes struct {
	reqR, reqW, inR, inW, outR, outW, errR, errW, stR, stW *os.File
}

func newRunPipes() (*runPipes, error) {
	var p runPipes
	ends := []**os.File{&p.reqR, &p.reqW, &p.inR, &p.inW, &p.outR, &p.outW, &p.errR, &p.errW, &p.stR, &p.stW}
	for i := 0; i < len(ends); i += 2 {
		r, w, err := os.Pipe()
		if err != nil {
			p.closeAll()
			return nil, errorf("pipe: %w", err)
		}
		*ends[i], *ends[i+1] = r, w
	}
	return &p, nil
}

// childEnds are the ends sent to the zygote, in the order it expects.
func (p *runPipes) childEnds() []*os.File { return []*os.File{p.reqR, p.inR, p.outW, p.errW, p.stW} }

func (p *runPipes) closeAll() {
	for _, f := range []*os.File{p.reqR, p.reqW, p.inR, p.inW, p.outR, p.outW, p.errR, p.errW, p.stR, p.stW} {
		if f != nil {
			f.Close()
		}
	}
}

// encodeRequest writes the fields the child reads: each as its decimal
// length, a newline and its bytes.
func encodeRequest(p Program, uid int, lim Limits) []byte {
	var b bytes.Buffer
	field := func(s string) {
		b.WriteString(strconv.Itoa(len(s)))
		b.WriteByte('\n')
		b.WriteString(s)
	}
	num := func(n int64) { field(strconv.FormatInt(n, 10)) }
	field(p.Code)
	num(int64(uid))
	num(int64(uid))
	num(lim.MaxMemoryBytes)
	num(lim.cpuSeconds())
	num(lim.MaxFileBytes)
	num(int64(lim.MaxOpenFiles))
	num(int64(lim.MaxProcs))
	for _, a := range p.Args {
		field(a)
	}
	return b.Bytes()
}

// exitReport is the zygote's account of a run.
type exitReport struct {
	status syscall.WaitStatus
	cpu    time.Duration
	clean  bool
}

func parseExit(m []string) (exitReport, error) {
	var n [5]int64
	for i := range n {
		v, err := strconv.ParseInt(m[2+i], 10, 64)
		if err != nil {
			return exitReport{}, fmt.Errorf("bad exit report %q: %w", m, err)
		}
		n[i] = v
	}
	if n[0] < 0 {
		return exitReport{}, fmt.Errorf("zygote refused the run")
	}
	return exitReport{
		status: syscall.WaitStatus(n[0]),
		cpu:    time.Duration(n[1]+n[2]) * time.Microsecond,
		clean:  n[4] == 1,
	}, nil
}

// run runs p in the sandbox. On return the sandbox is either ready for
// another run or marked broken.
func (s *server) run(ctx context.Context, p Program, lim Limits) (Result, error) {
	if s.dead() {
		return Result{}, errorf("sandbox is not running")
	}
	res := Result{Isolation: s.env.Isolation, ExitCode: -1}
	pipes, err := newRunPipes()
	if err != nil {
		return res, err
	}
	defer pipes.closeAll()
	uid := 0
	if s.env.Mode == ModePrivileged {
		uid = privilegedUIDBase + rand.IntN(privilegedUIDSpan)
	}
	s.nextID++
	id := strconv.Itoa(s.nextID)
	var fds []int
	for _, f := range pipes.childEnds() {
		fds = append(fds, int(f.Fd())) // Fd also makes the child's ends blocking
	}
	start := time.Now()
	if _, _, err := s.conn.WriteMsgUnix([]byte("run "+id), syscall.UnixRights(fds...), nil); err != nil {
		s.kill()
		return res, errorf("sending run to sandbox: %w (%s)", err, s.diagnostics())
	}
	for _, f := range pipes.childEnds() {
		f.Close()
	}

	stdout := &cappedBuffer{limit: lim.MaxOutputBytes}
	stderr := &cappedBuffer{limit: lim.MaxOutputBytes}
	status := &cappedBuffer{limit: maxStatus}
	var readers, writers sync.WaitGroup
	for _, c := range []struct {
		dst io.Writer
		src *os.File
	}{{stdout, pipes.outR}, {stderr, pipes.errR}, {status, pipes.stR}} {
		readers.Go(func() { _, _ = io.Copy(c.dst, c.src) })
	}
	for _, c := range []struct {
		data []byte
		dst  *os.File
	}{{encodeRequest(p, uid, lim), pipes.reqW}, {p.Stdin, pipes.inW}} {
		writers.Go(func() {
			_, _ = c.dst.Write(c.data)
			c.dst.Close()
		})
	}

	timer := time.NewTimer(lim.Timeout)
	defer timer.Stop()
	timeout, done := timer.C, ctx.Done()
	var killTimer <-chan time.Time
	var timedOut, cancelled, died bool
	var report exitReport
	kill := func() {
		if killTimer == nil {
			_, _, _ = s.conn.WriteMsgUnix([]byte("kill "+id), nil, nil)
			killTimer = time.After(killGrace)
		}
	}
wait:
	for {
		select {
		case m, ok := <-s.msgs:
			if !ok {
				died = true
				break wait
			}
			if len(m) == 7 && m[0] == "exit" && m[1] == id {
				report, err = parseExit(m)
				if err != nil {
					s.kill()
					return res, errorf("%w (%s)", err, s.diagnostics())
				}
				break wait
			}
		case <-timeout:
			timeout, timedOut = nil, true
			kill()
		case <-done:
			done, cancelled = nil, true
			kill()
		case <-killTimer:
			died = true
			break wait
		}
	}
	res.Duration = time.Since(start)
	if died {
		// The zygote died (a program of the sandbox's own user can kill
		// it) or did not answer: nothing of the sandbox survives this.
		s.kill()
	} else if !report.clean || s.oneshot {
		s.retired = true // the zygote exits after its report
	}

	drained := make(chan struct{})
	go func() { readers.Wait(); close(drained) }()
	select {
	case <-drained:
	case <-time.After(drainGrace):
		// Something still holds the output pipes: only the sandbox's
		// death can be trusted to end it.
		s.kill()
		pipes.outR.Close()
		pipes.errR.Close()
		pipes.stR.Close()
		<-drained
	}
	pipes.reqW.Close()
	pipes.inW.Close()
	writers.Wait()

	res.Stdout, res.Stderr = stdout.String(), stderr.String()
	res.OutputTruncated = stdout.isTruncated() || stderr.isTruncated()
	res.Exception, res.Limit = parseStatus(status.String())
	res.TimedOut = timedOut && !cancelled
	switch {
	case timedOut || cancelled:
		res.ExitCode = -1
	case died:
		res.ExitCode, res.Signal = 128+int(syscall.SIGKILL), int(syscall.SIGKILL)
	case report.status.Signaled():
		res.Signal = int(report.status.Signal())
		res.ExitCode = 128 + res.Signal
	default:
		res.ExitCode = report.status.ExitStatus()
	}
	res.CPUTime = report.cpu
	res.Limit = classify(res, res.Limit, time.Duration(lim.cpuSeconds())*time.Second)
	if cancelled {
		return res, errorf("run cancelled: %w", ctx.Err())
	}
	return res, nil
}

// parseStatus reads a child's status report: the uncaught exception's type
// and the limit it points at.
func parseStatus(s string) (exception string, limit Limit) {
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		k, v, _ := strings.Cut(sc.Text(), " ")
		switch k {
		case "exception":
			exception = v
		case "limit":
			limit = Limit(v)
		}
	}
	switch limit {
	case LimitMemory, LimitFileSize, LimitDisk, LimitOpenFiles, LimitProcesses:
	default:
		limit = LimitNone
	}
	return exception, limit
}

// classify says which limit stopped the program: what was seen from
// outside first (timeout, signals), then what its interpreter reported,
// then output capping and the exit status.
func classify(r Result, reported Limit, cpuLimit time.Duration) Limit {
	switch {
	case r.TimedOut:
		return LimitTimeout
	case r.ExitCode == -1:
		return LimitSignal // cancelled
	case r.Signal == int(syscall.SIGXCPU),
		r.Signal == int(syscall.SIGKILL) && cpuLimit > 0 && r.CPUTime >= cpuLimit-50*time.Millisecond:
		return LimitCPU
	case r.Signal == int(syscall.SIGXFSZ):
		return LimitFileSize
	case r.Signal != 0:
		return LimitSignal
	case r.ExitCode != 0 && reported != LimitNone:
		return reported
	case r.OutputTruncated:
		return LimitOutput
	case r.ExitCode != 0:
		return LimitExit
	}
	return LimitNone
}
