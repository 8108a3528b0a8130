// Command atlas-learn is the ATLAS learning engine's batch job and its
// tools: import, inspect, gen, run, compress and bench. It holds flags and
// subcommands only; the work is done by the jobs, columnar, compress and
// sft packages.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/atlas-ai/atlas-learn/jobs"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := newRootCmd().ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "atlas-learn:", err)
		os.Exit(1)
	}
}

// globals are the flags every subcommand shares.
type globals struct {
	configFile string
	overrides  []string
	logLevel   string
	logFormat  string
}

func newRootCmd() *cobra.Command {
	g := &globals{}
	root := &cobra.Command{
		Use:   "atlas-learn",
		Short: "ATLAS learning engine: turn agent trajectories into concepts, strategies and fine-tuning data",
		Long: `atlas-learn is a batch job over object storage. It reads trajectory
partitions (Parquet or JSONL, local or s3://), analyses them and writes
datasets back with a manifest that is written last.

Configuration: the embedded configs/local.yaml, then --config FILE, then
ATLAS_* environment variables, then --set key=value and the flags.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	pf := root.PersistentFlags()
	pf.StringVar(&g.configFile, "config", "", "YAML configuration file (default: the embedded configs/local.yaml)")
	pf.StringArrayVar(&g.overrides, "set", nil, "override a configuration key, e.g. --set s3.endpoint=http://127.0.0.1:9000 (repeatable)")
	pf.StringVar(&g.logLevel, "log-level", "", "debug, info, warn or error (config log.level)")
	pf.StringVar(&g.logFormat, "log-format", "", "text or json (config log.format)")
	root.AddCommand(newRunCmd(g), newImportCmd(g), newInspectCmd(g), newGenCmd(g), newCompressCmd(), newBenchCmd())
	return root
}

// load builds the configuration: embedded default, file, environment,
// --set, then the given flag values (applied when non-empty).
func (g *globals) load(flags map[string]string) (jobs.Config, *slog.Logger, error) {
	cfg, err := jobs.LoadConfig(g.configFile, os.Getenv)
	if err != nil {
		return cfg, nil, err
	}
	for _, kv := range g.overrides {
		k, v, ok := cutEq(kv)
		if !ok {
			return cfg, nil, fmt.Errorf("--set %q: want key=value", kv)
		}
		if err := cfg.Set(k, v); err != nil {
			return cfg, nil, fmt.Errorf("--set: %w", err)
		}
	}
	flags["log.level"], flags["log.format"] = g.logLevel, g.logFormat
	for _, k := range []string{"input", "output", "run_id", "on_error", "workers", "log.level", "log.format"} {
		if v := flags[k]; v != "" {
			if err := cfg.Set(k, v); err != nil {
				return cfg, nil, err
			}
		}
	}
	if err := cfg.Validate(); err != nil {
		return cfg, nil, fmt.Errorf("configuration: %w", err)
	}
	return cfg, newLogger(cfg.Log), nil
}

func cutEq(s string) (string, string, bool) {
	for i := 0; i < len(s); i++ {
		if s[i] == '=' {
			return s[:i], s[i+1:], true
		}
	}
	return "", "", false
}

func newLogger(c jobs.LogConfig) *slog.Logger {
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(c.Level))
	opts := &slog.HandlerOptions{Level: lvl}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, opts))
}
