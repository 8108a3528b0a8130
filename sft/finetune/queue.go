package finetune

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/atlas-ai/atlas-learn/columnar/storage"
)

// Queue is the hand-off through object storage: Submit writes the request
// as <prefix>/<request-id>.json (the Request's JSON form) for a training
// cluster that watches the prefix, and Status reads the file the cluster
// writes back beside it, <prefix>/<request-id>.status.json:
//
//	{"request_id": "ft-…", "status": "queued|running|succeeded|failed",
//	 "model_id": "…", "error": "…"}
//
// status is required; model_id (once succeeded), error (once failed) and
// request_id (checked when present) are optional; other fields are
// ignored. Until a status file exists
// the request is queued. The job id Queue returns is the request id.
type Queue struct {
	b      storage.Bucket
	prefix string
}

// QueueStatus is the status file's schema.
type QueueStatus struct {
	RequestID string `json:"request_id"`
	Status    string `json:"status"`
	ModelID   string `json:"model_id,omitempty"`
	Error     string `json:"error,omitempty"`
}

// NewQueue is a queue under prefix (a key prefix of b, "" for its root).
func NewQueue(b storage.Bucket, prefix string) *Queue {
	return &Queue{b: b, prefix: strings.Trim(prefix, "/")}
}

// Name implements Backend.
func (*Queue) Name() string { return "queue" }

// RequestKey and StatusKey are the keys of a request's files.
func (q *Queue) RequestKey(id string) string { return storage.Join(q.prefix, id+".json") }

// StatusKey is the key of the status file of request id.
func (q *Queue) StatusKey(id string) string { return storage.Join(q.prefix, id+".status.json") }

func checkID(id string) error {
	if id == "" || strings.ContainsAny(id, "/\\ ") || strings.HasPrefix(id, ".") {
		return fmt.Errorf("request id %q: want a non-empty name without slashes or spaces", id)
	}
	return nil
}

// Submit writes the request unless a request with its id exists (then it
// is left as it is and its status returned, Existing set).
func (q *Queue) Submit(ctx context.Context, req Request) (Result, error) {
	if err := checkID(req.ID); err != nil {
		return Result{}, err
	}
	key := q.RequestKey(req.ID)
	ok, err := storage.Exists(ctx, q.b, key)
	if err != nil {
		return Result{}, fmt.Errorf("queue request %s: %w", req.ID, err)
	}
	if !ok {
		req.Format = RequestFormat
		data, err := json.MarshalIndent(req, "", "  ")
		if err != nil {
			return Result{}, fmt.Errorf("queue request %s: %w", req.ID, err)
		}
		if err := storage.Put(ctx, q.b, key, append(data, '\n')); err != nil {
			return Result{}, fmt.Errorf("queue request %s: %w", req.ID, err)
		}
	}
	res, err := q.Status(ctx, req.ID)
	if err != nil {
		return Result{}, err
	}
	res.Existing = ok
	res.Datasets = append(append([]DatasetRef(nil), req.Train...), req.Validation...)
	return res, nil
}

// Withdraw deletes the request id (a request whose run failed, so that
// the cluster never picks it up); a request already gone is no error.
func (q *Queue) Withdraw(ctx context.Context, id string) error {
	if err := checkID(id); err != nil {
		return err
	}
	if err := q.b.Delete(ctx, q.RequestKey(id)); err != nil && !errors.Is(err, storage.ErrNotFound) {
		return fmt.Errorf("queue request %s: %w", id, err)
	}
	return nil
}

// Status reads the request's status file (queued while there is none).
// The request itself must exist.
func (q *Queue) Status(ctx context.Context, jobID string) (Result, error) {
	if err := checkID(jobID); err != nil {
		return Result{}, err
	}
	res := Result{RequestID: jobID, Backend: q.Name(), JobID: jobID, Status: StatusQueued}
	data, err := storage.Get(ctx, q.b, q.StatusKey(jobID))
	if errors.Is(err, storage.ErrNotFound) {
		ok, err := storage.Exists(ctx, q.b, q.RequestKey(jobID))
		switch {
		case err != nil:
			return Result{}, fmt.Errorf("queue request %s: %w", jobID, err)
		case !ok:
			return Result{}, fmt.Errorf("queue request %s: no such request under %s: %w", jobID, q.prefix, storage.ErrNotFound)
		}
		return res, nil
	}
	if err != nil {
		return Result{}, fmt.Errorf("queue request %s: status: %w", jobID, err)
	}
	var st QueueStatus
	if err := json.Unmarshal(data, &st); err != nil {
		return Result{}, fmt.Errorf("queue request %s: malformed status file %s: %w", jobID, q.StatusKey(jobID), err)
	}
	switch st.Status {
	case StatusQueued, StatusRunning, StatusSucceeded, StatusFailed:
	default:
		return Result{}, fmt.Errorf("queue request %s: status file %s: field status: want queued, running, succeeded or failed, got %q", jobID, q.StatusKey(jobID), st.Status)
	}
	if st.RequestID != "" && st.RequestID != jobID {
		return Result{}, fmt.Errorf("queue request %s: status file %s: field request_id: names %q", jobID, q.StatusKey(jobID), st.RequestID)
	}
	res.Status, res.ModelID, res.Error = st.Status, st.ModelID, st.Error
	return res, nil
}
