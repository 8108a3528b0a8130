package columnar

import (
	"strings"

	"github.com/parquet-go/parquet-go"
)

// Statistics policy.
//
// parquet-go records min/max statistics as whole values, never truncated, in
// three places: in every data page header (twice: the deprecated min/max and
// min_value/max_value), in each column chunk's metadata in the footer, and in
// the column index (the page index, which it truncates to 16 bytes). For the
// free-text columns of a trajectory — step texts, the task description,
// solution code, extra — a value can be megabytes long, so a single row's
// text was stored up to six more times, uncompressed: a 7.9 MB SWE-agent
// file became 33.7 MB of Parquet with an 11 MB footer, and a page header over
// parquet-cpp's 16 MB page-header limit made pyarrow reject the file
// ("Deserializing page header failed"). Written one trajectory per file the
// statistics also dominated the file size (several times the input).
//
// The writer therefore:
//
//   - writes no statistics in data page headers (DataPageStatistics(false)),
//     for every column: page headers then hold sizes and encodings only and
//     stay a few dozen bytes whatever the values. Readers that prune pages use
//     the column index, which holds the same bounds.
//   - keeps min/max statistics (footer and column index) for the short,
//     bounded columns that readers filter on — identifiers, labels, the
//     numeric and boolean columns — listed in statsColumns;
//   - drops min/max statistics of every other byte-array column
//     (SkipPageBounds): the footer then holds no text at all, and its size
//     depends on the number of row groups and columns only. Null counts are
//     still written.
//
// parquet-go v0.32 offers no way to truncate the footer's statistics (only
// the column index's), so dropping them is the only bounded choice. Its
// SkipPageBounds leaves empty ("") min/max entries in those columns' column
// index; readers that prune pages with the column index (parquet-java with
// column-index filtering, Trino) should not push predicates on the free-text
// columns down to these files. pyarrow and DuckDB do not use the column index
// and read the files whole.

// statsColumns are the byte-array columns of Trajectory that keep min/max
// statistics: short identifiers and labels, bounded in practice, that a
// reader may filter on. Every other byte-array column of the written type is
// written without them.
var statsColumns = map[string]bool{
	"trajectory_id":                  true,
	"task.id":                        true,
	"task.domain":                    true,
	"agent.name":                     true,
	"agent.model":                    true,
	"steps.list.element.action_type": true,
	"outcome.exit_status":            true,
	"solution.language":              true,
	"metadata.key_value.key":         true,
}

// statisticsOptions returns the writer options of the statistics policy
// above for rows of type T.
func statisticsOptions[T any]() []parquet.WriterOption {
	opts := []parquet.WriterOption{parquet.DataPageStatistics(false)}
	schema := parquet.SchemaOf(new(T))
	for _, path := range schema.Columns() {
		leaf, ok := schema.Lookup(path...)
		if !ok || leaf.Node.Type().Kind() != parquet.ByteArray || statsColumns[strings.Join(path, ".")] {
			continue
		}
		opts = append(opts, parquet.SkipPageBounds(path...))
	}
	return opts
}
