package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/atlas-ai/atlas-learn/internal/sandbox"
)

// SandboxConfig configures the sandbox every stage that runs code from
// trajectories uses (section sandbox:).
type SandboxConfig struct {
	// Python is the interpreter (resolved once to the real executable).
	Python string `yaml:"python" json:"python"`
	// RequireIsolation refuses to run untrusted code where bubblewrap
	// cannot make a sandbox; false runs it with resource limits only, and
	// the run says so first.
	RequireIsolation bool `yaml:"require_isolation" json:"require_isolation"`
	// LibraryDirs are read-only directories put on the programs' sys.path
	// (an agent's DSL).
	LibraryDirs []string `yaml:"library_dirs" json:"library_dirs,omitempty"`
	// Warm keeps warm interpreters (a fork server inside each sandbox),
	// one per worker; false starts a sandbox per run.
	Warm bool `yaml:"warm" json:"warm"`
	// Preload are modules the warm interpreters import before any run.
	Preload []string `yaml:"preload" json:"preload,omitempty"`
	// Bwrap is the bubblewrap executable ("bwrap": looked up on PATH).
	Bwrap string `yaml:"bwrap" json:"bwrap"`
	// Timeout bounds one sandboxed run (a code replay runs all of a
	// trajectory's programs in one); CPUTime its CPU time.
	Timeout time.Duration `yaml:"timeout" json:"timeout"`
	CPUTime time.Duration `yaml:"cpu_time" json:"cpu_time"`
	// Caps on memory (address space), output (each stream), processes,
	// file size, open files and the writable disk of one run.
	MaxMemoryMiB int `yaml:"max_memory_mib" json:"max_memory_mib"`
	MaxOutputKiB int `yaml:"max_output_kib" json:"max_output_kib"`
	MaxProcs     int `yaml:"max_procs" json:"max_procs"`
	MaxFileMiB   int `yaml:"max_file_mib" json:"max_file_mib"`
	MaxOpenFiles int `yaml:"max_open_files" json:"max_open_files"`
	MaxDiskMiB   int `yaml:"max_disk_mib" json:"max_disk_mib"`
}

// Validate reports the first invalid key, relative to the section.
func (c SandboxConfig) Validate() error {
	switch {
	case c.Python == "":
		return errors.New("python: empty")
	case c.Timeout <= 0:
		return fmt.Errorf("timeout: must be positive, got %s", c.Timeout)
	case c.CPUTime < 0:
		return fmt.Errorf("cpu_time: must be >= 0, got %s", c.CPUTime)
	case c.MaxMemoryMiB < 16:
		return fmt.Errorf("max_memory_mib: must be at least 16, got %d", c.MaxMemoryMiB)
	case c.MaxOutputKiB < 1:
		return fmt.Errorf("max_output_kib: must be positive, got %d", c.MaxOutputKiB)
	case c.MaxProcs < 1:
		return fmt.Errorf("max_procs: must be positive, got %d", c.MaxProcs)
	case c.MaxFileMiB < 1:
		return fmt.Errorf("max_file_mib: must be positive, got %d", c.MaxFileMiB)
	case c.MaxOpenFiles < 16:
		return fmt.Errorf("max_open_files: must be at least 16, got %d", c.MaxOpenFiles)
	case c.MaxDiskMiB < 1:
		return fmt.Errorf("max_disk_mib: must be positive, got %d", c.MaxDiskMiB)
	}
	return nil
}

// Options is the sandbox's options.
func (c SandboxConfig) Options(log *slog.Logger) sandbox.Options {
	o := sandbox.DefaultOptions()
	o.Python, o.RequireIsolation, o.LibraryDirs, o.Preload, o.Bwrap, o.Logger = c.Python, c.RequireIsolation, c.LibraryDirs, c.Preload, c.Bwrap, log
	o.Limits = sandbox.Limits{Timeout: c.Timeout, CPUTime: c.CPUTime, MaxOutputBytes: c.MaxOutputKiB << 10,
		MaxMemoryBytes: int64(c.MaxMemoryMiB) << 20, MaxProcs: c.MaxProcs, MaxFileBytes: int64(c.MaxFileMiB) << 20,
		MaxOpenFiles: c.MaxOpenFiles, MaxDiskBytes: int64(c.MaxDiskMiB) << 20}
	return o
}

// executor is a sandbox runner: cold or warm.
type executor interface {
	Run(ctx context.Context, p sandbox.Program) (sandbox.Result, error)
	Environment(ctx context.Context) (sandbox.Environment, error)
}

// newExecutor makes the configured runner (warm: a pool of workers
// interpreters) and checks it can run: it fails with the sandbox's
// ErrNoIsolation when isolation is required and not to be had, and
// returns a warning for the run's first lines when it runs without.
func newExecutor(ctx context.Context, c SandboxConfig, workers int, log *slog.Logger) (executor, func(), string, error) {
	o := c.Options(log)
	var ex executor
	closeFn := func() {}
	if c.Warm {
		p := sandbox.NewPool(o, max(workers, 1))
		ex, closeFn = p, func() { _ = p.Close() }
	} else {
		ex = sandbox.NewRunner(o)
	}
	env, err := ex.Environment(ctx)
	if err != nil {
		closeFn()
		if errors.Is(err, sandbox.ErrNoIsolation) {
			return nil, nil, "", fmt.Errorf("sandbox: refusing to run untrusted code without isolation (set sandbox.require_isolation: false to run it with resource limits only): %w", err)
		}
		return nil, nil, "", fmt.Errorf("sandbox: %w", err)
	}
	warn := ""
	if env.Isolation != sandbox.IsolationBubblewrap {
		warn = "untrusted code from trajectories runs WITHOUT isolation (sandbox.require_isolation is false and bubblewrap cannot make a sandbox here): resource limits only"
	}
	return ex, closeFn, warn, nil
}

// sandboxRunner adapts a sandbox executor to the code replayer: a run
// that does not exit 0 is an error naming the limit that stopped it. The
// program's standard error is logged (at debug), not put in the error:
// the error ends up in data rows, and that text is the program's to choose.
type sandboxRunner struct {
	ex  executor
	log *slog.Logger
}

func (s sandboxRunner) RunPython(ctx context.Context, program string, stdin []byte) ([]byte, error) {
	res, err := s.ex.Run(ctx, sandbox.Program{Code: program, Stdin: stdin})
	if err != nil {
		return nil, err
	}
	if res.ExitCode != 0 || res.Limit != sandbox.LimitNone {
		s.log.Debug("a sandboxed replay stopped", "limit", res.Limit, "exit", res.ExitCode, "stderr", res.Stderr)
		return nil, fmt.Errorf("the sandboxed replay stopped (limit %q, exit %d, exception %q)", res.Limit, res.ExitCode, res.Exception)
	}
	return []byte(res.Stdout), nil
}
