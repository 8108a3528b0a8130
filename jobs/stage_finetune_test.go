package jobs

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/atlas-ai/atlas-learn/columnar"
	"github.com/atlas-ai/atlas-learn/columnar/storage"
	"github.com/atlas-ai/atlas-learn/columnar/storage/faultbucket"
	"github.com/atlas-ai/atlas-learn/sft/finetune"
	"github.com/atlas-ai/atlas-learn/sft/finetune/finetunetest"
)

func ftQuiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func ftConfig(t *testing.T, in, out string) Config {
	t.Helper()
	cfg, err := LoadConfig("", func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	cfg.Input, cfg.Output = in, out
	cfg.Stages = []string{"trajectories", "finetune"}
	cfg.Finetune.MinTrajectories, cfg.Finetune.MinExamples = 50, 0
	return cfg
}

func ftTraj(i, day int) columnar.Trajectory {
	return columnar.Trajectory{SchemaVersion: columnar.SchemaVersion, TrajectoryID: fmt.Sprintf("d%d-t%04d", day, i),
		Task:      columnar.Task{ID: fmt.Sprint(i % 7), Description: "reverse a list"},
		Steps:     []columnar.Step{{Index: 0, Action: "print(1)", ActionType: "python"}},
		Outcome:   columnar.Outcome{Success: i%3 != 0},
		CreatedAt: time.Date(2026, 11, day, 1, i%60, 0, 0, time.UTC)}
}

// ftInput writes one night's trajectories as one Parquet file.
func ftInput(t *testing.T, dir string, day, n int) {
	t.Helper()
	b, err := storage.NewLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	w, err := b.NewWriter(context.Background(), fmt.Sprintf("dt=2026-11-%02d/part-0.parquet", day))
	if err != nil {
		t.Fatal(err)
	}
	pw, _ := columnar.NewWriter[columnar.Trajectory](w, columnar.WriterOptions{RowGroupRows: 100})
	rows := make([]columnar.Trajectory, n)
	for i := range rows {
		rows[i] = ftTraj(i, day)
	}
	if err := pw.Write(rows); err != nil {
		t.Fatal(err)
	}
	if err := pw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

func ftState(t *testing.T, out string) (finetune.State, bool) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(out, finetune.StateKey))
	if os.IsNotExist(err) {
		return finetune.State{}, false
	}
	if err != nil {
		t.Fatal(err)
	}
	st, err := finetune.DecodeState(data, "state")
	if err != nil {
		t.Fatal(err)
	}
	return st, true
}

func ftDecision(t *testing.T, m *columnar.Manifest) finetune.Decision {
	t.Helper()
	var d finetune.Decision
	raw, ok := m.Decisions[FinetuneDecision]
	if !ok {
		t.Fatalf("no %s decision in the manifest: %v", FinetuneDecision, m.Decisions)
	}
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatal(err)
	}
	return d
}

// A run's decision lands in its manifest; the state advances only when
// the run commits, counts a run id once, and accumulates across runs.
func TestFinetuneStageRuns(t *testing.T) {
	ctx := context.Background()
	in, out := t.TempDir(), t.TempDir()
	ftInput(t, in, 1, 30)
	cfg := ftConfig(t, in, out)
	cfg.RunID = "night-1"

	// A run whose manifest cannot be written commits nothing, and the
	// state does not move.
	failing := func(ctx context.Context, loc storage.Location) (storage.Bucket, error) {
		b, err := loc.Open(ctx)
		if err != nil {
			return nil, err
		}
		fb := faultbucket.New(b)
		fb.FailWhen(faultbucket.OpNewWriter, func(c faultbucket.Call) bool { return strings.HasSuffix(c.Key, columnar.RunManifest) }, nil)
		return fb, nil
	}
	if _, err := RunWith(ctx, cfg, ftQuiet(), failing); err == nil || !strings.Contains(err.Error(), "nothing committed") {
		t.Fatalf("failing run: %v", err)
	}
	if _, ok := ftState(t, out); ok {
		t.Fatal("a failed run wrote the fine-tune state")
	}

	res, err := Run(ctx, cfg, ftQuiet())
	if err != nil {
		t.Fatal(err)
	}
	d := ftDecision(t, res.Manifest)
	if d.Finetune || d.Trajectories != 30 || d.Successes != 20 || !d.Now.Equal(time.Date(2026, 11, 1, 1, 29, 0, 0, time.UTC)) {
		t.Fatalf("night 1: %+v", d)
	}
	if !strings.Contains(strings.Join(d.Reasons, "\n"), "min_trajectories: fail: 30 trajectories since the last fine-tune (30 new in this run) (threshold 50)") {
		t.Fatalf("reasons: %v", d.Reasons)
	}
	// The committed manifest says the same.
	data, _ := os.ReadFile(filepath.Join(out, res.RunDir, columnar.RunManifest))
	if !strings.Contains(string(data), `"decisions"`) || !strings.Contains(string(data), "min_trajectories: fail") {
		t.Fatalf("manifest lacks the decision:\n%s", data)
	}
	st, ok := ftState(t, out)
	if !ok || st.TrajectoriesSince != 30 || len(st.Runs) != 1 || st.Runs[0].RunID != "night-1" || st.Runs[0].InputID == "" {
		t.Fatalf("state after night 1: %+v", st)
	}
	if got := res.Manifest.Stages[len(res.Manifest.Stages)-1].Counters; got["trajectories"] != 30 || got["finetune_due"] != 0 || got["examples_train"] != 0 {
		t.Fatalf("counters %v", got)
	}

	// Re-running night 1 (the last run applied: killed after its commit,
	// say) decides exactly as its first attempt, and counts nothing twice.
	first := d
	res, err = Run(ctx, cfg, ftQuiet())
	if err != nil {
		t.Fatal(err)
	}
	if d := ftDecision(t, res.Manifest); !reflect.DeepEqual(d, first) {
		t.Fatalf("re-run: %+v\nfirst: %+v", d, first)
	}
	if st, _ := ftState(t, out); st.TrajectoriesSince != 30 || len(st.Runs) != 1 {
		t.Fatalf("state after the re-run: %+v", st)
	}

	// The same trajectories under another run id (derived from the
	// configuration) are not counted again either.
	cfg.RunID = ""
	res, err = Run(ctx, cfg, ftQuiet())
	if err != nil {
		t.Fatal(err)
	}
	if d := ftDecision(t, res.Manifest); !d.AlreadyCounted || d.Trajectories != 30 || d.RunID == "night-1" {
		t.Fatalf("same input, another run id: %+v", d)
	}

	// Night 2 reads the night's new partition, 70 trajectories: 100
	// accumulated, due. With no back-end nothing is submitted, so the
	// state records no fine-tune.
	in2 := t.TempDir()
	ftInput(t, in2, 2, 70)
	cfg.Input, cfg.RunID = in2, "night-2"
	res, err = Run(ctx, cfg, ftQuiet())
	if err != nil {
		t.Fatal(err)
	}
	if d := ftDecision(t, res.Manifest); !d.Finetune || d.Trajectories != 100 || d.NewTrajectories != 70 {
		t.Fatalf("night 2: %+v", d)
	}
	if _, ok := res.Manifest.Decisions[FinetuneSubmission]; ok {
		t.Fatal("backend none submitted")
	}
	st, _ = ftState(t, out)
	if st.TrajectoriesSince != 100 || st.LastFinetune != nil || len(st.Runs) != 2 {
		t.Fatalf("state after night 2: %+v", st)
	}
}

// Decisions do not depend on the number of workers.
func TestFinetuneStageDeterministic(t *testing.T) {
	in := t.TempDir()
	ftInput(t, in, 1, 120)
	var first []byte
	for _, w := range []int{1, 4} {
		out := t.TempDir()
		cfg := ftConfig(t, in, out)
		cfg.Workers = w
		res, err := Run(context.Background(), cfg, ftQuiet())
		if err != nil {
			t.Fatal(err)
		}
		got, _ := json.Marshal(res.Manifest.Decisions)
		if first == nil {
			first = got
		} else if string(got) != string(first) {
			t.Fatalf("decisions differ between worker counts:\n%s\n%s", first, got)
		}
	}
}

// With the queue back-end but no fine-tuning dataset in the run, a due
// fine-tune is a warning and a submission record with the error; the
// state records no fine-tune.
func TestFinetuneStageNoDataset(t *testing.T) {
	in, out := t.TempDir(), t.TempDir()
	ftInput(t, in, 1, 60)
	cfg := ftConfig(t, in, out)
	cfg.Finetune.Backend, cfg.Finetune.BaseModel = FinetuneBackendQueue, "base"
	res, err := Run(context.Background(), cfg, ftQuiet())
	if err != nil {
		t.Fatal(err)
	}
	var rec FinetuneSubmissionRecord
	if err := json.Unmarshal(res.Manifest.Decisions[FinetuneSubmission], &rec); err != nil || !strings.Contains(rec.Error, `dataset "sft.openai" is not in this run`) {
		t.Fatalf("submission %+v %v", rec, err)
	}
	if len(res.Manifest.Warnings) == 0 || !strings.Contains(res.Manifest.Warnings[0], "fine-tune due but not submitted") {
		t.Fatalf("warnings %v", res.Manifest.Warnings)
	}
	if st, _ := ftState(t, out); st.LastFinetune != nil || st.TotalFinetunes != 0 || st.TrajectoriesSince != 60 {
		t.Fatalf("state %+v", st)
	}
}

// sftRow stands for the sft stage's examples (their projection).
type sftRow struct {
	Weight float64 `parquet:"weight"`
	Kind   string  `parquet:"kind"`
	Split  string  `parquet:"split"`
	Prompt string  `parquet:"prompt"`
}

const ftLine = `{"messages":[{"role":"user","content":"reverse [1,2]"},{"role":"assistant","content":"def solve(x): return x[::-1]"}]}` + "\n"

// ftEnv builds what the run gives a batch stage, over a committer at
// <out>/runs/<runID>, with trajectories and an sft dataset (Parquet
// examples and OpenAI JSONL train/validation files) already emitted, as
// the sft stage would.
func ftEnv(t *testing.T, out, runID string, trajectories, examples int) (*Env, *columnar.Committer, *runHooks) {
	t.Helper()
	ctx := context.Background()
	b, err := storage.NewLocal(out)
	if err != nil {
		t.Fatal(err)
	}
	runDir := storage.Join("runs", runID)
	c, err := columnar.NewCommitter(ctx, b, runDir, columnar.RunManifest)
	if err != nil {
		t.Fatal(err)
	}
	hooks := &runHooks{}
	cfg := ftConfig(t, "in", out)
	env := &Env{RunID: runID, Fingerprint: "fp-" + runID, RunDir: runDir, Workers: 2, Log: ftQuiet(), stage: "test", c: c, parquet: cfg.Parquet,
		counters: &Counters{}, runtime: &Counters{}, datasets: &[]string{}, warnings: &Warnings{}, hooks: hooks}
	ts, err := NewDataset(env, DatasetSpec[columnar.Trajectory]{Name: columnar.TrajectoriesDataset, Schema: columnar.TrajectorySchema})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < trajectories; i++ {
		if err := ts.Write(ctx, ftTraj(i, 3)); err != nil {
			t.Fatal(err)
		}
	}
	if err := ts.Close(ctx); err != nil {
		t.Fatal(err)
	}
	es, err := NewDataset(env, DatasetSpec[sftRow]{Name: "sft", Schema: columnar.Schema{Name: "sft_example", Version: 1}})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < examples; i++ {
		r := sftRow{Weight: 2, Kind: "sampling", Split: "train", Prompt: fmt.Sprint(i)}
		if i%10 == 0 {
			r.Split = "validation"
		}
		if err := es.Write(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	if err := es.Close(ctx); err != nil {
		t.Fatal(err)
	}
	c.Declare(columnar.DatasetInfo{Name: "sft.openai", Schema: columnar.Schema{Name: "sft_openai", Version: 1}, Stage: "sft"}, "jsonl")
	for _, split := range []string{"train", "validation"} {
		fw, err := c.Create(ctx, "sft.openai", "sft/openai/"+split+".jsonl", "")
		if err != nil {
			t.Fatal(err)
		}
		fw.Write([]byte(strings.Repeat(ftLine, 3)))
		fw.Rows = 3
		if err := fw.Close(); err != nil {
			t.Fatal(err)
		}
	}
	env.stage = "finetune"
	return env, c, hooks
}

func ftCommit(t *testing.T, c *columnar.Committer, hooks *runHooks) {
	t.Helper()
	ctx := context.Background()
	if err := c.Commit(ctx, &columnar.Manifest{Kind: "run", Decisions: hooks.decisions}); err != nil {
		t.Fatal(err)
	}
	if err := hooks.run(ctx); err != nil {
		t.Fatal(err)
	}
}

// The hand-off through the queue: the request names the run's sft files
// (which exist, with the checksums the manifest records), examples are
// counted from the sft dataset, the state records the fine-tune after the
// commit, and a re-run finds the same request.
func TestFinetuneStageQueueHandOff(t *testing.T) {
	ctx := context.Background()
	out := t.TempDir()
	cfg := ftConfig(t, "in", out)
	cfg.Finetune.Backend, cfg.Finetune.BaseModel, cfg.Finetune.MinExamples = FinetuneBackendQueue, "Qwen/Qwen2.5-Coder-7B-Instruct", 80
	st, _ := newFinetuneStage(&cfg)
	stage := st.(*finetuneStage)
	for attempt := 0; attempt < 2; attempt++ {
		env, c, hooks := ftEnv(t, out, "night-3", 60, 100)
		if err := stage.Run(ctx, env); err != nil {
			t.Fatal(err)
		}
		var d finetune.Decision
		json.Unmarshal(hooks.decisions[FinetuneDecision], &d)
		if !d.Finetune || d.Examples != 90 || d.ValidationExamples != 10 || d.WeightedExamples != 180 {
			t.Fatalf("attempt %d: decision %+v", attempt, d)
		}
		if attempt == 1 && (d.AlreadyCounted || d.Resubmit) {
			// A re-run of the last run applied decides on the state
			// before it, as its first attempt did.
			t.Fatalf("re-run: %+v", d)
		}
		var rec FinetuneSubmissionRecord
		if err := json.Unmarshal(hooks.decisions[FinetuneSubmission], &rec); err != nil || rec.Result == nil || rec.Error != "" {
			t.Fatalf("submission %s: %v", hooks.decisions[FinetuneSubmission], err)
		}
		if rec.Result.Existing != (attempt == 1) || rec.Result.Status != finetune.StatusQueued {
			t.Fatalf("attempt %d: result %+v", attempt, rec.Result)
		}
		if attempt == 0 {
			// Before the commit the state has not moved.
			if _, ok := ftState(t, out); ok {
				t.Fatal("state written before the commit")
			}
		}
		ftCommit(t, c, hooks)
	}
	id := finetune.RequestID("night-3", "fp-night-3")
	data, err := os.ReadFile(filepath.Join(out, "finetune-queue", id+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var req finetune.Request
	if err := json.Unmarshal(data, &req); err != nil {
		t.Fatal(err)
	}
	if req.BaseModel != cfg.Finetune.BaseModel || req.Method.LoRARank != 256 || len(req.Train) != 1 || len(req.Validation) != 1 || req.Decision == nil ||
		req.Manifest != filepath.Join(out, "runs/night-3/manifest.json") {
		t.Fatalf("request %s", data)
	}
	// Every file the request names is the committed one.
	m, err := columnar.ReadManifest(ctx, mustLocal(t, out), "runs/night-3/manifest.json")
	if err != nil {
		t.Fatal(err)
	}
	if len(req.Datasets) < 3 {
		t.Fatalf("datasets %+v", req.Datasets)
	}
	for _, r := range req.Datasets {
		d := m.Dataset(r.Dataset)
		if d == nil {
			t.Fatalf("%s: not in the manifest", r.Dataset)
		}
		found := false
		for _, f := range d.Files {
			if filepath.Join(out, "runs/night-3", f.Path) == r.URI && f.SHA256 == r.SHA256 {
				found = true
			}
		}
		if _, err := os.Stat(r.URI); err != nil || !found {
			t.Fatalf("%+v: not a committed file (%v)", r, err)
		}
	}
	if req.Train[0].Split != "train" || !strings.HasSuffix(req.Train[0].URI, "sft/openai/train.jsonl") || !strings.HasSuffix(req.Validation[0].URI, "sft/openai/validation.jsonl") {
		t.Fatalf("train %+v validation %+v", req.Train, req.Validation)
	}
	entries, _ := os.ReadDir(filepath.Join(out, "finetune-queue"))
	if len(entries) != 1 {
		t.Fatalf("%d queue entries, want 1", len(entries))
	}
	s, _ := ftState(t, out)
	if s.TotalFinetunes != 1 || len(s.Jobs) != 1 || s.Jobs[0].RequestID != id || s.TrajectoriesSince != 0 || s.LastFinetune == nil || len(s.Runs) != 1 {
		t.Fatalf("state %+v", s)
	}

	// The cluster reports success; the next run reads it into the state.
	os.WriteFile(filepath.Join(out, "finetune-queue", id+".status.json"), []byte(`{"status":"succeeded","model_id":"atlas-ft-1"}`), 0o644)
	env, c, hooks := ftEnv(t, out, "night-4", 10, 10)
	if err := stage.Run(ctx, env); err != nil {
		t.Fatal(err)
	}
	ftCommit(t, c, hooks)
	s, _ = ftState(t, out)
	if s.Jobs[0].Status != finetune.StatusSucceeded || s.Jobs[0].ModelID != "atlas-ft-1" || s.TrajectoriesSince != 10 {
		t.Fatalf("state after night 4: %+v", s)
	}
}

func mustLocal(t *testing.T, dir string) storage.Bucket {
	t.Helper()
	b, err := storage.NewLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The hand-off to an OpenAI-compatible API: the run's train and
// validation JSONL are uploaded as they are, the job waited for.
func TestFinetuneStageOpenAI(t *testing.T) {
	ctx := context.Background()
	srv := finetunetest.New(t)
	srv.MaxRequests = 20
	out := t.TempDir()
	cfg := ftConfig(t, "in", out)
	cfg.Finetune.Backend, cfg.Finetune.BaseModel = FinetuneBackendOpenAI, "gpt-4.1-mini"
	cfg.Finetune.OpenAI.BaseURL, cfg.Finetune.OpenAI.APIKeyEnv = srv.URL, ""
	cfg.Finetune.OpenAI.PollInterval, cfg.Finetune.OpenAI.PollTimeout = time.Millisecond, 5*time.Second
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	st, _ := newFinetuneStage(&cfg)
	env, c, hooks := ftEnv(t, out, "night-5", 60, 20)
	if err := st.(*finetuneStage).Run(ctx, env); err != nil {
		t.Fatal(err)
	}
	ftCommit(t, c, hooks)
	var rec FinetuneSubmissionRecord
	json.Unmarshal(hooks.decisions[FinetuneSubmission], &rec)
	if rec.Result == nil || rec.Result.Status != finetune.StatusSucceeded || rec.Result.ModelID == "" {
		t.Fatalf("submission %s", hooks.decisions[FinetuneSubmission])
	}
	if f, _ := srv.File("file-001"); string(f) != strings.Repeat(ftLine, 3) {
		t.Fatalf("uploaded %q", f)
	}
	s, _ := ftState(t, out)
	if len(s.Jobs) != 1 || s.Jobs[0].Backend != "openai" || s.Jobs[0].ModelID != rec.Result.ModelID {
		t.Fatalf("state %+v", s)
	}
	if _, err := os.Stat(filepath.Join(out, "memory/finetune/requests", rec.RequestID+".json")); err != nil {
		t.Fatalf("ledger: %v", err)
	}
}

func TestFinetuneConfigValidate(t *testing.T) {
	base, err := LoadConfig("", func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	if err := base.Finetune.Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	tests := []struct {
		edit func(*FinetuneConfig)
		want string
	}{
		{func(c *FinetuneConfig) { c.Backend = "slurm" }, "backend:"},
		{func(c *FinetuneConfig) { c.Clock = "yesterday" }, "clock:"},
		{func(c *FinetuneConfig) { c.MinTrajectories = -1 }, "min_trajectories:"},
		{func(c *FinetuneConfig) { c.MinInterval = -time.Hour }, "min_interval:"},
		{func(c *FinetuneConfig) { c.MinSuccessRate = 1.5 }, "min_success_rate:"},
		{func(c *FinetuneConfig) { c.MinExamples = -1 }, "min_examples:"},
		{func(c *FinetuneConfig) { c.Dataset = "../x" }, "dataset:"},
		{func(c *FinetuneConfig) { c.Backend = FinetuneBackendQueue }, "base_model:"},
		{func(c *FinetuneConfig) { c.Method.LoRARank = 0 }, "method.lora_rank:"},
		{func(c *FinetuneConfig) { c.State = "out/state.txt" }, "state:"},
		{func(c *FinetuneConfig) { c.Queue.Prefix = "ftp://x" }, "queue.prefix:"},
		{func(c *FinetuneConfig) {
			c.Backend, c.BaseModel, c.OpenAI.BaseURL = FinetuneBackendOpenAI, "m", "api.openai.com"
		}, "openai.base_url:"},
		{func(c *FinetuneConfig) { c.OpenAI.APIKeyEnv = "sk-123 456" }, "openai.api_key_env:"},
		{func(c *FinetuneConfig) { c.OpenAI.PollInterval = 0 }, "openai.poll_interval:"},
		{func(c *FinetuneConfig) { c.OpenAI.BackoffMax = time.Millisecond }, "openai.backoff_max:"},
	}
	for _, tc := range tests {
		c := base.Finetune
		tc.edit(&c)
		err := c.Validate()
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("err = %v, want prefix %q", err, tc.want)
		}
		full := base
		full.Finetune = c
		if err := full.Validate(); err == nil || !strings.HasPrefix(err.Error(), "finetune."+tc.want) {
			t.Errorf("Config.Validate: err = %v, want prefix finetune.%s", err, tc.want)
		}
	}
	// Keys are settable by name.
	if err := base.Set("finetune.method.target_modules", "q_proj,v_proj"); err != nil || len(base.Finetune.Method.TargetModules) != 2 {
		t.Fatalf("set: %v %v", err, base.Finetune.Method.TargetModules)
	}
	if err := base.Set("finetune.min_interval", "12h"); err != nil || base.Finetune.MinInterval != 12*time.Hour {
		t.Fatal(err)
	}
}
