package jobs

import (
	"context"

	"github.com/atlas-ai/atlas-learn/columnar"
	"github.com/atlas-ai/atlas-learn/columnar/storage"
)

// scanParquet streams the rows of the Parquet files among files (JSONL
// copies beside them are skipped: they hold the same rows) into fn; the
// files must be of schema. T is the row type or a projection of it.
func scanParquet[T any](ctx context.Context, b storage.BucketReader, files []columnar.SourceFile, schema columnar.Schema, fn func(*T) error) error {
	for _, f := range files {
		if f.Format != "parquet" {
			continue
		}
		if _, err := columnar.ScanFile(ctx, b, f, columnar.ReadOptions{Schema: schema}, columnar.OnErrorFail, nil,
			func(r *T, _ columnar.Position) error { return fn(r) }); err != nil {
			return err
		}
	}
	return nil
}

// openCommitted opens the committed dataset at uri: a run (its directory,
// whose manifest names the dataset) or the dataset's own directory. The
// caller closes the bucket.
func openCommitted(ctx context.Context, uri string, s3 storage.S3Config, dataset string, schema columnar.Schema) (storage.Bucket, *columnar.Source, error) {
	loc, err := storage.ParseLocation(uri, s3)
	if err != nil {
		return nil, nil, err
	}
	b, root, err := loc.OpenReader(ctx)
	if err != nil {
		return nil, nil, err
	}
	src, err := columnar.OpenDataset(ctx, b, root, dataset, schema)
	if err != nil {
		b.Close()
		return nil, nil, err
	}
	return b, src, nil
}

// readCommitted streams the rows of the committed dataset at uri into fn.
func readCommitted[T any](ctx context.Context, uri string, s3 storage.S3Config, dataset string, schema columnar.Schema, fn func(*T) error) error {
	b, src, err := openCommitted(ctx, uri, s3, dataset, schema)
	if err != nil {
		return err
	}
	defer b.Close()
	return scanParquet(ctx, b, src.Files, schema, fn)
}

// ReadDataset streams the rows of the committed dataset at uri (a run or
// memory version directory, whose manifest names the dataset, or the
// dataset's own directory) into fn; T is the row type or a projection.
func ReadDataset[T any](ctx context.Context, uri string, s3 storage.S3Config, dataset string, schema columnar.Schema, fn func(*T) error) error {
	return readCommitted(ctx, uri, s3, dataset, schema, fn)
}
