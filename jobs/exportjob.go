package jobs

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/atlas-ai/atlas-learn/columnar"
	"github.com/atlas-ai/atlas-learn/columnar/importer"
	"github.com/atlas-ai/atlas-learn/columnar/storage"
)

// ExportJSONL is the format of Export that writes the canonical trajectory
// JSONL with every source field back in extra.
const ExportJSONL = "jsonl"

// ExportFormats are the formats Export writes.
var ExportFormats = []string{string(importer.ATIF), ExportJSONL}

// ExportOptions configure Export.
type ExportOptions struct {
	// To is the format written: "atif" or "jsonl".
	To string
	// Input is a trajectory dataset (path, file:// or s3://; a directory
	// with or without a manifest, or one data file).
	Input string
	// Output is a local directory, created when missing.
	Output  string
	OnError columnar.OnError
	S3      storage.S3Config
}

// ExportStats count what Export did.
type ExportStats struct {
	Exported int
	Skipped  int
}

// maxExportName bounds the stem of an exported file's name.
const maxExportName = 120

// Export writes every trajectory of the dataset at opts.Input as one file
// of format opts.To in the directory opts.Output, in the dataset's order.
// For ATIF (importer.ExportATIF) a file is one ATIF-v1.4 document named
// after the trajectory_id (see ExportFileName); the same dataset always
// gives the same bytes. A file is written to a temporary name and renamed,
// so no reader sees half a document; an existing file of the same name is
// replaced. Two trajectories with the same id are an error (a dataset
// written by import holds none). For JSONL (ExportJSONL) the output is one
// file, trajectories.jsonl, of the canonical trajectory records that
// import --from jsonl reads, each with extra expanded
// (columnar.Trajectory.ExpandExtra): the references to columns an import
// made are resolved, so every source field is back in place.
func Export(ctx context.Context, opts ExportOptions, log *slog.Logger) (ExportStats, error) {
	var st ExportStats
	if !slices.Contains(ExportFormats, opts.To) {
		return st, fmt.Errorf("export: unknown format %q (known: %s)", opts.To, strings.Join(ExportFormats, ", "))
	}
	if opts.Input == "" || opts.Output == "" {
		return st, fmt.Errorf("export: input and output are required")
	}
	if opts.OnError == "" {
		opts.OnError = columnar.OnErrorFail
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	b, root, err := storage.OpenInput(ctx, opts.Input, opts.S3)
	if err != nil {
		return st, fmt.Errorf("export: %w", err)
	}
	defer b.Close()
	src, err := columnar.OpenSource(ctx, b, root)
	if err != nil {
		return st, fmt.Errorf("export: %w", err)
	}
	if err := os.MkdirAll(opts.Output, 0o755); err != nil {
		return st, fmt.Errorf("export: %w", err)
	}
	var w exportWriter
	if opts.To == ExportJSONL {
		j, err := newJSONLExport(opts.Output)
		if err != nil {
			return st, fmt.Errorf("export: %w", err)
		}
		defer j.abort()
		w = j
	} else {
		w = &atifExport{dir: opts.Output, names: map[string]string{}}
	}
	onBad := func(re *columnar.RecordError) {
		log.Warn("skipping trajectory record", "error", re.Error())
	}
	for _, f := range src.Files {
		scan, err := columnar.ScanFile(ctx, b, f, columnar.ReadOptions{}, opts.OnError, onBad, func(t *columnar.Trajectory, pos columnar.Position) error {
			if err := w.write(t, pos); err != nil {
				return err
			}
			st.Exported++
			return nil
		})
		st.Skipped += int(scan.Skipped)
		if err != nil {
			return st, fmt.Errorf("export: %w", err)
		}
	}
	if err := ctx.Err(); err != nil {
		return st, fmt.Errorf("export: %w", err)
	}
	if err := w.finish(); err != nil {
		return st, fmt.Errorf("export: %w", err)
	}
	log.Info("exported trajectories", "format", opts.To, "output", opts.Output, "trajectories", st.Exported, "skipped", st.Skipped)
	return st, nil
}

// exportWriter writes the trajectories of one export in one format.
type exportWriter interface {
	write(t *columnar.Trajectory, pos columnar.Position) error
	finish() error
}

// atifExport writes each trajectory as its own ATIF document.
type atifExport struct {
	dir   string
	names map[string]string // file name -> trajectory id
}

func (a *atifExport) write(t *columnar.Trajectory, pos columnar.Position) error {
	name := ExportFileName(t.TrajectoryID)
	if prev, ok := a.names[name]; ok {
		return fmt.Errorf("%s: trajectory_id %q: file %s already written for %q", pos.File, t.TrajectoryID, name, prev)
	}
	a.names[name] = t.TrajectoryID
	doc, err := importer.ExportATIF(*t)
	if err != nil {
		return fmt.Errorf("%s: %w", pos.File, err)
	}
	return writeFileAtomic(filepath.Join(a.dir, name), doc)
}

func (a *atifExport) finish() error { return nil }

// ExportFileName is the name of the file an exported trajectory is written
// to: its trajectory_id with every byte other than ASCII letters, digits,
// "-", "_" and "." replaced by "_", at most 120 bytes, plus ".json". When
// the id had to change (or is empty, or starts with "."), "-" and the
// first 12 hex digits of the id's SHA-256 follow, so that two ids never
// share a name.
func ExportFileName(id string) string {
	var b strings.Builder
	for i := 0; i < len(id); i++ {
		c := id[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' {
			b.WriteByte(c)
		} else {
			b.WriteByte('_')
		}
	}
	stem := b.String()
	if len(stem) > maxExportName {
		stem = stem[:maxExportName]
	}
	if stem != id || stem == "" || strings.HasPrefix(stem, ".") {
		sum := sha256.Sum256([]byte(id))
		stem = strings.TrimLeft(stem, ".") + "-" + hex.EncodeToString(sum[:6])
	}
	return stem + ".json"
}

// writeFileAtomic writes data to a temporary file beside path and renames
// it into place.
func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".export-*")
	if err != nil {
		return err
	}
	name := tmp.Name()
	werr := tmp.Chmod(0o644)
	if werr == nil {
		_, werr = tmp.Write(data)
	}
	cerr := tmp.Close()
	if werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Rename(name, path)
	}
	if werr != nil {
		_ = os.Remove(name)
		return fmt.Errorf("write %s: %w", path, werr)
	}
	return nil
}

// ExportJSONLName is the file export --to jsonl writes in its output.
const ExportJSONLName = "trajectories.jsonl"

// jsonlExport writes canonical JSONL with extra expanded to a temporary
// file, renamed into place by finish.
type jsonlExport struct {
	path string
	tmp  *os.File
	w    *columnar.JSONLWriter[columnar.Trajectory]
	done bool
}

func newJSONLExport(dir string) (*jsonlExport, error) {
	tmp, err := os.CreateTemp(dir, ".export-*")
	if err != nil {
		return nil, err
	}
	return &jsonlExport{path: filepath.Join(dir, ExportJSONLName), tmp: tmp, w: columnar.NewJSONLWriter[columnar.Trajectory](tmp)}, nil
}

func (j *jsonlExport) write(t *columnar.Trajectory, pos columnar.Position) error {
	x, err := t.ExpandExtra()
	if err != nil {
		return fmt.Errorf("%s: row %d: %w", pos.File, pos.Row, err)
	}
	t.Extra = x
	if err := j.w.Write([]columnar.Trajectory{*t}); err != nil {
		return fmt.Errorf("write %s: %w", j.path, err)
	}
	return nil
}

func (j *jsonlExport) finish() error {
	if err := j.w.Close(); err != nil {
		return fmt.Errorf("write %s: %w", j.path, err)
	}
	if err := j.tmp.Chmod(0o644); err != nil {
		return err
	}
	if err := j.tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", j.path, err)
	}
	if err := os.Rename(j.tmp.Name(), j.path); err != nil {
		return err
	}
	j.done = true
	return nil
}

// abort removes the temporary file of an export that did not finish.
func (j *jsonlExport) abort() {
	if !j.done {
		_ = j.tmp.Close()
		_ = os.Remove(j.tmp.Name())
	}
}
