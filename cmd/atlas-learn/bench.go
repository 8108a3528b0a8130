package main

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/atlas-ai/atlas-learn/internal/benchcompress"
	"github.com/atlas-ai/atlas-learn/internal/benchpatterns"
	"github.com/atlas-ai/atlas-learn/internal/benchrecall"
	"github.com/atlas-ai/atlas-learn/jobs/analysis/patterns"
)

func newBenchCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "bench", Short: "benchmarks"}
	var o benchcompress.Options
	cc := &cobra.Command{
		Use:   "compress",
		Short: "compare `atlas-learn compress` with Stitch on the cogsci corpora, side by side",
		Long: `bench compress runs our engine and Stitch (the stitch-core wheel, installed into
a virtual environment under the cache directory) as separate processes on the
same files and settings, and prints compression ratio, time and peak memory.
Where Stitch cannot be installed, its published numbers are shown instead.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, _, err := g.load(cmd, nil)
			if err != nil {
				return err
			}
			self, err := os.Executable()
			if err != nil {
				return fmt.Errorf("find own binary: %w", err)
			}
			o.Self, o.Parquet = self, cfg.Parquet
			return benchcompress.Run(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), o)
		},
	}
	defCache, err := os.UserCacheDir()
	if err != nil {
		defCache = os.TempDir()
	}
	fl := cc.Flags()
	fl.StringVar(&o.Data, "data", "../shared/data/stitch", "directory holding cogsci/*.json")
	fl.StringVar(&o.Cache, "cache", filepath.Join(defCache, "atlas-learn"), "cache directory for Stitch's virtual environment")
	fl.StringVar(&o.Python, "python", "python3", "Python used to create the virtual environment")
	fl.StringVar(&o.Only, "only", "", "run only the rows of this domain")
	fl.BoolVar(&o.Published, "published", false, "do not run Stitch; compare with its published numbers")
	fl.IntVar(&o.Seeds, "seeds", 1, "held-out rows: average over seeds 1..N (the paper uses 50)")
	fl.IntVar(&o.Repeat, "repeat", 3, "run each measurement this many times and keep the fastest (and smallest)")
	fl.IntVar(&o.Workers, "workers", 1, "threads for both engines (ours: --workers, Stitch: threads)")
	fl.IntVar(&o.GenPython, "gen-python", 1000, "solutions of generated trajectories in the gen-python row, encoded by the Python frontend for both engines (0: leave the row out)")
	var po benchcompress.PythonOptions
	pc := &cobra.Command{
		Use:   "compress-python",
		Short: "library learning on real Python corpora (re-arc solvers, gen solutions), verified by running them, beside Stitch",
		Long: `bench compress-python runs atlas-learn compress --format python on re-arc's
verifiers (one program per function, each rewritten program run on its ARC
task in the sandbox) and on the solutions of a gen dataset, and prints the
compression ratio, the concepts that print as Python functions out of those
learned, their uses, how many programs solve their task before and after the
rewrite, time and memory; beside it our engine and Stitch (stitch-core) on
the terms our search sees (the Python encoded in Stitch's syntax), with
Stitch's default cost.
Then both engines on re-arc written as the issue compared it, every local
inlined at each use (lambda_form.py), with each one's ratio of tree costs
(what Stitch reports) beside its ratio of DAG costs (a subterm repeated in
a program counted once, as the program is written with locals).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if _, _, err := g.load(cmd, nil); err != nil {
				return err
			}
			self, err := os.Executable()
			if err != nil {
				return fmt.Errorf("find own binary: %w", err)
			}
			po.Self, po.Config = self, g.configFile
			return benchcompress.RunPython(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), po)
		},
	}
	pf := pc.Flags()
	pf.StringVar(&po.ReArc, "re-arc", "../shared/data/re-arc/verifiers.py", "file of ARC solvers, one function per task (\"\": leave the row out)")
	pf.StringVar(&po.DSL, "dsl", "../shared/data/re-arc", "directory of the module the solvers import")
	pf.StringVar(&po.Tasks, "tasks", "../shared/data/arc-agi-1/training", "directory of the ARC tasks, <id>.json")
	pf.StringVar(&po.Gen, "gen", "", "trajectory dataset (atlas-learn gen) for the gen row (\"\": leave the row out)")
	pf.IntVar(&po.GenLimit, "gen-limit", 100000, "solutions taken from --gen")
	pf.IntVar(&po.Iterations, "iterations", 10, "abstractions to learn")
	pf.IntVar(&po.Arity, "max-arity", 3, "most arguments per abstraction")
	pf.IntVar(&po.Workers, "workers", 1, "threads for both engines")
	pf.StringVar(&po.Cache, "cache", filepath.Join(defCache, "atlas-learn"), "cache directory for Stitch's virtual environment")
	pf.StringVar(&po.Python, "python", "python3", "Python used to create the virtual environment")
	pf.BoolVar(&po.NoStitch, "no-stitch", false, "do not run Stitch")
	pf.StringVar(&po.Keep, "keep", "", "directory where each row's RESULT.json and corpus are kept")
	pf.IntVar(&po.LambdaIterations, "lambda-iterations", 9, "abstractions both engines learn on re-arc's lambda-calculus form (0: leave that table out; at 10 neither engine's search finishes in 10 minutes)")
	pf.DurationVar(&po.LambdaTimeout, "lambda-timeout", 5*time.Minute, "time each engine gets on re-arc's lambda-calculus form")
	cmd.AddCommand(cc, pc, newBenchPatternsCmd(g, filepath.Join(defCache, "atlas-learn")))
	cmd.AddCommand(newBenchRecallCmds(g)...)
	cmd.AddCommand(newBenchRunCmd(g))
	return cmd
}

func newBenchPatternsCmd(g *globals, cache string) *cobra.Command {
	o := benchpatterns.Options{Miner: patterns.DefaultOptions()}
	cmd := &cobra.Command{
		Use:   "patterns",
		Short: "grouping accuracy of `atlas-learn patterns` and of Drain3 on Loghub-2k, side by side",
		Long: `bench patterns mines each Loghub-2k dataset (the Content column of every
*_2k.log_structured.csv under --data) with our miner, one configuration for
all datasets, and with Drain3 (the drain3 package, installed into a virtual
environment under the cache directory, generic masks: IPv4, hex, numbers) in
the same run, and prints each one's grouping accuracy against the EventId
column (Zhu et al., ICSE-SEIP 2019) with the mean. When Drain3's virtual
environment cannot be created it says so and prints our numbers only.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if _, _, err := g.load(cmd, nil); err != nil {
				return err
			}
			return benchpatterns.Run(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), o)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&o.Data, "data", "../shared/data/loghub", "directory holding *_2k.log_structured.csv")
	fl.StringVar(&o.Cache, "cache", cache, "cache directory for Drain3's virtual environment")
	fl.StringVar(&o.Python, "python", "python3", "Python used to create the virtual environment")
	fl.BoolVar(&o.NoDrain3, "no-drain3", false, "run our miner only")
	return cmd
}

func newBenchRecallCmds(g *globals) []*cobra.Command {
	var io benchrecall.IndexOptions
	var sizes []int
	rc := &cobra.Command{
		Use:   "recall [--sizes 1000,10000,100000] [--queries 1000]",
		Short: "build, load and search times of the recall index at several sizes (synthetic documents)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if _, _, err := g.load(cmd, nil); err != nil {
				return err
			}
			io.Sizes = sizes
			return benchrecall.RunIndex(cmd.Context(), cmd.OutOrStdout(), io)
		},
	}
	rc.Flags().IntSliceVar(&sizes, "sizes", []int{1000, 10000, 100000}, "document counts")
	rc.Flags().IntVar(&io.Queries, "queries", 1000, "queries per size")

	var so benchrecall.ServeOptions
	sc := &cobra.Command{
		Use:   "serve [--docs 100000] [--requests 20000] [--concurrency 8]",
		Short: "atlas-learn serve under load, with a memory reload in the middle; fails if any request fails",
		Long: `bench serve writes a synthetic memory of --docs documents to a temporary
directory, serves it on 127.0.0.1 (reload interval 100ms), and drives
--requests queries at it from a second process (this binary, re-executed as
a hidden client subcommand) with --concurrency connections. When half are
done it publishes a second version (CURRENT), and it prints requests,
failed, rps, p50, p99 and whether the reload was seen. Any failed request
makes it exit non-zero.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if _, _, err := g.load(cmd, nil); err != nil {
				return err
			}
			self, err := os.Executable()
			if err != nil {
				return fmt.Errorf("find own binary: %w", err)
			}
			so.Self, so.Stderr = self, cmd.ErrOrStderr()
			return benchrecall.RunServe(cmd.Context(), cmd.OutOrStdout(), so)
		},
	}
	sc.Flags().IntVar(&so.Docs, "docs", 100000, "documents in the memory")
	sc.Flags().IntVar(&so.Requests, "requests", 20000, "requests in all")
	sc.Flags().IntVar(&so.Concurrency, "concurrency", 8, "requests in flight at once")

	var base string
	var requests, conc int
	cl := &cobra.Command{
		Use:    "serve-client --url URL --requests N --concurrency C",
		Short:  "the load client of bench serve (internal)",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return benchrecall.RunClient(cmd.Context(), cmd.OutOrStdout(), base, requests, conc)
		},
	}
	cl.Flags().StringVar(&base, "url", "", "server base URL")
	cl.Flags().IntVar(&requests, "requests", 20000, "requests in all")
	cl.Flags().IntVar(&conc, "concurrency", 8, "requests in flight at once")
	return []*cobra.Command{rc, sc, cl}
}
