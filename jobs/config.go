// Package jobs is the atlas-learn batch job: its configuration, the run
// that reads trajectory partitions, processes them with bounded workers and
// commits the outputs with a manifest, and the stages it runs.
package jobs

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/atlas-ai/atlas-learn/columnar"
	"github.com/atlas-ai/atlas-learn/columnar/storage"
	"github.com/atlas-ai/atlas-learn/configs"
)

// Config is the job's configuration. Its YAML form is configs/local.yaml.
type Config struct {
	Input   string           `yaml:"input" json:"input"`
	Output  string           `yaml:"output" json:"output"`
	RunID   string           `yaml:"run_id" json:"run_id,omitempty"`
	OnError columnar.OnError `yaml:"on_error" json:"on_error"`
	Workers int              `yaml:"workers" json:"workers"`
	S3      storage.S3Config `yaml:"s3" json:"s3"`
	Parquet ParquetConfig    `yaml:"parquet" json:"parquet"`
	Log     LogConfig        `yaml:"log" json:"log"`
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

// EnvVars lists the environment variables LoadConfig reads, with the key
// each sets.
var EnvVars = [][2]string{
	{"ATLAS_INPUT", "input"}, {"ATLAS_OUTPUT", "output"}, {"ATLAS_RUN_ID", "run_id"},
	{"ATLAS_ON_ERROR", "on_error"}, {"ATLAS_WORKERS", "workers"},
	{"ATLAS_S3_ENDPOINT", "s3.endpoint"}, {"ATLAS_S3_REGION", "s3.region"}, {"ATLAS_S3_PATH_STYLE", "s3.path_style"},
	{"ATLAS_LOG_LEVEL", "log.level"}, {"ATLAS_LOG_FORMAT", "log.format"},
}

func (c *Config) applyEnv(getenv func(string) string) error {
	for _, kv := range EnvVars {
		v := getenv(kv[0])
		if v == "" {
			continue
		}
		if err := c.Set(kv[1], v); err != nil {
			return fmt.Errorf("%s: %w", kv[0], err)
		}
	}
	return nil
}

// Set sets one key (as named in the YAML, dotted) from text.
func (c *Config) Set(key, v string) error {
	var err error
	switch key {
	case "input":
		c.Input = v
	case "output":
		c.Output = v
	case "run_id":
		c.RunID = v
	case "on_error":
		c.OnError = columnar.OnError(v)
	case "workers":
		c.Workers, err = strconv.Atoi(v)
	case "s3.endpoint":
		c.S3.Endpoint = v
	case "s3.region":
		c.S3.Region = v
	case "s3.path_style":
		c.S3.PathStyle, err = strconv.ParseBool(v)
	case "s3.request_timeout":
		c.S3.RequestTimeout, err = time.ParseDuration(v)
	case "s3.max_attempts":
		c.S3.MaxAttempts, err = strconv.Atoi(v)
	case "s3.part_size_mib":
		c.S3.PartSizeMiB, err = strconv.Atoi(v)
	case "parquet.row_group_rows":
		c.Parquet.RowGroupRows, err = strconv.ParseInt(v, 10, 64)
	case "parquet.zstd_level":
		c.Parquet.ZstdLevel, err = strconv.Atoi(v)
	case "parquet.rows_per_file":
		c.Parquet.RowsPerFile, err = strconv.ParseInt(v, 10, 64)
	case "parquet.jsonl":
		c.Parquet.JSONL, err = strconv.ParseBool(v)
	case "log.level":
		c.Log.Level = v
	case "log.format":
		c.Log.Format = v
	default:
		return fmt.Errorf("unknown configuration key %q", key)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", key, err)
	}
	return nil
}

// Validate reports the first invalid key.
func (c Config) Validate() error {
	if c.Input == "" {
		return fmt.Errorf("input: required")
	}
	if c.Output == "" {
		return fmt.Errorf("output: required")
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
	if c.Parquet.RowsPerFile < 1 {
		return fmt.Errorf("parquet.rows_per_file: must be positive, got %d", c.Parquet.RowsPerFile)
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		return fmt.Errorf("log.level: want debug, info, warn or error, got %q", c.Log.Level)
	}
	switch c.Log.Format {
	case "text", "json":
	default:
		return fmt.Errorf("log.format: want text or json, got %q", c.Log.Format)
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
	return c
}
