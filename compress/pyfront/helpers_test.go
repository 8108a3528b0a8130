package pyfront

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/atlas-ai/atlas-learn/internal/sandbox"
)

// sample is one test program with its input.
type sample struct {
	name  string
	src   string
	input string
}

func corpus(t *testing.T) []sample {
	t.Helper()
	files, err := filepath.Glob("testdata/*.py")
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata: %v", err)
	}
	var out []sample
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		in, err := os.ReadFile(strings.TrimSuffix(f, ".py") + ".in")
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, sample{name: filepath.Base(f), src: string(src), input: string(in)})
	}
	return out
}

var (
	runnerOnce sync.Once
	runner     *sandbox.Pool
)

// run executes Python code in the sandbox, in a warm pool kept for the
// test binary's life. It fails the test (never skips) when python3 or
// bubblewrap is missing.
func run(t *testing.T, code, stdin string) sandbox.Result {
	t.Helper()
	runnerOnce.Do(func() {
		o := sandbox.DefaultOptions()
		o.NoSite = true
		o.Limits = sandbox.Limits{Timeout: 20 * time.Second}
		runner = sandbox.NewPool(o, 2)
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := runner.RunPython(ctx, code, []byte(stdin))
	if err != nil {
		t.Fatalf("run python: %v", err)
	}
	return res
}

func mustEncode(t *testing.T, src string) string {
	t.Helper()
	e, err := Encode(context.Background(), []byte(src))
	if err != nil {
		t.Fatalf("encode: %v\n%s", err, src)
	}
	return e
}
