package sft

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"reflect"
	"testing"
)

// exported is e with the bookkeeping fields cleared: what the outputs
// see.
func exported(e Example) Example {
	e.taskText, e.history, e.isErr, e.rk, e.counted = "", "", false, rankKey{}, false
	return e
}

// withCopies adds, for every third input, a copy under another
// trajectory id and task id with the same text (exact duplicates across
// tasks, so across buckets), and for every fifth a copy under another
// trajectory id of the same task (duplicates within a task).
func withCopies(ins []Input) []Input {
	out := append([]Input(nil), ins...)
	for i, in := range ins {
		if i%3 == 0 {
			tr := *in.Trajectory
			tr.TrajectoryID += "-copy"
			tr.Task.ID += "-other"
			out = append(out, Input{Trajectory: &tr, KeySteps: in.KeySteps, ErrorMessages: in.ErrorMessages})
		}
		if i%5 == 0 {
			tr := *in.Trajectory
			tr.TrajectoryID += "-again"
			out = append(out, Input{Trajectory: &tr, KeySteps: in.KeySteps, ErrorMessages: in.ErrorMessages})
		}
	}
	return out
}

// The pipeline gives the reference's examples and summary (Prepare as it
// was: all in memory, every token counted with the codec) whatever the
// buckets, spill place and workers, under every selection: exact
// duplicates across tasks, near duplicates, the per-task cap, both
// overlength policies, the bins, and both encodings.
func TestPipelineMatchesReference(t *testing.T) {
	base := generated(t, 240, 31)
	many := generated(t, 240, 37)
	sameTask(many)
	type config struct {
		name string
		ins  []Input
		set  func(*Options)
	}
	configs := []config{
		{"defaults", base, func(o *Options) { o.BinFactor = 1.5 }},
		{"duplicates", withCopies(base), func(o *Options) { o.BinFactor, o.NearThreshold = 1, 0.9 }},
		{"per task", withCopies(many), func(o *Options) { o.MaxPerTask, o.NearThreshold, o.BinFactor = 4, 0.7, 1.2 }},
		{"truncate", base, func(o *Options) { o.MaxTokens, o.Overlength, o.BinFactor = 450, OverlengthTruncate, 1.5 }},
		{"drop", many, func(o *Options) { o.MaxTokens, o.Overlength, o.MaxPerTask = 600, OverlengthDrop, 7 }},
		{"cl100k", withCopies(base), func(o *Options) {
			tok, err := NewTokenizer("cl100k_base")
			if err != nil {
				t.Fatal(err)
			}
			o.Tokenizer, o.System, o.MaxTokens, o.Overlength, o.BinFactor = tok, "  You\twrite\n Python. ", 500, OverlengthTruncate, 2
		}},
	}
	spills := []SpillOptions{{}, {Buckets: 5}, {Dir: t.TempDir(), Buckets: 1}, {Dir: t.TempDir(), Buckets: 16}}
	for _, c := range configs {
		o := testOptions(t)
		c.set(&o)
		ref, err := refPrepare(context.Background(), c.ins, o)
		if err != nil {
			t.Fatal(err)
		}
		s := ref.Summary
		if s.Examples == 0 {
			t.Fatalf("%s: no examples", c.name)
		}
		for _, sp := range spills {
			for _, workers := range []int{1, 3} {
				name := fmt.Sprintf("%s/%+v/workers %d", c.name, sp, workers)
				o.Workers = workers
				p, err := NewPipeline(o, sp)
				if err != nil {
					t.Fatal(err)
				}
				for _, in := range c.ins {
					if err := p.Add(context.Background(), in); err != nil {
						t.Fatal(err)
					}
				}
				var got []Example
				sum, err := p.Finish(context.Background(), func(e *Example) error {
					got = append(got, *e)
					return nil
				})
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				if err := p.Close(); err != nil {
					t.Fatalf("%s: close: %v", name, err)
				}
				if !reflect.DeepEqual(sum, ref.Summary) {
					t.Fatalf("%s: summary\n%+v\nwant\n%+v", name, sum, ref.Summary)
				}
				if len(got) != len(ref.Examples) {
					t.Fatalf("%s: %d examples, want %d", name, len(got), len(ref.Examples))
				}
				for i := range got {
					if g, w := exported(got[i]), exported(ref.Examples[i]); !reflect.DeepEqual(g, w) {
						t.Fatalf("%s: example %d\n%+v\nwant\n%+v", name, i, g, w)
					}
				}
				for _, f := range JSONLFormats() {
					var a, b bytes.Buffer
					WriteFormat(&a, f.Name, got, o.ReplicateK)
					WriteFormat(&b, f.Name, ref.Examples, o.ReplicateK)
					if !bytes.Equal(a.Bytes(), b.Bytes()) {
						t.Fatalf("%s: %s differs", name, f.Name)
					}
				}
			}
		}
		t.Logf("%s: %d examples; exact %d, near %d, overlength %d+%d, capped %d, by bin %d", c.name, s.Examples,
			s.DuplicatesExact, s.DuplicatesNear, s.OverlengthDropped, s.OverlengthTruncate, s.DroppedByCap, s.DroppedByBin)
	}
}

// The spill files are gone after Close, and the pipeline refuses Add
// after Finish.
func TestPipelineSpillCleanup(t *testing.T) {
	dir := t.TempDir()
	o := testOptions(t)
	p, err := NewPipeline(o, SpillOptions{Dir: dir, Buckets: 4})
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range generated(t, 30, 3) {
		if err := p.Add(context.Background(), in); err != nil {
			t.Fatal(err)
		}
	}
	if ents, _ := readDir(dir); len(ents) != 1 {
		t.Fatalf("spill dir holds %v", ents)
	}
	if _, err := p.Finish(context.Background(), func(*Example) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if err := p.Add(context.Background(), generated(t, 1, 4)[0]); err == nil {
		t.Error("Add after Finish: no error")
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if ents, _ := readDir(dir); len(ents) != 0 {
		t.Fatalf("after Close the spill dir holds %v", ents)
	}
}

// An error from emit stops Finish and is returned.
func TestPipelineEmitError(t *testing.T) {
	o := testOptions(t)
	p, err := NewPipeline(o, SpillOptions{Buckets: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	for _, in := range generated(t, 60, 3) {
		if err := p.Add(context.Background(), in); err != nil {
			t.Fatal(err)
		}
	}
	boom := fmt.Errorf("boom")
	n := 0
	_, err = p.Finish(context.Background(), func(*Example) error {
		n++
		if n == 7 {
			return boom
		}
		return nil
	})
	if err != boom || n != 7 {
		t.Fatalf("Finish: %v after %d examples", err, n)
	}
}

func readDir(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	var out []string
	for _, e := range ents {
		out = append(out, e.Name())
	}
	return out, err
}

// appendNormSpace writes what normSpace builds, on every kind of white
// space and on invalid UTF-8.
func TestAppendNormSpace(t *testing.T) {
	cases := append([]string{"", " ", "a", " a  b\t\nc ", "\u00a0x\u2003y\u0085z", "\v\fq\r", "bad\xff \xfe"}, tokenCases...)
	for _, s := range cases {
		if got, want := string(appendNormSpace([]byte("pre"), s)), "pre"+normSpace(s); got != want {
			t.Errorf("appendNormSpace(%q) = %q, want %q", s, got, want)
		}
	}
}
