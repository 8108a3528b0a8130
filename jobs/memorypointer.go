package jobs

// PROVISIONAL: replaced by the recall work's memory pointer at merge.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/atlas-ai/atlas-learn/columnar/storage"
)

// MemoryPointer names the current memory version.
type MemoryPointer struct {
	Version   string `json:"version"`
	Dir       string `json:"dir"`
	Index     string `json:"index"`
	RunID     string `json:"run_id"`
	CreatedAt string `json:"created_at"`
}

// ReadMemoryPointer reads root's CURRENT; (nil, nil) when there is none.
func ReadMemoryPointer(ctx context.Context, b storage.BucketReader, root string) (*MemoryPointer, error) {
	data, err := storage.Get(ctx, b, storage.Join(root, "CURRENT"))
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var p MemoryPointer
	if err := json.Unmarshal(data, &p); err != nil {
		return nil, fmt.Errorf("memory pointer: %w", err)
	}
	return &p, nil
}

// WriteMemoryPointer writes root's CURRENT.
func WriteMemoryPointer(ctx context.Context, b storage.Bucket, root string, p MemoryPointer) error {
	data, _ := json.Marshal(p)
	return storage.Put(ctx, b, storage.Join(root, "CURRENT"), data)
}
