package llm

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestBackoffDeterministicAndBounded(t *testing.T) {
	c := &Client{cfg: Config{BackoffInitial: 100 * time.Millisecond, BackoffMax: time.Second}}
	for n := 1; n <= 8; n++ {
		d := c.backoff("k1", n, 0, false)
		if again := c.backoff("k1", n, 0, false); again != d {
			t.Fatalf("retry %d: %s then %s: not deterministic", n, d, again)
		}
		full := min(100*time.Millisecond<<(n-1), time.Second)
		if d < full/2 || d > full {
			t.Errorf("retry %d: wait %s outside [%s, %s]", n, d, full/2, full)
		}
	}
	// Jitter spreads different requests.
	seen := map[time.Duration]bool{}
	for _, k := range []string{"a", "b", "c", "d", "e", "f"} {
		seen[c.backoff(k, 3, 0, false)] = true
	}
	if len(seen) < 3 {
		t.Errorf("jitter gives %d distinct waits for 6 keys", len(seen))
	}
	if got := c.backoff("k", 1, 5*time.Second, true); got != time.Second {
		t.Errorf("Retry-After 5s capped: got %s, want 1s", got)
	}
	if got := c.backoff("k", 1, 300*time.Millisecond, true); got != 300*time.Millisecond {
		t.Errorf("Retry-After 300ms: got %s", got)
	}
	zero := &Client{cfg: Config{}}
	if got := zero.backoff("k", 3, 0, false); got != 0 {
		t.Errorf("no backoff configured: got %s", got)
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		name   string
		header map[string]string
		want   time.Duration
		ok     bool
	}{
		{"none", nil, 0, false},
		{"seconds", map[string]string{"Retry-After": "2"}, 2 * time.Second, true},
		{"fraction", map[string]string{"Retry-After": "0.25"}, 250 * time.Millisecond, true},
		{"date", map[string]string{"Retry-After": now.Add(3 * time.Second).Format(http.TimeFormat)}, 3 * time.Second, true},
		{"past date", map[string]string{"Retry-After": now.Add(-time.Hour).Format(http.TimeFormat)}, 0, true},
		{"ms wins", map[string]string{"Retry-After": "9", "retry-after-ms": "120"}, 120 * time.Millisecond, true},
		{"garbage", map[string]string{"Retry-After": "soon"}, 0, false},
		{"negative", map[string]string{"Retry-After": "-1"}, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			for k, v := range tt.header {
				h.Set(k, v)
			}
			got, ok := retryAfter(h, now)
			if got != tt.want || ok != tt.ok {
				t.Errorf("got %s, %t; want %s, %t", got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestCacheKeyCanonical(t *testing.T) {
	c := &Client{cfg: Config{Model: "m", Temperature: 0.2}}
	key := func(r Request) string {
		t.Helper()
		w, err := c.wire(r)
		if err != nil {
			t.Fatal(err)
		}
		k, _, err := cacheKey(w)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	msgs := []Message{{Role: "system", Content: "s"}, {Role: "user", Content: "u <&>"}}
	base := key(Request{Messages: msgs})
	if len(base) != 64 || strings.Trim(base, "0123456789abcdef") != "" {
		t.Fatalf("key %q is not hex SHA-256", base)
	}
	if again := key(Request{Messages: append([]Message(nil), msgs...)}); again != base {
		t.Errorf("same request, other key")
	}
	temp := 0.2
	if k := key(Request{Messages: msgs, Temperature: &temp}); k != base {
		t.Errorf("the configured temperature given explicitly changes the key")
	}
	a := key(Request{Messages: msgs, ResponseFormat: json.RawMessage(`{"type":"json_schema","json_schema":{"name":"x","strict":true}}`)})
	b := key(Request{Messages: msgs, ResponseFormat: json.RawMessage(" {\"json_schema\": {\"strict\": true, \"name\": \"x\"}, \"type\": \"json_schema\"}\n")})
	if a != b {
		t.Errorf("response_format key order or spacing changes the key")
	}
	seed, tokens, other := int64(7), 100, 0.7
	for name, r := range map[string]Request{
		"seed":        {Messages: msgs, Seed: &seed},
		"max_tokens":  {Messages: msgs, MaxTokens: &tokens},
		"temperature": {Messages: msgs, Temperature: &other},
		"json":        {Messages: msgs, JSON: true},
		"schema":      {Messages: msgs, ResponseFormat: json.RawMessage(`{"type":"json_schema"}`)},
		"message":     {Messages: []Message{{Role: "user", Content: "u <&>!"}}},
		"role":        {Messages: []Message{{Role: "system", Content: "s"}, {Role: "assistant", Content: "u <&>"}}},
	} {
		if key(r) == base {
			t.Errorf("%s: same key as the base request", name)
		}
	}
	other2 := &Client{cfg: Config{Model: "m2", Temperature: 0.2}}
	w, _ := other2.wire(Request{Messages: msgs})
	if k, _, _ := cacheKey(w); k == base {
		t.Errorf("model: same key")
	}
	if _, err := c.wire(Request{}); err == nil {
		t.Errorf("no messages: no error")
	}
	if _, err := c.wire(Request{Messages: msgs, ResponseFormat: json.RawMessage(`{`)}); err == nil {
		t.Errorf("bad response_format: no error")
	}
}

func TestRedactAndTruncate(t *testing.T) {
	if got := Redact("a sk-123456 b sk-123456", "sk-123456", ""); got != "a [REDACTED] b [REDACTED]" {
		t.Errorf("Redact: %q", got)
	}
	if got := Redact("abc", "ab"); got != "abc" {
		t.Errorf("short secrets are left: %q", got)
	}
	if got := truncate("héllo", 2); got != "h…" {
		t.Errorf("truncate on a rune boundary: %q", got)
	}
}
