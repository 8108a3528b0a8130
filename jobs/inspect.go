package jobs

import (
	"context"
	"fmt"
	"sort"

	"github.com/atlas-ai/atlas-learn/columnar"
	"github.com/atlas-ai/atlas-learn/columnar/storage"
)

// Inspection summarises a trajectory dataset.
type Inspection struct {
	Location      string   `json:"location"`
	SchemaVersion int32    `json:"schema_version"`
	HasManifest   bool     `json:"has_manifest"`
	Files         int      `json:"files"`
	Bytes         int64    `json:"bytes"`
	Partitions    []string `json:"partitions"`
	Rows          int64    `json:"rows"`
	Successes     int64    `json:"successes"`
	Failures      int64    `json:"failures"`
	SuccessRate   float64  `json:"success_rate"`
	Steps         int64    `json:"steps"`
}

// inspectRow is the projection inspect reads: no step content is decoded.
type inspectRow struct {
	SchemaVersion int32            `parquet:"schema_version" json:"schema_version"`
	Outcome       columnar.Outcome `parquet:"outcome" json:"outcome"`
	Steps         []struct {
		Index int32 `parquet:"index" json:"index"`
	} `parquet:"steps,list" json:"steps"`
}

// Inspect reads the outcomes of every trajectory under uri.
func Inspect(ctx context.Context, uri string, s3 storage.S3Config) (*Inspection, error) {
	b, root, err := storage.OpenInput(ctx, uri, s3)
	if err != nil {
		return nil, err
	}
	defer b.Close()
	src, err := columnar.OpenSource(ctx, b, root)
	if err != nil {
		return nil, err
	}
	in := &Inspection{Location: storage.Redact(uri), SchemaVersion: columnar.SchemaVersion, HasManifest: src.Manifest != nil, Files: len(src.Files), Partitions: []string{}}
	parts := map[string]bool{}
	for _, f := range src.Files {
		in.Bytes += f.Size
		if f.Partition != "" {
			parts[f.Partition] = true
		}
		_, err := columnar.ScanFile(ctx, b, f, columnar.ReadOptions{}, columnar.OnErrorFail, nil, func(r *inspectRow, pos columnar.Position) error {
			if r.SchemaVersion != columnar.SchemaVersion {
				return &columnar.RecordError{File: pos.File, Row: pos.Row, Line: pos.Line, Err: &columnar.SchemaVersionError{Got: r.SchemaVersion, Want: columnar.SchemaVersion}}
			}
			in.Rows++
			in.Steps += int64(len(r.Steps))
			if r.Outcome.Success {
				in.Successes++
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	// Files without records check nothing: a cancelled context must not
	// look like an empty dataset.
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("inspect: %w", err)
	}
	for p := range parts {
		in.Partitions = append(in.Partitions, p)
	}
	sort.Strings(in.Partitions)
	in.Failures = in.Rows - in.Successes
	if in.Rows > 0 {
		in.SuccessRate = float64(in.Successes) / float64(in.Rows)
	}
	return in, nil
}
