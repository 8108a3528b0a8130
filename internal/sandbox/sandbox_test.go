package sandbox

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"
)

func newTestRunner() *Runner {
	return &Runner{Limits: Limits{
		Timeout:        5 * time.Second,
		MaxOutputBytes: 64 << 10,
		MaxMemoryBytes: 256 << 20,
		MaxProcs:       32,
	}}
}

// runners returns a runner with the machine's isolation and, where that
// includes namespaces, one forced onto the fallback without them, so both
// paths are tested.
func runners(t *testing.T, l Limits) map[string]*Runner {
	t.Helper()
	r := &Runner{Limits: l}
	s, err := r.getSetup(context.Background())
	if err != nil {
		t.Fatalf("probing sandbox: %v", err)
	}
	out := map[string]*Runner{"default": r}
	if s.unshare != nil {
		out["no-namespaces"] = &Runner{Limits: l, setup: &setup{python: s.python}}
	}
	return out
}

func TestRunPython(t *testing.T) {
	base := newTestRunner().Limits
	tests := []struct {
		name       string
		code       string
		stdin      string
		limits     *Limits
		wantExit   int
		wantOut    string // exact stdout, unless outContains
		outPrefix  bool
		errHas     []string
		timedOut   bool
		truncated  bool
		maxSeconds float64
	}{
		{
			name:     "stdout and stdin captured",
			code:     "import sys\ndata = sys.stdin.read()\nprint('got', data.upper())\nprint('err line', file=sys.stderr)\n",
			stdin:    "hello",
			wantOut:  "got HELLO\n",
			errHas:   []string{"err line"},
			wantExit: 0,
		},
		{
			name:     "non-zero exit with traceback",
			code:     "def solve(x):\n    return x[3]\n\nsolve([1, 2])\n",
			wantExit: 1,
			errHas: []string{
				"Traceback (most recent call last):",
				`File "main.py", line 4, in <module>`,
				`File "main.py", line 2, in solve`,
				"IndexError: list index out of range",
			},
		},
		{
			name:     "explicit exit code",
			code:     "import sys\nprint('bye')\nsys.exit(7)\n",
			wantOut:  "bye\n",
			wantExit: 7,
		},
		{
			name:       "timeout kills infinite loop",
			code:       "print('start', flush=True)\nwhile True:\n    pass\n",
			limits:     &Limits{Timeout: 700 * time.Millisecond},
			wantOut:    "start\n",
			wantExit:   -1,
			timedOut:   true,
			maxSeconds: 4,
		},
		{
			name:       "timeout kills background children too",
			code:       "import subprocess, time\nsubprocess.Popen(['sleep', '30'])\ntime.sleep(30)\n",
			limits:     &Limits{Timeout: 700 * time.Millisecond},
			wantExit:   -1,
			timedOut:   true,
			maxSeconds: 4,
		},
		{
			name:      "output cap",
			code:      "import sys\nfor i in range(100000):\n    sys.stdout.write('x' * 100)\n",
			limits:    &Limits{MaxOutputBytes: 1000},
			wantOut:   strings.Repeat("x", 1000),
			wantExit:  0,
			truncated: true,
		},
		{
			name:     "memory limit trips on big allocation",
			code:     "b = bytearray(2 * 1024 * 1024 * 1024)\nprint('allocated', len(b))\n",
			limits:   &Limits{MaxMemoryBytes: 128 << 20},
			wantExit: 1,
			errHas:   []string{"MemoryError"},
		},
		{
			name:     "environment is empty",
			code:     "import os\nfor k in sorted(os.environ):\n    print(k, os.environ[k])\n",
			wantOut:  "LANG C.UTF-8\nPATH " + sandboxPath + "\n",
			wantExit: 0,
		},
		{
			name:     "fresh working directory",
			code:     "import os\nprint(sorted(os.listdir('.')))\nopen('scratch.txt', 'w').write('x')\n",
			wantOut:  "['main.py']\n",
			wantExit: 0,
		},
		{
			name:     "killed by signal",
			code:     "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n",
			wantExit: 128 + 9,
		},
	}
	for _, tt := range tests {
		l := base
		if tt.limits != nil {
			l = *tt.limits
		}
		for mode, rr := range runners(t, l) {
			t.Run(mode+"/"+tt.name, func(t *testing.T) {
				res, err := rr.RunPython(context.Background(), tt.code, []byte(tt.stdin))
				if err != nil {
					t.Fatalf("RunPython: %v", err)
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
				if res.TimedOut != tt.timedOut {
					t.Errorf("TimedOut %v, want %v", res.TimedOut, tt.timedOut)
				}
				if res.OutputTruncated != tt.truncated {
					t.Errorf("OutputTruncated %v, want %v", res.OutputTruncated, tt.truncated)
				}
				if tt.maxSeconds > 0 && res.Duration.Seconds() > tt.maxSeconds {
					t.Errorf("run took %v, want under %vs", res.Duration, tt.maxSeconds)
				}
			})
		}
	}
}

func TestWorkingDirectoryRemoved(t *testing.T) {
	r := newTestRunner()
	res, err := r.RunPython(context.Background(), "import os\nprint(os.getcwd())\n", nil)
	if err != nil {
		t.Fatalf("RunPython: %v", err)
	}
	dir := strings.TrimSpace(res.Stdout)
	if !strings.Contains(dir, "atlas-sandbox-") {
		t.Fatalf("working directory %q is not a sandbox directory", dir)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("working directory %q still exists (stat err %v)", dir, err)
	}
}

func TestContextCancel(t *testing.T) {
	r := newTestRunner()
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		time.Sleep(300 * time.Millisecond)
		cancel()
	}()
	start := time.Now()
	res, err := r.RunPython(ctx, "import time\ntime.sleep(30)\n", nil)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v, want context.Canceled", err)
	}
	if res.TimedOut {
		t.Errorf("TimedOut set on cancellation")
	}
	if d := time.Since(start); d > 4*time.Second {
		t.Errorf("cancelled run took %v", d)
	}
}

func TestNoNetworkWhenIsolated(t *testing.T) {
	r := newTestRunner()
	iso, err := r.Isolation(context.Background())
	if err != nil {
		t.Fatalf("Isolation: %v", err)
	}
	code := "import socket\ns = socket.socket()\ns.settimeout(2)\ntry:\n    s.connect(('1.1.1.1', 80))\n    print('connected')\nexcept OSError as e:\n    print('blocked', e.errno)\n"
	res, err := r.RunPython(context.Background(), code, nil)
	if err != nil {
		t.Fatalf("RunPython: %v", err)
	}
	if res.Isolation != iso {
		t.Errorf("Result.Isolation %+v, Runner.Isolation %+v", res.Isolation, iso)
	}
	if !iso.Namespaces {
		t.Logf("no namespaces on this machine; network not isolated (output %q)", res.Stdout)
		return
	}
	if !strings.HasPrefix(res.Stdout, "blocked") {
		t.Errorf("network reachable inside sandbox: %q %q", res.Stdout, res.Stderr)
	}
}

func TestMissingInterpreter(t *testing.T) {
	r := &Runner{Python: "no-such-python-interpreter"}
	if _, err := r.RunPython(context.Background(), "print(1)\n", nil); err == nil {
		t.Fatal("RunPython with a missing interpreter: no error")
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
			if b.String() != tt.want || b.truncated != tt.truncated {
				t.Errorf("got %q truncated %v, want %q %v", b.String(), b.truncated, tt.want, tt.truncated)
			}
		})
	}
}
