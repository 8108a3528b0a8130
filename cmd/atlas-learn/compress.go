package main

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/atlas-ai/atlas-learn/columnar/storage"
	"github.com/atlas-ai/atlas-learn/jobs"
)

// conceptFlags binds the learning flags shared by compress and its map and
// reduce steps to their configuration keys (section concepts:).
func conceptFlags(cmd *cobra.Command, names ...string) map[string]string {
	all := map[string]struct{ key, usage string }{
		"iterations":        {"concepts.iterations", "number of abstractions to learn (config concepts.iterations)"},
		"max-arity":         {"concepts.max_arity", "most arguments per abstraction (config concepts.max_arity)"},
		"workers":           {"concepts.workers", "goroutines processing shards and searching (config concepts.workers; 0: one per shard); the result does not depend on it"},
		"shards":            {"concepts.shards", "corpus shards (config concepts.shards; 0: as many as workers); the result does not depend on it"},
		"cost-app":          {"concepts.cost.app", "cost of an application (config concepts.cost.app)"},
		"cost-lam":          {"concepts.cost.lam", "cost of a lambda (config concepts.cost.lam)"},
		"cost-var":          {"concepts.cost.var", "cost of a variable $i (config concepts.cost.var)"},
		"cost-ivar":         {"concepts.cost.ivar", "cost of an argument #i (config concepts.cost.ivar)"},
		"cost-prim-default": {"concepts.cost.prim_default", "cost of a primitive and of a use of an abstraction (config concepts.cost.prim_default)"},
		"cost-prim":         {"concepts.cost.prim", "costs of individual primitives, NAME=COST,... (config concepts.cost.prim)"},
		"search-timeout":    {"concepts.search_timeout", "time the search of all iterations may take together, e.g. 30m (config concepts.search_timeout; 0: no limit)"},
		"on-search-timeout": {"concepts.on_search_timeout", "stop (keep the abstractions learned before it; the result's search_timeout says so) or fail (config concepts.on_search_timeout)"},
	}
	bound := map[string]string{}
	fl := cmd.Flags()
	for _, n := range names {
		b := all[n]
		switch n {
		case "cost-prim":
			fl.StringToInt64(n, nil, b.usage)
		case "cost-app", "cost-lam", "cost-var", "cost-ivar", "cost-prim-default":
			fl.Int64(n, 0, b.usage)
		case "search-timeout", "on-search-timeout":
			fl.String(n, "", b.usage)
		default:
			fl.Int(n, 0, b.usage)
		}
		bound[n] = b.key
	}
	return bound
}

var costFlags = []string{"cost-app", "cost-lam", "cost-var", "cost-ivar", "cost-prim-default", "cost-prim"}

func newCompressCmd(g *globals) *cobra.Command {
	var format, library, out, unit, verifyWith, corpusOut string
	var noInline bool
	var grammarCost int64
	var limit int
	var holdout float64
	var seed uint64
	var verbose bool
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
the programs. The result's "python" field then shows the abstractions and
rewritten programs as Python.

The learning settings are the configuration's concepts section (the same
the run's concepts stage uses); the flags below override them.`,
		Args: cobra.MinimumNArgs(1),
	}
	bound := conceptFlags(cmd, append([]string{"iterations", "max-arity", "workers", "shards", "search-timeout", "on-search-timeout"}, costFlags...)...)
	cmd.RunE = func(cmd *cobra.Command, inputs []string) error {
		if verbose && !cmd.Flags().Changed("log-level") {
			_ = cmd.Flags().Set("log-level", "debug")
		}
		cfg, log, err := g.load(cmd, bound)
		if err != nil {
			return err
		}
		c := cfg.Concepts
		res, err := jobs.Compress(cmd.Context(), jobs.CompressOptions{Format: format, Inputs: inputs, Limit: limit,
			Iterations: c.Iterations, MaxArity: c.MaxArity, Workers: c.Workers, Shards: c.Shards, Library: library,
			Holdout: holdout, Seed: seed, Cost: c.Cost.Model(), S3: cfg.S3, Logger: log,
			SearchTimeout: c.SearchTimeout, StopOnTimeout: c.OnSearchTimeout == jobs.OnSearchTimeoutStop,
			Unit: unit, NoInline: noInline, GrammarCost: grammarCost, VerifyWith: verifyWith, Sandbox: cfg.Sandbox, CorpusOut: corpusOut})
		if err != nil {
			return err
		}
		b, err := json.MarshalIndent(res, "", "  ")
		if err != nil {
			return fmt.Errorf("encode result: %w", err)
		}
		if err := storage.WriteObject(cmd.Context(), out, append(b, '\n'), cfg.S3); err != nil {
			return fmt.Errorf("write result: %w", err)
		}
		return nil
	}
	fl := cmd.Flags()
	fl.StringVar(&format, "format", "stitch", "input format: stitch or python")
	fl.IntVar(&limit, "limit", 0, "with --format python and a trajectory dataset as INPUT: take at most this many solutions (0: all)")
	fl.StringVar(&library, "library", "", "previous RESULT.json whose abstractions are applied first and extended")
	fl.Float64Var(&holdout, "holdout", 0, "fraction of programs held out of training and only rewritten")
	fl.Uint64Var(&seed, "seed", 0, "seed of the holdout split")
	fl.StringVar(&unit, "unit", "file", "with --format python: what one program is, file or function (each top-level function definition)")
	fl.BoolVar(&noInline, "no-inline", false, "with --format python: do not inline single-use pure locals before the search")
	fl.Int64Var(&grammarCost, "cost-grammar", jobs.DefaultGrammarCost, "with --format python: cost of each Python grammar atom (call, args, seq, =, ...); negative: like any primitive")
	fl.StringVar(&verifyWith, "verify-with", "", "with --format python: a Python test program run in the sandbox (config sandbox:) on every original and rewritten program, the module on standard input and the program's name, label and task input as arguments, or \"examples\": run each solution of a trajectory dataset on its task's examples; a concept whose use changes a run is withdrawn")
	fl.StringVar(&corpusOut, "corpus-out", "", "also write the corpus the search sees (Stitch syntax, a JSON list) here, e.g. to give it to Stitch")
	fl.StringVar(&out, "out", "", "where to write RESULT.json: a path or s3:// object (required)")
	fl.BoolVar(&verbose, "verbose", false, "log each abstraction learned (--log-level debug)")
	_ = cmd.MarkFlagRequired("out")
	cmd.AddCommand(newCompressMapCmd(g), newCompressReduceCmd(g))
	return cmd
}
