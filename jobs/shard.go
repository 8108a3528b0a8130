package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/atlas-ai/atlas-learn/columnar"
	"github.com/atlas-ai/atlas-learn/columnar/storage"
)

// A run can be split over many processes (the pods of a Kubernetes
// Indexed Job, say) in two steps. The map step is N processes, each
// `run --shard i/N`: each lists the same input, derives the same run id,
// takes its slice of the input files (contiguous, balanced by bytes), runs
// the trajectory stages over it and commits what they wrote under
// runs/<run-id>/_shards/<fingerprint>/<i>-of-<N>/ with a shard manifest. The reduce step,
// `run --reduce --shards N`, checks that the N shards cover the listing,
// adopts their files into the run's datasets (without copying them), runs
// the batch stages over the whole batch and commits the run manifest. The
// committed datasets hold the same rows, in the same order, as a run in
// one process, and every batch stage's files are byte-identical to it.

// Shard is one slice of a many-worker run's input: shard Index (from 0)
// of Count.
type Shard struct {
	Index, Count int
}

// MaxShards bounds the shards of a run.
const MaxShards = 10000

// ParseShard parses "i/N" (shard i, from 0, of N).
func ParseShard(s string) (Shard, error) {
	is, ns, ok := strings.Cut(s, "/")
	i, err1 := strconv.Atoi(strings.TrimSpace(is))
	n, err2 := strconv.Atoi(strings.TrimSpace(ns))
	if !ok || err1 != nil || err2 != nil {
		return Shard{}, fmt.Errorf("shard %q: want i/N, shard i (from 0) of N", s)
	}
	sh := Shard{Index: i, Count: n}
	if err := sh.Validate(); err != nil {
		return Shard{}, err
	}
	return sh, nil
}

// Validate reports a shard outside 0 <= Index < Count <= MaxShards.
func (s Shard) Validate() error {
	if s.Count < 1 || s.Count > MaxShards {
		return fmt.Errorf("shard %s: the count must be 1..%d", s, MaxShards)
	}
	if s.Index < 0 || s.Index >= s.Count {
		return fmt.Errorf("shard %s: the index must be 0..%d", s, s.Count-1)
	}
	return nil
}

func (s Shard) String() string { return fmt.Sprintf("%d/%d", s.Index, s.Count) }

// dirName is the shard's directory name under runs/<run-id>/_shards/<fingerprint>/.
func (s Shard) dirName() string { return fmt.Sprintf("%d-of-%d", s.Index, s.Count) }

// ShardDir is the directory of a shard's outputs under the output:
// runs/<run-id>/_shards/<fingerprint>/<i>-of-<N>/. Readers of a
// directory skip "_" paths, so a run's shards are never read as data of
// their own, only through the run manifest that adopts them; the
// fingerprint keeps shards of another input (under a fixed run id) apart.
func ShardDir(runDir, fingerprint string, s Shard) string {
	return storage.Join(runDir, shardsRel(fingerprint, s))
}

// shardsRel is a shard's directory relative to its run's.
func shardsRel(fingerprint string, s Shard) string {
	return storage.Join("_shards", fingerprint, s.dirName())
}

func (ro RunOptions) validate() error {
	switch {
	case ro.Shard.Count > 0 && ro.Reduce > 0:
		return errors.New("--shard and --reduce are two steps of a many-worker run: give one")
	case ro.Shard.Count > 0:
		return ro.Shard.Validate()
	case ro.Reduce < 0 || ro.Reduce > MaxShards:
		return fmt.Errorf("reduce: the shard count must be 1..%d", MaxShards)
	case ro.Wait < 0 || (ro.Wait > 0 && ro.Reduce == 0):
		return errors.New("wait: only the reduce step waits for shards")
	}
	return nil
}

// shardFiles is shard s's slice of files: the files whose first byte
// falls in the shard's share of the listing's bytes, so that shards are
// contiguous and balanced by size (by count when every file is empty).
func shardFiles(files []columnar.SourceFile, s Shard) []columnar.SourceFile {
	var total int64
	for _, f := range files {
		total += f.Size
	}
	var out []columnar.SourceFile
	var offset int64
	for j, f := range files {
		var i int
		if total > 0 {
			// An empty file at the end starts at total: the last shard's.
			i = min(int(offset*int64(s.Count)/total), s.Count-1)
		} else {
			i = j * s.Count / len(files)
		}
		if i == s.Index {
			out = append(out, f)
		}
		offset += f.Size
	}
	return out
}

// runShard is the map step: the trajectory stages over this shard's
// files, committed under the shard's directory. A shard committed before
// for the same run is not run again.
func (p *runPlan) runShard(ctx context.Context, out storage.Bucket, ro RunOptions) (*Result, error) {
	sh := ro.Shard
	if err := p.pin(ctx, out, sh.Count); err != nil {
		return nil, fmt.Errorf("run %s shard %s: %w", p.runID, sh, err)
	}
	if err := p.writeListing(ctx, out, sh.Count); err != nil {
		return nil, fmt.Errorf("run %s shard %s: recording the listing: %w", p.runID, sh, err)
	}
	files := shardFiles(p.src.Files, sh)
	dir := ShardDir(p.runDir, p.fp, sh)
	what := fmt.Sprintf("run %s shard %s", p.runID, sh)
	key := storage.Join(dir, columnar.RunManifest)
	switch m, err := columnar.ReadManifest(ctx, out, key); {
	case err == nil && m.Kind == "shard" && m.Fingerprint == p.fp:
		// Committed before, and whole: nothing to run.
		ferr := filesPresent(ctx, out, dir, m)
		if ferr == nil {
			p.log.Info("shard already committed", "run_id", p.runID, "shard", sh.String(), "manifest", p.outLoc.Join(key).String())
			return &Result{RunDir: dir, Manifest: m, SkippedFiles: p.skipped, Shard: &sh, AlreadyCommitted: true}, nil
		}
		p.log.Warn("shard committed before but not whole: running it again", "shard", sh.String(), "error", ferr)
	case err != nil && !errors.Is(err, storage.ErrNotFound):
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	p.log.Info("shard starting", "run_id", p.runID, "shard", sh.String(), "files", len(files), "of_files", len(p.src.Files), "input", p.inLoc.String(), "output", p.outLoc.Join(dir).String(), "workers", p.cfg.Workers)
	c, err := columnar.NewCommitter(ctx, out, dir, columnar.RunManifest)
	if err != nil {
		return nil, err
	}
	a := p.newAttempt(c, dir, files)
	st, err := a.stream(ctx, ro.Progress)
	if err != nil {
		return a.fail(ctx, what, err)
	}
	m := &columnar.Manifest{Kind: "shard", Fingerprint: p.fp, Counters: st.counters, Stages: st.stages, Inputs: st.inputs,
		Shard: &columnar.ShardInfo{Index: sh.Index, Count: sh.Count}}
	m.Counters["files_read"] = int64(len(files))
	m.Config, _ = json.Marshal(p.cfg.Redacted())
	m.Warnings = a.warnings.List()
	m.Decisions = a.hooks.decisions
	if err := commit(ctx, c, m, p.runID, "run --shard", p.started, p.log, st.timings); err != nil {
		return a.fail(ctx, what, err)
	}
	res := &Result{RunDir: dir, Manifest: m, SkippedFiles: p.skipped, Shard: &sh}
	if err := a.hooks.run(ctx); err != nil {
		return res, fmt.Errorf("%s committed, but after the commit: %w", what, err)
	}
	p.log.Info("shard committed", "run_id", p.runID, "shard", sh.String(), "rows", m.Counters["rows_read"], "manifest", p.outLoc.Join(key).String())
	return res, nil
}

// ShardMerger is implemented by trajectory stages that write a dataset
// which is not the concatenation of its shards' (a cache keyed across
// trajectories, say): the reduce step gives it the shards' files of
// those datasets, in shard order, to write the run's dataset from,
// instead of adopting them.
type ShardMerger interface {
	// MergedDatasets names the datasets the stage merges.
	MergedDatasets() []string
	// MergeShards writes dataset on env from the shards' files.
	MergeShards(ctx context.Context, env *Env, dataset string, files []columnar.SourceFile) error
}

// ShardsMissingError is a reduce step that found shards not committed.
type ShardsMissingError struct {
	RunID   string
	Missing []Shard
	// Elsewhere lists shard directories of other runs (another input
	// listing or configuration) under the output, as a hint.
	Elsewhere []string
}

func (e *ShardsMissingError) Error() string {
	names := make([]string, len(e.Missing))
	for i, s := range e.Missing {
		names[i] = s.dirName()
	}
	msg := fmt.Sprintf("run %s: %d of %d shards are not committed (%s): run `atlas-learn run --shard i/%d` for each first, over the same input and configuration",
		e.RunID, len(e.Missing), e.Missing[0].Count, strings.Join(names, ", "), e.Missing[0].Count)
	if len(e.Elsewhere) > 0 {
		msg += fmt.Sprintf("; shards of other runs exist (%s): the input or the configuration changed since the map step", strings.Join(e.Elsewhere, ", "))
	}
	return msg
}

// waitShards reads the n shard manifests of the run, waiting up to wait
// for missing ones, and checks that they are this run's and cover its
// input files, in order.
func (p *runPlan) waitShards(ctx context.Context, out storage.Bucket, n int, wait time.Duration) ([]*columnar.Manifest, error) {
	deadline := time.Now().Add(wait)
	shards := make([]*columnar.Manifest, n)
	for {
		// The shards may have listed the input before files arrived.
		before := p.fp
		if err := p.pin(ctx, out, n); err != nil {
			return nil, err
		}
		if p.fp != before {
			clear(shards)
		}
		var missing []Shard
		for i := range n {
			if shards[i] != nil {
				continue
			}
			sh := Shard{Index: i, Count: n}
			key := storage.Join(ShardDir(p.runDir, p.fp, sh), columnar.RunManifest)
			m, err := columnar.ReadManifest(ctx, out, key)
			switch {
			case errors.Is(err, storage.ErrNotFound):
				missing = append(missing, sh)
				continue
			case err != nil:
				return nil, fmt.Errorf("shard %s: %w", sh, err)
			}
			if err := p.checkShard(m, sh); err != nil {
				return nil, fmt.Errorf("%s: %w", p.outLoc.Join(key), err)
			}
			shards[i] = m
		}
		if len(missing) == 0 {
			break
		}
		if !time.Now().Before(deadline) {
			return nil, &ShardsMissingError{RunID: p.runID, Missing: missing, Elsewhere: otherShardSets(ctx, out, p.runDir, p.fp)}
		}
		p.log.Info("waiting for shards", "run_id", p.runID, "missing", len(missing), "of", n)
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(min(5*time.Second, time.Until(deadline))):
		}
	}
	// Together the shards must have read exactly this run's files.
	var read []columnar.InputEntry
	for _, m := range shards {
		read = append(read, m.Inputs...)
	}
	if len(read) != len(p.src.Files) {
		return nil, fmt.Errorf("the %d shards read %d input files; the run's listing has %d", n, len(read), len(p.src.Files))
	}
	for i, f := range p.src.Files {
		if read[i].Path != f.Rel || read[i].Bytes != f.Size {
			return nil, fmt.Errorf("the shards read %s (%d bytes) where the run's listing has %s (%d bytes) at position %d", read[i].Path, read[i].Bytes, f.Rel, f.Size, i)
		}
	}
	return shards, nil
}

// checkShard reports a shard manifest that is not shard sh of this run.
func (p *runPlan) checkShard(m *columnar.Manifest, sh Shard) error {
	switch {
	case m.Kind != "shard" || m.Shard == nil:
		return fmt.Errorf("not a shard manifest (kind %q)", m.Kind)
	case m.Shard.Index != sh.Index || m.Shard.Count != sh.Count:
		return fmt.Errorf("the manifest says shard %d/%d, its directory %s", m.Shard.Index, m.Shard.Count, sh)
	case m.Fingerprint != p.fp:
		return fmt.Errorf("shard %s was written for fingerprint %s; this run's input and configuration give %s: the input or the configuration changed since the map step", sh, m.Fingerprint, p.fp)
	}
	ran := make([]string, len(m.Stages))
	for i, s := range m.Stages {
		ran[i] = s.Name
	}
	want := make([]string, len(p.traj))
	for i, st := range p.traj {
		want[i] = st.Name()
	}
	if !slices.Equal(ran, want) {
		return fmt.Errorf("shard %s ran stages %v; this run's trajectory stages are %v", sh, ran, want)
	}
	return nil
}

// otherShardSets lists, best effort, the shard sets under out other
// than this run's (runs/<id>/_shards/<fingerprint>/).
func otherShardSets(ctx context.Context, out storage.Bucket, runDir, fp string) []string {
	var found []string
	seen := map[string]bool{}
	enough := errors.New("enough")
	mine := storage.Join(runDir, "_shards", fp)
	_ = out.Iter(ctx, "runs/", func(o storage.ObjectInfo) error {
		k, ok := parseShardKey(o.Key)
		if !ok {
			return nil
		}
		set := k.set()
		if seen[set] || set == mine {
			return nil
		}
		seen[set] = true
		found = append(found, set)
		if len(found) == 5 {
			return enough
		}
		return nil
	})
	slices.Sort(found)
	return found
}

// shardKey is a key under a shard set: runs/<run>/_shards/<fp>/<rest>.
type shardKey struct {
	run, fp string
	rest    []string
}

func (k shardKey) set() string { return storage.Join("runs", k.run, "_shards", k.fp) }

func parseShardKey(key string) (shardKey, bool) {
	parts := strings.Split(key, "/")
	if len(parts) < 5 || parts[0] != "runs" || parts[2] != "_shards" {
		return shardKey{}, false
	}
	return shardKey{run: parts[1], fp: parts[3], rest: parts[4:]}, true
}

// filesPresent reports a file a committed manifest under dir names that
// is missing or of another size.
func filesPresent(ctx context.Context, b storage.Bucket, dir string, m *columnar.Manifest) error {
	for _, d := range m.Datasets {
		for _, f := range d.Files {
			info, err := b.Stat(ctx, storage.Join(dir, f.Path))
			if err != nil {
				return fmt.Errorf("%s: %w", f.Path, err)
			}
			if info.Size != f.Bytes {
				return fmt.Errorf("%s: %d bytes, the manifest says %d", f.Path, info.Size, f.Bytes)
			}
		}
	}
	return nil
}

// adopt makes the shards' committed files the run's datasets, and sums
// what their trajectory stages counted: the reduce step's stand-in for
// the stream.
func (a *attempt) adopt(ctx context.Context, shards []*columnar.Manifest) (*streamed, error) {
	merged := map[string]ShardMerger{}
	mergedBy := map[string]string{}
	for _, st := range a.p.traj {
		if m, ok := st.(ShardMerger); ok {
			for _, d := range m.MergedDatasets() {
				merged[d], mergedBy[d] = m, st.Name()
			}
		}
	}
	toMerge := map[string][]columnar.SourceFile{}
	type pending struct {
		info   columnar.DatasetInfo
		format string
		files  [][]columnar.FileEntry // by shard: those with rows
		empty  []columnar.FileEntry   // shard 0's files, kept when no shard has rows
	}
	var order []string
	datasets := map[string]*pending{}
	out := &streamed{counters: map[string]int64{}}
	for i, m := range shards {
		prefix := shardsRel(m.Fingerprint, Shard{Index: i, Count: len(shards)})
		for _, d := range m.Datasets {
			if _, ok := merged[d.Name]; ok {
				for _, f := range d.Files {
					rel := storage.Join(prefix, f.Path)
					toMerge[d.Name] = append(toMerge[d.Name], columnar.SourceFile{Key: storage.Join(a.dir, rel), Rel: rel, Size: f.Bytes,
						Format: d.Format, Partition: f.Partition, ContentID: "sha256:" + f.SHA256})
				}
				continue
			}
			pd := datasets[d.Name]
			info := columnar.DatasetInfo{Name: d.Name, Schema: d.SchemaOf(), Stage: d.Stage}
			if pd == nil {
				pd = &pending{info: info, format: d.Format}
				datasets[d.Name] = pd
				order = append(order, d.Name)
			} else if pd.info != info || pd.format != d.Format {
				return nil, fmt.Errorf("shard %d: dataset %s is %s %s, shard 0's is %s %s", i, d.Name, d.Format, info.Schema, pd.format, pd.info.Schema)
			}
			var withRows []columnar.FileEntry
			for _, f := range d.Files {
				f.Path = storage.Join(prefix, f.Path)
				switch {
				case f.Rows > 0:
					withRows = append(withRows, f)
				case i == 0:
					pd.empty = append(pd.empty, f)
				}
			}
			pd.files = append(pd.files, withRows)
		}
		for k, v := range m.Counters {
			if k != "files_read" {
				out.counters[k] += v
			}
		}
		out.inputs = append(out.inputs, m.Inputs...)
		for _, w := range m.Warnings {
			a.warnings.add(w)
		}
		for j, s := range m.Stages {
			if i == 0 {
				out.stages = append(out.stages, columnar.StageEntry{Name: s.Name, Kind: s.Kind, Datasets: s.Datasets, Counters: map[string]int64{}})
				out.timings = append(out.timings, columnar.StageTiming{Name: s.Name, Counters: map[string]int64{}})
			}
			for k, v := range s.Counters {
				out.stages[j].Counters[k] += v
			}
		}
		for j, t := range m.Run.Stages {
			if j < len(out.timings) && t.Name == out.timings[j].Name {
				// The shards ran side by side: the map took the longest.
				out.timings[j].ElapsedMS = max(out.timings[j].ElapsedMS, t.ElapsedMS)
				for k, v := range t.Counters {
					out.timings[j].Counters[k] += v
				}
			}
		}
	}
	// Shard by shard, so that each partition reads shard 0's files, then
	// shard 1's, ...: the order one process writes them in.
	for _, name := range order {
		pd := datasets[name]
		adopted := false
		for _, files := range pd.files {
			if len(files) == 0 {
				continue
			}
			adopted = true
			if err := a.c.Adopt(pd.info, pd.format, files); err != nil {
				return nil, err
			}
		}
		if !adopted {
			if err := a.c.Adopt(pd.info, pd.format, pd.empty); err != nil {
				return nil, err
			}
		}
	}
	names := make([]string, 0, len(toMerge))
	for name := range toMerge {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		env, _ := a.env(mergedBy[name])
		if err := merged[name].MergeShards(ctx, env, name, toMerge[name]); err != nil {
			return nil, fmt.Errorf("stage %s: merging the shards' %s: %w", mergedBy[name], name, err)
		}
	}
	for j := range out.timings {
		if len(out.timings[j].Counters) == 0 {
			out.timings[j].Counters = nil
		}
	}
	return out, nil
}
