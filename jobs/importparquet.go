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
