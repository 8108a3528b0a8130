package columnar

import (
	"fmt"
	"strconv"
)

// Schema names the row type of a dataset and its version. Every Parquet
// file of a dataset records both in its footer (SchemaKey and
// SchemaVersionKey), and every manifest entry names them, so that a reader
// can reject a file of another dataset or version with an error rather
// than read it as zero values. Bump a schema's Version whenever a column
// is removed, renamed or changes type; adding columns keeps it.
type Schema struct {
	// Name is the schema's name ("trajectory", "concept", ...).
	Name string `json:"name"`
	// Version is the schema's version, from 1.
	Version int32 `json:"version"`
}

// Footer keys of the schema in every Parquet file ATLAS writes.
const (
	// SchemaKey holds Schema.Name. Files written before schemas were named
	// lack it; they are trajectory files.
	SchemaKey = "atlas.schema"
	// SchemaVersionKey holds Schema.Version.
	SchemaVersionKey = "atlas.schema_version"
)

// TrajectorySchema is the schema of the canonical trajectory dataset.
var TrajectorySchema = Schema{Name: "trajectory", Version: SchemaVersion}

// String is "name/vN".
func (s Schema) String() string { return s.Name + "/v" + strconv.Itoa(int(s.Version)) }

// IsZero tells an unset schema.
func (s Schema) IsZero() bool { return s.Name == "" && s.Version == 0 }

// Validate reports an incomplete schema.
func (s Schema) Validate() error {
	if s.Name == "" {
		return fmt.Errorf("schema: empty name")
	}
	if s.Version < 1 {
		return fmt.Errorf("schema %q: version must be at least 1, got %d", s.Name, s.Version)
	}
	return nil
}

// orTrajectory is s, or TrajectorySchema when s is unset: readers that
// name no schema read trajectories or projections of them.
func (s Schema) orTrajectory() Schema {
	if s.IsZero() {
		return TrajectorySchema
	}
	return s
}

// SchemaError reports a file or manifest entry of another schema than the
// one expected.
type SchemaError struct {
	Got, Want Schema
}

func (e *SchemaError) Error() string {
	if e.Got.Name != e.Want.Name {
		return fmt.Sprintf("schema %s, want %s: not a file of this dataset", e.Got, e.Want)
	}
	return fmt.Sprintf("schema %s, this build reads %s", e.Got, e.Want)
}

// checkSchema compares the schema a file or entry records with want;
// a missing name (files and manifests written before schemas were named)
// means the trajectory schema.
func checkSchema(name string, version int32, want Schema) error {
	if name == "" {
		name = TrajectorySchema.Name
	}
	got := Schema{Name: name, Version: version}
	if got != want {
		if got.Name == TrajectorySchema.Name && want.Name == TrajectorySchema.Name {
			return &SchemaVersionError{Got: version, Want: want.Version}
		}
		return &SchemaError{Got: got, Want: want}
	}
	return nil
}
