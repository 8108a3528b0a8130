package sandbox

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestRun(t *testing.T) {
	tests := []struct {
		name       string
		prog       Program
		wantExit   int
		wantOut    string // exact stdout
		errHas     []string
		wantLimit  Limit
		wantExc    string
		truncated  bool
		maxSeconds float64
	}{
		{
			name:     "stdout, stderr and stdin",
			prog:     Program{Code: "import sys\ndata = sys.stdin.read()\nprint('got', data.upper())\nprint('err line', file=sys.stderr)\n", Stdin: []byte("hello")},
			wantOut:  "got HELLO\n",
			errHas:   []string{"err line"},
			wantExit: 0,
		},
		{
			name:     "arguments",
			prog:     Program{Code: "import sys\nprint(sys.argv)\n", Args: []string{"a b", "-c"}},
			wantOut:  "['main.py', 'a b', '-c']\n",
			wantExit: 0,
		},
		{
			name:     "non-zero exit with traceback",
			prog:     Program{Code: "def solve(x):\n    return x[3]\n\nsolve([1, 2])\n"},
			wantExit: 1,
			errHas: []string{
				"Traceback (most recent call last):",
				`File "main.py", line 4, in <module>`,
				`File "main.py", line 2, in solve`,
				"IndexError: list index out of range",
			},
			wantLimit: LimitExit,
			wantExc:   "IndexError",
		},
		{
			name:      "explicit exit code",
			prog:      Program{Code: "import sys\nprint('bye')\nsys.exit(7)\n"},
			wantOut:   "bye\n",
			wantExit:  7,
			wantLimit: LimitExit,
		},
		{
			name:      "timeout kills an infinite loop",
			prog:      Program{Code: "print('start', flush=True)\nwhile True:\n    pass\n", Limits: Limits{Timeout: 700 * time.Millisecond}},
			wantOut:   "start\n",
			wantExit:  -1,
			wantLimit: LimitTimeout,
			// a cold run includes starting the sandbox
			maxSeconds: 4,
		},
		{
			name:       "timeout kills forked children too",
			prog:       Program{Code: "import os, time\nif os.fork() == 0:\n    os.setsid()\n    time.sleep(30)\ntime.sleep(30)\n", Limits: Limits{Timeout: 700 * time.Millisecond}},
			wantExit:   -1,
			wantLimit:  LimitTimeout,
			maxSeconds: 4,
		},
		{
			name:      "output cap",
			prog:      Program{Code: "import sys\nfor i in range(100000):\n    sys.stdout.write('x' * 100)\n", Limits: Limits{MaxOutputBytes: 1000}},
			wantOut:   strings.Repeat("x", 1000),
			wantExit:  0,
			truncated: true,
			wantLimit: LimitOutput,
		},
		{
			name:      "memory limit trips on a big allocation",
			prog:      Program{Code: "b = bytearray(2 * 1024 * 1024 * 1024)\nprint('allocated', len(b))\n", Limits: Limits{MaxMemoryBytes: 128 << 20}},
			wantExit:  1,
			errHas:    []string{"MemoryError"},
			wantLimit: LimitMemory,
			wantExc:   "MemoryError",
		},
		{
			name:     "environment holds PATH and LANG only",
			prog:     Program{Code: "import os\nfor k in sorted(os.environ):\n    print(k, os.environ[k])\n"},
			wantOut:  "LANG C.UTF-8\nPATH " + sandboxPath + "\n",
			wantExit: 0,
		},
		{
			name:     "fresh working directory",
			prog:     Program{Code: "import os\nprint(os.getcwd(), sorted(os.listdir('.')), sorted(os.listdir('/tmp')))\nopen('scratch.txt', 'w').write('x')\nopen('/tmp/scratch.txt', 'w').write('x')\n"},
			wantOut:  "/work ['main.py'] []\n",
			wantExit: 0,
		},
		{
			name:      "killed by signal",
			prog:      Program{Code: "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n"},
			wantExit:  128 + 9,
			wantLimit: LimitSignal,
		},
		{
			name:     "__main__, __file__ and pickling a class of the program",
			prog:     Program{Code: "import pickle, sys\nclass P:\n    pass\nif __name__ == '__main__':\n    print(__file__, type(pickle.loads(pickle.dumps(P()))).__name__, sys.modules['__main__'].P is P)\n"},
			wantOut:  "/work/main.py P True\n",
			wantExit: 0,
		},
		{
			name:     "atexit and threads run at the end",
			prog:     Program{Code: "import atexit, threading, time\natexit.register(lambda: print('atexit'))\nt = threading.Thread(target=lambda: (time.sleep(0.05), print('thread')))\nt.start()\nprint('main')\n"},
			wantOut:  "main\nthread\natexit\n",
			wantExit: 0,
		},
	}
	for _, e := range executors(t) {
		for _, tt := range tests {
			t.Run(e.name+"/"+tt.name, func(t *testing.T) {
				res, err := e.ex.Run(context.Background(), tt.prog)
				if err != nil {
					t.Fatalf("Run: %v", err)
				}
				if res.ExitCode != tt.wantExit {
					t.Errorf("exit code %d, want %d (stderr %q)", res.ExitCode, tt.wantExit, res.Stderr)
				}
				if res.Stdout != tt.wantOut {
					t.Errorf("stdout %.200q, want %.200q", res.Stdout, tt.wantOut)
				}
				for _, s := range tt.errHas {
					if !strings.Contains(res.Stderr, s) {
						t.Errorf("stderr %q lacks %q", res.Stderr, s)
					}
				}
				if res.Limit != tt.wantLimit {
					t.Errorf("limit %q, want %q (stderr %.300q)", res.Limit, tt.wantLimit, res.Stderr)
				}
				if res.TimedOut != (tt.wantLimit == LimitTimeout) {
					t.Errorf("TimedOut %v with limit %q", res.TimedOut, tt.wantLimit)
				}
				if tt.wantExc != "" && res.Exception != tt.wantExc {
					t.Errorf("exception %q, want %q", res.Exception, tt.wantExc)
				}
				if res.OutputTruncated != tt.truncated {
					t.Errorf("OutputTruncated %v, want %v", res.OutputTruncated, tt.truncated)
				}
				if res.Isolation != IsolationBubblewrap {
					t.Errorf("isolation %q", res.Isolation)
				}
				if tt.maxSeconds > 0 && res.Duration.Seconds() > tt.maxSeconds {
					t.Errorf("run took %v, want under %vs", res.Duration, tt.maxSeconds)
				}
			})
		}
	}
}

// TestLikePlainPython compares the sandbox with `python main.py` run on the
// host, for what a program sees of how it was started and how it ends.
func TestLikePlainPython(t *testing.T) {
	programs := map[string]string{
		"traceback":      "def f(x):\n    return {}[x]\nf('k')\n",
		"syntax error":   "def f(:\n    pass\n",
		"chained":        "try:\n    1/0\nexcept Exception as e:\n    raise ValueError('v') from e\n",
		"context":        "try:\n    1/0\nexcept Exception:\n    [][1]\n",
		"exit message":   "import sys\nsys.exit('bad input')\n",
		"exit big":       "raise SystemExit(300)\n",
		"stdin lines":    "import sys\nfor line in sys.stdin:\n    print(repr(line))\nprint(input.__name__)\n",
		"unicode":        "print('héllo ✓')\nimport sys\nprint(sys.stdout.encoding, sys.stdin.encoding, sys.stdout.line_buffering)\n",
		"flags":          "import sys\nprint(sys.flags.isolated, sys.flags.no_site, sys.flags.ignore_environment, sys.path[0] != '', sys.getrecursionlimit())\n",
		"recursion":      "def f(n):\n    return f(n + 1)\nf(0)\n",
		"custom hook":    "import sys\nsys.excepthook = lambda t, v, tb: print('hook', t.__name__, file=sys.stderr)\nraise KeyError(1)\n",
		"print no flush": "import sys, os\nprint('a')\nsys.stderr.write('b')\nos._exit(3)\n",
	}
	stdin := "one\ntwo\n"
	for _, c := range testConfigs(t) {
		c.opts.NoSite = true
		r := NewRunner(c.opts)
		p := NewPool(c.opts, 1)
		t.Cleanup(func() { _ = p.Close() })
		env, err := r.Environment(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for name, code := range programs {
			dir := t.TempDir()
			writeFile(t, filepath.Join(dir, "main.py"), code)
			cmd := exec.Command(env.Python, "-I", "-S", "main.py")
			cmd.Dir = dir
			cmd.Env = []string{"PATH=" + sandboxPath, "LANG=C.UTF-8"}
			cmd.Stdin = strings.NewReader(stdin)
			var out, errb strings.Builder
			cmd.Stdout, cmd.Stderr = &out, &errb
			_ = cmd.Run()
			wantErr := strings.ReplaceAll(errb.String(), dir+"/", "")
			for ename, ex := range map[string]Executor{"cold": r, "warm": p} {
				t.Run(c.name+"/"+ename+"/"+name, func(t *testing.T) {
					res, err := ex.Run(context.Background(), Program{Code: code, Stdin: []byte(stdin)})
					if err != nil {
						t.Fatal(err)
					}
					if res.Stdout != out.String() || res.Stderr != wantErr || res.ExitCode != cmd.ProcessState.ExitCode() {
						t.Errorf("sandbox: exit %d\n%s\n%s\nplain python: exit %d\n%s\n%s",
							res.ExitCode, res.Stdout, res.Stderr, cmd.ProcessState.ExitCode(), out.String(), wantErr)
					}
				})
			}
		}
	}
}

func TestLibraryDirImportable(t *testing.T) {
	lib := t.TempDir()
	writeFile(t, filepath.Join(lib, "agentdsl", "__init__.py"), "def double(x):\n    return 2 * x\n")
	for _, c := range testConfigs(t) {
		c.opts.LibraryDirs = []string{lib}
		preload := c.opts
		preload.Preload = []string{"agentdsl", "json"}
		code := "import agentdsl, os\nprint(agentdsl.double(21))\ntry:\n    open(agentdsl.__file__, 'a')\nexcept OSError as e:\n    print('read-only', e.errno in (13, 30))\n"
		for ename, ex := range map[string]Executor{"cold": NewRunner(c.opts), "warm": NewPool(c.opts, 1), "warm-preload": NewPool(preload, 1)} {
			t.Run(c.name+"/"+ename, func(t *testing.T) {
				if p, ok := ex.(*Pool); ok {
					defer p.Close()
				}
				res, err := ex.Run(context.Background(), Program{Code: code})
				if err != nil {
					t.Fatal(err)
				}
				if res.Stdout != "42\nread-only True\n" || res.ExitCode != 0 {
					t.Errorf("exit %d stdout %q stderr %q", res.ExitCode, res.Stdout, res.Stderr)
				}
			})
		}
	}
}

// TestWarmRunsAreFresh checks that a warm sandbox keeps nothing of a run
// for the next: files, processes, module state.
func TestWarmRunsAreFresh(t *testing.T) {
	for _, c := range testConfigs(t) {
		p := NewPool(c.opts, 1)
		defer p.Close()
		first := "import os, sys, time\nopen('left.txt', 'w').write('x')\nopen('/tmp/left.txt', 'w').write('x')\nopen('/dev/shm/left', 'w').write('x')\nos.mkdir('d')\nopen('d/f', 'w').write('x')\nos.chmod('d', 0)\nsys.modules['json'] = 'poisoned'\nif os.fork() == 0:\n    os.setsid()\n    time.sleep(2)\n    open('/tmp/late.txt', 'w').write('x')\n    os._exit(0)\nprint('done')\n"
		res, err := p.Run(context.Background(), Program{Code: first})
		if err != nil || res.Stdout != "done\n" {
			t.Fatalf("%s: first run: %v %+v", c.name, err, res)
		}
		second := "import os, json, time\nprocs = [p for p in os.listdir('/proc') if p.isdigit()]\nprint(sorted(os.listdir('.')), sorted(os.listdir('/tmp')), os.listdir('/dev/shm'), json.dumps([1]), len(procs))\ntime.sleep(2.5)\nprint(sorted(os.listdir('/tmp')))\n"
		res, err = p.Run(context.Background(), Program{Code: second})
		if err != nil {
			t.Fatal(err)
		}
		// bubblewrap's init, the zygote and this program
		if want := "['main.py'] [] [] [1] 3\n[]\n"; res.Stdout != want {
			t.Errorf("%s: second run saw %q (stderr %q), want %q", c.name, res.Stdout, res.Stderr, want)
		}
	}
}

// TestWarmRandomness checks that forked children do not share the random
// state of their fork server, even with random preloaded.
func TestWarmRandomness(t *testing.T) {
	o := DefaultOptions()
	o.Preload = []string{"random"}
	p := NewPool(o, 1)
	defer p.Close()
	seen := map[string]bool{}
	for range 4 {
		res, err := p.Run(context.Background(), Program{Code: "import random, os\nprint(random.random(), os.urandom(8).hex(), hash('x'))\n"})
		if err != nil || res.ExitCode != 0 {
			t.Fatalf("%v %+v", err, res)
		}
		f := strings.Fields(res.Stdout)
		if seen[f[0]] || seen[f[1]] {
			t.Errorf("a run repeated another's random numbers: %q", res.Stdout)
		}
		seen[f[0]], seen[f[1]] = true, true
	}
}

func TestContextCancel(t *testing.T) {
	for _, e := range executors(t) {
		t.Run(e.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			go func() {
				time.Sleep(300 * time.Millisecond)
				cancel()
			}()
			start := time.Now()
			res, err := e.ex.Run(ctx, Program{Code: "import time\ntime.sleep(30)\n"})
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("err %v, want context.Canceled", err)
			}
			if res.TimedOut {
				t.Errorf("TimedOut set on cancellation")
			}
			if d := time.Since(start); d > 4*time.Second {
				t.Errorf("cancelled run took %v", d)
			}
			res, err = e.ex.Run(context.Background(), Program{Code: "print('after')\n"})
			if err != nil || res.Stdout != "after\n" {
				t.Errorf("run after cancel: %v %+v", err, res)
			}
		})
	}
}

func TestMissingInterpreter(t *testing.T) {
	o := DefaultOptions()
	o.Python = "no-such-python-interpreter"
	if _, err := NewRunner(o).RunPython(context.Background(), "print(1)\n", nil); err == nil {
		t.Fatal("RunPython with a missing interpreter: no error")
	}
}

func TestNoIsolation(t *testing.T) {
	o := DefaultOptions()
	o.Bwrap = "/nonexistent/bwrap"
	o.Limits = testLimits()
	for ename, ex := range map[string]Executor{"cold": NewRunner(o), "warm": NewPool(o, 1)} {
		t.Run("required/"+ename, func(t *testing.T) {
			_, err := ex.Run(context.Background(), Program{Code: "print(1)\n"})
			if !errors.Is(err, ErrNoIsolation) {
				t.Fatalf("err %v, want ErrNoIsolation", err)
			}
			var ie *IsolationError
			if !errors.As(err, &ie) || !strings.Contains(ie.Reason, "bubblewrap not found") {
				t.Errorf("error %v does not say bubblewrap is missing", err)
			}
		})
	}
	o.RequireIsolation = false
	r := NewRunner(o)
	p := NewPool(o, 1)
	defer p.Close()
	for ename, ex := range map[string]Executor{"cold": r, "warm": p} {
		t.Run("not required/"+ename, func(t *testing.T) {
			res, err := ex.Run(context.Background(), Program{Code: "import sys\nprint(sys.stdin.read())\nsys.exit(3)\n", Stdin: []byte("in")})
			if err != nil {
				t.Fatal(err)
			}
			if res.Isolation != IsolationNone || res.Stdout != "in\n" || res.ExitCode != 3 || res.Limit != LimitExit {
				t.Errorf("got %+v", res)
			}
			res, err = ex.Run(context.Background(), Program{Code: "while True:\n    pass\n", Limits: Limits{Timeout: 500 * time.Millisecond}})
			if err != nil || res.Limit != LimitTimeout {
				t.Errorf("timeout without isolation: %v %+v", err, res)
			}
			res, err = ex.Run(context.Background(), Program{Code: "print(open('main.py').read() != '')\n"})
			if err != nil || res.Stdout != "True\n" {
				t.Errorf("after timeout: %v %+v", err, res)
			}
		})
	}
	env, err := r.Environment(context.Background())
	if err != nil || env.Isolation != IsolationNone || env.Mode != ModeNone {
		t.Errorf("Environment %+v, %v", env, err)
	}
}

func TestClassify(t *testing.T) {
	cpu := 2 * time.Second
	tests := []struct {
		r        Result
		reported Limit
		want     Limit
	}{
		{Result{ExitCode: 0}, LimitNone, LimitNone},
		{Result{ExitCode: 1}, LimitNone, LimitExit},
		{Result{ExitCode: 1}, LimitMemory, LimitMemory},
		{Result{ExitCode: 0}, LimitMemory, LimitNone},
		{Result{ExitCode: 0, OutputTruncated: true}, LimitNone, LimitOutput},
		{Result{ExitCode: 1, OutputTruncated: true}, LimitProcesses, LimitProcesses},
		{Result{ExitCode: -1, TimedOut: true, OutputTruncated: true}, LimitNone, LimitTimeout},
		{Result{ExitCode: 152, Signal: int(syscall.SIGXCPU)}, LimitNone, LimitCPU},
		{Result{ExitCode: 137, Signal: 9, CPUTime: 2 * time.Second}, LimitNone, LimitCPU},
		{Result{ExitCode: 137, Signal: 9, CPUTime: time.Second}, LimitNone, LimitSignal},
		{Result{ExitCode: 153, Signal: int(syscall.SIGXFSZ)}, LimitNone, LimitFileSize},
		{Result{ExitCode: 139, Signal: 11}, LimitMemory, LimitSignal},
	}
	for _, tt := range tests {
		if got := classify(tt.r, tt.reported, cpu); got != tt.want {
			t.Errorf("classify(%+v, %q) = %q, want %q", tt.r, tt.reported, got, tt.want)
		}
	}
	for in, want := range map[string][2]string{
		"exception MemoryError\nlimit memory\n": {"MemoryError", "memory"},
		"exception OSError\nlimit \n":           {"OSError", ""},
		"exception X\nlimit root\n":             {"X", ""},
		"garbage":                               {"", ""},
	} {
		exc, lim := parseStatus(in)
		if exc != want[0] || string(lim) != want[1] {
			t.Errorf("parseStatus(%q) = %q, %q; want %q", in, exc, lim, want)
		}
	}
}

func TestCappedBuffer(t *testing.T) {
	tests := []struct {
		name      string
		limit     int
		writes    []string
		want      string
		truncated bool
	}{
		{"under", 10, []string{"abc", "def"}, "abcdef", false},
		{"exact", 6, []string{"abc", "def"}, "abcdef", false},
		{"split write", 4, []string{"abc", "def"}, "abcd", true},
		{"after full", 3, []string{"abc", "def"}, "abc", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := &cappedBuffer{limit: tt.limit}
			for _, w := range tt.writes {
				if n, err := b.Write([]byte(w)); n != len(w) || err != nil {
					t.Fatalf("Write(%q) = %d, %v", w, n, err)
				}
			}
			if b.String() != tt.want || b.isTruncated() != tt.truncated {
				t.Errorf("got %q truncated %v, want %q %v", b.String(), b.isTruncated(), tt.want, tt.truncated)
			}
		})
	}
}

// TestVirtualEnvironment runs programs with a virtual environment's python:
// its site-packages are importable and sys.prefix is the environment.
func TestVirtualEnvironment(t *testing.T) {
	base, err := NewRunner(DefaultOptions()).Environment(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	// Not under /tmp, which the sandbox's own /tmp hides.
	dir, err := os.MkdirTemp("/var/tmp", "atlas-sandbox-venv-*")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	venv := filepath.Join(dir, "venv")
	// Through a symbolic link to the interpreter, as `python3 -m venv`
	// would make it, so that the sandbox must recreate the chain.
	link := filepath.Join(dir, "python3")
	if err := os.Symlink(base.Python, link); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(link, "-m", "venv", "--without-pip", venv).CombinedOutput(); err != nil {
		t.Fatalf("making a virtual environment: %v\n%s", err, out)
	}
	site, err := filepath.Glob(filepath.Join(venv, "lib", "python3*", "site-packages"))
	if err != nil || len(site) != 1 {
		t.Fatalf("site-packages of %s: %v %v", venv, site, err)
	}
	writeFile(t, filepath.Join(site[0], "venvpkg.py"), "WHERE = 'venv'\n")
	o := DefaultOptions()
	o.Python = filepath.Join(venv, "bin", "python")
	r := NewRunner(o)
	env, err := r.Environment(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("mode %s python %s binds %v", env.Mode, env.Python, env.Binds)
	res, err := r.Run(context.Background(), Program{Code: "import sys, venvpkg\nprint(venvpkg.WHERE, sys.prefix != sys.base_prefix)\n"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Stdout != "venv True\n" {
		t.Errorf("exit %d stdout %q stderr %q", res.ExitCode, res.Stdout, res.Stderr)
	}
}

func TestPoolConcurrent(t *testing.T) {
	o := DefaultOptions()
	o.Limits = testLimits()
	p := NewPool(o, 2)
	defer p.Close()
	if err := p.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 8)
	for i := range 8 {
		go func() {
			res, err := p.Run(context.Background(), Program{Code: "import sys\nprint(int(sys.argv[1]) * 2)\n", Args: []string{strconv.Itoa(i)}})
			if err == nil && res.Stdout != strconv.Itoa(2*i)+"\n" {
				err = fmt.Errorf("run %d printed %q (stderr %q)", i, res.Stdout, res.Stderr)
			}
			errs <- err
		}()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Run(context.Background(), Program{Code: "pass\n"}); !errors.Is(err, ErrClosed) {
		t.Errorf("run after Close: %v, want ErrClosed", err)
	}
}
