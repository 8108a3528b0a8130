package sft

import (
	"fmt"
	"io"
	"strconv"
	"strings"
)

// CardFile is one data file the card names: its format, split, path
// relative to the card's directory, its rows (for the Parquet files,
// whose rows the card does not list per file, 0: the config's count is
// the summary's examples) and its size in bytes.
type CardFile struct {
	Format, Split, Path string
	Rows, Bytes         int64
}

// CardInfo is what the dataset card describes.
type CardInfo struct {
	// RunID names the run that wrote the data.
	RunID   string
	License string
	Weights Weights
	// ReplicateK is trl_replicated's factor.
	ReplicateK float64
	// Files are the data files, in the order listed.
	Files   []CardFile
	Summary Summary
}

// ParquetSplit is the one split the card lists for the Parquet config:
// it holds both splits (the split column tells them apart).
const ParquetSplit = "full"

// parquetFeatures are the Parquet dataset's columns and their Hugging
// Face dtypes, in schema order.
var parquetFeatures = [][2]string{
	{"id", "string"}, {"trajectory_id", "string"}, {"task_id", "string"}, {"step", "int32"},
	{"kind", "string"}, {"subkind", "string"}, {"weight", "float64"}, {"system", "string"},
	{"prompt", "string"}, {"completion", "string"}, {"quality", "float64"}, {"quality_source", "string"},
	{"reward", "float64"}, {"quality_bin", "int32"}, {"system_tokens", "int32"}, {"prompt_tokens", "int32"},
	{"completion_tokens", "int32"}, {"total_tokens", "int32"}, {"truncated", "bool"}, {"split", "string"},
}

// columnDocs says what a Parquet column holds.
func columnDocs(col, encoding string) string {
	switch col {
	case "id":
		return "the example's id (a hash of trajectory, subkind and step)"
	case "trajectory_id", "task_id":
		return "the trajectory or task the example comes from"
	case "step":
		return "the key step whose action is the completion; -1 for sampling and error examples"
	case "kind":
		return "sampling or refinement"
	case "subkind":
		return "solution, key_step or error"
	case "weight":
		return "the example's loss weight"
	case "system", "prompt", "completion":
		return "the example's text"
	case "quality":
		return "the parent trajectory's quality in [0, 1]"
	case "quality_source":
		return "tests (the fraction passed in its last test report), reward (its outcome reward), or success (a heuristic: 1 or 0)"
	case "reward":
		return "the trajectory's outcome reward"
	case "quality_bin":
		return "the refinement example's quality bin; -1 for sampling"
	case "system_tokens", "prompt_tokens", "completion_tokens", "total_tokens":
		return "tokens (" + encoding + "); total = system + prompt + completion"
	case "truncated":
		return "the prompt's history was cut from the front to fit the token limit"
	case "split":
		return "train or validation (by task)"
	}
	return ""
}

// q quotes a YAML scalar (a JSON string is a YAML double-quoted one).
func q(s string) string { return strconv.Quote(s) }

// cardConfigs lists the main card's configs in order: the JSONL
// formats. The Parquet dataset has a card of its own (WriteParquetCard):
// Hugging Face datasets (5.2 and before; huggingface/datasets#6447,
// #7101) picks one builder for all of a card's configs, from the first
// config's files, so a Parquet config beside JSON ones does not load.
func cardConfigs() []string {
	var out []string
	for _, f := range JSONLFormats() {
		out = append(out, f.Name)
	}
	return out
}

// writeCardHeader writes a card's YAML header: license, task categories,
// tags, then configs (data files per split, the files' paths relative to
// the card) and dataset_info (features; rows and bytes per split) for
// each config of configs that has files. A Parquet split's rows are the
// summary's examples (its files do not list them).
func writeCardHeader(b *strings.Builder, info CardInfo, configs []string, def string, files []CardFile) {
	b.WriteString("---\n")
	fmt.Fprintf(b, "license: %s\n", q(info.License))
	b.WriteString("task_categories:\n- text-generation\n")
	b.WriteString("tags:\n- sft\n- soar\n- hindsight\n- atlas-learn\n")
	of := func(c string) []CardFile {
		var out []CardFile
		for _, f := range files {
			if f.Format == c {
				out = append(out, f)
			}
		}
		return out
	}
	b.WriteString("configs:\n")
	for _, c := range configs {
		fs := of(c)
		if len(fs) == 0 {
			continue
		}
		fmt.Fprintf(b, "- config_name: %s\n", c)
		if c == def {
			b.WriteString("  default: true\n")
		}
		b.WriteString("  data_files:\n")
		var splits []string
		paths := map[string][]string{}
		for _, f := range fs {
			if _, ok := paths[f.Split]; !ok {
				splits = append(splits, f.Split)
			}
			paths[f.Split] = append(paths[f.Split], f.Path)
		}
		for _, s := range splits {
			fmt.Fprintf(b, "  - split: %s\n    path:\n", s)
			for _, p := range paths[s] {
				fmt.Fprintf(b, "    - %s\n", q(p))
			}
		}
	}
	b.WriteString("dataset_info:\n")
	for _, c := range configs {
		fmt.Fprintf(b, "- config_name: %s\n  features:\n", c)
		switch c {
		case FormatOpenAI, FormatTRLConversational:
			b.WriteString("  - name: messages\n    list:\n    - name: role\n      dtype: string\n    - name: content\n      dtype: string\n")
		case FormatParquet:
			for _, f := range parquetFeatures {
				fmt.Fprintf(b, "  - name: %s\n    dtype: %s\n", f[0], f[1])
			}
		default:
			b.WriteString("  - name: prompt\n    dtype: string\n  - name: completion\n    dtype: string\n")
		}
		rows, size := map[string]int64{}, map[string]int64{}
		var splits []string
		for _, f := range of(c) {
			if _, ok := rows[f.Split]; !ok {
				splits = append(splits, f.Split)
			}
			rows[f.Split] += f.Rows
			size[f.Split] += f.Bytes
		}
		if c == FormatParquet {
			for _, sp := range splits {
				rows[sp] = info.Summary.Examples
			}
		}
		if len(splits) > 0 {
			// num_bytes: the split's files' bytes (datasets ignores a
			// splits list without it).
			b.WriteString("  splits:\n")
			for _, sp := range splits {
				fmt.Fprintf(b, "  - name: %s\n    num_bytes: %d\n    num_examples: %d\n", sp, size[sp], rows[sp])
			}
		}
	}
	b.WriteString("---\n\n")
}

// WriteCard writes the dataset card (README.md with a Hugging Face YAML
// header: configs with their data files per split, features, license,
// task categories) describing the JSONL files of info; the Parquet files
// are described in its text and by WriteParquetCard.
func WriteCard(w io.Writer, info CardInfo) error {
	var b strings.Builder
	s := info.Summary
	var jsonl []CardFile
	for _, f := range info.Files {
		if f.Format != FormatParquet {
			jsonl = append(jsonl, f)
		}
	}
	writeCardHeader(&b, info, cardConfigs(), FormatTRLPromptCompletion, jsonl)
	fmt.Fprintf(&b, "# ATLAS hindsight SFT data (run %s)\n\n", info.RunID)
	b.WriteString("Training examples built SOAR-style (Pourcel et al., ICML 2025) from an atlas-learn run's trajectories and their analysis:\n\n")
	fmt.Fprintf(&b, "- **sampling** / `solution` (weight %g): the task → the successful trajectory's solution (its code, or its last action when it has none);\n", info.Weights.Sampling)
	fmt.Fprintf(&b, "- **refinement** / `key_step` (weight %g): the task and the steps before a key step (credit assignment) → that step's code or action;\n", info.Weights.Refinement)
	fmt.Fprintf(&b, "- **refinement** / `error` (weight %g): the task and a failed trajectory's whole history → `[ERROR] <error information>`.\n\n", info.Weights.Error)
	b.WriteString("## Configs\n\n")
	b.WriteString("- `openai`: OpenAI chat fine-tuning JSONL, `{\"messages\": [system, user, assistant]}` only (OpenAI rejects other keys and takes only 0/1 message weights, so the weights are not in it).\n")
	b.WriteString("- `trl_prompt_completion`: TRL `SFTTrainer` prompt-completion JSONL, `{\"prompt\", \"completion\"}` (the system prompt starts the prompt).\n")
	b.WriteString("- `trl_conversational`: TRL conversational JSONL, `{\"messages\": [...]}`.\n")
	fmt.Fprintf(&b, "- `trl_replicated`: prompt-completion JSONL with each example repeated round(weight × %g) times (weights %g/%g/%g → %d/%d/%d copies), for trainers without per-example weights.\n\n",
		info.ReplicateK, info.Weights.Sampling, info.Weights.Refinement, info.Weights.Error,
		Copies(info.Weights.Sampling, info.ReplicateK), Copies(info.Weights.Refinement, info.ReplicateK), Copies(info.Weights.Error, info.ReplicateK))
	b.WriteString("Splits are by task: a task's examples are all in `train` or all in `validation`.\n\n")
	b.WriteString("## The Parquet dataset\n\n")
	fmt.Fprintf(&b, "Every example, both splits, with its weight, token counts and provenance, is also in Parquet, under `%s/` with a card of its own (config `%s`, one split `%s`; the `split` column says train or validation):\n\n", ParquetDir, FormatParquet, ParquetSplit)
	for _, f := range info.Files {
		if f.Format == FormatParquet {
			fmt.Fprintf(&b, "- `%s`\n", f.Path)
		}
	}
	fmt.Fprintf(&b, "\n%d rows; load it with `datasets.load_dataset(\"<this directory>/%s\")` (Hugging Face `datasets` reads all of one card's configs with one builder, so the Parquet dataset cannot be a config of this JSON card), or with pandas, DuckDB or pyarrow.\n\n", s.Examples, ParquetDir)
	b.WriteString("| column | type | meaning |\n|---|---|---|\n")
	for _, f := range parquetFeatures {
		fmt.Fprintf(&b, "| %s | %s | %s |\n", f[0], f[1], columnDocs(f[0], s.Encoding))
	}
	b.WriteString("\n## Statistics\n\n")
	fmt.Fprintf(&b, "%d examples from %d trajectories (%d train, %d validation), %d tokens.\n", s.Examples, s.Trajectories, s.TrainExamples, s.ValidationExamples, s.TokensTotal)
	fmt.Fprintf(&b, "Built: %d sampling, %d key-step, %d error; removed: %d exact duplicates, %d near-duplicate solutions, %d over the token limit (%d truncated instead), %d over the per-task cap (%d tasks), %d by quality-bin balancing.\n\n",
		s.ExamplesSampling, s.ExamplesKeyStep, s.ExamplesError, s.DuplicatesExact, s.DuplicatesNear, s.OverlengthDropped, s.OverlengthTruncate, s.DroppedByCap, s.TasksCapped, s.DroppedByBin)
	fmt.Fprintf(&b, "| format | train rows | training tokens (× %d epochs) | estimated cost (USD) |\n|---|---|---|---|\n", s.Epochs)
	for _, f := range s.Formats {
		fmt.Fprintf(&b, "| %s | %d | %d | %.2f |\n", f.Format, f.Rows, f.TrainingTokens, f.CostUSD)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteParquetCard writes the Parquet dataset's own card (README.md in
// its directory): one config, parquet, of one split, ParquetSplit, with
// the columns as features, so that datasets.load_dataset(<that
// directory>) loads it.
func WriteParquetCard(w io.Writer, info CardInfo) error {
	var b strings.Builder
	var files []CardFile
	for _, f := range info.Files {
		if f.Format == FormatParquet {
			f.Path = strings.TrimPrefix(f.Path, ParquetDir+"/")
			files = append(files, f)
		}
	}
	writeCardHeader(&b, info, []string{FormatParquet}, FormatParquet, files)
	s := info.Summary
	fmt.Fprintf(&b, "# ATLAS hindsight SFT examples, Parquet (run %s)\n\n", info.RunID)
	fmt.Fprintf(&b, "Every example of the run's SFT data (see `../README.md`), %d rows, both splits (the `split` column: %d train, %d validation), with weights (%g sampling, %g key step, %g error) and token counts (%s).\n\n",
		s.Examples, s.TrainExamples, s.ValidationExamples, info.Weights.Sampling, info.Weights.Refinement, info.Weights.Error, s.Encoding)
	b.WriteString("| column | type | meaning |\n|---|---|---|\n")
	for _, f := range parquetFeatures {
		fmt.Fprintf(&b, "| %s | %s | %s |\n", f[0], f[1], columnDocs(f[0], s.Encoding))
	}
	_, err := io.WriteString(w, b.String())
	return err
}
