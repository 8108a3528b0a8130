package jobs

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"

	"github.com/atlas-ai/atlas-learn/columnar"
	"github.com/atlas-ai/atlas-learn/sft"
)

// SFTConfig configures the sft stage (section sft:). The examples'
// weights are analysis.weights.
type SFTConfig struct {
	// SystemPrompt is every example's system message ("" for none).
	SystemPrompt string `yaml:"system_prompt" json:"system_prompt"`
	// TemplateFile holds the prompts' templates (text/template defining
	// task, step, sampling, refinement, completion_error); "" takes the
	// embedded sft/templates/default.tmpl.
	TemplateFile string `yaml:"template_file" json:"template_file,omitempty"`
	// Encoding is the token encoding: o200k_base or cl100k_base.
	Encoding string `yaml:"encoding" json:"encoding"`
	// MaxTokens bounds an example's tokens (0: no bound); Overlength is
	// drop or truncate.
	MaxTokens  int    `yaml:"max_tokens" json:"max_tokens"`
	Overlength string `yaml:"overlength" json:"overlength"`
	// NearDuplicateThreshold is the shingle Jaccard similarity at which
	// a task's solution is a near duplicate (0: no removal).
	NearDuplicateThreshold float64 `yaml:"near_duplicate_threshold" json:"near_duplicate_threshold"`
	ShingleTokens          int     `yaml:"shingle_tokens" json:"shingle_tokens"`
	// MaxPerTask caps the examples per task (0: no cap).
	MaxPerTask int `yaml:"max_per_task" json:"max_per_task"`
	// QualityBins and BinFactor balance the refinement examples.
	QualityBins int     `yaml:"quality_bins" json:"quality_bins"`
	BinFactor   float64 `yaml:"bin_factor" json:"bin_factor"`
	// ValidationPercent of the tasks go to the validation split.
	ValidationPercent int `yaml:"validation_percent" json:"validation_percent"`
	// Epochs and ReplicateK shape the estimates and trl-replicated.
	Epochs     int     `yaml:"epochs" json:"epochs"`
	ReplicateK float64 `yaml:"replicate_k" json:"replicate_k"`
	// PricePer1M is USD per million training tokens by format.
	PricePer1M map[string]float64 `yaml:"price_per_1m_training_tokens" json:"price_per_1m_training_tokens"`
	// License is the dataset card's license.
	License string `yaml:"license" json:"license"`
	// Workers bounds the goroutines building examples, counting tokens
	// and selecting (0: the run's workers); one spilled bucket per worker
	// is in memory at a time. The result does not depend on it.
	Workers int `yaml:"workers" json:"workers"`
}

// Validate reports the first invalid key, relative to the section.
func (c SFTConfig) Validate() error {
	switch {
	case !slices.Contains(sft.Encodings(), c.Encoding):
		return fmt.Errorf("encoding: want one of %v, got %q", sft.Encodings(), c.Encoding)
	case c.MaxTokens < 0:
		return fmt.Errorf("max_tokens: must be >= 0, got %d", c.MaxTokens)
	case c.Overlength != sft.OverlengthDrop && c.Overlength != sft.OverlengthTruncate:
		return fmt.Errorf("overlength: want drop or truncate, got %q", c.Overlength)
	case c.NearDuplicateThreshold < 0 || c.NearDuplicateThreshold > 1:
		return fmt.Errorf("near_duplicate_threshold: must be 0..1, got %v", c.NearDuplicateThreshold)
	case c.ShingleTokens < 1:
		return fmt.Errorf("shingle_tokens: must be >= 1, got %d", c.ShingleTokens)
	case c.MaxPerTask < 0:
		return fmt.Errorf("max_per_task: must be >= 0, got %d", c.MaxPerTask)
	case c.QualityBins < 1 || c.QualityBins > 100:
		return fmt.Errorf("quality_bins: must be 1..100, got %d", c.QualityBins)
	case c.BinFactor < 0:
		return fmt.Errorf("bin_factor: must be >= 0, got %v", c.BinFactor)
	case c.ValidationPercent < 0 || c.ValidationPercent > 100:
		return fmt.Errorf("validation_percent: must be 0..100, got %d", c.ValidationPercent)
	case c.Epochs < 1:
		return fmt.Errorf("epochs: must be >= 1, got %d", c.Epochs)
	case c.ReplicateK <= 0:
		return fmt.Errorf("replicate_k: must be positive, got %v", c.ReplicateK)
	case c.Workers < 0:
		return fmt.Errorf("workers: must be >= 0, got %d", c.Workers)
	case strings.TrimSpace(c.License) == "":
		return fmt.Errorf("license: empty (a Hugging Face license id, or other)")
	}
	var formats []string
	for _, f := range sft.JSONLFormats() {
		formats = append(formats, f.Name)
	}
	for _, k := range slices.Sorted(maps.Keys(c.PricePer1M)) {
		if !slices.Contains(formats, k) {
			return fmt.Errorf("price_per_1m_training_tokens.%s: unknown format (known: %v)", k, formats)
		}
		if v := c.PricePer1M[k]; v < 0 {
			return fmt.Errorf("price_per_1m_training_tokens.%s: must be >= 0, got %v", k, v)
		}
	}
	return nil
}

// The sft stage's datasets: SFTDataset (Parquet, every example, under
// sft/parquet/), one JSONL dataset per export format and split
// (SFTExportDataset), the dataset card SFTCardDataset (sft/README.md)
// and the Parquet dataset's own card SFTParquetCardDataset.
const (
	SFTDataset     = "sft"
	SFTCardDataset = "sft.card"
	// SFTParquetCardDataset is the Parquet dataset's own card
	// (sft/parquet/README.md).
	SFTParquetCardDataset = "sft.parquet.card"
	// sftDir is the stage's directory under the run.
	sftDir = "sft"
)

// SFTSchema is the schema of the sft Parquet dataset.
var SFTSchema = columnar.Schema{Name: sft.SchemaName, Version: sft.SchemaVersion}

// sftCardSchema names the dataset card in the manifest.
var sftCardSchema = columnar.Schema{Name: "sft_card", Version: 1}

// SFTExportDataset is the manifest name of one export format's split:
// "sft.openai.train", "sft.trl_replicated.validation", ...
func SFTExportDataset(format, split string) string { return SFTDataset + "." + format + "." + split }

// SFTExport is one committed export of an sft run: a format and split,
// its manifest dataset, schema, files (paths relative to the run's
// directory) and rows. A fine-tune request names the run's directory,
// the dataset and the files' sha256 as the version.
type SFTExport struct {
	Format, Split, Dataset string
	Schema                 columnar.Schema
	Files                  []columnar.FileEntry
	Rows                   int64
}

// SFTExports lists the sft exports a run's manifest names, in format
// order (parquet, then the JSONL formats), train before validation;
// splits without rows are left out. The Parquet dataset holds both
// splits (its split column tells them apart): its Split is "full".
func SFTExports(m *columnar.Manifest) []SFTExport {
	var out []SFTExport
	add := func(format, split, name string) {
		d := m.Dataset(name)
		if d == nil || d.Rows == 0 {
			return
		}
		out = append(out, SFTExport{Format: format, Split: split, Dataset: name, Schema: d.SchemaOf(), Files: d.Files, Rows: d.Rows})
	}
	add(sft.FormatParquet, sft.ParquetSplit, SFTDataset)
	for _, f := range sft.JSONLFormats() {
		for _, s := range []string{sft.SplitTrain, sft.SplitValidation} {
			add(f.Name, s, SFTExportDataset(f.Name, s))
		}
	}
	return out
}

// The sft stage turns the run's trajectories and their analysis into
// SOAR-style training examples and writes them in every export format,
// with a dataset card.
type sftStage struct {
	cfg          SFTConfig
	weights      sft.Weights
	workers      int
	templates    *sft.Templates
	templateText string
}

func newSFTStage(cfg *Config) (Stage, error) {
	text, name := sft.DefaultTemplates, "default.tmpl"
	if f := cfg.SFT.TemplateFile; f != "" {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("sft.template_file: %w", err)
		}
		text, name = string(b), f
	}
	t, err := sft.ParseTemplates(name, text)
	if err != nil {
		return nil, fmt.Errorf("sft.template_file: %w", err)
	}
	w := cfg.SFT.Workers
	if w == 0 {
		w = cfg.Workers
	}
	aw := cfg.Analysis.Weights
	return &sftStage{cfg: cfg.SFT, weights: sft.Weights{Sampling: aw.Sampling, Refinement: aw.Refinement, Error: aw.Error},
		workers: w, templates: t, templateText: text}, nil
}

func (*sftStage) Name() string    { return "sft" }
func (*sftStage) Needs() []string { return []string{"trajectories", "analysis"} }

// Fingerprint covers the stage's settings (not its workers), the weights
// and the templates' text: the run's fingerprint does not otherwise see
// them.
func (s *sftStage) Fingerprint(context.Context) ([]byte, error) {
	c := s.cfg
	c.Workers = 0
	b, err := json.Marshal(struct {
		Config    SFTConfig
		Weights   sft.Weights
		Templates [32]byte
	}{c, s.weights, sha256.Sum256([]byte(s.templateText))})
	return b, err
}

// sftTrajectory is the projection the stage reads of trajectories.
type sftTrajectory struct {
	TrajectoryID string            `parquet:"trajectory_id"`
	Task         columnar.Task     `parquet:"task"`
	Steps        []columnar.Step   `parquet:"steps,list"`
	Outcome      columnar.Outcome  `parquet:"outcome"`
	Solution     columnar.Solution `parquet:"solution"`
}

// sftAnalysis is the projection the stage reads of the analysis.
type sftAnalysis struct {
	TrajectoryID  string   `parquet:"trajectory_id"`
	Success       bool     `parquet:"success"`
	KeySteps      []int32  `parquet:"key_steps,list"`
	ErrorMessages []string `parquet:"error_messages,list"`
}

// sftAnalysisRows reads the analysis rows by trajectory id, and counts
// them.
func sftAnalysisRows(ctx context.Context, env *Env) (map[string][]sftAnalysis, int64, error) {
	rows := map[string][]sftAnalysis{}
	var n int64
	err := ReadEmitted(ctx, env, AnalysisDataset, func(r *sftAnalysis) error {
		rows[r.TrajectoryID] = append(rows[r.TrajectoryID], *r)
		n++
		return nil
	})
	return rows, n, err
}

// sftInputs joins the trajectories with their analysis rows by
// trajectory id (the n-th row of an id with its n-th trajectory) and
// hands each to add, in the trajectories' order: a trajectory without its
// row, a row without its trajectory, or rows that disagree on success
// are errors. rows is consumed.
func sftInputs(ctx context.Context, env *Env, rows map[string][]sftAnalysis, add func(sft.Input) error) error {
	err := ReadEmitted(ctx, env, columnar.TrajectoriesDataset, func(r *sftTrajectory) error {
		q := rows[r.TrajectoryID]
		if len(q) == 0 {
			return fmt.Errorf("trajectory %s: no row in the %s dataset", r.TrajectoryID, AnalysisDataset)
		}
		a := q[0]
		if len(q) == 1 {
			delete(rows, r.TrajectoryID)
		} else {
			rows[r.TrajectoryID] = q[1:]
		}
		if a.Success != r.Outcome.Success {
			return fmt.Errorf("trajectory %s: the %s row says success=%v, the trajectory %v", r.TrajectoryID, AnalysisDataset, a.Success, r.Outcome.Success)
		}
		t := &columnar.Trajectory{TrajectoryID: r.TrajectoryID, Task: r.Task, Steps: r.Steps, Outcome: r.Outcome, Solution: r.Solution}
		return add(sft.Input{Trajectory: t, KeySteps: a.KeySteps, ErrorMessages: a.ErrorMessages})
	})
	if err != nil {
		return err
	}
	for _, id := range slices.Sorted(maps.Keys(rows)) {
		if len(rows[id]) > 0 {
			return fmt.Errorf("%s row of trajectory %s: no such trajectory in the %s dataset", AnalysisDataset, id, columnar.TrajectoriesDataset)
		}
	}
	return nil
}

// The stage streams the trajectories into an sft.Pipeline, which spills
// the examples into buckets of about sftTrajectoriesPerBucket
// trajectories' worth under the system's temporary directory, and writes
// the examples it emits, in output order, to every export at once.
const sftTrajectoriesPerBucket = 16384

func (s *sftStage) Run(ctx context.Context, env *Env) error {
	tok, err := sft.NewTokenizer(s.cfg.Encoding)
	if err != nil {
		return fmt.Errorf("sft.encoding: %w", err)
	}
	rows, n, err := sftAnalysisRows(ctx, env)
	if err != nil {
		return err
	}
	p, err := sft.NewPipeline(sft.Options{
		Weights: s.weights, System: s.cfg.SystemPrompt, Templates: s.templates, Tokenizer: tok,
		MaxTokens: s.cfg.MaxTokens, Overlength: s.cfg.Overlength,
		NearThreshold: s.cfg.NearDuplicateThreshold, ShingleTokens: s.cfg.ShingleTokens,
		MaxPerTask: s.cfg.MaxPerTask, Bins: s.cfg.QualityBins, BinFactor: s.cfg.BinFactor,
		ValidationPercent: s.cfg.ValidationPercent, Epochs: s.cfg.Epochs, ReplicateK: s.cfg.ReplicateK,
		PricePer1M: s.cfg.PricePer1M, Workers: s.workers,
	}, sft.SpillOptions{Dir: os.TempDir(), Buckets: int((n + sftTrajectoriesPerBucket - 1) / sftTrajectoriesPerBucket)})
	if err != nil {
		return err
	}
	defer func() {
		if err := p.Close(); err != nil {
			env.Log.Warn("sft: removing the spilled examples", "err", err)
		}
	}()
	if err := sftInputs(ctx, env, rows, func(in sft.Input) error { return p.Add(ctx, in) }); err != nil {
		return err
	}
	out, err := s.newOutputs(env)
	if err != nil {
		return err
	}
	sum, err := p.Finish(ctx, func(e *sft.Example) error { return out.write(ctx, e) })
	if err != nil {
		out.abort()
		return err
	}
	files, err := out.close(ctx)
	if err != nil {
		return err
	}
	card := sft.CardInfo{RunID: env.RunID, License: s.cfg.License, Weights: s.weights, ReplicateK: s.cfg.ReplicateK, Files: files, Summary: sum}
	if err := writeSFTFile(ctx, env, SFTCardDataset, sftCardSchema, "markdown", sftDir+"/README.md", func(w io.Writer) (int64, error) { return 0, sft.WriteCard(w, card) }); err != nil {
		return err
	}
	if err := writeSFTFile(ctx, env, SFTParquetCardDataset, sftCardSchema, "markdown", sftDir+"/"+sft.ParquetDir+"/README.md", func(w io.Writer) (int64, error) { return 0, sft.WriteParquetCard(w, card) }); err != nil {
		return err
	}
	c := env.Counters()
	for k, v := range sum.Counters() {
		c.Add(k, v)
	}
	env.Log.Info("sft examples", "examples", sum.Examples, "train", sum.TrainExamples, "validation", sum.ValidationExamples, "tokens", sum.TokensTotal)
	return nil
}

// sftOutputs are the stage's exports, written together as the examples
// come: the Parquet dataset and one JSONL file per format and split, the
// JSONL files created at their first example (an empty split gets no
// file; its dataset is listed with none).
type sftOutputs struct {
	env        *Env
	sink       *columnar.Sink[sft.Example]
	jsonl      []*sftJSONL
	replicateK float64
	lines      *sft.Lines
}

// sftJSONL is one format's split.
type sftJSONL struct {
	format sft.Format
	split  string
	name   string
	rel    string
	fw     *columnar.FileWriter
	n      *countingWriter
	w      *sft.FormatWriter
}

// countingWriter counts the bytes written through it.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// newOutputs declares the datasets, in the order the manifest lists the
// stage's: the Parquet dataset, each format's train and validation
// splits; the card comes last.
func (s *sftStage) newOutputs(env *Env) (*sftOutputs, error) {
	sink, err := NewDataset(env, DatasetSpec[sft.Example]{Name: SFTDataset, Schema: SFTSchema, Dir: sftDir + "/" + sft.ParquetDir})
	if err != nil {
		return nil, err
	}
	o := &sftOutputs{env: env, sink: sink, lines: sft.NewLines()}
	for _, f := range sft.JSONLFormats() {
		for _, split := range []string{sft.SplitTrain, sft.SplitValidation} {
			name := SFTExportDataset(f.Name, split)
			env.c.Declare(columnar.DatasetInfo{Name: name, Schema: columnar.Schema{Name: f.Schema, Version: 1}, Stage: env.stage}, "jsonl")
			*env.datasets = append(*env.datasets, name)
			o.jsonl = append(o.jsonl, &sftJSONL{format: f, split: split, name: name,
				rel: fmt.Sprintf("%s/%s/%s-%s.jsonl", sftDir, f.Dir, split, env.Fingerprint)})
		}
	}
	o.replicateK = s.cfg.ReplicateK
	return o, nil
}

// write writes e to the Parquet dataset and to its split of every JSONL
// format.
func (o *sftOutputs) write(ctx context.Context, e *sft.Example) error {
	if err := o.sink.Write(ctx, *e); err != nil {
		return fmt.Errorf("%s dataset: example %s: %w", SFTDataset, e.ID, err)
	}
	if err := o.lines.Encode(e); err != nil {
		return fmt.Errorf("%s: %w", SFTDataset, err)
	}
	for _, j := range o.jsonl {
		if j.split != e.Split {
			continue
		}
		if j.fw == nil {
			fw, err := o.env.c.Create(ctx, j.name, j.rel, "")
			if err != nil {
				return err
			}
			n := &countingWriter{w: fw}
			w, err := sft.NewFormatWriter(n, j.format.Name, o.replicateK)
			if err != nil {
				fw.Abort()
				return fmt.Errorf("%s: %w", j.rel, err)
			}
			j.fw, j.n, j.w = fw, n, w
		}
		if err := j.w.WriteLines(e, o.lines); err != nil {
			return fmt.Errorf("%s: %w", j.rel, err)
		}
	}
	return nil
}

// abort discards what was written.
func (o *sftOutputs) abort() {
	o.sink.Abort()
	for _, j := range o.jsonl {
		if j.fw != nil {
			j.fw.Abort()
		}
	}
}

// close closes the exports and returns their files for the card
// (relative to sft/): the Parquet files, then each format's splits.
func (o *sftOutputs) close(ctx context.Context) ([]sft.CardFile, error) {
	if err := o.sink.Close(ctx); err != nil {
		o.abort()
		return nil, err
	}
	emitted, _, err := o.env.c.Emitted(SFTDataset)
	if err != nil {
		return nil, err
	}
	var out []sft.CardFile
	for _, f := range emitted {
		if f.Format == "parquet" {
			out = append(out, sft.CardFile{Format: sft.FormatParquet, Split: sft.ParquetSplit, Path: strings.TrimPrefix(f.Rel, sftDir+"/"), Bytes: f.Size})
		}
	}
	for _, j := range o.jsonl {
		if j.fw == nil {
			continue
		}
		if err := j.w.Flush(); err != nil {
			o.abortJSONL()
			return nil, fmt.Errorf("%s: %w", j.rel, err)
		}
		j.fw.Rows = j.w.Rows()
		fw := j.fw
		j.fw = nil
		if err := fw.Close(); err != nil {
			o.abortJSONL()
			return nil, fmt.Errorf("%s: %w", j.rel, err)
		}
		out = append(out, sft.CardFile{Format: j.format.Name, Split: j.split, Path: strings.TrimPrefix(j.rel, sftDir+"/"), Rows: fw.Rows, Bytes: j.n.n})
	}
	return out, nil
}

// abortJSONL discards the JSONL files still open.
func (o *sftOutputs) abortJSONL() {
	for _, j := range o.jsonl {
		if j.fw != nil {
			j.fw.Abort()
			j.fw = nil
		}
	}
}

// writeSFTFile declares dataset name (of format "jsonl" or another,
// such as "markdown") and streams its one file rel from fill, which
// returns the file's rows; the file is committed with the run.
func writeSFTFile(ctx context.Context, env *Env, name string, schema columnar.Schema, format, rel string, fill func(io.Writer) (int64, error)) error {
	env.c.Declare(columnar.DatasetInfo{Name: name, Schema: schema, Stage: env.stage}, format)
	*env.datasets = append(*env.datasets, name)
	fw, err := env.c.Create(ctx, name, rel, "")
	if err != nil {
		return err
	}
	rows, err := fill(fw)
	if err != nil {
		fw.Abort()
		return fmt.Errorf("%s: %w", rel, err)
	}
	fw.Rows = rows
	if err := fw.Close(); err != nil {
		return fmt.Errorf("%s: %w", rel, err)
	}
	return nil
}
