package patterns_test

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"

	"github.com/atlas-ai/atlas-learn/internal/benchpatterns"
	"github.com/atlas-ai/atlas-learn/internal/shareddata"
	"github.com/atlas-ai/atlas-learn/jobs/analysis/patterns"
)

// TestLoghubAccuracy holds the miner, with its default options (one
// configuration for every dataset), to at least Drain3's grouping
// accuracy on each shared Loghub-2k dataset, and to a mean of 0.90. It
// fails, never skips, when the data is missing.
func TestLoghubAccuracy(t *testing.T) {
	dir := filepath.Join(shareddata.Dir(t), "loghub")
	sum := 0.0
	for _, name := range []string{"HDFS", "BGL", "Hadoop", "OpenSSH", "Linux", "Proxifier"} {
		d, err := benchpatterns.Load(filepath.Join(dir, name+"_2k.log_structured.csv"))
		if err != nil {
			t.Fatal(err)
		}
		res, err := patterns.Mine(d.Messages, patterns.DefaultOptions())
		if err != nil {
			t.Fatal(err)
		}
		ga, err := benchpatterns.GroupingAccuracy(res.Assignments, d.Events)
		if err != nil {
			t.Fatal(err)
		}
		drain3, _ := benchpatterns.Drain3Reference(name)
		t.Logf("%-10s ours %.3f  Drain3 %.3f  (%d templates)", name, ga, drain3, len(res.Templates))
		if ga < drain3 {
			t.Errorf("%s: grouping accuracy %.3f, under Drain3's %.3f", name, ga, drain3)
		}
		sum += ga
	}
	if mean := sum / 6; mean < 0.90 {
		t.Errorf("mean grouping accuracy %.3f, want at least 0.90", mean)
	} else {
		t.Logf("mean %.3f", mean)
	}
}

// TestLoghubShuffled checks on real logs that the final templates do not
// depend on the order of the messages: a shuffled dataset gives the same
// templates with the same counts, and each message the same template.
func TestLoghubShuffled(t *testing.T) {
	ds, err := benchpatterns.LoadDir(filepath.Join(shareddata.Dir(t), "loghub"))
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(7, 11))
	for _, d := range ds {
		a, err := patterns.Mine(d.Messages, patterns.DefaultOptions())
		if err != nil {
			t.Fatal(err)
		}
		perm := rng.Perm(len(d.Messages))
		sh := make([]string, len(perm))
		for i, j := range perm {
			sh[i] = d.Messages[j]
		}
		b, err := patterns.Mine(sh, patterns.DefaultOptions())
		if err != nil {
			t.Fatal(err)
		}
		set := func(r patterns.Result) []string {
			var s []string
			for _, tp := range r.Templates {
				s = append(s, fmt.Sprintf("%s #%d", tp.Template, tp.Count))
			}
			slices.Sort(s)
			return s
		}
		if !slices.Equal(set(a), set(b)) {
			t.Errorf("%s: shuffled input, other templates", d.Name)
		}
		for i, j := range perm {
			if a.Templates[a.Assignments[j]-1].Template != b.Templates[b.Assignments[i]-1].Template {
				t.Fatalf("%s: message %d changed template", d.Name, j)
			}
		}
	}
}
