package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/atlas-ai/atlas-learn/internal/benchcompress"
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
	cmd.AddCommand(cc)
	return cmd
}
