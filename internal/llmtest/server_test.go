package llmtest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// recorder is a testing.TB that records failures instead of failing.
type recorder struct {
	testing.TB
	mu     sync.Mutex
	errors []string
}

func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}

func post(t *testing.T, url, user string) (int, map[string]any, http.Header) {
	t.Helper()
	body := fmt.Sprintf(`{"model":"m","messages":[{"role":"system","content":"a b"},{"role":"user","content":%q}]}`, user)
	res, err := http.Post(url+"/chat/completions", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	var v map[string]any
	_ = json.Unmarshal(data, &v)
	return res.StatusCode, v, res.Header
}

func content(v map[string]any) any {
	ch, _ := v["choices"].([]any)
	if len(ch) == 0 {
		return nil
	}
	return ch[0].(map[string]any)["message"].(map[string]any)["content"]
}

func TestPlayback(t *testing.T) {
	s := New(t)
	if !strings.HasPrefix(s.URL, "http://127.0.0.1:") {
		t.Fatalf("URL %s", s.URL)
	}
	s.Enqueue(RateLimited("3"), Text("queued"))
	s.Handle("hello", Text("one"), Text("two"))
	s.Handle("", Text("anything"))

	if code, _, h := post(t, s.URL, "hello"); code != 429 || h.Get("Retry-After") != "3" {
		t.Errorf("first: %d %v", code, h)
	}
	for _, want := range []string{"queued", "one", "two", "two"} {
		if _, v, _ := post(t, s.URL, "hello there"); content(v) != want {
			t.Errorf("got %v, want %s", content(v), want)
		}
	}
	if _, v, _ := post(t, s.URL, "bye"); content(v) != "anything" {
		t.Errorf("fallback rule: %v", v)
	}
	_, v, _ := post(t, s.URL, "hello")
	if u := v["usage"].(map[string]any); u["prompt_tokens"] != 3.0 || u["completion_tokens"] != 1.0 {
		t.Errorf("usage %v", u)
	}
	reqs := s.Requests()
	if len(reqs) != 7 || reqs[0].Model != "m" || reqs[0].LastUser() != "hello" || s.Count() != 7 {
		t.Errorf("requests %+v", reqs)
	}
}

func TestReplyKinds(t *testing.T) {
	s := New(t)
	s.Handle("refuse", Refusal("no"))
	s.Handle("filter", ContentFilter())
	s.Handle("bad", Malformed())
	s.Handle("list", NotCompletion())
	s.Handle("500", Status(500))
	if _, v, _ := post(t, s.URL, "refuse"); content(v) != nil || v["choices"].([]any)[0].(map[string]any)["message"].(map[string]any)["refusal"] != "no" {
		t.Errorf("refusal %v", v)
	}
	if _, v, _ := post(t, s.URL, "filter"); content(v) != nil || v["choices"].([]any)[0].(map[string]any)["finish_reason"] != "content_filter" {
		t.Errorf("filter %v", v)
	}
	if code, v, _ := post(t, s.URL, "bad"); code != 200 || v != nil {
		t.Errorf("malformed: %d %v", code, v)
	}
	if code, v, _ := post(t, s.URL, "list"); code != 200 || v["object"] != "list" {
		t.Errorf("not a completion: %d %v", code, v)
	}
	if code, v, _ := post(t, s.URL, "500"); code != 500 || v["error"] == nil {
		t.Errorf("500: %d %v", code, v)
	}
	res, err := http.Get(s.URL + "/models")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 404 {
		t.Errorf("unknown route: %d", res.StatusCode)
	}
}

func TestBounds(t *testing.T) {
	r := &recorder{TB: t}
	s := New(r)
	s.MaxRequests = 1
	s.Handle("x", Text("ok"))
	post(t, s.URL, "x")
	if code, _, _ := post(t, s.URL, "x"); code != 503 {
		t.Errorf("past MaxRequests: %d", code)
	}
	s.MaxRequests = 10
	if code, _, _ := post(t, s.URL, "unscripted"); code != 404 {
		t.Errorf("unscripted: %d", code)
	}
	if len(r.errors) != 2 {
		t.Errorf("failures recorded: %q", r.errors)
	}

	// A delay ends when the server closes.
	s.Handle("slow", Slow(5*time.Second, Text("late")))
	done := make(chan struct{})
	go func() {
		defer close(done)
		res, err := http.Post(s.URL+"/chat/completions", "application/json",
			strings.NewReader(`{"model":"m","messages":[{"role":"user","content":"slow"}]}`))
		if err == nil {
			res.Body.Close()
		}
	}()
	for s.Count() < 4 {
		time.Sleep(5 * time.Millisecond)
	}
	start := time.Now()
	s.Close()
	<-done
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Close took %s", d)
	}
}
