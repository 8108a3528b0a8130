package finetune

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/atlas-ai/atlas-learn/columnar/storage"
)

// OpenAIOptions configure the OpenAI back-end.
type OpenAIOptions struct {
	// BaseURL is the API root up to and including /v1.
	BaseURL string
	// APIKey is sent as a bearer token; "" sends none (local servers).
	APIKey string
	// Timeout bounds one HTTP request, body included.
	Timeout time.Duration
	// MaxRetries bounds the retries of one request after a 429, a 5xx or
	// a transport error; BackoffInitial doubles per retry up to
	// BackoffMax, which also caps a server's Retry-After.
	MaxRetries                 int
	BackoffInitial, BackoffMax time.Duration
	// PollInterval and PollTimeout: Submit waits for the job to finish,
	// polling every PollInterval, for at most PollTimeout; 0 returns as
	// soon as the job is created.
	PollInterval, PollTimeout time.Duration
	// Suffix is added to the fine-tuned model's name ("" for none).
	Suffix string
	// LearningRateMultiplier is sent as the hyperparameter of that name
	// (OpenAI takes a multiplier, not a learning rate); 0 leaves it to
	// the server.
	LearningRateMultiplier float64
	// Read reads a dataset file by its URI (required).
	Read func(ctx context.Context, uri string) ([]byte, error)
	// Ledger, when not nil, records each request's job under
	// LedgerPrefix/<request-id>.json as soon as it is created, so that
	// submitting the same request again (a re-run after a failure)
	// finds the job instead of creating a second one.
	Ledger       storage.Bucket
	LedgerPrefix string
	// HTTP is the client (nil: a default one).
	HTTP *http.Client
	Log  *slog.Logger
}

// OpenAI is the back-end of an OpenAI-compatible fine-tuning API: it
// uploads the training (and validation) JSONL with POST /files
// (purpose fine-tune), creates the job with POST /fine_tuning/jobs and
// reads it with GET /fine_tuning/jobs/{id}.
type OpenAI struct {
	o OpenAIOptions
}

// NewOpenAI checks o and returns the back-end.
func NewOpenAI(o OpenAIOptions) (*OpenAI, error) {
	if o.BaseURL == "" {
		return nil, errors.New("openai back-end: no base URL")
	}
	if o.Read == nil {
		return nil, errors.New("openai back-end: no reader for dataset files")
	}
	if o.Timeout <= 0 {
		o.Timeout = 60 * time.Second
	}
	if o.PollInterval <= 0 {
		o.PollInterval = 30 * time.Second
	}
	if o.HTTP == nil {
		o.HTTP = &http.Client{}
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	o.BaseURL = strings.TrimRight(o.BaseURL, "/")
	return &OpenAI{o: o}, nil
}

// Name implements Backend.
func (*OpenAI) Name() string { return "openai" }

// ledgerEntry is what the ledger records of a request.
type ledgerEntry struct {
	RequestID      string `json:"request_id"`
	JobID          string `json:"job_id"`
	TrainingFile   string `json:"training_file"`
	ValidationFile string `json:"validation_file,omitempty"`
}

func (c *OpenAI) ledgerKey(id string) string { return storage.Join(c.o.LedgerPrefix, id+".json") }

// Submit uploads the request's files and creates the job (or finds the
// job of an earlier submission of the same request id in the ledger),
// then waits for it when PollTimeout is set.
func (c *OpenAI) Submit(ctx context.Context, req Request) (Result, error) {
	if err := checkID(req.ID); err != nil {
		return Result{}, err
	}
	datasets := append(append([]DatasetRef(nil), req.Train...), req.Validation...)
	if c.o.Ledger != nil {
		data, err := storage.Get(ctx, c.o.Ledger, c.ledgerKey(req.ID))
		switch {
		case err == nil:
			var e ledgerEntry
			if err := json.Unmarshal(data, &e); err != nil || e.JobID == "" {
				return Result{}, fmt.Errorf("openai request %s: malformed ledger entry %s", req.ID, c.ledgerKey(req.ID))
			}
			res, err := c.finish(ctx, req.ID, e.JobID)
			res.Existing, res.Datasets = true, datasets
			return res, err
		case !errors.Is(err, storage.ErrNotFound):
			return Result{}, fmt.Errorf("openai request %s: ledger: %w", req.ID, err)
		}
	}
	if req.BaseModel == "" {
		return Result{}, fmt.Errorf("openai request %s: no base model", req.ID)
	}
	if len(req.Train) == 0 {
		return Result{}, fmt.Errorf("openai request %s: no training file", req.ID)
	}
	train, err := c.upload(ctx, req.ID, "train", req.Train)
	if err != nil {
		return Result{}, err
	}
	var val string
	if len(req.Validation) > 0 {
		if val, err = c.upload(ctx, req.ID, "validation", req.Validation); err != nil {
			return Result{}, err
		}
	}
	hyper := map[string]any{"n_epochs": req.Method.Epochs, "batch_size": req.Method.BatchSize * req.Method.GradientAccumulation}
	if c.o.LearningRateMultiplier > 0 {
		hyper["learning_rate_multiplier"] = c.o.LearningRateMultiplier
	}
	body := map[string]any{
		"model":         req.BaseModel,
		"training_file": train,
		"seed":          req.Method.Seed,
		"metadata":      map[string]string{"request_id": req.ID, "run_id": req.RunID},
		"method":        map[string]any{"type": "supervised", "supervised": map[string]any{"hyperparameters": hyper}},
	}
	if val != "" {
		body["validation_file"] = val
	}
	if c.o.Suffix != "" {
		body["suffix"] = c.o.Suffix
	}
	data, _ := json.Marshal(body)
	var job wireJob
	if err := c.do(ctx, http.MethodPost, "/fine_tuning/jobs", "application/json", data, &job); err != nil {
		return Result{}, fmt.Errorf("openai request %s: creating the job: %w", req.ID, err)
	}
	res, err := job.result(req.ID)
	if err != nil {
		return Result{}, fmt.Errorf("openai request %s: creating the job: %w", req.ID, err)
	}
	res.Datasets = datasets
	if c.o.Ledger != nil {
		e, _ := json.MarshalIndent(ledgerEntry{RequestID: req.ID, JobID: res.JobID, TrainingFile: train, ValidationFile: val}, "", "  ")
		if err := storage.Put(ctx, c.o.Ledger, c.ledgerKey(req.ID), append(e, '\n')); err != nil {
			return res, fmt.Errorf("openai request %s: job %s created, but recording it failed: %w", req.ID, res.JobID, err)
		}
	}
	c.o.Log.InfoContext(ctx, "fine-tune job created", "request_id", req.ID, "job_id", res.JobID, "status", res.Status)
	if c.o.PollTimeout <= 0 || Terminal(res.Status) {
		return res, nil
	}
	out, err := c.finish(ctx, req.ID, res.JobID)
	out.Datasets = datasets
	return out, err
}

// finish reads the job's status, waiting for the end when PollTimeout is
// set.
func (c *OpenAI) finish(ctx context.Context, requestID, jobID string) (Result, error) {
	var res Result
	var err error
	if c.o.PollTimeout > 0 {
		res, err = Wait(ctx, c, jobID, c.o.PollInterval, c.o.PollTimeout)
	} else {
		res, err = c.Status(ctx, jobID)
	}
	res.RequestID = requestID
	return res, err
}

// Status implements Backend: GET /fine_tuning/jobs/{id}.
func (c *OpenAI) Status(ctx context.Context, jobID string) (Result, error) {
	if err := checkID(jobID); err != nil {
		return Result{}, err
	}
	var job wireJob
	if err := c.do(ctx, http.MethodGet, "/fine_tuning/jobs/"+jobID, "", nil, &job); err != nil {
		return Result{}, fmt.Errorf("openai job %s: %w", jobID, err)
	}
	res, err := job.result("")
	if err != nil {
		return Result{}, fmt.Errorf("openai job %s: %w", jobID, err)
	}
	if res.JobID != jobID {
		return Result{}, fmt.Errorf("openai job %s: the response names job %q", jobID, res.JobID)
	}
	return res, nil
}

// upload posts the files of one split as one JSONL file.
func (c *OpenAI) upload(ctx context.Context, id, split string, refs []DatasetRef) (string, error) {
	var content []byte
	for _, r := range refs {
		data, err := c.o.Read(ctx, r.URI)
		if err != nil {
			return "", fmt.Errorf("openai request %s: reading %s file %s: %w", id, split, r.URI, err)
		}
		content = append(content, data...)
		if len(content) > 0 && content[len(content)-1] != '\n' {
			content = append(content, '\n')
		}
	}
	if len(bytes.TrimSpace(content)) == 0 {
		return "", fmt.Errorf("openai request %s: the %s file is empty", id, split)
	}
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	_ = mw.SetBoundary("atlas-learn-" + id)
	if err := mw.WriteField("purpose", "fine-tune"); err != nil {
		return "", err
	}
	fw, err := mw.CreateFormFile("file", id+"-"+split+".jsonl")
	if err != nil {
		return "", err
	}
	fw.Write(content)
	if err := mw.Close(); err != nil {
		return "", err
	}
	var f struct {
		ID     string `json:"id"`
		Object string `json:"object"`
	}
	if err := c.do(ctx, http.MethodPost, "/files", mw.FormDataContentType(), buf.Bytes(), &f); err != nil {
		return "", fmt.Errorf("openai request %s: uploading the %s file: %w", id, split, err)
	}
	if f.ID == "" {
		return "", fmt.Errorf("openai request %s: uploading the %s file: malformed response: no file id", id, split)
	}
	return f.ID, nil
}

// wireJob is a fine-tuning job as the API returns it.
type wireJob struct {
	ID             string `json:"id"`
	Object         string `json:"object"`
	Status         string `json:"status"`
	FineTunedModel string `json:"fine_tuned_model"`
	Error          *struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

func (j wireJob) result(requestID string) (Result, error) {
	if j.ID == "" {
		return Result{}, errors.New("malformed response: no job id")
	}
	res := Result{RequestID: requestID, Backend: "openai", JobID: j.ID, ModelID: j.FineTunedModel}
	switch j.Status {
	case "validating_files", "queued":
		res.Status = StatusQueued
	case "running":
		res.Status = StatusRunning
	case "succeeded":
		res.Status = StatusSucceeded
		if j.FineTunedModel == "" {
			return Result{}, fmt.Errorf("malformed response: job %s succeeded without a fine_tuned_model", j.ID)
		}
	case "failed", "cancelled":
		res.Status = StatusFailed
		res.Error = j.Status
		if j.Error != nil && j.Error.Message != "" {
			res.Error = j.Error.Message
		}
	default:
		return Result{}, fmt.Errorf("malformed response: job %s has an unknown status %q", j.ID, j.Status)
	}
	return res, nil
}

// APIError is a response with an error status.
type APIError struct {
	Status  int
	Message string
}

func (e *APIError) Error() string { return fmt.Sprintf("HTTP %d: %s", e.Status, e.Message) }

// Retryable tells whether the request may succeed when sent again.
func (e *APIError) Retryable() bool {
	return e.Status == http.StatusTooManyRequests || e.Status >= 500
}

// do sends one request, retrying 429s, 5xx and transport errors, and
// decodes the JSON answer into out.
func (c *OpenAI) do(ctx context.Context, method, path, contentType string, body []byte, out any) error {
	url := c.o.BaseURL + path
	for attempt := 0; ; attempt++ {
		data, retryAfter, err := c.once(ctx, method, url, contentType, body)
		if err == nil {
			if err := json.Unmarshal(data, out); err != nil {
				return fmt.Errorf("%s %s: malformed response: %w", method, path, err)
			}
			return nil
		}
		var api *APIError
		retry := !errors.As(err, &api) || api.Retryable()
		if ctx.Err() != nil || !retry || attempt >= c.o.MaxRetries {
			return fmt.Errorf("%s %s: %w", method, path, err)
		}
		wait := c.o.BackoffInitial << attempt
		if retryAfter > 0 {
			wait = retryAfter
		}
		wait = min(wait, c.o.BackoffMax)
		c.o.Log.WarnContext(ctx, "fine-tune API: retrying", "method", method, "path", path, "attempt", attempt+1, "wait", wait, "err", err)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%s %s: %w (waiting to retry after: %w)", method, path, ctx.Err(), err)
		case <-t.C:
		}
	}
}

func (c *OpenAI) once(ctx context.Context, method, url, contentType string, body []byte) ([]byte, time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, c.o.Timeout)
	defer cancel()
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	hr, err := http.NewRequestWithContext(ctx, method, url, r)
	if err != nil {
		return nil, 0, err
	}
	if contentType != "" {
		hr.Header.Set("Content-Type", contentType)
	}
	if c.o.APIKey != "" {
		hr.Header.Set("Authorization", "Bearer "+c.o.APIKey)
	}
	res, err := c.o.HTTP.Do(hr)
	if err != nil {
		return nil, 0, c.redact(err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(io.LimitReader(res.Body, 16<<20))
	if err != nil {
		return nil, 0, c.redact(err)
	}
	if res.StatusCode/100 != 2 {
		var e struct {
			Error struct {
				Message string `json:"message"`
			} `json:"error"`
		}
		msg := strings.TrimSpace(string(data))
		if json.Unmarshal(data, &e) == nil && e.Error.Message != "" {
			msg = e.Error.Message
		}
		if len(msg) > 300 {
			msg = msg[:300] + "…"
		}
		var ra time.Duration
		if s, err := strconv.Atoi(strings.TrimSpace(res.Header.Get("Retry-After"))); err == nil && s >= 0 {
			ra = time.Duration(s) * time.Second
		}
		return nil, ra, &APIError{Status: res.StatusCode, Message: c.redactText(msg)}
	}
	return data, 0, nil
}

func (c *OpenAI) redactText(s string) string {
	if c.o.APIKey == "" {
		return s
	}
	return strings.ReplaceAll(s, c.o.APIKey, "[redacted]")
}

func (c *OpenAI) redact(err error) error { return errors.New(c.redactText(err.Error())) }
