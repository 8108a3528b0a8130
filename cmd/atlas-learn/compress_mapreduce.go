package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/atlas-ai/atlas-learn/columnar/storage"
	"github.com/atlas-ai/atlas-learn/compress"
	"github.com/atlas-ai/atlas-learn/jobs"
)

// libraryFile is what `compress reduce` reads and writes: the library so
// far, and whether the last search found nothing more to learn.
type libraryFile struct {
	Abstractions []compress.Abstraction `json:"abstractions"`
	Done         bool                   `json:"done"`
	Search       compress.SearchStats   `json:"search_stats"`
}

// newCompressMapCmd is the map side of the file protocol: one process per
// shard and iteration.
func newCompressMapCmd() *cobra.Command {
	var shard, first int
	var library, summary, rewritten string
	cmd := &cobra.Command{
		Use:   "map --shard I --first-index B --summary SUMMARY.json [--library LIB.json] SHARD.json",
		Short: "map step: rewrite one shard with the library so far and write its summary",
		Long: `The file-based map/reduce protocol of compress, one iteration:
  for each shard i:  atlas-learn compress map --shard i --first-index B_i --library LIB.json --summary S_i.json SHARD_i.json
  then:              atlas-learn compress reduce --max-arity A --library LIB.json --out LIB.json S_0.json S_1.json ...
Repeat while LIB.json says "done": false. SHARD_i.json is a JSON list of programs in Stitch
syntax and B_i the global index of its first program (shards are contiguous slices of the corpus).
The library learned is the same as "atlas-learn compress" learns, for any number of shards.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			progs, err := jobs.ReadPrograms(cmd.Context(), "stitch", args, 0, 1, s3FromEnv())
			if err != nil {
				return err
			}
			sh, err := compress.NewShard(shard, first, progs, compress.DefaultCost(), 0)
			if err != nil {
				return err
			}
			if library != "" {
				lib, err := jobs.ReadLibrary(cmd.Context(), library, s3FromEnv())
				if err != nil {
					return err
				}
				for _, a := range lib {
					if _, err := sh.Apply(a); err != nil {
						return err
					}
				}
			}
			var buf bytes.Buffer
			if err := compress.WriteSummary(&buf, sh.Summary()); err != nil {
				return err
			}
			if err := writeObject(cmd.Context(), summary, buf.Bytes()); err != nil {
				return fmt.Errorf("write summary: %w", err)
			}
			if rewritten != "" {
				b, err := json.MarshalIndent(sh.Programs(), "", "  ")
				if err != nil {
					return err
				}
				if err := writeObject(cmd.Context(), rewritten, append(b, '\n')); err != nil {
					return fmt.Errorf("write rewritten: %w", err)
				}
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.IntVar(&shard, "shard", 0, "shard number (summaries are merged in shard order)")
	fl.IntVar(&first, "first-index", 0, "global index of the shard's first program")
	fl.StringVar(&library, "library", "", "library learned so far (output of reduce, or a RESULT.json)")
	fl.StringVar(&summary, "summary", "", "where to write the shard's summary (required)")
	fl.StringVar(&rewritten, "rewritten", "", "also write the shard's rewritten programs here")
	_ = cmd.MarkFlagRequired("summary")
	return cmd
}

// newCompressReduceCmd is the reduce side: merge summaries, search, extend
// the library.
func newCompressReduceCmd() *cobra.Command {
	var maxArity, workers int
	var library, out string
	cmd := &cobra.Command{
		Use:   "reduce --max-arity A [--library LIB.json] --out LIB.json SUMMARY...",
		Short: "reduce step: merge shard summaries, learn one abstraction, extend the library",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var sums []*compress.Summary
			for _, p := range args {
				data, err := readObject(cmd.Context(), p)
				if err != nil {
					return fmt.Errorf("read summary: %w", err)
				}
				sum, err := compress.ReadSummary(bytes.NewReader(data))
				if err != nil {
					return fmt.Errorf("%s: %w", p, err)
				}
				sums = append(sums, sum)
			}
			var lib []compress.Abstraction
			if library != "" {
				var err error
				if lib, err = jobs.ReadLibrary(cmd.Context(), library, s3FromEnv()); err != nil {
					return err
				}
			}
			corpus := compress.MergeSummaries(compress.DefaultCost(), sums)
			name := compress.NextName("fn_", lib, corpus.HasSymbol)
			a, st, err := compress.Search(cmd.Context(), corpus, maxArity, workers, name)
			if err != nil {
				return err
			}
			res := libraryFile{Abstractions: lib, Done: a == nil, Search: st}
			if a != nil {
				res.Abstractions = append(res.Abstractions, *a)
			}
			b, err := json.MarshalIndent(res, "", "  ")
			if err != nil {
				return err
			}
			if err := writeObject(cmd.Context(), out, append(b, '\n')); err != nil {
				return fmt.Errorf("write library: %w", err)
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.IntVar(&maxArity, "max-arity", 2, "most arguments per abstraction")
	fl.IntVar(&workers, "workers", 1, "goroutines searching (the result does not depend on it)")
	fl.StringVar(&library, "library", "", "library learned so far")
	fl.StringVar(&out, "out", "", "where to write the extended library (required)")
	_ = cmd.MarkFlagRequired("out")
	return cmd
}

// s3FromEnv is the S3 configuration of the compress commands: the
// embedded defaults and the ATLAS_* environment variables.
func s3FromEnv() storage.S3Config {
	cfg, err := jobs.LoadConfig("", os.Getenv)
	if err != nil {
		return storage.S3Config{}
	}
	return cfg.S3
}

// readObject and writeObject move the protocol's files (programs,
// libraries, summaries) through local paths or object storage (s3://), so
// that map and reduce processes on different machines can share them.
func readObject(ctx context.Context, uri string) ([]byte, error) {
	return storage.ReadObject(ctx, uri, s3FromEnv())
}

func writeObject(ctx context.Context, uri string, data []byte) error {
	return storage.WriteObject(ctx, uri, data, s3FromEnv())
}
