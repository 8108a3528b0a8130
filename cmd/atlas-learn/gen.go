package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/atlas-ai/atlas-learn/internal/trajgen"
	"github.com/atlas-ai/atlas-learn/jobs"
)

func newGenCmd(g *globals) *cobra.Command {
	gc := trajgen.DefaultConfig()
	var output string
	cmd := &cobra.Command{
		Use:   "gen --n N --seed S --output URI",
		Short: "generate deterministic program-synthesis trajectories (tasks, steps with real Python, successes and failures)",
		Example: `  atlas-learn gen --n 100000 --seed 7 --output data/gen
  atlas-learn gen --n 1000000 --seed 1 --output s3://atlas/gen --set s3.endpoint=http://127.0.0.1:9000 --set s3.path_style=true`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, log, err := g.load(cmd, map[string]string{"workers": "workers"})
			if err != nil {
				return err
			}
			m, err := jobs.Gen(cmd.Context(), jobs.GenOptions{Gen: gc, Output: output, Workers: cfg.Workers, S3: cfg.S3, Parquet: cfg.Parquet}, log)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "generated %d trajectories (%d successes) into %s\n", m.Counters["rows_generated"], m.Counters["successes"], output)
			return nil
		},
	}
	f := cmd.Flags()
	f.IntVar(&gc.N, "n", 1000, "number of trajectories")
	f.Int64Var(&gc.Seed, "seed", gc.Seed, "random seed: the same seed gives the same trajectories")
	f.Float64Var(&gc.FailureRate, "failure-rate", gc.FailureRate, "share of trajectories that fail")
	f.Float64Var(&gc.FixRate, "fix-rate", gc.FixRate, "share of successes that first write a bug and fix it")
	f.Float64Var(&gc.DistractorRate, "distractor-rate", gc.DistractorRate, "probability of each kind of distractor step")
	f.StringVar(&output, "output", "", "output dataset location (required)")
	f.Int("workers", 0, "generator workers (config workers)")
	_ = cmd.MarkFlagRequired("output")
	return cmd
}
