package benchrecall

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestRunServeInProcess drives a small memory with the in-process client:
// no request fails and the mid-load reload is seen.
func TestRunServeInProcess(t *testing.T) {
	var out bytes.Buffer
	if err := RunServe(context.Background(), &out, ServeOptions{Docs: 500, Requests: 8000, Concurrency: 4}); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("output:\n%s", out.String())
	}
	f := strings.Fields(lines[1])
	if f[0] != "500" || f[1] != "8000" || f[2] != "0" || f[6] != "yes" || f[7] != "in-process" {
		t.Errorf("row %q", lines[1])
	}
}

func TestRunIndex(t *testing.T) {
	var out bytes.Buffer
	if err := RunIndex(context.Background(), &out, IndexOptions{Sizes: []int{100, 1000}, Queries: 20}); err != nil {
		t.Fatal(err)
	}
	if got := strings.Count(out.String(), "\n"); got != 3 || !strings.HasPrefix(out.String(), "DOCS") {
		t.Errorf("output:\n%s", out.String())
	}
}
