package llm

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/atlas-ai/atlas-learn/columnar/storage"
)

// Cache stores answers by key (the hex SHA-256 of a canonical request).
// Implementations are safe for concurrent use.
type Cache interface {
	// Get returns the entry stored under key; ok is false when there is
	// none.
	Get(ctx context.Context, key string) (data []byte, ok bool, err error)
	// Put stores an entry under key, replacing any.
	Put(ctx context.Context, key string, data []byte) error
}

// MemoryCache is a Cache in memory, for one process.
type MemoryCache struct {
	mu sync.Mutex
	m  map[string][]byte
}

// NewMemoryCache returns an empty MemoryCache.
func NewMemoryCache() *MemoryCache { return &MemoryCache{m: map[string][]byte{}} }

// Get implements Cache.
func (c *MemoryCache) Get(_ context.Context, key string) ([]byte, bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	d, ok := c.m[key]
	return append([]byte(nil), d...), ok, nil
}

// Put implements Cache.
func (c *MemoryCache) Put(_ context.Context, key string, data []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m[key] = append([]byte(nil), data...)
	return nil
}

// Len is the number of entries.
func (c *MemoryCache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}

// BucketCache is a Cache over a storage.Bucket (a local directory or an S3
// prefix): one JSON object per key, at PREFIX/ab/abcdef….json (the first
// two hex digits spread entries over 256 directories). Each object appears
// whole or not at all, so concurrent writers and crashes leave no partial
// entry.
type BucketCache struct {
	b      storage.Bucket
	prefix string
}

// NewBucketCache returns a cache storing its entries in b under prefix
// ("" for the bucket's root).
func NewBucketCache(b storage.Bucket, prefix string) *BucketCache {
	return &BucketCache{b: b, prefix: prefix}
}

func (c *BucketCache) objectKey(key string) (string, error) {
	if len(key) < 3 {
		return "", fmt.Errorf("llm cache: invalid key %q", key)
	}
	for _, r := range key {
		if (r < '0' || r > '9') && (r < 'a' || r > 'f') {
			return "", fmt.Errorf("llm cache: invalid key %q", key)
		}
	}
	return storage.Join(c.prefix, key[:2], key+".json"), nil
}

// Get implements Cache.
func (c *BucketCache) Get(ctx context.Context, key string) ([]byte, bool, error) {
	k, err := c.objectKey(key)
	if err != nil {
		return nil, false, err
	}
	data, err := storage.Get(ctx, c.b, k)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("llm cache: %w", err)
	}
	return data, true, nil
}

// Put implements Cache.
func (c *BucketCache) Put(ctx context.Context, key string, data []byte) error {
	k, err := c.objectKey(key)
	if err != nil {
		return err
	}
	if err := storage.Put(ctx, c.b, k, data); err != nil {
		return fmt.Errorf("llm cache: %w", err)
	}
	return nil
}

// cacheEntry is what the cache stores for one key: the request it
// answers, to check on a hit, and the answer.
type cacheEntry struct {
	Format   string      `json:"format"`
	Version  int         `json:"version"`
	Key      string      `json:"key"`
	Request  wireRequest `json:"request"`
	Response Response    `json:"response"`
}

const cacheFormat = "atlas-learn/llm-cache"
