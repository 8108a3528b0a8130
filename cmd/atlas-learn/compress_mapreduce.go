package main

import (
	"github.com/spf13/cobra"

	"github.com/atlas-ai/atlas-learn/jobs"
)

// newCompressMapCmd is the map side of the file protocol: one process per
// shard and iteration.
func newCompressMapCmd(g *globals) *cobra.Command {
	var o jobs.MapOptions
	cmd := &cobra.Command{
		Use:   "map --shard I --first-index B --summary SUMMARY.json [--library LIB.json] SHARD",
		Short: "map step: rewrite one shard with the library so far and write its summary",
		Long: `The file-based map/reduce protocol of compress, one iteration:
  for each shard i:  atlas-learn compress map --shard i --first-index B_i --library LIB.json --summary S_i.json SHARD_i
  then:              atlas-learn compress reduce --library LIB.json --out LIB.json S_0.json S_1.json ...
Repeat while LIB.json says "done": false. SHARD_i is an input of compress in the same --format
(a JSON list of programs in Stitch syntax, or Python sources or a trajectory dataset) and B_i the
global index of its first program (shards are contiguous slices of the corpus). Every file may be
a path or an s3:// object. With the same cost model (config concepts.cost) and arity, the library
learned is the one "atlas-learn compress" learns, for any number of shards.`,
		Args: cobra.ExactArgs(1),
	}
	bound := conceptFlags(cmd, costFlags...)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		cfg, _, err := g.load(cmd, bound)
		if err != nil {
			return err
		}
		o.Input, o.Cost, o.S3, o.Workers = args[0], cfg.Concepts.Cost.Model(), cfg.S3, max(cfg.Workers, 1)
		return jobs.CompressMap(cmd.Context(), o)
	}
	fl := cmd.Flags()
	fl.StringVar(&o.Format, "format", "stitch", "shard format: stitch or python")
	fl.IntVar(&o.Shard, "shard", 0, "shard number (summaries are merged in shard order)")
	fl.IntVar(&o.FirstIndex, "first-index", 0, "global index of the shard's first program")
	fl.StringVar(&o.Library, "library", "", "library learned so far (output of reduce, or a RESULT.json)")
	fl.StringVar(&o.Summary, "summary", "", "where to write the shard's summary (required)")
	fl.StringVar(&o.Rewritten, "rewritten", "", "also write the shard's rewritten programs here")
	_ = cmd.MarkFlagRequired("summary")
	return cmd
}

// newCompressReduceCmd is the reduce side: merge summaries, search, extend
// the library.
func newCompressReduceCmd(g *globals) *cobra.Command {
	var o jobs.ReduceOptions
	cmd := &cobra.Command{
		Use:   "reduce [--max-arity A] [--library LIB.json] --out LIB.json SUMMARY...",
		Short: "reduce step: merge shard summaries, learn one abstraction, extend the library",
		Args:  cobra.MinimumNArgs(1),
	}
	bound := conceptFlags(cmd, append([]string{"max-arity", "workers"}, costFlags...)...)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		cfg, _, err := g.load(cmd, bound)
		if err != nil {
			return err
		}
		o.Summaries, o.MaxArity, o.Cost, o.S3 = args, cfg.Concepts.MaxArity, cfg.Concepts.Cost.Model(), cfg.S3
		o.Workers = cfg.Concepts.Workers
		_, err = jobs.CompressReduce(cmd.Context(), o)
		return err
	}
	fl := cmd.Flags()
	fl.StringVar(&o.Library, "library", "", "library learned so far")
	fl.StringVar(&o.Format, "format", "stitch", "the shards' format: stitch, or python (the grammar priced as compress prices it, only concepts that print as Python functions)")
	fl.StringVar(&o.Out, "out", "", "where to write the extended library (required)")
	_ = cmd.MarkFlagRequired("out")
	return cmd
}
