package main

import (
	"encoding/json"
	"errors"
	"strings"

	"github.com/spf13/cobra"

	"github.com/atlas-ai/atlas-learn/columnar/storage"
	"github.com/atlas-ai/atlas-learn/jobs"
)

func newRecallCmd(g *globals) *cobra.Command {
	var kinds string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   `recall "task text" [--memory URI] [--k 5] [--kind strategy,concept,plan] [--json]`,
		Short: "recall the strategies, concepts and plans of the current memory version that fit a task",
		Long: `recall loads the current memory version (<memory>/CURRENT and the recall
index it names), searches it for the task text (BM25 over titles, texts and
cues) and prints the best hits: for people, each hit's rank, kind, title,
score and payload; with --json, one object
{"memory_version", "query", "hits": [{"rank", "kind", "id", "title", "score", "payload"}]}.`,
		Example: `  atlas-learn recall "sort the even numbers in descending order" --memory out/memory
  atlas-learn recall "rotate a grid" --kind strategy,plan --k 3 --json --memory s3://atlas/memory --set s3.endpoint=http://127.0.0.1:9000 --set s3.path_style=true`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, _, err := g.load(cmd, map[string]string{"memory": "memory.uri", "k": "recall.k"})
			if err != nil {
				return err
			}
			q := jobs.RecallQuery{Query: strings.Join(args, " "), K: cfg.Recall.K, Kinds: jobs.ParseRecallKinds(kinds)}
			if err := q.Validate(); err != nil {
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
			m, err := jobs.LoadMemory(ctx, b, "")
			if errors.Is(err, jobs.ErrNoMemory) {
				return &jobs.NoMemoryError{Location: storage.Redact(uri)}
			}
			if err != nil {
				return err
			}
			res, err := m.Recall(q)
			if err != nil {
				return err
			}
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(res)
			}
			return jobs.WriteRecallText(cmd.OutOrStdout(), res)
		},
	}
	f := cmd.Flags()
	f.String("memory", "", "memory root: a directory or s3://bucket/prefix (config memory.uri; default <output>/memory)")
	f.Int("k", 0, "hits to print, 1..100 (config recall.k, default 5)")
	f.StringVar(&kinds, "kind", "", "only these kinds, comma-separated: strategy, concept, plan")
	f.BoolVar(&asJSON, "json", false, "print one JSON object")
	return cmd
}
