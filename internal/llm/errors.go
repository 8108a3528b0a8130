package llm

import (
	"errors"
	"fmt"
	"github.com/atlas-ai/atlas-learn/internal/textcut"
	"net/http"
	"strings"
)

// ErrBudgetExhausted is returned by Chat once the client has spent its
// budget (Config.BudgetUSD): no further request is sent. Callers do not
// fall back on it: a run whose model budget ran out fails, so that it is
// never mistaken for one whose answers were all the model's.
var ErrBudgetExhausted = errors.New("llm: budget exhausted (llm.budget_usd): no further request is sent")

// ErrOffline is returned by Chat in offline mode (and for cache misses in
// replay mode): no model was called. Callers fall back to what they can
// do without one and say so.
var ErrOffline = errors.New("llm: offline: no model is called (set llm.mode to live)")

// ErrBadResponse is matched (errors.Is) by errors about 2xx responses
// that are not a chat completion: a body that is not JSON, or JSON
// without choices.
var ErrBadResponse = errors.New("not a chat completion")

// ErrTimeout is matched by errors about requests that took longer than
// Config.Timeout.
var ErrTimeout = errors.New("request timed out")

// maxBodyInError bounds the response body kept in an APIError.
const maxBodyInError = 512

// APIError is a response with a status other than 2xx, or a 2xx response
// whose body is an error object.
type APIError struct {
	// Status is the HTTP status code.
	Status int
	// Message is the server's error message (error.message of an OpenAI
	// error body), when it sent one.
	Message string
	// Body is the start of the response body (at most 512 bytes), with
	// the key redacted.
	Body string
	// URL is the request's URL, without credentials.
	URL string
}

func (e *APIError) Error() string {
	detail := e.Message
	if detail == "" {
		detail = e.Body
	}
	status := fmt.Sprintf("%d %s", e.Status, http.StatusText(e.Status))
	if detail == "" {
		return fmt.Sprintf("POST %s: %s", e.URL, strings.TrimSpace(status))
	}
	return fmt.Sprintf("POST %s: %s: %s", e.URL, strings.TrimSpace(status), detail)
}

// Retryable tells whether the status is one Chat retries: 408, 429, 5xx.
func (e *APIError) Retryable() bool {
	return e.Status == http.StatusRequestTimeout || e.Status == http.StatusTooManyRequests || e.Status >= 500
}

// Redact returns s with every secret (of at least 4 bytes; shorter ones
// are no secret and would mangle every message) replaced by [REDACTED].
func Redact(s string, secrets ...string) string {
	for _, k := range secrets {
		if len(k) >= 4 {
			s = strings.ReplaceAll(s, k, "[REDACTED]")
		}
	}
	return s
}

// redactedError carries an error whose message is redacted; errors.Is and
// errors.As see the original.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

func redactErr(err error, key string) error {
	if err == nil {
		return nil
	}
	return &redactedError{msg: Redact(err.Error(), key), err: err}
}

// truncate cuts s to at most n bytes, at a rune boundary, marking the cut.
func truncate(s string, n int) string { return textcut.Cut(s, n) }
