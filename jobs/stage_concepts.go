package jobs

import (
	"context"
	"crypto/sha256"
	"fmt"
	"slices"
	"time"

	"github.com/atlas-ai/atlas-learn/columnar"
	"github.com/atlas-ai/atlas-learn/columnar/storage"
	"github.com/atlas-ai/atlas-learn/compress"
	"github.com/atlas-ai/atlas-learn/configs"
	"github.com/atlas-ai/atlas-learn/internal/llm"
	"github.com/atlas-ai/atlas-learn/jobs/autodoc"
	"github.com/atlas-ai/atlas-learn/jobs/concepts"
)

// ConceptsSchema is the schema of the concepts dataset.
var ConceptsSchema = columnar.Schema{Name: concepts.SchemaName, Version: concepts.SchemaVersion}

// ConceptsDataset is the concepts dataset's name.
const ConceptsDataset = "concepts"

// ConceptsConfig configures the concepts stage (section concepts:) and
// the compress command's learning settings.
type ConceptsConfig struct {
	// Iterations is the number of concepts to learn (at most).
	Iterations int `yaml:"iterations" json:"iterations"`
	// MaxArity is the most arguments a concept takes.
	MaxArity int `yaml:"max_arity" json:"max_arity"`
	// Workers bounds the goroutines parsing and searching (0: the run's
	// workers). The result does not depend on it.
	Workers int `yaml:"workers" json:"workers"`
	// Shards splits the corpus (0: as many as workers). The result does
	// not depend on it.
	Shards int `yaml:"shards" json:"shards"`
	// MaxSolutions caps the distinct solutions learned from; beyond it a
	// deterministic sample (the smallest content hashes) is taken. 0: no
	// cap.
	MaxSolutions int `yaml:"max_solutions" json:"max_solutions"`
	// MaxTrajectoryIDs bounds the trajectory ids listed per concept.
	MaxTrajectoryIDs int `yaml:"max_trajectory_ids" json:"max_trajectory_ids"`
	// Language is the solutions' language; only python is learned from.
	Language string `yaml:"language" json:"language"`
	// Library is an earlier run (its directory) or concepts dataset whose
	// concepts are applied first and extended; "" starts afresh.
	Library string `yaml:"library" json:"library,omitempty"`
	// Cost is the cost model of the description length.
	Cost CostConfig `yaml:"cost" json:"cost"`
	// AutoDoc names and documents the concepts learned (jobs/autodoc).
	AutoDoc bool `yaml:"autodoc" json:"autodoc"`
	// SearchTimeout bounds the search of all iterations together (0: no
	// bound); OnSearchTimeout is what running out of it does: "stop"
	// (keep the concepts learned before it, and say so) or "fail".
	SearchTimeout   time.Duration `yaml:"search_timeout" json:"search_timeout"`
	OnSearchTimeout string        `yaml:"on_search_timeout" json:"on_search_timeout"`
}

// What running out of concepts.search_timeout does.
const (
	OnSearchTimeoutStop = "stop"
	OnSearchTimeoutFail = "fail"
)

// CostConfig is compress's cost model in configuration form.
type CostConfig struct {
	App         int64            `yaml:"app" json:"app"`
	Lam         int64            `yaml:"lam" json:"lam"`
	Var         int64            `yaml:"var" json:"var"`
	IVar        int64            `yaml:"ivar" json:"ivar"`
	PrimDefault int64            `yaml:"prim_default" json:"prim_default"`
	Prim        map[string]int64 `yaml:"prim" json:"prim,omitempty"`
}

// Model is the cost model compress takes.
func (c CostConfig) Model() compress.CostModel {
	return compress.CostModel{App: c.App, Lam: c.Lam, Var: c.Var, IVar: c.IVar, PrimDefault: c.PrimDefault, Prim: c.Prim}
}

// Validate reports the first invalid key, relative to the section.
func (c ConceptsConfig) Validate() error {
	switch {
	case c.Iterations < 0:
		return fmt.Errorf("iterations: must be >= 0, got %d", c.Iterations)
	case c.MaxArity < 0 || c.MaxArity > 8:
		return fmt.Errorf("max_arity: must be 0..8, got %d", c.MaxArity)
	case c.Workers < 0:
		return fmt.Errorf("workers: must be >= 0, got %d", c.Workers)
	case c.Shards < 0:
		return fmt.Errorf("shards: must be >= 0, got %d", c.Shards)
	case c.MaxSolutions < 0:
		return fmt.Errorf("max_solutions: must be >= 0, got %d", c.MaxSolutions)
	case c.MaxTrajectoryIDs < 0:
		return fmt.Errorf("max_trajectory_ids: must be >= 0, got %d", c.MaxTrajectoryIDs)
	case c.SearchTimeout < 0:
		return fmt.Errorf("search_timeout: must be >= 0, got %s", c.SearchTimeout)
	case c.OnSearchTimeout != OnSearchTimeoutStop && c.OnSearchTimeout != OnSearchTimeoutFail:
		return fmt.Errorf("on_search_timeout: must be %s or %s, got %q", OnSearchTimeoutStop, OnSearchTimeoutFail, c.OnSearchTimeout)
	case c.Language != "python":
		return fmt.Errorf("language: only python is supported, got %q", c.Language)
	}
	for k, v := range map[string]int64{"app": c.Cost.App, "lam": c.Cost.Lam, "var": c.Cost.Var, "ivar": c.Cost.IVar, "prim_default": c.Cost.PrimDefault} {
		if v < 0 {
			return fmt.Errorf("cost.%s: must be >= 0, got %d", k, v)
		}
	}
	if c.Cost.PrimDefault == 0 {
		return fmt.Errorf("cost.prim_default: must be positive")
	}
	if c.Library != "" {
		if _, err := storage.ParseLocation(c.Library, storage.S3Config{}); err != nil {
			return fmt.Errorf("library: %w", err)
		}
	}
	return nil
}

// The concepts stage learns a concept library from the distinct
// solutions of the run's successful trajectories (read back from the
// trajectories dataset, by projection) and writes the concepts dataset.
type conceptsStage struct {
	cfg     ConceptsConfig
	s3      storage.S3Config
	workers int
	// memory is the memory whose current library the stage extends when
	// concepts.library is not set and the run has a memory stage.
	memory  *storage.Location
	library []concepts.Concept
	loaded  bool
	// llm is the client configuration autodoc uses (offline: heuristic).
	llm llm.Config
}

func newConceptsStage(cfg *Config) (Stage, error) {
	w := cfg.Concepts.Workers
	if w == 0 {
		w = cfg.Workers
	}
	st := &conceptsStage{cfg: cfg.Concepts, s3: cfg.S3, workers: w, llm: cfg.LLM}
	if cfg.Concepts.Library == "" && slices.Contains(cfg.Stages, "memory") {
		loc, err := MemoryLocation(cfg)
		if err != nil {
			return nil, fmt.Errorf("memory.uri: %w", err)
		}
		st.memory = &loc
	}
	return st, nil
}

func (*conceptsStage) Name() string    { return "concepts" }
func (*conceptsStage) Needs() []string { return []string{"trajectories"} }

// Fingerprint covers the earlier library's concepts.
func (s *conceptsStage) Fingerprint(ctx context.Context) ([]byte, error) {
	if err := s.loadLibrary(ctx); err != nil {
		return nil, err
	}
	h := sha256.New()
	for _, c := range s.library {
		fmt.Fprintf(h, "%s %d %s\n", c.Name, c.Arity, c.Body)
	}
	if s.cfg.AutoDoc && s.llm.Mode != llm.ModeOffline {
		fmt.Fprintf(h, "autodoc %s\x00%s\x00%s\n", configs.AutoDocPrompt, s.llm.Model, s.llm.BaseURL)
	}
	return h.Sum(nil), nil
}

func (s *conceptsStage) loadLibrary(ctx context.Context) error {
	if s.loaded {
		return nil
	}
	uri := s.cfg.Library
	if uri == "" && s.memory != nil {
		dir, err := currentMemoryDir(ctx, *s.memory)
		if err != nil {
			return err
		}
		if dir != "" {
			uri = s.memory.Join(dir).String()
		}
	}
	if uri == "" {
		s.loaded = true
		return nil
	}
	lib, err := ReadConcepts(ctx, uri, s.s3)
	if err != nil {
		return fmt.Errorf("concepts.library: %w", err)
	}
	s.library, s.loaded = lib, true
	return nil
}

// ReadConcepts reads a concepts dataset: the concepts of a run (its
// directory, whose manifest names the dataset) or a concepts directory.
func ReadConcepts(ctx context.Context, uri string, s3 storage.S3Config) ([]concepts.Concept, error) {
	var out []concepts.Concept
	err := readCommitted(ctx, uri, s3, ConceptsDataset, ConceptsSchema, func(c *concepts.Concept) error { out = append(out, *c); return nil })
	return out, err
}

// conceptSolution is the projection the stage reads of trajectories.
type conceptSolution struct {
	TrajectoryID string `parquet:"trajectory_id"`
	Outcome      struct {
		Success bool `parquet:"success"`
	} `parquet:"outcome"`
	Solution columnar.Solution `parquet:"solution"`
}

func (s *conceptsStage) Run(ctx context.Context, env *Env) error {
	if err := s.loadLibrary(ctx); err != nil {
		return err
	}
	col := concepts.NewCollector(s.cfg.MaxSolutions, s.cfg.MaxTrajectoryIDs)
	err := ReadEmitted(ctx, env, columnar.TrajectoriesDataset, func(r *conceptSolution) error {
		if r.Outcome.Success && r.Solution.Code != "" && r.Solution.Language == s.cfg.Language {
			col.Add(r.TrajectoryID, r.Solution.Code)
		}
		return nil
	})
	if err != nil {
		return err
	}
	sols := col.Solutions()
	cs := col.Stats()
	rows, st, err := concepts.Learn(ctx, sols, concepts.Options{Iterations: s.cfg.Iterations, MaxArity: s.cfg.MaxArity,
		Workers: s.workers, Shards: s.cfg.Shards, Cost: s.cfg.Cost.Model(), Library: s.library,
		MaxIDs: s.cfg.MaxTrajectoryIDs, Logger: env.Log,
		SearchTimeout: s.cfg.SearchTimeout, StopOnTimeout: s.cfg.OnSearchTimeout == OnSearchTimeoutStop})
	if err != nil {
		return err
	}
	if t := st.SearchTimeout; t != nil {
		env.Warn(fmt.Sprintf("concepts: the search ran out of concepts.search_timeout (%s) at iteration %d: the concepts learned before it are kept, and this run's concepts depend on the machine's speed", t.Timeout, t.Iteration))
		env.Counters().Add("search_timeouts", 1)
	}
	if s.cfg.AutoDoc {
		o := autodoc.Options{Reserved: st.Symbols}
		if s.llm.Mode != llm.ModeOffline {
			p, err := autodoc.ParsePrompt("configs/prompts/autodoc.tmpl", configs.AutoDocPrompt)
			if err != nil {
				return err
			}
			cache := llm.NewBucketCache(env.c.Bucket(), env.llmCacheDir())
			client, err := llm.New(s.llm, llm.Options{Cache: cache, Logger: env.Log})
			if err != nil {
				return err
			}
			defer client.Close()
			codeOf := map[string]string{}
			for _, sol := range sols {
				for _, id := range sol.IDs {
					codeOf[id] = sol.Code
				}
			}
			uses := func(c *concepts.Concept) []string {
				var out []string
				for _, id := range c.TrajectoryIDs {
					if code, ok := codeOf[id]; ok && !slices.Contains(out, code) {
						out = append(out, code)
					}
				}
				return out
			}
			o.Documenter, o.Source = &autodoc.LLM{Client: client, Prompt: p, MaxRetries: s.llm.MaxRetries, Uses: uses}, autodoc.SourceLLM
		}
		ds, err := autodoc.Apply(ctx, rows, o)
		if err != nil {
			return fmt.Errorf("autodoc: %w", err)
		}
		n := env.Counters()
		n.Add("concepts_documented", int64(ds.Documented))
		n.Add("concepts_doc_heuristic", int64(ds.Heuristic))
		n.Add("concepts_renamed", int64(ds.Renamed))
		n.Add("concepts_doc_fallbacks", int64(ds.Fallbacks))
	}
	sink, err := NewDataset(env, DatasetSpec[concepts.Concept]{Name: ConceptsDataset, Schema: ConceptsSchema})
	if err != nil {
		return err
	}
	for _, r := range rows {
		if err := sink.Write(ctx, r); err != nil {
			sink.Abort()
			return err
		}
	}
	if err := sink.Close(ctx); err != nil {
		return err
	}
	n := env.Counters()
	n.Add("solutions_seen", cs.Seen)
	n.Add("solutions_over_cap", cs.OverCap)
	n.Add("distinct_solutions", int64(len(sols)))
	n.Add("unparsable_solutions", int64(st.Unparsable))
	n.Add("programs", int64(st.Programs))
	n.Add("original_cost", st.OriginalCost)
	n.Add("final_cost", st.FinalCost)
	n.Add("concepts", int64(len(rows)))
	n.Add("concepts_learned", int64(st.Learned))
	n.Add("concepts_from_library", int64(len(rows)-st.Learned))
	env.Log.Info("concepts learned", "distinct_solutions", len(sols), "concepts", len(rows), "learned", st.Learned, "ratio", st.CompressionRatio)
	return nil
}
