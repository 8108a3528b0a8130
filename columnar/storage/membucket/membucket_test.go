package membucket_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/atlas-ai/atlas-learn/columnar/storage"
	"github.com/atlas-ai/atlas-learn/columnar/storage/membucket"
	"github.com/atlas-ai/atlas-learn/columnar/storage/storagetest"
)

func TestConformance(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) storage.Bucket { return membucket.New("") })
}

func TestWritesAreCopied(t *testing.T) {
	ctx := context.Background()
	b := membucket.New("mem://copy")
	data := []byte("original")
	if err := storage.Put(ctx, b, "k", data); err != nil {
		t.Fatal(err)
	}
	copy(data, "CHANGED!")
	got, err := storage.Get(ctx, b, "k")
	if err != nil || string(got) != "original" {
		t.Fatalf("Get = %q, %v; the caller's later change leaked in", got, err)
	}
}

func TestErrors(t *testing.T) {
	b := membucket.New("mem://errs")
	ctx := context.Background()
	if err := storage.Put(ctx, b, "k", []byte("0123")); err != nil {
		t.Fatal(err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	tests := []struct {
		name string
		call func() error
		want string // in the message
	}{
		{"offset past the end", func() error { _, err := b.GetRange(ctx, "k", 5, 1); return err }, "outside"},
		{"negative offset", func() error { _, err := b.GetRange(ctx, "k", -1, 1); return err }, "outside"},
		{"empty key", func() error { return storage.Put(ctx, b, "", nil) }, "empty key"},
		{"cancelled stat", func() error { _, err := b.Stat(cancelled, "k"); return err }, "context canceled"},
		{"cancelled list", func() error { return b.Iter(cancelled, "", func(storage.ObjectInfo) error { return nil }) }, "context canceled"},
		{"cancelled put", func() error { return storage.Put(cancelled, b, "c", nil) }, "context canceled"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "mem://errs/") {
				t.Fatalf("err = %v; want one naming the object and containing %q", err, tc.want)
			}
		})
	}
	t.Run("cancelled before close", func(t *testing.T) {
		wctx, cancel := context.WithCancel(ctx)
		w, err := b.NewWriter(wctx, "late")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte("x")); err != nil {
			t.Fatal(err)
		}
		cancel()
		if err := w.Close(); !errors.Is(err, context.Canceled) {
			t.Fatalf("Close = %v; want context.Canceled", err)
		}
		if ok, _ := storage.Exists(ctx, b, "late"); ok {
			t.Fatal("a write whose context ended is visible")
		}
	})
}

func TestConcurrentUse(t *testing.T) {
	ctx := context.Background()
	b := membucket.New("")
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 50 {
				key := fmt.Sprintf("g%d/%03d", g, i)
				if err := storage.Put(ctx, b, key, []byte(key)); err != nil {
					t.Error(err)
					return
				}
				if _, err := storage.List(ctx, b, "", nil); err != nil {
					t.Error(err)
					return
				}
				if got, err := storage.Get(ctx, b, key); err != nil || string(got) != key {
					t.Errorf("Get(%s) = %q, %v", key, got, err)
					return
				}
				if i%2 == 1 {
					if err := b.Delete(ctx, key); err != nil {
						t.Error(err)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	keys := b.Keys()
	if len(keys) != 8*25 || !slices.IsSorted(keys) {
		t.Fatalf("Keys: %d keys (want %d), sorted %v", len(keys), 8*25, slices.IsSorted(keys))
	}
}

func TestIterMayUseTheBucket(t *testing.T) {
	ctx := context.Background()
	b := membucket.New("")
	for _, k := range []string{"b", "a", "c"} {
		if err := storage.Put(ctx, b, k, []byte(k)); err != nil {
			t.Fatal(err)
		}
	}
	var seen []string
	err := b.Iter(ctx, "", func(o storage.ObjectInfo) error {
		seen = append(seen, o.Key)
		// Writing from fn must not deadlock, nor change this listing.
		return storage.Put(ctx, b, "z-"+o.Key, nil)
	})
	if err != nil || !slices.Equal(seen, []string{"a", "b", "c"}) {
		t.Fatalf("Iter = %v, %v", seen, err)
	}
	if got := b.Keys(); len(got) != 6 {
		t.Fatalf("Keys = %v", got)
	}
}
