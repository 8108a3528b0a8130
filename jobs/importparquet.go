package jobs

import (
	"fmt"

	"github.com/atlas-ai/atlas-learn/columnar/importer"
)

// importMapping resolves ImportOptions.Map: the Parquet mapping of an
// import --from parquet (the built-in "chat" when Map is empty), nil for
// other formats. Map with another format is an error.
func importMapping(opts ImportOptions) (*importer.ParquetMapping, error) {
	if opts.Format != string(importer.Parquet) {
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
