// Package benchcompress is the harness of `atlas-learn bench compress`: it
// runs atlas-learn's compress and Stitch (the stitch-core wheel, in a
// virtual environment it creates) as separate processes on the same
// corpora and settings, and prints their compression ratios, times and
// peak memory side by side.
package benchcompress

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"text/tabwriter"

	"github.com/atlas-ai/atlas-learn/columnar/storage"
	"github.com/atlas-ai/atlas-learn/internal/trajgen"
	"github.com/atlas-ai/atlas-learn/jobs"
)

//go:embed stitch_bench.py
var stitchBenchScript []byte

// benchRow is one corpus and setting of the comparison with Stitch.
type benchRow struct {
	Domain     string
	Arity      int
	Iterations int
	Holdout    float64
	Seed       uint64
	// Domains lists the corpora concatenated for the row (default: Domain).
	Domains []string
	// Published is Stitch's published result for the row (ratio, held-out
	// ratio, seconds, peak MB), used when Stitch cannot be run here.
	Published stitchNumbers
	Source    string
}

// stitchNumbers is one measurement of either engine.
type stitchNumbers struct {
	Ratio        float64 `json:"compression_ratio"`
	HoldoutRatio float64 `json:"holdout_compression_ratio"`
	Seconds      float64 `json:"seconds"`
	PeakBytes    int64   `json:"peak_rss_bytes"`
	FinalCost    int64   `json:"final_cost"`
	// Iterations and Rewritten: abstractions learned, and the rewritten
	// programs when asked for (the "rewritten" flag).
	Iterations int      `json:"iterations"`
	Rewritten  []string `json:"rewritten"`
}

// benchRows are the rows of the table (Stitch's README numbers and
// the POPL 2023 paper's Table 2, whose numbers are means over 50 seeds).
func benchRows() []benchRow {
	rows := []benchRow{
		{Domain: "nuts-bolts", Arity: 3, Iterations: 3, Published: stitchNumbers{Ratio: 6.06, FinalCost: 316890}, Source: "README"},
		{Domain: "nuts-bolts", Arity: 3, Iterations: 10, Published: stitchNumbers{Ratio: 11.93, Seconds: 0.227, FinalCost: 160946}, Source: "README"},
		{Domain: "dials", Arity: 2, Iterations: 10, Published: stitchNumbers{Ratio: 4.04, FinalCost: 891681}, Source: "README"},
		{Domain: "furniture", Arity: 2, Iterations: 10, Published: stitchNumbers{Ratio: 4.26, FinalCost: 1017628}, Source: "README"},
		{Domain: "bridge", Arity: 2, Iterations: 10, Published: stitchNumbers{Ratio: 4.54, FinalCost: 762704}, Source: "README"},
	}
	paper := []struct {
		d             string
		tr, ho, s, mb float64
	}{
		{"nuts-bolts", 12.00, 11.57, 0.20, 11}, {"dials", 4.03, 3.91, 1.43, 31}, {"furniture", 4.95, 4.85, 2.48, 32},
		{"wheels", 4.28, 4.14, 1.27, 27}, {"bridge", 4.36, 3.78, 14.71, 199}, {"house", 8.92, 8.85, 11.43, 244},
	}
	for _, p := range paper {
		rows = append(rows, benchRow{Domain: p.d, Arity: 3, Iterations: 10, Holdout: 0.2, Seed: 1,
			Published: stitchNumbers{Ratio: p.tr, HoldoutRatio: p.ho, Seconds: p.s, PeakBytes: int64(p.mb * 1e6)}, Source: "paper"})
	}
	// a larger corpus: all six domains together (no published numbers)
	rows = append(rows, benchRow{Domain: "all-six", Arity: 3, Iterations: 10,
		Domains: []string{"nuts-bolts", "dials", "furniture", "wheels", "bridge", "house"}, Source: "none"})
	// our own corpus: Python solutions of generated trajectories, encoded by
	// the tree-sitter frontend into Stitch syntax, so both engines read it
	rows = append(rows, benchRow{Domain: genPythonDomain, Arity: 3, Iterations: 10, Source: "none"})
	return rows
}

// stitchVenv makes sure a virtual environment with stitch-core exists and
// returns its python.
func stitchVenv(ctx context.Context, cache, python string, log io.Writer) (string, error) {
	venv := filepath.Join(cache, "stitch-venv")
	py := filepath.Join(venv, "bin", "python")
	check := exec.CommandContext(ctx, py, "-c", "import stitch_core")
	if check.Run() == nil {
		return py, nil
	}
	fmt.Fprintf(log, "installing stitch-core into %s\n", venv)
	if err := os.MkdirAll(cache, 0o755); err != nil {
		return "", fmt.Errorf("cache dir: %w", err)
	}
	for _, args := range [][]string{{python, "-m", "venv", venv}, {py, "-m", "pip", "install", "-q", "stitch-core"}} {
		c := exec.CommandContext(ctx, args[0], args[1:]...)
		c.Stdout, c.Stderr = log, log
		if err := c.Run(); err != nil {
			return "", fmt.Errorf("%v: %w", args, err)
		}
	}
	return py, nil
}

// Options holds the settings of `bench compress`.
type Options struct {
	// Data is the directory holding cogsci/*.json; Cache where Stitch's
	// virtual environment is kept; Python the interpreter that creates it.
	Data, Cache, Python string
	// Only runs only the rows of this domain ("" for all).
	Only string
	// Published compares with Stitch's published numbers instead of
	// running it.
	Published bool
	// Seeds averages held-out rows over seeds 1..Seeds; Repeat keeps the
	// fastest of Repeat runs; Workers is both engines' thread count.
	Seeds, Repeat, Workers int
	// GenPython is the number of generated Python solutions in the
	// gen-python row (0 leaves the row out).
	GenPython int
	// Self is the atlas-learn binary to run as our engine.
	Self string
	// Parquet configures the generated dataset of the gen-python row.
	Parquet jobs.ParquetConfig
}

const genPythonDomain = "gen-python"

// genPythonCorpus generates trajectories (seed 1), encodes the first n
// successful solutions and writes them as a Stitch-format corpus.
func genPythonCorpus(ctx context.Context, tmp string, n int, pq jobs.ParquetConfig) (string, error) {
	gc := trajgen.DefaultConfig()
	gc.N = n*3/2 + 100
	dir := filepath.Join(tmp, "gen")
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	if _, err := jobs.Gen(ctx, jobs.GenOptions{Gen: gc, Output: dir, Workers: 2, Parquet: pq}, quiet); err != nil {
		return "", err
	}
	programs, err := jobs.SolutionCorpus(ctx, dir, n, 2, storage.S3Config{})
	if err != nil {
		return "", err
	}
	data, err := json.Marshal(programs)
	if err != nil {
		return "", err
	}
	p := filepath.Join(tmp, genPythonDomain+".json")
	return p, os.WriteFile(p, data, 0o644)
}

// Run runs the benchmark and prints its table to stdout (progress to
// stderr).
func Run(ctx context.Context, stdout, stderr io.Writer, cfg Options) error {
	if cfg.Seeds < 1 || cfg.Repeat < 1 {
		return fmt.Errorf("seeds and repeat must be at least 1, got %d and %d", cfg.Seeds, cfg.Repeat)
	}
	cfg.Workers = max(cfg.Workers, 1)
	data, cache, python, only, published, seeds, repeat, self := cfg.Data, cfg.Cache, cfg.Python, cfg.Only, cfg.Published, cfg.Seeds, cfg.Repeat, cfg.Self
	tmp, err := os.MkdirTemp("", "atlas-bench-")
	if err != nil {
		return fmt.Errorf("temp dir: %w", err)
	}
	defer os.RemoveAll(tmp)
	script := filepath.Join(tmp, "stitch_bench.py")
	if err := os.WriteFile(script, stitchBenchScript, 0o644); err != nil {
		return fmt.Errorf("write script: %w", err)
	}
	var py string
	stitchNote := "Stitch run here (stitch-core wheel, same machine, same run)"
	if published {
		stitchNote = "Stitch: published numbers (not run)"
	} else if py, err = stitchVenv(ctx, cache, python, stderr); err != nil {
		fmt.Fprintf(stderr, "stitch-core unavailable (%v): falling back to published numbers\n", err)
		stitchNote = "Stitch: published numbers (stitch-core could not be installed)"
		published = true
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(stdout, "%s; %d thread(s) each; time and memory: the least of %d runs\n", stitchNote, cfg.Workers, repeat)
	fmt.Fprintln(tw, "domain\tarity\titer\tholdout\tours ratio\tstitch ratio\tours held-out\tstitch held-out\tours s\tstitch s\ttime ours/stitch\tours MB\tstitch MB\tmem ours/stitch\tstitch source\t")
	for _, row := range benchRows() {
		if only != "" && row.Domain != only {
			continue
		}
		domains := row.Domains
		if len(domains) == 0 {
			domains = []string{row.Domain}
		}
		var inputs []string
		for _, d := range domains {
			inputs = append(inputs, filepath.Join(data, "cogsci", d+".json"))
		}
		if row.Domain == genPythonDomain {
			if cfg.GenPython <= 0 {
				continue
			}
			p, err := genPythonCorpus(ctx, tmp, cfg.GenPython, cfg.Parquet)
			if err != nil {
				return fmt.Errorf("%s: %w", row.Domain, err)
			}
			inputs = []string{p}
		}
		n := 1
		if row.Holdout > 0 {
			n = seeds
		}
		var ours, theirs stitchNumbers
		src := row.Source + " (published)"
		for seed := 1; seed <= n; seed++ {
			row.Seed = uint64(seed)
			var o *oursRun
			var bo, bt stitchNumbers
			for r := range repeat {
				var err error
				if o, err = runOurs(ctx, self, tmp, inputs, row, cfg.Workers); err != nil {
					return fmt.Errorf("%s: ours: %w", row.Domain, err)
				}
				bo = fastest(bo, o.stitchNumbers, r == 0)
				if published {
					continue
				}
				th, err := runStitch(ctx, py, script, tmp, o.inputs, row, cfg.Workers)
				if err != nil {
					return fmt.Errorf("%s: stitch: %w", row.Domain, err)
				}
				bt = fastest(bt, th, r == 0)
			}
			ours = addNumbers(ours, bo, n)
			if published {
				continue
			}
			theirs = addNumbers(theirs, bt, n)
			src = "run here"
		}
		if published {
			theirs = row.Published
		}
		ho := "-"
		oh, sh := "-", "-"
		if row.Holdout > 0 {
			ho = fmt.Sprintf("%.1f/seed 1", row.Holdout)
			if n > 1 {
				ho = fmt.Sprintf("%.1f/%d seeds", row.Holdout, n)
			}
			oh, sh = fmt.Sprintf("%.2f", ours.HoldoutRatio), fmt.Sprintf("%.2f", theirs.HoldoutRatio)
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%.2f\t%.2f\t%s\t%s\t%.3f\t%s\t%s\t%.1f\t%s\t%s\t%s\t\n",
			row.Domain, row.Arity, row.Iterations, ho, ours.Ratio, theirs.Ratio, oh, sh,
			ours.Seconds, orDash(theirs.Seconds, "%.3f"), quot(ours.Seconds, theirs.Seconds),
			float64(ours.PeakBytes)/1e6, orDash(float64(theirs.PeakBytes)/1e6, "%.1f"),
			quot(float64(ours.PeakBytes), float64(theirs.PeakBytes)), src)
	}
	return tw.Flush()
}

// fastest keeps the least time and memory over repeated runs (the
// machine is shared, so the minimum is the least disturbed measurement).
func fastest(acc, x stitchNumbers, first bool) stitchNumbers {
	if first {
		return x
	}
	acc.Seconds = min(acc.Seconds, x.Seconds)
	acc.PeakBytes = min(acc.PeakBytes, x.PeakBytes)
	return acc
}

// addNumbers accumulates the mean of n runs.
func addNumbers(acc, x stitchNumbers, n int) stitchNumbers {
	f := 1 / float64(n)
	acc.Ratio += x.Ratio * f
	acc.HoldoutRatio += x.HoldoutRatio * f
	acc.Seconds += x.Seconds * f
	acc.PeakBytes += int64(float64(x.PeakBytes) * f)
	acc.FinalCost += int64(float64(x.FinalCost) * f)
	return acc
}

func orDash(v float64, format string) string {
	if v <= 0 {
		return "-"
	}
	return fmt.Sprintf(format, v)
}

func quot(a, b float64) string {
	if a <= 0 || b <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f", a/b)
}

type oursRun struct {
	stitchNumbers
	inputs [2]string // train and held-out program files, for Stitch
}

// runOurs runs `atlas-learn compress` as a subprocess, so that its peak
// memory is its own.
func runOurs(ctx context.Context, self, tmp string, inputs []string, row benchRow, workers int) (*oursRun, error) {
	out := filepath.Join(tmp, "ours.json")
	args := []string{"compress", "--format", "stitch", "--iterations", strconv.Itoa(row.Iterations),
		"--max-arity", strconv.Itoa(row.Arity), "--workers", strconv.Itoa(workers), "--out", out}
	if row.Holdout > 0 {
		args = append(args, "--holdout", strconv.FormatFloat(row.Holdout, 'g', -1, 64), "--seed", strconv.FormatUint(row.Seed, 10))
	}
	args = append(args, inputs...)
	var errb bytes.Buffer
	c := exec.CommandContext(ctx, self, args...)
	c.Stderr = &errb
	if err := c.Run(); err != nil {
		return nil, fmt.Errorf("%w: %s", err, errb.String())
	}
	b, err := os.ReadFile(out)
	if err != nil {
		return nil, fmt.Errorf("read result: %w", err)
	}
	var res struct {
		Ratio          float64 `json:"compression_ratio"`
		HoldoutRatio   float64 `json:"holdout_compression_ratio"`
		ElapsedMS      int64   `json:"elapsed_ms"`
		PeakRSS        int64   `json:"peak_rss_bytes"`
		FinalCost      int64   `json:"final_cost"`
		HoldoutIndices []int   `json:"holdout_indices"`
	}
	if err := json.Unmarshal(b, &res); err != nil {
		return nil, fmt.Errorf("decode result: %w", err)
	}
	r := &oursRun{stitchNumbers: stitchNumbers{Ratio: res.Ratio, HoldoutRatio: res.HoldoutRatio,
		Seconds: float64(res.ElapsedMS) / 1000, PeakBytes: res.PeakRSS, FinalCost: res.FinalCost}}
	// write the same split for Stitch
	var progs []string
	for _, in := range inputs {
		raw, err := os.ReadFile(in)
		if err != nil {
			return nil, fmt.Errorf("read input: %w", err)
		}
		var ps []string
		if err := json.Unmarshal(raw, &ps); err != nil {
			return nil, fmt.Errorf("decode input: %w", err)
		}
		progs = append(progs, ps...)
	}
	held := map[int]bool{}
	for _, i := range res.HoldoutIndices {
		held[i] = true
	}
	var train, test []string
	for i, p := range progs {
		if held[i] {
			test = append(test, p)
		} else {
			train = append(train, p)
		}
	}
	for i, set := range [][]string{train, test} {
		r.inputs[i] = filepath.Join(tmp, fmt.Sprintf("split%d.json", i))
		b, err := json.Marshal(set)
		if err != nil {
			return nil, err
		}
		if err := os.WriteFile(r.inputs[i], b, 0o644); err != nil {
			return nil, fmt.Errorf("write split: %w", err)
		}
	}
	return r, nil
}

// runStitch runs Stitch in its own Python process, which measures its own
// time and peak memory.
func runStitch(ctx context.Context, py, script, tmp string, inputs [2]string, row benchRow, workers int, flags ...string) (stitchNumbers, error) {
	out := filepath.Join(tmp, "stitch.json")
	_ = os.Remove(out)
	var errb bytes.Buffer
	args := append([]string{script, inputs[0], inputs[1], strconv.Itoa(row.Iterations), strconv.Itoa(row.Arity), out, strconv.Itoa(workers)}, flags...)
	c := exec.CommandContext(ctx, py, args...)
	c.Stderr = &errb
	if err := c.Run(); err != nil {
		return stitchNumbers{}, fmt.Errorf("%w: %s", err, errb.String())
	}
	b, err := os.ReadFile(out)
	if err != nil {
		return stitchNumbers{}, fmt.Errorf("read stitch result: %w", err)
	}
	var n stitchNumbers
	if err := json.Unmarshal(b, &n); err != nil {
		return stitchNumbers{}, fmt.Errorf("decode stitch result: %w", err)
	}
	if n.Ratio <= 0 {
		return stitchNumbers{}, errors.New("stitch reported no compression ratio")
	}
	return n, nil
}
