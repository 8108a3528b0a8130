package sandbox

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// attack is a hostile program and how the sandbox must stop it.
type attack struct {
	name   string
	code   string
	limits Limits
	// want is the limit that must catch it.
	want Limit
	// check, when set, checks more of the result.
	check func(t *testing.T, r Result)
	// maxSeconds bounds the run's duration.
	maxSeconds float64
}

// hostSecrets are planted outside the sandbox by TestAttacks: in a fake
// $HOME, in a job input directory and in the job's environment.
type hostSecrets struct {
	home, homeFile, inputDir, inputFile, envName, value string
	port                                                int
	accepted                                            *atomic.Int64
}

func noLeak(s hostSecrets) func(t *testing.T, r Result) {
	return func(t *testing.T, r Result) {
		t.Helper()
		if strings.Contains(r.Stdout+r.Stderr, s.value) {
			t.Errorf("the secret leaked: stdout %q stderr %q", r.Stdout, r.Stderr)
		}
	}
}

func wantOut(want string, also ...func(*testing.T, Result)) func(t *testing.T, r Result) {
	return func(t *testing.T, r Result) {
		t.Helper()
		if r.Stdout != want {
			t.Errorf("stdout %q, want %q (stderr %.300q)", r.Stdout, want, r.Stderr)
		}
		for _, f := range also {
			f(t, r)
		}
	}
}

func attacks(s hostSecrets, env Environment) []attack {
	leak := noLeak(s)
	forkBomb := attack{
		name: "fork bomb",
		code: "import os\nwhile True:\n    os.fork()\n",
		want: LimitProcesses,
		check: func(t *testing.T, r Result) {
			if r.Exception != "BlockingIOError" {
				t.Errorf("exception %q, want BlockingIOError", r.Exception)
			}
		},
		maxSeconds: 8,
	}
	if !env.ProcessLimit {
		// RLIMIT_NPROC does not bind (the program is root on the host):
		// the PID namespace and the timeout contain it. Keep it to a few
		// hundred processes so as not to starve the machine.
		forkBomb.code = "import os, time\nfor i in range(8):\n    os.fork()\ntime.sleep(60)\n"
		forkBomb.want = LimitTimeout
		forkBomb.limits = Limits{Timeout: time.Second}
		forkBomb.check = nil
	}
	all := []attack{
		{
			name:   "infinite loop (CPU time)",
			code:   "while True:\n    pass\n",
			limits: Limits{CPUTime: time.Second, Timeout: 10 * time.Second},
			want:   LimitCPU,
			check: func(t *testing.T, r Result) {
				if r.Signal != int(syscall.SIGXCPU) && r.Signal != int(syscall.SIGKILL) {
					t.Errorf("signal %d, want SIGXCPU", r.Signal)
				}
			},
			maxSeconds: 5,
		},
		{
			name:       "infinite loop (wall clock)",
			code:       "import time\nwhile True:\n    time.sleep(0.01)\n",
			limits:     Limits{Timeout: time.Second},
			want:       LimitTimeout,
			maxSeconds: 4,
		},
		forkBomb,
		{
			name:       "fork bomb that ignores errors",
			code:       "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n",
			limits:     Limits{Timeout: 2 * time.Second},
			want:       LimitTimeout,
			maxSeconds: 8,
		},
		{
			name:   "memory bomb",
			code:   "x = []\nwhile True:\n    x.append(bytearray(8 << 20))\n",
			limits: Limits{MaxMemoryBytes: 256 << 20},
			want:   LimitMemory,
		},
		{
			name:   "huge file write",
			code:   "with open('big', 'wb') as f:\n    while True:\n        f.write(b'x' * (1 << 20))\n",
			limits: Limits{MaxFileBytes: 8 << 20},
			want:   LimitFileSize,
		},
		{
			name: "filling the disk with many files",
			code: "i = 0\nwhile True:\n    with open('f%d' % i, 'wb') as f:\n        f.write(b'x' * (4 << 20))\n    i += 1\n",
			want: LimitDisk,
		},
		{
			name:  "huge write to stdout",
			code:  "import sys\nfor _ in range(512):\n    sys.stdout.write('y' * 65536)\n",
			want:  LimitOutput,
			check: func(t *testing.T, r Result) { checkLen(t, r.Stdout, testLimits().MaxOutputBytes) },
		},
		{
			name: "open files",
			code: "fs = [open('/dev/null') for _ in range(100000)]\n",
			want: LimitOpenFiles,
		},
		{
			name: "connection to a listener on the host's 127.0.0.1",
			code: fmt.Sprintf("import socket\ns = socket.create_connection(('127.0.0.1', %d), timeout=3)\nprint('connected')\n", s.port),
			want: LimitExit,
			check: func(t *testing.T, r Result) {
				if r.Exception != "ConnectionRefusedError" {
					t.Errorf("exception %q (stderr %q), want ConnectionRefusedError", r.Exception, r.Stderr)
				}
				if n := s.accepted.Load(); n != 0 {
					t.Errorf("the host's listener accepted %d connections", n)
				}
			},
		},
		{
			name: "connection to the internet",
			code: "import socket\nsocket.create_connection(('1.1.1.1', 80), timeout=3)\n",
			want: LimitExit,
			check: func(t *testing.T, r Result) {
				if r.Exception != "OSError" || !strings.Contains(r.Stderr, "Network is unreachable") {
					t.Errorf("exception %q stderr %q, want OSError: Network is unreachable", r.Exception, r.Stderr)
				}
			},
		},
		{
			name: "os.system",
			code: "import os\nprint('status', os.system('id; cat /etc/passwd'))\n",
			want: LimitNone,
			check: func(t *testing.T, r Result) {
				if strings.Contains(r.Stdout, "uid=") || strings.Contains(r.Stdout, "root:") || !strings.HasPrefix(r.Stdout, "status ") || r.Stdout == "status 0\n" {
					t.Errorf("os.system ran: stdout %q stderr %q", r.Stdout, r.Stderr)
				}
			},
		},
		{
			name: "subprocess of a shell",
			code: "import subprocess\nprint(subprocess.run(['/bin/sh', '-c', 'id'], capture_output=True).stdout)\n",
			want: LimitExit,
			check: func(t *testing.T, r Result) {
				if r.Exception != "FileNotFoundError" {
					t.Errorf("exception %q, want FileNotFoundError", r.Exception)
				}
			},
		},
		{
			name: "reading a secret planted under $HOME",
			code: fmt.Sprintf("import os\nprint(os.path.expanduser('~') == %q)\nprint(open(%q).read())\n", s.home, s.homeFile),
			want: LimitExit,
			check: wantOut("False\n", leak, func(t *testing.T, r Result) {
				if r.Exception != "FileNotFoundError" {
					t.Errorf("exception %q, want FileNotFoundError", r.Exception)
				}
			}),
		},
		{
			name: "reading the job's input files",
			code: fmt.Sprintf("import os\nprint(os.path.exists(%q), os.path.exists(%q), os.listdir('/tmp'))\nprint(open(%q).read())\n", s.inputDir, filepath.Dir(s.inputDir), s.inputFile),
			want: LimitExit,
			check: wantOut("False False []\n", leak, func(t *testing.T, r Result) {
				if r.Exception != "FileNotFoundError" {
					t.Errorf("exception %q, want FileNotFoundError", r.Exception)
				}
			}),
		},
		{
			name: "reading the job's environment",
			code: fmt.Sprintf(`import os
print(os.environ.get(%q))
for p in os.listdir('/proc'):
    if p.isdigit() or p == 'self':
        for f in ('environ', 'cmdline'):
            try:
                print(p, f, open('/proc/%%s/%%s' %% (p, f), 'rb').read())
            except OSError as e:
                print(p, f, e.errno)
`, s.envName),
			want:  LimitNone,
			check: leak,
		},
		{
			name: "the host's processes and files are not there",
			code: "import os\nprint(sorted(p for p in os.listdir('/proc') if p.isdigit())[:1], sorted(os.listdir('/')), os.path.exists('/usr/bin/bwrap'), os.path.exists('/etc/passwd'))\n",
			want: LimitNone,
			check: func(t *testing.T, r Result) {
				want := "['1'] ['dev', 'etc', 'lib', 'lib64', 'proc', 'tmp', 'usr', 'work'] False False\n"
				got := strings.Replace(strings.Replace(r.Stdout, "'root', ", "", 1), "'sandbox', ", "", 1)
				if got != want {
					t.Errorf("stdout %q, want %q (without /root and /sandbox where the interpreter or a library is)", r.Stdout, want)
				}
			},
		},
		{
			name:  "writing outside the working directory",
			code:  "import os\nfor p in ('/evil', '/usr/lib/evil', '/etc/evil', '/dev/evil'):\n    try:\n        open(p, 'w')\n        print('wrote', p)\n    except OSError as e:\n        print(e.errno in (13, 30))\n",
			want:  LimitNone,
			check: wantOut("True\nTrue\nTrue\nTrue\n"),
		},
		{
			name: "becoming root",
			code: "import os\nos.setuid(0)\nprint('root')\n",
			want: LimitExit,
			check: func(t *testing.T, r Result) {
				// EPERM, or EINVAL where root is not mapped in the
				// user namespace
				if r.Exception != "PermissionError" && !strings.Contains(r.Stderr, "OSError: [Errno 22] Invalid argument") {
					t.Errorf("exception %q (stderr %q), want PermissionError or EINVAL", r.Exception, r.Stderr)
				}
			},
		},
		{
			name: "reading the fork server's memory",
			code: "print(open('/proc/2/mem', 'rb').read(16))\n",
			want: LimitExit,
			check: func(t *testing.T, r Result) {
				if r.Exception != "PermissionError" {
					t.Errorf("exception %q, want PermissionError", r.Exception)
				}
			},
		},
		{
			name: "kernel attack surface: user namespaces, keyrings, io_uring, ptrace, System V IPC",
			code: fmt.Sprintf(`import ctypes
libc = ctypes.CDLL(None, use_errno=True)
for name, call in [
    ('unshare', lambda: libc.unshare(0x10000000)),
    ('keyctl', lambda: libc.syscall(%d, 0, -3, 0)),
    ('io_uring_setup', lambda: libc.syscall(%d, 8, ctypes.create_string_buffer(120))),
    ('ptrace', lambda: libc.ptrace(0, 0, 0, 0)),
    ('shmget', lambda: libc.shmget(0, 1 << 20, 0o1600)),
    ('mq_open', lambda: libc.syscall(%d, b'q', 0o100, 0o600, None)),
]:
    print(name, call(), ctypes.get_errno())
`, unix.SYS_KEYCTL, unix.SYS_IO_URING_SETUP, unix.SYS_MQ_OPEN),
			want:  LimitNone,
			check: wantOut("unshare -1 1\nkeyctl -1 1\nio_uring_setup -1 1\nptrace -1 1\nshmget -1 1\nmq_open -1 1\n"),
		},
		{
			name: "killing everything it can",
			code: "import os, signal\nos.kill(-1, signal.SIGKILL)\nos.kill(os.getpid(), signal.SIGKILL)\n",
			want: LimitSignal,
		},
	}
	if !env.Seccomp {
		// no filter for this architecture
		all = slices.DeleteFunc(all, func(a attack) bool { return strings.HasPrefix(a.name, "kernel attack surface") })
	}
	return all
}

func checkLen(t *testing.T, s string, n int) {
	t.Helper()
	if len(s) != n {
		t.Errorf("captured %d bytes, want %d", len(s), n)
	}
}

// TestAttacks runs each attack on a cold and a warm executor, checks the
// limit that caught it, and that a normal program runs afterwards.
func TestAttacks(t *testing.T) {
	var buf [12]byte
	_, _ = rand.Read(buf[:])
	s := hostSecrets{value: "atlas-secret-" + hex.EncodeToString(buf[:]), envName: "ATLAS_TEST_SECRET", accepted: new(atomic.Int64)}
	s.home = t.TempDir()
	s.homeFile = filepath.Join(s.home, ".aws", "credentials")
	writeFile(t, s.homeFile, s.value)
	t.Setenv("HOME", s.home)
	t.Setenv(s.envName, s.value)
	s.inputDir = filepath.Join(t.TempDir(), "job", "input")
	s.inputFile = filepath.Join(s.inputDir, "part-0000.jsonl")
	writeFile(t, s.inputFile, `{"secret": "`+s.value+`"}`)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	s.port = ln.Addr().(*net.TCPAddr).Port
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.accepted.Add(1)
			c.Close()
		}
	}()

	normal := Program{Code: "import json, sys\nd = json.load(sys.stdin)\nprint(sum(d['xs']))\n", Stdin: []byte(`{"xs": [1, 2, 3]}`)}
	for _, e := range executors(t) {
		for _, a := range attacks(s, e.env) {
			t.Run(e.name+"/"+a.name, func(t *testing.T) {
				res, err := e.ex.Run(context.Background(), Program{Code: a.code, Limits: a.limits})
				if err != nil {
					t.Fatalf("Run: %v", err)
				}
				t.Logf("limit %q exit %d signal %d exception %q in %v", res.Limit, res.ExitCode, res.Signal, res.Exception, res.Duration.Round(time.Millisecond))
				if res.Limit != a.want {
					t.Errorf("limit %q, want %q (exit %d, signal %d, exception %q, stdout %.200q, stderr %.300q)",
						res.Limit, a.want, res.ExitCode, res.Signal, res.Exception, res.Stdout, res.Stderr)
				}
				if a.check != nil {
					a.check(t, res)
				}
				if a.maxSeconds > 0 && res.Duration.Seconds() > a.maxSeconds {
					t.Errorf("took %v, want under %vs", res.Duration, a.maxSeconds)
				}
				// The job goes on: the same executor still runs programs.
				after, err := e.ex.Run(context.Background(), normal)
				if err != nil || after.Stdout != "6\n" || after.Limit != LimitNone {
					t.Errorf("normal program after the attack: %v, %+v", err, after)
				}
			})
		}
	}
}
