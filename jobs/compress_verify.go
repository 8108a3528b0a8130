package jobs

import (
	"context"
	_ "embed"
	"fmt"
	"log/slog"
	"os"
	"slices"

	"golang.org/x/sync/errgroup"

	"github.com/atlas-ai/atlas-learn/compress"
	"github.com/atlas-ai/atlas-learn/internal/sandbox"
)

//go:embed examples_verify.py
var examplesVerifyScript []byte

// VerifyExamples is the --verify-with value that runs each program of a
// trajectory dataset on its task's examples (examples_verify.py).
const VerifyExamples = "examples"

// Verification is the outcome of running each original and rewritten
// program with the test program of --verify-with.
type Verification struct {
	// Test is the test program's path.
	Test string `json:"test"`
	// Isolation is how the runs were isolated.
	Isolation string `json:"isolation"`
	Programs  int    `json:"programs"`
	// OriginalPassed and RewrittenPassed count the runs that exited 0 (the
	// test passed), the latter after any concept was withdrawn.
	OriginalPassed  int `json:"original_passed"`
	RewrittenPassed int `json:"rewritten_passed"`
	// Same counts the programs whose rewritten run printed the same and
	// exited the same as the original.
	Same int `json:"same"`
	// Differences lists each program whose rewritten run differed, with the
	// concepts it called (which were withdrawn) and whether withdrawing
	// them made the runs agree.
	Differences []VerifyDifference `json:"differences,omitempty"`
	// Withdrawn lists the concepts withdrawn: inlined wherever they were
	// called.
	Withdrawn []string `json:"withdrawn,omitempty"`
}

// VerifyDifference is one program whose rewritten run differed.
type VerifyDifference struct {
	Program  string   `json:"program"`
	Concepts []string `json:"concepts"`
	Original string   `json:"original"`
	Rewrite  string   `json:"rewritten"`
	Resolved bool     `json:"resolved"`
}

// runOutcome is what a verification run is compared by.
type runOutcome struct {
	stdout string
	exit   int
	limit  sandbox.Limit
}

func (r runOutcome) String() string {
	s := r.stdout
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return fmt.Sprintf("exit %d %s %q", r.exit, r.limit, s)
}

// verifyPython runs the test program (Python, run as main.py in the
// sandbox with the module on standard input and the program's name, label
// and task input as arguments; VerifyExamples for the built-in one) on every original and rewritten module, withdraws
// the concepts called by a rewritten program whose run differs, prints
// again and repeats until the runs agree. It returns the final rendering.
func verifyPython(ctx context.Context, ex executor, env sandbox.Environment, test string, res *compress.Result,
	progs []PyProgram, r *PythonRendering, workers int, log *slog.Logger) (*PythonRendering, error) {
	code := examplesVerifyScript
	if test != VerifyExamples {
		var err error
		if code, err = os.ReadFile(test); err != nil {
			return nil, fmt.Errorf("--verify-with: %w", err)
		}
	}
	run := func(mods []string, which []int) ([]runOutcome, error) {
		out := make([]runOutcome, len(which))
		if len(which) == 0 {
			return out, nil
		}
		g, gctx := errgroup.WithContext(ctx)
		g.SetLimit(max(workers, 1))
		for k, i := range which {
			g.Go(func() error {
				rr, err := ex.Run(gctx, sandbox.Program{Code: string(code), Stdin: []byte(mods[i]),
					Args: []string{progs[i].Name, progs[i].Label(), progs[i].TaskInput}})
				if err != nil {
					return fmt.Errorf("verify %s: %w", progs[i].Label(), err)
				}
				out[k] = runOutcome{stdout: rr.Stdout, exit: rr.ExitCode, limit: rr.Limit}
				return nil
			})
		}
		return out, g.Wait()
	}
	// the programs of the corpus (not the shared helpers' definitions)
	var all []int
	originals := make([]string, len(progs))
	for i := range progs {
		if progs[i].Helper == "" {
			all = append(all, i)
		}
		originals[i] = progs[i].Original
	}
	orig := make([]runOutcome, len(progs))
	rew := make([]runOutcome, len(progs))
	for _, pass := range []struct {
		dst  []runOutcome
		mods []string
	}{{orig, originals}, {rew, r.Rewritten}} {
		outs, err := run(pass.mods, all)
		if err != nil {
			return nil, err
		}
		for k, i := range all {
			pass.dst[i] = outs[k]
		}
	}
	v := &Verification{Test: test, Isolation: string(env.Isolation), Programs: len(all)}
	withdrawn := map[string]string{}
	diffAt := map[int]*VerifyDifference{}
	for round := 0; ; round++ {
		var bad []int
		for _, i := range all {
			if orig[i] != rew[i] {
				bad = append(bad, i)
			}
		}
		newly := map[string]bool{}
		for _, i := range bad {
			d := diffAt[i]
			if d == nil {
				d = &VerifyDifference{Program: progs[i].Label(), Original: orig[i].String(), Rewrite: rew[i].String()}
				diffAt[i] = d
			}
			for _, c := range r.called[i] {
				if withdrawn[c] == "" {
					newly[c] = true
				}
				if !slices.Contains(d.Concepts, c) {
					d.Concepts = append(d.Concepts, c)
				}
			}
		}
		if len(bad) == 0 || len(newly) == 0 {
			break
		}
		for c := range newly {
			withdrawn[c] = "a rewritten program that calls it ran differently from the original"
			v.Withdrawn = append(v.Withdrawn, c)
			log.Warn("verification withdrew a concept", "concept", c)
		}
		before := r.Rewritten
		r = renderPython(ctx, res, progs, r.Helpers, workers, r.pureCalls, withdrawn)
		var again []int
		for _, i := range all {
			if r.Rewritten[i] != before[i] {
				again = append(again, i)
			}
		}
		outs, err := run(r.Rewritten, again)
		if err != nil {
			return nil, err
		}
		for k, i := range again {
			rew[i] = outs[k]
		}
	}
	slices.Sort(v.Withdrawn)
	for _, i := range all {
		if orig[i].exit == 0 && orig[i].limit == sandbox.LimitNone {
			v.OriginalPassed++
		}
		if rew[i].exit == 0 && rew[i].limit == sandbox.LimitNone {
			v.RewrittenPassed++
		}
		if orig[i] == rew[i] {
			v.Same++
		}
		if d := diffAt[i]; d != nil {
			d.Resolved = orig[i] == rew[i]
			v.Differences = append(v.Differences, *d)
		}
	}
	r.Verification = v
	return r, nil
}
