package jobs_test

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/atlas-ai/atlas-learn/columnar"
	"github.com/atlas-ai/atlas-learn/columnar/storage"
	"github.com/atlas-ai/atlas-learn/jobs"
	"github.com/atlas-ai/atlas-learn/sft"
)

func sftConfig(t *testing.T, in, out string) jobs.Config {
	t.Helper()
	cfg := config(t, in, out)
	cfg.Stages = []string{"trajectories", "analysis", "sft"}
	cfg.SFT.ValidationPercent = 20
	return cfg
}

// readSFT reads the run's sft Parquet dataset back.
func readSFT(t *testing.T, out, runDir string) []sft.Example {
	t.Helper()
	ctx := context.Background()
	b, err := storage.NewLocal(out)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	src, err := columnar.OpenDataset(ctx, b, runDir, jobs.SFTDataset, jobs.SFTSchema)
	if err != nil {
		t.Fatal(err)
	}
	var exs []sft.Example
	for _, f := range src.Files {
		if _, err := columnar.ScanFile(ctx, b, f, columnar.ReadOptions{Schema: jobs.SFTSchema}, columnar.OnErrorFail, nil,
			func(e *sft.Example, _ columnar.Position) error { exs = append(exs, *e); return nil }); err != nil {
			t.Fatal(err)
		}
	}
	return exs
}

// The sft stage writes the same files whatever the worker count; the
// manifest names every file it wrote (the Parquet dataset, each format's
// splits, the card) with their rows, the Parquet reads back, and the
// counters are in the manifest.
func TestRunSFTStage(t *testing.T) {
	in := genInput(t, 400, 21)
	var first map[string][]byte
	for _, workers := range []int{1, 8} {
		out := t.TempDir()
		cfg := sftConfig(t, in, out)
		cfg.Workers = workers
		res, err := jobs.Run(context.Background(), cfg, quiet())
		if err != nil {
			t.Fatal(err)
		}
		runDir := filepath.Join(out, res.RunDir)
		files := dataFiles(t, runDir)
		if first == nil {
			first = files
		} else {
			sameFiles(t, "workers 1 and 8", first, files)
		}
		// Every file under sft/ is named by the manifest, and the other way round.
		named := map[string]columnar.FileEntry{}
		for _, d := range res.Manifest.Datasets {
			if d.Stage == "sft" {
				for _, f := range d.Files {
					named[f.Path] = f
				}
			}
		}
		for p := range files {
			if strings.HasPrefix(p, "sft/") {
				if _, ok := named[p]; !ok {
					t.Errorf("%s: not in the manifest", p)
				}
			}
		}
		for p := range named {
			if _, ok := files[p]; !ok {
				t.Errorf("manifest names %s, not written", p)
			}
		}
		if _, ok := named["sft/README.md"]; !ok {
			t.Error("no dataset card")
		}
		var st *columnar.StageEntry
		for i := range res.Manifest.Stages {
			if res.Manifest.Stages[i].Name == "sft" {
				st = &res.Manifest.Stages[i]
			}
		}
		if st == nil || st.Kind != jobs.KindBatch {
			t.Fatalf("no sft stage in the manifest")
		}
		c := st.Counters
		for _, k := range []string{"examples_sampling", "examples_refinement_key_step", "examples_refinement_error", "tokens_total", "train_examples", "validation_examples", "training_tokens_openai", "training_tokens_trl_replicated"} {
			if c[k] <= 0 {
				t.Errorf("counter %s = %d", k, c[k])
			}
		}
		for _, k := range []string{"duplicates_exact", "duplicates_near", "tasks_capped", "dropped_by_cap", "refinement_bin_0", "refinement_bin_3", "overlength_dropped", "overlength_truncated", "cost_usd_micros_openai"} {
			if _, ok := c[k]; !ok {
				t.Errorf("counter %s missing", k)
			}
		}
		exs := readSFT(t, out, res.RunDir)
		if int64(len(exs)) != c["examples"] || c["train_examples"]+c["validation_examples"] != c["examples"] {
			t.Fatalf("read %d examples back, counters %v", len(exs), c)
		}
		trainRows := int64(0)
		for _, e := range exs {
			if e.Split == sft.SplitTrain {
				trainRows++
			}
			w := map[string]float64{sft.SubkindSolution: 2, sft.SubkindKeyStep: 1.5, sft.SubkindError: 1}[e.Subkind]
			if e.Weight != w || e.TrajectoryID == "" || e.Prompt == "" || e.Completion == "" {
				t.Errorf("example %s: %s weight %v", e.ID, e.Subkind, e.Weight)
			}
		}
		// The exports list each format's splits with the rows of the file.
		exports := jobs.SFTExports(res.Manifest)
		if len(exports) != 1+2*len(sft.JSONLFormats()) {
			t.Fatalf("exports %+v", exports)
		}
		for _, x := range exports {
			if len(x.Files) != 1 && x.Format != sft.FormatParquet {
				t.Fatalf("export %s: files %v", x.Dataset, x.Files)
			}
			if x.Format == sft.FormatParquet {
				continue
			}
			f, err := os.Open(filepath.Join(runDir, x.Files[0].Path))
			if err != nil {
				t.Fatal(err)
			}
			sc := bufio.NewScanner(f)
			sc.Buffer(nil, 1<<26)
			var lines int64
			for sc.Scan() {
				var v map[string]any
				if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
					t.Fatalf("%s line %d: %v", x.Files[0].Path, lines+1, err)
				}
				lines++
			}
			f.Close()
			if lines != x.Rows {
				t.Errorf("%s: %d lines, manifest %d", x.Dataset, lines, x.Rows)
			}
			if x.Split == sft.SplitTrain && x.Format == sft.FormatOpenAI && x.Rows != trainRows {
				t.Errorf("openai train: %d rows, %d train examples", x.Rows, trainRows)
			}
			if !strings.HasPrefix(x.Files[0].Path, "sft/") || !strings.Contains(x.Files[0].Path, res.Manifest.Fingerprint) {
				t.Errorf("export file %s", x.Files[0].Path)
			}
		}
		card := string(files["sft/README.md"])
		for _, x := range exports {
			if !strings.Contains(card, strings.TrimPrefix(x.Files[0].Path, "sft/")) {
				t.Errorf("the card does not name %s", x.Files[0].Path)
			}
		}
		// The Parquet dataset's own card names its files relative to its
		// directory.
		pcard, ok := files["sft/parquet/README.md"]
		if !ok {
			t.Fatal("no card for the Parquet dataset")
		}
		for _, x := range exports {
			if x.Format != sft.FormatParquet {
				continue
			}
			for _, f := range x.Files {
				if !strings.Contains(string(pcard), `"`+strings.TrimPrefix(f.Path, "sft/parquet/")+`"`) {
					t.Errorf("the Parquet card does not name %s", f.Path)
				}
			}
		}
	}
}

// The weights are analysis.weights; the stage's settings change the
// run's fingerprint; it needs the analysis stage.
func TestSFTStageConfig(t *testing.T) {
	in := genInput(t, 120, 23)
	out := t.TempDir()
	cfg := sftConfig(t, in, out)
	cfg.Analysis.Weights.Sampling, cfg.Analysis.Weights.Error = 4, 0.5
	res, err := jobs.Run(context.Background(), cfg, quiet())
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range readSFT(t, out, res.RunDir) {
		if (e.Subkind == sft.SubkindSolution && e.Weight != 4) || (e.Subkind == sft.SubkindError && e.Weight != 0.5) {
			t.Errorf("example %s: %s weight %v", e.ID, e.Subkind, e.Weight)
		}
	}
	cfg.SFT.MaxPerTask = 1
	res2, err := jobs.Run(context.Background(), cfg, quiet())
	if err != nil {
		t.Fatal(err)
	}
	if res2.RunDir == res.RunDir {
		t.Error("sft.max_per_task does not change the run")
	}
	cfg.Stages = []string{"trajectories", "sft"}
	if _, err := jobs.Run(context.Background(), cfg, quiet()); err == nil || !strings.Contains(err.Error(), "needs analysis") {
		t.Errorf("without analysis: %v", err)
	}
	cfg = sftConfig(t, in, out)
	cfg.SFT.TemplateFile = filepath.Join(t.TempDir(), "t.tmpl")
	os.WriteFile(cfg.SFT.TemplateFile, []byte(`{{define "task"}}x{{end}}`), 0o644)
	if _, err := jobs.Run(context.Background(), cfg, quiet()); err == nil || !strings.Contains(err.Error(), "sft.template_file") {
		t.Errorf("bad template file: %v", err)
	}
}

func TestSFTConfigValidate(t *testing.T) {
	base := config(t, "in", "out").SFT
	if err := base.Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	for _, c := range []struct {
		key string
		mod func(*jobs.SFTConfig)
	}{
		{"encoding", func(c *jobs.SFTConfig) { c.Encoding = "gpt2" }},
		{"max_tokens", func(c *jobs.SFTConfig) { c.MaxTokens = -1 }},
		{"overlength", func(c *jobs.SFTConfig) { c.Overlength = "cut" }},
		{"near_duplicate_threshold", func(c *jobs.SFTConfig) { c.NearDuplicateThreshold = 1.2 }},
		{"shingle_tokens", func(c *jobs.SFTConfig) { c.ShingleTokens = 0 }},
		{"max_per_task", func(c *jobs.SFTConfig) { c.MaxPerTask = -3 }},
		{"quality_bins", func(c *jobs.SFTConfig) { c.QualityBins = 0 }},
		{"bin_factor", func(c *jobs.SFTConfig) { c.BinFactor = -1 }},
		{"validation_percent", func(c *jobs.SFTConfig) { c.ValidationPercent = 101 }},
		{"epochs", func(c *jobs.SFTConfig) { c.Epochs = 0 }},
		{"replicate_k", func(c *jobs.SFTConfig) { c.ReplicateK = 0 }},
		{"workers", func(c *jobs.SFTConfig) { c.Workers = -1 }},
		{"license", func(c *jobs.SFTConfig) { c.License = " " }},
		{"price_per_1m_training_tokens.alpaca", func(c *jobs.SFTConfig) { c.PricePer1M = map[string]float64{"alpaca": 1} }},
		{"price_per_1m_training_tokens.openai", func(c *jobs.SFTConfig) { c.PricePer1M = map[string]float64{"openai": -1} }},
	} {
		cfg := base
		cfg.PricePer1M = map[string]float64{}
		c.mod(&cfg)
		err := cfg.Validate()
		if err == nil || !strings.HasPrefix(err.Error(), c.key+":") {
			t.Errorf("%s: error %v", c.key, err)
		}
	}
	// Through the whole configuration, the key is named with its section.
	full := config(t, "in", "out")
	if err := full.Set("sft.overlength", "cut"); err != nil {
		t.Fatal(err)
	}
	if err := full.Validate(); err == nil || !strings.HasPrefix(err.Error(), "sft.overlength:") {
		t.Errorf("full config: %v", err)
	}
	if err := full.Set("sft.price_per_1m_training_tokens", "openai=25,trl_replicated=1"); err != nil || full.SFT.PricePer1M["openai"] != 25 {
		t.Errorf("set prices: %v %v", err, full.SFT.PricePer1M)
	}
}
