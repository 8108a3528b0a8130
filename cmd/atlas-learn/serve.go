package main

import (
	"github.com/spf13/cobra"

	"github.com/atlas-ai/atlas-learn/jobs"
)

func newServeCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "serve [--memory URI] [--addr 127.0.0.1:8080] [--reload-interval 10s]",
		Short: "serve recall over HTTP from the current memory version, reloading when a run publishes a new one",
		Long: `serve answers agents over HTTP:

  GET /v1/recall?q=TEXT&k=5&kind=strategy,plan   the JSON of atlas-learn recall --json
  GET /healthz                                   {"status":"ok","memory_version":...,"documents":N}

Bad queries get 400 with {"error": ...} (missing or empty q, k not in 1..100,
an unknown kind, q over 4096 bytes); other paths 404; methods other than GET
405; and every request 503 until a memory version is loaded. serve polls
<memory>/CURRENT every reload interval and, when it names a new version,
loads that version's index in the background and swaps it in atomically
(requests in flight finish on the old one; a version that fails to load is
logged and the old one kept). SIGINT or SIGTERM shut it down gracefully.
A local memory directory must exist; an empty one is served with 503 until
a run writes a version into it. Requests are logged at --log-level debug.`,
		Example: `  atlas-learn serve --memory out/memory
  curl 'http://127.0.0.1:8080/v1/recall?q=reverse+the+words&k=3'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, log, err := g.load(cmd, map[string]string{"memory": "memory.uri", "addr": "recall.addr", "reload-interval": "recall.reload_interval"})
			if err != nil {
				return err
			}
			uri, err := cfg.MemoryURI()
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			b, err := jobs.OpenMemoryRoot(ctx, uri, cfg.S3)
			if err != nil {
				return err
			}
			defer b.Close()
			return jobs.ServeRecall(ctx, jobs.ServeRecallOptions{Bucket: b, Addr: cfg.Recall.Addr, ReloadInterval: cfg.Recall.ReloadInterval, Logger: log})
		},
	}
	f := cmd.Flags()
	f.String("memory", "", "memory root: a directory or s3://bucket/prefix (config memory.uri; default <output>/memory)")
	f.String("addr", "", "listen address host:port (config recall.addr, default 127.0.0.1:8080)")
	f.String("reload-interval", "", "how often to poll CURRENT for a new version (config recall.reload_interval, default 10s)")
	return cmd
}
