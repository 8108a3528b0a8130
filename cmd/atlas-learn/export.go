package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/atlas-ai/atlas-learn/columnar/storage"
	"github.com/atlas-ai/atlas-learn/jobs"
)

func newExportCmd(g *globals) *cobra.Command {
	var to, output string
	cmd := &cobra.Command{
		Use:   "export --to FORMAT --output DIR INPUT",
		Short: "write a trajectory dataset in another tool's format: one ATIF (Harbor's Agent Trajectory Interchange Format, ATIF-v1.4) JSON file per trajectory, or JSONL with every source field back in extra",
		Example: `  atlas-learn export --to atif --output out/atif data/swe
  atlas-learn export --to atif --output out/atif s3://bucket/runs/r1/trajectories
  atlas-learn export --to jsonl --output out/full data/swe   # out/full/trajectories.jsonl`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, log, err := g.load(cmd, map[string]string{"on-error": "on_error"})
			if err != nil {
				return err
			}
			st, err := jobs.Export(cmd.Context(), jobs.ExportOptions{To: to, Input: args[0], Output: output, OnError: cfg.OnError, S3: cfg.S3}, log)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "exported %d trajectories (%d skipped) from %s to %s\n", st.Exported, st.Skipped, storage.Redact(args[0]), output)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&to, "to", "", "output format: "+strings.Join(jobs.ExportFormats, ", ")+" (required)")
	f.StringVar(&output, "output", "", "local output directory, created when missing (required)")
	f.String("on-error", "", "fail or skip: what a bad record of the input does (config on_error)")
	_ = cmd.MarkFlagRequired("to")
	_ = cmd.MarkFlagRequired("output")
	return cmd
}
