package jobs_test

import (
	"context"
	"fmt"
	"maps"
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	"github.com/atlas-ai/atlas-learn/columnar"
	"github.com/atlas-ai/atlas-learn/columnar/storage"
	"github.com/atlas-ai/atlas-learn/internal/s3test"
	"github.com/atlas-ai/atlas-learn/internal/trajgen"
	"github.com/atlas-ai/atlas-learn/jobs"
)

func TestGenDeterministicAcrossWorkers(t *testing.T) {
	gc := trajgen.DefaultConfig()
	gc.N = 6000
	cfg := config(t, "unused", "unused")
	cfg.Parquet.RowsPerFile = 2500
	type output struct {
		workers int
		files   map[string][]byte
		m       *columnar.Manifest
	}
	var outs []output
	for _, w := range []int{1, 3} {
		out := t.TempDir()
		m, err := jobs.Gen(context.Background(), jobs.GenOptions{Gen: gc, Output: out, Workers: w, Parquet: cfg.Parquet}, quiet())
		if err != nil {
			t.Fatal(err)
		}
		if len(m.Datasets) != 1 || m.Datasets[0].Rows != 6000 {
			t.Fatalf("%d workers: datasets %+v, want one of 6000 rows", w, m.Datasets)
		}
		files := dataFiles(t, out)
		if _, ok := files[columnar.DatasetManifest]; !ok {
			t.Fatalf("%d workers: no %s in %v", w, columnar.DatasetManifest, slices.Sorted(maps.Keys(files)))
		}
		// The manifest holds run-time fields; it is compared below
		// without them.
		delete(files, columnar.DatasetManifest)
		// 6000 rows at 2500 per file.
		if len(files) != 3 {
			t.Fatalf("%d workers: %d data files %v, want 3", w, len(files), slices.Sorted(maps.Keys(files)))
		}
		var listed []string
		for _, f := range m.Datasets[0].Files {
			listed = append(listed, filepath.FromSlash(f.Path))
		}
		slices.Sort(listed)
		if got := slices.Sorted(maps.Keys(files)); !slices.Equal(got, listed) {
			t.Fatalf("%d workers: files on disk %v, manifest lists %v", w, got, listed)
		}
		outs = append(outs, output{w, files, m})
	}
	a, b := outs[0], outs[1]
	sameFiles(t, fmt.Sprintf("%d and %d workers", a.workers, b.workers), a.files, b.files)
	if !reflect.DeepEqual(a.m.Datasets, b.m.Datasets) || !reflect.DeepEqual(a.m.Counters, b.m.Counters) || a.m.Fingerprint != b.m.Fingerprint {
		t.Errorf("manifests differ between %d and %d workers:\n%+v %v %s\n%+v %v %s", a.workers, b.workers,
			a.m.Datasets, a.m.Counters, a.m.Fingerprint, b.m.Datasets, b.m.Counters, b.m.Fingerprint)
	}
}

// TestGenRunS3 is the nightly path end to end on a real S3 server:
// generate into a bucket, run over it into another, inspect the run.
func TestGenRunS3(t *testing.T) {
	srv := s3test.Start(t)
	srv.CreateBucket(t, "gen")
	srv.CreateBucket(t, "atlas")
	ctx := s3test.WaitCtx(t)
	s3cfg := storage.S3Config{Endpoint: srv.Endpoint, PathStyle: true, PartSizeMiB: 5}
	gc := trajgen.DefaultConfig()
	gc.N = 20000
	cfg := config(t, "s3://gen/data", "s3://atlas/out")
	cfg.S3 = s3cfg
	if _, err := jobs.Gen(ctx, jobs.GenOptions{Gen: gc, Output: "s3://gen/data", Workers: 2, S3: s3cfg, Parquet: cfg.Parquet}, quiet()); err != nil {
		t.Fatal(err)
	}
	gi, err := jobs.Inspect(ctx, "s3://gen/data", s3cfg)
	if err != nil || gi.Rows != 20000 || !gi.HasManifest {
		t.Fatalf("inspect gen = %+v, %v", gi, err)
	}
	res, err := jobs.Run(ctx, cfg, quiet())
	if err != nil {
		t.Fatal(err)
	}
	ri, err := jobs.Inspect(ctx, "s3://atlas/out/"+res.RunDir, s3cfg)
	if err != nil || ri.Rows != gi.Rows || ri.Successes != gi.Successes {
		t.Fatalf("inspect run = %+v, %v (gen %+v)", ri, err, gi)
	}
}
