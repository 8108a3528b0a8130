package columnar

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/atlas-ai/atlas-learn/columnar/storage"
)

// Manifest file names: a dataset directory has DatasetManifest, a run
// directory RunManifest.
const (
	DatasetManifest = "_manifest.json"
	RunManifest     = "manifest.json"
	// ManifestFormat identifies ATLAS manifests.
	ManifestFormat = "atlas-learn/manifest"
	// ManifestFormatVersion is the manifest format this build writes: 2
	// names each dataset's schema and stage.
	ManifestFormatVersion = 2
	// PendingMarker is written in an output's root before any of its
	// files and deleted once its manifest is: readers of a parent
	// directory never read the files of an output that has not committed
	// (in progress, or crashed).
	PendingMarker = "_pending"
)

// Manifest describes a committed output: the files of each dataset with
// their rows, sizes and checksums, the inputs read, the counters and the
// configuration that produced it. A dataset exists for readers only once
// its manifest is written, and the manifest is always written last.
//
// Everything but Run is a pure function of the inputs and configuration:
// two runs over the same inputs with the same configuration write the same
// manifest apart from Run.
type Manifest struct {
	Format        string `json:"format"`
	FormatVersion int    `json:"format_version"`
	Kind          string `json:"kind"` // "dataset" or "run"
	Fingerprint   string `json:"fingerprint"`
	// SchemaVersion is the trajectory schema's version: the only schema
	// of format version 1 manifests. From format version 2 each dataset
	// names its own schema; this stays for readers of version 1.
	SchemaVersion int32            `json:"schema_version"`
	Datasets      []DatasetEntry   `json:"datasets"`
	Inputs        []InputEntry     `json:"inputs,omitempty"`
	Counters      map[string]int64 `json:"counters"`
	// Stages lists the stages of a run in the order they ran, with the
	// datasets each wrote and its counters.
	// Warnings are what the run must tell its user first (untrusted code
	// run without isolation, say).
	Warnings []string        `json:"warnings,omitempty"`
	Stages   []StageEntry    `json:"stages,omitempty"`
	Config   json.RawMessage `json:"config,omitempty"`
	Run      RunInfo         `json:"run"`

	// Decisions are what stages decided, by name (the fine-tune trigger's
	// decision and hand-off, for example), as each stage's JSON.
	Decisions map[string]json.RawMessage `json:"decisions,omitempty"`

	// Shard identifies the map step of a many-worker run (kind "shard"):
	// which slice of the run's input files it processed.
	Shard *ShardInfo `json:"shard,omitempty"`
}

// ShardInfo is one shard of a many-worker run: shard Index (from 0) of
// Count.
type ShardInfo struct {
	Index int `json:"index"`
	Count int `json:"count"`
}

// StageEntry is one stage of a run: its kind ("trajectory" for stages
// that see each trajectory once, "batch" for stages that run once over
// the batch), the datasets it wrote and its counters. Its timing is in
// RunInfo.Stages, as timings differ between identical runs.
type StageEntry struct {
	Name     string           `json:"name"`
	Kind     string           `json:"kind"`
	Datasets []string         `json:"datasets"`
	Counters map[string]int64 `json:"counters"`
}

// StageTiming is the wall time of one stage, and its counts that depend
// on more than the input and configuration (cache hits, for example).
type StageTiming struct {
	Name      string           `json:"name"`
	ElapsedMS int64            `json:"elapsed_ms"`
	Counters  map[string]int64 `json:"counters,omitempty"`
}

// DatasetEntry is one dataset of a manifest.
type DatasetEntry struct {
	Name   string `json:"name"`
	Format string `json:"format"` // "parquet" or "jsonl"
	// Schema names the rows' schema; empty in format version 1 manifests,
	// whose only schema is the trajectory schema.
	Schema        string      `json:"schema,omitempty"`
	SchemaVersion int32       `json:"schema_version"`
	Stage         string      `json:"stage,omitempty"`
	Rows          int64       `json:"rows"`
	Files         []FileEntry `json:"files"`
}

// SchemaOf is the entry's schema (the trajectory schema for format
// version 1 entries, which do not name one).
func (d *DatasetEntry) SchemaOf() Schema {
	if d.Schema == "" {
		return Schema{Name: TrajectorySchema.Name, Version: d.SchemaVersion}
	}
	return Schema{Name: d.Schema, Version: d.SchemaVersion}
}

// Check reports an entry whose schema is not want, naming the dataset.
func (d *DatasetEntry) Check(want Schema) error {
	if err := checkSchema(d.Schema, d.SchemaVersion, want); err != nil {
		return fmt.Errorf("dataset %q: %w", d.Name, err)
	}
	return nil
}

// FileEntry is one data file; Path is relative to the manifest's directory.
type FileEntry struct {
	Path      string `json:"path"`
	Partition string `json:"partition,omitempty"`
	Rows      int64  `json:"rows"`
	Bytes     int64  `json:"bytes"`
	SHA256    string `json:"sha256"`
	// Adopted marks a file another output wrote and committed (a shard of
	// a many-worker run): replacing this manifest never deletes it.
	Adopted bool `json:"adopted,omitempty"`

	// order ranks adopted files by the adoption that brought them.
	order int
}

// carriedOrder ranks carried files (see Committer.Carry) before the
// committer's own (order 0) and adopted ones (order from 1).
const carriedOrder = -1 << 30

// sortFiles puts a dataset's files in reading order: by partition, then
// carried files in the order carried, then by the order they were adopted
// in (shard 0's before shard 1's), then by path. For a committer's own
// files, whose paths are <dir>/<partition>/part-<n>, that is path order.
func sortFiles(files []FileEntry) {
	sort.SliceStable(files, func(i, j int) bool {
		a, b := files[i], files[j]
		if a.Partition != b.Partition {
			return a.Partition < b.Partition
		}
		if a.order != b.order {
			return a.order < b.order
		}
		return a.Path < b.Path
	})
}

// InputEntry is one file read.
type InputEntry struct {
	Path  string `json:"path"`
	Bytes int64  `json:"bytes"`
	Rows  int64  `json:"rows"`
}

// RunInfo holds the run-time fields: the only ones that differ between two
// identical runs.
type RunInfo struct {
	ID         string    `json:"id"`
	Command    string    `json:"command"`
	Version    string    `json:"version,omitempty"`
	StartedAt  time.Time `json:"started_at"`
	FinishedAt time.Time `json:"finished_at"`
	ElapsedMS  int64     `json:"elapsed_ms"`
	// Stages holds each stage's wall time, in the order they ran.
	Stages []StageTiming `json:"stages,omitempty"`
	// Shards is the number of map shards a reduce step merged (0: the run
	// ran in one process).
	Shards int `json:"shards,omitempty"`
}

// Dataset returns the named dataset entry, or nil.
func (m *Manifest) Dataset(name string) *DatasetEntry {
	for i := range m.Datasets {
		if m.Datasets[i].Name == name {
			return &m.Datasets[i]
		}
	}
	return nil
}

// ReadManifest reads and checks the manifest at key.
func ReadManifest(ctx context.Context, b storage.BucketReader, key string) (*Manifest, error) {
	data, err := storage.Get(ctx, b, key)
	if err != nil {
		return nil, err
	}
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("%s/%s: malformed manifest: %w", b.Name(), key, err)
	}
	if m.Format != ManifestFormat {
		return nil, fmt.Errorf("%s/%s: not an atlas-learn manifest (format %q)", b.Name(), key, m.Format)
	}
	switch m.FormatVersion {
	case 1:
		// Version 1 had one schema for every dataset.
		if m.SchemaVersion != SchemaVersion {
			return nil, fmt.Errorf("%s/%s: %w", b.Name(), key, &SchemaVersionError{Got: m.SchemaVersion, Want: SchemaVersion})
		}
	case ManifestFormatVersion:
	default:
		return nil, fmt.Errorf("%s/%s: manifest format version %d, this build reads 1..%d", b.Name(), key, m.FormatVersion, ManifestFormatVersion)
	}
	return &m, nil
}

// Fingerprint hashes the parts (configuration, input listing, ...) into a
// short stable identifier used in file and run names.
func Fingerprint(parts ...[]byte) string {
	h := sha256.New()
	for _, p := range parts {
		fmt.Fprintf(h, "%d:", len(p))
		h.Write(p)
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// Committer writes the files of one output and commits them with a
// manifest, written last. Files of a new output carry its fingerprint in
// their names, so they never overwrite files that a committed manifest
// names unless they are byte-identical; once the new manifest is written,
// the files only the old manifest named are deleted. A crash at any point
// leaves either the old manifest with all its files, or the new one with
// all of its own.
type Committer struct {
	b            storage.Bucket
	root         string
	manifestName string
	old          *Manifest

	mu         sync.Mutex
	committed  bool
	cleanupErr error
	files      map[string][]FileEntry
	datasets   map[string]declared
	written    []string
	open       map[*FileWriter]bool
	adoptions  int
	carried    int
}

type declared struct {
	info   DatasetInfo
	format string
}

// NewCommitter prepares an output under root (a key prefix of b, "" for
// the bucket's root) whose manifest will be root/manifestName.
func NewCommitter(ctx context.Context, b storage.Bucket, root, manifestName string) (*Committer, error) {
	c := &Committer{b: b, root: strings.Trim(root, "/"), manifestName: manifestName, files: map[string][]FileEntry{}, datasets: map[string]declared{}, open: map[*FileWriter]bool{}}
	old, err := ReadManifest(ctx, b, c.key(manifestName))
	switch {
	case err == nil:
		c.old = old
	case errors.Is(err, storage.ErrNotFound):
	default:
		return nil, fmt.Errorf("reading the previous manifest: %w", err)
	}
	if err := storage.Put(ctx, b, c.key(PendingMarker), []byte("atlas-learn: an output is being written here; readers skip its files until the manifest exists\n")); err != nil {
		return nil, fmt.Errorf("marking the output as pending: %w", err)
	}
	return c, nil
}

// unmark deletes the pending marker, best effort.
func (c *Committer) unmark(ctx context.Context) {
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	_ = c.b.Delete(dctx, c.key(PendingMarker))
}

// Previous is the manifest committed before, or nil.
func (c *Committer) Previous() *Manifest { return c.old }

func (c *Committer) key(rel string) string { return storage.Join(c.root, rel) }

// FileWriter streams one data file and records its size and checksum.
type FileWriter struct {
	c       *Committer
	dataset string
	entry   FileEntry
	w       storage.Writer
	h       hash.Hash
	// Rows must be set before Close: the number of records in the file.
	Rows int64
}

// Declare records a dataset, its schema and file format ("parquet" or
// "jsonl") for the manifest: a declared dataset is listed even when it
// gets no files.
func (c *Committer) Declare(info DatasetInfo, format string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.datasets[info.Name] = declared{info: info, format: format}
}

// Emitted returns the files of dataset closed so far by this committer,
// in path order, ready for ScanFile on Bucket(): how a later stage of a
// run reads what an earlier one wrote before anything is committed.
func (c *Committer) Emitted(dataset string) ([]SourceFile, Schema, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	d, ok := c.datasets[dataset]
	if !ok {
		return nil, Schema{}, fmt.Errorf("dataset %q: not written by this run", dataset)
	}
	files := append([]FileEntry(nil), c.files[dataset]...)
	sortFiles(files)
	out := make([]SourceFile, len(files))
	for i, f := range files {
		out[i] = SourceFile{Key: c.key(f.Path), Rel: f.Path, Size: f.Bytes, Format: d.format, Partition: f.Partition, ContentID: "sha256:" + f.SHA256}
	}
	return out, d.info.Schema, nil
}

// Adopt makes files already stored under the committer's root (written
// and committed by another output, such as a shard of a many-worker run)
// part of dataset, declared with info and format as by Declare. Adopted
// files are named by the manifest like the committer's own, marked
// adopted, and never deleted by this committer or a later one: they
// belong to the output that wrote them. Files of later calls read after
// those of earlier ones, partition by partition.
func (c *Committer) Adopt(info DatasetInfo, format string, files []FileEntry) error {
	for _, f := range files {
		if !safeRel(f.Path) || !safePartition(f.Partition) {
			return fmt.Errorf("adopt %q (partition %q): not a path below the output", f.Path, f.Partition)
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if d, ok := c.datasets[info.Name]; ok && (d.format != format || d.info.Schema != info.Schema) {
		return fmt.Errorf("adopt dataset %q: declared as %s %s, adopted files are %s %s", info.Name, d.format, d.info.Schema, format, info.Schema)
	}
	c.datasets[info.Name] = declared{info: info, format: format}
	c.adoptions++
	for _, f := range files {
		f.Adopted, f.order = true, c.adoptions
		c.files[info.Name] = append(c.files[info.Name], f)
	}
	return nil
}

// Declared lists the datasets declared so far, sorted by name.
func (c *Committer) Declared() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]string, 0, len(c.datasets))
	for n := range c.datasets {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Bucket is the store the committer writes to.
func (c *Committer) Bucket() storage.Bucket { return c.b }

// Create starts the data file rel (relative to the root) of dataset, which
// must have been declared (NewSink declares its datasets).
func (c *Committer) Create(ctx context.Context, dataset, rel, partition string) (*FileWriter, error) {
	c.mu.Lock()
	_, ok := c.datasets[dataset]
	c.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("create %s: dataset %q was not declared", rel, dataset)
	}
	if !safeRel(rel) || !safePartition(partition) {
		return nil, fmt.Errorf("create %q (partition %q): not a path below the output", rel, partition)
	}
	w, err := c.b.NewWriter(ctx, c.key(rel))
	if err != nil {
		return nil, err
	}
	fw := &FileWriter{c: c, dataset: dataset, entry: FileEntry{Path: rel, Partition: partition}, w: w, h: sha256.New()}
	c.mu.Lock()
	c.written = append(c.written, rel)
	c.open[fw] = true
	c.mu.Unlock()
	return fw, nil
}

func (f *FileWriter) Write(p []byte) (int, error) {
	n, err := f.w.Write(p)
	f.h.Write(p[:n])
	f.entry.Bytes += int64(n)
	return n, err
}

// Close stores the file and records it for the manifest.
func (f *FileWriter) Close() error {
	err := f.w.Close()
	f.c.mu.Lock()
	defer f.c.mu.Unlock()
	delete(f.c.open, f)
	if err != nil {
		return err
	}
	f.entry.Rows = f.Rows
	f.entry.SHA256 = hex.EncodeToString(f.h.Sum(nil))
	f.c.files[f.dataset] = append(f.c.files[f.dataset], f.entry)
	return nil
}

// Carry names the file f of the previous manifest's dataset in the new
// output as it is, without rewriting it: an output that adds rows to a
// committed dataset keeps its large files this way, and Commit does not
// delete them. The dataset must be declared, and f must be a file the
// previous manifest lists for it, with the same checksum. Carried files
// read first in their partition, in the order they were carried: the old
// rows before the new ones, whatever the files' names.
func (c *Committer) Carry(dataset string, f FileEntry) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.datasets[dataset]; !ok {
		return fmt.Errorf("carry %s: dataset %q was not declared", f.Path, dataset)
	}
	var d *DatasetEntry
	if c.old != nil {
		d = c.old.Dataset(dataset)
	}
	if d == nil {
		return fmt.Errorf("carry %s: the previous manifest has no dataset %q", f.Path, dataset)
	}
	for _, old := range d.Files {
		if old.Path == f.Path && old.SHA256 == f.SHA256 {
			c.carried++
			old.order = carriedOrder + c.carried
			c.files[dataset] = append(c.files[dataset], old)
			return nil
		}
	}
	return fmt.Errorf("carry %s: not a file of the previous manifest's dataset %q", f.Path, dataset)
}

// Abort discards the file.
func (f *FileWriter) Abort() error {
	f.c.mu.Lock()
	delete(f.c.open, f)
	f.c.mu.Unlock()
	return f.w.Abort()
}

// Commit fills in m's datasets from the files written and writes the
// manifest: the commit point. Then it deletes the files that only the
// previous manifest named.
func (c *Committer) Commit(ctx context.Context, m *Manifest) error {
	c.mu.Lock()
	names := make([]string, 0, len(c.datasets))
	for n := range c.datasets {
		names = append(names, n)
	}
	sort.Strings(names)
	m.Datasets = m.Datasets[:0]
	for _, n := range names {
		files := append([]FileEntry{}, c.files[n]...)
		sortFiles(files)
		dd := c.datasets[n]
		d := DatasetEntry{Name: n, Format: dd.format, Schema: dd.info.Schema.Name, SchemaVersion: dd.info.Schema.Version, Stage: dd.info.Stage, Files: files}
		for _, f := range files {
			d.Rows += f.Rows
		}
		m.Datasets = append(m.Datasets, d)
	}
	c.mu.Unlock()
	m.Format, m.FormatVersion, m.SchemaVersion = ManifestFormat, ManifestFormatVersion, SchemaVersion
	if m.Counters == nil {
		m.Counters = map[string]int64{}
	}
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	data = append(data, '\n')
	if err := storage.Put(ctx, c.b, c.key(c.manifestName), data); err != nil {
		// The outcome of a failed PUT can be unknown (a timeout after the
		// server stored it): look before declaring the commit failed.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		got, rerr := storage.Get(rctx, c.b, c.key(c.manifestName))
		cancel()
		switch {
		case rerr != nil && !errors.Is(rerr, storage.ErrNotFound):
			// Neither written for sure nor surely not: the files must stay.
			return &UnknownCommitError{Err: err}
		case rerr != nil || !bytes.Equal(got, data):
			return fmt.Errorf("committing the manifest: %w", err)
		}
	}
	c.mu.Lock()
	c.committed = true
	c.mu.Unlock()
	c.unmark(ctx)
	// Committed. From here on nothing may fail the commit: deleting the
	// files only the previous manifest named is clean-up, and its errors
	// are kept for CleanupErr, not returned.
	if c.old != nil {
		keep := map[string]bool{}
		for _, d := range m.Datasets {
			for _, f := range d.Files {
				keep[f.Path] = true
			}
		}
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Minute)
		defer cancel()
		var errs []error
		for _, d := range c.old.Datasets {
			for _, f := range d.Files {
				if !keep[f.Path] && !f.Adopted {
					if err := c.b.Delete(dctx, c.key(f.Path)); err != nil {
						errs = append(errs, err)
					}
				}
			}
		}
		c.cleanupErr = errors.Join(errs...)
	}
	return nil
}

// UnknownCommitError is a commit whose outcome is unknown: writing the
// manifest failed and reading it back failed too, so it may or may not be
// visible. Nothing may then be deleted: the files it names must stay.
type UnknownCommitError struct{ Err error }

func (e *UnknownCommitError) Error() string {
	return fmt.Sprintf("committing the manifest: the outcome is unknown (the write failed and so did reading it back; its files are kept): %v", e.Err)
}

func (e *UnknownCommitError) Unwrap() error { return e.Err }

// CleanupErr reports files of the previous output that Commit could not
// delete after committing: they are unreferenced (readers ignore them) and
// can be removed by hand. Nil when clean-up succeeded.
func (c *Committer) CleanupErr() error { return c.cleanupErr }

// Abort discards the files still being written and deletes the files this
// attempt wrote that the previous manifest does not name. Best effort: it uses a fresh context so that it still
// runs after cancellation, and returns the first error. After a successful
// Commit it does nothing: committed files are never deleted.
func (c *Committer) Abort(ctx context.Context) error {
	c.mu.Lock()
	done := c.committed
	c.mu.Unlock()
	if done {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	// Files still being written are discarded first.
	c.mu.Lock()
	open := make([]*FileWriter, 0, len(c.open))
	for f := range c.open {
		open = append(open, f)
	}
	c.mu.Unlock()
	for _, f := range open {
		_ = f.Abort()
	}
	defer c.unmark(ctx)
	keep := map[string]bool{}
	// The files of the manifest committed now, which another attempt at
	// the same output may have written since this one started (with the
	// same names, byte for byte), are kept, as are the previous one's.
	committed := []*Manifest{c.old}
	if now, err := ReadManifest(ctx, c.b, c.key(c.manifestName)); err == nil {
		committed = append(committed, now)
	}
	for _, m := range committed {
		if m == nil {
			continue
		}
		for _, d := range m.Datasets {
			for _, f := range d.Files {
				keep[f.Path] = true
			}
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	var first error
	for _, rel := range c.written {
		if !keep[rel] {
			if err := c.b.Delete(ctx, c.key(rel)); err != nil && first == nil {
				first = err
			}
		}
	}
	return first
}
