// Package llmtest is a local OpenAI-compatible chat server for tests. It
// listens on 127.0.0.1, plays back scripted replies — answers, refusals
// and failures (429 with Retry-After, 500, 503, malformed JSON, JSON that
// is not a completion, slow responses) — and records every request it
// saw, with the concurrency it reached. It is bounded: it serves at most
// MaxRequests requests and delays of at most MaxDelay, fails the test
// beyond either, and stops when the test ends.
package llmtest

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// Reply is one scripted response. The zero Reply is an answer with empty
// content.
type Reply struct {
	// Content is the answer's text.
	Content string
	// FinishReason defaults to "stop".
	FinishReason string
	// Refusal sets message.refusal (content is then null).
	Refusal string
	// PromptTokens and CompletionTokens are the usage reported; 0 counts
	// the words of the messages and of Content.
	PromptTokens, CompletionTokens int64
	// NoUsage leaves usage out of the response.
	NoUsage bool
	// Status, when not 0 or 200, answers with that status and an
	// OpenAI-style error body (or Body when set).
	Status int
	// Header adds response headers (e.g. Retry-After).
	Header map[string]string
	// Body, when set, is sent verbatim instead of a completion.
	Body string
	// EchoAuth appends the request's Authorization header to the error
	// message or content: a server leaking the key, to test redaction.
	EchoAuth bool
	// Delay waits before answering (a slow server); the wait ends early
	// when the client goes away or the server closes.
	Delay time.Duration
}

// Text is an answer.
func Text(content string) Reply { return Reply{Content: content} }

// Status is a failure with an HTTP status.
func Status(code int) Reply { return Reply{Status: code} }

// RateLimited is a 429 with the given Retry-After ("" for none).
func RateLimited(retryAfter string) Reply {
	r := Reply{Status: http.StatusTooManyRequests}
	if retryAfter != "" {
		r.Header = map[string]string{"Retry-After": retryAfter}
	}
	return r
}

// Malformed is a 200 whose body is not JSON.
func Malformed() Reply {
	return Reply{Body: `{"id":"chatcmpl-1","choices":[{"message":{"content":"trunc`}
}

// NotCompletion is a 200 whose body is JSON but not a chat completion.
func NotCompletion() Reply { return Reply{Body: `{"object":"list","data":[]}`} }

// Refusal is a refusal in the refusal field.
func Refusal(text string) Reply { return Reply{Refusal: text} }

// ContentFilter is an answer filtered by the server: no content,
// finish_reason content_filter.
func ContentFilter() Reply { return Reply{FinishReason: "content_filter"} }

// Slow is r after a delay.
func Slow(d time.Duration, r Reply) Reply { r.Delay = d; return r }

// Request is a request the server saw.
type Request struct {
	Method, Path  string
	Authorization string
	// Body is the raw body; the fields below are decoded from it.
	Body           []byte
	Model          string
	Messages       []Message
	Temperature    *float64
	MaxTokens      *int
	Seed           *int64
	ResponseFormat json.RawMessage
}

// Message is a chat message of a request.
type Message struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// LastUser is the content of the last user message.
func (r Request) LastUser() string {
	for i := len(r.Messages) - 1; i >= 0; i-- {
		if r.Messages[i].Role == "user" {
			return r.Messages[i].Content
		}
	}
	return ""
}

type rule struct {
	match   string
	replies []Reply
	used    int
}

// Server is the test server.
type Server struct {
	// URL is the API root to configure as base_url
	// (http://127.0.0.1:PORT/v1).
	URL string
	// MaxRequests bounds the requests served (default 1000); past it the
	// test fails and requests get 503.
	MaxRequests int
	// MaxDelay bounds a reply's Delay (default 10s).
	MaxDelay time.Duration

	t      testing.TB
	srv    *httptest.Server
	closed chan struct{}

	mu            sync.Mutex
	queue         []Reply
	rules         []*rule
	fallback      *Reply
	seen          []Request
	inFlight, max int
}

// New starts a server on 127.0.0.1 that closes when the test ends.
func New(t testing.TB) *Server {
	t.Helper()
	s := &Server{t: t, MaxRequests: 1000, MaxDelay: 10 * time.Second, closed: make(chan struct{})}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("llmtest: listen: %v", err)
	}
	s.srv = &httptest.Server{Listener: l, Config: &http.Server{Handler: http.HandlerFunc(s.serve),
		ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 10 * time.Second}}
	s.srv.Start()
	s.URL = s.srv.URL + "/v1"
	t.Cleanup(s.Close)
	return s
}

// Close stops the server, ending pending delays; it is called when the
// test ends.
func (s *Server) Close() {
	s.mu.Lock()
	select {
	case <-s.closed:
		s.mu.Unlock()
		return
	default:
		close(s.closed)
	}
	s.mu.Unlock()
	s.srv.CloseClientConnections()
	s.srv.Close()
}

// Enqueue adds replies played one per request, in order, before any rule.
func (s *Server) Enqueue(replies ...Reply) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.queue = append(s.queue, replies...)
}

// Handle answers requests whose last user message contains match (once
// the queue is empty) with replies in order, the last one repeated.
// Rules are tried in the order they were added.
func (s *Server) Handle(match string, replies ...Reply) {
	if len(replies) == 0 {
		replies = []Reply{{}}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rules = append(s.rules, &rule{match: match, replies: replies})
}

// Default answers requests that nothing else answers (otherwise they get
// 404 and fail the test).
func (s *Server) Default(r Reply) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fallback = &r
}

// Requests returns the requests seen so far, in arrival order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.seen...)
}

// Count is the number of requests seen.
func (s *Server) Count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.seen)
}

// MaxConcurrent is the most requests that were being served at once.
func (s *Server) MaxConcurrent() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.max
}

type wireRequest struct {
	Model          string          `json:"model"`
	Messages       []Message       `json:"messages"`
	Temperature    *float64        `json:"temperature"`
	MaxTokens      *int            `json:"max_tokens"`
	Seed           *int64          `json:"seed"`
	ResponseFormat json.RawMessage `json:"response_format"`
}

func (s *Server) serve(w http.ResponseWriter, hr *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, hr.Body, 8<<20))
	if err != nil {
		writeError(w, http.StatusBadRequest, "llmtest: read body: "+err.Error())
		return
	}
	req := Request{Method: hr.Method, Path: hr.URL.Path, Authorization: hr.Header.Get("Authorization"), Body: body}
	var wr wireRequest
	decodeErr := json.Unmarshal(body, &wr)
	req.Model, req.Messages, req.Temperature, req.MaxTokens, req.Seed, req.ResponseFormat =
		wr.Model, wr.Messages, wr.Temperature, wr.MaxTokens, wr.Seed, wr.ResponseFormat

	s.mu.Lock()
	s.seen = append(s.seen, req)
	n := len(s.seen)
	s.inFlight++
	s.max = max(s.max, s.inFlight)
	reply, found := s.pick(req)
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.inFlight--
		s.mu.Unlock()
	}()

	switch {
	case n > s.MaxRequests:
		s.t.Errorf("llmtest: more than %d requests", s.MaxRequests)
		writeError(w, http.StatusServiceUnavailable, "llmtest: request limit reached")
		return
	case hr.Method != http.MethodPost || hr.URL.Path != "/v1/chat/completions":
		writeError(w, http.StatusNotFound, fmt.Sprintf("llmtest: no route %s %s", hr.Method, hr.URL.Path))
		return
	case decodeErr != nil || wr.Model == "" || len(wr.Messages) == 0:
		writeError(w, http.StatusBadRequest, "llmtest: not a chat completion request")
		return
	case !found:
		s.t.Errorf("llmtest: no scripted reply for %q", req.LastUser())
		writeError(w, http.StatusNotFound, "llmtest: no scripted reply")
		return
	}
	if reply.Delay > 0 {
		d := reply.Delay
		if d > s.MaxDelay {
			s.t.Errorf("llmtest: delay %s over MaxDelay %s", d, s.MaxDelay)
			d = s.MaxDelay
		}
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-hr.Context().Done():
			t.Stop()
			return
		case <-s.closed:
			t.Stop()
			return
		}
	}
	s.write(w, req, reply)
}

// pick chooses the reply for req; s.mu is held.
func (s *Server) pick(req Request) (Reply, bool) {
	if len(s.queue) > 0 {
		r := s.queue[0]
		s.queue = s.queue[1:]
		return r, true
	}
	last := req.LastUser()
	for _, ru := range s.rules {
		if strings.Contains(last, ru.match) {
			r := ru.replies[min(ru.used, len(ru.replies)-1)]
			ru.used++
			return r, true
		}
	}
	if s.fallback != nil {
		return *s.fallback, true
	}
	return Reply{}, false
}

func (s *Server) write(w http.ResponseWriter, req Request, r Reply) {
	for k, v := range r.Header {
		w.Header().Set(k, v)
	}
	echo := ""
	if r.EchoAuth {
		echo = " (Authorization: " + req.Authorization + ")"
	}
	if r.Status != 0 && r.Status != http.StatusOK {
		if r.Body != "" {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(r.Status)
			fmt.Fprint(w, r.Body)
			return
		}
		writeError(w, r.Status, fmt.Sprintf("llmtest: scripted %d%s", r.Status, echo))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	if r.Body != "" {
		fmt.Fprint(w, r.Body)
		return
	}
	msg := map[string]any{"role": "assistant", "content": r.Content + echo}
	if r.Refusal != "" {
		msg["content"], msg["refusal"] = nil, r.Refusal
	}
	if r.FinishReason == "content_filter" && r.Content == "" {
		msg["content"] = nil
	}
	finish := r.FinishReason
	if finish == "" {
		finish = "stop"
	}
	resp := map[string]any{
		"id": fmt.Sprintf("chatcmpl-%d", len(req.Body)), "object": "chat.completion", "created": 0, "model": req.Model,
		"choices": []any{map[string]any{"index": 0, "message": msg, "finish_reason": finish}},
	}
	if !r.NoUsage {
		pt, ct := r.PromptTokens, r.CompletionTokens
		if pt == 0 {
			for _, m := range req.Messages {
				pt += int64(len(strings.Fields(m.Content)))
			}
		}
		if ct == 0 {
			ct = int64(len(strings.Fields(r.Content)))
		}
		resp["usage"] = map[string]any{"prompt_tokens": pt, "completion_tokens": ct, "total_tokens": pt + ct}
	}
	_ = json.NewEncoder(w).Encode(resp)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"message": msg, "type": "llmtest", "code": status}})
}
