package llm_test

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/atlas-ai/atlas-learn/internal/llm"
)

func TestDefaults(t *testing.T) {
	d := llm.Defaults()
	if err := d.Validate(); err != nil {
		t.Fatal(err)
	}
	want := llm.Config{Mode: "offline", BaseURL: "https://api.openai.com/v1", APIKeyEnv: "OPENAI_API_KEY", MaxConcurrency: 4,
		MaxRetries: 3, Timeout: time.Minute, BackoffInitial: 500 * time.Millisecond, BackoffMax: 30 * time.Second, Cache: true}
	if d != want {
		t.Errorf("Defaults %+v", d)
	}
}

func TestValidate(t *testing.T) {
	live := func(f func(*llm.Config)) llm.Config {
		c := llm.Defaults()
		c.Mode, c.Model = llm.ModeLive, "m"
		f(&c)
		return c
	}
	tests := []struct {
		name string
		cfg  llm.Config
		want string // "" for valid
	}{
		{"live", live(func(*llm.Config) {}), ""},
		{"replay", live(func(c *llm.Config) { c.Mode = llm.ModeReplay }), ""},
		{"offline needs nothing", llm.Config{Mode: "offline", MaxConcurrency: 1, Timeout: time.Second}, ""},
		{"mode", live(func(c *llm.Config) { c.Mode = "x" }), `mode: want offline, live or replay, got "x"`},
		{"empty mode", live(func(c *llm.Config) { c.Mode = "" }), `mode: want offline, live or replay, got ""`},
		{"base_url", live(func(c *llm.Config) { c.BaseURL = "localhost:8000" }), `base_url: want http(s)://host[:port]/path, got "localhost:8000"`},
		{"base_url credentials", live(func(c *llm.Config) { c.BaseURL = "https://u:secret@h/v1" }), `base_url: must carry no credentials or query (the key comes from api_key_env), got "https://h/v1"`},
		{"base_url query", live(func(c *llm.Config) { c.BaseURL = "https://h/v1?key=secret" }), `base_url: must carry no credentials`},
		{"model", live(func(c *llm.Config) { c.Model = "" }), `model: required when mode is live`},
		{"replay without cache", live(func(c *llm.Config) { c.Mode, c.Cache = llm.ModeReplay, false }), `cache: must be true when mode is replay`},
		{"api_key_env", live(func(c *llm.Config) { c.APIKeyEnv = "sk-abc" }), `api_key_env: want the name of an environment variable (letters, digits, _), not the key itself; got a value of 6 characters`},
		{"api_key_env empty", live(func(c *llm.Config) { c.APIKeyEnv = "" }), ""},
		{"max_concurrency", live(func(c *llm.Config) { c.MaxConcurrency = 0 }), `max_concurrency: must be 1..1024, got 0`},
		{"max_retries", live(func(c *llm.Config) { c.MaxRetries = -1 }), `max_retries: must be 0..100, got -1`},
		{"timeout", live(func(c *llm.Config) { c.Timeout = 0 }), `timeout: must be positive, got 0s`},
		{"backoff_initial", live(func(c *llm.Config) { c.BackoffInitial = -time.Second }), `backoff_initial: must be >= 0, got -1s`},
		{"backoff_max", live(func(c *llm.Config) { c.BackoffMax = time.Millisecond }), `backoff_max: must be >= backoff_initial (500ms), got 1ms`},
		{"temperature", live(func(c *llm.Config) { c.Temperature = 2.5 }), `temperature: must be 0..2, got 2.5`},
		{"max_tokens", live(func(c *llm.Config) { c.MaxTokens = -1 }), `max_tokens: must be >= 0, got -1`},
		{"price prompt", live(func(c *llm.Config) { c.PricePer1KPromptTokens = -1 }), `price_per_1k_prompt_tokens: must be a number >= 0, got -1`},
		{"price completion", live(func(c *llm.Config) { c.PricePer1KCompletionTokens = -0.1 }), `price_per_1k_completion_tokens: must be a number >= 0, got -0.1`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("unexpected error %v", err)
			case tt.want != "" && (err == nil || !strings.HasPrefix(err.Error(), tt.want)):
				t.Errorf("error %v, want %q", err, tt.want)
			}
		})
	}
}

func TestConfigYAML(t *testing.T) {
	src := `
mode: live
base_url: http://127.0.0.1:11434/v1
model: qwen2.5-coder:7b
api_key_env: OLLAMA_KEY
max_concurrency: 2
max_retries: 5
timeout: 90s
backoff_initial: 250ms
backoff_max: 10s
temperature: 0.2
max_tokens: 512
seed: 7
price_per_1k_prompt_tokens: 0.00015
price_per_1k_completion_tokens: 0.0006
cache: false
`
	c := llm.Defaults()
	dec := yaml.NewDecoder(strings.NewReader(src))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		t.Fatal(err)
	}
	want := llm.Config{Mode: "live", BaseURL: "http://127.0.0.1:11434/v1", Model: "qwen2.5-coder:7b", APIKeyEnv: "OLLAMA_KEY",
		MaxConcurrency: 2, MaxRetries: 5, Timeout: 90 * time.Second, BackoffInitial: 250 * time.Millisecond, BackoffMax: 10 * time.Second,
		Temperature: 0.2, MaxTokens: 512, Seed: 7, PricePer1KPromptTokens: 0.00015, PricePer1KCompletionTokens: 0.0006}
	if c != want {
		t.Errorf("decoded %+v", c)
	}
	if err := c.Validate(); err != nil {
		t.Error(err)
	}
}

func TestConfigStringsHaveNoSecrets(t *testing.T) {
	c := llm.Defaults()
	c.BaseURL = "https://user:hunter22@example.com/v1?api-key=hunter22"
	var buf bytes.Buffer
	slog.New(slog.NewTextHandler(&buf, nil)).Info("cfg", "llm", c)
	for _, s := range []string{c.String(), buf.String(), c.Redacted().BaseURL} {
		if strings.Contains(s, "hunter22") {
			t.Errorf("secret in %q", s)
		}
	}
	if !strings.Contains(buf.String(), "llm.base_url=https://example.com/v1") {
		t.Errorf("log %s", buf.String())
	}
}
