// Package finetunetest is a local OpenAI-compatible fine-tuning server
// for tests. It listens on 127.0.0.1 and implements file upload (POST
// /v1/files, multipart, purpose fine-tune, every JSONL line checked as a
// chat fine-tuning example), job creation (POST /v1/fine_tuning/jobs) and
// job retrieval (GET /v1/fine_tuning/jobs/{id}), whose status follows a
// script (validating_files → running → succeeded by default, or failed
// with an error). Faults (a status such as 429 or 500, a malformed body)
// can be queued per route. It records every request and is bounded: past
// MaxRequests the test fails and requests get 503.
package finetunetest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// Routes, for Fault.
const (
	RouteUpload = "upload"
	RouteCreate = "create"
	RouteGet    = "get"
)

// Fault is one scripted failure of a route.
type Fault struct {
	// Status is the HTTP status (0: 200 with Body).
	Status int
	// Body is sent verbatim; "" sends an OpenAI-style error.
	Body string
	// RetryAfter sets the Retry-After header (seconds).
	RetryAfter string
}

// Request is a request the server saw.
type Request struct {
	Method, Path, Route string
	Authorization       string
	// Body is a JSON request's body (nil for uploads).
	Body []byte
	// Purpose and FileName are an upload's form fields; Lines its
	// non-empty lines.
	Purpose, FileName string
	Lines             int
}

// Job is a job the server created.
type Job struct {
	ID             string
	Model          string
	TrainingFile   string
	ValidationFile string
	Suffix         string
	// Create is the creation request's decoded body.
	Create map[string]any
	script []string
	polls  int
	errMsg string
}

// Server is the test server.
type Server struct {
	// URL is the API root (http://127.0.0.1:PORT/v1).
	URL string
	// MaxRequests bounds the requests served (default 200).
	MaxRequests int

	t   testing.TB
	srv *httptest.Server

	mu     sync.Mutex
	seen   []Request
	faults map[string][]Fault
	files  map[string][]byte
	jobs   []*Job
	script []string
	errMsg string
}

// New starts a server on 127.0.0.1 that closes when the test ends.
func New(t testing.TB) *Server {
	t.Helper()
	s := &Server{t: t, MaxRequests: 200, faults: map[string][]Fault{}, files: map[string][]byte{},
		script: []string{"validating_files", "running", "succeeded"}}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("finetunetest: listen: %v", err)
	}
	s.srv = &httptest.Server{Listener: l, Config: &http.Server{Handler: http.HandlerFunc(s.serve),
		ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 10 * time.Second}}
	s.srv.Start()
	s.URL = s.srv.URL + "/v1"
	t.Cleanup(s.srv.Close)
	return s
}

// Script sets the statuses jobs created from now on go through: the
// creation answers the first, each GET the next, the last repeated.
// errMsg is the error a failed job reports.
func (s *Server) Script(errMsg string, statuses ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.script, s.errMsg = statuses, errMsg
}

// Fail queues faults for a route, served before any real answer.
func (s *Server) Fail(route string, faults ...Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults[route] = append(s.faults[route], faults...)
}

// Requests returns the requests seen, in arrival order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.seen...)
}

// Count is the number of requests of route seen ("" for all).
func (s *Server) Count(route string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, r := range s.seen {
		if route == "" || r.Route == route {
			n++
		}
	}
	return n
}

// File returns an uploaded file's content.
func (s *Server) File(id string) ([]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.files[id]
	return b, ok
}

// Jobs returns copies of the jobs created, in order.
func (s *Server) Jobs() []Job {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Job, len(s.jobs))
	for i, j := range s.jobs {
		out[i] = *j
	}
	return out
}

func route(hr *http.Request) string {
	switch {
	case hr.Method == http.MethodPost && hr.URL.Path == "/v1/files":
		return RouteUpload
	case hr.Method == http.MethodPost && hr.URL.Path == "/v1/fine_tuning/jobs":
		return RouteCreate
	case hr.Method == http.MethodGet && strings.HasPrefix(hr.URL.Path, "/v1/fine_tuning/jobs/"):
		return RouteGet
	}
	return ""
}

func (s *Server) serve(w http.ResponseWriter, hr *http.Request) {
	rt := route(hr)
	req := Request{Method: hr.Method, Path: hr.URL.Path, Route: rt, Authorization: hr.Header.Get("Authorization")}
	body, err := io.ReadAll(http.MaxBytesReader(w, hr.Body, 64<<20))
	if err != nil {
		writeError(w, http.StatusBadRequest, "finetunetest: read body: "+err.Error())
		return
	}
	var upload *upload
	var uploadErr error
	if rt == RouteUpload {
		upload, uploadErr = parseUpload(hr.Header.Get("Content-Type"), body)
		if upload != nil {
			req.Purpose, req.FileName, req.Lines = upload.purpose, upload.name, upload.lines
		}
	} else if len(body) > 0 {
		req.Body = body
	}
	s.mu.Lock()
	s.seen = append(s.seen, req)
	n := len(s.seen)
	var fault *Fault
	if q := s.faults[rt]; len(q) > 0 {
		fault, s.faults[rt] = &q[0], q[1:]
	}
	s.mu.Unlock()

	switch {
	case n > s.MaxRequests:
		s.t.Errorf("finetunetest: more than %d requests", s.MaxRequests)
		writeError(w, http.StatusServiceUnavailable, "finetunetest: request limit reached")
		return
	case rt == "":
		writeError(w, http.StatusNotFound, fmt.Sprintf("finetunetest: no route %s %s", hr.Method, hr.URL.Path))
		return
	case fault != nil:
		if fault.RetryAfter != "" {
			w.Header().Set("Retry-After", fault.RetryAfter)
		}
		w.Header().Set("Content-Type", "application/json")
		status := fault.Status
		if status == 0 {
			status = http.StatusOK
		}
		if fault.Body != "" {
			w.WriteHeader(status)
			fmt.Fprint(w, fault.Body)
			return
		}
		writeError(w, status, fmt.Sprintf("finetunetest: scripted %d", status))
		return
	}
	switch rt {
	case RouteUpload:
		s.serveUpload(w, upload, uploadErr)
	case RouteCreate:
		s.serveCreate(w, body)
	case RouteGet:
		s.serveGet(w, strings.TrimPrefix(hr.URL.Path, "/v1/fine_tuning/jobs/"))
	}
}

type upload struct {
	purpose, name string
	content       []byte
	lines         int
}

func parseUpload(contentType string, body []byte) (*upload, error) {
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil || mt != "multipart/form-data" {
		return nil, fmt.Errorf("want multipart/form-data, got %q", contentType)
	}
	form, err := multipart.NewReader(bytes.NewReader(body), params["boundary"]).ReadForm(64 << 20)
	if err != nil {
		return nil, fmt.Errorf("multipart: %v", err)
	}
	u := &upload{}
	if v := form.Value["purpose"]; len(v) == 1 {
		u.purpose = v[0]
	}
	fh := form.File["file"]
	if len(fh) != 1 {
		return u, fmt.Errorf("want one file field, got %d", len(fh))
	}
	f, err := fh[0].Open()
	if err != nil {
		return u, err
	}
	defer f.Close()
	u.name = fh[0].Filename
	if u.content, err = io.ReadAll(f); err != nil {
		return u, err
	}
	for _, l := range bytes.Split(u.content, []byte("\n")) {
		if len(bytes.TrimSpace(l)) > 0 {
			u.lines++
		}
	}
	return u, nil
}

// CheckChatJSONL checks data as OpenAI chat fine-tuning JSONL: every
// non-empty line an object whose messages are a list of objects with a
// role (system, user or assistant) and string content, with at least
// one assistant message; other top-level keys are refused.
func CheckChatJSONL(data []byte) error {
	n := 0
	for i, l := range bytes.Split(data, []byte("\n")) {
		if len(bytes.TrimSpace(l)) == 0 {
			continue
		}
		n++
		var ex map[string]json.RawMessage
		if err := json.Unmarshal(l, &ex); err != nil {
			return fmt.Errorf("line %d: not a JSON object: %v", i+1, err)
		}
		for k := range ex {
			if k != "messages" {
				return fmt.Errorf("line %d: unexpected key %q", i+1, k)
			}
		}
		var msgs []map[string]any
		if err := json.Unmarshal(ex["messages"], &msgs); err != nil || len(msgs) == 0 {
			return fmt.Errorf("line %d: messages: want a non-empty list of messages", i+1)
		}
		assistant := false
		for j, m := range msgs {
			role, _ := m["role"].(string)
			if _, ok := m["content"].(string); !ok {
				return fmt.Errorf("line %d: message %d: content: want a string", i+1, j)
			}
			switch role {
			case "system", "user":
			case "assistant":
				assistant = true
			default:
				return fmt.Errorf("line %d: message %d: role: want system, user or assistant, got %q", i+1, j, role)
			}
			for k := range m {
				if k != "role" && k != "content" && k != "weight" {
					return fmt.Errorf("line %d: message %d: unexpected key %q", i+1, j, k)
				}
			}
		}
		if !assistant {
			return fmt.Errorf("line %d: no assistant message", i+1)
		}
	}
	if n == 0 {
		return fmt.Errorf("no examples")
	}
	return nil
}

func (s *Server) serveUpload(w http.ResponseWriter, u *upload, parseErr error) {
	switch {
	case parseErr != nil:
		writeError(w, http.StatusBadRequest, "finetunetest: "+parseErr.Error())
		return
	case u.purpose != "fine-tune":
		writeError(w, http.StatusBadRequest, fmt.Sprintf("finetunetest: purpose: want fine-tune, got %q", u.purpose))
		return
	}
	if err := CheckChatJSONL(u.content); err != nil {
		writeError(w, http.StatusBadRequest, "finetunetest: invalid file "+u.name+": "+err.Error())
		return
	}
	s.mu.Lock()
	id := fmt.Sprintf("file-%03d", len(s.files)+1)
	s.files[id] = u.content
	s.mu.Unlock()
	writeJSON(w, map[string]any{"id": id, "object": "file", "bytes": len(u.content), "filename": u.name, "purpose": "fine-tune", "status": "processed"})
}

func (s *Server) serveCreate(w http.ResponseWriter, body []byte) {
	var c map[string]any
	if err := json.Unmarshal(body, &c); err != nil {
		writeError(w, http.StatusBadRequest, "finetunetest: not JSON")
		return
	}
	model, _ := c["model"].(string)
	train, _ := c["training_file"].(string)
	val, _ := c["validation_file"].(string)
	suffix, _ := c["suffix"].(string)
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case model == "":
		writeError(w, http.StatusBadRequest, "finetunetest: model: required")
		return
	case s.files[train] == nil:
		writeError(w, http.StatusBadRequest, fmt.Sprintf("finetunetest: training_file: no such file %q", train))
		return
	case val != "" && s.files[val] == nil:
		writeError(w, http.StatusBadRequest, fmt.Sprintf("finetunetest: validation_file: no such file %q", val))
		return
	}
	j := &Job{ID: fmt.Sprintf("ftjob-%03d", len(s.jobs)+1), Model: model, TrainingFile: train, ValidationFile: val, Suffix: suffix,
		Create: c, script: append([]string(nil), s.script...), errMsg: s.errMsg}
	s.jobs = append(s.jobs, j)
	writeJSON(w, j.wire())
}

func (s *Server) serveGet(w http.ResponseWriter, id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, j := range s.jobs {
		if j.ID == id {
			j.polls++
			writeJSON(w, j.wire())
			return
		}
	}
	writeError(w, http.StatusNotFound, fmt.Sprintf("finetunetest: no job %q", id))
}

func (j *Job) wire() map[string]any {
	status := j.script[min(j.polls, len(j.script)-1)]
	out := map[string]any{"id": j.ID, "object": "fine_tuning.job", "model": j.Model, "status": status,
		"training_file": j.TrainingFile, "fine_tuned_model": nil, "error": nil}
	if j.ValidationFile != "" {
		out["validation_file"] = j.ValidationFile
	}
	switch status {
	case "succeeded":
		name := "ft:" + j.Model
		if j.Suffix != "" {
			name += ":" + j.Suffix
		}
		out["fine_tuned_model"] = name + ":" + j.ID
	case "failed":
		out["error"] = map[string]any{"code": "invalid_training_file", "message": j.errMsg, "param": "training_file"}
	}
	return out
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"message": msg, "type": "invalid_request_error", "code": status}})
}
