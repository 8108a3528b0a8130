package jobs

import (
	"bytes"
	"strings"
	"testing"
)

// The bar counts files and trajectories and shows the rate.
func TestProgress(t *testing.T) {
	var buf bytes.Buffer
	p := NewProgress(&buf, 4)
	p.update(256, 0)
	p.update(100, 2)
	if p.rows != 356 || p.files != 2 {
		t.Fatalf("rows %d files %d", p.rows, p.files)
	}
	p.Finish()
	if out := buf.String(); !strings.Contains(out, "256 trajectories") || !strings.Contains(out, "/4)") {
		t.Fatalf("bar printed %q", out)
	}
}
