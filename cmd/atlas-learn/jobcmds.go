package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/atlas-ai/atlas-learn/columnar"
	"github.com/atlas-ai/atlas-learn/columnar/storage"
	"github.com/atlas-ai/atlas-learn/jobs"
)

func newRunCmd(g *globals) *cobra.Command {
	var shard string
	var shards int
	var reduce bool
	var wait time.Duration
	cmd := &cobra.Command{
		Use:   "run",
		Short: "run the nightly job: read trajectories, process them, commit datasets and a manifest",
		Example: `  atlas-learn run                                   # embedded defaults: testdata/trajectories -> out/
  atlas-learn run --input s3://trajectories/raw --output s3://atlas/out --set s3.endpoint=http://127.0.0.1:9000 --set s3.path_style=true
  atlas-learn run --shard 0/4 ...; ...; atlas-learn run --shard 3/4 ...   # map step: one process per shard
  atlas-learn run --reduce --shards 4 ...                                  # reduce step: batch stages over all four`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, log, err := g.load(cmd, map[string]string{"input": "input", "output": "output", "run-id": "run_id", "on-error": "on_error", "workers": "workers", "stages": "stages"})
			if err != nil {
				return err
			}
			ro, err := sharding(cmd, shard, shards, reduce, wait)
			if err != nil {
				return err
			}
			if isTerminal(cmd.ErrOrStderr()) {
				ro.Progress = cmd.ErrOrStderr()
			}
			res, err := jobs.RunWithOptions(cmd.Context(), cfg, log, ro)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if res.NothingNew {
				fmt.Fprintf(out, "nothing new: the memory has processed all %d input files (incremental: true); nothing was run or written\n", res.SkippedFiles)
				return nil
			}
			if res.Shard != nil {
				state := "committed"
				if res.AlreadyCommitted {
					state = "already committed (nothing run)"
				}
				fmt.Fprintf(out, "shard %s %s: %s/%s/%s: %d input files, %d trajectories read, %d skipped\n", res.Shard, state,
					strings.TrimSuffix(storage.Redact(cfg.Output), "/"), res.RunDir, columnar.RunManifest, res.Manifest.Counters["files_read"], res.Manifest.Counters["rows_read"], res.Manifest.Counters["rows_skipped"])
				return nil
			}
			for _, w := range res.Manifest.Warnings {
				fmt.Fprintf(out, "WARNING: %s\n", w)
			}
			fmt.Fprintf(out, "committed %s/%s/%s: %d trajectories read, %d skipped\n",
				strings.TrimSuffix(storage.Redact(cfg.Output), "/"), res.RunDir, columnar.RunManifest, res.Manifest.Counters["rows_read"], res.Manifest.Counters["rows_skipped"])
			for _, d := range res.Manifest.Datasets {
				fmt.Fprintf(out, "  %-20s %-20s %8d rows  %3d files  (stage %s)\n", d.Name, d.Schema+"/v"+strconv.Itoa(int(d.SchemaVersion)), d.Rows, len(d.Files), d.Stage)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.String("input", "", "input location: path, file:// or s3://bucket/prefix (config input)")
	f.String("output", "", "output location (config output)")
	f.String("run-id", "", "run identifier (config run_id; default derived from the input and config)")
	f.String("on-error", "", "fail or skip: what a bad record does (config on_error)")
	f.Int("workers", 0, "parallel workers (config workers)")
	f.String("stages", "", "comma-separated stages to run (config stages), e.g. trajectories,concepts")
	f.StringVar(&shard, "shard", "", "map step of a many-worker run: run the trajectory stages over shard i/N of the input files (i from 0)")
	f.IntVar(&shards, "shards", 0, "the number of shards: with --reduce, the shards to merge; alone, the map step's count, the index coming from $JOB_COMPLETION_INDEX (a Kubernetes Indexed Job)")
	f.BoolVar(&reduce, "reduce", false, "reduce step of a many-worker run: adopt the --shards committed shards and run the batch stages over the whole batch")
	f.DurationVar(&wait, "wait", 0, "with --reduce: wait this long for shards still being written (e.g. 2h)")
	return cmd
}

// sharding reads the many-worker flags: --shard i/N, or --shards N with
// the index from JOB_COMPLETION_INDEX, or --reduce --shards N [--wait D].
func sharding(cmd *cobra.Command, shard string, shards int, reduce bool, wait time.Duration) (jobs.RunOptions, error) {
	var ro jobs.RunOptions
	bad := func(format string, a ...any) (jobs.RunOptions, error) {
		return ro, &jobs.ConfigError{Err: fmt.Errorf(format, a...)}
	}
	if cmd.Flags().Changed("wait") && !reduce {
		return bad("--wait is for the reduce step (--reduce)")
	}
	switch {
	case reduce && shard != "":
		return bad("--reduce merges shards; --shard runs one: give one of them")
	case reduce:
		if shards < 1 {
			return bad("--reduce needs --shards N, the number of shards the map step ran")
		}
		ro.Reduce, ro.Wait = shards, wait
	case shard != "":
		sh, err := jobs.ParseShard(shard)
		if err != nil {
			return bad("--shard: %w", err)
		}
		if shards != 0 && shards != sh.Count {
			return bad("--shard %s and --shards %d disagree", shard, shards)
		}
		ro.Shard = sh
	case shards != 0:
		idx, ok := os.LookupEnv("JOB_COMPLETION_INDEX")
		if !ok {
			return bad("--shards %d without --shard or --reduce takes the shard index from JOB_COMPLETION_INDEX, which is not set", shards)
		}
		sh, err := jobs.ParseShard(idx + "/" + strconv.Itoa(shards))
		if err != nil {
			return bad("JOB_COMPLETION_INDEX=%q with --shards %d: %w", idx, shards, err)
		}
		ro.Shard = sh
	}
	return ro, nil
}

func newImportCmd(g *globals) *cobra.Command {
	var from, output string
	var results []string
	var appendTo bool
	cmd := &cobra.Command{
		Use:   "import --from FORMAT --output URI [--results FILE]... [--append] FILES...",
		Short: "convert SWE-agent, mini-swe-agent, OpenAI-chat, OpenHands, ATIF, foreign Parquet or native JSONL trajectories to the canonical Parquet dataset",
		Example: `  atlas-learn import --from swe-agent --output data/swe ../shared/data/trajectories/swe-agent/*.traj
  atlas-learn import --from openai-chat --on-error skip --output s3://bucket/chat dataset.jsonl
  atlas-learn import --from swe-agent --results gpt-4o.run1.json --output data/swe runs/*/*.traj   # --results once per file: a glob after it would be read as trajectories
  atlas-learn import --from auto --append --output data/all new-run.traj   # add to the dataset at data/all`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, files []string) error {
			cfg, log, err := g.load(cmd, map[string]string{"on-error": "on_error", "map": "import.map"})
			if err != nil {
				return err
			}
			mapping := cfg.Import.Map // import.map applies to --from parquet and auto; an explicit --map is checked for any format
			if from != "parquet" && from != "auto" && !cmd.Flags().Changed("map") {
				mapping = ""
			}
			m, err := jobs.Import(cmd.Context(), jobs.ImportOptions{Format: from, Files: files, Output: output, OnError: cfg.OnError, S3: cfg.S3, Parquet: cfg.Parquet, Results: results, Map: mapping, Append: appendTo, Partition: cfg.Import.Partition}, log)
			if err != nil {
				return err
			}
			if n, ok := m.Counters["append_previous_rows"]; ok {
				fmt.Fprintf(cmd.OutOrStdout(), "imported %d trajectories (%d skipped) into %s, after the %d already there: %d in all\n", m.Counters["append_rows_imported"], m.Counters["append_rows_skipped"], storage.Redact(output), n, m.Counters["rows_imported"])
			} else {
				fmt.Fprintf(cmd.OutOrStdout(), "imported %d trajectories (%d skipped) into %s\n", m.Counters["rows_imported"], m.Counters["rows_skipped"], storage.Redact(output))
			}
			if n := m.Counters["duplicate_ids"]; n > 0 {
				fmt.Fprintf(cmd.OutOrStdout(), "WARNING: %d records skipped for a duplicate trajectory_id\n", n)
			}
			if len(results) > 0 {
				fmt.Fprintf(cmd.OutOrStdout(), "evaluation results: %d trajectories matched, %d without a result (heuristic kept), %d results for instances not imported\n", m.Counters["results_matched"], m.Counters["results_unmatched"], m.Counters["results_unused"])
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&from, "from", "", "source format: swe-agent, mini-swe-agent, openai-chat, openhands, atif, parquet, jsonl, or auto to detect each file's format from its content (required)")
	f.String("map", "", "with --from parquet: the column mapping, a built-in (chat, swe-smith, nebius; default chat) or a YAML mapping file (config import.map)")
	f.StringVar(&output, "output", "", "output dataset location (required)")
	f.String("on-error", "", "fail or skip: what a bad record does (config on_error)")
	f.BoolVar(&appendTo, "append", false, "add the trajectories to the dataset already at --output (its small part files are rewritten with them) instead of replacing it")
	f.StringArrayVar(&results, "results", nil, "SWE-bench evaluation results (per-instance report.json or a combined report with resolved_ids); sets outcome.success and reward from them (repeatable)")
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
			cfg, _, err := g.load(cmd, nil)
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
	return cmd
}
