package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"

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
	logger := slog.New(slog.DiscardHandler)
	if f.verbose {
		logger = slog.New(slog.NewTextHandler(stderr, nil))
	}
	out, err := jobs.Compress(ctx, jobs.CompressOptions{Format: f.format, Inputs: inputs, Limit: f.limit,
		Iterations: f.iterations, MaxArity: f.maxArity, Workers: f.workers, Shards: f.shards, Library: f.library,
		Holdout: f.holdout, Seed: f.seed, Cost: f.cost, S3: s3FromEnv(), Logger: logger})
	if err != nil {
		return err
	}
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return fmt.Errorf("encode result: %w", err)
	}
	if err := writeObject(ctx, f.out, append(b, '\n')); err != nil {
		return fmt.Errorf("write result: %w", err)
	}
	return nil
}
