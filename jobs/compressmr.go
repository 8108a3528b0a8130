package jobs

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"

	"github.com/atlas-ai/atlas-learn/columnar/storage"
	"github.com/atlas-ai/atlas-learn/compress"
	"github.com/atlas-ai/atlas-learn/compress/pyfront"
)

// The file protocol of compress's map/reduce, for learning one library
// across processes or machines that share only object storage. One
// iteration is a map step per shard (CompressMap: rewrite the shard with
// the library so far, write its summary) and one reduce step
// (CompressReduce: merge the summaries, learn one abstraction, extend the
// library). Repeat while the library file says "done": false. The library
// learned is the one Compress learns, for any number of shards, given the
// same cost model and input format.

// LibraryFile is what the reduce step reads and writes: the library so
// far, and whether the last search found nothing more to learn.
type LibraryFile struct {
	Abstractions []compress.Abstraction `json:"abstractions"`
	Done         bool                   `json:"done"`
	Search       compress.SearchStats   `json:"search_stats"`
}

// MapOptions configures one map step.
type MapOptions struct {
	// Format and Input are as for Compress: a stitch JSON list of
	// programs, or python sources or a trajectory dataset.
	Format string
	Input  string
	// Shard is the shard's number (summaries merge in shard order) and
	// FirstIndex the global index of its first program.
	Shard, FirstIndex int
	// Library is the library so far ("" for none); Summary where the
	// shard's summary goes; Rewritten, when set, where its rewritten
	// programs go.
	Library, Summary, Rewritten string
	Cost                        compress.CostModel
	Workers                     int
	S3                          storage.S3Config
}

// CompressMap runs one map step.
func CompressMap(ctx context.Context, o MapOptions) error {
	if o.Summary == "" {
		return fmt.Errorf("map: no summary location")
	}
	var progs []string
	cost := o.Cost.OrDefault()
	if o.Format == "python" {
		// as compress reads a python corpus (file units, normalised, the
		// grammar priced low); shared helpers need the whole corpus and
		// are not extracted per shard
		ps, err := ReadPythonCorpus(ctx, []string{o.Input}, 0, max(o.Workers, 1), o.S3, pyfront.EncodeOptions{Unit: pyfront.UnitFile, Inline: true}, false)
		if err != nil {
			return err
		}
		for _, p := range ps {
			progs = append(progs, p.Term)
		}
		cost = grammarCost(cost, DefaultGrammarCost)
	} else {
		var err error
		if progs, err = ReadPrograms(ctx, o.Format, []string{o.Input}, 0, max(o.Workers, 1), o.S3); err != nil {
			return err
		}
	}
	sh, err := compress.NewShard(o.Shard, o.FirstIndex, progs, cost, 0)
	if err != nil {
		return err
	}
	if o.Library != "" {
		lib, err := ReadLibrary(ctx, o.Library, o.S3)
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
	if err := storage.WriteObject(ctx, o.Summary, buf.Bytes(), o.S3); err != nil {
		return fmt.Errorf("write summary: %w", err)
	}
	if o.Rewritten != "" {
		b, err := json.MarshalIndent(sh.Programs(), "", "  ")
		if err != nil {
			return err
		}
		if err := storage.WriteObject(ctx, o.Rewritten, append(b, '\n'), o.S3); err != nil {
			return fmt.Errorf("write rewritten: %w", err)
		}
	}
	return nil
}

// ReduceOptions configures one reduce step.
type ReduceOptions struct {
	Summaries []string
	// Library is the library so far ("" for none); Out where the extended
	// library goes (it may be Library).
	Library, Out string
	MaxArity     int
	Workers      int
	Cost         compress.CostModel
	S3           storage.S3Config
	// Format "python" prices the grammar as compress does and learns only
	// admitted concepts (pyfront.Admissible); anything else: Stitch's way.
	Format string
}

// CompressReduce runs one reduce step and returns the library written.
func CompressReduce(ctx context.Context, o ReduceOptions) (*LibraryFile, error) {
	if o.Out == "" {
		return nil, fmt.Errorf("reduce: no output location")
	}
	var sums []*compress.Summary
	for _, p := range o.Summaries {
		data, err := storage.ReadObject(ctx, p, o.S3)
		if err != nil {
			return nil, fmt.Errorf("read summary: %w", err)
		}
		sum, err := compress.ReadSummary(bytes.NewReader(data))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", storage.Redact(p), err)
		}
		sums = append(sums, sum)
	}
	var lib []compress.Abstraction
	if o.Library != "" {
		var err error
		if lib, err = ReadLibrary(ctx, o.Library, o.S3); err != nil {
			return nil, err
		}
	}
	cost := o.Cost.OrDefault()
	var admit func(string, int) bool
	if o.Format == "python" {
		cost = grammarCost(cost, DefaultGrammarCost)
	}
	corpus := compress.MergeSummaries(cost, sums)
	name := compress.NextName("fn_", lib, corpus.HasSymbol)
	if o.Format == "python" {
		admit = func(body string, arity int) bool {
			return admitPython(lib, compress.Abstraction{Name: name, Body: body, Arity: arity}) == nil
		}
	}
	a, st, err := compress.SearchAdmit(ctx, corpus, o.MaxArity, max(o.Workers, 1), name, admit)
	if err != nil {
		return nil, err
	}
	if a != nil && o.Format == "python" {
		a.Body = compress.ArgsInOrder(a.Body)
	}
	res := &LibraryFile{Abstractions: lib, Done: a == nil, Search: st}
	if a != nil {
		res.Abstractions = append(res.Abstractions, *a)
	}
	b, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := storage.WriteObject(ctx, o.Out, append(b, '\n'), o.S3); err != nil {
		return nil, fmt.Errorf("write library: %w", err)
	}
	return res, nil
}
