package analysis

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/atlas-ai/atlas-learn/columnar"
)

// ReplayProtocol names the HTTP replay protocol's version.
const ReplayProtocol = "atlas-replay/1"

// ReplayRequest is the body the HTTP replayer POSTs: the trajectory with
// some steps removed. The steps keep their original indices.
type ReplayRequest struct {
	Protocol     string          `json:"protocol"`
	TrajectoryID string          `json:"trajectory_id"`
	Task         columnar.Task   `json:"task"`
	Agent        columnar.Agent  `json:"agent"`
	RemovedSteps []int           `json:"removed_steps"`
	Steps        []columnar.Step `json:"steps"`
}

// ReplayResponse is the service's answer: success, and where it can
// measure partial success, a score in [0, 1]; optionally a behavior
// digest, so that a change short of the score is seen.
type ReplayResponse struct {
	Success  bool     `json:"success"`
	Score    *float64 `json:"score,omitempty"`
	Behavior string   `json:"behavior,omitempty"`
	// Error, when set, means the environment could not replay; it is
	// reported and the trajectory falls back.
	Error string `json:"error,omitempty"`
}

// HTTPReplayer replays trajectories in an environment we cannot run
// ourselves (a SWE-style repository, a web agent's site), behind the
// user's HTTP service: one POST per replay (the whole trajectory first,
// then one per step left out), answered with a ReplayResponse. Requests
// time out after Timeout, are retried with exponential backoff on
// transport errors, timeouts, 429 (honouring Retry-After) and 5xx, and at
// most Concurrency are in flight at once across all trajectories.
type HTTPReplayer struct {
	URL    string
	Client *http.Client
	// Timeout bounds one request (default 30s); Retries bounds the
	// retries of one request (default 3); Backoff is the first retry's
	// wait, doubled each time (default 500ms).
	Timeout time.Duration
	Retries int
	Backoff time.Duration
	Cache   Cache

	sem chan struct{}
}

// NewHTTPReplayer returns a replayer of url with at most concurrency
// requests in flight.
func NewHTTPReplayer(url string, concurrency int) *HTTPReplayer {
	return &HTTPReplayer{URL: url, Client: &http.Client{}, sem: make(chan struct{}, max(concurrency, 1))}
}

// Replay implements Replayer.
func (r *HTTPReplayer) Replay(ctx context.Context, t *columnar.Trajectory, budget int) (Outcome, []StepOutcome, ReplayStats, error) {
	var st ReplayStats
	if len(t.Steps) == 0 {
		return Outcome{}, nil, st, fmt.Errorf("%w: no steps", ErrNotReplayable)
	}
	n := len(t.Steps)
	if budget > 0 && budget < n {
		n = budget
	}
	out := make([]StepOutcome, len(t.Steps))
	results := make([]Outcome, n+1)
	cached := make([]bool, n+1)
	errs := make([]error, n+1)
	// At most the concurrency limit of requests are built at once (each
	// holds a copy of the trajectory), and the error reported is the
	// lowest step's, whatever the order requests fail in.
	// Every replay runs even when one fails, so that the error reported
	// (the lowest step's) does not depend on timing.
	var g errgroup.Group
	g.SetLimit(cap(r.sem))
	for i := -1; i < n; i++ {
		g.Go(func() error {
			var removed []int
			if i >= 0 {
				removed = []int{i}
			}
			o, hit, err := r.one(ctx, t, removed)
			results[i+1], cached[i+1], errs[i+1] = o, hit, err
			return nil
		})
	}
	_ = g.Wait()
	if err := ctx.Err(); err != nil {
		return Outcome{}, nil, st, err
	}
	for i, e := range errs {
		if e == nil {
			continue
		}
		if i == 0 {
			return Outcome{}, nil, st, fmt.Errorf("replay of the whole trajectory: %w", e)
		}
		return Outcome{}, nil, st, fmt.Errorf("replay without step %d: %w", i-1, e)
	}
	base := results[0]
	for i := 0; i <= n; i++ {
		if cached[i] {
			st.CacheHits++
		} else {
			st.Replays++
		}
		if i > 0 {
			out[i-1] = StepOutcome{Outcome: results[i], Known: true}
		}
	}
	return base, out, st, nil
}

// one runs one replay, through the cache.
func (r *HTTPReplayer) one(ctx context.Context, t *columnar.Trajectory, removed []int) (Outcome, bool, error) {
	req := ReplayRequest{Protocol: ReplayProtocol, TrajectoryID: t.TrajectoryID, Task: t.Task, Agent: t.Agent, RemovedSteps: removed, Steps: []columnar.Step{}}
	if req.RemovedSteps == nil {
		req.RemovedSteps = []int{}
	}
	for i, s := range t.Steps {
		if len(removed) == 0 || removed[0] != i {
			req.Steps = append(req.Steps, s)
		}
	}
	body, err := json.Marshal(req)
	if err != nil {
		return Outcome{}, false, err
	}
	// The cache key leaves the trajectory's id out: the same steps on the
	// same task are the same replay.
	req.TrajectoryID = ""
	keyBody, _ := json.Marshal(req)
	key := "http:" + hashOf([]byte(r.URL)) + ":" + hashOf(keyBody)
	if r.Cache != nil {
		if o, ok := r.Cache.Get(key); ok {
			return o, true, nil
		}
	}
	select {
	case r.sem <- struct{}{}:
	case <-ctx.Done():
		return Outcome{}, false, ctx.Err()
	}
	defer func() { <-r.sem }()
	resp, err := r.post(ctx, body)
	if err != nil {
		return Outcome{}, false, err
	}
	if resp.Error != "" {
		return Outcome{}, false, fmt.Errorf("%w: the environment says: %s", ErrNotReplayable, truncate(resp.Error, 300))
	}
	o := Outcome{Behavior: resp.Behavior}
	switch {
	case resp.Score != nil:
		if *resp.Score < 0 || *resp.Score > 1 {
			return Outcome{}, false, fmt.Errorf("score %v is outside [0, 1]", *resp.Score)
		}
		o.Score = *resp.Score
	case resp.Success:
		o.Score = 1
	}
	if r.Cache != nil {
		r.Cache.Put(key, o)
	}
	return o, false, nil
}

// post sends one request with retries.
func (r *HTTPReplayer) post(ctx context.Context, body []byte) (*ReplayResponse, error) {
	timeout, retries, backoff := r.Timeout, r.Retries, r.Backoff
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	if retries < 0 {
		retries = 0
	} else if retries == 0 {
		retries = 3
	}
	if backoff <= 0 {
		backoff = 500 * time.Millisecond
	}
	client := r.Client
	if client == nil {
		client = http.DefaultClient
	}
	var last error
	for attempt := 0; ; attempt++ {
		resp, retryAfter, err := r.attempt(ctx, client, body, timeout)
		if err == nil {
			return resp, nil
		}
		last = err
		var perm *permanentError
		if errors.As(err, &perm) || attempt >= retries || ctx.Err() != nil {
			break
		}
		wait := backoff << attempt
		wait += time.Duration(rand.Int64N(int64(wait)/4 + 1)) // jitter
		if retryAfter > 0 {
			wait = retryAfter
		}
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	return nil, fmt.Errorf("%s: %w", r.URL, last)
}

type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

func (r *HTTPReplayer) attempt(ctx context.Context, client *http.Client, body []byte, timeout time.Duration) (*ReplayResponse, time.Duration, error) {
	actx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(actx, http.MethodPost, r.URL, bytes.NewReader(body))
	if err != nil {
		return nil, 0, &permanentError{err}
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, 0, err
	}
	switch {
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		var ra time.Duration
		if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s >= 0 {
			ra = time.Duration(s) * time.Second
		}
		return nil, ra, fmt.Errorf("HTTP %d: %s", resp.StatusCode, truncate(string(data), 200))
	case resp.StatusCode != http.StatusOK:
		return nil, 0, &permanentError{fmt.Errorf("HTTP %d: %s", resp.StatusCode, truncate(string(data), 200))}
	}
	var out ReplayResponse
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&out); err != nil {
		return nil, 0, &permanentError{fmt.Errorf("malformed answer: %w", err)}
	}
	return &out, 0, nil
}
