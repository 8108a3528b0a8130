// Package llm is the chat-model client shared by the stages that ask a
// language model (trajectory analysis first, then the strategy, memory and
// SFT stages): any OpenAI-compatible /chat/completions endpoint — OpenAI,
// vLLM, Ollama, llama.cpp's server — with bounded concurrency, retries with
// deterministic backoff, token and cost accounting, a response cache kept
// with the run's outputs and an offline mode that calls no model.
//
// # Modes
//
// Config.Mode is "offline" (the default: Chat returns ErrOffline at once
// and nothing is dialled, so the quick start needs neither a server nor a
// key), "live" (the endpoint is called, the cache consulted first when
// Config.Cache is set) or "replay" (answers come from the cache only; a
// miss is ErrOffline too, so a re-run over an earlier run's cache is
// reproducible without a key or a network).
//
// # Retries
//
// One Chat call makes at most 1 + Config.MaxRetries HTTP requests, each
// bounded by Config.Timeout. Retried: 408, 429 and every 5xx status,
// attempts that time out, connection errors and 2xx bodies that are not
// JSON (a truncated transfer). Not retried: other 4xx statuses (a bad key,
// a bad request, an unknown model) and well-formed JSON that is not a chat
// completion (the server meant it). The wait before retry n is
// BackoffInitial·2^(n-1), at most BackoffMax, with "equal jitter" (half of
// it fixed, half drawn) drawn from the request's cache key and n — so
// concurrent requests spread out while a re-run waits exactly as long. A
// Retry-After (seconds or an HTTP date) or retry-after-ms header replaces
// the computed wait, capped at BackoffMax. The concurrency slot is held
// across a call's retries, so back-pressure from a rate-limited server
// slows the whole stage rather than letting other calls pile on.
//
// # Cache
//
// The cache key is the SHA-256 of the canonical JSON of the model, the
// messages and the sampling parameters (temperature, max_tokens, seed,
// response_format) — never the base URL or the key, so the same question
// to the same model is one entry wherever it was served. An entry is one
// JSON object holding the request it answers (checked on every hit) and
// the response. Hits are returned with Response.Cached set; their tokens
// are counted apart (Stats.CachedPromptTokens, ...) and cost nothing.
// NewBucketCache keeps entries in a storage.Bucket (a directory or an S3
// prefix beside the run's datasets), NewMemoryCache in memory.
//
// # Keys
//
// The API key is never configuration: Config.APIKeyEnv names the
// environment variable that holds it, read once by New. It travels only in
// the Authorization header. Errors, log records, Stats, and the String and
// LogValue forms of Config and Client never contain it: every error Chat
// returns is redacted (see Redact), as is every response body kept in an
// APIError.
//
// # Why no SDK
//
// The client is a small net/http client of one endpoint rather than the
// official github.com/openai/openai-go/v3 (v3.98.0 examined) or
// github.com/sashabaranov/go-openai. The official SDK does support a custom
// base URL (so vLLM, Ollama and llama.cpp) and has retries, but: its
// NewClient silently reads OPENAI_BASE_URL, OPENAI_API_KEY, OPENAI_ORG_ID,
// OPENAI_PROJECT_ID and OPENAI_CUSTOM_HEADERS from the environment — inputs
// outside the job's layered configuration; its retries (0.5 s·2^n with
// math/rand jitter, also on 409, one knob: the count) cannot be observed
// per attempt for accounting or made reproducible, so we would turn them
// off (option.WithMaxRetries(0)) and write our own loop anyway; caching and
// redaction would wrap it from outside too; and its module requires the
// Azure SDK, MSAL, JWT, websocket and gjson/sjson modules (15 MB of
// source) for the one request this job sends. What remained for the SDK
// to do — encode a request and decode a response of the stable chat
// completions format — is a hundred lines here, decoded leniently so the
// servers' small differences (null content, missing usage, extra fields)
// do not matter.
package llm
