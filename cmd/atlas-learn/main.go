// Command atlas-learn is the ATLAS learning engine's batch job and its
// tools: import, export, inspect, gen, run, compress, patterns, recall, serve and bench. It holds flags and
// subcommands only; the work is done by the jobs, columnar, compress and
// sft packages.
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/atlas-ai/atlas-learn/jobs"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := newRootCmd().ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "atlas-learn:", err)
		os.Exit(jobs.ExitCode(err))
	}
}

// globals are the flags every subcommand shares.
type globals struct {
	configFile string
	overrides  []string
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
	// A bad flag is a bad configuration (exit status 2), like a bad key.
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &jobs.ConfigError{Err: err} })
	pf := root.PersistentFlags()
	pf.StringVar(&g.configFile, "config", "", "YAML configuration file (default: the embedded configs/local.yaml)")
	pf.StringArrayVar(&g.overrides, "set", nil, "override a configuration key, e.g. --set s3.endpoint=http://127.0.0.1:9000 (repeatable)")
	pf.String("log-level", "", "debug, info, warn or error (config log.level)")
	pf.String("log-format", "", "auto, text or json (config log.format; auto: JSON when stderr is not a terminal)")
	root.AddCommand(newRunCmd(g), newImportCmd(g), newInspectCmd(g), newGenCmd(g), newCompressCmd(g), newPatternsCmd(g), newBenchCmd(g), newConfigCmd(g), newEvalCmd(g), newExportCmd(g), newRecallCmd(g), newServeCmd(g), newFinetuneCmd(g))
	return root
}

// load builds the configuration of cmd: the embedded default, --config,
// the ATLAS_* environment variables, --set, then the command's flags that
// bound names (flag name -> configuration key) and that were given on the
// command line; then it validates the whole and builds the logger.
func (g *globals) load(cmd *cobra.Command, bound map[string]string) (jobs.Config, *slog.Logger, error) {
	cfg, err := jobs.LoadConfig(g.configFile, os.Getenv)
	if err != nil {
		return cfg, nil, &jobs.ConfigError{Err: err}
	}
	for _, kv := range g.overrides {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return cfg, nil, &jobs.ConfigError{Err: fmt.Errorf("--set %q: want key=value", kv)}
		}
		if err := cfg.Set(k, v); err != nil {
			return cfg, nil, &jobs.ConfigError{Err: fmt.Errorf("--set: %w", err)}
		}
	}
	all := map[string]string{"log-level": "log.level", "log-format": "log.format"}
	for f, k := range bound {
		all[f] = k
	}
	names := make([]string, 0, len(all))
	for f := range all {
		names = append(names, f)
	}
	sort.Strings(names)
	for _, name := range names {
		f := cmd.Flags().Lookup(name)
		if f == nil || !f.Changed {
			continue
		}
		if err := cfg.Set(all[name], f.Value.String()); err != nil {
			return cfg, nil, &jobs.ConfigError{Err: fmt.Errorf("--%s: %w", name, err)}
		}
	}
	if err := cfg.Validate(); err != nil {
		return cfg, nil, &jobs.ConfigError{Err: err}
	}
	return cfg, newLogger(cmd.ErrOrStderr(), cfg.Log), nil
}

// isTerminal reports whether w is a terminal (a character device).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

func newLogger(w io.Writer, c jobs.LogConfig) *slog.Logger {
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(c.Level))
	opts := &slog.HandlerOptions{Level: lvl}
	// auto: text for people at a terminal, JSON for log collectors.
	if c.Format == "json" || (c.Format == "auto" && !isTerminal(w)) {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
