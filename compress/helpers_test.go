package compress

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// sharedData finds the shared/data directory beside the repository root by
// walking up from the package directory.
func sharedData(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		for _, cand := range []string{filepath.Join(dir, "shared", "data"), filepath.Join(dir, "..", "shared", "data")} {
			if st, err := os.Stat(cand); err == nil && st.IsDir() {
				return cand
			}
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("shared/data not found beside the repository root")
		}
		dir = parent
	}
}

func loadPrograms(t testing.TB, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var progs []string
	if err := json.Unmarshal(b, &progs); err != nil {
		t.Fatal(err)
	}
	return progs
}
