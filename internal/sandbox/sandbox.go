// Package sandbox runs untrusted Python programs, such as the code found in
// agent trajectories, with best-effort isolation and resource limits.
//
// What a run gets, and what it does not:
//
//   - A fresh temporary working directory holding only the program (as
//     main.py); it is removed when the run ends. The file system is otherwise
//     NOT hidden: the program can read whatever the runner's user can read.
//   - An empty environment apart from PATH (a fixed minimal value) and LANG
//     (C.UTF-8), and the interpreter in isolated mode (-I: PYTHON*
//     variables ignored, no user site directory, the script's directory
//     not on sys.path). Site-packages stay importable unless Runner.NoSite
//     adds -S, which starts Python about four times faster but leaves only
//     the standard library.
//   - Resource limits set with setrlimit in the child before the program's
//     interpreter is exec'd: RLIMIT_AS (Limits.MaxMemoryBytes), RLIMIT_CPU
//     (Limits.Timeout rounded up, plus one second, as a backstop for the
//     wall-clock timeout), RLIMIT_NPROC (Limits.MaxProcs), RLIMIT_FSIZE
//     (MaxFileBytes) and RLIMIT_CORE (0). Soft and hard limits are both
//     lowered, so the program cannot raise them again. The limits are set
//     by a short Python preamble (the resource module) that forks and execs
//     the program, so no external tool is needed. Linux exempts processes
//     whose real user is root from RLIMIT_NPROC, so MaxProcs does not bind
//     when the runner runs as root.
//   - A wall-clock timeout and context cancellation that SIGKILL the whole
//     process group of the run.
//   - Where util-linux unshare(1) works on the machine (it needs user
//     namespaces, or root), new user, network and PID namespaces: the
//     program runs as root of its user namespace (mapped to the runner's
//     own user outside), sees only a loopback interface that is down, and
//     every process it starts dies when the run ends, even one that left
//     the process group. Where it
//     does not work the run goes on without them, a warning is logged once
//     per Runner, and Result.Isolation says so.
//   - Standard output and standard error each captured up to
//     Limits.MaxOutputBytes; the rest is read and discarded, and
//     Result.OutputTruncated is set. Every occurrence of the working
//     directory's path followed by a slash is removed from both, so that
//     tracebacks read File "main.py" and are the same from run to run.
//
// This is not a security boundary against a determined attacker (there is
// no seccomp filter, no file-system isolation and no privilege drop); it
// keeps buggy or runaway programs from harming the machine or the results.
package sandbox

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Default limits, used for each Limits field left at zero.
const (
	DefaultTimeout        = 10 * time.Second
	DefaultMaxOutputBytes = 1 << 20
	DefaultMaxMemoryBytes = 1 << 30
	DefaultMaxProcs       = 64
)

// MaxFileBytes is the largest file a program may write (RLIMIT_FSIZE).
const MaxFileBytes = 64 << 20

// sandboxPath is the PATH a program sees.
const sandboxPath = "/usr/local/bin:/usr/bin:/bin"

// waitDelay bounds how long a run waits, after its program exits, for
// stray descendants to close the output pipes.
const waitDelay = 500 * time.Millisecond

// Limits bounds one run. A zero field takes its Default value.
type Limits struct {
	// Timeout is the wall-clock limit of the run.
	Timeout time.Duration
	// MaxOutputBytes caps standard output and standard error, each.
	MaxOutputBytes int
	// MaxMemoryBytes caps the program's address space (RLIMIT_AS).
	MaxMemoryBytes int64
	// MaxProcs caps the number of processes of the program's user
	// (RLIMIT_NPROC); see the package documentation about root.
	MaxProcs int
}

func (l Limits) withDefaults() Limits {
	if l.Timeout <= 0 {
		l.Timeout = DefaultTimeout
	}
	if l.MaxOutputBytes <= 0 {
		l.MaxOutputBytes = DefaultMaxOutputBytes
	}
	if l.MaxMemoryBytes <= 0 {
		l.MaxMemoryBytes = DefaultMaxMemoryBytes
	}
	if l.MaxProcs <= 0 {
		l.MaxProcs = DefaultMaxProcs
	}
	return l
}

// Isolation tells which of the optional isolation measures a run got.
type Isolation struct {
	// Namespaces is true when the run had its own network and PID
	// namespaces (no network; all its processes killed at the end).
	// Resource limits are always applied and not reported.
	Namespaces bool
}

// Result is what a run produced.
type Result struct {
	Stdout, Stderr string
	// ExitCode is the program's exit status; 128+n when signal n killed
	// it, and -1 when the run was killed from outside (timeout or
	// cancellation).
	ExitCode int
	// TimedOut is true when Limits.Timeout expired and the run was killed.
	TimedOut bool
	// OutputTruncated is true when standard output or standard error went
	// past Limits.MaxOutputBytes.
	OutputTruncated bool
	// Isolation reports the isolation the run got.
	Isolation Isolation
	// Duration is the wall-clock time of the run.
	Duration time.Duration
}

// Runner runs Python programs in the sandbox. Its zero value is ready to
// use; it is safe for concurrent use, and must not be copied after first
// use.
type Runner struct {
	// Python is the interpreter to run, by name or path; "python3" when
	// empty. It is resolved once, to the real executable behind it
	// (sys.executable), so version-manager shims cost nothing per run.
	Python string
	// Limits bounds each run.
	Limits Limits
	// NoSite adds -S: faster start, standard library only.
	NoSite bool
	// Logger receives the warning about missing isolation; slog.Default()
	// when nil.
	Logger *slog.Logger

	mu    sync.Mutex
	setup *setup
}

// setup is what a Runner finds out once about the machine.
type setup struct {
	python  string   // absolute path of the real interpreter
	unshare []string // unshare command prefix; nil when unavailable
}

// unshareVariants are tried in order; the first that runs "true" is used.
var unshareVariants = [][]string{
	{"--net", "--pid", "--fork", "--kill-child", "--map-root-user"},
	{"--net", "--pid", "--fork", "--kill-child"},
}

// Isolation reports the isolation runs of r get on this machine, probing it
// on first use.
func (r *Runner) Isolation(ctx context.Context) (Isolation, error) {
	s, err := r.getSetup(ctx)
	if err != nil {
		return Isolation{}, err
	}
	return Isolation{Namespaces: s.unshare != nil}, nil
}

func (r *Runner) logger() *slog.Logger {
	if r.Logger != nil {
		return r.Logger
	}
	return slog.Default()
}

func (r *Runner) getSetup(ctx context.Context) (*setup, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.setup != nil {
		return r.setup, nil
	}
	name := r.Python
	if name == "" {
		name = "python3"
	}
	path, err := exec.LookPath(name)
	if err != nil {
		return nil, fmt.Errorf("sandbox: python interpreter %q: %w", name, err)
	}
	out, err := exec.CommandContext(ctx, path, "-I", "-S", "-c", "import sys; sys.stdout.write(sys.executable)").Output()
	if err != nil {
		return nil, fmt.Errorf("sandbox: probing python interpreter %q: %w", path, err)
	}
	s := &setup{python: strings.TrimSpace(string(out))}
	if s.python == "" || !filepath.IsAbs(s.python) {
		s.python = path
	}
	if u, err := exec.LookPath("unshare"); err == nil {
		for _, v := range unshareVariants {
			args := append(append([]string{}, v...), s.python, "-I", "-S", "-c", "pass")
			if err := exec.CommandContext(ctx, u, args...).Run(); err == nil {
				s.unshare = append([]string{u}, v...)
				break
			}
		}
	}
	if ctx.Err() != nil {
		return nil, fmt.Errorf("sandbox: probing isolation: %w", ctx.Err())
	}
	if s.unshare == nil {
		r.logger().Warn("sandbox: unshare unavailable; programs run without network and PID namespaces")
	}
	r.setup = s
	return s, nil
}

// preamble runs as the first process of the run (PID 1 of the new PID
// namespace where there is one). It forks; the child lowers the resource
// limits and execs the program's interpreter; the parent reaps every child
// until the program exits and exits with its status (128+n for signal n).
const preamble = `import os, sys, resource
def lim(r, v):
    if v <= 0:
        return
    soft, hard = resource.getrlimit(r)
    if hard != resource.RLIM_INFINITY and v > hard:
        v = hard
    resource.setrlimit(r, (v, v))
mem, cpu, nproc, fsize = (int(a) for a in sys.argv[1:5])
argv = sys.argv[5:]
pid = os.fork()
if pid == 0:
    try:
        lim(resource.RLIMIT_CORE, 0)
        lim(resource.RLIMIT_AS, mem)
        lim(resource.RLIMIT_CPU, cpu)
        lim(resource.RLIMIT_FSIZE, fsize)
        lim(resource.RLIMIT_NPROC, nproc)
        os.execv(argv[0], argv)
    except BaseException as e:
        os.write(2, ("sandbox: cannot start program: %s\n" % e).encode())
    os._exit(126)
while True:
    try:
        p, st = os.waitpid(-1, 0)
    except ChildProcessError:
        os._exit(126)
    if p == pid:
        break
code = os.waitstatus_to_exitcode(st)
os._exit(128 - code if code < 0 else code)
`

// RunPython runs code as a Python program with stdin as its standard input.
// A program that fails, times out or is killed is not an error: the error
// is for a run that could not be made (no interpreter, no temporary
// directory) or was cancelled through ctx, in which case the partial
// Result is returned too.
func (r *Runner) RunPython(ctx context.Context, code string, stdin []byte) (Result, error) {
	s, err := r.getSetup(ctx)
	if err != nil {
		return Result{}, err
	}
	lim := r.Limits.withDefaults()

	dir, err := os.MkdirTemp("", "atlas-sandbox-*")
	if err != nil {
		return Result{}, fmt.Errorf("sandbox: creating working directory: %w", err)
	}
	defer os.RemoveAll(dir)
	if err := os.WriteFile(filepath.Join(dir, "main.py"), []byte(code), 0o600); err != nil {
		return Result{}, fmt.Errorf("sandbox: writing program: %w", err)
	}

	cpu := int64(math.Ceil(lim.Timeout.Seconds())) + 1
	prog := []string{s.python, "-I"}
	if r.NoSite {
		prog = append(prog, "-S")
	}
	prog = append(prog, "main.py")
	args := append([]string{s.python, "-I", "-S", "-c", preamble,
		strconv.FormatInt(lim.MaxMemoryBytes, 10),
		strconv.FormatInt(cpu, 10),
		strconv.Itoa(lim.MaxProcs),
		strconv.Itoa(MaxFileBytes),
	}, prog...)
	if s.unshare != nil {
		args = append(append([]string{}, s.unshare...), args...)
	}

	runCtx, cancel := context.WithTimeout(ctx, lim.Timeout)
	defer cancel()
	cmd := exec.CommandContext(runCtx, args[0], args[1:]...)
	cmd.Dir = dir
	cmd.Env = []string{"PATH=" + sandboxPath, "LANG=C.UTF-8"}
	cmd.Stdin = bytes.NewReader(stdin)
	stdout := &cappedBuffer{limit: lim.MaxOutputBytes}
	stderr := &cappedBuffer{limit: lim.MaxOutputBytes}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		return killGroup(cmd.Process.Pid)
	}
	cmd.WaitDelay = waitDelay

	start := time.Now()
	err = cmd.Run()
	res := Result{
		Stdout:          strings.ReplaceAll(stdout.String(), dir+"/", ""),
		Stderr:          strings.ReplaceAll(stderr.String(), dir+"/", ""),
		ExitCode:        -1,
		TimedOut:        errors.Is(runCtx.Err(), context.DeadlineExceeded) && ctx.Err() == nil,
		OutputTruncated: stdout.truncated || stderr.truncated,
		Isolation:       Isolation{Namespaces: s.unshare != nil},
		Duration:        time.Since(start),
	}
	if cmd.ProcessState != nil {
		res.ExitCode = cmd.ProcessState.ExitCode()
		if res.ExitCode == -1 && !res.TimedOut && ctx.Err() == nil {
			if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
				res.ExitCode = 128 + int(ws.Signal())
			}
		}
	}
	if errors.Is(err, exec.ErrWaitDelay) && cmd.Process != nil {
		// Descendants outlived the program and held the pipes: they
		// still hold the process group, so it is safe to kill it.
		_ = killGroup(cmd.Process.Pid)
		err = nil
	}
	if ctx.Err() != nil {
		return res, fmt.Errorf("sandbox: run cancelled: %w", ctx.Err())
	}
	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) && !res.TimedOut {
		return res, fmt.Errorf("sandbox: running python: %w", err)
	}
	return res, nil
}

// killGroup sends SIGKILL to process group pgid.
func killGroup(pgid int) error {
	if err := syscall.Kill(-pgid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("sandbox: killing process group %d: %w", pgid, err)
	}
	return nil
}

// cappedBuffer keeps the first limit bytes written to it and discards the
// rest, never failing a write (so the program is not sent SIGPIPE).
type cappedBuffer struct {
	buf       bytes.Buffer
	limit     int
	truncated bool
}

func (b *cappedBuffer) Write(p []byte) (int, error) {
	if room := b.limit - b.buf.Len(); room < len(p) {
		b.truncated = true
		if room > 0 {
			b.buf.Write(p[:room])
		}
		return len(p), nil
	}
	b.buf.Write(p)
	return len(p), nil
}

func (b *cappedBuffer) String() string { return b.buf.String() }
