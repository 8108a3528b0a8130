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
	cmd.AddCommand(cc, newEvalRecallCmd(g))
	return cmd
}

func newEvalRecallCmd(g *globals) *cobra.Command {
	var o jobs.EvalRecallOptions
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "recall [--n N] [--seed S] [--held-out 0.2] [--strategies 100000] [--json]",
		Short: "top-1/top-3 accuracy and latency of recall on generated trajectories",
		Long: `eval recall generates N trajectories (as atlas-learn gen does, with seed S),
holds out a share of the task ids, builds documents from the other tasks'
successes (the provisional builder, labelled "builder": "provisional" in
each payload), pads them with synthetic distractors up to --strategies
documents, and queries each held-out task's description: a query is right
when a document built from a task of the same family (the task id before
its last "-") ranks first (top1) or in the first three (top3).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, log, err := g.load(cmd, nil)
			if err != nil {
				return err
			}
			o.Logger = log
			res, err := jobs.EvalRecall(cmd.Context(), o)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if asJSON {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				return enc.Encode(res)
			}
			tw := tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "DOCUMENTS\tQUERIES\tTOP1\tTOP3\tP50_MS\tP99_MS\tBUILD_MS\tLOAD_MS")
			fmt.Fprintf(tw, "%d\t%d\t%.3f\t%.3f\t%.3f\t%.3f\t%.0f\t%.0f\n", res.Documents, res.Queries, res.Top1Accuracy, res.Top3Accuracy, res.P50Ms, res.P99Ms, res.BuildMs, res.LoadMs)
			return tw.Flush()
		},
	}
	f := cmd.Flags()
	f.IntVar(&o.N, "n", 1000, "trajectories to generate")
	f.Int64Var(&o.Seed, "seed", 1, "generator seed")
	f.Float64Var(&o.HeldOut, "held-out", 0.2, "share of task ids held out as queries, in (0, 1)")
	f.IntVar(&o.Strategies, "strategies", 100000, "documents in the index: the built ones padded with synthetic distractors")
	f.BoolVar(&asJSON, "json", false, "print one JSON object")
	return cmd
}
