// Package sandbox runs untrusted Python programs, such as the code found in
// agent trajectories, inside a security boundary built with bubblewrap
// (bwrap, Debian package bubblewrap) and resource limits.
//
// # The boundary
//
// Trajectory code may have been written by a model told to do anything, so a
// program is treated as hostile. Where bubblewrap works, a program runs in
// new PID, network, IPC, UTS and cgroup namespaces and, when the runner is
// not root or when root's interpreter is reachable by the unprivileged user
// nobody, a new user namespace (see Modes below), with:
//
//   - A file system holding only what the interpreter needs, read-only: its
//     executable, the directories on its sys.path (standard library,
//     lib-dynload and, unless Options.NoSite, site-packages), the
//     directories of the shared libraries it links (its RUNPATH, /usr/lib,
//     /lib*), /etc/ld.so.cache, the configured Options.LibraryDirs (an
//     agent's DSL, importable), a fresh /proc of the sandbox's own PID
//     namespace and a minimal /dev. Writable: a private working directory
//     (/work, holding main.py), /tmp and /dev/shm, each a tmpfs of at most
//     Limits.MaxDiskBytes. Nothing else is there: not $HOME, not the job's
//     input or output, not /usr/bin (so there is no shell: os.system fails),
//     not /etc/passwd. The root of the tree is read-only.
//   - An environment of PATH and LANG only (bubblewrap --clearenv; the job's
//     environment variables are not passed to bubblewrap either).
//   - No capabilities, no_new_privs, a new session (no terminal), no network
//     but a loopback interface of its own (nothing on the host's 127.0.0.1,
//     nor its abstract Unix sockets, is reachable), and every process of the
//     run killed when the run ends.
//   - A seccomp filter (seccomp.go, on amd64 and arm64) refusing new user
//     namespaces, keyrings, io_uring, bpf, userfaultfd, perf events, ptrace,
//     System V IPC, POSIX message queues, mounts and the like.
//   - Resource limits set with setrlimit in the program's process before its
//     code runs, soft and hard alike so that it cannot raise them:
//     RLIMIT_CPU (Limits.CPUTime), RLIMIT_AS (MaxMemoryBytes), RLIMIT_FSIZE
//     (MaxFileBytes), RLIMIT_NOFILE (MaxOpenFiles), RLIMIT_NPROC (MaxProcs)
//     and RLIMIT_CORE (0). These bind each process; a program of MaxProcs
//     processes may use MaxProcs times MaxMemoryBytes (there is no cgroup).
//   - A wall-clock limit (Limits.Timeout) and context cancellation that kill
//     the whole tree: inside its PID namespace every process of the run is
//     killed with kill(-1, SIGKILL), and the sandbox itself is killed when
//     that does not answer.
//   - Standard output and standard error each captured up to
//     Limits.MaxOutputBytes; the rest is read and discarded
//     (Result.OutputTruncated).
//
// # Modes
//
// Linux exempts processes whose user is root on the host from RLIMIT_NPROC,
// and a user namespace made by root maps the program to root on the host. So
// the runner picks, once, the first mode that works (Environment.Mode):
//
//   - ModeUserNS: the runner is not root; bubblewrap makes a user namespace
//     mapping the program to the runner's user, and forbids further user
//     namespaces inside.
//   - ModeUserNSNobody: the runner is root; bubblewrap is started as the
//     unprivileged user nobody (65534) and then works as in ModeUserNS. It
//     needs the interpreter and library directories to be readable by nobody
//     (an interpreter under /root, such as pyenv's, is not).
//   - ModePrivileged: the runner is root; bubblewrap runs with root's
//     privileges but without a user namespace, and each run's first process
//     switches to a fresh unprivileged user ID (random, above 2^30), with no
//     capabilities, before the program runs. The processes of one run are
//     then the only ones of that user, so RLIMIT_NPROC binds. Without the
//     seccomp filter (other architectures) a program could make user
//     namespaces of its own where the host allows unprivileged ones.
//   - ModeUserNSRoot: the runner is root and only a user namespace works;
//     the program (user 65534 inside) is root on the host, without
//     capabilities. RLIMIT_NPROC does not bind: a fork bomb is contained by
//     the PID namespace and the wall-clock limit only
//     (Environment.ProcessLimit is false).
//
// Where no mode works (no bwrap, or no namespaces, as in some Kubernetes
// pods), runs fail with an error matching ErrNoIsolation, unless
// Options.RequireIsolation is false; then programs run with the resource
// limits only, in a temporary directory on the host, with the fallback's
// weaknesses (the file system, network and environment of the host are
// reachable) and Result.Isolation is IsolationNone.
//
// # Cold and warm
//
// Inside each sandbox runs a small fork server written in Python (the
// zygote, zygote.py) that starts once, never sees a program's data, and for
// each run forks a child that lowers its limits and runs the program in
// that freshly forked interpreter, emulating `python main.py`: the same
// __main__ module, sys.argv, exit status, and tracebacks (File "main.py").
// A Runner starts a sandbox per run (cold); a Pool keeps sandboxes and their
// warm interpreter between runs (warm), forking a fresh, limited child per
// run and emptying /work, /tmp and /dev/shm afterwards; a sandbox that dies
// or cannot be cleaned is replaced. Both return the same Result. What warm
// runs share is the fork server's: its imported modules (a few built-in
// ones and Options.Preload) and its string hash seed.
//
// # What a Result says
//
// Result.Limit says which limit stopped the program, or that it exited on
// its own. Timeout, output capping and signals are observed from outside
// the program; memory, file size, disk, open files and processes are read
// from the uncaught exception the program ended with (MemoryError, EFBIG,
// ENOSPC, EMFILE, EAGAIN from fork), as reported by its own interpreter, so
// a hostile program can make them misleading (not escape them).
package sandbox

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// Default limits, used for each Limits field left at zero.
const (
	DefaultTimeout        = 10 * time.Second
	DefaultMaxOutputBytes = 1 << 20
	DefaultMaxMemoryBytes = 1 << 30
	DefaultMaxProcs       = 64
	DefaultMaxFileBytes   = 64 << 20
	DefaultMaxOpenFiles   = 256
	DefaultMaxDiskBytes   = 256 << 20
)

// sandboxPath is the PATH a program sees.
const sandboxPath = "/usr/local/bin:/usr/bin:/bin"

// Limits bounds one run. A zero field takes its Default value (or, in a
// Program, the Runner's or Pool's value).
type Limits struct {
	// Timeout is the wall-clock limit of the run.
	Timeout time.Duration
	// CPUTime is the CPU time limit of each process (RLIMIT_CPU, whole
	// seconds, rounded up); when zero, Timeout rounded up plus one second,
	// a backstop for the wall-clock limit.
	CPUTime time.Duration
	// MaxOutputBytes caps standard output and standard error, each.
	MaxOutputBytes int
	// MaxMemoryBytes caps each process's address space (RLIMIT_AS).
	MaxMemoryBytes int64
	// MaxProcs caps the number of processes and threads of the program
	// (RLIMIT_NPROC); see the package documentation about root.
	MaxProcs int
	// MaxFileBytes is the largest file a program may write (RLIMIT_FSIZE).
	MaxFileBytes int64
	// MaxOpenFiles caps the open file descriptors of each process
	// (RLIMIT_NOFILE).
	MaxOpenFiles int
	// MaxDiskBytes is the size of each of the sandbox's writable file
	// systems (/work, /tmp, /dev/shm). It is fixed when a sandbox starts,
	// so a Program's value is ignored by a Pool.
	MaxDiskBytes int64
}

func (l Limits) withDefaults() Limits {
	return l.over(Limits{
		Timeout:        DefaultTimeout,
		MaxOutputBytes: DefaultMaxOutputBytes,
		MaxMemoryBytes: DefaultMaxMemoryBytes,
		MaxProcs:       DefaultMaxProcs,
		MaxFileBytes:   DefaultMaxFileBytes,
		MaxOpenFiles:   DefaultMaxOpenFiles,
		MaxDiskBytes:   DefaultMaxDiskBytes,
	})
}

// over returns l with each zero field taken from base.
func (l Limits) over(base Limits) Limits {
	if l.Timeout <= 0 {
		l.Timeout = base.Timeout
	}
	if l.CPUTime <= 0 {
		l.CPUTime = base.CPUTime
	}
	if l.MaxOutputBytes <= 0 {
		l.MaxOutputBytes = base.MaxOutputBytes
	}
	if l.MaxMemoryBytes <= 0 {
		l.MaxMemoryBytes = base.MaxMemoryBytes
	}
	if l.MaxProcs <= 0 {
		l.MaxProcs = base.MaxProcs
	}
	if l.MaxFileBytes <= 0 {
		l.MaxFileBytes = base.MaxFileBytes
	}
	if l.MaxOpenFiles <= 0 {
		l.MaxOpenFiles = base.MaxOpenFiles
	}
	if l.MaxDiskBytes <= 0 {
		l.MaxDiskBytes = base.MaxDiskBytes
	}
	return l
}

// cpuSeconds is the RLIMIT_CPU soft limit of a run.
func (l Limits) cpuSeconds() int64 {
	if l.CPUTime > 0 {
		return int64((l.CPUTime + time.Second - 1) / time.Second)
	}
	return int64((l.Timeout+time.Second-1)/time.Second) + 1
}

// Isolation says what kind of boundary a run had.
type Isolation string

const (
	// IsolationBubblewrap: the run was inside a bubblewrap sandbox.
	IsolationBubblewrap Isolation = "bubblewrap"
	// IsolationNone: resource limits only (Options.RequireIsolation false
	// on a machine where bubblewrap cannot run).
	IsolationNone Isolation = "none"
)

// Limit names what stopped a program.
type Limit string

const (
	// LimitNone: the program exited with status 0 and no limit was hit.
	LimitNone Limit = ""
	// LimitExit: the program exited with a non-zero status, not because
	// of a limit.
	LimitExit Limit = "exit code"
	// LimitTimeout: the wall-clock limit expired and the run was killed.
	LimitTimeout Limit = "timeout"
	// LimitCPU: RLIMIT_CPU killed the program (SIGXCPU, then SIGKILL).
	LimitCPU Limit = "cpu"
	// LimitMemory: an allocation failed under RLIMIT_AS (MemoryError).
	LimitMemory Limit = "memory"
	// LimitFileSize: a write went past RLIMIT_FSIZE (EFBIG).
	LimitFileSize Limit = "file size"
	// LimitDisk: a writable file system of the sandbox was full (ENOSPC).
	LimitDisk Limit = "disk"
	// LimitOpenFiles: RLIMIT_NOFILE was reached (EMFILE).
	LimitOpenFiles Limit = "open files"
	// LimitProcesses: RLIMIT_NPROC refused a new process or thread.
	LimitProcesses Limit = "processes"
	// LimitOutput: the program ran to its end but standard output or
	// standard error went past Limits.MaxOutputBytes.
	LimitOutput Limit = "output cap"
	// LimitSignal: a signal not tied to a limit killed the program.
	LimitSignal Limit = "signal"
)

// Result is what a run produced.
type Result struct {
	Stdout, Stderr string
	// ExitCode is the program's exit status; 128+n when signal n killed
	// it, and -1 when the run was killed from outside (timeout or
	// cancellation).
	ExitCode int
	// Signal is the signal that killed the program, 0 when none did.
	Signal int
	// Limit says which limit stopped the program (see Limit).
	Limit Limit
	// Exception is the type of the uncaught exception the program ended
	// with ("MemoryError", "json.decoder.JSONDecodeError"), as reported by
	// its interpreter; empty when none.
	Exception string
	// TimedOut is true when Limits.Timeout expired and the run was killed
	// (Limit is then LimitTimeout).
	TimedOut bool
	// OutputTruncated is true when standard output or standard error went
	// past Limits.MaxOutputBytes.
	OutputTruncated bool
	// Isolation is the boundary the run had.
	Isolation Isolation
	// CPUTime is the CPU time of the program's first process.
	CPUTime time.Duration
	// Duration is the wall-clock time of the run, including starting a
	// sandbox where one was started for it.
	Duration time.Duration
}

// Program is one run's input.
type Program struct {
	// Code is the program's source, run as main.py.
	Code string
	// Stdin is its standard input.
	Stdin []byte
	// Args are its arguments (sys.argv[1:]).
	Args []string
	// Limits override the Runner's or Pool's limits field by field.
	Limits Limits
}

// Executor runs programs; Runner (cold) and Pool (warm) implement it.
type Executor interface {
	Run(ctx context.Context, p Program) (Result, error)
}

// ErrNoIsolation is matched (errors.Is) by the error of a run refused
// because no sandbox can be made on this machine while
// Options.RequireIsolation is true. The error is an *IsolationError.
var ErrNoIsolation = errors.New("sandbox: no isolation available")

// IsolationError says why no sandbox can be made.
type IsolationError struct {
	// Reason is what failed: bwrap missing, or the last attempt's error.
	Reason string
}

func (e *IsolationError) Error() string {
	return "sandbox: no isolation available, refusing to run untrusted code (set sandbox.require_isolation: false to run with resource limits only): " + e.Reason
}

// Is makes errors.Is(err, ErrNoIsolation) true.
func (e *IsolationError) Is(target error) bool { return target == ErrNoIsolation }

// ErrClosed is returned by a Pool's runs after Close.
var ErrClosed = errors.New("sandbox: pool closed")

// Options configure a Runner or a Pool. Start from DefaultOptions: the zero
// Options do not require isolation.
type Options struct {
	// Python is the interpreter, by name or path; "python3" when empty.
	// It is resolved once to the real executable behind it
	// (sys.executable, symbolic links followed), so version-manager shims
	// such as pyenv's cost nothing per run.
	Python string
	// NoSite runs Python with -S: standard library only, faster start.
	NoSite bool
	// Limits bound each run.
	Limits Limits
	// LibraryDirs are host directories mounted read-only in the sandbox
	// at their own (symbolic links resolved) paths and put first on
	// sys.path, such as an agent's DSL. They must not hold secrets or the
	// job's data.
	LibraryDirs []string
	// Preload are modules a Pool's warm interpreters import when they
	// start, before any run, so that runs do not pay for them (json, re,
	// an agent's DSL from LibraryDirs). They run in the fork server, so
	// they must be trusted code; a Runner ignores them.
	Preload []string
	// RequireIsolation makes runs fail with ErrNoIsolation where no
	// sandbox can be made; when false they run with resource limits only
	// (Result.Isolation is IsolationNone) and a warning is logged.
	RequireIsolation bool
	// Bwrap is the bubblewrap executable; "bwrap" (looked up on PATH)
	// when empty.
	Bwrap string
	// Logger receives warnings; slog.Default() when nil.
	Logger *slog.Logger

	// modes, when set (by tests), replaces the modes tried.
	modes []Mode
}

// DefaultOptions returns the options of a secure runner: isolation
// required, default limits, python3.
func DefaultOptions() Options {
	return Options{Python: "python3", RequireIsolation: true}
}

func (o Options) logger() *slog.Logger {
	if o.Logger != nil {
		return o.Logger
	}
	return slog.Default()
}

// Runner runs each program in a sandbox of its own, started for it (cold).
// It is safe for concurrent use.
type Runner struct {
	opts  Options
	probe prober
}

// NewRunner returns a Runner; the machine is probed on first use.
func NewRunner(opts Options) *Runner {
	return &Runner{opts: opts}
}

// Environment reports how runs are isolated on this machine, probing it on
// first use. With RequireIsolation and no isolation it returns the
// ErrNoIsolation error.
func (r *Runner) Environment(ctx context.Context) (Environment, error) {
	return environmentOf(ctx, &r.probe, r.opts)
}

// RunPython runs code with stdin as its standard input; see Run.
func (r *Runner) RunPython(ctx context.Context, code string, stdin []byte) (Result, error) {
	return r.Run(ctx, Program{Code: code, Stdin: stdin})
}

// Run runs p in a new sandbox. A program that fails, hits a limit or is
// killed is not an error: the error is for a run that could not be made
// (no interpreter, no isolation) or was cancelled through ctx, in which
// case the partial Result is returned too.
func (r *Runner) Run(ctx context.Context, p Program) (Result, error) {
	env, err := r.probe.get(ctx, r.opts)
	if err != nil {
		return Result{}, err
	}
	start := time.Now()
	lim := p.Limits.over(r.opts.Limits).withDefaults()
	s, err := startServer(ctx, env, lim.MaxDiskBytes, true)
	if err != nil {
		return Result{}, err
	}
	defer s.close()
	res, err := s.run(ctx, p, lim)
	res.Duration = time.Since(start)
	return res, err
}

// cappedBuffer keeps the first limit bytes written to it and discards the
// rest, never failing a write.
type cappedBuffer struct {
	mu        sync.Mutex
	buf       bytes.Buffer
	limit     int
	truncated bool
}

func (b *cappedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
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

func (b *cappedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (b *cappedBuffer) isTruncated() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.truncated
}

// errorf wraps err with the package prefix.
func errorf(format string, args ...any) error {
	return fmt.Errorf("sandbox: "+format, args...)
}
