package jobs

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/url"
	"os"
	"path"
	"regexp"
	"strings"
	"time"

	"github.com/atlas-ai/atlas-learn/columnar"
	"github.com/atlas-ai/atlas-learn/columnar/storage"
	"github.com/atlas-ai/atlas-learn/sft/finetune"
)

// The fine-tune back-ends of finetune.backend.
const (
	FinetuneBackendNone   = "none"
	FinetuneBackendQueue  = "queue"
	FinetuneBackendOpenAI = "openai"
)

// Decision names the finetune stage records in the manifest.
const (
	FinetuneDecision   = "finetune"
	FinetuneSubmission = "finetune.submission"
)

// FinetuneConfig configures the finetune stage (section finetune:): the
// should_finetune trigger, where its state lives, and the back-end that
// takes the hand-off.
type FinetuneConfig struct {
	// Backend is none (decide and record only: the default), queue
	// (write the request under queue.prefix) or openai (an
	// OpenAI-compatible fine-tuning API).
	Backend string `yaml:"backend" json:"backend"`
	// Clock is the run's clock, RFC 3339; "" takes the newest
	// trajectory's created_at. Never the wall clock, so that decisions
	// are reproducible.
	Clock string `yaml:"clock" json:"clock,omitempty"`
	// The trigger: trajectories accumulated since the last fine-tune,
	// time since it, success rate of the accumulated trajectories and
	// training examples in this run.
	MinTrajectories int64         `yaml:"min_trajectories" json:"min_trajectories"`
	MinInterval     time.Duration `yaml:"min_interval" json:"min_interval"`
	MinSuccessRate  float64       `yaml:"min_success_rate" json:"min_success_rate"`
	MinExamples     int64         `yaml:"min_examples" json:"min_examples"`
	// ExamplesDataset is the emitted dataset whose rows (columns weight,
	// kind, split) are counted as examples; every emitted dataset whose
	// name starts with it is named in the request. Absent: 0 examples.
	ExamplesDataset string `yaml:"examples_dataset" json:"examples_dataset"`
	// Dataset is the emitted JSONL dataset whose train and validation
	// files the back-end trains on.
	Dataset string `yaml:"dataset" json:"dataset"`
	// State is the state file; "" is <output>/memory/finetune/state.json.
	State string `yaml:"state" json:"state,omitempty"`
	// BaseModel is the model to fine-tune (required unless backend is
	// none).
	BaseModel string          `yaml:"base_model" json:"base_model"`
	Method    finetune.Method `yaml:"method" json:"method"`
	Queue     struct {
		// Prefix is where requests go; "" is <output>/finetune-queue.
		Prefix string `yaml:"prefix" json:"prefix,omitempty"`
	} `yaml:"queue" json:"queue"`
	OpenAI FinetuneOpenAIConfig `yaml:"openai" json:"openai"`
}

// FinetuneOpenAIConfig configures the openai back-end (finetune.openai),
// in internal/llm's style: the key is never configuration, api_key_env
// names the variable that holds it.
type FinetuneOpenAIConfig struct {
	BaseURL   string `yaml:"base_url" json:"base_url"`
	APIKeyEnv string `yaml:"api_key_env" json:"api_key_env"`
	// Suffix is added to the fine-tuned model's name.
	Suffix string `yaml:"suffix" json:"suffix"`
	// LearningRateMultiplier is sent as such (0: the server's default);
	// method.learning_rate is not, as OpenAI takes a multiplier.
	LearningRateMultiplier float64       `yaml:"learning_rate_multiplier" json:"learning_rate_multiplier"`
	Timeout                time.Duration `yaml:"timeout" json:"timeout"`
	MaxRetries             int           `yaml:"max_retries" json:"max_retries"`
	BackoffInitial         time.Duration `yaml:"backoff_initial" json:"backoff_initial"`
	BackoffMax             time.Duration `yaml:"backoff_max" json:"backoff_max"`
	// PollInterval and PollTimeout: the stage waits for the job to end,
	// for at most PollTimeout (0: it does not wait; a later run or
	// `atlas-learn finetune status` reads the outcome).
	PollInterval time.Duration `yaml:"poll_interval" json:"poll_interval"`
	PollTimeout  time.Duration `yaml:"poll_timeout" json:"poll_timeout"`
}

var finetuneEnvRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// Validate reports the first invalid key, relative to the section.
func (c FinetuneConfig) Validate() error {
	switch c.Backend {
	case FinetuneBackendNone, FinetuneBackendQueue, FinetuneBackendOpenAI:
	default:
		return fmt.Errorf("backend: want none, queue or openai, got %q", c.Backend)
	}
	if c.Clock != "" {
		if _, err := time.Parse(time.RFC3339, c.Clock); err != nil {
			return fmt.Errorf("clock: want an RFC 3339 time (2026-11-24T02:00:00Z) or empty, got %q", c.Clock)
		}
	}
	switch {
	case c.MinTrajectories < 0:
		return fmt.Errorf("min_trajectories: must be >= 0, got %d", c.MinTrajectories)
	case c.MinInterval < 0:
		return fmt.Errorf("min_interval: must be >= 0, got %s", c.MinInterval)
	case math.IsNaN(c.MinSuccessRate) || c.MinSuccessRate < 0 || c.MinSuccessRate > 1:
		return fmt.Errorf("min_success_rate: must be 0..1, got %v", c.MinSuccessRate)
	case c.MinExamples < 0:
		return fmt.Errorf("min_examples: must be >= 0, got %d", c.MinExamples)
	case !finetuneDatasetName(c.ExamplesDataset):
		return fmt.Errorf("examples_dataset: want a dataset name, got %q", c.ExamplesDataset)
	case !finetuneDatasetName(c.Dataset):
		return fmt.Errorf("dataset: want a dataset name, got %q", c.Dataset)
	case c.Backend != FinetuneBackendNone && c.BaseModel == "":
		return fmt.Errorf("base_model: required when backend is %s", c.Backend)
	}
	if err := c.Method.Validate(); err != nil {
		return fmt.Errorf("method.%w", err)
	}
	if c.State != "" {
		if _, err := storage.ParseLocation(c.State, storage.S3Config{}); err != nil {
			return fmt.Errorf("state: %w", err)
		}
		if !strings.HasSuffix(c.State, ".json") {
			return fmt.Errorf("state: want a .json file, got %q", storage.Redact(c.State))
		}
	}
	if c.Queue.Prefix != "" {
		if _, err := storage.ParseLocation(c.Queue.Prefix, storage.S3Config{}); err != nil {
			return fmt.Errorf("queue.prefix: %w", err)
		}
	}
	o := c.OpenAI
	if c.Backend == FinetuneBackendOpenAI {
		u, err := url.Parse(o.BaseURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("openai.base_url: want http(s)://host[:port]/path, got %q", storage.Redact(o.BaseURL))
		}
		if u.User != nil || u.RawQuery != "" {
			return fmt.Errorf("openai.base_url: must carry no credentials or query (the key comes from openai.api_key_env)")
		}
	}
	switch {
	case o.APIKeyEnv != "" && !finetuneEnvRE.MatchString(o.APIKeyEnv):
		return fmt.Errorf("openai.api_key_env: want the name of an environment variable, not the key itself; got a value of %d characters", len(o.APIKeyEnv))
	case math.IsNaN(o.LearningRateMultiplier) || o.LearningRateMultiplier < 0:
		return fmt.Errorf("openai.learning_rate_multiplier: must be >= 0, got %v", o.LearningRateMultiplier)
	case o.Timeout <= 0:
		return fmt.Errorf("openai.timeout: must be positive, got %s", o.Timeout)
	case o.MaxRetries < 0 || o.MaxRetries > 100:
		return fmt.Errorf("openai.max_retries: must be 0..100, got %d", o.MaxRetries)
	case o.BackoffInitial < 0:
		return fmt.Errorf("openai.backoff_initial: must be >= 0, got %s", o.BackoffInitial)
	case o.BackoffMax < o.BackoffInitial:
		return fmt.Errorf("openai.backoff_max: must be >= backoff_initial (%s), got %s", o.BackoffInitial, o.BackoffMax)
	case o.PollInterval <= 0:
		return fmt.Errorf("openai.poll_interval: must be positive, got %s", o.PollInterval)
	case o.PollTimeout < 0:
		return fmt.Errorf("openai.poll_timeout: must be >= 0, got %s", o.PollTimeout)
	}
	return nil
}

func finetuneDatasetName(name string) bool {
	return name != "" && !strings.Contains(name, "..") && storage.Join(name) == name
}

// Redacted is c without anything that could hold a secret in its
// locations and URL.
func (c FinetuneConfig) Redacted() FinetuneConfig {
	c.State = storage.Redact(c.State)
	c.Queue.Prefix = storage.Redact(c.Queue.Prefix)
	c.OpenAI.BaseURL = storage.Redact(c.OpenAI.BaseURL)
	return c
}

// Trigger is the trigger policy of the configuration.
func (c FinetuneConfig) Trigger() finetune.Trigger {
	return finetune.Trigger{MinTrajectories: c.MinTrajectories, MinInterval: c.MinInterval, MinSuccessRate: c.MinSuccessRate, MinExamples: c.MinExamples}
}

// StateLocation is the state file's location for an output.
func (c FinetuneConfig) StateLocation(output string, s3 storage.S3Config) (storage.Location, error) {
	if c.State != "" {
		return storage.ParseLocation(c.State, s3)
	}
	out, err := storage.ParseLocation(output, s3)
	if err != nil {
		return storage.Location{}, err
	}
	return out.Join(finetune.StateKey), nil
}

// QueueLocation is the queue prefix's location for an output.
func (c FinetuneConfig) QueueLocation(output string, s3 storage.S3Config) (storage.Location, error) {
	if c.Queue.Prefix != "" {
		return storage.ParseLocation(c.Queue.Prefix, s3)
	}
	out, err := storage.ParseLocation(output, s3)
	if err != nil {
		return storage.Location{}, err
	}
	return out.Join("finetune-queue"), nil
}

// The finetune stage counts the run's trajectories (and successes) and
// the examples of its fine-tuning dataset, decides with the trigger
// against the state kept beside the memory, records the decision in the
// manifest and, when a fine-tune is due and a back-end is configured,
// hands the run's dataset files off and records the result too. The
// state advances only once the run has committed.
type finetuneStage struct {
	cfg    FinetuneConfig
	output string
	s3     storage.S3Config
}

func newFinetuneStage(cfg *Config) (Stage, error) {
	return &finetuneStage{cfg: cfg.Finetune, output: cfg.Output, s3: cfg.S3}, nil
}

func (*finetuneStage) Name() string    { return "finetune" }
func (*finetuneStage) Needs() []string { return []string{"trajectories"} }

// Fingerprint covers the settings that shape the decision and the
// request; not the state (a re-run of the same input must keep its run
// id, or its trajectories would count twice), nor locations, timeouts
// and polling.
func (s *finetuneStage) Fingerprint(context.Context) ([]byte, error) {
	c := s.cfg
	c.State, c.Queue.Prefix = "", ""
	c.OpenAI = FinetuneOpenAIConfig{Suffix: c.OpenAI.Suffix, LearningRateMultiplier: c.OpenAI.LearningRateMultiplier}
	return json.Marshal(c)
}

// finetuneTrajectory is the projection the stage reads of trajectories.
type finetuneTrajectory struct {
	TrajectoryID string    `parquet:"trajectory_id"`
	CreatedAt    time.Time `parquet:"created_at,timestamp(millisecond)"`
	Outcome      struct {
		Success bool `parquet:"success"`
	} `parquet:"outcome"`
}

// finetuneExample is the projection the stage reads of the examples.
type finetuneExample struct {
	Weight float64 `parquet:"weight"`
	Kind   string  `parquet:"kind"`
	Split  string  `parquet:"split"`
}

// FinetuneSubmissionRecord is what the manifest records of a hand-off.
type FinetuneSubmissionRecord struct {
	RequestID  string                `json:"request_id"`
	Backend    string                `json:"backend"`
	BaseModel  string                `json:"base_model"`
	Train      []finetune.DatasetRef `json:"train"`
	Validation []finetune.DatasetRef `json:"validation"`
	Result     *finetune.Result      `json:"result,omitempty"`
	Error      string                `json:"error,omitempty"`
}

func (s *finetuneStage) Run(ctx context.Context, env *Env) error {
	batch, newest, err := s.count(ctx, env)
	if err != nil {
		return err
	}
	now := newest
	if s.cfg.Clock != "" {
		now, _ = time.Parse(time.RFC3339, s.cfg.Clock)
	} else if batch.Trajectories == 0 {
		env.Warn("no trajectories, so no run clock: set finetune.clock; the interval rule fails")
	}
	stateLoc, err := s.cfg.StateLocation(s.output, s.s3)
	if err != nil {
		return fmt.Errorf("finetune.state: %w", err)
	}
	state, err := readState(ctx, stateLoc)
	if err != nil {
		return err
	}
	// A re-run of the last run applied (killed after its commit, before
	// the memory advanced) decides on the state before it.
	state = state.Rewound(batch)
	d := s.cfg.Trigger().Decide(state, now, batch)
	if err := env.Decide(FinetuneDecision, d); err != nil {
		return err
	}
	n := env.Counters()
	n.Add("trajectories", batch.Trajectories)
	n.Add("successes", batch.Successes)
	n.Add("examples_train", batch.Examples)
	n.Add("examples_validation", batch.ValidationExamples)
	n.Add("trajectories_accumulated", d.Trajectories)
	n.Add("already_counted", b2i(d.AlreadyCounted))
	n.Add("finetune_due", b2i(d.Finetune))
	env.Log.Info("should_finetune", "finetune", d.Finetune, "trajectories", d.Trajectories, "success_rate", d.SuccessRate, "examples", d.Examples, "now", d.Now)

	var res *finetune.Result
	var updates []finetune.Result
	if s.cfg.Backend != FinetuneBackendNone {
		backend, err := s.backend(ctx, env, stateLoc)
		if err != nil {
			return err
		}
		updates = s.refresh(ctx, env, backend, state)
		if d.Finetune {
			res = s.submit(ctx, env, backend, d, batch)
		}
	}
	env.AfterCommit(func(ctx context.Context) error {
		return updateState(ctx, stateLoc, func(st finetune.State) finetune.State {
			st = st.Rewound(batch).Apply(d, batch, res)
			for _, u := range updates {
				st.UpdateJob(u)
			}
			return st
		})
	})
	return nil
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// count reads the run's trajectories and examples.
func (s *finetuneStage) count(ctx context.Context, env *Env) (finetune.Batch, time.Time, error) {
	b := finetune.Batch{RunID: env.RunID}
	var newest time.Time
	ids := sha256.New()
	err := ReadEmitted(ctx, env, columnar.TrajectoriesDataset, func(r *finetuneTrajectory) error {
		ids.Write([]byte(r.TrajectoryID))
		ids.Write([]byte{0})
		b.Trajectories++
		if r.Outcome.Success {
			b.Successes++
		}
		if r.CreatedAt.After(newest) {
			newest = r.CreatedAt
		}
		return nil
	})
	if err != nil {
		return b, newest, err
	}
	if b.Trajectories > 0 {
		b.InputID = "sha256:" + hex.EncodeToString(ids.Sum(nil))[:32]
	}
	if !hasDataset(env.EmittedDatasets(), s.cfg.ExamplesDataset) {
		env.Log.Info("no examples dataset in this run: 0 examples", "dataset", s.cfg.ExamplesDataset)
		return b, newest.UTC(), nil
	}
	err = ReadEmitted(ctx, env, s.cfg.ExamplesDataset, func(r *finetuneExample) error {
		if isValidation(r.Split) {
			b.ValidationExamples++
			return nil
		}
		b.Examples++
		b.WeightedExamples += r.Weight
		return nil
	})
	return b, newest.UTC(), err
}

func hasDataset(names []string, name string) bool {
	for _, n := range names {
		if n == name {
			return true
		}
	}
	return false
}

func isValidation(split string) bool {
	switch strings.ToLower(split) {
	case "validation", "valid", "val", "eval", "test":
		return true
	}
	return false
}

// splitOf tells a file's split from its partition (split=...) or its
// name (train*.jsonl, validation*.jsonl).
func splitOf(f columnar.SourceFile) string {
	for _, p := range strings.Split(f.Partition, "/") {
		if v, ok := strings.CutPrefix(p, "split="); ok {
			if isValidation(v) {
				return "validation"
			}
			return "train"
		}
	}
	base := strings.ToLower(path.Base(f.Rel))
	switch {
	case strings.HasPrefix(base, "train"):
		return "train"
	case strings.HasPrefix(base, "valid"), strings.HasPrefix(base, "val."), strings.HasPrefix(base, "eval"):
		return "validation"
	}
	return ""
}

// refs lists the files of every emitted dataset whose name starts with
// the examples dataset's, with their versions.
func (s *finetuneStage) refs(env *Env) ([]finetune.DatasetRef, error) {
	out, err := storage.ParseLocation(s.output, s.s3)
	if err != nil {
		return nil, err
	}
	var refs []finetune.DatasetRef
	for _, name := range env.EmittedDatasets() {
		if !strings.HasPrefix(name, s.cfg.ExamplesDataset) {
			continue
		}
		files, err := env.EmittedFiles(name)
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			refs = append(refs, finetune.DatasetRef{Dataset: name, Split: splitOf(f), Format: f.Format, URI: out.Join(env.RunDir, f.Rel).String(),
				Bytes: f.Size, SHA256: strings.TrimPrefix(f.ContentID, "sha256:"), RunID: env.RunID})
		}
	}
	return refs, nil
}

// backend builds the configured back-end.
func (s *finetuneStage) backend(ctx context.Context, env *Env, stateLoc storage.Location) (finetune.Backend, error) {
	switch s.cfg.Backend {
	case FinetuneBackendQueue:
		loc, err := s.cfg.QueueLocation(s.output, s.s3)
		if err != nil {
			return nil, fmt.Errorf("finetune.queue.prefix: %w", err)
		}
		return &lazyQueue{loc: loc}, nil
	case FinetuneBackendOpenAI:
		o := s.cfg.OpenAI
		dir, _, err := stateLoc.Split()
		if err != nil {
			return nil, fmt.Errorf("finetune.state: %w", err)
		}
		ledger, err := dir.Open(ctx)
		if err != nil {
			return nil, fmt.Errorf("finetune: the request ledger beside the state: %w", err)
		}
		key := ""
		if o.APIKeyEnv != "" {
			key = os.Getenv(o.APIKeyEnv)
		}
		b, err := finetune.NewOpenAI(finetune.OpenAIOptions{BaseURL: o.BaseURL, APIKey: key, Timeout: o.Timeout, MaxRetries: o.MaxRetries,
			BackoffInitial: o.BackoffInitial, BackoffMax: o.BackoffMax, PollInterval: o.PollInterval, PollTimeout: o.PollTimeout,
			Suffix: o.Suffix, LearningRateMultiplier: o.LearningRateMultiplier, Ledger: ledger, LedgerPrefix: "requests", Log: env.Log,
			Read: func(ctx context.Context, uri string) ([]byte, error) { return storage.ReadObject(ctx, uri, s.s3) }})
		if err != nil {
			ledger.Close()
			return nil, err
		}
		env.AfterCommit(func(context.Context) error { ledger.Close(); return nil })
		return b, nil
	}
	return nil, fmt.Errorf("finetune.backend: %q has no back-end", s.cfg.Backend)
}

// submit hands the run's datasets off. A failed submission does not fail
// the run (its datasets are worth committing): it is a warning, recorded
// in the manifest, and the state records no fine-tune, so that the next
// run tries again.
func (s *finetuneStage) submit(ctx context.Context, env *Env, b finetune.Backend, d finetune.Decision, batch finetune.Batch) *finetune.Result {
	rec := FinetuneSubmissionRecord{RequestID: finetune.RequestID(env.RunID, env.Fingerprint), Backend: b.Name(), BaseModel: s.cfg.BaseModel}
	record := func() {
		if err := env.Decide(FinetuneSubmission, rec); err != nil {
			env.Warn(err.Error())
		}
	}
	rt := env.RunCounters()
	refs, err := s.refs(env)
	if err != nil {
		rec.Error = err.Error()
		env.Warn("fine-tune due but not submitted: " + rec.Error)
		rt.Add("submission_failed", 1)
		record()
		return nil
	}
	for _, r := range refs {
		// One dataset whose files say their split, or one per split (the
		// sft stage's exports: sft.openai.train, sft.openai.validation).
		switch r.Dataset {
		case s.cfg.Dataset:
		case s.cfg.Dataset + ".train":
			r.Split = "train"
		case s.cfg.Dataset + ".validation":
			r.Split = "validation"
		default:
			continue
		}
		if r.Split == "validation" {
			rec.Validation = append(rec.Validation, r)
		} else {
			rec.Train = append(rec.Train, r)
		}
	}
	if len(rec.Train) == 0 {
		rec.Error = fmt.Sprintf("no training file: dataset %q is not in this run (datasets: %v)", s.cfg.Dataset, env.EmittedDatasets())
		env.Warn("fine-tune due but not submitted: " + rec.Error)
		rt.Add("submission_failed", 1)
		record()
		return nil
	}
	out, _ := storage.ParseLocation(s.output, s.s3)
	req := finetune.Request{ID: rec.RequestID, RunID: env.RunID, Fingerprint: env.Fingerprint,
		Manifest: out.Join(env.RunDir, columnar.RunManifest).String(), BaseModel: s.cfg.BaseModel, Method: s.cfg.Method,
		Train: rec.Train, Validation: rec.Validation, Datasets: refs, Decision: &d}
	res, err := b.Submit(ctx, req)
	if err != nil {
		rec.Error = err.Error()
		if res.JobID == "" {
			env.Warn("fine-tune due but the submission failed: " + rec.Error)
			rt.Add("submission_failed", 1)
			record()
			return nil
		}
		env.Warn("fine-tune submitted, but: " + rec.Error)
	}
	rec.Result = &res
	rt.Add("submitted", 1)
	record()
	// A request this run made names this run's files: if the run fails,
	// they go, and so must the request (a back-end that can withdraw it).
	if w, ok := b.(finetune.Withdrawer); ok && !res.Existing {
		id := res.RequestID
		env.OnAbort(func(ctx context.Context) {
			if err := w.Withdraw(ctx, id); err != nil {
				env.Log.Warn("withdrawing the fine-tune request of a failed run", "request_id", id, "error", err)
			}
		})
	}
	env.Log.Info("fine-tune handed off", "request_id", res.RequestID, "backend", res.Backend, "job_id", res.JobID, "status", res.Status, "existing", res.Existing)
	return &res
}

// refresh asks the back-end about the state's jobs still pending (of the
// same back-end), for the state; failures are warnings.
func (s *finetuneStage) refresh(ctx context.Context, env *Env, b finetune.Backend, st finetune.State) []finetune.Result {
	var out []finetune.Result
	for _, j := range st.Pending() {
		if j.Backend != b.Name() || j.RunID == env.RunID {
			continue
		}
		res, err := b.Status(ctx, j.JobID)
		if err != nil {
			env.Warn(fmt.Sprintf("fine-tune request %s: status: %v", j.RequestID, err))
			continue
		}
		res.RequestID = j.RequestID
		out = append(out, res)
		env.RunCounters().Add("jobs_refreshed", 1)
	}
	return out
}

// lazyQueue opens the queue's store on first use.
type lazyQueue struct {
	loc storage.Location
}

func (*lazyQueue) Name() string { return FinetuneBackendQueue }

func (q *lazyQueue) with(ctx context.Context, fn func(*finetune.Queue) (finetune.Result, error)) (finetune.Result, error) {
	b, err := q.loc.Open(ctx)
	if err != nil {
		return finetune.Result{}, fmt.Errorf("finetune queue %s: %w", q.loc, err)
	}
	defer b.Close()
	return fn(finetune.NewQueue(b, ""))
}

func (q *lazyQueue) Submit(ctx context.Context, req finetune.Request) (finetune.Result, error) {
	return q.with(ctx, func(fq *finetune.Queue) (finetune.Result, error) { return fq.Submit(ctx, req) })
}

func (q *lazyQueue) Status(ctx context.Context, id string) (finetune.Result, error) {
	return q.with(ctx, func(fq *finetune.Queue) (finetune.Result, error) { return fq.Status(ctx, id) })
}

// readState reads the state file at loc (the empty state when missing).
func readState(ctx context.Context, loc storage.Location) (finetune.State, error) {
	data, err := loc.ReadObject(ctx)
	if errors.Is(err, storage.ErrNotFound) {
		return finetune.State{Format: finetune.StateFormat, Version: 1}, nil
	}
	if err != nil {
		return finetune.State{}, fmt.Errorf("finetune.state %s: %w", loc, err)
	}
	return finetune.DecodeState(data, loc.String())
}

// updateState reads the state at loc afresh, applies fn and writes it.
func updateState(ctx context.Context, loc storage.Location, fn func(finetune.State) finetune.State) error {
	dir, name, err := loc.Split()
	if err != nil {
		return fmt.Errorf("finetune.state: %w", err)
	}
	b, err := dir.Open(ctx)
	if err != nil {
		return fmt.Errorf("finetune.state %s: %w", loc, err)
	}
	defer b.Close()
	st, err := finetune.LoadState(ctx, b, name)
	if err != nil {
		return err
	}
	return finetune.SaveState(ctx, b, name, fn(st))
}

// FinetuneStatus reads the fine-tune state of an output (for the
// finetune status command).
func FinetuneStatus(ctx context.Context, cfg Config) (finetune.State, storage.Location, error) {
	loc, err := cfg.Finetune.StateLocation(cfg.Output, cfg.S3)
	if err != nil {
		return finetune.State{}, loc, err
	}
	st, err := readState(ctx, loc)
	return st, loc, err
}
