package benchpatterns

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/atlas-ai/atlas-learn/jobs/analysis/patterns"
)

func TestGroupingAccuracy(t *testing.T) {
	for _, c := range []struct {
		name  string
		pred  []int
		truth []string
		want  float64
	}{
		{"perfect", []int{1, 1, 2}, []string{"a", "a", "b"}, 1},
		{"ids need not match", []int{7, 7, 3}, []string{"a", "a", "b"}, 1},
		{"over-merged", []int{1, 1, 1}, []string{"a", "a", "b"}, 0},
		{"split", []int{1, 2, 3, 3}, []string{"a", "a", "b", "b"}, 0.5},
		{"singleton joins a big group", []int{1, 1, 1, 1, 2}, []string{"a", "a", "a", "b", "c"}, 0.2},
	} {
		got, err := GroupingAccuracy(c.pred, c.truth)
		if err != nil || got != c.want {
			t.Errorf("%s: %v, %v; want %v", c.name, got, err, c.want)
		}
	}
	if _, err := GroupingAccuracy([]int{1}, nil); err == nil {
		t.Error("length mismatch accepted")
	}
	if _, err := GroupingAccuracy(nil, nil); err == nil {
		t.Error("no messages accepted")
	}
}

func writeCSV(t *testing.T, dir, name, body string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	if _, err := LoadDir(dir); err == nil || !strings.Contains(err.Error(), "no *_2k") {
		t.Errorf("empty dir: %v", err)
	}
	writeCSV(t, dir, "Tiny_2k.log_structured.csv", "LineId,Content,EventId,EventTemplate\n1,\"a, 1\",E1,x\n2,b 2,E2,y\n3,\"a, 3\",E1,x\n")
	ds, err := LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 1 || ds[0].Name != "Tiny" || len(ds[0].Messages) != 3 || ds[0].Messages[0] != "a, 1" || ds[0].Events[1] != "E2" {
		t.Fatalf("loaded %+v", ds)
	}
	writeCSV(t, dir, "Bad_2k.log_structured.csv", "LineId,Message\n1,x\n")
	if _, err := LoadDir(dir); err == nil || !strings.Contains(err.Error(), "Content and EventId") {
		t.Errorf("bad header: %v", err)
	}
	rows, _, err := Measure(context.Background(), ds, patterns.DefaultOptions(), "")
	if err != nil || len(rows) != 1 || rows[0].Ours != 1 || rows[0].Drain3 >= 0 || rows[0].Events != 2 {
		t.Errorf("measure: %+v, %v", rows, err)
	}
}

// TestRunWithoutDrain3 checks that a virtual environment that cannot be
// created is said so, and that our numbers are printed anyway.
func TestRunWithoutDrain3(t *testing.T) {
	dir := t.TempDir()
	writeCSV(t, dir, "Tiny_2k.log_structured.csv", "LineId,Content,EventId\n1,a 1,E1\n2,b,E2\n")
	var out, errb bytes.Buffer
	o := Options{Data: dir, Cache: t.TempDir(), Python: filepath.Join(dir, "no-python"), Miner: patterns.DefaultOptions()}
	if err := Run(context.Background(), &out, &errb, o); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Drain3 NOT RUN", "could not be created", "Tiny", "1.000", "mean"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}
