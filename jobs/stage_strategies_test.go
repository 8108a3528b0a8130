package jobs_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/atlas-ai/atlas-learn/columnar/storage"
	"github.com/atlas-ai/atlas-learn/internal/llm"
	"github.com/atlas-ai/atlas-learn/internal/llmtest"
	"github.com/atlas-ai/atlas-learn/jobs"
	"github.com/atlas-ai/atlas-learn/jobs/concepts"
	"github.com/atlas-ai/atlas-learn/jobs/strategies"
)

func readStrategies(t *testing.T, dir string) []strategies.Strategy {
	t.Helper()
	b, err := storage.OpenLocalDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var rows []strategies.Strategy
	readAll(t, context.Background(), b, jobs.StrategiesDataset, jobs.StrategiesSchema, func(s *strategies.Strategy) { rows = append(rows, *s) })
	return rows
}

func stageCounters(t *testing.T, res *jobs.Result, stage string) map[string]int64 {
	t.Helper()
	for _, s := range res.Manifest.Stages {
		if s.Name == stage {
			return s.Counters
		}
	}
	t.Fatalf("no stage %s in the manifest", stage)
	return nil
}

// The strategies stage (offline: the heuristic extractor) writes one row
// per name, the same files for any worker count; the tasks of one
// generated family get one to three names.
func TestRunStrategiesStage(t *testing.T) {
	in := genInput(t, 400, 31)
	var first map[string][]byte
	for _, workers := range []int{1, 3, 8} {
		out := t.TempDir()
		cfg := config(t, in, out)
		cfg.Workers = workers
		cfg.Stages = []string{"trajectories", "analysis", "concepts", "strategies"}
		cfg.Concepts.Iterations = 3
		res, err := jobs.Run(context.Background(), cfg, quiet())
		if err != nil {
			t.Fatal(err)
		}
		dir := filepath.Join(out, res.RunDir)
		files := dataFiles(t, dir)
		if first == nil {
			first = files
		} else {
			sameFiles(t, "workers", first, files)
			continue
		}
		d := res.Manifest.Dataset(jobs.StrategiesDataset)
		if d == nil || d.Stage != "strategies" || d.Schema != "strategies" {
			t.Fatalf("strategies entry %+v", d)
		}
		task := map[string]string{}
		abstractable := int64(0)
		for _, r := range readAnalysis(t, dir) {
			task[r.TrajectoryID] = r.TaskID
			if r.Success && r.Abstractable {
				abstractable++
			}
		}
		rows := readStrategies(t, dir)
		learned := map[string]bool{}
		b, err := storage.OpenLocalDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		readAll(t, context.Background(), b, jobs.ConceptsDataset, jobs.ConceptsSchema, func(c *concepts.Concept) { learned[c.Name] = true })
		n := stageCounters(t, res, "strategies")
		if n["strategies_extracted"] != abstractable || n["strategies_heuristic"] != abstractable || n["strategies_unique"] != int64(len(rows)) ||
			n["llm_fallbacks"] != 0 || d.Rows != int64(len(rows)) {
			t.Fatalf("counters %v, %d abstractable, %d rows", n, abstractable, len(rows))
		}
		names := map[string]map[string]bool{}
		seen := map[string]bool{}
		total, withConcepts := int64(0), 0
		for _, s := range rows {
			if seen[s.Name] {
				t.Fatalf("name %s twice", s.Name)
			}
			seen[s.Name] = true
			if s.Source != "heuristic" || s.Situation == "" || s.Suggestion == "" || len(s.Cues) == 0 || len(s.UsedIn) == 0 || len(s.UsedIn) > 20 {
				t.Fatalf("row %+v", s)
			}
			total += s.Trajectories
			for _, c := range s.Concepts {
				if learned[c] {
					withConcepts++
					break
				}
			}
			for _, id := range s.UsedIn {
				fam, _, _ := strings.Cut(task[id], "-")
				if names[fam] == nil {
					names[fam] = map[string]bool{}
				}
				names[fam][s.Name] = true
			}
		}
		if total != abstractable || withConcepts == 0 {
			t.Fatalf("%d trajectories in rows, %d abstractable; %d rows name a learned concept", total, abstractable, withConcepts)
		}
		for fam, ns := range names {
			if len(ns) > 3 {
				t.Errorf("family %s has %d names: %v", fam, len(ns), ns)
			}
		}
		if len(names) < 20 {
			t.Errorf("only %d families", len(names))
		}
	}
}

// With a model: valid answers are LLM rows, refusals fall back to the
// heuristic (labelled, counted), and a re-run asks nothing again.
func TestRunStrategiesLLM(t *testing.T) {
	srv := llmtest.New(t)
	srv.Handle("Reverse the order", llmtest.Refusal("no"))
	srv.Default(llmtest.Text(`{"name": "solve_generated_task", "situation": "a generated task", "suggestion": "write helpers, then solve",
		"parameters": [{"name": "x", "type": "any", "description": "the input"}], "cues": ["generated"], "implementation": "def solve"}`))
	in := genInput(t, 60, 32)
	out := t.TempDir()
	cfg := config(t, in, out)
	cfg.Stages = []string{"trajectories", "analysis", "strategies"}
	cfg.Strategies.Extractor = "llm"
	cfg.LLM.Mode, cfg.LLM.BaseURL, cfg.LLM.Model, cfg.LLM.APIKeyEnv = llm.ModeLive, srv.URL, "strat-1", ""
	cfg.LLM.BackoffInitial, cfg.LLM.BackoffMax = time.Millisecond, time.Millisecond
	res, err := jobs.Run(context.Background(), cfg, quiet())
	if err != nil {
		t.Fatal(err)
	}
	rows := readStrategies(t, filepath.Join(out, res.RunDir))
	n := stageCounters(t, res, "strategies")
	var llmRow *strategies.Strategy
	fallbacks := int64(0)
	for i, s := range rows {
		switch {
		case s.Source == "llm":
			if llmRow != nil || s.Name != "solve_generated_task" || s.Model != "strat-1" {
				t.Fatalf("llm row %+v", s)
			}
			llmRow = &rows[i]
		case s.Source == "heuristic" && s.Fallback == "llm: refused: no" && strings.HasPrefix(s.Name, "reverse_"):
			fallbacks += s.Trajectories
		default:
			t.Fatalf("row %+v", s)
		}
	}
	if llmRow == nil || fallbacks == 0 || n["llm_fallbacks"] != fallbacks || n["strategies_llm"] != llmRow.Trajectories ||
		n["strategies_extracted"] != llmRow.Trajectories+fallbacks || int64(srv.Count()) != n["strategies_extracted"] {
		t.Fatalf("counters %v, %d requests, rows %+v", n, srv.Count(), rows)
	}
	if len(res.Manifest.Warnings) == 0 || !strings.Contains(strings.Join(res.Manifest.Warnings, "\n"), "fell back to the heuristic") {
		t.Errorf("warnings %v", res.Manifest.Warnings)
	}
	count := srv.Count()
	if _, err := jobs.Run(context.Background(), cfg, quiet()); err != nil {
		t.Fatal(err)
	}
	if srv.Count() != count {
		t.Fatalf("the re-run asked the model %d more times", srv.Count()-count)
	}
}

func TestStrategiesConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		sets map[string]string
		want string
	}{
		{map[string]string{}, ""},
		{map[string]string{"strategies.extractor": "heuristic"}, ""},
		{map[string]string{"strategies.extractor": "magic"}, "strategies.extractor: want auto, llm or heuristic"},
		{map[string]string{"strategies.max_retries": "11"}, "strategies.max_retries"},
		{map[string]string{"strategies.max_retries": "-1"}, "strategies.max_retries"},
		{map[string]string{"strategies.max_cues": "0"}, "strategies.max_cues"},
		{map[string]string{"strategies.max_cues": "65"}, "strategies.max_cues"},
		{map[string]string{"strategies.max_used_in": "-1"}, "strategies.max_used_in"},
		{map[string]string{"strategies.extractor": "llm", "stages": "trajectories,analysis,strategies"}, "strategies.extractor: llm needs llm.mode live"},
		{map[string]string{"strategies.extractor": "llm", "stages": "trajectories,analysis"}, ""}, // the stage is not run
		{map[string]string{"strategies.extractor": "llm", "stages": "trajectories,analysis,strategies", "llm.mode": "live", "llm.model": "m", "llm.base_url": "http://127.0.0.1:1/v1"}, ""},
	} {
		cfg := config(t, t.TempDir(), t.TempDir())
		for k, v := range tc.sets {
			if err := cfg.Set(k, v); err != nil {
				t.Fatal(err)
			}
		}
		err := cfg.Validate()
		if (tc.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%v: Validate() = %v, want %q", tc.sets, err, tc.want)
		}
	}
}

// The stage needs the analysis stage before it.
func TestStrategiesNeedsAnalysis(t *testing.T) {
	cfg := config(t, t.TempDir(), t.TempDir())
	cfg.Stages = []string{"trajectories", "strategies"}
	_, err := jobs.Run(context.Background(), cfg, quiet())
	if err == nil || !strings.Contains(err.Error(), "strategies needs analysis") {
		t.Fatalf("err %v", err)
	}
}

func readConceptRows(t *testing.T, dir string) []concepts.Concept {
	t.Helper()
	b, err := storage.OpenLocalDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var rows []concepts.Concept
	readAll(t, context.Background(), b, jobs.ConceptsDataset, jobs.ConceptsSchema, func(c *concepts.Concept) { rows = append(rows, *c) })
	return rows
}

// concepts.autodoc: the concepts dataset carries names, descriptions and
// signatures; a run extending the library keeps the library's.
func TestRunConceptsAutoDoc(t *testing.T) {
	in := genInput(t, 300, 33)
	out := t.TempDir()
	cfg := config(t, in, out)
	cfg.Stages = []string{"trajectories", "concepts"}
	cfg.Concepts.Iterations = 3
	res, err := jobs.Run(context.Background(), cfg, quiet())
	if err != nil {
		t.Fatal(err)
	}
	first := readConceptRows(t, filepath.Join(out, res.RunDir))
	if len(first) == 0 || stageCounters(t, res, "concepts")["concepts_documented"] != int64(len(first)) {
		t.Fatalf("%d concepts, counters %v", len(first), stageCounters(t, res, "concepts"))
	}
	for _, c := range first {
		if strings.HasPrefix(c.Name, "fn_") || c.Description == "" || c.Signature == "" || c.DocSource != "heuristic" ||
			(c.Python != "" && !strings.Contains(c.Python, `"""`+c.Description)) {
			t.Fatalf("concept %+v", c)
		}
	}
	in2 := genInput(t, 600, 34)
	out2 := t.TempDir()
	cfg2 := config(t, in2, out2)
	cfg2.Stages = cfg.Stages
	cfg2.Concepts.Iterations = 6
	cfg2.Concepts.Library = filepath.Join(out, res.RunDir)
	res2, err := jobs.Run(context.Background(), cfg2, quiet())
	if err != nil {
		t.Fatal(err)
	}
	second := readConceptRows(t, filepath.Join(out2, res2.RunDir))
	names := map[string]bool{}
	for i, c := range second {
		if names[c.Name] {
			t.Fatalf("name %s twice", c.Name)
		}
		names[c.Name] = true
		if i < len(first) {
			f := first[i]
			if !c.FromLibrary || c.Name != f.Name || c.Description != f.Description || c.Signature != f.Signature || c.Body != f.Body || c.Python != f.Python {
				t.Fatalf("library concept changed:\n%+v\nwas\n%+v", c, f)
			}
		}
	}
	cfg.Concepts.AutoDoc = false
	res3, err := jobs.Run(context.Background(), cfg, quiet())
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range readConceptRows(t, filepath.Join(out, res3.RunDir)) {
		if !strings.HasPrefix(c.Name, "fn_") || c.DocSource != "" {
			t.Fatalf("autodoc off: %+v", c)
		}
	}
}
