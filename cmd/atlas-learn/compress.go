package main

import (
	"errors"

	"github.com/spf13/cobra"
)

// newCompressCmd is replaced by the compress engine's command.
func newCompressCmd() *cobra.Command {
	return &cobra.Command{Use: "compress", Short: "learn a library of abstractions (in progress)",
		RunE: func(*cobra.Command, []string) error { return errors.New("compress: not built yet") }}
}

// newBenchCmd is replaced by the benchmark command.
func newBenchCmd() *cobra.Command {
	return &cobra.Command{Use: "bench", Short: "benchmarks (in progress)",
		RunE: func(*cobra.Command, []string) error { return errors.New("bench: not built yet") }}
}
