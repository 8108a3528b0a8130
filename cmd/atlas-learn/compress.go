package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/atlas-ai/atlas-learn/compress"
	"github.com/atlas-ai/atlas-learn/jobs"
)

// compressFlags are the settings of `atlas-learn compress`.
type compressFlags struct {
	format     string
	limit      int
	iterations int
	maxArity   int
	workers    int
	shards     int
	library    string
	holdout    float64
	seed       uint64
	out        string
	verbose    bool
	cost       compress.CostModel
}

// compressOutput is the RESULT.json document.
type compressOutput struct {
	compress.Result
	Format                  string             `json:"format"`
	Cost                    compress.CostModel `json:"cost_model"`
	Iterations              int                `json:"iterations"`
	MaxArity                int                `json:"max_arity"`
	Inputs                  []string           `json:"inputs"`
	Programs                int                `json:"programs"`
	HoldoutFraction         float64            `json:"holdout_fraction,omitempty"`
	Seed                    uint64             `json:"seed,omitempty"`
	HoldoutIndices          []int              `json:"holdout_indices,omitempty"`
	HoldoutOriginalCost     int64              `json:"holdout_original_cost,omitempty"`
	HoldoutFinalCost        int64              `json:"holdout_final_cost,omitempty"`
	HoldoutCompressionRatio float64            `json:"holdout_compression_ratio,omitempty"`
	Python                  *pythonRendering   `json:"python,omitempty"`
	ElapsedMS               int64              `json:"elapsed_ms"`
	PeakRSSBytes            int64              `json:"peak_rss_bytes"`
}

func newCompressCmd() *cobra.Command {
	var f compressFlags
	cmd := &cobra.Command{
		Use:   "compress [flags] INPUT...",
		Short: "learn a library of abstractions from a corpus of programs (Stitch-style)",
		Long: `compress learns, one iteration at a time, the abstraction that most reduces
the corpus's description length, rewrites the corpus with it and repeats.
With --format stitch each INPUT is a JSON list of programs in Stitch syntax;
with --format python each INPUT is a Python source file (one program), a
directory whose .py files are taken in lexical order, or a trajectory
dataset (a directory or s3:// location of .parquet/.jsonl files, e.g. the
output of atlas-learn gen), whose successful trajectories' solutions are
the programs. The result's "python"
field then shows the abstractions and rewritten programs as Python.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runCompress(cmd.Context(), f, args, cmd.ErrOrStderr())
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.format, "format", "stitch", "input format: stitch or python")
	fl.IntVar(&f.limit, "limit", 0, "with --format python and a trajectory dataset as INPUT: take at most this many solutions (0: all)")
	fl.IntVar(&f.iterations, "iterations", 10, "number of abstractions to learn")
	fl.IntVar(&f.maxArity, "max-arity", 2, "most arguments per abstraction")
	fl.IntVar(&f.workers, "workers", 0, "goroutines processing shards and searching (0: one per shard); the result does not depend on it")
	fl.IntVar(&f.shards, "shards", 0, "corpus shards (0: as many as workers, at least 1); the result does not depend on it")
	fl.StringVar(&f.library, "library", "", "previous RESULT.json whose abstractions are applied first and extended")
	fl.Float64Var(&f.holdout, "holdout", 0, "fraction of programs held out of training and only rewritten")
	fl.Uint64Var(&f.seed, "seed", 0, "seed of the holdout split")
	fl.StringVar(&f.out, "out", "", "where to write RESULT.json (required)")
	fl.BoolVar(&f.verbose, "verbose", false, "log progress to stderr")
	def := compress.DefaultCost()
	fl.Int64Var(&f.cost.App, "cost-app", def.App, "cost of an application")
	fl.Int64Var(&f.cost.Lam, "cost-lam", def.Lam, "cost of a lambda")
	fl.Int64Var(&f.cost.Var, "cost-var", def.Var, "cost of a variable $i")
	fl.Int64Var(&f.cost.IVar, "cost-ivar", def.IVar, "cost of an argument #i")
	fl.Int64Var(&f.cost.PrimDefault, "cost-prim-default", def.PrimDefault, "cost of a primitive (and of a use of an abstraction)")
	fl.StringToInt64Var(&f.cost.Prim, "cost-prim", nil, "costs of individual primitives, NAME=COST,...")
	_ = cmd.MarkFlagRequired("out")
	cmd.AddCommand(newCompressMapCmd(), newCompressReduceCmd())
	return cmd
}

func runCompress(ctx context.Context, f compressFlags, inputs []string, stderr io.Writer) error {
	start := time.Now()
	if f.holdout < 0 || f.holdout >= 1 || math.IsNaN(f.holdout) {
		return fmt.Errorf("--holdout must be in [0, 1), got %v", f.holdout)
	}
	programs, err := readPrograms(ctx, f.format, inputs, f.limit, f.workers)
	if err != nil {
		return err
	}
	var lib []compress.Abstraction
	if f.library != "" {
		if lib, err = readLibrary(ctx, f.library); err != nil {
			return err
		}
	}
	logger := slog.New(slog.DiscardHandler)
	if f.verbose {
		logger = slog.New(slog.NewTextHandler(stderr, nil))
	}
	shards := f.shards
	if shards <= 0 {
		shards = max(f.workers, 1)
	}
	opts := compress.Options{Iterations: f.iterations, MaxArity: f.maxArity, Workers: f.workers,
		Shards: shards, Library: lib, Logger: logger, Cost: f.cost}
	train, held, heldIdx := splitHoldout(programs, f.holdout, f.seed)
	res, err := compress.Compress(ctx, train, opts)
	if err != nil {
		return err
	}
	out := compressOutput{Result: *res, Format: f.format, Cost: f.cost, Iterations: f.iterations, MaxArity: f.maxArity,
		Inputs: inputs, Programs: len(programs)}
	if f.holdout > 0 {
		out.HoldoutFraction, out.Seed, out.HoldoutIndices = f.holdout, f.seed, heldIdx
		if len(held) > 0 {
			hr, err := compress.Rewrite(ctx, held, res.Abstractions, opts)
			if err != nil {
				return fmt.Errorf("holdout: %w", err)
			}
			out.HoldoutOriginalCost, out.HoldoutFinalCost = hr.OriginalCost, hr.FinalCost
			out.HoldoutCompressionRatio = hr.CompressionRatio
		}
	}
	if f.format == "python" {
		if out.Python, err = renderPython(ctx, res, max(f.workers, 1)); err != nil {
			return err
		}
	}
	out.ElapsedMS = time.Since(start).Milliseconds()
	out.PeakRSSBytes = peakRSS()
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return fmt.Errorf("encode result: %w", err)
	}
	if err := writeObject(ctx, f.out, append(b, '\n')); err != nil {
		return fmt.Errorf("write result: %w", err)
	}
	logger.Info("compressed", "original_cost", res.OriginalCost, "final_cost", res.FinalCost,
		"ratio", res.CompressionRatio, "elapsed", time.Since(start))
	return nil
}

// readPrograms loads the corpus from the inputs in order.
func readPrograms(ctx context.Context, format string, inputs []string, limit, workers int) ([]string, error) {
	var programs []string
	if format == "python" {
		// Trajectory datasets contribute their successful solutions.
		var files []string
		for _, in := range inputs {
			if !jobs.IsDataset(in) {
				files = append(files, in)
				continue
			}
			cfg, err := jobs.LoadConfig("", os.Getenv)
			if err != nil {
				return nil, err
			}
			ps, err := jobs.SolutionCorpus(ctx, in, limit-len(programs), max(workers, 1), cfg.S3)
			if err != nil {
				return nil, err
			}
			programs = append(programs, ps...)
		}
		inputs = files
		var err error
		if inputs, err = expandPythonInputs(inputs); err != nil {
			return nil, err
		}
	}
	for _, in := range inputs {
		b, err := readObject(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("read input: %w", err)
		}
		switch format {
		case "stitch":
			var ps []string
			if err := json.Unmarshal(b, &ps); err != nil {
				return nil, fmt.Errorf("%s: want a JSON list of program strings: %w", in, err)
			}
			programs = append(programs, ps...)
		case "python":
			p, err := encodePython(ctx, b)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", in, err)
			}
			programs = append(programs, p)
		default:
			return nil, fmt.Errorf("unknown --format %q (want stitch or python)", format)
		}
	}
	if len(programs) == 0 {
		return nil, errors.New("empty corpus: the inputs hold no programs")
	}
	return programs, nil
}

// expandPythonInputs replaces each directory by its .py files, in
// lexical order.
func expandPythonInputs(inputs []string) ([]string, error) {
	var out []string
	for _, in := range inputs {
		st, err := os.Stat(in)
		if err != nil {
			return nil, fmt.Errorf("input: %w", err)
		}
		if !st.IsDir() {
			out = append(out, in)
			continue
		}
		err = filepath.WalkDir(in, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.IsDir() && strings.HasSuffix(p, ".py") {
				out = append(out, p)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("input %s: %w", in, err)
		}
	}
	return out, nil
}

// readLibrary reads the abstractions of a previous RESULT.json.
func readLibrary(ctx context.Context, path string) ([]compress.Abstraction, error) {
	b, err := readObject(ctx, path)
	if err != nil {
		return nil, fmt.Errorf("read library: %w", err)
	}
	var prev struct {
		Abstractions []compress.Abstraction `json:"abstractions"`
	}
	if err := json.Unmarshal(b, &prev); err != nil {
		return nil, fmt.Errorf("library %s: %w", path, err)
	}
	if err := compress.ValidateLibrary(prev.Abstractions); err != nil {
		return nil, fmt.Errorf("library %s: %w", path, err)
	}
	return prev.Abstractions, nil
}

// splitHoldout holds out round(frac*n) programs chosen by a seeded
// permutation; both parts keep the input order.
func splitHoldout(programs []string, frac float64, seed uint64) (train, held []string, heldIdx []int) {
	if frac <= 0 {
		return programs, nil, nil
	}
	n := len(programs)
	k := int(math.Round(frac * float64(n)))
	k = min(k, n-1)
	perm := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)).Perm(n)
	heldIdx = slices.Clone(perm[:k])
	slices.Sort(heldIdx)
	isHeld := make([]bool, n)
	for _, i := range heldIdx {
		isHeld[i] = true
	}
	for i, p := range programs {
		if isHeld[i] {
			held = append(held, p)
		} else {
			train = append(train, p)
		}
	}
	return train, held, heldIdx
}
