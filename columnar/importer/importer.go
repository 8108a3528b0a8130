// Package importer converts agent trajectories written by other tools into
// ATLAS's canonical model, columnar.Trajectory.
//
// Five source formats are read (OpenHands runs, ATIF documents and
// Parquet rows too: see OpenHands, ATIF and Parquet):
//
//   - SWE-agent .traj files (Format SWEAgent): one JSON object holding a
//     "trajectory" list of steps, the "history" of chat messages and an
//     "info" object; older files hold only "history".
//   - mini-swe-agent .traj.json files (Format MiniSWEAgent): the current
//     object form with "info", "messages" and "trajectory_format" (text
//     actions, or bash tool calls in mini-swe-agent-1.1 runs), and the
//     older bare list of chat messages.
//   - OpenAI-chat JSONL (Format OpenAIChat): one record per line with a
//     "messages" list and outcome columns such as "resolved" or "patch", the
//     shape of public trajectory datasets.
//   - Parquet datasets (Format Parquet): one trajectory per row, the
//     columns named by a ParquetMapping, each row converted as an
//     OpenAI-chat record.
//
// Import streams: a JSONL file is read one line at a time and each
// trajectory is handed to a callback as soon as it is built. An
// OpenAI-chat file whose first record spans lines is read whole as a JSON
// document instead (see linesOrDocument).
//
// Mapping rules shared by all formats:
//
//   - Nothing is dropped. Every source field that has no column of its own
//     is kept in Trajectory.Extra, a JSON object laid out as
//     {"source_format": ..., "source": {...}, "steps": [...], "notes": {...}}:
//     "source" holds the record's unmapped top-level fields verbatim (for
//     SWE-agent, "info" minus exit_status and submission, "history",
//     "replay_config", ...; for chat formats the full "messages" list),
//     "steps"[i] holds step i's unmapped fields (null when it has none) and
//     "notes" says how the importer decided what it could not read off the
//     source (the success heuristic, an inferred exit status).
//   - A text extra repeats verbatim from a column of the same trajectory
//     (a message's content that is the task description, an event's output
//     that is the step's observation) is stored once: extra holds a
//     reference to the column instead ({"$col": "steps.3.observation"}; see
//     columnar.Trajectory.ShareExtraText), and
//     columnar.Trajectory.ExpandExtra gives back extra with every source
//     field in place.
//   - Output is deterministic: the same input yields the same Trajectory.
//     created_at comes from a timestamp in the source when there is one and
//     is the Unix epoch otherwise; it is never the import time.
//   - trajectory_id is the source's run id when it has one, else derived
//     from the content: a single-trajectory file's stem plus a hash of its
//     bytes, a JSONL record's instance id plus a hash of its line (the rule
//     is in ids.go). Options.IDs reports an id seen twice in one import.
//   - Every trajectory passes columnar.Validate before it is emitted.
//   - Text is UTF-8. Each byte of a record that does not start a valid UTF-8
//     sequence (and each \u escape of an unpaired surrogate) is replaced
//     with U+FFFD before the record is read, so that mapped fields and extra
//     agree; the replacements are counted in Stats.UTF8Replacements, recorded
//     in the trajectory's metadata under columnar.UTF8ReplacedKey and logged.
//     Other encodings are not detected: a Latin-1 file's non-ASCII bytes
//     become U+FFFD.
//
// How outcome.success is decided is documented per format on SWEAgent,
// MiniSWEAgent, OpenAIChat and convertOpenHands.
package importer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"

	"github.com/atlas-ai/atlas-learn/columnar"
)

// Format names a source trajectory format.
type Format string

const (
	// SWEAgent is a SWE-agent .traj file: a JSON object with "trajectory",
	// "history" and "info", or only "history" in older files.
	//
	// outcome.exit_status is info.exit_status. These files carry no test
	// result, so outcome.success is a heuristic: the run ended with
	// exit_status exactly "submitted" (the agent chose to submit, not an
	// autosubmission after a limit) and info.submission is not blank.
	// outcome.reward stays 0: the source records none. For CTF runs the
	// environment checks the flag before it accepts a submit, so "submitted"
	// there means a correct flag. Files without info have no exit status and
	// success false; when their last step is a submit whose observation is a
	// diff, that diff becomes the solution.
	SWEAgent Format = "swe-agent"

	// MiniSWEAgent is a mini-swe-agent .traj.json file: an object with
	// "info", "messages" and "trajectory_format", or the older bare list of
	// chat messages. Runs with trajectory_format "mini-swe-agent-1.1"
	// (mini-swe-agent 2) may call a bash tool: assistant messages carry
	// tool_calls (and extra.actions), each answered by a "tool" message
	// with its tool_call_id, and the run ends with an "exit" message. Each
	// tool call is one step; the rules are on convertMiniSWEAgent.
	//
	// outcome.exit_status is info.exit_status; success means exit_status
	// "Submitted" with a non-blank info.submission (no test result is
	// recorded), and that submission is the solution (language "diff" for a
	// patch). When info has no exit_status, both are read from the exit
	// message's extra, where mini-swe-agent writes them first. A bare message
	// list has no info: when its last action is the
	// COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT sentinel answered by a message
	// without a <returncode> (which mini-swe-agent writes only when it
	// accepts a submission), exit_status is inferred as "Submitted" and that
	// message's content is the submission; extra.notes records the inference.
	MiniSWEAgent Format = "mini-swe-agent"

	// OpenAIChat is JSONL with one trajectory per line: a "messages" list of
	// OpenAI chat messages (role/content, tool_calls, tool messages) plus
	// outcome columns.
	//
	// outcome.success is, in order of preference: the "resolved" column
	// (boolean, or a number where non-zero means resolved), "target" (the
	// nebius/SWE-agent-trajectories name for it), "success"; only when none
	// is present does the SWE-agent heuristic apply (exit_status "submitted"
	// with a non-blank patch). outcome.reward is the "reward" column, else 1
	// or 0 from resolved/target when those are present, else 0.
	OpenAIChat Format = "openai-chat"
)

// Formats lists the formats Import reads, in a fixed order.
func Formats() []Format {
	return []Format{SWEAgent, MiniSWEAgent, OpenAIChat, OpenHands, ATIF, Parquet}
}

// ParseFormat returns the Format named s.
func ParseFormat(s string) (Format, error) {
	for _, f := range Formats() {
		if string(f) == s {
			return f, nil
		}
	}
	names := make([]string, 0, len(Formats()))
	for _, f := range Formats() {
		names = append(names, string(f))
	}
	return "", fmt.Errorf("unknown trajectory format %q (known: %s)", s, strings.Join(names, ", "))
}

// FormatFromName guesses a file's format from its name alone: ".traj" is
// SWE-agent, ".traj.json" mini-swe-agent, ".jsonl" OpenAI-chat and any
// other ".json" an OpenHands event stream (DetectFormat reads the content
// instead). It
// reports false when the name says nothing. The native ATLAS JSONL format
// shares the ".jsonl" extension, so a caller that may see both should name
// the format explicitly.
func FormatFromName(name string) (Format, bool) {
	base := strings.ToLower(filepath.Base(name))
	switch {
	case strings.HasSuffix(base, ".traj.json"):
		return MiniSWEAgent, true
	case strings.HasSuffix(base, ".traj"):
		return SWEAgent, true
	case strings.HasSuffix(base, ".jsonl"):
		return OpenAIChat, true
	case strings.HasSuffix(base, ".json"):
		return OpenHands, true
	}
	return "", false
}

// maxKeptErrors bounds Stats.Errors so that a file of bad records cannot
// exhaust memory; Stats.Skipped still counts them all.
const maxKeptErrors = 100

// Options tune Import. The zero value fails on the first bad record and
// logs nothing.
type Options struct {
	// OnError is columnar.OnErrorFail (the default when empty) or
	// columnar.OnErrorSkip.
	OnError columnar.OnError
	// MaxLine caps one JSONL line in bytes; 0 means columnar.MaxJSONLLine.
	// A longer line is a bad record.
	MaxLine int
	// Logger, when set, receives one warning per skipped record.
	Logger *slog.Logger
	// IDs, when set, holds the ids of the whole import (shared by the
	// Import calls of its files): a record whose trajectory_id is already
	// there is a bad record (a *DuplicateIDError), counted in
	// Stats.DuplicateIDs as well as Stats.Skipped when skipped.
	IDs *IDSet
	// Mapping names the columns of a Parquet file (Format Parquet); nil
	// is the built-in "chat" mapping.
	Mapping *ParquetMapping

	// keepExtraText leaves extra as the converter built it, without
	// column references (see columnar.Trajectory.ShareExtraText): for
	// tests that compare the two.
	keepExtraText bool
}

// Stats counts what Import did.
type Stats struct {
	// Imported is the number of trajectories handed to emit.
	Imported int
	// Skipped is the number of bad records passed over under
	// columnar.OnErrorSkip.
	Skipped int
	// Errors holds the first errors of skipped records (at most 100).
	Errors []*columnar.RecordError
	// UTF8Replacements counts the invalid UTF-8 sequences replaced with
	// U+FFFD in the imported trajectories (see columnar.SanitizeJSON).
	UTF8Replacements int
	// DuplicateIDs counts the records skipped because their trajectory_id
	// was already imported (see Options.IDs).
	DuplicateIDs int
}

// Import reads trajectories of the given format from r and calls emit with
// each one, in source order. name is the file name; it appears in errors
// and, for single-trajectory formats, its stem becomes the trajectory id.
//
// A record that cannot be imported is a *columnar.RecordError naming the
// file and, where known, the line and the field at fault; it stops Import
// under columnar.OnErrorFail and is counted and passed over under
// columnar.OnErrorSkip. A JSONL line longer than Options.MaxLine is a bad
// record too. An error from emit or from ctx always stops Import and is
// returned wrapped.
func Import(ctx context.Context, format Format, name string, r io.Reader, emit func(columnar.Trajectory) error, opts Options) (Stats, error) {
	var st Stats
	if opts.OnError == "" {
		opts.OnError = columnar.OnErrorFail
	}
	if err := opts.OnError.Validate(); err != nil {
		return st, fmt.Errorf("import %s: %w", name, err)
	}
	if opts.MaxLine < 0 {
		return st, fmt.Errorf("import %s: negative line cap %d", name, opts.MaxLine)
	}
	if emit == nil {
		return st, fmt.Errorf("import %s: nil emit function", name)
	}
	s := &session{ctx: ctx, name: name, emit: emit, opts: opts, stats: &st}
	var err error
	switch format {
	case SWEAgent:
		err = s.whole(r, convertSWEAgent)
	case MiniSWEAgent:
		err = s.whole(r, convertMiniSWEAgent)
	case OpenAIChat:
		err = s.linesOrDocument(r, convertOpenAIChat)
	case OpenHands:
		err = s.importOpenHands(r)
	case ATIF:
		err = s.linesOrDocument(r, convertATIF)
	case Parquet:
		err = s.importParquet(r)
	// Native ATLAS JSONL (one columnar.Trajectory per line) is not a
	// foreign format: callers read it with columnar.ReadJSONL (see
	// jobs.importFile). Should it move behind this dispatcher, its case
	// goes here, with a constant beside SWEAgent and an entry in Formats.
	default:
		return st, fmt.Errorf("import %s: unknown trajectory format %q", name, format)
	}
	return st, err
}

// converter turns one source record into a trajectory. A returned error is
// a *fieldError or another description of what is wrong with the record.
type converter func(rec record) (columnar.Trajectory, error)

// record is one source record with the context needed to convert it.
type record struct {
	name string // file name as given to Import
	stem string // file base name without its trajectory extensions
	line int64  // 1-based line for JSONL records, 0 otherwise
	row  int64  // 1-based Parquet row, 0 otherwise
	data []byte // the record's JSON text, valid UTF-8
	// fileSum is the hex SHA-256 of the whole file's bytes as read, for
	// single-trajectory files; empty for JSONL records.
	fileSum string
	// replaced counts the invalid UTF-8 sequences replaced in data.
	replaced int
}

// session carries one Import call's state.
type session struct {
	ctx   context.Context
	name  string
	emit  func(columnar.Trajectory) error
	opts  Options
	stats *Stats
}

// handle converts rec, validates the result and emits it, applying the
// error policy to a bad record.
func (s *session) handle(rec record, conv converter) error {
	t, err := conv(rec)
	replaced := 0
	if err == nil {
		t.AddUTF8Replacements(rec.replaced)
		replaced = rec.replaced + t.SanitizeUTF8()
		if verr := t.Validate(); verr != nil {
			err = fmt.Errorf("produced trajectory is invalid: %w", verr)
		} else if !s.opts.keepExtraText {
			err = t.ShareExtraText()
		}
	}
	if err != nil {
		return s.bad(s.recordError(rec, err))
	}
	if s.opts.IDs != nil {
		if derr := s.opts.IDs.Add(t.TrajectoryID, s.name, rec.line); derr != nil {
			if s.opts.OnError == columnar.OnErrorSkip {
				s.stats.DuplicateIDs++
			}
			return s.bad(&columnar.RecordError{File: s.name, Line: rec.line, Row: rec.row - 1, Field: "trajectory_id", Err: derr})
		}
	}
	if err := s.emit(t); err != nil {
		return fmt.Errorf("import %s: emit trajectory %s: %w", s.name, t.TrajectoryID, err)
	}
	s.stats.Imported++
	s.stats.UTF8Replacements += replaced
	if replaced > 0 && s.opts.Logger != nil {
		s.opts.Logger.WarnContext(s.ctx, "replaced invalid UTF-8 with U+FFFD", "file", s.name, "trajectory", t.TrajectoryID, "replacements", replaced)
	}
	return nil
}

// bad applies the error policy to a record error.
func (s *session) bad(e *columnar.RecordError) error {
	return s.opts.OnError.Handle(e, s.skipped)
}

// skipped records a bad record passed over under columnar.OnErrorSkip.
func (s *session) skipped(e *columnar.RecordError) {
	s.stats.Skipped++
	if len(s.stats.Errors) < maxKeptErrors {
		s.stats.Errors = append(s.stats.Errors, e)
	}
	if s.opts.Logger != nil {
		s.opts.Logger.WarnContext(s.ctx, "skipping trajectory record", "file", s.name, "error", e.Error())
	}
}

// recordError wraps a conversion error with the record's position.
func (s *session) recordError(rec record, err error) *columnar.RecordError {
	e := &columnar.RecordError{File: s.name, Line: rec.line, Row: rec.row - 1, Err: err}
	var fe *fieldError
	if errors.As(err, &fe) {
		e.Field = fe.path
		e.Err = fe.err
	}
	return e
}

// whole reads r to its end as one JSON document holding one trajectory.
func (s *session) whole(r io.Reader, conv converter) error {
	if err := s.ctx.Err(); err != nil {
		return fmt.Errorf("import %s: %w", s.name, err)
	}
	data, err := io.ReadAll(r)
	if err != nil {
		return fmt.Errorf("import %s: read: %w", s.name, err)
	}
	sum := sha256Hex(data)
	data, replaced := columnar.SanitizeJSON(bytes.TrimPrefix(data, utf8BOM))
	rec := record{name: s.name, stem: fileStem(s.name), data: data, replaced: replaced, fileSum: sum}
	if serr := syntaxError(data); serr != nil {
		return s.bad(serr.at(s.name, 0))
	}
	return s.handle(rec, conv)
}

// fileStem is name's base without directory and trajectory extensions.
func fileStem(name string) string {
	base := filepath.Base(name)
	for _, ext := range []string{".traj.json", ".traj", ".jsonl", ".json"} {
		if strings.HasSuffix(strings.ToLower(base), ext) && len(base) > len(ext) {
			return base[:len(base)-len(ext)]
		}
	}
	return base
}
