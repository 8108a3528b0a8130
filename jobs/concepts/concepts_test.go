package concepts

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

func TestCollectorDedupAndCap(t *testing.T) {
	codes := make([]string, 50)
	for i := range codes {
		codes[i] = fmt.Sprintf("def f(x):\n    return x + %d\n", i)
	}
	type add struct{ id, code string }
	var adds []add
	for i, c := range codes {
		for r := 0; r <= i%3; r++ { // 1, 2 or 3 trajectories per solution
			adds = append(adds, add{fmt.Sprintf("t%03d-%d", i, r), c})
		}
	}
	sample := func(order []add, cap int) ([]*Solution, CollectStats) {
		c := NewCollector(cap, 2)
		for _, a := range order {
			c.Add(a.id, a.code)
		}
		return c.Solutions(), c.Stats()
	}
	all, st := sample(adds, 0)
	if len(all) != 50 || st.Seen != int64(len(adds)) || st.OverCap != 0 {
		t.Fatalf("no cap: %d solutions, %+v", len(all), st)
	}
	var total int64
	for _, s := range all {
		total += s.Count
		if len(s.IDs) > 2 || len(s.IDs) < 1 {
			t.Fatalf("ids %v", s.IDs)
		}
	}
	if total != int64(len(adds)) {
		t.Fatalf("counts add up to %d, want %d", total, len(adds))
	}
	// With a cap, the sample depends on the set of solutions only.
	want, wst := sample(adds, 10)
	if len(want) != 10 {
		t.Fatalf("cap 10 kept %d", len(want))
	}
	var kept int64
	for _, s := range want {
		kept += s.Count
	}
	if wst.OverCap != int64(len(adds))-kept {
		t.Fatalf("over cap %d, want %d", wst.OverCap, int64(len(adds))-kept)
	}
	r := rand.New(rand.NewPCG(1, 2))
	for trial := 0; trial < 5; trial++ {
		shuffled := slices.Clone(adds)
		r.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		got, gst := sample(shuffled, 10)
		for i := range want {
			if got[i].Code != want[i].Code || got[i].Count != want[i].Count {
				t.Fatalf("trial %d: sample differs at %d", trial, i)
			}
		}
		if gst.OverCap != wst.OverCap {
			t.Fatalf("trial %d: over cap %d vs %d", trial, gst.OverCap, wst.OverCap)
		}
	}
}

// corpus is straight-line Python over a small domain library, where
// scale(shift(x, k), 2) recurs.
func corpus(n int) []*Solution {
	c := NewCollector(0, 5)
	for i := 0; i < n; i++ {
		code := fmt.Sprintf("def solve(x):\n    y = scale(shift(x, %d), 2)\n    z = scale(shift(y, %d), 2)\n    return clip(z, %d)\n", i%7, i%5, i)
		c.Add(fmt.Sprintf("t%04d", i), code)
		c.Add(fmt.Sprintf("u%04d", i), code) // every solution twice
	}
	c.Add("bad", "def solve(:\n")
	return c.Solutions()
}

func TestLearn(t *testing.T) {
	ctx := context.Background()
	sols := corpus(40)
	rows, st, err := Learn(ctx, sols, Options{Iterations: 3, MaxArity: 2, Workers: 2, MaxIDs: 4})
	if err != nil {
		t.Fatal(err)
	}
	if st.Unparsable != 1 || st.Programs != 40 || st.Learned == 0 || st.FinalCost >= st.OriginalCost {
		t.Fatalf("stats %+v", st)
	}
	if len(rows) != st.Learned {
		t.Fatalf("%d rows, %d learned", len(rows), st.Learned)
	}
	first := rows[0]
	if first.Solutions == 0 || first.Trajectories != 2*first.Solutions || len(first.TrajectoryIDs) != 4 || !slices.IsSorted(first.TrajectoryIDs) {
		t.Fatalf("first concept %+v", first)
	}
	if !strings.Contains(first.Body, "scale") || first.FromLibrary {
		t.Fatalf("first concept %+v", first)
	}
	// Every concept is used by some solution, directly or through a later
	// concept's body, and either prints as Python or says why not.
	for _, r := range rows {
		if r.Solutions == 0 || r.Trajectories != 2*r.Solutions {
			t.Fatalf("%s: used by %d solutions, %d trajectories", r.Name, r.Solutions, r.Trajectories)
		}
		if (r.Python == "") == (r.PythonError == "") {
			t.Fatalf("%s: python %q, error %q", r.Name, r.Python, r.PythonError)
		}
		if r.Python != "" && !strings.Contains(r.Python, "def "+r.Name) {
			t.Fatalf("%s prints as %q", r.Name, r.Python)
		}
	}
	// Same input, other worker counts: the same rows.
	again, _, err := Learn(ctx, corpus(40), Options{Iterations: 3, MaxArity: 2, Workers: 1, Shards: 3, MaxIDs: 4})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(again) != fmt.Sprint(rows) {
		t.Fatal("the result depends on workers or shards")
	}
	// Extending yesterday's library keeps its concepts first, by name.
	ext, est, err := Learn(ctx, corpus(60), Options{Iterations: 2, MaxArity: 2, Workers: 2, Library: rows, MaxIDs: 4})
	if err != nil {
		t.Fatal(err)
	}
	if len(ext) != len(rows)+est.Learned {
		t.Fatalf("extended: %d rows, %d learned, library %d", len(ext), est.Learned, len(rows))
	}
	for i := range rows {
		if ext[i].Name != rows[i].Name || ext[i].Body != rows[i].Body || !ext[i].FromLibrary {
			t.Fatalf("library concept %d changed: %+v", i, ext[i])
		}
	}
	for _, r := range ext[len(rows):] {
		if r.FromLibrary || slices.ContainsFunc(rows, func(o Concept) bool { return o.Name == r.Name }) {
			t.Fatalf("new concept %+v", r)
		}
	}
}

func TestLearnEmpty(t *testing.T) {
	rows, st, err := Learn(context.Background(), nil, Options{Iterations: 3, MaxArity: 2})
	if err != nil || len(rows) != 0 || st.Programs != 0 {
		t.Fatalf("empty: %v %+v %v", rows, st, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := Learn(ctx, corpus(5), Options{Iterations: 1}); err == nil {
		t.Fatal("a cancelled context must be an error")
	}
}

func TestNamesUsed(t *testing.T) {
	index := map[string]int{"fn_0": 0, "fn_1": 1}
	tests := []struct {
		prog string
		want []int
	}{
		{"(fn_1 (fn_0 x) (fn_0 y))", []int{0, 1}},
		{"(f x)", []int{}},
		{"fn_0", []int{0}},
	}
	for _, tc := range tests {
		got, err := namesUsed(tc.prog, index)
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v, %v", tc.prog, got, err)
		}
	}
	if _, err := namesUsed("(unclosed", index); err == nil {
		t.Error("a malformed program must be an error")
	}
}
