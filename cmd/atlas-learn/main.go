// Command atlas-learn is the ATLAS learning engine's batch job and tools:
// import, inspect, gen, run, compress and bench.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := newRootCmd().ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "atlas-learn:", err)
		os.Exit(1)
	}
}

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "atlas-learn",
		Short:         "ATLAS learning engine: turn agent trajectories into concepts, strategies and fine-tuning data",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newCompressCmd(), newBenchCmd())
	return root
}
