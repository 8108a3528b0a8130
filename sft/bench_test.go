package sft

import (
	"context"
	"testing"
)

// BenchmarkPrepare runs the reference (Prepare as it was: every example
// in memory, every token counted with the codec) and Pipeline, in
// memory and spilled to files, on the same trajectories under the
// stage's default selections, side by side: the ratio of their ns/op
// (and B/op, allocs/op) is the speed-up. go test -run '^$' -bench
// Prepare -benchmem ./sft/
func BenchmarkPrepare(b *testing.B) {
	ins := generated(b, 2000, 41)
	tok, err := NewTokenizer("o200k_base")
	if err != nil {
		b.Fatal(err)
	}
	o := Options{Weights: DefaultWeights(), System: "You are a programming agent. Solve the task step by step, writing Python code.",
		Templates: Default(), Tokenizer: tok, MaxTokens: 8192, Overlength: OverlengthTruncate, NearThreshold: 0.9, ShingleTokens: 3,
		MaxPerTask: 50, Bins: 4, BinFactor: 1.5, ValidationPercent: 5, Epochs: 3, ReplicateK: 1, Workers: 2}
	run := func(b *testing.B, sp SpillOptions) {
		for b.Loop() {
			p, err := NewPipeline(o, sp)
			if err != nil {
				b.Fatal(err)
			}
			for _, in := range ins {
				if err := p.Add(context.Background(), in); err != nil {
					b.Fatal(err)
				}
			}
			if _, err := p.Finish(context.Background(), func(*Example) error { return nil }); err != nil {
				b.Fatal(err)
			}
			p.Close()
		}
		b.ReportMetric(float64(len(ins))*float64(b.N)/b.Elapsed().Seconds(), "trajectories/s")
	}
	b.Run("reference", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := refPrepare(context.Background(), ins, o); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(len(ins))*float64(b.N)/b.Elapsed().Seconds(), "trajectories/s")
	})
	b.Run("pipeline-memory", func(b *testing.B) {
		b.ReportAllocs()
		run(b, SpillOptions{})
	})
	b.Run("pipeline-files-4", func(b *testing.B) {
		b.ReportAllocs()
		run(b, SpillOptions{Dir: b.TempDir(), Buckets: 4})
	})
}

// BenchmarkTokenCount counts the generated examples' prompts and
// completions with the codec and with Tokenizer.Count, side by side.
func BenchmarkTokenCount(b *testing.B) {
	ins := generated(b, 300, 43)
	var texts []string
	var bytes int64
	var st BuildStats
	for _, in := range ins {
		exs, err := Build(in, DefaultWeights(), "", Default(), &st)
		if err != nil {
			b.Fatal(err)
		}
		for _, e := range exs {
			texts = append(texts, e.Prompt, e.Completion)
			bytes += int64(len(e.Prompt) + len(e.Completion))
		}
	}
	for _, name := range []string{"codec", "tokenizer"} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(bytes)
			for range b.N {
				// A fresh tokenizer each time: its memory of pieces and
				// lines starts empty, as in a run.
				b.StopTimer()
				tok, err := NewTokenizer("o200k_base")
				if err != nil {
					b.Fatal(err)
				}
				count := tok.Count
				if name == "codec" {
					count = tok.codec.Count
				}
				b.StartTimer()
				for _, s := range texts {
					if _, err := count(s); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}
