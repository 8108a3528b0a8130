// Package jobs is the atlas-learn batch job: its configuration, the run
// that reads trajectory partitions, processes them with bounded workers and
// commits the outputs with a manifest, and the stages it runs.
package jobs

import (
	"bytes"
	"fmt"
	"os"
	"slices"

	"go.yaml.in/yaml/v3"

	"github.com/atlas-ai/atlas-learn/columnar"
	"github.com/atlas-ai/atlas-learn/columnar/storage"
	"github.com/atlas-ai/atlas-learn/configs"
	"github.com/atlas-ai/atlas-learn/internal/llm"
)

// Config is the job's configuration: one struct for every command. Its
// YAML form is configs/local.yaml; each key is declared once, as a YAML
// tag here, and --set and the ATLAS_* environment variables are derived
// from the tags (see Keys). Defaults come from the embedded YAML;
// Validate checks every key and names the one at fault.
type Config struct {
	Input   string           `yaml:"input" json:"input"`
	Output  string           `yaml:"output" json:"output"`
	RunID   string           `yaml:"run_id" json:"run_id,omitempty"`
	OnError columnar.OnError `yaml:"on_error" json:"on_error"`
	Workers int              `yaml:"workers" json:"workers"`
	// Incremental skips the input files the memory has processed (with
	// the memory stage only).
	Incremental bool `yaml:"incremental" json:"incremental"`
	// Stages lists the stages the run runs, by name (see StageNames).
	Stages   []string         `yaml:"stages" json:"stages"`
	S3       storage.S3Config `yaml:"s3" json:"s3"`
	Parquet  ParquetConfig    `yaml:"parquet" json:"parquet"`
	Log      LogConfig        `yaml:"log" json:"log"`
	Analysis AnalysisConfig   `yaml:"analysis" json:"analysis"`
	Patterns PatternsConfig   `yaml:"patterns" json:"patterns"`
	Sandbox  SandboxConfig    `yaml:"sandbox" json:"sandbox"`
	LLM      llm.Config       `yaml:"llm" json:"llm"`
	Concepts ConceptsConfig   `yaml:"concepts" json:"concepts"`
	SFT      SFTConfig        `yaml:"sft" json:"sft"`
	Import   ImportConfig     `yaml:"import" json:"import"`
	Memory   MemoryConfig     `yaml:"memory" json:"memory"`
	Recall   RecallConfig     `yaml:"recall" json:"recall"`
	Finetune FinetuneConfig   `yaml:"finetune" json:"finetune"`
	// Strategies configures the strategies stage.
	Strategies StrategiesConfig `yaml:"strategies" json:"strategies"`
}

// ParquetConfig configures the data files written.
type ParquetConfig struct {
	RowGroupRows int64 `yaml:"row_group_rows" json:"row_group_rows"`
	ZstdLevel    int   `yaml:"zstd_level" json:"zstd_level"`
	RowsPerFile  int64 `yaml:"rows_per_file" json:"rows_per_file"`
	JSONL        bool  `yaml:"jsonl" json:"jsonl"`
}

// LogConfig configures logging.
type LogConfig struct {
	Level  string `yaml:"level" json:"level"`
	Format string `yaml:"format" json:"format"`
}

// Writer returns the Parquet writer options.
func (p ParquetConfig) Writer() columnar.WriterOptions {
	return columnar.WriterOptions{RowGroupRows: p.RowGroupRows, ZstdLevel: p.ZstdLevel}
}

// LoadConfig reads the embedded default, then file (when not ""), then the
// ATLAS_* environment variables (getenv, usually os.Getenv), each on top of
// the one before. Unknown YAML keys are errors.
func LoadConfig(file string, getenv func(string) string) (Config, error) {
	var c Config
	if err := decodeYAML(configs.Local, &c); err != nil {
		return c, fmt.Errorf("embedded configs/local.yaml: %w", err)
	}
	if file != "" {
		data, err := os.ReadFile(file)
		if err != nil {
			return c, fmt.Errorf("config: %w", err)
		}
		if err := decodeYAML(data, &c); err != nil {
			return c, fmt.Errorf("config %s: %w", file, err)
		}
	}
	if err := c.applyEnv(getenv); err != nil {
		return c, err
	}
	return c, nil
}

func decodeYAML(data []byte, c *Config) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(c); err != nil && err.Error() != "EOF" {
		return err
	}
	return nil
}

// Validate reports the first invalid key.
func (c Config) Validate() error {
	if _, err := storage.ParseLocation(c.Input, c.S3); err != nil {
		return fmt.Errorf("input: %w", err)
	}
	if _, err := storage.ParseLocation(c.Output, c.S3); err != nil {
		return fmt.Errorf("output: %w", err)
	}
	if err := c.OnError.Validate(); err != nil {
		return err
	}
	if c.Workers < 1 || c.Workers > 1024 {
		return fmt.Errorf("workers: must be 1..1024, got %d", c.Workers)
	}
	if err := c.S3.Validate(); err != nil {
		return err
	}
	if err := c.Parquet.Writer().Validate(); err != nil {
		return fmt.Errorf("parquet.%w", err)
	}
	if err := c.Import.Validate(); err != nil {
		return fmt.Errorf("import.%w", err)
	}
	if err := c.validateStages(); err != nil {
		return err
	}
	if err := c.Analysis.Validate(); err != nil {
		return fmt.Errorf("analysis.%w", err)
	}
	if err := c.Sandbox.Validate(); err != nil {
		return fmt.Errorf("sandbox.%w", err)
	}
	if err := c.Patterns.Validate(); err != nil {
		return fmt.Errorf("patterns.%w", err)
	}
	if err := c.LLM.Validate(); err != nil {
		return fmt.Errorf("llm.%w", err)
	}
	if c.Analysis.Credit == "llm" && c.LLM.Mode == llm.ModeOffline && slices.Contains(c.Stages, "analysis") {
		return fmt.Errorf("analysis.credit: llm needs llm.mode live (or replay, from a cache); llm.mode is offline")
	}
	if err := c.Concepts.Validate(); err != nil {
		return fmt.Errorf("concepts.%w", err)
	}
	if err := c.Memory.Validate(); err != nil {
		return fmt.Errorf("memory.%w", err)
	}
	if err := c.Recall.Validate(c.S3); err != nil {
		return fmt.Errorf("recall.%w", err)
	}
	if err := c.Finetune.Validate(); err != nil {
		return fmt.Errorf("finetune.%w", err)
	}
	if err := c.Strategies.Validate(); err != nil {
		return fmt.Errorf("strategies.%w", err)
	}
	if c.Strategies.Extractor == ExtractorLLM && c.LLM.Mode == llm.ModeOffline && slices.Contains(c.Stages, "strategies") {
		return fmt.Errorf("strategies.extractor: llm needs llm.mode live (or replay, from a cache); llm.mode is offline (auto uses the heuristic then)")
	}
	if err := c.SFT.Validate(); err != nil {
		return fmt.Errorf("sft.%w", err)
	}
	if c.Parquet.RowsPerFile < 1 {
		return fmt.Errorf("parquet.rows_per_file: must be positive, got %d", c.Parquet.RowsPerFile)
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		return fmt.Errorf("log.level: want debug, info, warn or error, got %q", c.Log.Level)
	}
	switch c.Log.Format {
	case "auto", "text", "json":
	default:
		return fmt.Errorf("log.format: want auto, text or json, got %q", c.Log.Format)
	}
	return nil
}

// Redacted is c with user info and query parameters removed from every
// location, for manifests and logs. (Credentials are never configuration;
// this guards against a URL that carries them anyway.)
func (c Config) Redacted() Config {
	c.Input = storage.Redact(c.Input)
	c.Output = storage.Redact(c.Output)
	c.S3.Endpoint = storage.Redact(c.S3.Endpoint)
	c.Concepts.Library = storage.Redact(c.Concepts.Library)
	c.Memory.URI = storage.Redact(c.Memory.URI)
	c.Analysis.ReplayCache = storage.Redact(c.Analysis.ReplayCache)
	c.Analysis.HTTP.URL = storage.Redact(c.Analysis.HTTP.URL)
	c.LLM = c.LLM.Redacted()
	c.Finetune = c.Finetune.Redacted()
	return c
}
