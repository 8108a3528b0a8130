package jobs

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/atlas-ai/atlas-learn/columnar/storage"
	"github.com/atlas-ai/atlas-learn/columnar/storage/membucket"
	"github.com/atlas-ai/atlas-learn/jobs/recall"
)

func TestMemoryPointerRoundTrip(t *testing.T) {
	ctx := context.Background()
	for _, root := range []string{"", "memory", "out/memory"} {
		b := membucket.New("mem")
		if _, err := ReadMemoryPointer(ctx, b, root); !errors.Is(err, ErrNoMemory) {
			t.Fatalf("root %q: missing pointer: err %v, want ErrNoMemory", root, err)
		} else if !strings.Contains(err.Error(), "run atlas-learn run first") {
			t.Errorf("message %q", err)
		}
		p := NewMemoryPointer(MemoryVersionName(3), "run-1", "2026-01-01T00:00:00Z")
		if p.Dir != "versions/000003" || p.Index != "versions/000003/index/recall.idx" {
			t.Fatalf("layout %+v", p)
		}
		if err := WriteMemoryPointer(ctx, b, root, p); err != nil {
			t.Fatal(err)
		}
		got, err := ReadMemoryPointer(ctx, b, root)
		if err != nil || *got != p {
			t.Fatalf("root %q: read %+v, %v; want %+v", root, got, err, p)
		}
		if ok, _ := storage.Exists(ctx, b, storage.Join(root, "CURRENT")); !ok {
			t.Errorf("root %q: no CURRENT object", root)
		}
	}
}

func TestMemoryPointerInvalid(t *testing.T) {
	ctx := context.Background()
	good := NewMemoryPointer("000001", "r", "")
	for _, tc := range []struct {
		name string
		mod  func(p *MemoryPointer)
		want string
	}{
		{"empty version", func(p *MemoryPointer) { p.Version = "" }, "version:"},
		{"slash in version", func(p *MemoryPointer) { p.Version = "a/b" }, "version:"},
		{"absolute dir", func(p *MemoryPointer) { p.Dir = "/etc" }, "dir:"},
		{"escaping index", func(p *MemoryPointer) { p.Index = "../x" }, "index:"},
		{"index outside dir", func(p *MemoryPointer) { p.Index = "versions/000002/index/recall.idx" }, "not inside"},
	} {
		p := good
		tc.mod(&p)
		err := WriteMemoryPointer(ctx, membucket.New("m"), "", p)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err %v, want %q", tc.name, err, tc.want)
		}
	}
	// A corrupt pointer names the object.
	b := membucket.New("m")
	for _, data := range []string{"{not json", `{"version":"1","dir":"v","index":"v/i","run_id":"","created_at":"","extra":1}`, `{"version":"","dir":"v","index":"v/i"}`} {
		if err := storage.Put(ctx, b, "mem/CURRENT", []byte(data)); err != nil {
			t.Fatal(err)
		}
		_, err := ReadMemoryPointer(ctx, b, "mem")
		if err == nil || errors.Is(err, ErrNoMemory) || !strings.Contains(err.Error(), "mem/CURRENT") {
			t.Errorf("pointer %q: err %v", data, err)
		}
	}
}

// TestMemoryPointerLocalAtomic: the local driver writes CURRENT through a
// temporary file renamed into place, so no temporary is left and a reader
// never sees a partial pointer.
func TestMemoryPointerLocalAtomic(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	b, err := storage.NewLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	for v := 1; v <= 3; v++ {
		if err := WriteMemoryPointer(ctx, b, "", NewMemoryPointer(MemoryVersionName(v), "r", "")); err != nil {
			t.Fatal(err)
		}
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(ents) != 1 || ents[0].Name() != "CURRENT" {
		t.Errorf("entries %v, want CURRENT only", ents)
	}
	data, _ := os.ReadFile(filepath.Join(dir, "CURRENT"))
	if !strings.Contains(string(data), `"version": "000003"`) {
		t.Errorf("CURRENT %s", data)
	}
}

func TestIndexObjectRoundTrip(t *testing.T) {
	ctx := context.Background()
	b := membucket.New("m")
	ix, err := recall.Build(recall.Synthetic(100, 1, nil, "t"), recall.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	if err := WriteIndex(ctx, b, "versions/000001/index/recall.idx", ix); err != nil {
		t.Fatal(err)
	}
	back, err := ReadIndex(ctx, b, "versions/000001/index/recall.idx")
	if err != nil || back.Len() != 100 {
		t.Fatalf("read %v %v", back, err)
	}
	if err := storage.Put(ctx, b, "bad.idx", []byte("garbage garbage garbage")); err != nil {
		t.Fatal(err)
	}
	_, err = ReadIndex(ctx, b, "bad.idx")
	if !errors.Is(err, recall.ErrFormat) || !strings.Contains(err.Error(), "bad.idx") {
		t.Errorf("bad index: %v", err)
	}
	if _, err = ReadIndex(ctx, b, "missing.idx"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("missing index: %v", err)
	}
}
