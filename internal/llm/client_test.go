package llm_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/atlas-ai/atlas-learn/columnar/storage"
	"github.com/atlas-ai/atlas-learn/internal/llm"
	"github.com/atlas-ai/atlas-learn/internal/llmtest"
)

const (
	testKey    = "sk-test-SECRET-0123456789abcdef"
	testKeyEnv = "ATLAS_TEST_LLM_KEY"
)

func getenv(name string) string {
	if name == testKeyEnv {
		return testKey
	}
	return ""
}

// liveConfig is a live configuration against url with small durations.
func liveConfig(url string) llm.Config {
	c := llm.Defaults()
	c.Mode = llm.ModeLive
	c.BaseURL = url
	c.Model = "test-model"
	c.APIKeyEnv = testKeyEnv
	c.MaxRetries = 3
	c.Timeout = 2 * time.Second
	c.BackoffInitial = time.Millisecond
	c.BackoffMax = 4 * time.Millisecond
	c.Cache = false
	return c
}

func newClient(t *testing.T, cfg llm.Config, o llm.Options) *llm.Client {
	t.Helper()
	if o.Getenv == nil {
		o.Getenv = getenv
	}
	c, err := llm.New(cfg, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

func ask(q string) llm.Request {
	return llm.Request{Messages: []llm.Message{{Role: "system", Content: "You analyse trajectories."}, {Role: "user", Content: q}}}
}

func TestChatSuccess(t *testing.T) {
	s := llmtest.New(t)
	s.Handle("why", llmtest.Reply{Content: "because", PromptTokens: 12, CompletionTokens: 3})
	cfg := liveConfig(s.URL)
	cfg.Temperature, cfg.MaxTokens, cfg.Seed = 0.3, 256, 42
	c := newClient(t, cfg, llm.Options{})
	r, err := c.Chat(context.Background(), ask("why did it fail?"))
	if err != nil {
		t.Fatal(err)
	}
	if r.Content != "because" || r.FinishReason != "stop" || r.Refused() || r.Cached || r.Model != "test-model" {
		t.Errorf("response %+v", r)
	}
	if r.Usage != (llm.Usage{PromptTokens: 12, CompletionTokens: 3}) {
		t.Errorf("usage %+v", r.Usage)
	}
	if len(r.Key) != 64 {
		t.Errorf("key %q", r.Key)
	}
	reqs := s.Requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests", len(reqs))
	}
	q := reqs[0]
	if q.Method != "POST" || q.Path != "/v1/chat/completions" || q.Authorization != "Bearer "+testKey {
		t.Errorf("request %s %s, Authorization %q", q.Method, q.Path, q.Authorization)
	}
	if q.Model != "test-model" || q.Temperature == nil || *q.Temperature != 0.3 || q.MaxTokens == nil || *q.MaxTokens != 256 ||
		q.Seed == nil || *q.Seed != 42 || q.ResponseFormat != nil {
		t.Errorf("parameters sent: %s", q.Body)
	}
	if len(q.Messages) != 2 || q.Messages[0].Role != "system" || q.LastUser() != "why did it fail?" {
		t.Errorf("messages sent: %+v", q.Messages)
	}

	// Per-request parameters override the configuration; JSON mode.
	temp, maxTok, seed := 0.0, 10, int64(9)
	s.Handle("json", llmtest.Text(`{"ok":true}`))
	req := ask("json please")
	req.JSON, req.Temperature, req.MaxTokens, req.Seed = true, &temp, &maxTok, &seed
	if _, err := c.Chat(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	q = s.Requests()[1]
	if *q.Temperature != 0 || *q.MaxTokens != 10 || *q.Seed != 9 || string(q.ResponseFormat) != `{"type":"json_object"}` {
		t.Errorf("overrides sent: %s", q.Body)
	}

	// Zero max_tokens and seed are not sent.
	cfg.MaxTokens, cfg.Seed = 0, 0
	c2 := newClient(t, cfg, llm.Options{})
	if _, err := c2.Chat(context.Background(), ask("why not")); err != nil {
		t.Fatal(err)
	}
	q = s.Requests()[2]
	if q.MaxTokens != nil || q.Seed != nil || q.Temperature == nil {
		t.Errorf("unset parameters sent: %s", q.Body)
	}
}

// TestFailures plays back each failure kind and checks the requests made,
// the error and the accounting.
func TestFailures(t *testing.T) {
	slow := llmtest.Slow(2*time.Second, llmtest.Text("late"))
	tests := []struct {
		name     string
		script   []llmtest.Reply // queued, then...
		fallback *llmtest.Reply  // ... answered to every further request
		requests int             // HTTP requests made
		check    func(t *testing.T, r llm.Response, err error)
	}{
		{name: "500 then ok", script: []llmtest.Reply{llmtest.Status(500), llmtest.Text("ok")}, requests: 2, check: wantContent("ok")},
		{name: "503 then ok", script: []llmtest.Reply{llmtest.Status(503), llmtest.Text("ok")}, requests: 2, check: wantContent("ok")},
		{name: "502 504 then ok", script: []llmtest.Reply{llmtest.Status(502), llmtest.Status(504), llmtest.Text("ok")}, requests: 3, check: wantContent("ok")},
		{name: "429 then ok", script: []llmtest.Reply{llmtest.RateLimited("0"), llmtest.Text("ok")}, requests: 2, check: wantContent("ok")},
		{name: "408 then ok", script: []llmtest.Reply{llmtest.Status(408), llmtest.Text("ok")}, requests: 2, check: wantContent("ok")},
		{name: "500 always", fallback: ptr(llmtest.Status(500)), requests: 4, check: wantStatus(500, true)},
		{name: "503 always", fallback: ptr(llmtest.Status(503)), requests: 4, check: wantStatus(503, true)},
		{name: "429 always", fallback: ptr(llmtest.RateLimited("0")), requests: 4, check: wantStatus(429, true)},
		{name: "400 not retried", fallback: ptr(llmtest.Status(400)), requests: 1, check: wantStatus(400, false)},
		{name: "401 not retried", fallback: ptr(llmtest.Status(401)), requests: 1, check: wantStatus(401, false)},
		{name: "404 not retried", fallback: ptr(llmtest.Status(404)), requests: 1, check: wantStatus(404, false)},
		{name: "error body with 200", fallback: &llmtest.Reply{Body: `{"error":{"message":"model not loaded"}}`}, requests: 1,
			check: func(t *testing.T, _ llm.Response, err error) {
				var ae *llm.APIError
				if !errors.As(err, &ae) || ae.Status != 200 || ae.Message != "model not loaded" {
					t.Errorf("error %v, want APIError 200 with the message", err)
				}
			}},
		{name: "malformed then ok", script: []llmtest.Reply{llmtest.Malformed(), llmtest.Text("ok")}, requests: 2, check: wantContent("ok")},
		{name: "malformed always", fallback: ptr(llmtest.Malformed()), requests: 4, check: wantIs(llm.ErrBadResponse, "malformed JSON")},
		{name: "not a completion", fallback: ptr(llmtest.NotCompletion()), requests: 1, check: wantIs(llm.ErrBadResponse, "no choices")},
		{name: "slow then ok", script: []llmtest.Reply{slow, llmtest.Text("ok")}, requests: 2, check: wantContent("ok")},
		{name: "slow always", fallback: &slow, requests: 4, check: wantIs(llm.ErrTimeout, "timed out after 100ms")},
		{name: "refusal", fallback: ptr(llmtest.Refusal("I can't help with that.")), requests: 1,
			check: func(t *testing.T, r llm.Response, err error) {
				if err != nil || !r.Refused() || r.Refusal != "I can't help with that." || r.Content != "" {
					t.Errorf("got %+v, %v; want a refusal", r, err)
				}
			}},
		{name: "content filter", fallback: ptr(llmtest.ContentFilter()), requests: 1,
			check: func(t *testing.T, r llm.Response, err error) {
				if err != nil || r.Refusal != "content_filter" || r.FinishReason != "content_filter" || r.Content != "" {
					t.Errorf("got %+v, %v; want a filtered answer", r, err)
				}
			}},
		{name: "length", fallback: &llmtest.Reply{Content: "cut", FinishReason: "length"}, requests: 1,
			check: func(t *testing.T, r llm.Response, err error) {
				if err != nil || r.Content != "cut" || r.FinishReason != "length" || r.Refused() {
					t.Errorf("got %+v, %v", r, err)
				}
			}},
		{name: "no usage", fallback: &llmtest.Reply{Content: "ok", NoUsage: true}, requests: 1,
			check: func(t *testing.T, r llm.Response, err error) {
				if err != nil || r.Usage != (llm.Usage{}) {
					t.Errorf("got %+v, %v", r, err)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := llmtest.New(t)
			s.Enqueue(tt.script...)
			if tt.fallback != nil {
				s.Default(*tt.fallback)
			}
			cfg := liveConfig(s.URL)
			cfg.Timeout = 100 * time.Millisecond
			c := newClient(t, cfg, llm.Options{})
			r, err := c.Chat(context.Background(), ask("q"))
			tt.check(t, r, err)
			if n := s.Count(); n != tt.requests {
				t.Errorf("server saw %d requests, want %d", n, tt.requests)
			}
			st := c.Stats()
			failures := int64(0)
			if err != nil {
				failures = 1
			}
			want := llm.Stats{Calls: 1, Requests: int64(tt.requests), Retries: int64(tt.requests - 1), Failures: failures,
				PromptTokens: r.Usage.PromptTokens, CompletionTokens: r.Usage.CompletionTokens}
			if r.Refused() {
				want.Refusals = 1
			}
			if st != want {
				t.Errorf("stats %+v, want %+v", st, want)
			}
			if err != nil && strings.Contains(err.Error(), testKey) {
				t.Errorf("error carries the key: %v", err)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

func wantContent(content string) func(*testing.T, llm.Response, error) {
	return func(t *testing.T, r llm.Response, err error) {
		t.Helper()
		if err != nil || r.Content != content {
			t.Errorf("got %q, %v; want %q", r.Content, err, content)
		}
	}
}

func wantStatus(status int, retryable bool) func(*testing.T, llm.Response, error) {
	return func(t *testing.T, _ llm.Response, err error) {
		t.Helper()
		var ae *llm.APIError
		if !errors.As(err, &ae) {
			t.Fatalf("error %v, want an *APIError", err)
		}
		if ae.Status != status || ae.Retryable() != retryable || !strings.Contains(ae.Message, fmt.Sprintf("scripted %d", status)) {
			t.Errorf("APIError %+v, want status %d", ae, status)
		}
		if !strings.Contains(err.Error(), "test-model") || !strings.Contains(err.Error(), fmt.Sprint(status)) {
			t.Errorf("message %q names neither model nor status", err)
		}
	}
}

func wantIs(target error, text string) func(*testing.T, llm.Response, error) {
	return func(t *testing.T, _ llm.Response, err error) {
		t.Helper()
		if !errors.Is(err, target) || !strings.Contains(err.Error(), text) {
			t.Errorf("error %v, want %v with %q", err, target, text)
		}
	}
}

func TestConnectionRefusedRetried(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	cfg := liveConfig("http://" + addr + "/v1")
	cfg.MaxRetries = 2
	c := newClient(t, cfg, llm.Options{})
	_, err = c.Chat(context.Background(), ask("q"))
	var ae *llm.APIError
	if err == nil || errors.As(err, &ae) || errors.Is(err, llm.ErrTimeout) || !strings.Contains(err.Error(), "3 attempts") {
		t.Fatalf("error %v, want a connection error after 3 attempts", err)
	}
	if st := c.Stats(); st.Requests != 3 || st.Retries != 2 || st.Failures != 1 {
		t.Errorf("stats %+v", st)
	}
}

func TestRetryAfterHonoured(t *testing.T) {
	tests := []struct {
		name     string
		header   map[string]string
		min, max time.Duration
	}{
		{"Retry-After seconds", map[string]string{"Retry-After": "1"}, time.Second, 1900 * time.Millisecond},
		{"retry-after-ms", map[string]string{"retry-after-ms": "150"}, 150 * time.Millisecond, 900 * time.Millisecond},
		{"capped at backoff_max", map[string]string{"Retry-After": "100"}, 0, 900 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := llmtest.New(t)
			s.Enqueue(llmtest.Reply{Status: 429, Header: tt.header}, llmtest.Text("ok"))
			cfg := liveConfig(s.URL)
			cfg.BackoffMax = 1500 * time.Millisecond
			if tt.name == "capped at backoff_max" {
				cfg.BackoffMax = 50 * time.Millisecond
			}
			c := newClient(t, cfg, llm.Options{})
			start := time.Now()
			r, err := c.Chat(context.Background(), ask("q"))
			elapsed := time.Since(start)
			if err != nil || r.Content != "ok" {
				t.Fatalf("got %+v, %v", r, err)
			}
			if elapsed < tt.min || elapsed > tt.max {
				t.Errorf("took %s, want %s..%s", elapsed, tt.min, tt.max)
			}
			if st := c.Stats(); st.Retries != 1 || st.Requests != 2 {
				t.Errorf("stats %+v", st)
			}
		})
	}
}

func TestContextEndsRetries(t *testing.T) {
	s := llmtest.New(t)
	s.Default(llmtest.Status(500))
	cfg := liveConfig(s.URL)
	cfg.BackoffInitial, cfg.BackoffMax = 10*time.Second, 10*time.Second
	c := newClient(t, cfg, llm.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.Chat(ctx, ask("q"))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("error %v, want the context's deadline", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("took %s after the context ended", d)
	}
	if s.Count() != 1 {
		t.Errorf("%d requests", s.Count())
	}
}

func TestConcurrencyBound(t *testing.T) {
	s := llmtest.New(t)
	s.Default(llmtest.Slow(100*time.Millisecond, llmtest.Text("ok")))
	cfg := liveConfig(s.URL)
	cfg.MaxConcurrency = 3
	c := newClient(t, cfg, llm.Options{})
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for i := range 20 {
		wg.Go(func() {
			if _, err := c.Chat(context.Background(), ask(fmt.Sprint("q", i))); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if m := s.MaxConcurrent(); m > 3 || m < 2 {
		t.Errorf("server saw %d concurrent requests, want at most 3 (and the bound reached)", m)
	}
	if st := c.Stats(); st.Calls != 20 || st.Requests != 20 {
		t.Errorf("stats %+v", st)
	}
}

func TestCache(t *testing.T) {
	s := llmtest.New(t)
	s.Default(llmtest.Reply{Content: "answer", PromptTokens: 100, CompletionTokens: 10})
	cfg := liveConfig(s.URL)
	cfg.Cache = true
	cfg.PricePer1KPromptTokens, cfg.PricePer1KCompletionTokens = 1, 2
	cache := llm.NewMemoryCache()
	c := newClient(t, cfg, llm.Options{Cache: cache})
	ctx := context.Background()

	first, err := c.Chat(ctx, ask("q"))
	if err != nil || first.Cached {
		t.Fatalf("first: %+v, %v", first, err)
	}
	second, err := c.Chat(ctx, ask("q"))
	if err != nil || !second.Cached || second.Content != "answer" || second.Key != first.Key || second.Usage != first.Usage {
		t.Fatalf("second: %+v, %v", second, err)
	}
	if s.Count() != 1 {
		t.Fatalf("a cache hit sent a request: %d requests", s.Count())
	}
	// Other parameters, other messages: misses.
	temp, seed, maxTok := 0.5, int64(3), 64
	variants := map[string]llm.Request{
		"temperature": {Messages: ask("q").Messages, Temperature: &temp},
		"seed":        {Messages: ask("q").Messages, Seed: &seed},
		"max_tokens":  {Messages: ask("q").Messages, MaxTokens: &maxTok},
		"json":        {Messages: ask("q").Messages, JSON: true},
		"message":     ask("q2"),
	}
	for name, req := range variants {
		r, err := c.Chat(ctx, req)
		if err != nil || r.Cached {
			t.Errorf("%s: %+v, %v; want a miss", name, r, err)
		}
	}
	if s.Count() != 6 || cache.Len() != 6 {
		t.Errorf("%d requests, %d entries; want 6, 6", s.Count(), cache.Len())
	}
	st := c.Stats()
	want := llm.Stats{Calls: 7, Requests: 6, CacheHits: 1, CacheMisses: 6, PromptTokens: 600, CompletionTokens: 60,
		CachedPromptTokens: 100, CachedCompletionTokens: 10, CostMicroUSD: 6 * (100*1000 + 10*2000)}
	if st != want {
		t.Errorf("stats %+v\nwant  %+v", st, want)
	}

	// A model under another name is another key.
	cfg2 := cfg
	cfg2.Model = "other-model"
	c2 := newClient(t, cfg2, llm.Options{Cache: cache})
	if r, err := c2.Chat(ctx, ask("q")); err != nil || r.Cached {
		t.Errorf("other model: %+v, %v; want a miss", r, err)
	}
	// Errors are not cached.
	s.Handle("fail", llmtest.Status(400), llmtest.Text("fixed"))
	if _, err := c.Chat(ctx, ask("fail")); err == nil {
		t.Fatal("want the 400")
	}
	if r, err := c.Chat(ctx, ask("fail")); err != nil || r.Cached || r.Content != "fixed" {
		t.Errorf("after an error: %+v, %v", r, err)
	}
}

func TestCacheDisabled(t *testing.T) {
	s := llmtest.New(t)
	s.Default(llmtest.Text("a"))
	cache := llm.NewMemoryCache()
	c := newClient(t, liveConfig(s.URL), llm.Options{Cache: cache}) // cache: false
	for range 2 {
		if r, err := c.Chat(context.Background(), ask("q")); err != nil || r.Cached {
			t.Fatalf("%+v, %v", r, err)
		}
	}
	if s.Count() != 2 || cache.Len() != 0 {
		t.Errorf("%d requests, %d entries", s.Count(), cache.Len())
	}
}

func TestBucketCachePersists(t *testing.T) {
	dir := t.TempDir()
	s := llmtest.New(t)
	s.Default(llmtest.Reply{Content: "persisted", PromptTokens: 7, CompletionTokens: 2})
	s.Handle("refuse", llmtest.Refusal("no"))
	cfg := liveConfig(s.URL)
	cfg.Cache = true
	ctx := context.Background()
	open := func() llm.Cache {
		b, err := storage.NewLocal(dir)
		if err != nil {
			t.Fatal(err)
		}
		return llm.NewBucketCache(b, "llm-cache")
	}
	c1 := newClient(t, cfg, llm.Options{Cache: open()})
	r1, err := c1.Chat(ctx, ask("q"))
	if err != nil {
		t.Fatal(err)
	}
	rr, err := c1.Chat(ctx, ask("refuse"))
	if err != nil {
		t.Fatal(err)
	}

	entry := filepath.Join(dir, "llm-cache", r1.Key[:2], r1.Key+".json")
	data, err := os.ReadFile(entry)
	if err != nil {
		t.Fatalf("entry not at %s: %v", entry, err)
	}
	var e struct {
		Format   string          `json:"format"`
		Key      string          `json:"key"`
		Request  json.RawMessage `json:"request"`
		Response struct {
			Content string `json:"content"`
		} `json:"response"`
	}
	if err := json.Unmarshal(data, &e); err != nil || e.Format != "atlas-learn/llm-cache" || e.Key != r1.Key ||
		e.Response.Content != "persisted" || !bytes.Contains(e.Request, []byte(`"model": "test-model"`)) {
		t.Errorf("entry %s: %v", data, err)
	}
	if bytes.Contains(data, []byte(testKey)) {
		t.Errorf("the entry holds the key")
	}

	// A new client over the same directory: no request.
	c2 := newClient(t, cfg, llm.Options{Cache: open()})
	r2, err := c2.Chat(ctx, ask("q"))
	if err != nil || !r2.Cached || r2.Content != "persisted" || r2.Usage != r1.Usage {
		t.Fatalf("second client: %+v, %v", r2, err)
	}
	r3, err := c2.Chat(ctx, ask("refuse"))
	if err != nil || !r3.Cached || r3.Refusal != "no" {
		t.Fatalf("cached refusal: %+v, %v", r3, err)
	}
	if s.Count() != 2 {
		t.Errorf("%d requests, want 2", s.Count())
	}
	if st := c2.Stats(); st != (llm.Stats{Calls: 2, CacheHits: 2, Refusals: 1,
		CachedPromptTokens: r1.Usage.PromptTokens + rr.Usage.PromptTokens, CachedCompletionTokens: r1.Usage.CompletionTokens + rr.Usage.CompletionTokens}) {
		t.Errorf("second client stats %+v", st)
	}

	// Replay: answers from the cache, a miss is ErrOffline without a
	// request, and no key is needed.
	rcfg := cfg
	rcfg.Mode, rcfg.APIKeyEnv = llm.ModeReplay, ""
	rc := newClient(t, rcfg, llm.Options{Cache: open(), HTTPClient: noNetwork(t)})
	if r, err := rc.Chat(ctx, ask("q")); err != nil || !r.Cached || r.Content != "persisted" {
		t.Errorf("replay hit: %+v, %v", r, err)
	}
	if _, err := rc.Chat(ctx, ask("never asked")); !errors.Is(err, llm.ErrOffline) {
		t.Errorf("replay miss: %v, want ErrOffline", err)
	}
	if st := rc.Stats(); st.Offline != 1 || st.CacheHits != 1 || st.Requests != 0 {
		t.Errorf("replay stats %+v", st)
	}

	// A corrupt entry is a miss: the model is asked and the entry
	// rewritten.
	if err := os.WriteFile(entry, []byte("{not json"), 0o644); err != nil {
		t.Fatal(err)
	}
	c3 := newClient(t, cfg, llm.Options{Cache: open()})
	if r, err := c3.Chat(ctx, ask("q")); err != nil || r.Cached {
		t.Errorf("corrupt entry: %+v, %v", r, err)
	}
	if st := c3.Stats(); st.CacheErrors != 1 || st.Requests != 1 {
		t.Errorf("stats %+v", st)
	}
	c4 := newClient(t, cfg, llm.Options{Cache: open()})
	if r, err := c4.Chat(ctx, ask("q")); err != nil || !r.Cached {
		t.Errorf("rewritten entry: %+v, %v", r, err)
	}
	// An entry of another request under this key is a miss too.
	other, _ := os.ReadFile(filepath.Join(dir, "llm-cache", r3.Key[:2], r3.Key+".json"))
	if err := os.WriteFile(entry, bytes.ReplaceAll(other, []byte(r3.Key), []byte(r1.Key)), 0o644); err != nil {
		t.Fatal(err)
	}
	c5 := newClient(t, cfg, llm.Options{Cache: open()})
	if r, err := c5.Chat(ctx, ask("q")); err != nil || r.Cached || r.Content != "persisted" {
		t.Errorf("entry of another request: %+v, %v", r, err)
	}
}

// noNetwork is an HTTP client that fails the test when used.
func noNetwork(t *testing.T) *http.Client {
	return &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		t.Errorf("request sent to %s", r.URL)
		return nil, errors.New("no network in this test")
	})}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestOfflineMakesNoConnection(t *testing.T) {
	s := llmtest.New(t)
	s.Default(llmtest.Text("must not be asked"))
	var conns int
	var mu sync.Mutex
	counting := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		mu.Lock()
		conns++
		mu.Unlock()
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}}}
	cfg := llm.Defaults() // offline
	cfg.BaseURL, cfg.Model = s.URL, "test-model"
	read := false
	for _, hc := range []*http.Client{nil, counting, noNetwork(t)} {
		c, err := llm.New(cfg, llm.Options{HTTPClient: hc, Getenv: func(string) string { read = true; return testKey }})
		if err != nil {
			t.Fatal(err)
		}
		if !c.Offline() {
			t.Fatal("the default configuration is not offline")
		}
		r, err := c.Chat(context.Background(), ask("q"))
		if err != llm.ErrOffline || r != (llm.Response{}) {
			t.Errorf("got %+v, %v; want ErrOffline", r, err)
		}
		if st := c.Stats(); st != (llm.Stats{Calls: 1, Offline: 1}) {
			t.Errorf("stats %+v", st)
		}
	}
	if s.Count() != 0 || conns != 0 {
		t.Errorf("offline: %d requests, %d connections", s.Count(), conns)
	}
	if read {
		t.Errorf("offline mode read the key")
	}
}

// TestKeyNeverLeaks runs a server that echoes the Authorization header in
// its errors and answers, and looks for the key in errors, logs, stats
// and the String and LogValue forms.
func TestKeyNeverLeaks(t *testing.T) {
	s := llmtest.New(t)
	s.Handle("401", llmtest.Reply{Status: 401, EchoAuth: true})
	s.Handle("500", llmtest.Reply{Status: 500, EchoAuth: true})
	s.Handle("raw", llmtest.Reply{Status: 403, Body: `{"error":"bad key Bearer ` + testKey + `"}`})
	s.Handle("content", llmtest.Reply{Content: "your key is", EchoAuth: true})
	s.Handle("garbage", llmtest.Reply{Body: "<html>" + testKey})
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	cfg := liveConfig(s.URL)
	cfg.MaxRetries = 1
	cfg.Cache = true
	dir := t.TempDir()
	b, err := storage.NewLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	c := newClient(t, cfg, llm.Options{Logger: log, Cache: llm.NewBucketCache(b, "")})
	log.Info("client", "llm", c, "config", cfg)

	var texts []string
	for _, q := range []string{"401", "500", "raw", "content", "garbage"} {
		r, err := c.Chat(context.Background(), ask(q))
		texts = append(texts, fmt.Sprintf("%v %+v %#v", err, err, r))
		var ae *llm.APIError
		if errors.As(err, &ae) {
			texts = append(texts, ae.Body, ae.Message, ae.Error())
		}
		if q == "content" && (err != nil || !strings.Contains(r.Content, "[REDACTED]")) {
			t.Errorf("content: %+v, %v", r, err)
		}
	}
	for _, r := range s.Requests() {
		if r.Authorization != "Bearer "+testKey {
			t.Errorf("Authorization %q", r.Authorization)
		}
	}
	texts = append(texts, logs.String(), fmt.Sprintf("%+v", c.Stats()), c.String(), cfg.String(), fmt.Sprintf("%+v", c))
	entries, _ := filepath.Glob(filepath.Join(dir, "*", "*.json"))
	if len(entries) != 1 {
		t.Errorf("%d cache entries, want 1", len(entries))
	}
	for _, e := range entries {
		data, _ := os.ReadFile(e)
		texts = append(texts, string(data))
	}
	for _, text := range texts {
		if strings.Contains(text, testKey) || strings.Contains(text, testKey[8:]) {
			t.Errorf("the key leaked: %s", text)
		}
	}
	if !strings.Contains(logs.String(), "llm: retrying") || !strings.Contains(logs.String(), `"api_key":"set"`) {
		t.Errorf("logs lack the retry or the client:\n%s", logs.String())
	}
}

func TestAccountingExact(t *testing.T) {
	s := llmtest.New(t)
	s.Handle("a", llmtest.Reply{Content: "x", PromptTokens: 1000, CompletionTokens: 200})
	s.Handle("b", llmtest.Status(500), llmtest.Reply{Content: "y", PromptTokens: 10, CompletionTokens: 20})
	s.Handle("c", llmtest.Status(400))
	s.Handle("d", llmtest.Reply{Refusal: "no", PromptTokens: 5, CompletionTokens: 1})
	cfg := liveConfig(s.URL)
	cfg.Cache = true
	cfg.PricePer1KPromptTokens, cfg.PricePer1KCompletionTokens = 0.5, 1.5
	c := newClient(t, cfg, llm.Options{})
	ctx := context.Background()
	for _, q := range []string{"a", "b", "c", "d", "a", "d", "c"} {
		_, _ = c.Chat(ctx, ask(q))
	}
	want := llm.Stats{
		Calls: 7, Requests: 6, Retries: 1, Failures: 2, CacheHits: 2, CacheMisses: 5, Refusals: 2,
		PromptTokens: 1000 + 10 + 5, CompletionTokens: 200 + 20 + 1,
		CachedPromptTokens: 1000 + 5, CachedCompletionTokens: 200 + 1,
		// 0.5 $/1k prompt = 500 µ$/token, 1.5 $/1k completion = 1500 µ$/token
		CostMicroUSD: 1015*500 + 221*1500,
	}
	if st := c.Stats(); st != want {
		t.Errorf("stats %+v\nwant  %+v", st, want)
	}
	counters := c.Stats().Counters()
	if counters["llm_cost_micro_usd"] != want.CostMicroUSD || counters["llm_cache_hits"] != 2 || len(counters) != 14 {
		t.Errorf("counters %v", counters)
	}
}

func TestConcurrentAccounting(t *testing.T) {
	s := llmtest.New(t)
	s.Default(llmtest.Reply{Content: "x", PromptTokens: 3, CompletionTokens: 2})
	cfg := liveConfig(s.URL)
	cfg.MaxConcurrency = 8
	cfg.PricePer1KPromptTokens = 1
	c := newClient(t, cfg, llm.Options{})
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Go(func() { _, _ = c.Chat(context.Background(), ask(fmt.Sprint(i))) })
	}
	wg.Wait()
	if st := c.Stats(); st != (llm.Stats{Calls: 50, Requests: 50, PromptTokens: 150, CompletionTokens: 100, CostMicroUSD: 150_000}) {
		t.Errorf("stats %+v", st)
	}
}

func TestNew(t *testing.T) {
	cfg := liveConfig("https://api.openai.com/v1")
	cfg.APIKeyEnv = "ATLAS_TEST_UNSET_KEY"
	if _, err := llm.New(cfg, llm.Options{Getenv: getenv}); err == nil ||
		!strings.Contains(err.Error(), "llm.api_key_env: environment variable ATLAS_TEST_UNSET_KEY is empty") {
		t.Errorf("OpenAI without a key: %v", err)
	}
	// Local servers need no key: no Authorization header is sent.
	s := llmtest.New(t)
	s.Default(llmtest.Text("ok"))
	cfg = liveConfig(s.URL + "/")
	cfg.APIKeyEnv = "ATLAS_TEST_UNSET_KEY"
	c := newClient(t, cfg, llm.Options{})
	if _, err := c.Chat(context.Background(), ask("q")); err != nil {
		t.Fatal(err)
	}
	if r := s.Requests()[0]; r.Authorization != "" || r.Path != "/v1/chat/completions" {
		t.Errorf("request %s with Authorization %q", r.Path, r.Authorization)
	}
	if !strings.Contains(c.String(), "api_key=unset") {
		t.Errorf("String: %s", c)
	}
	cfg.Mode = "remote"
	if _, err := llm.New(cfg, llm.Options{}); err == nil || err.Error() != `llm.mode: want offline, live or replay, got "remote"` {
		t.Errorf("bad mode: %v", err)
	}
	if _, err := c.Chat(context.Background(), llm.Request{}); err == nil {
		t.Error("no messages: no error")
	}
}

// A client that has spent its budget sends nothing more and says so;
// answers from the cache cost nothing and still come.
func TestChatBudget(t *testing.T) {
	s := llmtest.New(t)
	s.Handle("q", llmtest.Reply{Content: "a", PromptTokens: 1000, CompletionTokens: 1000})
	cfg := liveConfig(s.URL)
	cfg.PricePer1KPromptTokens, cfg.PricePer1KCompletionTokens, cfg.BudgetUSD = 0.5, 1.5, 3.5 // 2 USD per call
	c := newClient(t, cfg, llm.Options{})
	for i, want := range []error{nil, nil, llm.ErrBudgetExhausted, llm.ErrBudgetExhausted} {
		_, err := c.Chat(context.Background(), ask(fmt.Sprintf("q %d", i)))
		if !errors.Is(err, want) {
			t.Fatalf("call %d: %v, want %v", i, err, want)
		}
	}
	if n := len(s.Requests()); n != 2 {
		t.Fatalf("%d requests sent, want 2", n)
	}
	if st := c.Stats(); st.CostMicroUSD != 4_000_000 {
		t.Fatalf("cost %d", st.CostMicroUSD)
	}
	bad := cfg
	bad.PricePer1KPromptTokens, bad.PricePer1KCompletionTokens = 0, 0
	if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), "budget_usd") {
		t.Fatalf("a budget without prices: %v", err)
	}
}
