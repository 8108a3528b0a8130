package memory

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"
)

// Experience is one trajectory of the experience memory: what the agent
// was asked, how it went, the steps that mattered and the solution. The
// memory holds each trajectory once: a trajectory id seen before with the
// same content hash is not stored again; with another content (a
// re-import of a changed run) it replaces the old row.
type Experience struct {
	TrajectoryID string `parquet:"trajectory_id" json:"trajectory_id"`
	// ContentHash is the SHA-256 of the trajectory's canonical JSON.
	ContentHash string    `parquet:"content_hash" json:"content_hash"`
	TaskID      string    `parquet:"task_id" json:"task_id"`
	Task        string    `parquet:"task" json:"task"`
	Domain      string    `parquet:"domain" json:"domain"`
	Success     bool      `parquet:"success" json:"success"`
	Reward      float64   `parquet:"reward" json:"reward"`
	ErrorInfo   string    `parquet:"error_info" json:"error_info"`
	Steps       int32     `parquet:"steps" json:"steps"`
	KeySteps    []int32   `parquet:"key_steps,list" json:"key_steps"`
	Solution    string    `parquet:"solution" json:"solution"`
	Language    string    `parquet:"language" json:"language"`
	Strategy    string    `parquet:"strategy" json:"strategy"`
	CreatedAt   time.Time `parquet:"created_at,timestamp(millisecond)" json:"created_at"`
	// FirstRun and Version are the run and memory version that stored it.
	FirstRun string `parquet:"first_run" json:"first_run"`
	Version  int64  `parquet:"version" json:"version"`
}

// ContentHash is the hex SHA-256 of v's JSON encoding (struct fields in
// declaration order, map keys sorted: canonical for a given type).
func ContentHash(v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("content hash: %w", err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

// Seen is what the experience memory already holds: each trajectory id's
// content hash.
type Seen map[string]string

// Verdict is what the experience memory does with a trajectory.
type Verdict int

// Verdicts of Seen.Classify.
const (
	// New: the id was never stored.
	New Verdict = iota
	// Duplicate: stored with the same content; nothing changes.
	Duplicate
	// Changed: stored with other content; the new row replaces the old.
	Changed
)

// Classify says what storing a trajectory of this id and hash does, and
// records it, so that a second copy in the same batch is a Duplicate.
func (s Seen) Classify(id, hash string) Verdict {
	old, ok := s[id]
	s[id] = hash
	switch {
	case !ok:
		return New
	case old == hash:
		return Duplicate
	default:
		return Changed
	}
}
