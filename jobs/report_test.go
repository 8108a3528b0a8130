package jobs_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/atlas-ai/atlas-learn/jobs"
)

// A run writes report.md and a self-contained report.html beside its
// manifest, with every section the run has data for.
func TestRunReport(t *testing.T) {
	in := genInput(t, 400, 9)
	out := t.TempDir()
	cfg := config(t, in, out)
	cfg.Concepts.Iterations = 3
	res, err := jobs.Run(context.Background(), cfg, quiet())
	if err != nil {
		t.Fatal(err)
	}
	md, err := os.ReadFile(filepath.Join(out, res.RunDir, "report.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"# atlas-learn run " + res.Manifest.Run.ID, "## Success rate by domain", "| list |",
		"## Top error patterns", "## Compression curve", "## Datasets", "| trajectories | trajectory/v1 |", "## Stages"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("report.md lacks %q", want)
		}
	}
	page, err := os.ReadFile(filepath.Join(out, res.RunDir, "report.html"))
	if err != nil {
		t.Fatal(err)
	}
	h := string(page)
	if strings.Count(h, "<svg") < 3 || strings.Contains(h, "<script") || strings.Contains(h, "src=") || strings.Contains(h, "href=") {
		t.Errorf("report.html is not self-contained with charts: %d svg", strings.Count(h, "<svg"))
	}
}
