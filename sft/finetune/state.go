package finetune

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/atlas-ai/atlas-learn/columnar/storage"
)

// StateKey is where the state lives under the output: beside the memory.
const StateKey = "memory/finetune/state.json"

// StateFormat identifies state files.
const StateFormat = "atlas-learn/finetune-state"

// State is what the trigger remembers between runs. It is stored as JSON
// (see LoadState and SaveState) and only ever replaced whole.
type State struct {
	Format  string `json:"format"`
	Version int    `json:"version"`
	// LastFinetune is when the last fine-tune was submitted, on the
	// clock of the run that submitted it; nil: never.
	LastFinetune *time.Time `json:"last_finetune,omitempty"`
	// TrajectoriesSince and SuccessesSince accumulate the trajectories of
	// the runs since the last fine-tune.
	TrajectoriesSince int64 `json:"trajectories_since_last"`
	SuccessesSince    int64 `json:"successes_since_last"`
	// TotalFinetunes counts the fine-tunes submitted.
	TotalFinetunes int `json:"total_finetunes"`
	// Runs lists every run counted, in the order they were applied: a
	// run id here is never counted again.
	Runs []RunRecord `json:"runs"`
	// Jobs is the history of the requests submitted, oldest first.
	Jobs []Job `json:"jobs"`
	// Before is what the last Apply changed, so that a re-run of that
	// run is decided on the state as it was before it (see Rewound).
	Before *Before `json:"before_last_run,omitempty"`
}

// Before holds the counters of a state before the run RunID was applied.
type Before struct {
	RunID             string     `json:"run_id"`
	InputID           string     `json:"input_id,omitempty"`
	LastFinetune      *time.Time `json:"last_finetune,omitempty"`
	TrajectoriesSince int64      `json:"trajectories_since_last"`
	SuccessesSince    int64      `json:"successes_since_last"`
	TotalFinetunes    int        `json:"total_finetunes"`
	Runs              int        `json:"runs"`
}

// Rewound is the state as it was before the batch's run was applied, when
// that run, over the same trajectories (the same input id), is the last
// run applied, and s otherwise. A run killed after its commit
// but before the memory advanced is re-run whole; deciding on the
// rewound state, the re-run decides exactly as its first attempt did,
// and applying it again gives the same state. The job history is kept:
// a request the first attempt submitted is found again by its id.
func (s State) Rewound(batch Batch) State {
	b := s.Before
	if b == nil || b.RunID != batch.RunID || b.InputID != batch.InputID || b.Runs > len(s.Runs) {
		return s
	}
	out := s.clone()
	out.LastFinetune, out.TrajectoriesSince, out.SuccessesSince, out.TotalFinetunes = nil, b.TrajectoriesSince, b.SuccessesSince, b.TotalFinetunes
	if b.LastFinetune != nil {
		t := *b.LastFinetune
		out.LastFinetune = &t
	}
	out.Runs = out.Runs[:b.Runs]
	out.Before = nil
	return out
}

// RunRecord is one run the state counted.
type RunRecord struct {
	RunID        string    `json:"run_id"`
	InputID      string    `json:"input_id,omitempty"`
	Now          time.Time `json:"now"`
	Trajectories int64     `json:"trajectories"`
	Successes    int64     `json:"successes"`
	Examples     int64     `json:"examples"`
	Finetune     bool      `json:"finetune"`
	RequestID    string    `json:"request_id,omitempty"`
}

// Job is one request submitted to a back-end, with its latest known
// status.
type Job struct {
	RequestID string `json:"request_id"`
	RunID     string `json:"run_id"`
	Backend   string `json:"backend"`
	JobID     string `json:"job_id"`
	Status    string `json:"status"`
	ModelID   string `json:"model_id,omitempty"`
	Error     string `json:"error,omitempty"`
	// SubmittedAt is the submitting run's clock.
	SubmittedAt time.Time `json:"submitted_at"`
	// Datasets are the files the request named, with their versions.
	Datasets []DatasetRef `json:"datasets"`
}

// Counted tells whether runID was counted before.
func (s State) Counted(runID string) bool {
	for _, r := range s.Runs {
		if r.RunID == runID {
			return true
		}
	}
	return false
}

// CountedInput tells whether a run with the trajectories identified by
// inputID was counted before ("" never was).
func (s State) CountedInput(inputID string) bool {
	if inputID == "" {
		return false
	}
	for _, r := range s.Runs {
		if r.InputID == inputID {
			return true
		}
	}
	return false
}

// JobOf is the first job runID submitted, or nil.
func (s State) JobOf(runID string) *Job {
	for i := range s.Jobs {
		if s.Jobs[i].RunID == runID {
			return &s.Jobs[i]
		}
	}
	return nil
}

// Apply folds a committed run into the state and returns the new state
// (s is not changed): the run's decision d and, when a request was
// submitted, its result (nil otherwise). A fine-tune is recorded only
// when a request was submitted; a run id already counted is not counted
// again, though its job's status is updated.
func (s State) Apply(d Decision, batch Batch, res *Result) State {
	out := s.clone()
	out.Format, out.Version = StateFormat, 1
	out.Before = &Before{RunID: batch.RunID, InputID: batch.InputID, LastFinetune: s.LastFinetune, TrajectoriesSince: s.TrajectoriesSince,
		SuccessesSince: s.SuccessesSince, TotalFinetunes: s.TotalFinetunes, Runs: len(s.Runs)}
	submitted := d.Finetune && res != nil && res.JobID != ""
	if submitted {
		out.upsertJob(Job{RequestID: res.RequestID, RunID: batch.RunID, Backend: res.Backend, JobID: res.JobID,
			Status: res.Status, ModelID: res.ModelID, Error: res.Error, SubmittedAt: d.Now, Datasets: res.Datasets})
	}
	// A resubmission (a re-run of a run that triggered) finds the same
	// request: it is not a new fine-tune.
	fresh := submitted && !d.Resubmit
	if fresh {
		now := d.Now
		out.LastFinetune = &now
		out.TrajectoriesSince, out.SuccessesSince = 0, 0
		out.TotalFinetunes++
	}
	for i := range out.Runs {
		if out.Runs[i].RunID == batch.RunID {
			if fresh {
				out.Runs[i].Finetune, out.Runs[i].RequestID = true, res.RequestID
			}
			return out
		}
	}
	if d.AlreadyCounted {
		return out
	}
	rec := RunRecord{RunID: batch.RunID, InputID: batch.InputID, Now: d.Now, Trajectories: batch.Trajectories, Successes: batch.Successes, Examples: batch.Examples}
	if fresh {
		rec.Finetune, rec.RequestID = true, res.RequestID
	} else {
		out.TrajectoriesSince += batch.Trajectories
		out.SuccessesSince += batch.Successes
	}
	out.Runs = append(out.Runs, rec)
	return out
}

// UpdateJob records a newer status of a job already in the history (by
// request id); it tells whether one was found.
func (s *State) UpdateJob(res Result) bool {
	for i := range s.Jobs {
		j := &s.Jobs[i]
		if j.RequestID == res.RequestID || (res.RequestID == "" && j.JobID == res.JobID) {
			j.Status, j.ModelID, j.Error = res.Status, res.ModelID, res.Error
			if res.JobID != "" {
				j.JobID = res.JobID
			}
			return true
		}
	}
	return false
}

func (s *State) upsertJob(j Job) {
	for i := range s.Jobs {
		if s.Jobs[i].RequestID == j.RequestID {
			j.SubmittedAt = s.Jobs[i].SubmittedAt
			s.Jobs[i] = j
			return
		}
	}
	s.Jobs = append(s.Jobs, j)
}

func (s State) clone() State {
	out := s
	if s.LastFinetune != nil {
		t := *s.LastFinetune
		out.LastFinetune = &t
	}
	out.Runs = append([]RunRecord(nil), s.Runs...)
	if s.Before != nil {
		b := *s.Before
		out.Before = &b
	}
	out.Jobs = make([]Job, len(s.Jobs))
	for i, j := range s.Jobs {
		j.Datasets = append([]DatasetRef(nil), j.Datasets...)
		out.Jobs[i] = j
	}
	return out
}

// Pending lists the jobs not yet in a terminal status, by request id.
func (s State) Pending() []Job {
	var out []Job
	for _, j := range s.Jobs {
		if !Terminal(j.Status) {
			out = append(out, j)
		}
	}
	sort.Slice(out, func(a, b int) bool { return out[a].RequestID < out[b].RequestID })
	return out
}

// LoadState reads the state at key of b; a missing state is the empty
// state (no fine-tune yet).
func LoadState(ctx context.Context, b storage.BucketReader, key string) (State, error) {
	data, err := storage.Get(ctx, b, key)
	if errors.Is(err, storage.ErrNotFound) {
		return State{Format: StateFormat, Version: 1}, nil
	}
	if err != nil {
		return State{}, fmt.Errorf("fine-tune state %s: %w", key, err)
	}
	return DecodeState(data, key)
}

// DecodeState parses a state file; name names it in errors.
func DecodeState(data []byte, name string) (State, error) {
	var s State
	if err := json.Unmarshal(data, &s); err != nil {
		return State{}, fmt.Errorf("fine-tune state %s: malformed: %w", name, err)
	}
	if s.Format != StateFormat {
		return State{}, fmt.Errorf("fine-tune state %s: format %q, want %q", name, s.Format, StateFormat)
	}
	if s.Version != 1 {
		return State{}, fmt.Errorf("fine-tune state %s: version %d, this build reads 1", name, s.Version)
	}
	return s, nil
}

// Encode is the state's JSON form (indented, with a final newline).
func (s State) Encode() ([]byte, error) {
	s.Format, s.Version = StateFormat, 1
	if s.Runs == nil {
		s.Runs = []RunRecord{}
	}
	if s.Jobs == nil {
		s.Jobs = []Job{}
	}
	data, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(data, '\n'), nil
}

// SaveState writes s at key of b, atomically.
func SaveState(ctx context.Context, b storage.Bucket, key string, s State) error {
	data, err := s.Encode()
	if err != nil {
		return fmt.Errorf("fine-tune state %s: %w", key, err)
	}
	if err := storage.Put(ctx, b, key, data); err != nil {
		return fmt.Errorf("fine-tune state %s: %w", key, err)
	}
	return nil
}
