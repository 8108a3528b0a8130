package jobs_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/atlas-ai/atlas-learn/compress"
	"github.com/atlas-ai/atlas-learn/compress/pyfront"
	"github.com/atlas-ai/atlas-learn/internal/trajgen"
	"github.com/atlas-ai/atlas-learn/jobs"
)

// TestCompressPythonFunctionsVerified learns concepts from a file of
// straight-line functions over a small DSL (one program per function),
// and runs every original and rewritten program in the sandbox.
func TestCompressPythonFunctionsVerified(t *testing.T) {
	if _, err := exec.LookPath("bwrap"); err != nil {
		t.Skip("bwrap not installed")
	}
	cfg := config(t, "unused", "unused")
	lib, err := filepath.Abs("testdata/pycorpus/lib")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Sandbox.LibraryDirs = []string{lib}
	res, err := jobs.Compress(context.Background(), jobs.CompressOptions{Format: "python", Unit: "function",
		Inputs: []string{"testdata/pycorpus/solvers.py"}, Iterations: 5, MaxArity: 3, Workers: 1,
		VerifyWith: "testdata/pycorpus/check.py", Sandbox: cfg.Sandbox, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	py := res.Python
	if res.Programs != 8 || len(py.Rewritten) != 8 || py.Programs[0] != "testdata/pycorpus/solvers.py:solve_a" {
		t.Fatalf("programs %d %v", res.Programs, py.Programs)
	}
	if len(res.Abstractions) == 0 || len(py.Abstractions) != len(res.Abstractions) {
		t.Fatalf("learned %d, printable %d: %v", len(res.Abstractions), len(py.Abstractions), py.Errors)
	}
	dsl := []string{"plus(", "times(", "rev(", "fmap(", "keep(", "rbind(", "total(", "first("}
	for _, c := range py.Concepts {
		calls := false
		for _, f := range dsl {
			calls = calls || strings.Contains(c.Python, f)
		}
		if !calls {
			t.Errorf("concept %s calls nothing of the DSL:\n%s", c.Name, c.Python)
		}
	}
	for i, m := range py.Rewritten {
		if !strings.HasPrefix(m, "from minidsl import *\n") {
			t.Errorf("program %d is not a self-contained module:\n%s", i, m)
		}
	}
	v := py.Verification
	if v == nil || v.Programs != 8 || v.OriginalPassed != 8 || v.RewrittenPassed != 8 || v.Same != 8 || len(v.Differences) != 0 {
		t.Fatalf("verification %+v", v)
	}
}

// TestCompressPythonVerifyWithdraws: a test that tells a rewritten program
// from the original (it looks for the concept's name in the module)
// withdraws the concepts it calls, after which the runs agree.
func TestCompressPythonVerifyWithdraws(t *testing.T) {
	if _, err := exec.LookPath("bwrap"); err != nil {
		t.Skip("bwrap not installed")
	}
	cfg := config(t, "unused", "unused")
	lib, err := filepath.Abs("testdata/pycorpus/lib")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Sandbox.LibraryDirs = []string{lib}
	test := filepath.Join(t.TempDir(), "picky.py")
	if err := os.WriteFile(test, []byte("import sys\nprint('fn_' in sys.stdin.read())\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := jobs.Compress(context.Background(), jobs.CompressOptions{Format: "python", Unit: "function",
		Inputs: []string{"testdata/pycorpus/solvers.py"}, Iterations: 3, MaxArity: 3, Workers: 1,
		VerifyWith: test, Sandbox: cfg.Sandbox, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	v := res.Python.Verification
	if v == nil || len(v.Withdrawn) == 0 || len(v.Differences) == 0 || v.Same != v.Programs {
		t.Fatalf("verification %+v", v)
	}
	for _, m := range res.Python.Rewritten {
		if strings.Contains(m, "fn_") {
			t.Errorf("a withdrawn concept is still called:\n%s", m)
		}
	}
}

// TestCompressPythonUnprintableFails: a library concept that cannot be a
// Python function makes compress fail, naming it, rather than exit 0.
func TestCompressPythonUnprintableFails(t *testing.T) {
	dir := t.TempDir()
	libFile := filepath.Join(dir, "lib.json")
	b, err := json.Marshal(map[string]any{"abstractions": []compress.Abstraction{{Name: "fn_0", Body: "(seq (= #0 (call rev (args #1))) #2)", Arity: 3}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(libFile, b, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = jobs.Compress(context.Background(), jobs.CompressOptions{Format: "python", Unit: "function",
		Inputs: []string{"testdata/pycorpus/solvers.py"}, Iterations: 0, MaxArity: 3, Workers: 1,
		Library: libFile, Logger: quiet()})
	if err == nil || !strings.Contains(err.Error(), "fn_0") {
		t.Fatalf("err = %v, want a failure naming fn_0", err)
	}
}

// TestCompressPythonFileOfFunctions: the same functions as one file unit
// are one program, so nothing is learned from them; as function units they
// are many.
func TestCompressPythonUnits(t *testing.T) {
	for _, tc := range []struct {
		unit     string
		programs int
	}{{"file", 1}, {"function", 8}} {
		res, err := jobs.Compress(context.Background(), jobs.CompressOptions{Format: "python", Unit: tc.unit,
			Inputs: []string{"testdata/pycorpus/solvers.py"}, Iterations: 2, MaxArity: 3, Workers: 1, Logger: quiet()})
		if err != nil {
			t.Fatal(err)
		}
		if res.Programs != tc.programs {
			t.Errorf("unit %s: %d programs, want %d", tc.unit, res.Programs, tc.programs)
		}
	}
}

// TestCompressPythonReArcExcerpt: on real straight-line solvers over a
// domain library the concepts are compositions of the library's calls,
// every one prints as a function, and every rewritten module is Python.
func TestCompressPythonReArcExcerpt(t *testing.T) {
	res, err := jobs.Compress(context.Background(), jobs.CompressOptions{Format: "python", Unit: "function",
		Inputs: []string{"testdata/rearc_excerpt.py"}, Iterations: 6, MaxArity: 3, Workers: 1, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	py := res.Python
	if res.Programs != 30 || len(res.Abstractions) < 3 || len(py.Abstractions) != len(res.Abstractions) {
		t.Fatalf("%d programs, %d learned, %d printable", res.Programs, len(res.Abstractions), len(py.Abstractions))
	}
	call := regexp.MustCompile(`\b([A-Za-z_][A-Za-z_0-9]*)\(`)
	for _, c := range py.Concepts {
		domain := 0
		for _, m := range call.FindAllStringSubmatch(c.Python, -1) {
			if !regexp.MustCompile(`^(p\d+|fn_\d+)$`).MatchString(m[1]) {
				domain++
			}
		}
		if domain < 1 || c.Uses < 2 {
			t.Errorf("concept %s (%d uses) is no composition of the library's calls:\n%s", c.Name, c.Uses, c.Python)
		}
	}
	if res.CompressionRatio <= 1 {
		t.Errorf("ratio %v", res.CompressionRatio)
	}
	for i, m := range py.Rewritten {
		if err := pyfront.Check(context.Background(), []byte(m)); err != nil || !strings.HasPrefix(m, "from dsl import *") {
			t.Errorf("program %d (%v):\n%s", i, err, m)
		}
	}
}

// TestCompressPythonVerifyExamples checks the solutions of a generated
// dataset on their tasks' examples, before and after the rewrite.
func TestCompressPythonVerifyExamples(t *testing.T) {
	if _, err := exec.LookPath("bwrap"); err != nil {
		t.Skip("bwrap not installed")
	}
	gc := trajgen.DefaultConfig()
	gc.N = 120
	out := filepath.Join(t.TempDir(), "gen")
	cfg := config(t, "unused", "unused")
	if _, err := jobs.Gen(context.Background(), jobs.GenOptions{Gen: gc, Output: out, Workers: 1, Parquet: cfg.Parquet}, quiet()); err != nil {
		t.Fatal(err)
	}
	res, err := jobs.Compress(context.Background(), jobs.CompressOptions{Format: "python", Inputs: []string{out},
		Iterations: 4, MaxArity: 3, Workers: 2, VerifyWith: jobs.VerifyExamples, Sandbox: cfg.Sandbox, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	v := res.Python.Verification
	if v == nil || v.Programs != res.Programs || v.OriginalPassed != v.Programs || v.RewrittenPassed != v.Programs || v.Same != v.Programs {
		t.Fatalf("programs %d, verification %+v", res.Programs, v)
	}
}

// TestCompressPythonMapReduce: the file protocol learns, on python shards,
// the library compress learns (files without shared helpers).
func TestCompressPythonMapReduce(t *testing.T) {
	src, err := os.ReadFile("testdata/pycorpus/solvers.py")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	parts := strings.Split(string(src), "\n\n\ndef ")
	var shards [2]string
	for k := range shards {
		shards[k] = filepath.Join(dir, fmt.Sprintf("shard%d", k))
		if err := os.Mkdir(shards[k], 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for i, p := range parts[1:] {
		f := filepath.Join(shards[i*2/len(parts[1:])], fmt.Sprintf("%02d.py", i))
		if err := os.WriteFile(f, []byte("from minidsl import *\n\n\ndef "+p), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ctx := context.Background()
	want, err := jobs.Compress(ctx, jobs.CompressOptions{Format: "python", Inputs: shards[:], Iterations: 3, MaxArity: 3, Workers: 1, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	lib := filepath.Join(dir, "lib.json")
	var got *jobs.LibraryFile
	for it := 0; it < 3; it++ {
		var sums []string
		first := 0
		for k, sh := range shards {
			sum := filepath.Join(dir, fmt.Sprintf("sum%d.json", k))
			l := lib
			if it == 0 {
				l = ""
			}
			if err := jobs.CompressMap(ctx, jobs.MapOptions{Format: "python", Input: sh, Shard: k, FirstIndex: first, Library: l, Summary: sum, Workers: 1}); err != nil {
				t.Fatal(err)
			}
			n, _ := os.ReadDir(sh)
			first += len(n)
			sums = append(sums, sum)
		}
		l := lib
		if it == 0 {
			l = ""
		}
		if got, err = jobs.CompressReduce(ctx, jobs.ReduceOptions{Format: "python", Summaries: sums, Library: l, Out: lib, MaxArity: 3, Workers: 1}); err != nil {
			t.Fatal(err)
		}
	}
	if len(got.Abstractions) != len(want.Abstractions) || len(want.Abstractions) == 0 {
		t.Fatalf("map/reduce learned %d, compress %d", len(got.Abstractions), len(want.Abstractions))
	}
	for i, a := range want.Abstractions {
		if got.Abstractions[i].Body != a.Body {
			t.Errorf("iteration %d: map/reduce %s, compress %s", i, got.Abstractions[i].Body, a.Body)
		}
	}
}
