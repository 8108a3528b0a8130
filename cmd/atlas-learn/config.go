package main

import (
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"

	"github.com/atlas-ai/atlas-learn/jobs"
)

func newConfigCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "print the effective configuration, or every configuration key",
		Long: `config prints the configuration every command would run with: the embedded
configs/local.yaml, then --config FILE, then the ATLAS_* environment
variables, then --set key=value, validated.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, _, err := g.load(cmd, nil)
			if err != nil {
				return err
			}
			b, err := yaml.Marshal(cfg.Redacted())
			if err != nil {
				return err
			}
			_, err = cmd.OutOrStdout().Write(b)
			return err
		},
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "keys",
		Short: "list every configuration key with its environment variable and type",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 2, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "KEY\tENVIRONMENT\tTYPE")
			for _, k := range jobs.Keys() {
				fmt.Fprintf(tw, "%s\t%s\t%s\n", k.Name, k.Env, k.Type)
			}
			return tw.Flush()
		},
	})
	return cmd
}
