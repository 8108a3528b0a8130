package benchcompress

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/atlas-ai/atlas-learn/compress"
)

//go:embed arc_verify.py
var arcVerifyScript []byte

//go:embed lambda_form.py
var lambdaFormScript []byte

// PythonOptions configures `bench compress-python`: library learning on
// real Python corpora, verified by running the rewritten programs.
type PythonOptions struct {
	// ReArc is a file of ARC solvers (re-arc's verifiers.py), one function
	// per task; DSL the directory of the module they import; Tasks the
	// directory of the ARC tasks (<id>.json). "" leaves the row out.
	ReArc, DSL, Tasks string
	// Gen is a trajectory dataset (atlas-learn gen) whose first GenLimit
	// solutions make the gen row ("" leaves it out).
	Gen      string
	GenLimit int
	// Iterations, Arity and Workers are both engines' settings.
	Iterations, Arity, Workers int
	// Cache and Python as in Options (Stitch's virtual environment);
	// NoStitch skips Stitch.
	Cache, Python string
	NoStitch      bool
	// Self is the atlas-learn binary; Config is passed on as --config.
	Self, Config string
	// Keep, when set, is a directory where each row's RESULT.json and
	// corpus are kept.
	Keep string
	// LambdaIterations is the number of abstractions both engines learn on
	// re-arc's lambda-calculus form (0 leaves that table out); each engine
	// gets LambdaTimeout.
	LambdaIterations int
	LambdaTimeout    time.Duration
}

// maxVerifiedGen is the largest gen row whose solutions are run on their
// tasks' examples (two sandbox runs per solution).
const maxVerifiedGen = 10000

// pyRow is one corpus of the python benchmark.
type pyRow struct {
	name string
	args []string // compress arguments after the common ones
}

// pyResult is what the benchmark reads from RESULT.json.
type pyResult struct {
	Ratio     float64 `json:"compression_ratio"`
	DAGRatio  float64 `json:"dag_compression_ratio"`
	ElapsedMS int64   `json:"elapsed_ms"`
	PeakRSS   int64   `json:"peak_rss_bytes"`
	Programs  int     `json:"programs"`
	Python    struct {
		Abstractions map[string]string `json:"abstractions"`
		Concepts     []struct {
			Name      string `json:"name"`
			Python    string `json:"python"`
			Uses      int64  `json:"uses"`
			Calls     int    `json:"calls"`
			Withdrawn string `json:"withdrawn"`
		} `json:"concepts"`
		Verification *struct {
			Programs        int      `json:"programs"`
			OriginalPassed  int      `json:"original_passed"`
			RewrittenPassed int      `json:"rewritten_passed"`
			Same            int      `json:"same"`
			Withdrawn       []string `json:"withdrawn"`
		} `json:"verification"`
	} `json:"python"`
	Abstractions []struct {
		Name string `json:"name"`
	} `json:"abstractions"`
}

// RunPython runs the python benchmark and prints its table and the top
// concepts of each corpus to stdout.
func RunPython(ctx context.Context, stdout, stderr io.Writer, o PythonOptions) error {
	tmp, err := os.MkdirTemp("", "atlas-pybench-")
	if err != nil {
		return fmt.Errorf("temp dir: %w", err)
	}
	defer os.RemoveAll(tmp)
	keep := o.Keep
	if keep == "" {
		keep = tmp
	} else if err := os.MkdirAll(keep, 0o755); err != nil {
		return fmt.Errorf("keep dir: %w", err)
	}
	var rows []pyRow
	if o.ReArc != "" {
		test := filepath.Join(tmp, "arc_verify.py")
		if err := os.WriteFile(test, arcVerifyScript, 0o644); err != nil {
			return fmt.Errorf("write test: %w", err)
		}
		dsl, tasks := absOr(o.DSL), absOr(o.Tasks)
		rows = append(rows, pyRow{name: "re-arc", args: []string{"--unit", "function", "--verify-with", test,
			"--set", "sandbox.library_dirs=[" + dsl + "," + tasks + "]", o.ReArc}})
	}
	if o.Gen != "" {
		args := []string{"--limit", strconv.Itoa(o.GenLimit), o.Gen}
		if o.GenLimit > 0 && o.GenLimit <= maxVerifiedGen {
			// each solution on its task's examples (two sandbox runs each)
			args = append([]string{"--verify-with", "examples"}, args...)
		}
		rows = append(rows, pyRow{name: "gen", args: args})
	}
	var stitchPy, script string
	stitchNote := "Stitch not run (--no-stitch)"
	if !o.NoStitch {
		script = filepath.Join(tmp, "stitch_bench.py")
		if err := os.WriteFile(script, stitchBenchScript, 0o644); err != nil {
			return fmt.Errorf("write script: %w", err)
		}
		if stitchPy, err = stitchVenv(ctx, o.Cache, o.Python, stderr); err != nil {
			stitchNote = fmt.Sprintf("Stitch could not be installed: %v", err)
			stitchPy = ""
		} else {
			stitchNote = "Stitch (stitch-core) run here on the same corpus as the terms our search sees (--corpus-out: the Python encoded as Stitch terms), Stitch's default cost"
		}
	}
	fmt.Fprintf(stdout, "%d iterations, arity %d, %d worker(s). %s.\n", o.Iterations, o.Arity, o.Workers, stitchNote)
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "corpus\tprograms\tours ratio\tprintable/learned\tuses\tcalls\tsolved before\tsolved after\tours DAG ratio\tours s\tours MB\tours ratio (Stitch cost)\tstitch ratio\tstitch s\tstitch MB\t")
	var notes []string
	for _, row := range rows {
		out := filepath.Join(keep, row.name+".json")
		corpus := filepath.Join(keep, row.name+"-corpus.json")
		args := []string{"compress", "--format", "python", "--iterations", strconv.Itoa(o.Iterations),
			"--max-arity", strconv.Itoa(o.Arity), "--workers", strconv.Itoa(max(o.Workers, 1)),
			"--corpus-out", corpus, "--out", out}
		if o.Config != "" {
			args = append([]string{"--config", o.Config}, args...)
		}
		args = append(args, row.args...)
		fmt.Fprintf(stderr, "%s: %s %s\n", row.name, o.Self, strings.Join(args, " "))
		if err := runQuiet(ctx, o.Self, args...); err != nil {
			return fmt.Errorf("%s: ours: %w", row.name, err)
		}
		var r pyResult
		if err := readJSON(out, &r); err != nil {
			return fmt.Errorf("%s: %w", row.name, err)
		}
		var uses int64
		calls := 0
		for _, c := range r.Python.Concepts {
			uses += c.Uses
			calls += c.Calls
		}
		before, after := "-", "-"
		if v := r.Python.Verification; v != nil {
			before = fmt.Sprintf("%d/%d", v.OriginalPassed, v.Programs)
			after = fmt.Sprintf("%d/%d", v.RewrittenPassed, v.Programs)
			if len(v.Withdrawn) > 0 {
				notes = append(notes, fmt.Sprintf("%s: verification withdrew %s", row.name, strings.Join(v.Withdrawn, ", ")))
			}
		}
		// our engine on the same lambda-calculus corpus with Stitch's cost
		stOut := filepath.Join(keep, row.name+"-stitchcost.json")
		if err := runQuiet(ctx, o.Self, "compress", "--format", "stitch", "--iterations", strconv.Itoa(o.Iterations),
			"--max-arity", strconv.Itoa(o.Arity), "--workers", strconv.Itoa(max(o.Workers, 1)), "--out", stOut, corpus); err != nil {
			return fmt.Errorf("%s: ours on the lambda-calculus form: %w", row.name, err)
		}
		var rs pyResult
		if err := readJSON(stOut, &rs); err != nil {
			return fmt.Errorf("%s: %w", row.name, err)
		}
		sr, ss, sm := "-", "-", "-"
		if stitchPy != "" {
			empty := filepath.Join(tmp, "empty.json")
			if err := os.WriteFile(empty, []byte("[]"), 0o644); err != nil {
				return err
			}
			th, err := runStitch(ctx, stitchPy, script, tmp, [2]string{corpus, empty},
				benchRow{Iterations: o.Iterations, Arity: o.Arity}, max(o.Workers, 1))
			if err != nil {
				sr = "failed"
				notes = append(notes, fmt.Sprintf("%s: Stitch failed: %s", row.name, firstLine(err.Error())))
			} else {
				sr, ss, sm = fmt.Sprintf("%.2f", th.Ratio), fmt.Sprintf("%.1f", th.Seconds), fmt.Sprintf("%.0f", float64(th.PeakBytes)/1e6)
			}
		}
		fmt.Fprintf(tw, "%s\t%d\t%.2f\t%d/%d\t%d\t%d\t%s\t%s\t%.2f\t%.1f\t%.0f\t%.2f\t%s\t%s\t%s\t\n", row.name, r.Programs, r.Ratio,
			len(r.Python.Abstractions), len(r.Abstractions), uses, calls, before, after, r.DAGRatio,
			float64(r.ElapsedMS)/1000, float64(r.PeakRSS)/1e6, rs.Ratio, sr, ss, sm)
		var top strings.Builder
		for i, c := range r.Python.Concepts {
			if i == 10 {
				break
			}
			fmt.Fprintf(&top, "# %s: %d uses, %d calls%s\n%s\n", c.Name, c.Uses, c.Calls, withdrawnNote(c.Withdrawn), strings.TrimRight(c.Python, "\n"))
		}
		notes = append(notes, fmt.Sprintf("top concepts of %s:\n%s", row.name, top.String()))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if o.ReArc != "" && o.LambdaIterations > 0 {
		lnotes, err := lambdaTable(ctx, stdout, stderr, o, tmp, keep, stitchPy, script)
		if err != nil {
			return err
		}
		notes = append(lnotes, notes...)
	}
	for _, n := range notes {
		fmt.Fprintln(stdout, "\n"+n)
	}
	return nil
}

func withdrawnNote(w string) string {
	if w == "" {
		return ""
	}
	return " (withdrawn: " + w + ")"
}

func absOr(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}

// stitchError is the line of a failed Stitch run that says why: its
// exception, or the last line it printed.
func stitchError(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	for _, l := range lines {
		if i := strings.Index(l, "StitchException: "); i >= 0 {
			return strings.TrimSpace(l[i+len("StitchException: "):])
		}
	}
	return strings.TrimSpace(lines[len(lines)-1])
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

func runQuiet(ctx context.Context, bin string, args ...string) error {
	var errb bytes.Buffer
	c := exec.CommandContext(ctx, bin, args...)
	c.Stderr = &errb
	if err := c.Run(); err != nil {
		tail := errb.String()
		if len(tail) > 2000 {
			tail = tail[len(tail)-2000:]
		}
		return fmt.Errorf("%w: %s", err, tail)
	}
	return nil
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read result: %w", err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("decode %s: %w", path, err)
	}
	return nil
}

// lambdaTable runs both engines on re-arc in the lambda-calculus form the
// issue compared against (every local inlined at each use) and prints
// each one's ratio of tree costs (what Stitch reports) beside its ratio of
// DAG costs (a subterm repeated within a program counted once, as the
// program is written with locals): inlining a local read k times writes
// its expression k times, and the tree ratio counts compressing those
// copies again.
func lambdaTable(ctx context.Context, stdout, stderr io.Writer, o PythonOptions, tmp, keep, stitchPy, script string) ([]string, error) {
	conv := filepath.Join(tmp, "lambda_form.py")
	if err := os.WriteFile(conv, lambdaFormScript, 0o644); err != nil {
		return nil, fmt.Errorf("write lambda_form.py: %w", err)
	}
	corpus := filepath.Join(keep, "re-arc-lambda-corpus.json")
	var errb bytes.Buffer
	c := exec.CommandContext(ctx, o.Python, conv, o.ReArc, corpus)
	c.Stderr = &errb
	if err := c.Run(); err != nil {
		return nil, fmt.Errorf("re-arc lambda form: %w: %s", err, errb.String())
	}
	var programs []string
	if err := readJSON(corpus, &programs); err != nil {
		return nil, fmt.Errorf("re-arc lambda form: %w", err)
	}
	if len(programs) == 0 {
		return []string{fmt.Sprintf("re-arc lambda form: no function could be written in it (%s): table left out", strings.TrimSpace(errb.String()))}, nil
	}
	cm := compress.DefaultCost()
	var treeIn, dagIn int64
	for i, p := range programs {
		t, err := compress.ProgramCost(p, cm)
		if err != nil {
			return nil, fmt.Errorf("re-arc lambda form: program %d: %w", i, err)
		}
		d, err := compress.DAGCost(p, cm)
		if err != nil {
			return nil, fmt.Errorf("re-arc lambda form: program %d: %w", i, err)
		}
		treeIn, dagIn = treeIn+t, dagIn+d
	}
	dagOf := func(rw []string) (int64, error) {
		var n int64
		for i, p := range rw {
			d, err := compress.DAGCost(p, cm)
			if err != nil {
				return 0, fmt.Errorf("rewritten program %d: %w", i, err)
			}
			n += d
		}
		return n, nil
	}
	var notes []string
	fmt.Fprintf(stdout, "\nre-arc in the lambda-calculus form (%s: every local inlined at each use), Stitch's cost, %d iterations, arity %d: tree cost %d, DAG cost %d (%.2f x)\n",
		strings.TrimSpace(errb.String()), o.LambdaIterations, o.Arity, treeIn, dagIn, float64(treeIn)/float64(dagIn))
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "engine\tlearned\ttree ratio\tDAG ratio\ts\tMB\t")
	// ours
	out := filepath.Join(keep, "re-arc-lambda.json")
	octx, cancel := context.WithTimeout(ctx, o.LambdaTimeout)
	err := runQuiet(octx, o.Self, "compress", "--format", "stitch", "--iterations", strconv.Itoa(o.LambdaIterations),
		"--max-arity", strconv.Itoa(o.Arity), "--workers", strconv.Itoa(max(o.Workers, 1)), "--out", out, corpus)
	timedOut := err != nil && ctx.Err() == nil && errors.Is(octx.Err(), context.DeadlineExceeded)
	cancel()
	switch {
	case timedOut:
		fmt.Fprintf(tw, "ours\t-\tdid not finish in %s\t-\t-\t-\t\n", o.LambdaTimeout)
	case err != nil:
		return nil, fmt.Errorf("re-arc lambda form: ours: %w", err)
	default:
		var r struct {
			pyResult
			Rewritten []string `json:"rewritten"`
		}
		if err := readJSON(out, &r); err != nil {
			return nil, fmt.Errorf("re-arc lambda form: %w", err)
		}
		d, err := dagOf(r.Rewritten)
		if err != nil {
			return nil, fmt.Errorf("re-arc lambda form: ours: %w", err)
		}
		fmt.Fprintf(tw, "ours\t%d\t%.2f\t%.2f\t%.1f\t%.0f\t\n", len(r.Abstractions), r.Ratio, float64(dagIn)/float64(d),
			float64(r.ElapsedMS)/1000, float64(r.PeakRSS)/1e6)
	}
	if stitchPy != "" {
		empty := filepath.Join(tmp, "empty.json")
		if err := os.WriteFile(empty, []byte("[]"), 0o644); err != nil {
			return nil, err
		}
		row := benchRow{Iterations: o.LambdaIterations, Arity: o.Arity}
		run := func(flags ...string) (stitchNumbers, bool, error) {
			sctx, cancel := context.WithTimeout(ctx, o.LambdaTimeout)
			defer cancel()
			th, err := runStitch(sctx, stitchPy, script, tmp, [2]string{corpus, empty}, row, max(o.Workers, 1), flags...)
			return th, err != nil && ctx.Err() == nil && errors.Is(sctx.Err(), context.DeadlineExceeded), err
		}
		th, late, err := run("rewritten")
		label := "stitch"
		if err != nil && !late && strings.Contains(err.Error(), "assertion") {
			notes = append(notes, fmt.Sprintf("re-arc lambda form: Stitch fails its own consistency check (%s); run again with no_mismatch_check", stitchError(err.Error())))
			label = "stitch (no_mismatch_check)"
			th, late, err = run("rewritten", "no-mismatch-check")
		}
		switch {
		case late:
			fmt.Fprintf(tw, "%s\t-\tdid not finish in %s\t-\t-\t-\t\n", label, o.LambdaTimeout)
		case err != nil:
			fmt.Fprintf(tw, "%s\t-\tfailed\t-\t-\t-\t\n", label)
			notes = append(notes, fmt.Sprintf("re-arc lambda form: Stitch failed: %s", firstLine(err.Error())))
		default:
			d, err := dagOf(th.Rewritten)
			if err != nil {
				return nil, fmt.Errorf("re-arc lambda form: stitch: %w", err)
			}
			fmt.Fprintf(tw, "%s\t%d\t%.2f\t%.2f\t%.1f\t%.0f\t\n", label, th.Iterations, th.Ratio, float64(dagIn)/float64(d), th.Seconds, float64(th.PeakBytes)/1e6)
		}
	}
	return notes, tw.Flush()
}
