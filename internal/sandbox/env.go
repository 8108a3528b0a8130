package sandbox

import (
	"context"
	"debug/elf"
	_ "embed"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

//go:embed zygote.py
var zygoteSource string

// Mode is how a sandbox is built on this machine; see the package
// documentation.
type Mode string

const (
	ModeUserNS       Mode = "userns"
	ModeUserNSNobody Mode = "userns-nobody"
	ModePrivileged   Mode = "privileged"
	ModeUserNSRoot   Mode = "userns-root"
	ModeNone         Mode = "none"
)

// nobody is the user bubblewrap is started as in ModeUserNSNobody, and the
// user a program sees inside a user namespace.
const nobody = 65534

// privilegedUIDBase and privilegedUIDSpan bound the fresh user IDs of runs
// in ModePrivileged.
const (
	privilegedUIDBase = 1 << 30
	privilegedUIDSpan = 1 << 24
)

// Environment is what a runner found out about the machine.
type Environment struct {
	// Isolation is the boundary runs get.
	Isolation Isolation
	// Mode is how the sandbox is built.
	Mode Mode
	// ProcessLimit is true when RLIMIT_NPROC binds the program.
	ProcessLimit bool
	// Python is the interpreter run: the real executable, symbolic links
	// resolved, or in a virtual environment the environment's python.
	Python string
	// Seccomp is true when the system-call filter is installed (see
	// seccomp.go).
	Seccomp bool
	// Binds are the host paths mounted read-only in the sandbox, at the
	// same paths, but for the library directories, which are last and
	// mounted at /sandbox/lib/0, /sandbox/lib/1...
	Binds []string
	// Reason says why there is no isolation (Isolation none).
	Reason string
}

// environment is a probed machine: Environment plus how to start sandboxes.
type environment struct {
	Environment
	opts     Options
	pyFlags  []string // -I [-S]
	bwrap    string
	libs     []string // library directories on the host
	libPath  []string // library directories as seen by programs
	seccomp  []byte   // the filter given to bubblewrap; nil for none
	real     string   // the interpreter's executable, symbolic links resolved
	symlinks [][2]string
}

// prober probes the machine once per Runner or Pool.
type prober struct {
	mu  sync.Mutex
	env *environment
	err error
}

func (p *prober) get(ctx context.Context, opts Options) (*environment, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.env == nil && p.err == nil {
		env, err := probe(ctx, opts)
		if err != nil && ctx.Err() != nil {
			return nil, err // do not remember a cancelled probe
		}
		p.env, p.err = env, err
	}
	if p.err != nil {
		return nil, p.err
	}
	if p.env.Isolation == IsolationNone && opts.RequireIsolation {
		return nil, &IsolationError{Reason: p.env.Reason}
	}
	return p.env, nil
}

func environmentOf(ctx context.Context, p *prober, opts Options) (Environment, error) {
	env, err := p.get(ctx, opts)
	if err != nil {
		return Environment{}, err
	}
	return env.Environment, nil
}

// probe resolves the interpreter, works out what the sandbox must show, and
// tries the modes in turn until one runs a program.
func probe(ctx context.Context, opts Options) (*environment, error) {
	env := &environment{opts: opts, pyFlags: []string{"-I"}}
	if opts.NoSite {
		env.pyFlags = append(env.pyFlags, "-S")
	}
	sysPath, err := resolvePython(ctx, env, opts.Python)
	if err != nil {
		return nil, err
	}
	for _, d := range opts.LibraryDirs {
		abs, err := filepath.Abs(d)
		if err == nil {
			abs, err = filepath.EvalSymlinks(abs)
		}
		if err != nil {
			return nil, errorf("library directory %q: %w", d, err)
		}
		if fi, err := os.Stat(abs); err != nil || !fi.IsDir() || abs == "/" {
			return nil, errorf("library directory %q is not a directory other than /", d)
		}
		env.libs = append(env.libs, abs)
	}
	if err := env.computeBinds(sysPath); err != nil {
		return nil, err
	}

	modes := opts.modes
	if modes == nil {
		if os.Geteuid() == 0 {
			modes = []Mode{ModeUserNSNobody, ModePrivileged, ModeUserNSRoot}
		} else {
			modes = []Mode{ModeUserNS}
		}
	}
	log := opts.logger()
	env.bwrap = opts.Bwrap
	if env.bwrap == "" {
		env.bwrap = "bwrap"
	}
	var reasons []string
	if path, err := exec.LookPath(env.bwrap); err != nil {
		reasons = append(reasons, fmt.Sprintf("bubblewrap not found (%v); install the bubblewrap package", err))
		modes = slices.DeleteFunc(slices.Clone(modes), func(m Mode) bool { return m != ModeNone })
	} else {
		env.bwrap = path
	}
	for _, m := range modes {
		if m == ModeNone {
			continue
		}
		env.Mode = m
		env.Isolation = IsolationBubblewrap
		env.ProcessLimit = m != ModeUserNSRoot
		err := env.selfTest(ctx)
		if err == nil {
			log.Debug("sandbox: isolation", "mode", m, "python", env.Python, "binds", env.Binds, "seccomp", env.Seccomp)
			if m == ModeUserNSRoot {
				log.Warn("sandbox: RLIMIT_NPROC does not bind in this mode (program is root on the host); fork bombs are contained by the PID namespace and the timeout only", "mode", m)
			}
			return env, nil
		}
		if ctx.Err() != nil {
			return nil, errorf("probing isolation: %w", ctx.Err())
		}
		reasons = append(reasons, fmt.Sprintf("%s: %v", m, err))
	}
	env.Mode, env.Isolation, env.ProcessLimit = ModeNone, IsolationNone, os.Geteuid() != 0
	env.Reason = strings.Join(reasons, "; ")
	if !opts.RequireIsolation {
		if err := env.selfTest(ctx); err != nil {
			return nil, errorf("running python without isolation: %w", err)
		}
		log.Warn("sandbox: no isolation; untrusted programs run with resource limits only (sandbox.require_isolation is false)", "reason", env.Reason)
	}
	return env, nil
}

// selfTest starts a sandbox in env's mode and runs a program in it that
// imports a module from disk as the program's user.
func (env *environment) selfTest(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	lim := Limits{Timeout: 20 * time.Second}.withDefaults()
	s, err := startServer(ctx, env, 16<<20, true)
	if err != nil {
		return err
	}
	defer s.close()
	res, err := s.run(ctx, Program{Code: "import fractions, sys\nprint('ok', sys.argv[1])\n", Args: []string{"x"}}, lim)
	if err != nil {
		return err
	}
	if res.Stdout != "ok x\n" || res.ExitCode != 0 {
		return fmt.Errorf("test program exited %d (limit %q) with output %q, errors %q", res.ExitCode, res.Limit, res.Stdout, res.Stderr)
	}
	return nil
}

// probeScript prints what the sandbox must hold for the interpreter.
const probeScript = `import sys
sys.stdout.write("\0".join([sys.executable, sys.prefix, sys.base_prefix] + sys.path))`

// resolvePython finds the real interpreter behind name by running it once,
// and returns the directories the sandbox must hold for it: its sys.path
// and, in a virtual environment, the environment.
func resolvePython(ctx context.Context, env *environment, name string) ([]string, error) {
	if name == "" {
		name = "python3"
	}
	path, err := exec.LookPath(name)
	if err != nil {
		return nil, errorf("python interpreter %q: %w", name, err)
	}
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	args := append(slices.Clone(env.pyFlags), "-c", probeScript)
	out, err := exec.CommandContext(ctx, path, args...).Output()
	if err != nil {
		if cerr := ctx.Err(); cerr != nil {
			// Killed because the caller gave up (or the probe's own
			// deadline passed): say so, not "signal: killed".
			return nil, errorf("probing python interpreter %q: %w", path, cerr)
		}
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return nil, errorf("probing python interpreter %q: %w: %s", path, err, ee.Stderr)
		}
		return nil, errorf("probing python interpreter %q: %w", path, err)
	}
	parts := strings.Split(string(out), "\x00")
	if len(parts) < 3 {
		return nil, errorf("probing python interpreter %q: unexpected output %q", path, out)
	}
	exe, prefix, basePrefix := parts[0], parts[1], parts[2]
	if exe == "" || !filepath.IsAbs(exe) {
		exe = path
	}
	real, err := filepath.EvalSymlinks(exe)
	if err != nil {
		return nil, errorf("resolving python interpreter %q: %w", exe, err)
	}
	if real, err = filepath.Abs(real); err != nil {
		return nil, errorf("resolving python interpreter %q: %w", exe, err)
	}
	env.Python, env.real = real, real
	dirs := parts[3:]
	if prefix != basePrefix {
		// A virtual environment: its python is a symbolic link that must
		// stay one, for Python to find pyvenv.cfg beside it.
		dir, err := filepath.EvalSymlinks(filepath.Dir(exe))
		if err != nil {
			return nil, errorf("resolving python interpreter %q: %w", exe, err)
		}
		env.Python = filepath.Join(dir, filepath.Base(exe))
		dirs = append(dirs, prefix)
	}
	return dirs, nil
}

// systemLibDirs are bound (directories) or recreated (symbolic links, as
// with merged /usr) when present.
var systemLibDirs = []string{"/lib", "/lib64", "/lib32", "/libx32", "/usr/lib", "/usr/lib64", "/usr/lib32", "/usr/libx32"}

// computeBinds fills env.Binds: the interpreter, its sys.path, the
// directories of its shared libraries, the system library directories,
// /etc/ld.so.cache and the library directories.
func (env *environment) computeBinds(sysPath []string) error {
	var srcs []string
	add := func(p string) {
		if p == "" || !filepath.IsAbs(p) {
			return
		}
		real, err := filepath.EvalSymlinks(p)
		if err != nil {
			return
		}
		srcs = append(srcs, filepath.Clean(real))
	}
	add(env.real)
	for _, p := range sysPath {
		add(p)
	}
	dirs, machine := elfLibDirs(env.real)
	for _, d := range dirs {
		add(d)
	}
	if machine == filterMachine {
		env.seccomp = seccompFilter()
		env.Seccomp = env.seccomp != nil
	}
	for _, d := range systemLibDirs {
		fi, err := os.Lstat(d)
		switch {
		case err != nil:
		case fi.Mode()&os.ModeSymlink != 0:
			if target, err := os.Readlink(d); err == nil {
				env.symlinks = append(env.symlinks, [2]string{target, d})
			}
		case fi.IsDir():
			add(d)
		}
	}
	add("/etc/ld.so.cache")

	// Keep the outermost of nested paths.
	slices.Sort(srcs)
	srcs = slices.Compact(srcs)
	var binds []string
	for _, s := range srcs {
		if len(binds) > 0 && within(s, binds[len(binds)-1]) {
			continue
		}
		binds = append(binds, s)
	}
	for _, s := range binds {
		for _, w := range writable {
			if within(s, w) {
				return errorf("%s is needed by the interpreter but would be hidden by the sandbox's own %s; install the interpreter elsewhere", s, w)
			}
		}
	}
	env.Binds = binds
	// The symbolic links from the python run to the real executable (a
	// virtual environment's python to its base interpreter's) that are not
	// in a bound directory.
	p := env.Python
	for range 40 {
		fi, err := os.Lstat(p)
		if err != nil || fi.Mode()&os.ModeSymlink == 0 {
			break
		}
		target, err := os.Readlink(p)
		if err != nil {
			break
		}
		if !slices.ContainsFunc(binds, func(b string) bool { return within(p, b) }) {
			env.symlinks = append(env.symlinks, [2]string{target, p})
		}
		if !filepath.IsAbs(target) {
			target = filepath.Join(filepath.Dir(p), target)
		}
		p = filepath.Clean(target)
	}
	for i, l := range env.libs {
		env.Binds = append(env.Binds, l)
		env.libPath = append(env.libPath, libMount(i))
	}
	return nil
}

// writable are the sandbox's own file systems, which hide what is below.
var writable = []string{"/work", "/tmp", "/dev", "/proc"}

// libMount is where the i-th library directory is mounted in the sandbox.
func libMount(i int) string { return "/sandbox/lib/" + strconv.Itoa(i) }

// within reports whether path p is dir or below it.
func within(p, dir string) bool {
	return p == dir || strings.HasPrefix(p, strings.TrimSuffix(dir, "/")+"/")
}

// elfLibDirs returns the directories holding the shared libraries exe
// needs that are not in the system directories: its RUNPATH or RPATH, and
// /usr/local/lib when a library is found there; and exe's machine.
func elfLibDirs(exe string) ([]string, elf.Machine) {
	f, err := elf.Open(exe)
	if err != nil {
		return nil, elf.EM_NONE
	}
	defer f.Close()
	var dirs []string
	for _, tag := range []elf.DynTag{elf.DT_RUNPATH, elf.DT_RPATH} {
		vals, _ := f.DynString(tag)
		for _, v := range vals {
			for _, d := range strings.Split(v, ":") {
				d = strings.ReplaceAll(strings.ReplaceAll(d, "${ORIGIN}", "$ORIGIN"), "$ORIGIN", filepath.Dir(exe))
				dirs = append(dirs, d)
			}
		}
	}
	needed, _ := f.ImportedLibraries()
	for _, lib := range needed {
		for _, d := range []string{"/usr/local/lib", "/usr/local/lib64"} {
			if _, err := os.Stat(filepath.Join(d, lib)); err == nil {
				dirs = append(dirs, d)
			}
		}
	}
	return dirs, f.Machine
}

// serverCommand returns the command that starts a sandbox with its zygote
// listening on file descriptor 3, and the credentials to start it with.
// hostWork is the working directory of runs in ModeNone.
func (env *environment) serverCommand(diskBytes int64, oneshot bool, hostWork string) (argv []string, cred *syscall.Credential) {
	b := func(v bool) string {
		if v {
			return "1"
		}
		return "0"
	}
	var preload []string
	if !oneshot {
		preload = env.opts.Preload
	}
	zyg := func(work, scratch string, pidns, drop bool, helpers int, nodump bool, libs []string) []string {
		return append(append([]string{env.Python}, env.pyFlags...), "-c", zygoteSource,
			"3", work, scratch, b(pidns), b(drop), strconv.Itoa(helpers), b(oneshot), b(nodump),
			strings.Join(libs, "\n"), strings.Join(preload, ","))
	}
	if env.Mode == ModeNone {
		return zyg(hostWork, "", false, false, 0, false, env.libs), nil
	}
	size := strconv.FormatInt(diskBytes, 10)
	a := []string{env.bwrap,
		"--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
		"--hostname", "sandbox",
		"--die-with-parent", "--new-session",
		"--clearenv", "--setenv", "PATH", sandboxPath, "--setenv", "LANG", "C.UTF-8",
		"--cap-drop", "ALL",
	}
	userns := env.Mode != ModePrivileged
	if userns {
		a = append(a, "--unshare-user", "--disable-userns",
			"--uid", strconv.Itoa(nobody), "--gid", strconv.Itoa(nobody))
	} else {
		// The zygote keeps what it needs to switch each run to its own
		// user, kill it and clean up after it; the run loses them all.
		for _, c := range []string{"CAP_SETUID", "CAP_SETGID", "CAP_KILL", "CAP_DAC_OVERRIDE", "CAP_FOWNER"} {
			a = append(a, "--cap-add", c)
		}
	}
	// Directories above the mounts, created world-readable (bubblewrap
	// would otherwise create them 0700 when run as root).
	var dirs []string
	sysBinds := env.Binds[:len(env.Binds)-len(env.libs)]
	made := slices.Clone(sysBinds)
	for _, l := range env.symlinks {
		made = append(made, l[1])
	}
	for _, p := range append(made, env.libPath...) {
		for d := filepath.Dir(p); d != "/"; d = filepath.Dir(d) {
			dirs = append(dirs, d)
		}
	}
	slices.Sort(dirs)
	dirs = slices.Compact(dirs)
	for _, d := range dirs {
		if slices.ContainsFunc(sysBinds, func(bd string) bool { return within(d, bd) }) ||
			slices.ContainsFunc(env.symlinks, func(l [2]string) bool { return within(d, l[1]) }) {
			continue
		}
		a = append(a, "--perms", "0755", "--dir", d)
	}
	for _, p := range sysBinds {
		a = append(a, "--ro-bind", p, p)
	}
	for i, l := range env.libs {
		a = append(a, "--ro-bind", l, env.libPath[i])
	}
	for _, l := range env.symlinks {
		a = append(a, "--symlink", l[0], l[1])
	}
	a = append(a,
		"--proc", "/proc",
		"--dev", "/dev",
		"--perms", "1777", "--size", size, "--tmpfs", "/dev/shm",
		"--remount-ro", "/dev",
		"--perms", "1777", "--size", size, "--tmpfs", "/work",
		"--perms", "1777", "--size", size, "--tmpfs", "/tmp",
		"--remount-ro", "/",
		"--chdir", "/work",
	)
	if env.seccomp != nil {
		a = append(a, "--seccomp", "4") // the second of the server's extra files
	}
	a = append(a, "--")
	helpers := 2 // bubblewrap's init and the zygote share the program's user
	if !userns {
		helpers = 0
	}
	a = append(a, zyg("/work", "/tmp:/dev/shm", true, !userns, helpers, userns, env.libPath)...)
	if env.Mode == ModeUserNSNobody {
		cred = &syscall.Credential{Uid: nobody, Gid: nobody, Groups: []uint32{}}
	}
	return a, cred
}
