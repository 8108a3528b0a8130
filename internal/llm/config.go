package llm

import (
	"fmt"
	"log/slog"
	"math"
	"net/url"
	"regexp"
	"time"

	"github.com/atlas-ai/atlas-learn/columnar/storage"
)

// The modes of Config.Mode.
const (
	// ModeOffline calls no model: Chat returns ErrOffline.
	ModeOffline = "offline"
	// ModeLive calls the endpoint (after the cache, when enabled).
	ModeLive = "live"
	// ModeReplay answers from the cache only; a miss is ErrOffline.
	ModeReplay = "replay"
)

// DefaultBaseURL is OpenAI's API.
const DefaultBaseURL = "https://api.openai.com/v1"

// Config is the llm: section of the job's configuration. The key is never
// part of it: APIKeyEnv names the environment variable that holds it.
type Config struct {
	// Mode is offline (the default: no model is called), live or replay
	// (answers from the cache only).
	Mode string `yaml:"mode" json:"mode"`
	// BaseURL is the OpenAI-compatible API root, up to and including /v1:
	// https://api.openai.com/v1, http://127.0.0.1:8000/v1 (vLLM),
	// http://127.0.0.1:11434/v1 (Ollama), http://127.0.0.1:8080/v1
	// (llama.cpp). Requests go to BaseURL + "/chat/completions".
	BaseURL string `yaml:"base_url" json:"base_url"`
	// Model is the model name sent with every request; required in live
	// and replay modes.
	Model string `yaml:"model" json:"model"`
	// APIKeyEnv names the environment variable holding the API key
	// (default OPENAI_API_KEY). An empty variable sends no Authorization
	// header (local servers need none); "" never reads one.
	APIKeyEnv string `yaml:"api_key_env" json:"api_key_env"`
	// MaxConcurrency bounds the calls in flight at once.
	MaxConcurrency int `yaml:"max_concurrency" json:"max_concurrency"`
	// MaxRetries bounds the requests after the first of one call.
	MaxRetries int `yaml:"max_retries" json:"max_retries"`
	// Timeout bounds one request, response body included.
	Timeout time.Duration `yaml:"timeout" json:"timeout"`
	// BackoffInitial is the wait before the first retry; it doubles per
	// retry up to BackoffMax, which also caps a server's Retry-After.
	BackoffInitial time.Duration `yaml:"backoff_initial" json:"backoff_initial"`
	BackoffMax     time.Duration `yaml:"backoff_max" json:"backoff_max"`
	// Temperature is the sampling temperature (0: the most deterministic).
	Temperature float64 `yaml:"temperature" json:"temperature"`
	// MaxTokens bounds the completion's tokens; 0 sends none (the
	// server's default).
	MaxTokens int `yaml:"max_tokens" json:"max_tokens"`
	// Seed is the sampling seed; 0 sends none.
	Seed int64 `yaml:"seed" json:"seed"`
	// PricePer1KPromptTokens and PricePer1KCompletionTokens, in US
	// dollars, give Stats.CostMicroUSD; 0 counts nothing.
	PricePer1KPromptTokens     float64 `yaml:"price_per_1k_prompt_tokens" json:"price_per_1k_prompt_tokens"`
	PricePer1KCompletionTokens float64 `yaml:"price_per_1k_completion_tokens" json:"price_per_1k_completion_tokens"`
	// BudgetUSD is the most one client (one stage of a run) may spend,
	// at the configured prices; once spent, Chat returns
	// ErrBudgetExhausted and the run fails. 0: no budget.
	BudgetUSD float64 `yaml:"budget_usd" json:"budget_usd"`
	// Cache keeps every answer, keyed by model, messages and parameters,
	// and answers identical requests from it.
	Cache bool `yaml:"cache" json:"cache"`
}

// Defaults is the configuration of the embedded default: offline, so that
// nothing calls a model until configured to.
func Defaults() Config {
	return Config{
		Mode:           ModeOffline,
		BaseURL:        DefaultBaseURL,
		APIKeyEnv:      "OPENAI_API_KEY",
		MaxConcurrency: 4,
		MaxRetries:     3,
		Timeout:        60 * time.Second,
		BackoffInitial: 500 * time.Millisecond,
		BackoffMax:     30 * time.Second,
		Cache:          true,
	}
}

var envNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// Validate reports the first invalid key, named relative to the section.
func (c Config) Validate() error {
	switch c.Mode {
	case ModeOffline, ModeLive, ModeReplay:
	default:
		return fmt.Errorf("mode: want offline, live or replay, got %q", c.Mode)
	}
	if c.Mode != ModeOffline {
		u, err := url.Parse(c.BaseURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("base_url: want http(s)://host[:port]/path, got %q", storage.Redact(c.BaseURL))
		}
		if u.User != nil || u.RawQuery != "" {
			return fmt.Errorf("base_url: must carry no credentials or query (the key comes from api_key_env), got %q", storage.Redact(c.BaseURL))
		}
		if c.Model == "" {
			return fmt.Errorf("model: required when mode is %s", c.Mode)
		}
	}
	if c.Mode == ModeReplay && !c.Cache {
		return fmt.Errorf("cache: must be true when mode is replay")
	}
	if c.APIKeyEnv != "" && !envNameRE.MatchString(c.APIKeyEnv) {
		// The value is not repeated: it may be a key pasted in the wrong
		// place.
		return fmt.Errorf("api_key_env: want the name of an environment variable (letters, digits, _), not the key itself; got a value of %d characters", len(c.APIKeyEnv))
	}
	if c.BudgetUSD < 0 || math.IsNaN(c.BudgetUSD) || math.IsInf(c.BudgetUSD, 0) {
		return fmt.Errorf("budget_usd: must be a number >= 0, got %v", c.BudgetUSD)
	}
	if c.BudgetUSD > 0 && c.PricePer1KPromptTokens == 0 && c.PricePer1KCompletionTokens == 0 {
		return fmt.Errorf("budget_usd: needs price_per_1k_prompt_tokens or price_per_1k_completion_tokens to count the spending")
	}
	switch {
	case c.MaxConcurrency < 1 || c.MaxConcurrency > 1024:
		return fmt.Errorf("max_concurrency: must be 1..1024, got %d", c.MaxConcurrency)
	case c.MaxRetries < 0 || c.MaxRetries > 100:
		return fmt.Errorf("max_retries: must be 0..100, got %d", c.MaxRetries)
	case c.Timeout <= 0:
		return fmt.Errorf("timeout: must be positive, got %s", c.Timeout)
	case c.BackoffInitial < 0:
		return fmt.Errorf("backoff_initial: must be >= 0, got %s", c.BackoffInitial)
	case c.BackoffMax < c.BackoffInitial:
		return fmt.Errorf("backoff_max: must be >= backoff_initial (%s), got %s", c.BackoffInitial, c.BackoffMax)
	case math.IsNaN(c.Temperature) || c.Temperature < 0 || c.Temperature > 2:
		return fmt.Errorf("temperature: must be 0..2, got %v", c.Temperature)
	case c.MaxTokens < 0:
		return fmt.Errorf("max_tokens: must be >= 0, got %d", c.MaxTokens)
	case !validPrice(c.PricePer1KPromptTokens):
		return fmt.Errorf("price_per_1k_prompt_tokens: must be a number >= 0, got %v", c.PricePer1KPromptTokens)
	case !validPrice(c.PricePer1KCompletionTokens):
		return fmt.Errorf("price_per_1k_completion_tokens: must be a number >= 0, got %v", c.PricePer1KCompletionTokens)
	}
	return nil
}

func validPrice(p float64) bool { return p >= 0 && !math.IsInf(p, 0) && !math.IsNaN(p) }

// Redacted is c with anything that could hold a secret removed from the
// base URL (user info, query), for manifests and logs. The key itself is
// never in a Config.
func (c Config) Redacted() Config {
	c.BaseURL = storage.Redact(c.BaseURL)
	return c
}

// String is a one-line summary without secrets.
func (c Config) String() string {
	return fmt.Sprintf("llm{mode=%s base_url=%s model=%s api_key_env=%s max_concurrency=%d cache=%t}",
		c.Mode, storage.Redact(c.BaseURL), c.Model, c.APIKeyEnv, c.MaxConcurrency, c.Cache)
}

// LogValue logs the settings without secrets.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("mode", c.Mode),
		slog.String("base_url", storage.Redact(c.BaseURL)),
		slog.String("model", c.Model),
		slog.String("api_key_env", c.APIKeyEnv),
		slog.Int("max_concurrency", c.MaxConcurrency),
		slog.Bool("cache", c.Cache),
	)
}
