package jobs

import (
	"context"
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"

	"golang.org/x/sync/errgroup"

	"github.com/atlas-ai/atlas-learn/columnar"
	"github.com/atlas-ai/atlas-learn/configs"
	"github.com/atlas-ai/atlas-learn/internal/llm"
	"github.com/atlas-ai/atlas-learn/jobs/strategies"
)

// StrategiesSchema is the schema of the strategies dataset.
var StrategiesSchema = columnar.Schema{Name: strategies.SchemaName, Version: strategies.SchemaVersion}

// StrategiesDataset is the strategies dataset's name.
const StrategiesDataset = "strategies"

// The extractors of strategies.extractor.
const (
	ExtractorAuto      = "auto"
	ExtractorLLM       = "llm"
	ExtractorHeuristic = "heuristic"
)

// StrategiesConfig configures the strategies stage (section strategies:).
type StrategiesConfig struct {
	// Extractor is llm (a model, through the llm: section), heuristic (no
	// model) or auto (llm unless llm.mode is offline).
	Extractor string `yaml:"extractor" json:"extractor"`
	// MaxRetries bounds the questions asked again after an invalid answer.
	MaxRetries int `yaml:"max_retries" json:"max_retries"`
	// MaxCues bounds a strategy's cues.
	MaxCues int `yaml:"max_cues" json:"max_cues"`
	// MaxUsedIn bounds the trajectory ids listed per strategy (0: all).
	MaxUsedIn int `yaml:"max_used_in" json:"max_used_in"`
	// PromptFile is the LLM extractor's prompt template ("system" and
	// "user" templates); "" takes configs/prompts/strategy.tmpl.
	PromptFile string `yaml:"prompt_file" json:"prompt_file,omitempty"`
}

// Validate reports the first invalid key, relative to the section.
func (c StrategiesConfig) Validate() error {
	switch c.Extractor {
	case ExtractorAuto, ExtractorLLM, ExtractorHeuristic:
	default:
		return fmt.Errorf("extractor: want auto, llm or heuristic, got %q", c.Extractor)
	}
	switch {
	case c.MaxRetries < 0 || c.MaxRetries > 10:
		return fmt.Errorf("max_retries: must be 0..10, got %d", c.MaxRetries)
	case c.MaxCues < 1 || c.MaxCues > 64:
		return fmt.Errorf("max_cues: must be 1..64, got %d", c.MaxCues)
	case c.MaxUsedIn < 0:
		return fmt.Errorf("max_used_in: must be >= 0, got %d", c.MaxUsedIn)
	}
	return nil
}

// usesLLM tells whether the stage asks a model under llm mode mode.
func (c StrategiesConfig) usesLLM(mode string) bool {
	return c.Extractor == ExtractorLLM || (c.Extractor == ExtractorAuto && mode != llm.ModeOffline)
}

// The strategies stage abstracts each successful, abstractable trajectory
// (the analysis dataset's verdict joined with the trajectories dataset by
// trajectory id) into a strategy and writes the strategies dataset: one
// row per strategy name, the trajectories of one name merged, in order of
// first appearance.
type strategiesStage struct {
	cfg    StrategiesConfig
	llm    llm.Config
	prompt string
	// concepts: the concepts stage runs before this one, so its rows
	// name the concepts each trajectory uses.
	concepts bool
}

func newStrategiesStage(cfg *Config) (Stage, error) {
	s := &strategiesStage{cfg: cfg.Strategies, llm: cfg.LLM}
	if i, j := slices.Index(cfg.Stages, "concepts"), slices.Index(cfg.Stages, "strategies"); i >= 0 && i < j {
		s.concepts = true
	}
	if s.cfg.usesLLM(cfg.LLM.Mode) {
		text, name := configs.StrategyPrompt, "configs/prompts/strategy.tmpl"
		if f := s.cfg.PromptFile; f != "" {
			b, err := os.ReadFile(f)
			if err != nil {
				return nil, fmt.Errorf("strategies.prompt_file: %w", err)
			}
			text, name = string(b), f
		}
		if _, err := strategies.ParsePrompt(name, text); err != nil {
			return nil, fmt.Errorf("strategies.prompt_file: %w", err)
		}
		s.prompt = text
	}
	return s, nil
}

func (*strategiesStage) Name() string    { return "strategies" }
func (*strategiesStage) Needs() []string { return []string{"trajectories", "analysis"} }

// Fingerprint covers the prompt and the model when a model is asked.
func (s *strategiesStage) Fingerprint(context.Context) ([]byte, error) {
	if s.prompt == "" {
		return nil, nil
	}
	return []byte(s.prompt + "\x00" + s.llm.Model + "\x00" + s.llm.BaseURL), nil
}

// strategyVerdict is the projection the stage reads of analysis.
type strategyVerdict struct {
	TrajectoryID string  `parquet:"trajectory_id"`
	Success      bool    `parquet:"success"`
	Abstractable bool    `parquet:"abstractable"`
	KeySteps     []int32 `parquet:"key_steps,list"`
}

// strategyTrajectory is the projection the stage reads of trajectories.
type strategyTrajectory struct {
	TrajectoryID string `parquet:"trajectory_id"`
	Task         struct {
		ID          string `parquet:"id"`
		Description string `parquet:"description"`
		Domain      string `parquet:"domain"`
	} `parquet:"task"`
	Steps []struct {
		Thought    string `parquet:"thought"`
		Action     string `parquet:"action"`
		ActionType string `parquet:"action_type"`
		Code       string `parquet:"code"`
	} `parquet:"steps,list"`
	Outcome struct {
		Success bool `parquet:"success"`
	} `parquet:"outcome"`
	Solution columnar.Solution `parquet:"solution"`
}

// conceptUses is the projection the stage reads of concepts.
type conceptUses struct {
	Name          string   `parquet:"name"`
	TrajectoryIDs []string `parquet:"trajectory_ids,list"`
}

type extracted struct {
	s strategies.Strategy
	o strategies.Outcome
}

func (s *strategiesStage) Run(ctx context.Context, env *Env) error {
	keySteps := map[string][]int32{}
	err := ReadEmitted(ctx, env, AnalysisDataset, func(r *strategyVerdict) error {
		if r.Success && r.Abstractable {
			keySteps[r.TrajectoryID] = slices.Clone(r.KeySteps)
		}
		return nil
	})
	if err != nil {
		return err
	}
	usesOf := map[string][]string{}
	if s.concepts {
		err := ReadEmitted(ctx, env, ConceptsDataset, func(c *conceptUses) error {
			for _, id := range c.TrajectoryIDs {
				if _, ok := keySteps[id]; ok {
					usesOf[id] = append(usesOf[id], c.Name)
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	var ex strategies.Extractor = strategies.Heuristic{MaxCues: s.cfg.MaxCues}
	var x *strategies.LLM
	if s.prompt != "" {
		p, err := strategies.ParsePrompt("strategy prompt", s.prompt)
		if err != nil {
			return err
		}
		// The response cache lives with the run's outputs, as the
		// analysis stage's does.
		cache := llm.NewBucketCache(env.c.Bucket(), env.llmCacheDir())
		client, err := llm.New(s.llm, llm.Options{Cache: cache, Logger: env.Log})
		if err != nil {
			return err
		}
		defer client.Close()
		defer func() {
			for k, v := range client.Stats().Counters() {
				env.RunCounters().Add(k, v)
			}
		}()
		x = &strategies.LLM{Client: client, Prompt: p, Model: s.llm.Model, MaxRetries: s.cfg.MaxRetries, MaxCues: s.cfg.MaxCues}
		ex = x
	}
	// Extractions run concurrently a chunk at a time and are folded into
	// the merge in input order, so memory holds one chunk and the merged
	// bank, not every trajectory's strategy.
	n := env.Counters()
	merger := strategies.NewMerger(s.cfg.MaxUsedIn, s.cfg.MaxCues)
	var chunk []*extracted
	extractedN := 0
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(max(env.Workers, 1))
	fold := func() error {
		if err := g.Wait(); err != nil {
			return err
		}
		for _, r := range chunk {
			merger.Add(r.s)
			extractedN++
			n.Add("strategies_extracted", 1)
			n.Add("strategies_"+r.s.Source, 1)
			n.Add("llm_retries", int64(r.o.Retries))
			if r.s.Fallback != "" {
				n.Add("llm_fallbacks", 1)
				env.Log.Debug("strategy extraction fell back to the heuristic", "trajectory", r.s.UsedIn[0], "error", r.o.Err)
			}
		}
		clear(chunk)
		chunk = chunk[:0]
		g, gctx = errgroup.WithContext(ctx)
		g.SetLimit(max(env.Workers, 1))
		return nil
	}
	const chunkSize = 4096
	err = ReadEmitted(ctx, env, columnar.TrajectoriesDataset, func(t *strategyTrajectory) error {
		ks, ok := keySteps[t.TrajectoryID]
		if !ok || !t.Outcome.Success {
			return nil
		}
		in := &strategies.Input{TrajectoryID: t.TrajectoryID, TaskID: t.Task.ID, Description: t.Task.Description,
			Domain: t.Task.Domain, Code: t.Solution.Code, Language: t.Solution.Language, Concepts: usesOf[t.TrajectoryID]}
		if in.Code == "" {
			// No final solution: the last code the agent wrote.
			for i := len(t.Steps) - 1; i >= 0 && in.Code == ""; i-- {
				in.Code = t.Steps[i].Code
			}
		}
		for _, k := range ks {
			if int(k) < len(t.Steps) && k >= 0 {
				st := t.Steps[k]
				in.KeySteps = append(in.KeySteps, strategies.Step{Index: int(k), Thought: st.Thought, Action: st.Action, ActionType: st.ActionType, Code: st.Code})
			}
		}
		r := &extracted{}
		chunk = append(chunk, r)
		gx := gctx
		g.Go(func() error {
			var err error
			if x != nil {
				r.s, r.o, err = x.ExtractOutcome(gx, in)
			} else {
				r.s, err = ex.Extract(gx, in)
			}
			if err != nil {
				return fmt.Errorf("trajectory %s: %w", in.TrajectoryID, err)
			}
			return nil
		})
		if len(chunk) >= chunkSize {
			return fold()
		}
		return gctx.Err()
	})
	if werr := fold(); werr != nil && err == nil {
		err = werr
	}
	if err != nil {
		return err
	}
	merged := merger.Result()
	n.Add("strategies_unique", int64(len(merged)))
	if c := n.Snapshot()["llm_fallbacks"]; c > 0 && x != nil && s.llm.Mode != llm.ModeOffline {
		env.Warn(fmt.Sprintf("%d of %d strategies fell back to the heuristic extractor (their rows say why)", c, extractedN))
	}
	sink, err := NewDataset(env, DatasetSpec[strategies.Strategy]{Name: StrategiesDataset, Schema: StrategiesSchema})
	if err != nil {
		return err
	}
	for _, r := range merged {
		if err := sink.Write(ctx, r); err != nil {
			sink.Abort()
			return err
		}
	}
	if err := sink.Close(ctx); err != nil {
		return err
	}
	env.Log.Info("strategies extracted", "trajectories", extractedN, "strategies", len(merged), "names", strings.Join(firstNames(merged, 5), ","))
	return nil
}

// firstNames are up to n names of rows, sorted, for the log.
func firstNames(rows []strategies.Strategy, n int) []string {
	var out []string
	for _, r := range rows {
		out = append(out, r.Name)
	}
	sort.Strings(out)
	if len(out) > n {
		out = out[:n]
	}
	return out
}
