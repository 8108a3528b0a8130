package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/atlas-ai/atlas-learn/columnar/storage"
	"github.com/atlas-ai/atlas-learn/jobs"
	"github.com/atlas-ai/atlas-learn/jobs/recall"
)

func writeTestMemory(t *testing.T, dir string) {
	t.Helper()
	docs := []recall.Doc{
		{ID: "strategy/reverse-words", Kind: recall.KindStrategy, Title: "Reverse the words of a sentence", Text: "split on spaces, reverse the list, join",
			Payload: json.RawMessage(`{"situation":"reverse word order","suggestion":"split, reverse, join","parameters":{"sep":" "}}`)},
		{ID: "concept/chunk", Kind: recall.KindConcept, Title: "chunk", Text: "split a list into consecutive chunks",
			Payload: json.RawMessage(`{"signature":"chunk(xs, n)","description":"consecutive chunks","python":"def chunk(xs, n):\n    return [xs[i:i+n] for i in range(0, len(xs), n)]"}`)},
		{ID: "plan/p1", Kind: recall.KindPlan, Title: "Sum of chunks", Text: "chunk the list then sum each chunk",
			Payload: json.RawMessage(`{"steps":["chunk the list","sum each chunk"]}`)},
	}
	ix, err := recall.Build(docs, recall.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	b, err := storage.NewLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := jobs.PublishRecallIndex(context.Background(), b, "", jobs.NewMemoryPointer("000002", "run-x", "2026-01-01T00:00:00Z"), ix); err != nil {
		t.Fatal(err)
	}
}

func TestCLIRecall(t *testing.T) {
	dir := t.TempDir()
	if _, err := run(t, "recall", "reverse words", "--memory", dir); err == nil || err.Error() != "no memory at "+dir+": run atlas-learn run first" {
		t.Fatalf("empty memory: %v", err)
	}
	if _, err := run(t, "recall", "x", "--memory", dir+"/nope"); err == nil || !strings.Contains(err.Error(), "no memory at "+dir+"/nope") {
		t.Fatalf("missing memory: %v", err)
	}
	writeTestMemory(t, dir)
	out, err := run(t, "recall", "split", "the", "list", "into", "chunks", "--memory", dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`memory 000002: 3 hits for "split the list into chunks"`, "1. [concept] chunk  (score ", "   signature: chunk(xs, n)", "   python:\n       def chunk(xs, n):\n           return", "[plan] Sum of chunks", "   steps:\n       1. chunk the list\n       2. sum each chunk", `parameters: sep=" "`} {
		if !strings.Contains(out, want) {
			t.Errorf("text output lacks %q:\n%s", want, out)
		}
	}
	out, err = run(t, "recall", "reverse the words", "--memory", dir, "--json", "--k", "1", "--kind", "strategy,plan")
	if err != nil {
		t.Fatal(err)
	}
	var res struct {
		MemoryVersion string `json:"memory_version"`
		Query         string `json:"query"`
		Hits          []struct {
			Rank    int             `json:"rank"`
			Kind    string          `json:"kind"`
			ID      string          `json:"id"`
			Title   string          `json:"title"`
			Score   float64         `json:"score"`
			Payload json.RawMessage `json:"payload"`
		} `json:"hits"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if res.MemoryVersion != "000002" || res.Query != "reverse the words" || len(res.Hits) != 1 || res.Hits[0].ID != "strategy/reverse-words" || res.Hits[0].Rank != 1 || res.Hits[0].Score <= 0 || !strings.Contains(string(res.Hits[0].Payload), "split, reverse, join") {
		t.Errorf("json %+v", res)
	}
	for _, args := range [][]string{{"--kind", "bogus"}, {"--k", "0"}, {"--k", "101"}} {
		if _, err := run(t, append([]string{"recall", "x", "--memory", dir}, args...)...); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
}

func TestCLIEvalRecall(t *testing.T) {
	out, err := run(t, "eval", "recall", "--n", "300", "--strategies", "2000", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var res map[string]float64
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	for _, k := range []string{"top1_accuracy", "top3_accuracy", "p50_ms", "p99_ms", "documents", "queries", "build_ms", "load_ms"} {
		if _, ok := res[k]; !ok {
			t.Errorf("no %s in %s", k, out)
		}
	}
	if res["top3_accuracy"] < 0.8 || res["documents"] != 2000 {
		t.Errorf("%s", out)
	}
}
