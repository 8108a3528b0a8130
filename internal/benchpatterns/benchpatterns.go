// Package benchpatterns is the harness of `atlas-learn bench patterns`:
// it reads the Loghub-2k structured datasets (each message's Content and
// its ground-truth EventId), mines them with jobs/analysis/patterns and,
// live in the same run, with Drain3 (the drain3 package, in a virtual
// environment it creates and caches), and prints both grouping
// accuracies side by side.
package benchpatterns

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/atlas-ai/atlas-learn/jobs/analysis/patterns"
)

//go:embed drain3_bench.py
var drain3Script []byte

// Drain3Version is the drain3 release the benchmark installs.
const Drain3Version = "0.9.11"

// Options holds the settings of `bench patterns`.
type Options struct {
	// Data is the directory holding the *_2k.log_structured.csv files.
	Data string
	// Cache is where Drain3's virtual environment is kept; Python the
	// interpreter that creates it.
	Cache, Python string
	// NoDrain3 runs our miner only.
	NoDrain3 bool
	// Miner is our miner's configuration, one for all datasets.
	Miner patterns.Options
}

// Row is one dataset's measurements.
type Row struct {
	Dataset          string
	Messages, Events int
	// Ours and Drain3 are grouping accuracies; Drain3 is negative when it
	// was not run.
	Ours, Drain3 float64
	// OursTemplates and Drain3Templates count the templates found.
	OursTemplates, Drain3Templates int
	OursSeconds, Drain3Seconds     float64
}

// drain3Venv makes sure a virtual environment with drain3 exists and
// returns its python.
func drain3Venv(ctx context.Context, cache, python string, log io.Writer) (string, error) {
	venv := filepath.Join(cache, "drain3-venv")
	py := filepath.Join(venv, "bin", "python")
	if exec.CommandContext(ctx, py, "-c", "import drain3").Run() == nil {
		return py, nil
	}
	fmt.Fprintf(log, "installing drain3 %s into %s\n", Drain3Version, venv)
	if err := os.MkdirAll(cache, 0o755); err != nil {
		return "", fmt.Errorf("cache dir: %w", err)
	}
	for _, args := range [][]string{{python, "-m", "venv", venv}, {py, "-m", "pip", "install", "-q", "drain3==" + Drain3Version}} {
		var out bytes.Buffer
		c := exec.CommandContext(ctx, args[0], args[1:]...)
		c.Stdout, c.Stderr = &out, &out
		if err := c.Run(); err != nil {
			if msg := bytes.TrimSpace(out.Bytes()); len(msg) > 0 {
				return "", fmt.Errorf("%v: %w: %s", args, err, msg)
			}
			return "", fmt.Errorf("%v: %w", args, err)
		}
	}
	return py, nil
}

// drain3Result is the script's output.
type drain3Result struct {
	Version string `json:"version"`
	Results []struct {
		Name      string  `json:"name"`
		IDs       []int   `json:"ids"`
		Templates int     `json:"templates"`
		Seconds   float64 `json:"seconds"`
	} `json:"results"`
}

// runDrain3 mines the datasets with Drain3 in one Python process.
func runDrain3(ctx context.Context, py string, ds []Dataset) (*drain3Result, error) {
	tmp, err := os.MkdirTemp("", "atlas-bench-patterns-")
	if err != nil {
		return nil, fmt.Errorf("temp dir: %w", err)
	}
	defer os.RemoveAll(tmp)
	script, in, out := filepath.Join(tmp, "drain3_bench.py"), filepath.Join(tmp, "in.json"), filepath.Join(tmp, "out.json")
	type input struct {
		Name     string   `json:"name"`
		Messages []string `json:"messages"`
	}
	var inputs []input
	for _, d := range ds {
		inputs = append(inputs, input{d.Name, d.Messages})
	}
	b, err := json.Marshal(inputs)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(in, b, 0o644); err != nil {
		return nil, fmt.Errorf("write input: %w", err)
	}
	if err := os.WriteFile(script, drain3Script, 0o644); err != nil {
		return nil, fmt.Errorf("write script: %w", err)
	}
	var errb bytes.Buffer
	c := exec.CommandContext(ctx, py, script, in, out)
	c.Stderr = &errb
	if err := c.Run(); err != nil {
		return nil, fmt.Errorf("drain3: %w: %s", err, bytes.TrimSpace(errb.Bytes()))
	}
	b, err = os.ReadFile(out)
	if err != nil {
		return nil, fmt.Errorf("read drain3 result: %w", err)
	}
	var r drain3Result
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("decode drain3 result: %w", err)
	}
	if len(r.Results) != len(ds) {
		return nil, fmt.Errorf("drain3: %d results for %d datasets", len(r.Results), len(ds))
	}
	return &r, nil
}

// Measure mines every dataset with our miner, and with Drain3 when py
// is not empty.
func Measure(ctx context.Context, ds []Dataset, o patterns.Options, py string) ([]Row, string, error) {
	rows := make([]Row, len(ds))
	for i, d := range ds {
		events := map[string]bool{}
		for _, e := range d.Events {
			events[e] = true
		}
		start := time.Now()
		res, err := patterns.Mine(d.Messages, o)
		if err != nil {
			return nil, "", err
		}
		secs := time.Since(start).Seconds()
		ga, err := GroupingAccuracy(res.Assignments, d.Events)
		if err != nil {
			return nil, "", fmt.Errorf("%s: %w", d.Name, err)
		}
		rows[i] = Row{Dataset: d.Name, Messages: len(d.Messages), Events: len(events), Ours: ga, Drain3: -1,
			OursTemplates: len(res.Templates), OursSeconds: secs}
	}
	if py == "" {
		return rows, "", nil
	}
	dr, err := runDrain3(ctx, py, ds)
	if err != nil {
		return nil, "", err
	}
	for i, r := range dr.Results {
		if r.Name != ds[i].Name {
			return nil, "", fmt.Errorf("drain3: result %d is %q, want %q", i, r.Name, ds[i].Name)
		}
		ga, err := GroupingAccuracy(r.IDs, ds[i].Events)
		if err != nil {
			return nil, "", fmt.Errorf("drain3: %s: %w", r.Name, err)
		}
		rows[i].Drain3, rows[i].Drain3Templates, rows[i].Drain3Seconds = ga, r.Templates, r.Seconds
	}
	return rows, dr.Version, nil
}

// Run runs the benchmark and prints its table to stdout (progress to
// stderr). When Drain3 cannot be installed it says so and prints our
// numbers only.
func Run(ctx context.Context, stdout, stderr io.Writer, o Options) error {
	ds, err := LoadDir(o.Data)
	if err != nil {
		return err
	}
	var py string
	note := "Drain3 not run (--no-drain3)"
	if !o.NoDrain3 {
		if py, err = drain3Venv(ctx, o.Cache, o.Python, stderr); err != nil {
			note = fmt.Sprintf("Drain3 NOT RUN: its virtual environment could not be created (%v); our numbers only", err)
			py = ""
		}
	}
	rows, version, err := Measure(ctx, ds, o.Miner, py)
	if err != nil {
		return err
	}
	if py != "" {
		note = fmt.Sprintf("Drain3 %s run here, same messages, same run (depth 4, sim 0.4, masks: IPv4, hex, numbers)", version)
	}
	fmt.Fprintf(stdout, "grouping accuracy on Loghub-2k (%s); ours: one configuration for all datasets\n%s\n", o.Data, note)
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "dataset\tmessages\tevents\tours\tdrain3\tdrain3 (issue)\tours templates\tdrain3 templates\tours s\tdrain3 s\t")
	var sumOurs, sumDrain3, sumRef float64
	nRef := 0
	for _, r := range rows {
		ref, ok := Drain3Reference(r.Dataset)
		refs := "-"
		if ok {
			refs = fmt.Sprintf("%.3f", ref)
			sumRef += ref
			nRef++
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%.3f\t%s\t%s\t%d\t%s\t%.3f\t%s\t\n", r.Dataset, r.Messages, r.Events, r.Ours,
			orDash(r.Drain3 >= 0, "%.3f", r.Drain3), refs, r.OursTemplates,
			orDash(r.Drain3 >= 0, "%d", r.Drain3Templates), r.OursSeconds, orDash(r.Drain3 >= 0, "%.3f", r.Drain3Seconds))
		sumOurs += r.Ours
		sumDrain3 += r.Drain3
	}
	n := float64(len(rows))
	refMean := "-"
	if nRef == len(rows) {
		refMean = fmt.Sprintf("%.3f", sumRef/n)
	}
	fmt.Fprintf(tw, "mean\t\t\t%.3f\t%s\t%s\t\t\t\t\t\n", sumOurs/n, orDash(py != "", "%.3f", sumDrain3/n), refMean)
	return tw.Flush()
}

func orDash(ok bool, format string, v any) string {
	if !ok {
		return "-"
	}
	return fmt.Sprintf(format, v)
}
