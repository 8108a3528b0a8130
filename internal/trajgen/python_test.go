package trajgen

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/atlas-ai/atlas-learn/columnar"
	"github.com/atlas-ai/atlas-learn/internal/sandbox"
)

// pyCheck is one program to run and the output it must print.
type pyCheck struct {
	what     string
	program  string
	want     string
	wantExit int
	// errorInfo, when set, must appear in the output.
	errorInfo string
}

// sampleChecks picks trajectories covering every template with every
// outcome (clean success, fixed success, failure) it reaches, and returns
// the Python checks for them: every run_tests observation (before and after
// fixes, tried-and-reverted changes included) and every exploratory print.
func sampleChecks(t *testing.T, max int) ([]pyCheck, map[string]int) {
	t.Helper()
	cfg := testConfig(0)
	cfg.Seed = 7
	cfg.DistractorRate = 0.6
	g, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	classes := map[string]int{}
	var checks []pyCheck
	for i := 0; i < 20000 && len(seen) < max; i++ {
		tr, runs := g.one(i, true)
		x := parseExtra(t, tr)
		class := "success"
		switch {
		case !tr.Outcome.Success:
			class = "failure"
		case x.Gen.FixedBug != "":
			class = "fixed"
		}
		key := x.Gen.Template + "/" + class
		if seen[key] {
			continue
		}
		seen[key] = true
		classes[class]++
		if got := runs[len(runs)-1].program; got != tr.Solution.Code {
			t.Fatalf("%s: last run's program is not the solution:\n%s\n---\n%s", tr.TrajectoryID, got, tr.Solution.Code)
		}
		for _, r := range runs {
			c := pyCheck{
				what:    fmt.Sprintf("%s (%s) step %d", tr.TrajectoryID, key, r.step),
				program: HarnessProgram(r.program, tr.Task.Input),
				want:    r.observation,
			}
			if tr.Steps[r.step].IsError {
				c.wantExit = 1
			}
			if r.step == len(tr.Steps)-1 {
				c.errorInfo = tr.Outcome.ErrorInfo
			}
			checks = append(checks, c)
		}
		for _, s := range tr.Steps {
			if s.Action == "run_code" {
				checks = append(checks, pyCheck{
					what:    fmt.Sprintf("%s (%s) step %d", tr.TrajectoryID, key, s.Index),
					program: s.Code,
					want:    s.Observation,
				})
			}
		}
		checkBugKind(t, tr, x)
	}
	return checks, classes
}

// checkBugKind checks that an exception bug's error_info names the
// exception its kind promises.
func checkBugKind(t *testing.T, tr columnar.Trajectory, x genExtra) {
	want := map[string]string{"type_error": "TypeError: ", "index_error": "IndexError: "}[x.Gen.Bug]
	if want != "" && !strings.Contains(tr.Outcome.ErrorInfo, want) {
		t.Errorf("%s: bug %s but error_info %q", tr.TrajectoryID, x.Gen.Bug, tr.Outcome.ErrorInfo)
	}
}

// TestObservationsMatchPython runs a sample of generated code through real
// Python: successes pass every example, failures fail exactly as recorded,
// and every observation is the program's real output.
func TestObservationsMatchPython(t *testing.T) {
	checks, classes := sampleChecks(t, 60)
	if classes["success"] < 15 || classes["failure"] < 15 || classes["fixed"] < 10 {
		t.Errorf("sample covers too few outcomes: %v", classes)
	}
	t.Logf("%d Python runs over %v", len(checks), classes)

	o := sandbox.DefaultOptions()
	o.NoSite = true
	o.Limits = sandbox.Limits{Timeout: 20 * time.Second}
	r := sandbox.NewPool(o, 2)
	defer r.Close()
	ctx := context.Background()
	var wg sync.WaitGroup
	work := make(chan pyCheck)
	for range 2 {
		wg.Go(func() {
			for c := range work {
				res, err := r.RunPython(ctx, c.program, nil)
				if err != nil {
					t.Errorf("%s: %v", c.what, err)
					continue
				}
				if res.Stdout != c.want || res.ExitCode != c.wantExit {
					t.Errorf("%s: Python printed (exit %d)\n%s\nstderr:\n%s\nthe trajectory says (exit %d)\n%s",
						c.what, res.ExitCode, res.Stdout, res.Stderr, c.wantExit, c.want)
				}
				if c.errorInfo != "" && !strings.Contains(res.Stdout, c.errorInfo) {
					t.Errorf("%s: error_info %q not in Python's output", c.what, c.errorInfo)
				}
			}
		})
	}
	for _, c := range checks {
		work <- c
	}
	close(work)
	wg.Wait()
}
