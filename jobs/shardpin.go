package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/atlas-ai/atlas-learn/columnar"
	"github.com/atlas-ai/atlas-learn/columnar/storage"
)

// The processes of a many-worker run list the input each on its own, at
// different moments (a pod retried an hour later, a reduce waiting for
// the shards). So that files arriving in between do not split them into
// different runs, the first shard to start writes its listing beside the
// shards (listing.json), and every later process pins itself to an
// unfinished shard set of the same shard count whose listing is still
// part of its own and gives, with its configuration, the set's
// fingerprint. Files that arrived since are left to the next run.

// ShardListingFormat identifies a shard set's listing.json.
const ShardListingFormat = "atlas-learn/shard-listing"

const shardListingName = "listing.json"

type shardListing struct {
	Format      string         `json:"format"`
	Fingerprint string         `json:"fingerprint"`
	Count       int            `json:"count"`
	Files       []listedSource `json:"files"`
}

type listedSource struct {
	Path      string `json:"path"`
	Bytes     int64  `json:"bytes"`
	ContentID string `json:"content_id"`
}

// writeListing records the set's listing, once.
func (p *runPlan) writeListing(ctx context.Context, out storage.Bucket, n int) error {
	key := storage.Join(p.runDir, "_shards", p.fp, shardListingName)
	if ok, err := storage.Exists(ctx, out, key); err != nil || ok {
		return err
	}
	l := shardListing{Format: ShardListingFormat, Fingerprint: p.fp, Count: n}
	for _, f := range p.src.Files {
		l.Files = append(l.Files, listedSource{Path: f.Rel, Bytes: f.Size, ContentID: f.ContentID})
	}
	data, err := json.Marshal(l)
	if err != nil {
		return err
	}
	return storage.Put(ctx, out, key, append(data, '\n'))
}

// reproduces returns the files of the shard set k (of run runID,
// fingerprint fp) when it is unfinished and this process's listing
// (have) and configuration reproduce it, and nil otherwise. A reduce
// polling for shards asks again and again: the answer for a set is kept.
func (p *runPlan) reproduces(ctx context.Context, out storage.Bucket, k, runID, fp string, n int, have map[string]columnar.SourceFile) ([]columnar.SourceFile, error) {
	if files, ok := p.pinEvals[k]; ok {
		return files, nil
	}
	data, err := storage.Get(ctx, out, storage.Join(k, shardListingName))
	if err != nil {
		return nil, nil // not kept: a failed read may succeed at the next poll
	}
	files, err := func() ([]columnar.SourceFile, error) {
		var l shardListing
		if json.Unmarshal(data, &l) != nil || l.Format != ShardListingFormat || l.Count != n || l.Fingerprint != fp {
			return nil, nil
		}
		files := make([]columnar.SourceFile, 0, len(l.Files))
		for _, lf := range l.Files {
			f, found := have[lf.Path]
			if !found || f.Size != lf.Bytes || f.ContentID != lf.ContentID {
				return nil, nil
			}
			files = append(files, f)
		}
		// Reduced already: not unfinished.
		m, err := columnar.ReadManifest(ctx, out, storage.Join("runs", runID, columnar.RunManifest))
		switch {
		case err == nil && m.Fingerprint == fp && m.Run.Shards == n:
			return nil, nil
		case err != nil && !errors.Is(err, storage.ErrNotFound):
			return nil, err
		}
		src := *p.src
		src.Files = files
		got, err := runFingerprint(ctx, p.cfg, &src, p.traj, p.batch)
		if err != nil || got != fp {
			return nil, err // another configuration when got != fp
		}
		return files, nil
	}()
	if err != nil {
		return nil, err
	}
	if p.pinEvals == nil {
		p.pinEvals = map[string][]columnar.SourceFile{}
	}
	p.pinEvals[k] = files
	return files, nil
}

// pin moves the plan onto an unfinished shard set of n shards that this
// process's listing and configuration can reproduce, when there is one
// other than the plan's own: the one with the most shards committed (then
// the smallest fingerprint).
func (p *runPlan) pin(ctx context.Context, out storage.Bucket, n int) error {
	type set struct {
		runID, fp string
		listing   bool
		committed int
	}
	sets := map[string]*set{}
	suffix := fmt.Sprintf("-of-%d", n)
	err := out.Iter(ctx, "runs/", func(o storage.ObjectInfo) error {
		sk, ok := parseShardKey(o.Key)
		if !ok {
			return nil
		}
		k := sk.set()
		s := sets[k]
		if s == nil {
			s = &set{runID: sk.run, fp: sk.fp}
			sets[k] = s
		}
		switch r := sk.rest; {
		case len(r) == 1 && r[0] == shardListingName:
			s.listing = true
		case len(r) == 2 && strings.HasSuffix(r[0], suffix) && r[1] == columnar.RunManifest:
			s.committed++
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("listing the shard sets: %w", err)
	}
	have := map[string]columnar.SourceFile{}
	for _, f := range p.src.Files {
		have[f.Rel] = f
	}
	var best *set
	var bestFiles []columnar.SourceFile
	keys := make([]string, 0, len(sets))
	for k := range sets {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		s := sets[k]
		if !s.listing || s.fp == p.fp || (p.cfg.RunID != "" && s.runID != p.cfg.RunID) {
			continue
		}
		files, err := p.reproduces(ctx, out, k, s.runID, s.fp, n, have)
		if err != nil {
			return err
		}
		if files == nil {
			continue
		}
		if best == nil || s.committed > best.committed {
			best, bestFiles = s, files
		}
	}
	if best == nil {
		return nil
	}
	p.log.Info("pinned to the listing of an unfinished shard set; files that arrived since are left to the next run",
		"run_id", best.runID, "fingerprint", best.fp, "shards_committed", best.committed, "of", n, "files", len(bestFiles), "files_left", len(p.src.Files)-len(bestFiles))
	p.src.Files, p.fp = bestFiles, best.fp
	if p.cfg.RunID == "" {
		p.runID = "run-" + best.fp
	}
	p.runDir = storage.Join("runs", p.runID)
	return nil
}
