package llm

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/atlas-ai/atlas-learn/columnar/storage"
)

// maxResponseBytes bounds a response body read.
const maxResponseBytes = 16 << 20

// Options are a client's collaborators; every field may be left zero.
type Options struct {
	// Cache stores answers when Config.Cache is set; nil gives a
	// MemoryCache (answers reused within the process only). It is not
	// used when Config.Cache is false.
	Cache Cache
	// Logger receives the client's records; nil discards them.
	Logger *slog.Logger
	// HTTPClient sends the requests; nil gives a client of its own. Its
	// Timeout should be zero: Config.Timeout bounds each request.
	HTTPClient *http.Client
	// Getenv reads the key's environment variable; nil is os.Getenv.
	Getenv func(string) string
}

// Client calls one model of an OpenAI-compatible chat endpoint. It is
// safe for concurrent use; at most Config.MaxConcurrency calls reach the
// endpoint at once.
type Client struct {
	cfg      Config
	key      string
	keyState string // "set", "unset" or "not read", for String
	url      string
	http     *http.Client
	ownHTTP  bool
	cache    Cache
	log      *slog.Logger
	sem      chan struct{}
	st       stats
}

// New validates cfg and returns a client. In live mode the key is read
// from the environment variable cfg.APIKeyEnv; an empty key sends no
// Authorization header, which local servers accept, but is an error for
// api.openai.com. Offline mode reads no key and dials nothing.
func New(cfg Config, o Options) (*Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("llm.%w", err)
	}
	c := &Client{cfg: cfg, log: o.Logger, keyState: "not read", sem: make(chan struct{}, cfg.MaxConcurrency)}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if cfg.Cache && cfg.Mode != ModeOffline {
		c.cache = o.Cache
		if c.cache == nil {
			c.cache = NewMemoryCache()
		}
	}
	if cfg.Mode != ModeLive {
		return c, nil
	}
	getenv := o.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	c.keyState = "unset"
	if cfg.APIKeyEnv != "" {
		c.key = strings.TrimSpace(getenv(cfg.APIKeyEnv))
		if c.key != "" {
			c.keyState = "set"
		}
	}
	u, _ := url.Parse(cfg.BaseURL) // checked by Validate
	if c.key == "" && strings.EqualFold(u.Hostname(), "api.openai.com") {
		return nil, fmt.Errorf("llm.api_key_env: environment variable %s is empty, and %s needs a key", cmp(cfg.APIKeyEnv, `(api_key_env is "")`), storage.Redact(cfg.BaseURL))
	}
	c.url = strings.TrimSuffix(cfg.BaseURL, "/") + "/chat/completions"
	c.http = o.HTTPClient
	if c.http == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConnsPerHost = cfg.MaxConcurrency
		c.http, c.ownHTTP = &http.Client{Transport: t}, true
	}
	return c, nil
}

func cmp(s, orElse string) string {
	if s == "" {
		return orElse
	}
	return s
}

// Config is the client's configuration.
func (c *Client) Config() Config { return c.cfg }

// Stats is a snapshot of the client's accounting.
func (c *Client) Stats() Stats { return c.st.snapshot() }

// Offline tells whether the client calls no model (Chat returns
// ErrOffline).
func (c *Client) Offline() bool { return c.cfg.Mode == ModeOffline }

// Close releases idle connections of a client-owned transport.
func (c *Client) Close() {
	if c.ownHTTP {
		c.http.CloseIdleConnections()
	}
}

// String is a one-line summary without secrets.
func (c *Client) String() string {
	return fmt.Sprintf("llm.Client{mode=%s base_url=%s model=%s api_key=%s}", c.cfg.Mode, storage.Redact(c.cfg.BaseURL), c.cfg.Model, c.keyState)
}

// LogValue logs the client without secrets.
func (c *Client) LogValue() slog.Value {
	return slog.GroupValue(slog.String("mode", c.cfg.Mode), slog.String("base_url", storage.Redact(c.cfg.BaseURL)),
		slog.String("model", c.cfg.Model), slog.String("api_key", c.keyState))
}

// Redact removes the client's key from s.
func (c *Client) Redact(s string) string { return Redact(s, c.key) }

// Chat sends one chat completion request and returns the first choice.
// In offline mode it returns ErrOffline at once. With the cache enabled an
// identical earlier request is answered from it (Response.Cached). A
// refusal is a Response with Refusal set, not an error. Errors are
// *APIError (errors.As) for a status the server sent, ErrTimeout,
// ErrBadResponse, ErrOffline or the context's error (errors.Is); their
// messages never contain the key.
func (c *Client) Chat(ctx context.Context, req Request) (Response, error) {
	c.st.calls.Add(1)
	if c.cfg.Mode == ModeOffline {
		c.st.offline.Add(1)
		return Response{}, ErrOffline
	}
	w, err := c.wire(req)
	if err != nil {
		c.st.failures.Add(1)
		return Response{}, err
	}
	key, canonical, err := cacheKey(w)
	if err != nil {
		c.st.failures.Add(1)
		return Response{}, err
	}
	if c.cache != nil {
		if r, ok := c.lookup(ctx, key, canonical); ok {
			c.st.cacheHits.Add(1)
			c.st.cachedPromptTokens.Add(r.Usage.PromptTokens)
			c.st.cachedCompletionTokens.Add(r.Usage.CompletionTokens)
			if r.Refused() {
				c.st.refusals.Add(1)
			}
			return r, nil
		}
		c.st.cacheMisses.Add(1)
	}
	if c.cfg.Mode == ModeReplay {
		c.st.offline.Add(1)
		return Response{Key: key}, fmt.Errorf("%w: replay mode and no cached answer (key %s)", ErrOffline, key)
	}
	if b := c.cfg.BudgetUSD; b > 0 && float64(c.st.costMicros.Load()) >= b*1e6 {
		c.st.failures.Add(1)
		return Response{Key: key}, ErrBudgetExhausted
	}
	r, err := c.call(ctx, key, canonical)
	if err != nil {
		c.st.failures.Add(1)
		return Response{Key: key}, redactErr(err, c.key)
	}
	r.Key = key
	c.st.promptTokens.Add(r.Usage.PromptTokens)
	c.st.completionTokens.Add(r.Usage.CompletionTokens)
	c.st.costMicros.Add(costMicroUSD(r.Usage.PromptTokens, c.cfg.PricePer1KPromptTokens) +
		costMicroUSD(r.Usage.CompletionTokens, c.cfg.PricePer1KCompletionTokens))
	if r.Refused() {
		c.st.refusals.Add(1)
	}
	if c.cache != nil {
		c.store(ctx, key, w, r)
	}
	return r, nil
}

// lookup reads key's entry; unreadable entries and entries of another
// request are counted, logged and treated as misses.
func (c *Client) lookup(ctx context.Context, key string, canonical []byte) (Response, bool) {
	data, ok, err := c.cache.Get(ctx, key)
	if err != nil {
		c.st.cacheErrors.Add(1)
		c.log.WarnContext(ctx, "llm: cache read failed; asking the model", "key", key, "err", c.Redact(err.Error()))
		return Response{}, false
	}
	if !ok {
		return Response{}, false
	}
	var e cacheEntry
	if err := json.Unmarshal(data, &e); err != nil || e.Format != cacheFormat || e.Version != keyVersion || e.Key != key {
		c.st.cacheErrors.Add(1)
		c.log.WarnContext(ctx, "llm: unreadable cache entry; asking the model", "key", key)
		return Response{}, false
	}
	if got, err := json.Marshal(e.Request); err != nil || !bytes.Equal(got, canonical) {
		c.st.cacheErrors.Add(1)
		c.log.WarnContext(ctx, "llm: cache entry answers another request; asking the model", "key", key)
		return Response{}, false
	}
	r := e.Response
	r.Cached, r.Key = true, key
	return r, true
}

func (c *Client) store(ctx context.Context, key string, w wireRequest, r Response) {
	data, err := json.MarshalIndent(cacheEntry{Format: cacheFormat, Version: keyVersion, Key: key, Request: w, Response: r}, "", "  ")
	if err == nil {
		err = c.cache.Put(ctx, key, append(data, '\n'))
	}
	if err != nil {
		c.st.cacheErrors.Add(1)
		c.log.WarnContext(ctx, "llm: cache write failed", "key", key, "err", c.Redact(err.Error()))
	}
}

// call sends the request, retrying as the package documentation says,
// holding one concurrency slot throughout.
func (c *Client) call(ctx context.Context, key string, body []byte) (Response, error) {
	select {
	case c.sem <- struct{}{}:
	case <-ctx.Done():
		return Response{}, fmt.Errorf("llm: %w", ctx.Err())
	}
	defer func() { <-c.sem }()
	for n := 0; ; n++ {
		if n > 0 {
			c.st.retries.Add(1)
		}
		c.st.requests.Add(1)
		start := time.Now()
		r, a := c.attempt(ctx, body)
		if a.err == nil {
			c.log.DebugContext(ctx, "llm: answer", "model", c.cfg.Model, "attempt", n+1, "elapsed", time.Since(start),
				"prompt_tokens", r.Usage.PromptTokens, "completion_tokens", r.Usage.CompletionTokens, "finish_reason", r.FinishReason)
			return r, nil
		}
		if ctx.Err() != nil {
			return Response{}, fmt.Errorf("llm: chat %s: %w", c.cfg.Model, ctx.Err())
		}
		if !a.retry || n >= c.cfg.MaxRetries {
			err := a.err
			if n > 0 {
				err = fmt.Errorf("%d attempts: %w", n+1, err)
			}
			return Response{}, fmt.Errorf("llm: chat %s: %w", c.cfg.Model, err)
		}
		wait := c.backoff(key, n+1, a.retryAfter, a.hasRetryAfter)
		c.log.WarnContext(ctx, "llm: retrying", "model", c.cfg.Model, "attempt", n+1, "wait", wait, "err", c.Redact(a.err.Error()))
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return Response{}, fmt.Errorf("llm: chat %s: %w (waiting to retry after: %w)", c.cfg.Model, ctx.Err(), a.err)
		}
	}
}

// outcome is how one attempt failed.
type outcome struct {
	err           error
	retry         bool
	retryAfter    time.Duration
	hasRetryAfter bool
}

func (c *Client) attempt(ctx context.Context, body []byte) (Response, outcome) {
	actx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(actx, http.MethodPost, c.url, bytes.NewReader(body))
	if err != nil {
		return Response{}, outcome{err: err}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "atlas-learn")
	if c.key != "" {
		req.Header.Set("Authorization", "Bearer "+c.key)
	}
	res, err := c.http.Do(req)
	if err != nil {
		return Response{}, c.transportFailure(ctx, actx, err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(io.LimitReader(res.Body, maxResponseBytes+1))
	if err != nil {
		return Response{}, c.transportFailure(ctx, actx, err)
	}
	if len(data) > maxResponseBytes {
		return Response{}, outcome{err: fmt.Errorf("POST %s: %w: body over %d bytes", c.url, ErrBadResponse, maxResponseBytes)}
	}
	if res.StatusCode/100 != 2 {
		e := c.apiError(res.StatusCode, data)
		ra, ok := retryAfter(res.Header, time.Now())
		return Response{}, outcome{err: e, retry: e.Retryable(), retryAfter: ra, hasRetryAfter: ok}
	}
	var wr wireResponse
	if err := json.Unmarshal(data, &wr); err != nil {
		// A 2xx body that is not JSON is most likely cut short: retried.
		return Response{}, outcome{err: fmt.Errorf("POST %s: %w: malformed JSON (%v): %q", c.url, ErrBadResponse, err,
			truncate(c.Redact(string(data)), 120)), retry: true}
	}
	if len(wr.Error) > 0 && string(wr.Error) != "null" {
		return Response{}, outcome{err: c.apiError(res.StatusCode, data)}
	}
	if len(wr.Choices) == 0 {
		return Response{}, outcome{err: fmt.Errorf("POST %s: %w: no choices in %q", c.url, ErrBadResponse, truncate(c.Redact(string(data)), 120))}
	}
	ch := wr.Choices[0]
	// The content is redacted too: a server echoing the key must not put
	// it into the cache or a dataset.
	r := Response{Content: c.Redact(deref(ch.Message.Content)), FinishReason: deref(ch.FinishReason),
		Refusal: c.Redact(deref(ch.Message.Refusal)), Model: deref(wr.Model)}
	if r.Refusal == "" && r.FinishReason == "content_filter" {
		r.Refusal = "content_filter"
	}
	if wr.Usage != nil {
		r.Usage = Usage{PromptTokens: wr.Usage.PromptTokens, CompletionTokens: wr.Usage.CompletionTokens}
	}
	return r, outcome{}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func (c *Client) apiError(status int, body []byte) *APIError {
	return &APIError{Status: status, URL: c.url, Message: truncate(c.Redact(errorMessage(body)), maxBodyInError),
		Body: truncate(c.Redact(string(body)), maxBodyInError)}
}

// transportFailure classifies an error from sending or reading: the
// caller's context ending is final, the attempt's time-out and connection
// errors are retried.
func (c *Client) transportFailure(ctx, actx context.Context, err error) outcome {
	if ctx.Err() != nil {
		return outcome{err: ctx.Err()}
	}
	if errors.Is(actx.Err(), context.DeadlineExceeded) {
		return outcome{err: fmt.Errorf("POST %s: %w after %s", c.url, ErrTimeout, c.cfg.Timeout), retry: true}
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return outcome{err: fmt.Errorf("POST %s: %w", c.url, err), retry: true}
}

// retryAfter reads retry-after-ms (OpenAI's) or Retry-After (seconds or
// an HTTP date).
func retryAfter(h http.Header, now time.Time) (time.Duration, bool) {
	if v := strings.TrimSpace(h.Get("Retry-After-Ms")); v != "" {
		if ms, err := strconv.ParseFloat(v, 64); err == nil && ms >= 0 && ms < 1e12 {
			return time.Duration(ms * float64(time.Millisecond)), true
		}
	}
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	if s, err := strconv.ParseFloat(v, 64); err == nil && s >= 0 && s < 1e9 {
		return time.Duration(s * float64(time.Second)), true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

// backoff is the wait before retry n (1-based): the server's Retry-After
// when it sent one, else BackoffInitial·2^(n-1) with equal jitter drawn
// deterministically from the key and n; never more than BackoffMax.
func (c *Client) backoff(key string, n int, ra time.Duration, hasRA bool) time.Duration {
	if hasRA {
		return min(ra, c.cfg.BackoffMax)
	}
	d := c.cfg.BackoffInitial
	for i := 1; i < n && d < c.cfg.BackoffMax; i++ {
		d *= 2
	}
	d = min(d, c.cfg.BackoffMax)
	if d <= 1 {
		return d
	}
	h := fnv.New64a()
	h.Write([]byte(key))
	_ = binary.Write(h, binary.LittleEndian, int64(n))
	half := d / 2
	return half + time.Duration(h.Sum64()%uint64(d-half+1))
}
