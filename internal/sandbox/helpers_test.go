package sandbox

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// testLimits are small enough for the attacks to hit them quickly.
func testLimits() Limits {
	return Limits{
		Timeout:        5 * time.Second,
		MaxOutputBytes: 64 << 10,
		MaxMemoryBytes: 256 << 20,
		MaxProcs:       32,
		MaxFileBytes:   16 << 20,
		MaxOpenFiles:   64,
		MaxDiskBytes:   64 << 20,
	}
}

// testConfig is one way of building the sandbox on this machine.
type testConfig struct {
	name string
	opts Options
}

// testConfigs returns the configurations to test: the default interpreter
// (python3 on PATH, pyenv's here) and, where it differs, Debian's
// /usr/bin/python3, which as root exercises the other mode (nobody can
// read it, not pyenv's under /root).
func testConfigs(t *testing.T) []testConfig {
	t.Helper()
	o := DefaultOptions()
	o.Limits = testLimits()
	cfgs := []testConfig{{"python3", o}}
	if os.Geteuid() == 0 {
		// Where root's other modes fail (bubblewrap started as root
		// may only make a user namespace), this one is picked.
		u := o
		u.modes = []Mode{ModeUserNSRoot}
		cfgs = append(cfgs, testConfig{"python3-forced", u})
	}
	if real, err := filepath.EvalSymlinks("/usr/bin/python3"); err == nil {
		env, err := NewRunner(o).Environment(context.Background())
		if err != nil {
			t.Fatalf("sandbox unavailable (the tests need bubblewrap: apt-get install bubblewrap; `make test` installs it): %v", err)
		}
		if env.Python != real {
			d := o
			d.Python = "/usr/bin/python3"
			cfgs = append(cfgs, testConfig{"debian-python3", d})
		}
	}
	return cfgs
}

// executor is a Runner or a Pool under test.
type executor struct {
	name string
	ex   Executor
	env  Environment
}

// executors returns, for each configuration, a cold Runner and a warm
// Pool, failing the test (never skipping) when the sandbox is unavailable.
func executors(t *testing.T) []executor {
	t.Helper()
	var out []executor
	for _, c := range testConfigs(t) {
		r := NewRunner(c.opts)
		env, err := r.Environment(context.Background())
		if err != nil {
			t.Fatalf("%s: sandbox unavailable (the tests need bubblewrap): %v", c.name, err)
		}
		if env.Isolation != IsolationBubblewrap {
			t.Fatalf("%s: isolation %q, want bubblewrap", c.name, env.Isolation)
		}
		t.Logf("%s: mode %s, process limit %v, python %s, binds %v", c.name, env.Mode, env.ProcessLimit, env.Python, env.Binds)
		p := NewPool(c.opts, 1)
		t.Cleanup(func() { _ = p.Close() })
		name := c.name + "/" + string(env.Mode)
		out = append(out, executor{name + "/cold", r, env}, executor{name + "/warm", p, env})
	}
	return out
}

// writeFile writes a test file, failing the test on error.
func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
