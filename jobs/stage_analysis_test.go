package jobs_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/atlas-ai/atlas-learn/columnar"
	"github.com/atlas-ai/atlas-learn/columnar/storage"
	"github.com/atlas-ai/atlas-learn/internal/llm"
	"github.com/atlas-ai/atlas-learn/internal/llmtest"
	"github.com/atlas-ai/atlas-learn/jobs"
	"github.com/atlas-ai/atlas-learn/jobs/analysis"
)

func readAnalysis(t *testing.T, dir string) []analysis.Row {
	t.Helper()
	ctx := context.Background()
	b, err := storage.OpenLocalDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	src, err := columnar.OpenDataset(ctx, b, "", jobs.AnalysisDataset, jobs.AnalysisSchema)
	if err != nil {
		t.Fatal(err)
	}
	var rows []analysis.Row
	for _, f := range src.Files {
		if _, err := columnar.ScanFile(ctx, b, f, columnar.ReadOptions{Schema: jobs.AnalysisSchema}, columnar.OnErrorFail, nil,
			func(r *analysis.Row, _ columnar.Position) error { rows = append(rows, *r); return nil }); err != nil {
			t.Fatal(err)
		}
	}
	return rows
}

func runCounters(m *columnar.Manifest, stage string) map[string]int64 {
	for _, s := range m.Run.Stages {
		if s.Name == stage {
			return s.Counters
		}
	}
	return nil
}

// Counterfactual credit in the run: rows for every trajectory, the same
// files for any worker count, and a re-run that replays nothing.
func TestRunAnalysisCounterfactual(t *testing.T) {
	in := genInput(t, 120, 21)
	out := t.TempDir()
	var first map[string][]byte
	for i, workers := range []int{2, 1, 4} {
		cfg := config(t, in, out)
		cfg.Workers = workers
		cfg.Stages = []string{"trajectories", "analysis"}
		cfg.Analysis.Credit = "counterfactual"
		res, err := jobs.Run(context.Background(), cfg, quiet())
		if err != nil {
			t.Fatal(err)
		}
		rc := runCounters(res.Manifest, "analysis")
		files := dataFiles(t, filepath.Join(out, res.RunDir))
		if i == 0 {
			first = files
			if rc["replays_run"] == 0 {
				t.Fatalf("the first run replayed nothing: %v", rc)
			}
			rows := readAnalysis(t, filepath.Join(out, res.RunDir))
			if len(rows) != 120 {
				t.Fatalf("%d analysis rows", len(rows))
			}
			for _, r := range rows {
				if r.Method != "counterfactual" || r.Fallback != "" || len(r.StepAttribution) == 0 {
					t.Fatalf("row %+v", r)
				}
				if r.Success && (!r.Abstractable || len(r.KeySteps) == 0 || r.TrainingExamples[0].Kind != analysis.KindSampling) {
					t.Fatalf("a success's row %+v", r)
				}
			}
			continue
		}
		// The re-run (same run id) finds every replay in its previous
		// commit's replays dataset.
		if rc["replays_run"] != 0 || rc["replay_cache_hits"] == 0 {
			t.Fatalf("re-run %d: %v", i, rc)
		}
		sameFiles(t, "re-run", first, files)
	}
}

// LLM-judged credit against a local OpenAI-compatible server: answers
// validated, unusable ones fall back, and the re-run asks nothing.
func TestRunAnalysisLLM(t *testing.T) {
	srv := llmtest.New(t)
	srv.Default(llmtest.Text(`{"key_steps": [0], "reason": "the first step"}`))
	srv.Handle("reverse", llmtest.Text(`{"key_steps": [99]}`)) // out of range for some
	t.Setenv("ATLAS_TEST_LLM_KEY", "sk-secret-test-key-0001")
	in := genInput(t, 30, 22)
	out := t.TempDir()
	cfg := config(t, in, out)
	cfg.Stages = []string{"trajectories", "analysis"}
	cfg.Analysis.Credit = "llm"
	cfg.LLM.Mode, cfg.LLM.BaseURL, cfg.LLM.Model, cfg.LLM.APIKeyEnv = llm.ModeLive, srv.URL, "judge-1", "ATLAS_TEST_LLM_KEY"
	cfg.LLM.BackoffInitial, cfg.LLM.BackoffMax = time.Millisecond, time.Millisecond
	res, err := jobs.Run(context.Background(), cfg, quiet())
	if err != nil {
		t.Fatal(err)
	}
	rows := readAnalysis(t, filepath.Join(out, res.RunDir))
	llmRows, fallbacks := 0, 0
	for _, r := range rows {
		switch {
		case r.Method == "llm" && len(r.KeySteps) == 1 && r.KeySteps[0] == 0:
			llmRows++
		case r.Method == "simple" && strings.Contains(r.Fallback, "not a step index"):
			fallbacks++
		default:
			t.Fatalf("row %+v", r)
		}
	}
	if llmRows == 0 || llmRows+fallbacks != 30 {
		t.Fatalf("%d llm rows, %d fallbacks", llmRows, fallbacks)
	}
	rc := runCounters(res.Manifest, "analysis")
	if rc["llm_requests"] != 30 || rc["llm_prompt_tokens"] == 0 {
		t.Fatalf("llm counters %v", rc)
	}
	for _, r := range srv.Requests() {
		if r.Authorization != "Bearer sk-secret-test-key-0001" {
			t.Fatalf("authorization %q", r.Authorization)
		}
	}
	n := srv.Count()
	res2, err := jobs.Run(context.Background(), cfg, quiet())
	if err != nil {
		t.Fatal(err)
	}
	if srv.Count() != n || runCounters(res2.Manifest, "analysis")["llm_cache_hits"] != 30 {
		t.Fatalf("the re-run asked the model again: %d requests, counters %v", srv.Count()-n, runCounters(res2.Manifest, "analysis"))
	}
	for p, b := range dataFiles(t, out) {
		if strings.Contains(string(b), "sk-secret-test-key") {
			t.Fatalf("the key is in %s", p)
		}
	}
}

// The error_patterns stage mines the analysis stage's error messages:
// templates with counts and examples, and each message with its template.
func TestRunErrorPatterns(t *testing.T) {
	in := genInput(t, 400, 23)
	out := t.TempDir()
	cfg := config(t, in, out)
	cfg.Stages = []string{"trajectories", "analysis", "error_patterns"}
	res, err := jobs.Run(context.Background(), cfg, quiet())
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(out, res.RunDir)
	b, err := storage.OpenLocalDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var pats []jobs.ErrorPattern
	var occ []jobs.ErrorOccurrence
	readAll(t, ctx, b, jobs.ErrorPatternsDataset, jobs.ErrorPatternsSchema, func(r *jobs.ErrorPattern) { pats = append(pats, *r) })
	readAll(t, ctx, b, jobs.ErrorOccurrencesDataset, jobs.ErrorOccurrencesSchema, func(r *jobs.ErrorOccurrence) { occ = append(occ, *r) })
	rows := readAnalysis(t, dir)
	msgs := 0
	for _, r := range rows {
		msgs += len(r.ErrorMessages)
	}
	if len(occ) != msgs || msgs == 0 {
		t.Fatalf("%d occurrences for %d messages", len(occ), msgs)
	}
	ids := map[int32]int64{}
	for _, o := range occ {
		ids[o.TemplateID]++
	}
	var total int64
	for i, p := range pats {
		total += p.Count
		if ids[p.TemplateID] != p.Count || p.Trajectories == 0 || len(p.ExampleTrajectories) == 0 || p.FirstSeen.After(p.LastSeen) {
			t.Fatalf("pattern %+v (occurrences %d)", p, ids[p.TemplateID])
		}
		if i > 0 && p.Count > pats[i-1].Count {
			t.Fatal("patterns are not sorted by count")
		}
		if strings.Contains(p.Template, "<*>") == false && p.Count > 5 && strings.ContainsAny(p.Template, "0123456789") {
			t.Errorf("a frequent template kept its numbers: %q", p.Template)
		}
	}
	if total != int64(msgs) {
		t.Fatalf("counts sum to %d, %d messages", total, msgs)
	}
	found := false
	for _, p := range pats {
		if p.Template == "IndexError: list index out of range" || strings.HasPrefix(p.Template, "example <*>: expected <*>") {
			found = true
		}
	}
	if !found {
		t.Fatalf("no expected template among %v", pats)
	}
}

func readAll[T any](t *testing.T, ctx context.Context, b storage.BucketReader, dataset string, schema columnar.Schema, fn func(*T)) {
	t.Helper()
	src, err := columnar.OpenDataset(ctx, b, "", dataset, schema)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range src.Files {
		if _, err := columnar.ScanFile(ctx, b, f, columnar.ReadOptions{Schema: schema}, columnar.OnErrorFail, nil,
			func(r *T, _ columnar.Position) error { fn(r); return nil }); err != nil {
			t.Fatal(err)
		}
	}
}
