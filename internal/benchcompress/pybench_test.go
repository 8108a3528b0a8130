package benchcompress

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/atlas-ai/atlas-learn/compress"
)

// TestLambdaForm checks the lambda-calculus form the python benchmark
// gives both engines: every local inlined at each use, calls curried,
// parameters as de Bruijn variables, other functions left out.
func TestLambdaForm(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Fatalf("python3 is needed to run lambda_form.py: %v", err)
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "solvers.py")
	if err := os.WriteFile(src, []byte(`from dsl import *

def solve_a(I):
    x1 = objects(I, T, F, T)
    x2 = argmax(x1, size)
    x3 = remove(x2, x1)
    return paint(I, merge(x3))

def solve_b(I, J):
    x1 = branch(portrait(I), hmirror, vmirror)(J)
    return astuple(x1, (0, -1))

def solve_c(I):
    for x in I:
        pass
    return I
`), 0o644); err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(dir, "lambda_form.py")
	if err := os.WriteFile(script, lambdaFormScript, 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out.json")
	msg, err := exec.Command(py, script, src, out).CombinedOutput()
	if err != nil {
		t.Fatalf("lambda_form.py: %v: %s", err, msg)
	}
	if got, want := string(msg), "programs 2 skipped 1\n"; got != want {
		t.Errorf("lambda_form.py said %q, want %q", got, want)
	}
	var got []string
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"(lam (paint $0 (merge (remove (argmax (objects $0 T F T) size) (objects $0 T F T)))))",
		"(lam (lam (astuple ((branch (portrait $1) hmirror vmirror) $0) (tuple 0 -1))))",
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("lambda form\n got %q\nwant %q", got, want)
	}
	// the local x1 of solve_a, read twice, is written twice: its tree cost
	// counts (objects $0 T F T) twice, its DAG cost once
	tree, err := compress.ProgramCost(got[0], compress.DefaultCost())
	if err != nil {
		t.Fatal(err)
	}
	dag, err := compress.DAGCost(got[0], compress.DefaultCost())
	if err != nil {
		t.Fatal(err)
	}
	if objects := int64(4 + 5*100); tree-dag != objects-100 {
		t.Errorf("tree %d, DAG %d: want them %d apart (the second copy of objects(...) as one variable)", tree, dag, objects-100)
	}
}

func TestStitchError(t *testing.T) {
	tests := []struct{ in, want string }{
		{"exit status 1: Traceback (most recent call last):\n  File x\nstitch_core.StitchException: Rust backend panicked with exception: assertion failed\n", "Rust backend panicked with exception: assertion failed"},
		{"exit status 2: usage\nbad flag\n", "bad flag"},
	}
	for _, tt := range tests {
		if got := stitchError(tt.in); got != tt.want {
			t.Errorf("stitchError(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
