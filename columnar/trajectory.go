// Package columnar holds ATLAS's canonical trajectory model, its versioned
// Parquet schema, streaming Parquet and JSONL readers and writers, and the
// atomic dataset manifests that make an output visible to readers.
//
// Storage itself lives in the sub-package columnar/storage.
package columnar

import (
	"encoding/json"
	"fmt"
	"time"
)

// SchemaVersion is the version of the trajectory schema this build writes and
// reads. A file whose schema_version column holds another value is rejected
// with a *SchemaVersionError.
const SchemaVersion int32 = 1

// Trajectory is one agent run: a task, the steps the agent took and how it
// ended. It is the row type of the canonical trajectory dataset, in Parquet
// and in the native JSONL form alike.
type Trajectory struct {
	SchemaVersion int32             `parquet:"schema_version" json:"schema_version"`
	TrajectoryID  string            `parquet:"trajectory_id" json:"trajectory_id"`
	Task          Task              `parquet:"task" json:"task"`
	Agent         Agent             `parquet:"agent" json:"agent"`
	Steps         []Step            `parquet:"steps,list" json:"steps"`
	Outcome       Outcome           `parquet:"outcome" json:"outcome"`
	Solution      Solution          `parquet:"solution" json:"solution"`
	CreatedAt     time.Time         `parquet:"created_at,timestamp(millisecond)" json:"created_at"`
	Metadata      map[string]string `parquet:"metadata" json:"metadata,omitempty"`
	// Extra holds, as a JSON object, every field of the source record that
	// has no column of its own, so that importing never drops data. Texts
	// it repeats from the columns may be references to them (see
	// ShareExtraText); ExpandExtra gives the fields back whole.
	Extra json.RawMessage `parquet:"extra,json" json:"extra,omitempty"`
}

// Task is what the agent was asked to do.
type Task struct {
	ID          string `parquet:"id" json:"id"`
	Description string `parquet:"description" json:"description"`
	Domain      string `parquet:"domain" json:"domain"`
	// Input is the task's structured input (for example input/output
	// examples) as JSON text; empty when the task has none.
	Input string `parquet:"input" json:"input,omitempty"`
}

// Agent names the agent and the model behind it.
type Agent struct {
	Name  string `parquet:"name" json:"name"`
	Model string `parquet:"model" json:"model"`
}

// Step is one thought-action-observation turn.
type Step struct {
	Index       int32   `parquet:"index" json:"index"`
	Thought     string  `parquet:"thought" json:"thought,omitempty"`
	Action      string  `parquet:"action" json:"action,omitempty"`
	ActionType  string  `parquet:"action_type" json:"action_type,omitempty"`
	Observation string  `parquet:"observation" json:"observation,omitempty"`
	Code        string  `parquet:"code" json:"code,omitempty"`
	IsError     bool    `parquet:"is_error" json:"is_error"`
	Reward      float64 `parquet:"reward" json:"reward"`
}

// Outcome is how the run ended.
type Outcome struct {
	Success    bool    `parquet:"success" json:"success"`
	Reward     float64 `parquet:"reward" json:"reward"`
	ExitStatus string  `parquet:"exit_status" json:"exit_status,omitempty"`
	ErrorInfo  string  `parquet:"error_info" json:"error_info,omitempty"`
}

// Solution is the final artefact of the run, usually code.
type Solution struct {
	Code     string `parquet:"code" json:"code,omitempty"`
	Language string `parquet:"language" json:"language,omitempty"`
}

// Validate checks the invariants every stored trajectory must hold. The
// error names the field at fault.
func (t *Trajectory) Validate() error {
	if t.SchemaVersion != SchemaVersion {
		return &SchemaVersionError{Got: t.SchemaVersion, Want: SchemaVersion}
	}
	if t.TrajectoryID == "" {
		return fmt.Errorf("field trajectory_id: empty")
	}
	if t.CreatedAt.Before(minCreatedAt) || !t.CreatedAt.Before(maxCreatedAt) {
		return fmt.Errorf("field created_at: %s is outside %s..%s", t.CreatedAt.Format(time.RFC3339), minCreatedAt.Format("2006-01-02"), maxCreatedAt.Format("2006-01-02"))
	}
	for i, s := range t.Steps {
		if int(s.Index) != i {
			return fmt.Errorf("field steps[%d].index: got %d, want %d", i, s.Index, i)
		}
	}
	if len(t.Extra) > 0 && !json.Valid(t.Extra) {
		return fmt.Errorf("field extra: not valid JSON")
	}
	if t.Task.Input != "" && !json.Valid([]byte(t.Task.Input)) {
		return fmt.Errorf("field task.input: not valid JSON")
	}
	return nil
}

// emptyExtra is extra for a trajectory with no source fields of its own.
const emptyExtra = "{}"

// The range of created_at: from the Unix epoch (the value for "unknown")
// to the end of Parquet's nanosecond timestamps, which readers may convert
// to.
var (
	minCreatedAt = time.Unix(0, 0).UTC()
	maxCreatedAt = time.Date(2262, 4, 11, 0, 0, 0, 0, time.UTC)
)

// Normalize puts t in the canonical form every writer stores: created_at
// in UTC at millisecond precision, the Unix epoch when unknown (zero), the
// schema version set when missing, every string valid UTF-8 (see
// SanitizeUTF8), and an empty extra written as the empty object {} (the
// column is JSON: readers such as DuckDB reject a file holding an empty
// string there). Reading a normalized trajectory back from Parquet or JSONL
// gives it unchanged.
func (t *Trajectory) Normalize() {
	t.SanitizeUTF8()
	if len(t.Extra) == 0 {
		t.Extra = json.RawMessage(emptyExtra)
	}
	if t.SchemaVersion == 0 {
		t.SchemaVersion = SchemaVersion
	}
	if t.CreatedAt.IsZero() {
		t.CreatedAt = minCreatedAt
	}
	t.CreatedAt = t.CreatedAt.UTC().Truncate(time.Millisecond)
}

// SchemaVersionError reports a record or file written with a schema version
// this build does not read.
type SchemaVersionError struct {
	Got, Want int32
}

func (e *SchemaVersionError) Error() string {
	return fmt.Sprintf("field schema_version: got %d, this build reads %d", e.Got, e.Want)
}
