package main

import (
	"errors"

	"github.com/spf13/cobra"
)

func newGenCmd(g *globals) *cobra.Command {
	return &cobra.Command{Use: "gen", Short: "generate trajectories (in progress)",
		RunE: func(*cobra.Command, []string) error { return errors.New("gen: not built yet") }}
}
