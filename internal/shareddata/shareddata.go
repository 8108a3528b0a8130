// Package shareddata locates the read-only shared corpora (Stitch's
// benchmarks, real trajectories, ARC-AGI) that tests and benchmarks read
// from ../shared/data beside the repository.
package shareddata

import (
	"os"
	"path/filepath"
	"testing"
)

// Dir returns the shared/data directory found by walking up from the
// working directory (a package directory in tests). It fails the test when
// there is none: tests that need the corpora never pass without them.
func Dir(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for d := dir; ; d = filepath.Dir(d) {
		p := filepath.Join(d, "shared", "data")
		if st, err := os.Stat(p); err == nil && st.IsDir() {
			return p
		}
		if filepath.Dir(d) == d {
			t.Fatalf("shared/data not found above %s: the tests need ../shared beside the checkout", dir)
		}
	}
}
