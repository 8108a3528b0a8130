package jobs

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/atlas-ai/atlas-learn/columnar"
	"github.com/atlas-ai/atlas-learn/columnar/importer"
	"github.com/atlas-ai/atlas-learn/columnar/storage"
)

// NativeJSONL is the import format of the canonical schema's JSONL form.
const NativeJSONL = "jsonl"

// ImportOptions configures an import.
type ImportOptions struct {
	// Format is swe-agent, mini-swe-agent, openai-chat, openhands, atif, parquet, jsonl
	// or auto (detected per file from its content).
	Format string
	// Files are local source files, imported in the order given.
	Files []string
	// Output is the dataset location (path, file:// or s3://).
	Output  string
	OnError columnar.OnError
	S3      storage.S3Config
	Parquet ParquetConfig
	// Results are evaluation results files (SWE-bench report.json or a
	// combined run report; see importer.ReadResults) whose verdicts replace
	// the success heuristic of the trajectories of their instances.
	Results []string
	// Map is the Parquet mapping of --from parquet: a built-in name or a
	// YAML mapping file (see importer.ParquetMapping); empty is "chat".
	Map string
	// Append adds the trajectories to the trajectory dataset already
	// committed at Output instead of replacing it (see Import). Without a
	// dataset there, the import creates one as usual.
	Append bool
	// Partition is the layout of the part files: ImportPartitionNone (the
	// default when empty) or ImportPartitionDay (see ImportConfig).
	Partition string
	mapping   *importer.ParquetMapping
	// carryBytes replaces appendCarryBytes when positive (for tests).
	carryBytes int64
}

// appendCarryBytes is the size from which a Parquet file of the dataset an
// import appends to is kept as it is; smaller files are rewritten together
// with the new rows, so that importing files one at a time into one
// dataset does not leave a part file (and its few kilobytes of Parquet
// metadata) per import.
const appendCarryBytes = 32 << 20

// Import converts source files to a canonical trajectory dataset at
// opts.Output: Parquet part files and a _manifest.json written last. The
// part files are not partitioned (opts.Partition "none", the default):
// every part file pays a few kilobytes of Parquet footer and page index,
// more than a day of a small import holds, and created_at keeps min/max
// statistics for readers that prune by date. With "day" they are
// partitioned by the UTC day of created_at when known (dt=YYYY-MM-DD).
//
// Invalid UTF-8 in the sources is replaced with U+FFFD (see
// columnar.SanitizeJSON); the manifest's utf8_replacements counter sums the
// replacements recorded in the imported trajectories (their
// columnar.UTF8ReplacedKey metadata), so it is 0 for a clean import.
//
// Trajectory ids must be unique: a record whose id an earlier record of
// the import took is a bad record (fail: an error naming both places;
// skip: a warning, counted in rows_skipped and duplicate_ids). A file that
// holds no trajectory at all is bad input too (fail: "FILE: no
// trajectories"; skip: a warning, counted in files_empty), and an import
// that yields no trajectory is an error whatever on_error says: nothing is
// committed. With Results, the manifest counts results_matched,
// results_unmatched (trajectories whose instance has no verdict; they keep
// the heuristic) and results_unused (verdicts of instances not imported).
// A failed import to a local directory it created removes that directory
// when nothing is left in it.
//
// With Append, the trajectories of the dataset committed at Output come
// first, in their order, then the new ones, and the manifest lists the
// inputs of both and sums their counters (this import's own rows are
// append_rows_imported and append_rows_skipped). Its Parquet files
// smaller than 32 MiB are read and rewritten with the new rows (appending
// files one at a time then gives the same part files as importing them
// together); larger ones are kept as they are (counted in
// append_carried_files), and only their ids are read. Ids must be unique
// across old and new rows alike. The fingerprint covers the previous
// manifest's, so the same append run twice adds the same rows twice:
// duplicate ids, an error under on_error fail.
func Import(ctx context.Context, opts ImportOptions, log *slog.Logger) (*columnar.Manifest, error) {
	started := time.Now().UTC()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if len(opts.Files) == 0 {
		return nil, fmt.Errorf("import: no input files")
	}
	if err := opts.OnError.Validate(); err != nil {
		return nil, err
	}
	if err := (ImportConfig{Partition: opts.Partition}).Validate(); err != nil {
		return nil, fmt.Errorf("import.%w", err)
	}
	if opts.Partition != ImportPartitionDay {
		opts.Partition = ImportPartitionNone
	}
	var format importer.Format
	auto := opts.Format == importer.Auto
	if opts.Format != NativeJSONL && !auto {
		f, err := importer.ParseFormat(opts.Format)
		if err != nil {
			return nil, fmt.Errorf("--from: %w", err)
		}
		format = f
	}
	var err error
	if opts.mapping, err = importMapping(opts); err != nil {
		return nil, err
	}
	var results *evalResults
	if len(opts.Results) > 0 {
		r, err := loadResults(opts.Results)
		if err != nil {
			return nil, err
		}
		results = r
	}
	// The fingerprint covers the format, settings and every byte of input.
	var inputs []columnar.InputEntry
	h := sha256.New()
	for _, name := range opts.Files {
		n, sum, err := hashFile(name)
		if err != nil {
			return nil, err
		}
		inputs = append(inputs, columnar.InputEntry{Path: filepath.Base(name), Bytes: n})
		fmt.Fprintf(h, "%s %s\n", filepath.Base(name), sum)
	}
	var prev *columnar.Manifest
	if opts.Append {
		if prev, err = previousDataset(ctx, opts.Output, opts.S3); err != nil {
			return nil, err
		}
		if prev != nil {
			fmt.Fprintf(h, "append to %s\n", prev.Fingerprint)
			// An append keeps the layout of the dataset it adds to, so
			// that its old rows still read before the new ones.
			if layout := datasetLayout(prev); layout != "" && layout != opts.Partition {
				log.Info("append keeps the layout of the dataset appended to", "import.partition", layout, "configured", opts.Partition)
				opts.Partition = layout
			}
		}
	}
	partition := func(*columnar.Trajectory) string { return "" }
	if opts.Partition == ImportPartitionDay {
		partition = datePartitionIfKnown
	}
	for _, name := range opts.Results {
		_, sum, err := hashFile(name)
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(h, "results %s %s\n", name, sum)
	}
	shape, _ := json.Marshal(struct {
		Format    string
		OnError   columnar.OnError
		Parquet   ParquetConfig
		Version   string
		Mapping   int
		Results   []string                 `json:",omitempty"`
		Map       *importer.ParquetMapping `json:",omitempty"`
		Partition string
	}{opts.Format, opts.OnError, opts.Parquet, Version, importer.MappingVersion, opts.Results, opts.mapping, opts.Partition})
	fp := columnar.Fingerprint(h.Sum(nil), shape)

	created := newLocalDir(opts.Output, opts.S3)
	out, err := openDatasetOutput(ctx, opts.Output, opts.S3, opts.Parquet, fp, partition)
	if err != nil {
		created.removeIfEmpty(log)
		return nil, err
	}
	defer out.close()
	sink := out.sink
	fail := func(err error) (*columnar.Manifest, error) {
		out.abort(ctx)
		created.removeIfEmpty(log)
		return nil, fmt.Errorf("import: %w (nothing committed)", err)
	}
	m := &columnar.Manifest{Kind: "dataset", Fingerprint: fp, Counters: map[string]int64{"utf8_replacements": 0, "duplicate_ids": 0}}
	if results != nil {
		m.Counters["results_matched"], m.Counters["results_unmatched"] = 0, 0
	}
	ids := &importer.IDSet{}
	if prev != nil {
		carry := opts.carryBytes
		if carry <= 0 {
			carry = appendCarryBytes
		}
		if err := appendPrevious(ctx, out, prev, opts.Parquet, carry, ids, m, log); err != nil {
			return fail(fmt.Errorf("--append: %w", err))
		}
	}
	emit := func(t columnar.Trajectory) error {
		if results != nil {
			matched, err := results.apply(&t)
			if err != nil {
				return err
			}
			if matched {
				m.Counters["results_matched"]++
			} else {
				m.Counters["results_unmatched"]++
			}
		}
		// The sink normalizes too; sanitizing first makes the count below
		// cover every replacement recorded in the trajectory.
		t.SanitizeUTF8()
		m.Counters["utf8_replacements"] += int64(t.UTF8Replacements())
		return sink.Write(ctx, t)
	}
	for i, name := range opts.Files {
		format := format
		if auto {
			if format, err = detectFileFormat(name, m, log); err != nil {
				return fail(err)
			}
		}
		rows, skipped, dups, err := importFile(ctx, format, opts, name, log, ids, emit)
		if err == nil && rows+skipped == 0 {
			err = opts.OnError.Handle(&columnar.RecordError{File: name, Row: -1, Err: errNoTrajectories}, func(re *columnar.RecordError) {
				m.Counters["files_empty"]++
				log.Warn("skipping file", "error", re.Error())
			})
		}
		if err != nil {
			return fail(err)
		}
		m.Counters["duplicate_ids"] += dups
		inputs[i].Rows = rows + skipped
		m.Counters["rows_imported"] += rows
		m.Counters["rows_skipped"] += skipped
		log.Debug("imported", "file", name, "trajectories", rows, "skipped", skipped)
	}
	if m.Counters["rows_imported"] == 0 {
		return fail(fmt.Errorf("no trajectories imported from %d files (%d records skipped): an empty dataset is not written", len(opts.Files), m.Counters["rows_skipped"]))
	}
	if results != nil {
		m.Counters["results_unused"] = results.unused()
	}
	if err := sink.Close(ctx); err != nil {
		return fail(err)
	}
	m.Inputs = inputs
	m.Counters["files_read"] = int64(len(opts.Files))
	var appended string
	if prev != nil {
		m.Counters["append_rows_imported"] = m.Counters["rows_imported"]
		m.Counters["append_rows_skipped"] = m.Counters["rows_skipped"]
		m.Inputs = append(append([]columnar.InputEntry(nil), prev.Inputs...), inputs...)
		for k, v := range prev.Counters {
			if !strings.HasPrefix(k, "append_") {
				m.Counters[k] += v
			}
		}
		appended = prev.Fingerprint
	}
	m.Config, _ = json.Marshal(struct {
		Format  string                   `json:"format"`
		OnError columnar.OnError         `json:"on_error"`
		Parquet ParquetConfig            `json:"parquet"`
		Results []string                 `json:"results,omitempty"`
		Map     *importer.ParquetMapping `json:"map,omitempty"`
		// AppendedTo is the fingerprint of the dataset appended to.
		AppendedTo string `json:"appended_to,omitempty"`
	}{opts.Format, opts.OnError, opts.Parquet, opts.Results, opts.mapping, appended})
	if err := commit(ctx, out.c, m, "import-"+fp, "import", started, log, nil); err != nil {
		return fail(err)
	}
	return m, nil
}

// datasetLayout is the import.partition a committed dataset was written
// with: day when any of its trajectory files is in a dt= partition, none
// when it has files and none is, "" when it has none.
func datasetLayout(m *columnar.Manifest) string {
	d := m.Dataset(columnar.TrajectoriesDataset)
	if d == nil || len(d.Files) == 0 {
		return ""
	}
	for _, f := range d.Files {
		if strings.HasPrefix(f.Partition, "dt=") {
			return ImportPartitionDay
		}
	}
	return ImportPartitionNone
}

// previousDataset returns the trajectory dataset manifest committed at
// uri, or nil when there is none.
func previousDataset(ctx context.Context, uri string, s3 storage.S3Config) (*columnar.Manifest, error) {
	b, err := storage.Open(ctx, uri, s3)
	if err != nil {
		return nil, fmt.Errorf("output: %w", err)
	}
	defer b.Close()
	m, err := columnar.ReadManifest(ctx, b, columnar.DatasetManifest)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("--append: %s: %w", storage.Redact(uri), err)
	}
	d := m.Dataset(columnar.TrajectoriesDataset)
	if d == nil {
		return nil, fmt.Errorf("--append: %s: the manifest has no %q dataset", storage.Redact(uri), columnar.TrajectoriesDataset)
	}
	if err := d.Check(columnar.TrajectorySchema); err != nil {
		return nil, fmt.Errorf("--append: %s: %w", storage.Redact(uri), err)
	}
	return m, nil
}

// trajectoryIDRow is the projection that reads only trajectory ids.
type trajectoryIDRow struct {
	TrajectoryID string `parquet:"trajectory_id"`
}

// appendPrevious puts the trajectories of prev, the dataset an import
// appends to, into the new output: the rows of its files under carryBytes
// through out's sink, its larger files carried over as they are (with
// their JSONL copies; a file without one is rewritten when the import
// writes JSONL). Every id goes into ids.
func appendPrevious(ctx context.Context, out *datasetOutput, prev *columnar.Manifest, p ParquetConfig, carryBytes int64, ids *importer.IDSet, m *columnar.Manifest, log *slog.Logger) error {
	if got := out.c.Previous(); got == nil || got.Fingerprint != prev.Fingerprint {
		return errors.New("the dataset at the output changed during the import")
	}
	for _, k := range []string{"append_previous_rows", "append_rewritten_files", "append_carried_files"} {
		m.Counters[k] = 0
	}
	b := out.c.Bucket()
	jsonlName := columnar.TrajectoriesDataset + ".jsonl"
	siblings := map[string]columnar.FileEntry{}
	if jd := prev.Dataset(jsonlName); jd != nil {
		for _, f := range jd.Files {
			siblings[f.Path] = f
		}
	}
	for _, f := range prev.Dataset(columnar.TrajectoriesDataset).Files {
		src := columnar.SourceFile{Key: f.Path, Rel: f.Path, Size: f.Bytes, Format: columnar.FormatOf(f.Path), Partition: f.Partition}
		sibling, hasSibling := siblings[strings.TrimSuffix(f.Path, ".parquet")+".jsonl"]
		place := func(pos columnar.Position) string {
			return fmt.Sprintf("%s (row %d of the dataset appended to)", pos.File, pos.Row)
		}
		if f.Bytes >= carryBytes && src.Format == "parquet" && (!p.JSONL || hasSibling) {
			_, err := columnar.ScanFile(ctx, b, src, columnar.ReadOptions{}, columnar.OnErrorFail, nil, func(r *trajectoryIDRow, pos columnar.Position) error {
				return ids.Add(r.TrajectoryID, place(pos), 0)
			})
			if err != nil {
				return err
			}
			if err := out.c.Carry(columnar.TrajectoriesDataset, f); err != nil {
				return err
			}
			if p.JSONL {
				if err := out.c.Carry(jsonlName, sibling); err != nil {
					return err
				}
			}
			m.Counters["append_carried_files"]++
			m.Counters["append_previous_rows"] += f.Rows
			log.Debug("kept", "file", f.Path, "rows", f.Rows)
			continue
		}
		st, err := columnar.ScanFile(ctx, b, src, columnar.ReadOptions{}, columnar.OnErrorFail, nil, func(t *columnar.Trajectory, pos columnar.Position) error {
			if err := ids.Add(t.TrajectoryID, place(pos), 0); err != nil {
				return err
			}
			return out.sink.Write(ctx, *t)
		})
		if err != nil {
			return err
		}
		m.Counters["append_rewritten_files"]++
		m.Counters["append_previous_rows"] += st.Rows
		log.Debug("rewritten", "file", f.Path, "rows", st.Rows)
	}
	return nil
}

// errNoTrajectories is the error of a file that holds no trajectory.
var errNoTrajectories = errors.New("no trajectories")

func importFile(ctx context.Context, format importer.Format, opts ImportOptions, name string, log *slog.Logger, ids *importer.IDSet, emit func(columnar.Trajectory) error) (rows, skipped, dups int64, err error) {
	f, err := os.Open(name)
	if err != nil {
		return 0, 0, 0, err
	}
	defer f.Close()
	onBad := func(re *columnar.RecordError) {
		skipped++
		log.Warn("skipping bad record", "error", re.Error())
	}
	if format == "" {
		err := columnar.ReadJSONL(ctx, f, name, opts.OnError, onBad,
			func(t *columnar.Trajectory, line int64) error {
				t.Normalize()
				if n := t.UTF8Replacements(); n > 0 {
					log.Warn("invalid UTF-8 replaced with U+FFFD", "file", name, "line", line, "trajectory", t.TrajectoryID, "replacements", n)
				}
				if err := t.Validate(); err != nil {
					return opts.OnError.Handle(&columnar.RecordError{File: name, Line: line, Row: -1, Err: err}, onBad)
				}
				if err := ids.Add(t.TrajectoryID, name, line); err != nil {
					return opts.OnError.Handle(&columnar.RecordError{File: name, Line: line, Row: -1, Field: "trajectory_id", Err: err}, func(re *columnar.RecordError) {
						dups++
						onBad(re)
					})
				}
				rows++
				return emit(*t)
			})
		return rows, skipped, dups, err
	}
	st, err := importer.Import(ctx, format, name, f, emit, importer.Options{OnError: opts.OnError, Logger: log, IDs: ids, Mapping: opts.mapping})
	return int64(st.Imported), int64(st.Skipped), int64(st.DuplicateIDs), err
}

func hashFile(name string) (int64, string, error) {
	f, err := os.Open(name)
	if err != nil {
		return 0, "", err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return 0, "", fmt.Errorf("%s: %w", name, err)
	}
	return n, hex.EncodeToString(h.Sum(nil)), nil
}

func datePartitionIfKnown(t *columnar.Trajectory) string {
	if t.CreatedAt.IsZero() || t.CreatedAt.Unix() == 0 {
		return ""
	}
	return columnar.DatePartition(t)
}
