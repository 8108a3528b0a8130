package llm

import (
	"math"
	"sync/atomic"
)

// Stats is a snapshot of a client's accounting since New.
type Stats struct {
	// Calls is the number of Chat calls.
	Calls int64 `json:"calls"`
	// Requests is the HTTP requests sent (first attempts and retries).
	Requests int64 `json:"requests"`
	// Retries is the requests after a call's first.
	Retries int64 `json:"retries"`
	// Failures is the calls that returned an error other than ErrOffline
	// (after any retries).
	Failures int64 `json:"failures"`
	// Offline is the calls answered ErrOffline (offline mode, or a miss
	// in replay mode).
	Offline int64 `json:"offline"`
	// CacheHits and CacheMisses count cache look-ups.
	CacheHits   int64 `json:"cache_hits"`
	CacheMisses int64 `json:"cache_misses"`
	// CacheErrors counts cache reads and writes that failed or found an
	// unreadable entry (the call went on without the cache).
	CacheErrors int64 `json:"cache_errors"`
	// Refusals is the answers that were refusals (live or cached).
	Refusals int64 `json:"refusals"`
	// PromptTokens and CompletionTokens are the tokens of answers from
	// the model in this run: what was paid for.
	PromptTokens     int64 `json:"prompt_tokens"`
	CompletionTokens int64 `json:"completion_tokens"`
	// CachedPromptTokens and CachedCompletionTokens are the tokens of
	// answers from the cache: what was not paid for again.
	CachedPromptTokens     int64 `json:"cached_prompt_tokens"`
	CachedCompletionTokens int64 `json:"cached_completion_tokens"`
	// CostMicroUSD is the price of PromptTokens and CompletionTokens, in
	// millionths of a US dollar, at the configured prices.
	CostMicroUSD int64 `json:"cost_micro_usd"`
}

// Counters is s as named counters ("llm_calls", ...), for a stage's
// manifest counters.
func (s Stats) Counters() map[string]int64 {
	return map[string]int64{
		"llm_calls":                    s.Calls,
		"llm_requests":                 s.Requests,
		"llm_retries":                  s.Retries,
		"llm_failures":                 s.Failures,
		"llm_offline":                  s.Offline,
		"llm_cache_hits":               s.CacheHits,
		"llm_cache_misses":             s.CacheMisses,
		"llm_cache_errors":             s.CacheErrors,
		"llm_refusals":                 s.Refusals,
		"llm_prompt_tokens":            s.PromptTokens,
		"llm_completion_tokens":        s.CompletionTokens,
		"llm_cached_prompt_tokens":     s.CachedPromptTokens,
		"llm_cached_completion_tokens": s.CachedCompletionTokens,
		"llm_cost_micro_usd":           s.CostMicroUSD,
	}
}

// stats are the live counters.
type stats struct {
	calls, requests, retries, failures, offline            atomic.Int64
	cacheHits, cacheMisses, cacheErrors, refusals          atomic.Int64
	promptTokens, completionTokens                         atomic.Int64
	cachedPromptTokens, cachedCompletionTokens, costMicros atomic.Int64
}

func (s *stats) snapshot() Stats {
	return Stats{
		Calls: s.calls.Load(), Requests: s.requests.Load(), Retries: s.retries.Load(),
		Failures: s.failures.Load(), Offline: s.offline.Load(),
		CacheHits: s.cacheHits.Load(), CacheMisses: s.cacheMisses.Load(), CacheErrors: s.cacheErrors.Load(),
		Refusals:     s.refusals.Load(),
		PromptTokens: s.promptTokens.Load(), CompletionTokens: s.completionTokens.Load(),
		CachedPromptTokens: s.cachedPromptTokens.Load(), CachedCompletionTokens: s.cachedCompletionTokens.Load(),
		CostMicroUSD: s.costMicros.Load(),
	}
}

// costMicroUSD is the price of tokens at pricePer1K dollars per 1000
// tokens, in micro-dollars, rounded to the nearest.
func costMicroUSD(tokens int64, pricePer1K float64) int64 {
	return int64(math.Round(float64(tokens) * pricePer1K * 1000))
}
