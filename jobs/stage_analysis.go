package jobs

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"sort"
	"strings"
	"text/template"
	"time"

	"github.com/atlas-ai/atlas-learn/columnar"
	"github.com/atlas-ai/atlas-learn/columnar/storage"
	"github.com/atlas-ai/atlas-learn/configs"
	"github.com/atlas-ai/atlas-learn/internal/llm"
	"github.com/atlas-ai/atlas-learn/jobs/analysis"
)

// AnalysisSchema is the schema of the analysis dataset; ReplaysSchema of
// the replay cache the stage persists.
var (
	AnalysisSchema = columnar.Schema{Name: analysis.SchemaName, Version: analysis.SchemaVersion}
	ReplaysSchema  = columnar.Schema{Name: "replay", Version: 1}
)

// Dataset names of the analysis stage.
const (
	AnalysisDataset = "analysis"
	ReplaysDataset  = "replays"
)

// AnalysisConfig configures the analysis stage (section analysis:).
type AnalysisConfig struct {
	// Credit is the credit-assignment method: simple, llm or
	// counterfactual.
	Credit string `yaml:"credit" json:"credit"`
	// Replayer replays trajectories for counterfactual credit: code (the
	// built-in replayer of program-synthesis trajectories, in the
	// sandbox) or http (the user's environment service, analysis.http).
	Replayer string `yaml:"replayer" json:"replayer"`
	// MaxReplays bounds the replays of one trajectory (0: no bound).
	MaxReplays int `yaml:"max_replays" json:"max_replays"`
	// TimeBudget bounds the run's replaying (0: no bound); trajectories
	// reached after it get simple credit, and their rows say so. With a
	// budget the outputs depend on timing.
	TimeBudget time.Duration `yaml:"time_budget" json:"time_budget"`
	// ReplayTimeout bounds one program on the task's examples (code
	// replayer).
	ReplayTimeout time.Duration `yaml:"replay_timeout" json:"replay_timeout"`
	// ReplayCache is an earlier run whose replays dataset seeds the
	// cache (a re-run of the same run id reuses its own replays anyway).
	ReplayCache string         `yaml:"replay_cache" json:"replay_cache,omitempty"`
	HTTP        HTTPReplayConf `yaml:"http" json:"http"`
	Weights     WeightsConfig  `yaml:"weights" json:"weights"`
	// PromptFile is the LLM judge's prompt template (text/template with
	// "system" and "user" templates); "" takes configs/prompts/credit.tmpl.
	PromptFile string `yaml:"prompt_file" json:"prompt_file,omitempty"`
}

// HTTPReplayConf configures the HTTP replayer.
type HTTPReplayConf struct {
	URL         string        `yaml:"url" json:"url,omitempty"`
	Timeout     time.Duration `yaml:"timeout" json:"timeout"`
	Retries     int           `yaml:"retries" json:"retries"`
	Concurrency int           `yaml:"concurrency" json:"concurrency"`
}

// WeightsConfig are the training examples' weights.
type WeightsConfig struct {
	Sampling   float64 `yaml:"sampling" json:"sampling"`
	Refinement float64 `yaml:"refinement" json:"refinement"`
	Error      float64 `yaml:"error" json:"error"`
}

// Validate reports the first invalid key, relative to the section.
func (c AnalysisConfig) Validate() error {
	if err := analysis.Method(c.Credit).Validate(); err != nil {
		return fmt.Errorf("credit: %w", err)
	}
	switch c.Replayer {
	case "code":
	case "http":
		u, err := url.Parse(c.HTTP.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("http.url: want http(s)://host/path, got %q", c.HTTP.URL)
		}
	default:
		return fmt.Errorf("replayer: want code or http, got %q", c.Replayer)
	}
	switch {
	case c.MaxReplays < 0:
		return fmt.Errorf("max_replays: must be >= 0, got %d", c.MaxReplays)
	case c.TimeBudget < 0:
		return fmt.Errorf("time_budget: must be >= 0, got %s", c.TimeBudget)
	case c.ReplayTimeout <= 0:
		return fmt.Errorf("replay_timeout: must be positive, got %s", c.ReplayTimeout)
	case c.HTTP.Timeout <= 0:
		return fmt.Errorf("http.timeout: must be positive, got %s", c.HTTP.Timeout)
	case c.HTTP.Retries < 0:
		return fmt.Errorf("http.retries: must be >= 0, got %d", c.HTTP.Retries)
	case c.HTTP.Concurrency < 1:
		return fmt.Errorf("http.concurrency: must be >= 1, got %d", c.HTTP.Concurrency)
	case c.Weights.Sampling < 0 || c.Weights.Refinement < 0 || c.Weights.Error < 0:
		return fmt.Errorf("weights: must be >= 0")
	}
	if c.ReplayCache != "" {
		if _, err := storage.ParseLocation(c.ReplayCache, storage.S3Config{}); err != nil {
			return fmt.Errorf("replay_cache: %w", err)
		}
	}
	return nil
}

// replayRow is one row of the replays dataset: an outcome of the replay
// cache.
type replayRow struct {
	Key      string  `parquet:"key" json:"key"`
	Score    float64 `parquet:"score" json:"score"`
	Behavior string  `parquet:"behavior" json:"behavior"`
}

// The analysis stage analyses each trajectory (credit, error messages,
// failure modes, abstractable, training examples) and writes the
// analysis dataset; with counterfactual credit it also writes the replay
// cache it used as the replays dataset.
type analysisStage struct {
	cfg    AnalysisConfig
	sbx    SandboxConfig
	llm    llm.Config
	s3     storage.S3Config
	prompt *template.Template
	// closeEx releases the sandbox (warm interpreters).
	closeEx func()
}

func newAnalysisStage(cfg *Config) (Stage, error) {
	s := &analysisStage{cfg: cfg.Analysis, sbx: cfg.Sandbox, llm: cfg.LLM, s3: cfg.S3}
	if cfg.Analysis.Credit == string(analysis.LLM) {
		text, name := configs.CreditPrompt, "configs/prompts/credit.tmpl"
		if f := cfg.Analysis.PromptFile; f != "" {
			b, err := os.ReadFile(f)
			if err != nil {
				return nil, fmt.Errorf("analysis.prompt_file: %w", err)
			}
			text, name = string(b), f
		}
		p, err := analysis.ParsePrompt(name, text)
		if err != nil {
			return nil, fmt.Errorf("analysis.prompt_file: %w", err)
		}
		s.prompt = p
	}
	return s, nil
}

// Fingerprint covers the judge's prompt and model, and the content of
// the replay cache the run starts from.
func (s *analysisStage) Fingerprint(ctx context.Context) ([]byte, error) {
	var cache []byte
	if s.cfg.ReplayCache != "" && s.cfg.Credit == string(analysis.Counterfactual) {
		ids, err := datasetIdentity(ctx, s.cfg.ReplayCache, s.s3, ReplaysDataset, ReplaysSchema)
		if err != nil {
			return nil, fmt.Errorf("analysis.replay_cache: %w", err)
		}
		cache = ids
	}
	if s.prompt == nil {
		return cache, nil
	}
	ts := s.prompt.Templates() // in map order: sort
	sort.Slice(ts, func(i, j int) bool { return ts[i].Name() < ts[j].Name() })
	var b strings.Builder
	for _, t := range ts {
		if t.Tree == nil {
			continue
		}
		b.WriteString(t.Name() + "\x00" + t.Tree.Root.String() + "\x00")
	}
	return append(cache, b.String()+s.llm.Model+s.llm.BaseURL...), nil
}

// datasetIdentity lists a dataset's files with their content identities:
// it changes whenever any byte of the dataset does.
func datasetIdentity(ctx context.Context, uri string, s3 storage.S3Config, dataset string, schema columnar.Schema) ([]byte, error) {
	b, src, err := openCommitted(ctx, uri, s3, dataset, schema)
	if err != nil {
		return nil, err
	}
	defer b.Close()
	if err := src.Identify(ctx); err != nil {
		return nil, err
	}
	return listingOf(src.Files), nil
}

func (*analysisStage) Name() string { return "analysis" }

func (s *analysisStage) Open(ctx context.Context, env *Env) (TrajectoryProcessor, error) {
	c := s.cfg
	opts := analysis.Options{Method: analysis.Method(c.Credit), MaxReplays: c.MaxReplays}
	var cache *analysis.MemCache
	if opts.Method == analysis.Counterfactual {
		cache = analysis.NewMemCache()
		load := func(r *replayRow) error {
			cache.Put(r.Key, analysis.Outcome{Score: r.Score, Behavior: r.Behavior})
			return nil
		}
		if err := ReadPrevious(ctx, env, ReplaysDataset, ReplaysSchema, load); err != nil {
			return nil, err
		}
		if c.ReplayCache != "" {
			if err := readReplays(ctx, c.ReplayCache, s.s3, load); err != nil {
				return nil, fmt.Errorf("analysis.replay_cache: %w", err)
			}
		}
		env.RunCounters().Add("replay_cache_loaded", int64(cache.Len()))
		switch c.Replayer {
		case "code":
			ex, closeEx, warn, err := newExecutor(ctx, s.sbx, env.Workers, env.Log)
			if err != nil {
				return nil, err
			}
			s.closeEx = closeEx
			if warn != "" {
				env.Warn(warn)
			}
			opts.Replayer = &analysis.CodeReplayer{Cache: cache, Timeout: c.ReplayTimeout, Runner: sandboxRunner{ex, env.Log}}
		case "http":
			h := analysis.NewHTTPReplayer(c.HTTP.URL, c.HTTP.Concurrency)
			h.Timeout, h.Retries, h.Cache = c.HTTP.Timeout, c.HTTP.Retries, cache
			opts.Replayer = h
		}
		if c.TimeBudget > 0 {
			opts.Deadline = time.Now().Add(c.TimeBudget)
		}
	}
	var client *llm.Client
	if opts.Method == analysis.LLM {
		// The response cache lives with the run's outputs, outside the
		// commit, so that a failed or repeated run asks nothing twice.
		cache := llm.NewBucketCache(env.c.Bucket(), env.llmCacheDir())
		var err error
		client, err = llm.New(s.llm, llm.Options{Cache: cache, Logger: env.Log})
		if err != nil {
			return nil, err
		}
		opts.Judge = &analysis.LLMJudge{Client: client, Prompt: s.prompt}
	}
	a, err := analysis.New(opts)
	if err != nil {
		return nil, err
	}
	rows, err := NewDataset(env, DatasetSpec[analysis.Row]{Name: AnalysisDataset, Schema: AnalysisSchema})
	if err != nil {
		return nil, err
	}
	w := analysis.Weights{Sampling: c.Weights.Sampling, Refinement: c.Weights.Refinement, Error: c.Weights.Error}
	n, rt := env.Counters(), env.RunCounters()
	release := func() {
		if s.closeEx != nil {
			s.closeEx()
		}
		if client != nil {
			client.Close()
		}
	}
	return WithRelease(Processor(
		func(ctx context.Context, it *Item) (analysis.Row, error) {
			r, err := a.Analyze(ctx, &it.Trajectory, w)
			if err != nil {
				return analysis.Row{}, fmt.Errorf("trajectory %s: %w", it.Trajectory.TrajectoryID, err)
			}
			rt.Add("replays_run", int64(r.Credit.Replays))
			rt.Add("replay_cache_hits", int64(r.Credit.CacheHits))
			return analysis.RowOf(&it.Trajectory, r), nil
		},
		func(ctx context.Context, _ *Item, row analysis.Row) error {
			n.Add("rows", 1)
			n.Add("method_"+row.Method, 1)
			if row.Fallback != "" {
				n.Add("fallbacks", 1)
			}
			if row.Abstractable {
				n.Add("abstractable", 1)
			}
			n.Add("key_steps", int64(len(row.KeySteps)))
			n.Add("replays", int64(row.Replays))
			for _, m := range row.FailureModes {
				n.Add("failure_"+m.Mode, 1)
			}
			return rows.Write(ctx, row)
		},
		func(ctx context.Context) error {
			if client != nil {
				for k, v := range client.Stats().Counters() {
					rt.Add(k, v)
				}
			}
			if err := rows.Close(ctx); err != nil {
				return err
			}
			if cache == nil {
				return nil
			}
			return writeReplays(ctx, env, cache)
		},
	), release), nil
}

// MergedDatasets: the replay cache is keyed across trajectories, so the
// shards' caches are merged, not concatenated.
func (*analysisStage) MergedDatasets() []string { return []string{ReplaysDataset} }

// MergeShards writes the run's replay cache from the shards' caches: the
// union by key, sorted, as one process writes it.
func (*analysisStage) MergeShards(ctx context.Context, env *Env, dataset string, files []columnar.SourceFile) error {
	cache := analysis.NewMemCache()
	err := scanParquet(ctx, env.c.Bucket(), files, ReplaysSchema, func(r *replayRow) error {
		cache.Put(r.Key, analysis.Outcome{Score: r.Score, Behavior: r.Behavior})
		return nil
	})
	if err != nil {
		return err
	}
	return writeReplays(ctx, env, cache)
}

// writeReplays persists the replay cache, sorted by key.
func writeReplays(ctx context.Context, env *Env, cache *analysis.MemCache) error {
	sink, err := NewDataset(env, DatasetSpec[replayRow]{Name: ReplaysDataset, Schema: ReplaysSchema})
	if err != nil {
		return err
	}
	entries := cache.Entries()
	keys := make([]string, 0, len(entries))
	for k := range entries {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		o := entries[k]
		if err := sink.Write(ctx, replayRow{Key: k, Score: o.Score, Behavior: o.Behavior}); err != nil {
			sink.Abort()
			return err
		}
	}
	return sink.Close(ctx)
}

// readReplays reads the replays dataset of an earlier run.
func readReplays(ctx context.Context, uri string, s3 storage.S3Config, fn func(*replayRow) error) error {
	return readCommitted(ctx, uri, s3, ReplaysDataset, ReplaysSchema, fn)
}
