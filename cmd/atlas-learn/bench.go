package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/atlas-ai/atlas-learn/internal/benchcompress"
	"github.com/atlas-ai/atlas-learn/internal/benchpatterns"
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
	cmd.AddCommand(cc, newBenchPatternsCmd(g, filepath.Join(defCache, "atlas-learn")))
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
