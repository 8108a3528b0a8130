package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/atlas-ai/atlas-learn/columnar/storage"
	"github.com/atlas-ai/atlas-learn/compress"
	"github.com/atlas-ai/atlas-learn/compress/pyfront"
)

// CompressOutput is the RESULT.json document of `atlas-learn compress`.
type CompressOutput struct {
	compress.Result
	Format                  string             `json:"format"`
	Cost                    compress.CostModel `json:"cost_model"`
	Iterations              int                `json:"iterations"`
	MaxArity                int                `json:"max_arity"`
	Inputs                  []string           `json:"inputs"`
	Programs                int                `json:"programs"`
	HoldoutFraction         float64            `json:"holdout_fraction,omitempty"`
	Seed                    uint64             `json:"seed,omitempty"`
	HoldoutIndices          []int              `json:"holdout_indices,omitempty"`
	HoldoutOriginalCost     int64              `json:"holdout_original_cost,omitempty"`
	HoldoutFinalCost        int64              `json:"holdout_final_cost,omitempty"`
	HoldoutCompressionRatio float64            `json:"holdout_compression_ratio,omitempty"`
	Python                  *PythonRendering   `json:"python,omitempty"`
	ElapsedMS               int64              `json:"elapsed_ms"`
	PeakRSSBytes            int64              `json:"peak_rss_bytes"`
}

// CompressOptions configures Compress.
type CompressOptions struct {
	// Format is "stitch" (JSON lists of programs) or "python" (.py files,
	// directories of them, or trajectory datasets).
	Format string
	Inputs []string
	// Limit caps the solutions taken from trajectory datasets (0: all).
	Limit      int
	Iterations int
	MaxArity   int
	Workers    int
	Shards     int
	// Library is the location of a previous RESULT.json to extend, or "".
	Library string
	// Holdout is the fraction of programs held out of training (0: none).
	Holdout float64
	Seed    uint64
	// SearchTimeout and StopOnTimeout bound the search (see
	// compress.Options; config concepts.search_timeout and
	// on_search_timeout).
	SearchTimeout time.Duration
	StopOnTimeout bool
	Cost          compress.CostModel
	S3            storage.S3Config
	Logger        *slog.Logger

	// Python format only.
	//
	// Unit is "file" (default) or "function": one program per top-level
	// function definition.
	Unit string
	// NoInline turns off the data-flow normalisation (single-use pure
	// locals inlined into the expression reading them).
	NoInline bool
	// GrammarCost is the cost of each of Python's grammar atoms
	// (pyfront.GrammarAtoms) not priced by Cost.Prim; 0 means
	// DefaultGrammarCost, a negative value prices them like any primitive.
	GrammarCost int64
	// VerifyWith is a Python test program run in the sandbox on every
	// original and rewritten program (see verifyPython); "" for none.
	VerifyWith string
	// Sandbox configures the sandbox of VerifyWith.
	Sandbox SandboxConfig
	// CorpusOut, when set, is where the corpus the search sees is written
	// as a JSON list of programs in Stitch syntax (for the python format:
	// after normalisation and helper extraction), for other engines.
	CorpusOut string
}

// DefaultGrammarCost is the python format's price of a grammar atom: that
// of an application, so that concepts are valued by the domain's names and
// literals they factor out.
const DefaultGrammarCost = 1

// Compress reads the corpus, learns a library, rewrites held-out programs
// with it and, for Python, renders the result as Python: the document
// `atlas-learn compress` writes.
func Compress(ctx context.Context, o CompressOptions) (*CompressOutput, error) {
	start := time.Now()
	if o.Holdout < 0 || o.Holdout >= 1 || math.IsNaN(o.Holdout) {
		return nil, fmt.Errorf("--holdout must be in [0, 1), got %v", o.Holdout)
	}
	logger := o.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	var programs []string
	var progs []PyProgram
	var helpers []pyfront.Helper
	var err error
	cost := o.Cost
	if o.Format == "python" {
		unit, err := pyfront.ParseUnit(o.Unit)
		if err != nil {
			return nil, fmt.Errorf("--unit: %w", err)
		}
		enc := pyfront.EncodeOptions{Unit: unit, Inline: !o.NoInline}
		if progs, err = ReadPythonCorpus(ctx, o.Inputs, o.Limit, o.Workers, o.S3, enc, o.VerifyWith != ""); err != nil {
			return nil, err
		}
		for _, p := range progs {
			programs = append(programs, p.Term)
		}
		if unit == pyfront.UnitFile {
			if programs, helpers, err = pyfront.SharedHelpers(programs); err != nil {
				return nil, err
			}
			for i := range progs {
				progs[i].Term = programs[i]
			}
		}
		gc := o.GrammarCost
		if gc == 0 {
			gc = DefaultGrammarCost
		}
		cost = grammarCost(cost, gc)
	} else if programs, err = ReadPrograms(ctx, o.Format, o.Inputs, o.Limit, o.Workers, o.S3); err != nil {
		return nil, err
	}
	var lib []compress.Abstraction
	if o.Library != "" {
		if lib, err = ReadLibrary(ctx, o.Library, o.S3); err != nil {
			return nil, err
		}
	}
	shards := o.Shards
	if shards <= 0 {
		shards = max(o.Workers, 1)
	}
	opts := compress.Options{Iterations: o.Iterations, MaxArity: o.MaxArity, Workers: o.Workers,
		Shards: shards, Library: lib, Logger: logger, Cost: cost,
		SearchTimeout: o.SearchTimeout, StopOnTimeout: o.StopOnTimeout}
	if o.Format == "python" {
		opts.Admit = admitPython
		opts.ArgsInOrder = true
	}
	if o.CorpusOut != "" {
		b, err := json.Marshal(programs)
		if err != nil {
			return nil, fmt.Errorf("--corpus-out: %w", err)
		}
		if err := storage.WriteObject(ctx, o.CorpusOut, b, o.S3); err != nil {
			return nil, fmt.Errorf("--corpus-out: %w", err)
		}
	}
	train, held, heldIdx := SplitHoldout(programs, o.Holdout, o.Seed)
	trainProgs := progs
	if len(heldIdx) > 0 {
		trainProgs = nil
		for i, p := range progs {
			if !slices.Contains(heldIdx, i) {
				trainProgs = append(trainProgs, p)
			}
		}
	}
	// each shared helper's definition is in the training corpus once
	for _, h := range helpers {
		train = append(train, h.HelperProgram())
		trainProgs = append(trainProgs, PyProgram{Source: "helper", Name: h.Name, Term: h.HelperProgram(), Helper: h.Ref})
	}
	res, err := compress.Compress(ctx, train, opts)
	if err != nil {
		return nil, err
	}
	out := &CompressOutput{Result: *res, Format: o.Format, Cost: cost, Iterations: o.Iterations, MaxArity: o.MaxArity,
		Inputs: o.Inputs, Programs: len(programs)}
	if o.Holdout > 0 {
		out.HoldoutFraction, out.Seed, out.HoldoutIndices = o.Holdout, o.Seed, heldIdx
		if len(held) > 0 {
			hr, err := compress.Rewrite(ctx, held, res.Abstractions, opts)
			if err != nil {
				return nil, fmt.Errorf("holdout: %w", err)
			}
			out.HoldoutOriginalCost, out.HoldoutFinalCost = hr.OriginalCost, hr.FinalCost
			out.HoldoutCompressionRatio = hr.CompressionRatio
		}
	}
	if o.Format == "python" {
		r := RenderPython(ctx, res, trainProgs, helpers, max(o.Workers, 1), !o.NoInline)
		if len(r.Errors) > 0 {
			return nil, fmt.Errorf("python: %d concepts or programs cannot be printed; first: %s", len(r.Errors), r.Errors[0])
		}
		if o.VerifyWith != "" {
			ex, closeFn, warn, err := newExecutor(ctx, o.Sandbox, max(o.Workers, 1), logger)
			if err != nil {
				return nil, fmt.Errorf("--verify-with: %w", err)
			}
			defer closeFn()
			if warn != "" {
				logger.Warn(warn)
			}
			env, err := ex.Environment(ctx)
			if err != nil {
				return nil, fmt.Errorf("--verify-with: %w", err)
			}
			if r, err = verifyPython(ctx, ex, env, o.VerifyWith, res, trainProgs, r, max(o.Workers, 1), logger); err != nil {
				return nil, err
			}
			for _, d := range r.Verification.Differences {
				if !d.Resolved {
					return nil, fmt.Errorf("--verify-with: %s runs differently after the rewrite even with every concept it calls inlined: original %s, rewritten %s", d.Program, d.Original, d.Rewrite)
				}
			}
		}
		out.Python = r
	}
	out.ElapsedMS = time.Since(start).Milliseconds()
	out.PeakRSSBytes = PeakRSS()
	logger.Info("compressed", "original_cost", res.OriginalCost, "final_cost", res.FinalCost,
		"ratio", res.CompressionRatio, "elapsed", time.Since(start))
	return out, nil
}

// readPrograms loads the corpus from the inputs in order.
// ReadPrograms reads a corpus: with format "stitch" each input is a JSON
// list of programs in Stitch syntax; with "python" each input is a .py
// file, a directory of them (in lexical order), or a trajectory dataset
// whose successful solutions are taken (at most limit in all; 0: no limit).
// Inputs may be local paths or s3:// objects.
func ReadPrograms(ctx context.Context, format string, inputs []string, limit, workers int, s3 storage.S3Config) ([]string, error) {
	var programs []string
	if format == "python" {
		// Trajectory datasets contribute their successful solutions.
		var files []string
		for _, in := range inputs {
			if !IsDataset(in) {
				files = append(files, in)
				continue
			}
			left := 0
			if limit > 0 {
				if left = limit - len(programs); left <= 0 {
					continue
				}
			}
			ps, err := SolutionCorpus(ctx, in, left, max(workers, 1), s3)
			if err != nil {
				return nil, err
			}
			programs = append(programs, ps...)
		}
		inputs = files
		var err error
		if inputs, err = expandPythonInputs(inputs); err != nil {
			return nil, err
		}
	}
	for _, in := range inputs {
		b, err := storage.ReadObject(ctx, in, s3)
		if err != nil {
			return nil, fmt.Errorf("read input: %w", err)
		}
		switch format {
		case "stitch":
			var ps []string
			if err := json.Unmarshal(b, &ps); err != nil {
				return nil, fmt.Errorf("%s: want a JSON list of program strings: %w", in, err)
			}
			programs = append(programs, ps...)
		case "python":
			p, err := pyfront.Encode(ctx, b)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", in, err)
			}
			programs = append(programs, p)
		default:
			return nil, fmt.Errorf("unknown --format %q (want stitch or python)", format)
		}
	}
	if len(programs) == 0 {
		return nil, errors.New("empty corpus: the inputs hold no programs")
	}
	return programs, nil
}

// expandPythonInputs replaces each directory by its .py files, in
// lexical order.
func expandPythonInputs(inputs []string) ([]string, error) {
	var out []string
	for _, in := range inputs {
		st, err := os.Stat(in)
		if err != nil {
			return nil, fmt.Errorf("input: %w", err)
		}
		if !st.IsDir() {
			out = append(out, in)
			continue
		}
		err = filepath.WalkDir(in, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.IsDir() && strings.HasSuffix(p, ".py") {
				out = append(out, p)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("input %s: %w", in, err)
		}
	}
	return out, nil
}

// readLibrary reads the abstractions of a previous RESULT.json.
// ReadLibrary reads the abstractions of a previous RESULT.json (or of a
// map/reduce library file) and checks them.
func ReadLibrary(ctx context.Context, path string, s3 storage.S3Config) ([]compress.Abstraction, error) {
	b, err := storage.ReadObject(ctx, path, s3)
	if err != nil {
		return nil, fmt.Errorf("read library: %w", err)
	}
	var prev struct {
		Abstractions []compress.Abstraction `json:"abstractions"`
	}
	if err := json.Unmarshal(b, &prev); err != nil {
		return nil, fmt.Errorf("library %s: %w", path, err)
	}
	if err := compress.ValidateLibrary(prev.Abstractions); err != nil {
		return nil, fmt.Errorf("library %s: %w", path, err)
	}
	return prev.Abstractions, nil
}

// splitHoldout holds out round(frac*n) programs chosen by a seeded
// permutation; both parts keep the input order.
// SplitHoldout splits programs into training and held-out sets: a
// fraction frac, chosen by a permutation seeded with seed, is held out.
func SplitHoldout(programs []string, frac float64, seed uint64) (train, held []string, heldIdx []int) {
	if frac <= 0 {
		return programs, nil, nil
	}
	n := len(programs)
	k := int(math.Round(frac * float64(n)))
	k = min(k, n-1)
	perm := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)).Perm(n)
	heldIdx = slices.Clone(perm[:k])
	slices.Sort(heldIdx)
	isHeld := make([]bool, n)
	for _, i := range heldIdx {
		isHeld[i] = true
	}
	for i, p := range programs {
		if isHeld[i] {
			held = append(held, p)
		} else {
			train = append(train, p)
		}
	}
	return train, held, heldIdx
}
