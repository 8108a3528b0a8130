package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/atlas-ai/atlas-learn/columnar"
	"github.com/atlas-ai/atlas-learn/columnar/storage"
	"github.com/atlas-ai/atlas-learn/jobs"
)

func newRunCmd(g *globals) *cobra.Command {
	var input, output, runID, onError string
	var workers int
	cmd := &cobra.Command{
		Use:   "run",
		Short: "run the nightly job: read trajectories, process them, commit datasets and a manifest",
		Example: `  atlas-learn run                                   # embedded defaults: testdata/trajectories -> out/
  atlas-learn run --input s3://trajectories/raw --output s3://atlas/out --set s3.endpoint=http://127.0.0.1:9000 --set s3.path_style=true`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, log, err := g.load(map[string]string{"input": input, "output": output, "run_id": runID, "on_error": onError, "workers": itoa(workers)})
			if err != nil {
				return err
			}
			res, err := jobs.Run(cmd.Context(), cfg, log)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "committed %s/%s/%s: %d trajectories read, %d skipped\n",
				strings.TrimSuffix(storage.Redact(cfg.Output), "/"), res.RunDir, columnar.RunManifest, res.Manifest.Counters["rows_read"], res.Manifest.Counters["rows_skipped"])
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&input, "input", "", "input location: path, file:// or s3://bucket/prefix (config input)")
	f.StringVar(&output, "output", "", "output location (config output)")
	f.StringVar(&runID, "run-id", "", "run identifier (config run_id; default derived from the input and config)")
	f.StringVar(&onError, "on-error", "", "fail or skip: what a bad record does (config on_error)")
	f.IntVar(&workers, "workers", 0, "parallel file workers (config workers)")
	return cmd
}

func itoa(n int) string {
	if n == 0 {
		return ""
	}
	return strconv.Itoa(n)
}

func newImportCmd(g *globals) *cobra.Command {
	var from, output, onError string
	cmd := &cobra.Command{
		Use:   "import --from FORMAT --output URI FILES...",
		Short: "convert SWE-agent, mini-swe-agent, OpenAI-chat or native JSONL trajectories to the canonical Parquet dataset",
		Example: `  atlas-learn import --from swe-agent --output data/swe ../shared/data/trajectories/swe-agent/*.traj
  atlas-learn import --from openai-chat --on-error skip --output s3://bucket/chat dataset.jsonl`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, files []string) error {
			cfg, log, err := g.load(map[string]string{"on_error": onError})
			if err != nil {
				return err
			}
			m, err := jobs.Import(cmd.Context(), jobs.ImportOptions{Format: from, Files: files, Output: output, OnError: cfg.OnError, S3: cfg.S3, Parquet: cfg.Parquet}, log)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "imported %d trajectories (%d skipped) into %s\n", m.Counters["rows_imported"], m.Counters["rows_skipped"], storage.Redact(output))
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&from, "from", "", "source format: swe-agent, mini-swe-agent, openai-chat or jsonl (required)")
	f.StringVar(&output, "output", "", "output dataset location (required)")
	f.StringVar(&onError, "on-error", "", "fail or skip: what a bad record does")
	_ = cmd.MarkFlagRequired("from")
	_ = cmd.MarkFlagRequired("output")
	return cmd
}

func newInspectCmd(g *globals) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "inspect URI",
		Short: "summarise a trajectory dataset: schema version, partitions, rows, success rate",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, _, err := g.load(map[string]string{})
			if err != nil {
				return err
			}
			in, err := jobs.Inspect(cmd.Context(), args[0], cfg.S3)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if asJSON {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				return enc.Encode(in)
			}
			fmt.Fprintf(out, "location        %s\nschema_version  %d\nmanifest        %v\nfiles           %d (%d bytes)\npartitions      %d %s\nrows            %d\nsuccesses       %d (%.1f%%)\nsteps           %d\n",
				in.Location, in.SchemaVersion, in.HasManifest, in.Files, in.Bytes, len(in.Partitions), strings.Join(in.Partitions, " "), in.Rows, in.Successes, 100*in.SuccessRate, in.Steps)
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON object")
	_ = os.Stdout
	return cmd
}
