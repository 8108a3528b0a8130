package jobs

import (
	"fmt"

	"github.com/atlas-ai/atlas-learn/columnar/importer"
)

// ImportConfig configures import.
type ImportConfig struct {
	// Map is the Parquet mapping of import --from parquet (--map): a
	// built-in name (chat, swe-smith, nebius) or a YAML mapping file;
	// empty is chat.
	Map string `yaml:"map" json:"map"`
	// Partition is how an import lays out its part files: "none" (the
	// default) writes them side by side, in input order; "day" puts them
	// in dt=YYYY-MM-DD/ directories by the UTC day of created_at (rows
	// without a timestamp stay outside them).
	Partition string `yaml:"partition" json:"partition"`
}

// Import partition layouts (ImportConfig.Partition).
const (
	ImportPartitionNone = "none"
	ImportPartitionDay  = "day"
)

// Validate reports an unknown partition layout.
func (c ImportConfig) Validate() error {
	switch c.Partition {
	case "", ImportPartitionNone, ImportPartitionDay:
		return nil
	}
	return fmt.Errorf("partition: want none or day, got %q", c.Partition)
}

// importMapping resolves ImportOptions.Map: the Parquet mapping of an
// import --from parquet or auto (the built-in "chat" when Map is empty),
// nil for other formats. Map with another format is an error.
func importMapping(opts ImportOptions) (*importer.ParquetMapping, error) {
	if opts.Format != string(importer.Parquet) && opts.Format != importer.Auto {
		if opts.Map != "" {
			return nil, fmt.Errorf("--map %s: only --from parquet reads a mapping, not --from %s", opts.Map, opts.Format)
		}
		return nil, nil
	}
	m, err := importer.LoadParquetMapping(opts.Map)
	if err != nil {
		return nil, fmt.Errorf("--map: %w", err)
	}
	return &m, nil
}
