package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/atlas-ai/atlas-learn/columnar"
	"github.com/atlas-ai/atlas-learn/columnar/storage"
	"github.com/atlas-ai/atlas-learn/jobs/concepts"
	"github.com/atlas-ai/atlas-learn/jobs/memory"
	"github.com/atlas-ai/atlas-learn/jobs/recall"
)

// The memory stage grows the memory run after run. It reads the previous
// memory version (the one CURRENT names), stores the run's new
// trajectories in the experience memory once each, merges the run's
// strategies into the strategy bank and its plans into the plan library,
// takes the run's concept library with its lineage, and writes all of it
// as the next memory version: versions/<NNNNNN>/ under the memory
// location, with its own manifest. CURRENT is rewritten to name the new
// version only after the run's manifest is committed, so that readers
// (recall, serve, the next run) never see a version whose run failed. A
// run with no trajectory new to the memory writes no version.

// Memory dataset names (in a memory version).
const (
	MemoryStrategies = "strategies"
	MemoryPlans      = "plans"
	MemoryConcepts   = "concepts"
	MemoryLineage    = "concept_lineage"
	MemoryExperience = "experience"
	MemoryInputs     = "inputs"
)

// Schemas of the memory's datasets.
var (
	MemoryStrategySchema = columnar.Schema{Name: memory.StrategySchema, Version: memory.SchemaVersion}
	MemoryPlanSchema     = columnar.Schema{Name: memory.PlanSchema, Version: memory.SchemaVersion}
	MemoryLineageSchema  = columnar.Schema{Name: memory.LineageSchema, Version: memory.SchemaVersion}
	MemoryInputSchema    = columnar.Schema{Name: "memory_inputs", Version: 1}
)

// MemoryInput is an input file a memory version has processed: the
// state an incremental run reads to skip it.
type MemoryInput struct {
	// Path is relative to the run's input; ContentID identifies its
	// content (see columnar.SourceFile).
	Path      string `parquet:"path" json:"path"`
	Bytes     int64  `parquet:"bytes" json:"bytes"`
	ContentID string `parquet:"content_id" json:"content_id"`
	RunID     string `parquet:"run_id" json:"run_id"`
	Version   int64  `parquet:"version" json:"version"`
}

func (m *MemoryInput) key() string { return m.Path + "\x00" + m.ContentID }

func inputKey(f columnar.SourceFile) string { return f.Rel + "\x00" + f.ContentID }

// memoryView is the current version of a run's memory, opened once so
// that what an incremental run reads of it comes from one version.
type memoryView struct {
	loc storage.Location
	b   storage.Bucket
	ptr *MemoryPointer
}

// openMemoryView opens the current memory version of cfg; a view without
// a version (ptr nil) when the memory has none. Close it after use.
func openMemoryView(ctx context.Context, cfg *Config) (*memoryView, error) {
	loc, err := MemoryLocation(cfg)
	if err != nil {
		return nil, fmt.Errorf("memory.uri: %w", err)
	}
	b, err := loc.Open(ctx)
	if err != nil {
		return nil, fmt.Errorf("memory %s: %w", loc, err)
	}
	p, err := readPointer(ctx, b)
	if err != nil {
		b.Close()
		return nil, err
	}
	return &memoryView{loc: loc, b: b, ptr: p}, nil
}

func (v *memoryView) Close() error { return v.b.Close() }

// version is the version's name, "" without one.
func (v *memoryView) version() string {
	if v.ptr == nil {
		return ""
	}
	return v.ptr.Version
}

// processedInputs is the set of input files (inputKey) the version has
// processed (nil without a version).
func (v *memoryView) processedInputs(ctx context.Context) (map[string]bool, error) {
	if v.ptr == nil {
		return nil, nil
	}
	seen := map[string]bool{}
	err := readVersion(ctx, v.loc, v.b, v.ptr.Dir, MemoryInputs, MemoryInputSchema, func(r *MemoryInput) error {
		seen[r.key()] = true
		return nil
	})
	return seen, err
}

// knownTrajectories is what the version holds: trajectory id -> content
// hash (nil without a version).
func (v *memoryView) knownTrajectories(ctx context.Context) (map[string]string, error) {
	if v.ptr == nil {
		return nil, nil
	}
	known := map[string]string{}
	err := readVersion(ctx, v.loc, v.b, v.ptr.Dir, MemoryExperience, ExperienceSchema, func(r *expKey) error {
		known[r.TrajectoryID] = r.ContentHash
		return nil
	})
	return known, err
}

// MemoryConfig configures the memory stage (section memory:).
type MemoryConfig struct {
	// URI is the memory's location; "" is <output>/memory.
	URI string `yaml:"uri" json:"uri,omitempty"`
	// MergeThreshold is the similarity of situation and suggestion at
	// or above which two strategies of different names merge (0: by
	// name only).
	MergeThreshold float64 `yaml:"merge_threshold" json:"merge_threshold"`
	// MaxStrategies and MaxPlans cap the strategy bank and the plan
	// library (0: no cap); Eviction picks what goes first (score,
	// least_used, least_recent), HalfLife the versions over which a
	// strategy's score halves.
	MaxStrategies int     `yaml:"max_strategies" json:"max_strategies"`
	MaxPlans      int     `yaml:"max_plans" json:"max_plans"`
	Eviction      string  `yaml:"eviction" json:"eviction"`
	HalfLife      float64 `yaml:"half_life" json:"half_life"`
	// MaxUsedIn bounds the trajectory ids a strategy or plan lists;
	// MaxCues a strategy's cues.
	MaxUsedIn int `yaml:"max_used_in" json:"max_used_in"`
	MaxCues   int `yaml:"max_cues" json:"max_cues"`
}

func (c MemoryConfig) options(version int64, runID string) memory.Options {
	return memory.Options{Version: version, RunID: runID, Threshold: c.MergeThreshold, MaxStrategies: c.MaxStrategies,
		MaxPlans: c.MaxPlans, Eviction: c.Eviction, HalfLife: c.HalfLife, MaxUsedIn: c.MaxUsedIn, MaxCues: c.MaxCues}
}

// Validate reports the first invalid key, relative to the section.
func (c MemoryConfig) Validate() error {
	if c.URI != "" {
		if _, err := storage.ParseLocation(c.URI, storage.S3Config{}); err != nil {
			return fmt.Errorf("uri: %w", err)
		}
	}
	if c.Eviction == "" {
		return fmt.Errorf("eviction: must be one of %v", memory.EvictionRules)
	}
	return c.options(1, "").Validate()
}

// MemoryLocation is where cfg's memory lives.
func MemoryLocation(cfg *Config) (storage.Location, error) {
	if cfg.Memory.URI != "" {
		return storage.ParseLocation(cfg.Memory.URI, cfg.S3)
	}
	out, err := storage.ParseLocation(cfg.Output, cfg.S3)
	if err != nil {
		return storage.Location{}, err
	}
	return out.Join("memory"), nil
}

type memoryStage struct {
	recall recall.Options
	cfg    MemoryConfig
	loc    storage.Location
	stages []string
	ptr    *MemoryPointer
	loaded bool
}

func newMemoryStage(cfg *Config) (Stage, error) {
	loc, err := MemoryLocation(cfg)
	if err != nil {
		return nil, fmt.Errorf("memory.uri: %w", err)
	}
	return &memoryStage{cfg: cfg.Memory, loc: loc, stages: cfg.Stages, recall: recall.DefaultOptions()}, nil
}

func (*memoryStage) Name() string { return "memory" }

// Needs are the stages whose datasets the memory takes: always the
// experience and the analysis, and the strategies and concepts when the
// run has them (they must then run first).
func (s *memoryStage) Needs() []string {
	needs := []string{"experience", "analysis"}
	for _, opt := range []string{"strategies", "concepts"} {
		if slices.Contains(s.stages, opt) {
			needs = append(needs, opt)
		}
	}
	return needs
}

// Fingerprint covers the memory version the run extends.
func (s *memoryStage) Fingerprint(ctx context.Context) ([]byte, error) {
	if err := s.load(ctx); err != nil {
		return nil, err
	}
	b, _ := json.Marshal(s.ptr)
	return b, nil
}

func (s *memoryStage) load(ctx context.Context) error {
	if s.loaded {
		return nil
	}
	b, err := s.open(ctx)
	if err != nil {
		return err
	}
	defer b.Close()
	p, err := readPointer(ctx, b)
	if err != nil {
		return fmt.Errorf("memory %s: %w", s.loc, err)
	}
	s.ptr, s.loaded = p, true
	return nil
}

func (s *memoryStage) open(ctx context.Context) (storage.Bucket, error) {
	b, err := s.loc.Open(ctx)
	if err != nil {
		return nil, fmt.Errorf("memory %s: %w", s.loc, err)
	}
	return b, nil
}

// currentMemoryDir is the directory, under the memory at loc, of the
// version CURRENT names; "" when there is none (or no memory yet).
func currentMemoryDir(ctx context.Context, loc storage.Location) (string, error) {
	b, err := loc.Open(ctx)
	if err != nil {
		return "", fmt.Errorf("memory %s: %w", loc, err)
	}
	defer b.Close()
	p, err := readPointer(ctx, b)
	if err != nil || p == nil {
		return "", err
	}
	return p.Dir, nil
}

// readPointer is the memory's CURRENT; nil when there is no memory yet.
func readPointer(ctx context.Context, b storage.BucketReader) (*MemoryPointer, error) {
	p, err := ReadMemoryPointer(ctx, b, "")
	if errors.Is(err, ErrNoMemory) {
		return nil, nil
	}
	return p, err
}

// previousVersion is the number of the version CURRENT names (0: none).
func (s *memoryStage) previousVersion() (int64, error) {
	if s.ptr == nil {
		return 0, nil
	}
	v, err := strconv.ParseInt(s.ptr.Version, 10, 64)
	if err != nil || v < 1 {
		return 0, fmt.Errorf("memory %s: CURRENT names version %q, not a positive number", s.loc, s.ptr.Version)
	}
	return v, nil
}

// memKeySteps is the projection of the analysis the stage reads.
type memKeySteps struct {
	TrajectoryID string  `parquet:"trajectory_id"`
	Success      bool    `parquet:"success"`
	KeySteps     []int32 `parquet:"key_steps,list"`
}

// memStrategy is the projection of the run's strategies dataset.
type memStrategy struct {
	Name           string             `parquet:"name"`
	Situation      string             `parquet:"situation"`
	Suggestion     string             `parquet:"suggestion"`
	Parameters     []memory.Parameter `parquet:"parameters,list"`
	Cues           []string           `parquet:"cues,list"`
	Implementation string             `parquet:"implementation"`
	UsedIn         []string           `parquet:"used_in,list"`
	Concepts       []string           `parquet:"concepts,list"`
	Domain         string             `parquet:"domain"`
	Source         string             `parquet:"source"`
}

// memPlanSource is the projection of the trajectories plans are built from.
type memPlanSource struct {
	TrajectoryID string `parquet:"trajectory_id"`
	Task         struct {
		Description string `parquet:"description"`
		Domain      string `parquet:"domain"`
	} `parquet:"task"`
	Steps []struct {
		Thought string `parquet:"thought"`
		Action  string `parquet:"action"`
	} `parquet:"steps,list"`
	CreatedAt time.Time `parquet:"created_at,timestamp(millisecond)"`
}

// expKey is the projection of experience rows the stage classifies.
type expKey struct {
	TrajectoryID string `parquet:"trajectory_id"`
	ContentHash  string `parquet:"content_hash"`
}

func (s *memoryStage) Run(ctx context.Context, env *Env) error {
	if err := s.load(ctx); err != nil {
		return err
	}
	prev, err := s.previousVersion()
	if err != nil {
		return err
	}
	version := prev + 1
	b, err := s.open(ctx)
	if err != nil {
		return err
	}
	defer b.Close()
	prevDir := ""
	if s.ptr != nil {
		prevDir = s.ptr.Dir
	}
	n := env.Counters()

	// What the memory holds, and what of the run is new to it.
	seen := memory.Seen{}
	if err := readVersion(ctx, s.loc, b, prevDir, MemoryExperience, ExperienceSchema, func(r *expKey) error {
		seen[r.TrajectoryID] = r.ContentHash
		return nil
	}); err != nil {
		return err
	}
	fresh := map[string]time.Time{} // new or changed trajectory -> created_at
	changed := map[string]bool{}
	var dups int64
	err = ReadEmitted(ctx, env, ExperienceDataset, func(r *memory.Experience) error {
		switch seen.Classify(r.TrajectoryID, r.ContentHash) {
		case memory.New:
			fresh[r.TrajectoryID] = r.CreatedAt
		case memory.Changed:
			fresh[r.TrajectoryID] = r.CreatedAt
			changed[r.TrajectoryID] = true
		default:
			dups++
		}
		return nil
	})
	if err != nil {
		return err
	}
	n.Add("experience_new", int64(len(fresh)-len(changed)))
	n.Add("experience_changed", int64(len(changed)))
	n.Add("experience_duplicates", dups)
	var inputs []MemoryInput
	known := map[string]bool{}
	if err := readVersion(ctx, s.loc, b, prevDir, MemoryInputs, MemoryInputSchema, func(r *MemoryInput) error {
		inputs = append(inputs, *r)
		known[r.key()] = true
		return nil
	}); err != nil {
		return err
	}
	newFiles := 0
	for _, f := range env.Inputs() {
		if k := inputKey(f); !known[k] {
			known[k] = true
			inputs = append(inputs, MemoryInput{Path: f.Rel, Bytes: f.Size, ContentID: f.ContentID, RunID: env.RunID, Version: version})
			newFiles++
		}
	}
	n.Add("input_files_new", int64(newFiles))
	if len(fresh) == 0 && newFiles == 0 {
		n.Add("memory_unchanged", 1)
		env.Log.Info("memory unchanged: no trajectory or input file new to it", "version", prev)
		return nil
	}

	keySteps := map[string][]int32{}
	if err := ReadEmitted(ctx, env, "analysis", func(r *memKeySteps) error {
		if _, ok := fresh[r.TrajectoryID]; ok && r.Success && len(r.KeySteps) > 0 {
			keySteps[r.TrajectoryID] = r.KeySteps
		}
		return nil
	}); err != nil {
		return err
	}

	// Strategies: the run's, counted only for new trajectories.
	strategyOf := map[string]string{}
	var incoming []memory.Strategy
	if slices.Contains(s.stages, "strategies") {
		if err := ReadEmitted(ctx, env, "strategies", func(r *memStrategy) error {
			st := memory.Strategy{Name: r.Name, Situation: r.Situation, Suggestion: r.Suggestion, Parameters: r.Parameters,
				Cues: r.Cues, Implementation: r.Implementation, Concepts: r.Concepts, Domain: r.Domain, Source: r.Source}
			for _, id := range r.UsedIn {
				strategyOf[id] = r.Name
				if at, ok := fresh[id]; ok {
					st.UsedIn = append(st.UsedIn, id)
					if at.After(st.LastUsed) {
						st.LastUsed = at
					}
				}
			}
			incoming = append(incoming, st)
			return nil
		}); err != nil {
			return err
		}
	}
	var bank []memory.Strategy
	if err := readVersion(ctx, s.loc, b, prevDir, MemoryStrategies, MemoryStrategySchema, func(r *memory.Strategy) error {
		bank = append(bank, *r)
		return nil
	}); err != nil {
		return err
	}
	o := s.cfg.options(version, env.RunID)
	bank, sst, err := memory.MergeStrategies(bank, incoming, o)
	if err != nil {
		return err
	}
	n.Add("strategies_incoming", int64(sst.Incoming))
	n.Add("strategies_added", int64(sst.Added))
	n.Add("strategies_merged_by_name", int64(sst.MergedByName))
	n.Add("strategies_merged_by_similarity", int64(sst.MergedBySim))
	n.Add("strategies_evicted", int64(sst.Evicted))
	n.Add("strategies", int64(sst.Size))

	// Plans of the new successful trajectories.
	var plans []memory.Plan
	if err := ReadEmitted(ctx, env, columnar.TrajectoriesDataset, func(r *memPlanSource) error {
		ks, ok := keySteps[r.TrajectoryID]
		if !ok {
			return nil
		}
		steps := make([]memory.PlanStep, 0, len(ks))
		for _, k := range slices.Sorted(slices.Values(ks)) {
			if int(k) < len(r.Steps) && k >= 0 {
				steps = append(steps, memory.PlanStep{Thought: r.Steps[k].Thought, Action: r.Steps[k].Action})
			}
		}
		if p, ok := memory.NewPlan(r.TrajectoryID, r.Task.Description, r.Task.Domain, r.CreatedAt, strategyOf[r.TrajectoryID], steps); ok {
			plans = append(plans, p)
		}
		return nil
	}); err != nil {
		return err
	}
	var library []memory.Plan
	if err := readVersion(ctx, s.loc, b, prevDir, MemoryPlans, MemoryPlanSchema, func(r *memory.Plan) error {
		library = append(library, *r)
		return nil
	}); err != nil {
		return err
	}
	library, pst, err := memory.MergePlans(library, memory.CombinePlans(plans), o)
	if err != nil {
		return err
	}
	n.Add("plans_added", int64(pst.Added))
	n.Add("plans_merged", int64(pst.MergedByName))
	n.Add("plans_evicted", int64(pst.Evicted))
	n.Add("plans", int64(pst.Size))

	// The concept library: the run's (it extends the earlier one), or
	// the earlier one when the run learned none.
	var lib []concepts.Concept
	var lineage []memory.Lineage
	if err := readVersion(ctx, s.loc, b, prevDir, MemoryLineage, MemoryLineageSchema, func(r *memory.Lineage) error {
		lineage = append(lineage, *r)
		return nil
	}); err != nil {
		return err
	}
	if slices.Contains(s.stages, "concepts") {
		if err := ReadEmitted(ctx, env, ConceptsDataset, func(r *concepts.Concept) error { lib = append(lib, *r); return nil }); err != nil {
			return err
		}
		uses := make([]memory.ConceptUse, len(lib))
		for i, c := range lib {
			uses[i] = memory.ConceptUse{Name: c.Name, Body: c.Body, Uses: c.Uses, Solutions: c.Solutions}
		}
		lineage = memory.UpdateLineage(lineage, uses, env.RunID, version)
	} else if err := readVersion(ctx, s.loc, b, prevDir, MemoryConcepts, ConceptsSchema, func(r *concepts.Concept) error {
		lib = append(lib, *r)
		return nil
	}); err != nil {
		return err
	}
	n.Add("concepts", int64(len(lib)))

	// The new version.
	dir := NewMemoryPointer(MemoryVersionName(int(version)), "", "").Dir
	c, err := columnar.NewCommitter(ctx, b, dir, columnar.RunManifest)
	if err != nil {
		return fmt.Errorf("memory %s: %w", s.loc.Join(dir), err)
	}
	abort := func(err error) error {
		if aerr := c.Abort(ctx); aerr != nil {
			env.Log.Warn("cleaning up a memory version that was not committed", "error", aerr)
		}
		return fmt.Errorf("memory %s: %w", s.loc.Join(dir), err)
	}
	if err := s.writeExperience(ctx, env, b, c, prevDir, changed, fresh, keySteps, strategyOf, version); err != nil {
		return abort(err)
	}
	if err := writeAll(ctx, env, c, MemoryStrategies, MemoryStrategySchema, bank); err != nil {
		return abort(err)
	}
	if err := writeAll(ctx, env, c, MemoryPlans, MemoryPlanSchema, library); err != nil {
		return abort(err)
	}
	if err := writeAll(ctx, env, c, MemoryConcepts, ConceptsSchema, lib); err != nil {
		return abort(err)
	}
	if err := writeAll(ctx, env, c, MemoryLineage, MemoryLineageSchema, lineage); err != nil {
		return abort(err)
	}
	if err := writeAll(ctx, env, c, MemoryInputs, MemoryInputSchema, inputs); err != nil {
		return abort(err)
	}
	ptr := NewMemoryPointer(MemoryVersionName(int(version)), env.RunID, newestTrajectory(fresh))
	docs, err := MemoryDocs(bank, lib, library)
	if err != nil {
		return abort(err)
	}
	if err := writeRecallIndex(ctx, c, strings.TrimPrefix(ptr.Index, dir+"/"), docs, s.recall); err != nil {
		return abort(err)
	}
	n.Add("recall_documents", int64(len(docs)))
	// The version's manifest, then CURRENT, once the run has committed;
	// its files go if the run fails.
	m := &columnar.Manifest{Kind: "memory", Fingerprint: env.Fingerprint, Counters: n.Snapshot()}
	m.Counters["version"] = version
	n.Add("memory_version", version)
	started := time.Now().UTC()
	env.OnAbort(func(ctx context.Context) {
		if err := c.Abort(ctx); err != nil {
			env.Log.Warn("cleaning up a memory version that was not committed", "error", err)
		}
	})
	env.AfterCommitLast(func(ctx context.Context) error {
		if err := commit(ctx, c, m, env.RunID, "memory", started, env.Log, nil); err != nil {
			return fmt.Errorf("memory %s: committing version %s (re-run to commit it): %w", s.loc.Join(dir), ptr.Version, err)
		}
		b, err := s.open(ctx)
		if err != nil {
			return err
		}
		defer b.Close()
		if err := WriteMemoryPointer(ctx, b, "", ptr); err != nil {
			return fmt.Errorf("memory %s: writing CURRENT (version %s is written; re-run to advance to it): %w", s.loc, ptr.Version, err)
		}
		env.Log.Info("memory advanced", "version", ptr.Version, "memory", s.loc.String())
		return nil
	})
	env.Log.Info("memory version written", "version", version, "new_trajectories", len(fresh), "strategies", len(bank), "plans", len(library), "concepts", len(lib))
	return nil
}

// newestTrajectory is the newest creation time of the run's new
// trajectories (RFC 3339): the version's time, from the data.
func newestTrajectory(fresh map[string]time.Time) string {
	var t time.Time
	for _, at := range fresh {
		if at.After(t) {
			t = at
		}
	}
	return t.UTC().Format(time.RFC3339)
}

// RecallIndexDataset is the recall index's entry in a memory version's
// manifest.
const RecallIndexDataset = "recall_index"

// writeRecallIndex builds the recall index of docs and writes it as the
// file rel of the version's committer.
func writeRecallIndex(ctx context.Context, c *columnar.Committer, rel string, docs []recall.Doc, o recall.Options) error {
	ix, err := recall.Build(docs, o)
	if err != nil {
		return fmt.Errorf("recall index: %w", err)
	}
	c.Declare(columnar.DatasetInfo{Name: RecallIndexDataset, Schema: columnar.Schema{Name: "recall_index", Version: recall.FormatVersion}, Stage: "memory"}, "recall-index")
	w, err := c.Create(ctx, RecallIndexDataset, rel, "")
	if err != nil {
		return fmt.Errorf("recall index: %w", err)
	}
	if _, err := ix.WriteTo(w); err != nil {
		w.Abort()
		return fmt.Errorf("recall index: %w", err)
	}
	w.Rows = int64(ix.Len())
	if err := w.Close(); err != nil {
		return fmt.Errorf("recall index: %w", err)
	}
	return nil
}

// readVersion streams a dataset of the memory version at dir into fn;
// nothing when dir is "" (no version yet).
func readVersion[T any](ctx context.Context, loc storage.Location, b storage.Bucket, dir, dataset string, schema columnar.Schema, fn func(*T) error) error {
	if dir == "" {
		return nil
	}
	src, err := columnar.OpenDataset(ctx, b, dir, dataset, schema)
	if err != nil {
		return fmt.Errorf("memory %s: %w", loc.Join(dir), err)
	}
	if err := scanParquet(ctx, b, src.Files, schema, fn); err != nil {
		return fmt.Errorf("memory %s: %s: %w", loc.Join(dir), dataset, err)
	}
	return nil
}

// writeExperience writes the version's experience: the previous
// version's rows (less those the run changed), then the run's new and
// changed rows in run order, with their key steps and strategy.
func (s *memoryStage) writeExperience(ctx context.Context, env *Env, b storage.Bucket, c *columnar.Committer, prevDir string,
	changed map[string]bool, fresh map[string]time.Time, keySteps map[string][]int32, strategyOf map[string]string, version int64) error {
	sink := memorySink[memory.Experience](env, c, MemoryExperience, ExperienceSchema)
	err := readVersion(ctx, s.loc, b, prevDir, MemoryExperience, ExperienceSchema, func(r *memory.Experience) error {
		if changed[r.TrajectoryID] {
			return nil
		}
		return sink.Write(ctx, *r)
	})
	if err == nil {
		written := map[string]bool{}
		err = ReadEmitted(ctx, env, ExperienceDataset, func(r *memory.Experience) error {
			if _, ok := fresh[r.TrajectoryID]; !ok || written[r.TrajectoryID] {
				return nil
			}
			written[r.TrajectoryID] = true
			e := *r
			if ks := keySteps[e.TrajectoryID]; ks != nil {
				e.KeySteps = ks
			}
			e.Strategy, e.Version = strategyOf[e.TrajectoryID], version
			return sink.Write(ctx, e)
		})
	}
	if err != nil {
		sink.Abort()
		return err
	}
	return sink.Close(ctx)
}

// memorySink is a sink of a memory version's dataset.
func memorySink[T any](env *Env, c *columnar.Committer, name string, schema columnar.Schema) *columnar.Sink[T] {
	return columnar.NewSink(c, columnar.SinkOptions[T]{
		Dataset:     columnar.DatasetInfo{Name: name, Schema: schema, Stage: "memory"},
		Dir:         name,
		Fingerprint: env.Fingerprint,
		RowsPerFile: env.parquet.RowsPerFile,
		JSONL:       env.parquet.JSONL,
		WriteEmpty:  true,
		Parquet:     env.parquet.Writer(),
	})
}

// writeAll writes rows as one of a memory version's datasets.
func writeAll[T any](ctx context.Context, env *Env, c *columnar.Committer, name string, schema columnar.Schema, rows []T) error {
	sink := memorySink[T](env, c, name, schema)
	for _, r := range rows {
		if err := sink.Write(ctx, r); err != nil {
			sink.Abort()
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	return sink.Close(ctx)
}
