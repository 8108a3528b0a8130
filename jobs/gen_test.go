package jobs_test

import (
	"bytes"
	"context"
	"testing"

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
	var outs []map[string][]byte
	for _, w := range []int{1, 3} {
		out := t.TempDir()
		m, err := jobs.Gen(context.Background(), jobs.GenOptions{Gen: gc, Output: out, Workers: w, Parquet: cfg.Parquet}, quiet())
		if err != nil {
			t.Fatal(err)
		}
		if m.Datasets[0].Rows != 6000 {
			t.Fatalf("rows = %d", m.Datasets[0].Rows)
		}
		files := dataFiles(t, out)
		delete(files, "_manifest.json")
		outs = append(outs, files)
	}
	if len(outs[0]) != 3 {
		t.Fatalf("%d files, want 3", len(outs[0]))
	}
	for p, d := range outs[0] {
		if !bytes.Equal(outs[1][p], d) {
			t.Fatalf("%s differs between 1 and 3 workers", p)
		}
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
