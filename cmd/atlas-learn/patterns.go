package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/atlas-ai/atlas-learn/jobs/analysis/patterns"
)

func newPatternsCmd(g *globals) *cobra.Command {
	var asJSON bool
	o := patterns.DefaultOptions()
	cmd := &cobra.Command{
		Use:   "patterns [--json] FILE...",
		Short: "mine error messages (one a line) into templates, Drain-style",
		Long: `patterns reads one message per line from each FILE ("-" for standard input),
in order, mines them into templates (variables as <*>) and prints, for each
input line in order, "<template_id>\t<template>".

With --json it prints one JSON object instead:
  {"templates": [{"id", "template", "count", "first", "last", "examples"}...],
   "assignments": [template id of each input line...]}
where first, last and examples are 0-based line indexes over all FILEs.`,
		Example: `  atlas-learn patterns errors.txt
  grep -h Error logs/*.log | atlas-learn patterns --json -`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, files []string) error {
			_, log, err := g.load(cmd, nil)
			if err != nil {
				return err
			}
			m, err := patterns.New(o)
			if err != nil {
				return err
			}
			for _, name := range files {
				if err := addFile(cmd, m, name); err != nil {
					return err
				}
			}
			res := m.Result()
			log.Debug("patterns mined", "messages", m.Len(), "templates", len(res.Templates))
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetEscapeHTML(false) // templates keep their <*>
				if err := enc.Encode(res); err != nil {
					return fmt.Errorf("write JSON: %w", err)
				}
				return nil
			}
			return res.WriteLines(cmd.OutOrStdout())
		},
	}
	f := cmd.Flags()
	f.BoolVar(&asJSON, "json", false, "print one JSON object: templates and assignments")
	f.Float64Var(&o.SimThreshold, "sim-threshold", o.SimThreshold, "least similarity for a message to join a cluster, in (0, 1]")
	f.IntVar(&o.Depth, "depth", o.Depth, "leading tokens keying the parse tree")
	f.IntVar(&o.MinDistinct, "min-distinct", o.MinDistinct, "distinct words making a position a variable (fewer split the cluster; 0: never split)")
	f.BoolVar(&o.Merge, "merge", o.Merge, "merge templates that differ only in their variables")
	return cmd
}

// addFile adds the lines of one FILE argument ("-": standard input).
func addFile(cmd *cobra.Command, m *patterns.Miner, name string) error {
	var r io.Reader = cmd.InOrStdin()
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return fmt.Errorf("patterns: %w", err)
		}
		defer f.Close()
		r = f
	}
	if _, err := m.AddLines(cmd.Context(), r); err != nil {
		return fmt.Errorf("patterns: %s: %w", name, err)
	}
	return nil
}
