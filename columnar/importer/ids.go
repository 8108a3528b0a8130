package importer

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sync"
)

// Trajectory ids.
//
// An id must be unique within a dataset and the same every time the same
// bytes are imported. Agents name their files by instance id (SWE-agent
// writes <instance_id>.traj in each run's directory, mini-swe-agent
// <instance_id>.traj.json), so eighteen runs of one instance are eighteen
// files of one name: a file's name alone is not an id. The rule:
//
//   - a source that carries a run id keeps it: a top-level "trajectory_id"
//     or "run_id" string of a single-trajectory file, the trajectory_id or
//     id column of an OpenAI-chat record;
//   - else a single-trajectory file's id is its stem, "-", and the first 8
//     hex digits of the SHA-256 of the file's bytes (fileIDHexDigits);
//   - else an OpenAI-chat record's id is its instance id (or the file's
//     stem), "-", and the first 12 hex digits of the SHA-256 of the
//     record's line.
//
// Files or records with equal bytes get equal ids; an IDSet passed in
// Options reports them (and any repeated source id) as duplicates.

// MappingVersion changes whenever the same input starts to map to other
// output (version 2: ids with a content hash, nulls kept in extra); import
// fingerprints cover it, so that a re-import never reuses the file names
// of a dataset written by an older mapping.
const MappingVersion = 2

// fileIDHexDigits is how many hex digits of the file hash an id carries.
const fileIDHexDigits = 8

// runIDKeys are the top-level fields of a single-trajectory file read as
// its run id, in order of preference.
var runIDKeys = []string{"trajectory_id", "run_id"}

// wholeFileID returns the trajectory id of a single-trajectory file: its
// run id when it has one, else the stem plus a hash of the file's bytes.
// The run-id field, when used, also stays in extra.source.
func wholeFileID(rec record) (string, error) {
	if jsonKind(rec.data) == "object" {
		top, err := decodeObject("", rec.data)
		if err != nil {
			return "", err
		}
		for _, k := range runIDKeys {
			if top.has(k) {
				id, err := top.id(k)
				if err != nil {
					return "", err
				}
				if id != "" {
					return id, nil
				}
			}
		}
	}
	return rec.stem + "-" + rec.fileSum[:fileIDHexDigits], nil
}

// sha256Hex is the hex SHA-256 of b.
func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// IDSet remembers the trajectory ids of one import, across files, to
// report a repeated id. The zero value is ready; it is safe for concurrent
// use.
type IDSet struct {
	mu   sync.Mutex
	seen map[string]idPlace
}

type idPlace struct {
	file string
	line int64
}

func (p idPlace) String() string {
	if p.line > 0 {
		return fmt.Sprintf("%s line %d", p.file, p.line)
	}
	return p.file
}

// DuplicateIDError says that a record's trajectory_id was already taken by
// an earlier record of the same import.
type DuplicateIDError struct {
	ID string
	// First is where the id was first seen: "FILE" or "FILE line N".
	First string
}

func (e *DuplicateIDError) Error() string {
	return fmt.Sprintf("duplicate trajectory_id %q: already imported from %s", e.ID, e.First)
}

// Add records id as seen at file and line (0 for a single-document file).
// It returns a *DuplicateIDError naming the first place when id was seen
// before, and nil otherwise.
func (s *IDSet) Add(id, file string, line int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if prev, ok := s.seen[id]; ok {
		return &DuplicateIDError{ID: id, First: prev.String()}
	}
	if s.seen == nil {
		s.seen = map[string]idPlace{}
	}
	s.seen[id] = idPlace{file: file, line: line}
	return nil
}

// Len is the number of distinct ids seen.
func (s *IDSet) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.seen)
}
