package llm

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Message is one chat message.
type Message struct {
	// Role is system, user, assistant (or developer, tool where the
	// server knows them).
	Role    string `json:"role"`
	Content string `json:"content"`
}

// Request is one chat completion request. Unset parameters take the
// client's configuration.
type Request struct {
	Messages []Message
	// JSON asks for a JSON object answer (response_format
	// {"type":"json_object"}); the prompt must also ask for JSON.
	JSON bool
	// ResponseFormat, when set, is sent as response_format verbatim (a
	// json_schema, say) and takes precedence over JSON.
	ResponseFormat json.RawMessage
	// Temperature, MaxTokens and Seed override the configuration's.
	Temperature *float64
	MaxTokens   *int
	Seed        *int64
}

// Usage is a response's token counts.
type Usage struct {
	PromptTokens     int64 `json:"prompt_tokens"`
	CompletionTokens int64 `json:"completion_tokens"`
}

// Response is a chat completion's first choice.
type Response struct {
	// Content is the answer's text ("" for a refusal).
	Content string `json:"content"`
	// FinishReason is stop, length, content_filter, ... as the server
	// said.
	FinishReason string `json:"finish_reason"`
	// Refusal is set when the model refused: its refusal text, or
	// "content_filter" when the server filtered the answer without one.
	Refusal string `json:"refusal,omitempty"`
	// Model is the model that answered, as the server named it.
	Model string `json:"model,omitempty"`
	Usage Usage  `json:"usage"`
	// Cached tells the answer came from the cache: no request was sent
	// and its tokens cost nothing this time.
	Cached bool `json:"-"`
	// Key is the request's cache key.
	Key string `json:"-"`
}

// Refused tells whether the model refused or the answer was filtered.
func (r Response) Refused() bool { return r.Refusal != "" }

// wireRequest is the body POSTed to /chat/completions, and (with the same
// canonical encoding) what the cache key hashes and each entry records.
// Field order is fixed by the struct; response_format is re-encoded
// canonically (sorted object keys).
type wireRequest struct {
	Model          string          `json:"model"`
	Messages       []Message       `json:"messages"`
	Temperature    float64         `json:"temperature"`
	MaxTokens      int             `json:"max_tokens,omitempty"`
	Seed           int64           `json:"seed,omitempty"`
	ResponseFormat json.RawMessage `json:"response_format,omitempty"`
	Stream         bool            `json:"stream"`
}

// keyVersion changes when what the key covers changes, so that old
// entries are never read with another meaning.
const keyVersion = 1

func (c *Client) wire(req Request) (wireRequest, error) {
	if len(req.Messages) == 0 {
		return wireRequest{}, errors.New("llm: request has no messages")
	}
	for i, m := range req.Messages {
		if strings.TrimSpace(m.Role) == "" {
			return wireRequest{}, fmt.Errorf("llm: message %d has no role", i)
		}
	}
	w := wireRequest{Model: c.cfg.Model, Messages: req.Messages, Temperature: c.cfg.Temperature,
		MaxTokens: c.cfg.MaxTokens, Seed: c.cfg.Seed}
	if req.Temperature != nil {
		w.Temperature = *req.Temperature
	}
	if req.MaxTokens != nil {
		w.MaxTokens = *req.MaxTokens
	}
	if req.Seed != nil {
		w.Seed = *req.Seed
	}
	switch {
	case len(req.ResponseFormat) > 0:
		f, err := canonicalJSON(req.ResponseFormat)
		if err != nil {
			return wireRequest{}, fmt.Errorf("llm: response_format: %w", err)
		}
		w.ResponseFormat = f
	case req.JSON:
		w.ResponseFormat = json.RawMessage(`{"type":"json_object"}`)
	}
	return w, nil
}

// canonicalJSON re-encodes a JSON value with sorted object keys and no
// insignificant space, numbers kept as written.
func canonicalJSON(raw []byte) (json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, errors.New("more than one JSON value")
	}
	return json.Marshal(v)
}

// cacheKey is the hex SHA-256 of the canonical request: version, model,
// messages and parameters. The same request always has the same key.
func cacheKey(w wireRequest) (key string, canonical []byte, err error) {
	canonical, err = json.Marshal(w)
	if err != nil {
		return "", nil, fmt.Errorf("llm: encode request: %w", err)
	}
	h := sha256.New()
	fmt.Fprintf(h, "atlas-learn/llm-cache/v%d\n", keyVersion)
	h.Write(canonical)
	return hex.EncodeToString(h.Sum(nil)), canonical, nil
}

// wireResponse is what is read of a chat completion; everything else is
// ignored, and content may be null.
type wireResponse struct {
	Model   *string `json:"model"`
	Choices []struct {
		Message struct {
			Content *string `json:"content"`
			Refusal *string `json:"refusal"`
		} `json:"message"`
		FinishReason *string `json:"finish_reason"`
	} `json:"choices"`
	Usage *struct {
		PromptTokens     int64 `json:"prompt_tokens"`
		CompletionTokens int64 `json:"completion_tokens"`
	} `json:"usage"`
	Error json.RawMessage `json:"error"`
}

type wireError struct {
	Message string `json:"message"`
}

// errorMessage extracts error.message from an OpenAI-style error body
// (some servers send a bare string as error).
func errorMessage(body []byte) string {
	var v struct {
		Error json.RawMessage `json:"error"`
	}
	if json.Unmarshal(body, &v) != nil || len(v.Error) == 0 {
		return ""
	}
	var e wireError
	if json.Unmarshal(v.Error, &e) == nil && e.Message != "" {
		return e.Message
	}
	var s string
	if json.Unmarshal(v.Error, &s) == nil {
		return s
	}
	return ""
}
