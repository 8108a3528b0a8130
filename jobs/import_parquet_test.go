package jobs_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"

	"github.com/atlas-ai/atlas-learn/columnar"
	"github.com/atlas-ai/atlas-learn/jobs"
)

type pqMsg struct {
	Role string `parquet:"role"`
	Text string `parquet:"text"`
}

type pqNebius struct {
	InstanceID string  `parquet:"instance_id"`
	ModelName  string  `parquet:"model_name"`
	Target     bool    `parquet:"target"`
	Trajectory []pqMsg `parquet:"trajectory,list"`
}

func TestImportParquetMapping(t *testing.T) {
	cfg := config(t, "unused", "unused")
	dir := t.TempDir()
	src := filepath.Join(dir, "nebius.parquet")
	f, err := os.Create(src)
	if err != nil {
		t.Fatal(err)
	}
	msgs := []pqMsg{{Role: "user", Text: "fix"}, {Role: "ai", Text: "```\nls\n```"}, {Role: "user", Text: "a.py"}}
	if err := parquet.Write(f, []pqNebius{{"a-1", "m", true, msgs}, {"a-2", "m", false, msgs}}); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	m, err := jobs.Import(context.Background(), jobs.ImportOptions{Format: "parquet", Map: "nebius", Files: []string{src}, Output: out, OnError: columnar.OnErrorFail, Parquet: cfg.Parquet}, quiet())
	if err != nil {
		t.Fatal(err)
	}
	if m.Counters["rows_imported"] != 2 || !strings.Contains(string(m.Config), `"nebius"`) {
		t.Fatalf("counters %v config %s", m.Counters, m.Config)
	}
	in, err := jobs.Inspect(context.Background(), out, cfg.S3)
	if err != nil {
		t.Fatal(err)
	}
	if in.Rows != 2 || in.Successes != 1 || in.Steps != 2 {
		t.Fatalf("inspect = %+v", in)
	}
	// auto detects Parquet and applies the mapping.
	m, err = jobs.Import(context.Background(), jobs.ImportOptions{Format: "auto", Map: "nebius", Files: []string{src}, Output: filepath.Join(dir, "auto"), OnError: columnar.OnErrorFail, Parquet: cfg.Parquet}, quiet())
	if err != nil || m.Counters["format_parquet"] != 1 || m.Counters["rows_imported"] != 2 {
		t.Fatalf("auto: %v %v", err, m)
	}
	// A mapping naming a column the file lacks fails, naming both.
	_, err = jobs.Import(context.Background(), jobs.ImportOptions{Format: "parquet", Map: "swe-smith", Files: []string{src}, Output: filepath.Join(dir, "o2"), OnError: columnar.OnErrorSkip, Parquet: cfg.Parquet}, quiet())
	if err == nil || !strings.Contains(err.Error(), `column "messages"`) || !strings.Contains(err.Error(), "nebius.parquet") {
		t.Fatalf("missing column: %v", err)
	}
	_, err = jobs.Import(context.Background(), jobs.ImportOptions{Format: "openai-chat", Map: "nebius", Files: []string{src}, Output: filepath.Join(dir, "o3"), OnError: columnar.OnErrorFail, Parquet: cfg.Parquet}, quiet())
	if err == nil || !strings.Contains(err.Error(), "--map") {
		t.Fatalf("--map without parquet: %v", err)
	}
}
