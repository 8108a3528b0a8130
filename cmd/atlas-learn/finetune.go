package main

import (
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/atlas-ai/atlas-learn/jobs"
)

func newFinetuneCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "finetune",
		Short: "the fine-tune trigger's state and hand-offs",
	}
	var asJSON bool
	status := &cobra.Command{
		Use:   "status",
		Short: "print the fine-tune state of the output: accumulated trajectories, last fine-tune, jobs",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, _, err := g.load(cmd, nil)
			if err != nil {
				return err
			}
			st, loc, err := jobs.FinetuneStatus(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if asJSON {
				data, err := st.Encode()
				if err != nil {
					return err
				}
				_, err = w.Write(data)
				return err
			}
			last := "never"
			if st.LastFinetune != nil {
				last = st.LastFinetune.Format(time.RFC3339)
			}
			fmt.Fprintf(w, "state: %s\nlast fine-tune: %s\nfine-tunes: %d\ntrajectories since: %d (%d successes)\nruns counted: %d\n",
				loc, last, st.TotalFinetunes, st.TrajectoriesSince, st.SuccessesSince, len(st.Runs))
			if len(st.Jobs) == 0 {
				return nil
			}
			tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "REQUEST\tRUN\tBACKEND\tJOB\tSTATUS\tMODEL")
			for _, j := range st.Jobs {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", j.RequestID, j.RunID, j.Backend, j.JobID, j.Status, j.ModelID)
			}
			return tw.Flush()
		},
	}
	status.Flags().BoolVar(&asJSON, "json", false, "print the state file as JSON")
	cmd.AddCommand(status)
	return cmd
}
