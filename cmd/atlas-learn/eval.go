package main

import (
	"encoding/json"
	"fmt"
	"sort"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/atlas-ai/atlas-learn/jobs"
)

func newEvalCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "eval", Short: "evaluate the analysers against ground truth"}
	var n int
	var seed int64
	var asJSON bool
	cc := &cobra.Command{
		Use:   "credit [--n N] [--seed S] [--json]",
		Short: "precision, recall and F1 of each credit method's key steps on generated trajectories",
		Long: `eval credit generates N trajectories (as atlas-learn gen does, with seed S),
whose extra.gen.key_steps record the steps that truly matter, and scores the
key steps of each credit method against them: simple, counterfactual (the
code replayer, in the sandbox) and, when llm.mode is not offline, llm.`,
		Args: cobra.NoArgs,
	}
	bound := map[string]string{"workers": "workers"}
	cc.RunE = func(cmd *cobra.Command, _ []string) error {
		cfg, log, err := g.load(cmd, bound)
		if err != nil {
			return err
		}
		res, err := jobs.EvalCredit(cmd.Context(), jobs.EvalCreditOptions{N: n, Seed: seed, Workers: cfg.Workers,
			LLM: cfg.LLM, ReplayTimeout: cfg.Analysis.ReplayTimeout, Sandbox: cfg.Sandbox, Logger: log})
		if err != nil {
			return err
		}
		out := cmd.OutOrStdout()
		if asJSON {
			enc := json.NewEncoder(out)
			enc.SetIndent("", "  ")
			return enc.Encode(res)
		}
		names := make([]string, 0, len(res))
		for k := range res {
			names = append(names, k)
		}
		sort.Strings(names)
		tw := tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "METHOD\tPRECISION\tRECALL\tF1\tFALLBACKS\tTRAJECTORIES/S")
		for _, k := range names {
			s := res[k]
			fmt.Fprintf(tw, "%s\t%.3f\t%.3f\t%.3f\t%d/%d\t%.0f\n", k, s.Precision, s.Recall, s.F1, s.Fallbacks, s.Trajectories, s.PerSecond)
		}
		return tw.Flush()
	}
	f := cc.Flags()
	f.IntVar(&n, "n", 500, "trajectories to generate")
	f.Int64Var(&seed, "seed", 1, "generator seed")
	f.BoolVar(&asJSON, "json", false, "print one JSON object keyed by method")
	f.Int("workers", 0, "trajectories analysed at once (config workers)")
	cmd.AddCommand(cc)
	return cmd
}
