package memory

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

func strat(name, situation, suggestion string, used ...string) Strategy {
	return Strategy{Name: name, Situation: situation, Suggestion: suggestion, UsedIn: used,
		Parameters: []Parameter{{Name: "k", Type: "int"}}, Cues: []string{name + "_cue"}, Source: "heuristic",
		LastUsed: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
}

func opts(version int64) Options {
	return Options{Version: version, RunID: fmt.Sprintf("run-%d", version), Threshold: 0.7, Eviction: EvictScore, HalfLife: 4, MaxUsedIn: 3}
}

func TestMergeStrategies(t *testing.T) {
	bank, _, err := MergeStrategies(nil, []Strategy{
		strat("sort_list", "sort a list of <num> integers", "call sorted then return", "t1"),
		strat("count_vowels", "count the vowels of a string", "loop over characters", "t2"),
	}, opts(1))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		incoming  []Strategy
		wantNames []string
		wantUses  map[string]int64
		wantStats Stats
	}{
		{name: "same name merges", incoming: []Strategy{strat("sort_list", "x", "y", "t3")},
			wantNames: []string{"count_vowels", "sort_list"}, wantUses: map[string]int64{"sort_list": 2, "count_vowels": 1},
			wantStats: Stats{Incoming: 1, MergedByName: 1, Size: 2, UsesAdded: 1}},
		{name: "near duplicate merges into the older", incoming: []Strategy{strat("sort_ints", "sort a list of <num> integers", "call sorted then return it", "t4")},
			wantNames: []string{"count_vowels", "sort_list"}, wantUses: map[string]int64{"sort_list": 2},
			wantStats: Stats{Incoming: 1, MergedBySim: 1, Size: 2, UsesAdded: 1, MergedAliases: [][2]string{{"sort_ints", "sort_list"}}}},
		{name: "different is added", incoming: []Strategy{strat("rotate_grid", "rotate a grid clockwise", "transpose and reverse rows", "t5")},
			wantNames: []string{"count_vowels", "rotate_grid", "sort_list"}, wantUses: map[string]int64{"rotate_grid": 1},
			wantStats: Stats{Incoming: 1, Added: 1, Size: 3, UsesAdded: 1}},
		{name: "an id already counted is not counted again", incoming: []Strategy{strat("sort_list", "x", "y", "t1")},
			wantNames: []string{"count_vowels", "sort_list"}, wantUses: map[string]int64{"sort_list": 1},
			wantStats: Stats{Incoming: 1, MergedByName: 1, Size: 2}},
		{name: "no new trajectory is skipped", incoming: []Strategy{strat("new_one", "x", "y")},
			wantNames: []string{"count_vowels", "sort_list"}, wantStats: Stats{Incoming: 1, Size: 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, st, err := MergeStrategies(bank, tt.incoming, opts(2))
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, s := range got {
				names = append(names, s.Name)
				if u, ok := tt.wantUses[s.Name]; ok && s.Uses != u {
					t.Errorf("%s: uses %d, want %d", s.Name, s.Uses, u)
				}
			}
			if !slices.Equal(names, tt.wantNames) {
				t.Errorf("names %v, want %v", names, tt.wantNames)
			}
			st.EvictedNames = nil
			if !reflect.DeepEqual(st, tt.wantStats) {
				t.Errorf("stats %+v, want %+v", st, tt.wantStats)
			}
		})
	}
	// The bank given is not modified.
	if bank[1].Uses != 1 || len(bank[1].UsedIn) != 1 {
		t.Errorf("input bank modified: %+v", bank[1])
	}
}

func TestMergeOrderIndependent(t *testing.T) {
	in := []Strategy{
		strat("b", "sort a list of integers", "call sorted", "t1"),
		strat("a", "sort a list of integers", "call sorted", "t2"),
		strat("c", "count vowels", "loop", "t3"),
	}
	rev := slices.Clone(in)
	slices.Reverse(rev)
	x, _, _ := MergeStrategies(nil, in, opts(1))
	y, _, _ := MergeStrategies(nil, rev, opts(1))
	if !reflect.DeepEqual(x, y) {
		t.Fatalf("order changed the result:\n%+v\n%+v", x, y)
	}
	if len(x) != 2 || x[0].Name != "a" || !slices.Equal(x[0].Aliases, []string{"b"}) || x[0].Uses != 2 {
		t.Fatalf("want a (alias b, 2 uses) and c, got %+v", x)
	}
}

func TestUsedInBoundedUsesCountAll(t *testing.T) {
	var bank []Strategy
	for v := int64(1); v <= 5; v++ {
		var err error
		bank, _, err = MergeStrategies(bank, []Strategy{strat("s", "x y", "z", fmt.Sprintf("t%d", v))}, opts(v))
		if err != nil {
			t.Fatal(err)
		}
	}
	s := bank[0]
	if s.Uses != 5 || !slices.Equal(s.UsedIn, []string{"t3", "t4", "t5"}) || s.FirstVersion != 1 || s.LastVersion != 5 || s.FirstRun != "run-1" {
		t.Fatalf("got %+v", s)
	}
}

func TestEviction(t *testing.T) {
	// a: 10 uses last at version 1; b: 3 uses at version 9; c: 1 use at 10.
	bank := []Strategy{
		{Name: "a", Uses: 10, LastVersion: 1},
		{Name: "b", Uses: 3, LastVersion: 9},
		{Name: "c", Uses: 1, LastVersion: 10},
	}
	tests := []struct {
		rule string
		want []string // evicted when the cap is 2
	}{
		{EvictScore, []string{"a"}},       // 10·2^(-9/2)=0.44 < 1 < 3·2^(-1/2)
		{EvictLeastUsed, []string{"c"}},   // fewest uses
		{EvictLeastRecent, []string{"a"}}, // oldest use
	}
	for _, tt := range tests {
		t.Run(tt.rule, func(t *testing.T) {
			o := Options{Version: 10, Eviction: tt.rule, HalfLife: 2, MaxStrategies: 2}
			got, st, err := MergeStrategies(bank, nil, o)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 2 || !slices.Equal(st.EvictedNames, tt.want) {
				t.Fatalf("evicted %v (kept %d), want %v", st.EvictedNames, len(got), tt.want)
			}
		})
	}
}

func TestOptionsValidate(t *testing.T) {
	tests := []struct {
		o    Options
		want string
	}{
		{Options{Threshold: 1.5}, "threshold"},
		{Options{MaxStrategies: -1}, "max_strategies"},
		{Options{Eviction: "random"}, "eviction"},
		{Options{Eviction: EvictScore}, "half_life"},
		{Options{Eviction: EvictLeastUsed, Threshold: 0.8}, ""},
	}
	for _, tt := range tests {
		err := tt.o.Validate()
		if (err == nil) != (tt.want == "") || (err != nil && !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("%+v: got %v, want %q", tt.o, err, tt.want)
		}
	}
}

func TestJaccard(t *testing.T) {
	tests := []struct {
		a, b []string
		want float64
	}{
		{nil, nil, 1},
		{[]string{"a"}, nil, 0},
		{[]string{"a", "b"}, []string{"b", "c"}, 1.0 / 3},
		{[]string{"a", "b"}, []string{"a", "b"}, 1},
	}
	for _, tt := range tests {
		if got := Jaccard(tt.a, tt.b); got != tt.want {
			t.Errorf("Jaccard(%v, %v) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
	if got := Words("Sort the list_of ints, then RETURN 3 ints"); !slices.Equal(got, []string{"ints", "list", "sort"}) {
		t.Errorf("Words: %v", got)
	}
}

func TestExperienceClassify(t *testing.T) {
	s := Seen{"t1": "h1"}
	tests := []struct {
		id, hash string
		want     Verdict
	}{
		{"t1", "h1", Duplicate}, {"t2", "h2", New}, {"t2", "h2", Duplicate}, {"t1", "h9", Changed},
	}
	for _, tt := range tests {
		if got := s.Classify(tt.id, tt.hash); got != tt.want {
			t.Errorf("Classify(%s, %s) = %v, want %v", tt.id, tt.hash, got, tt.want)
		}
	}
	h1, _ := ContentHash(map[string]int{"b": 1, "a": 2})
	h2, _ := ContentHash(map[string]int{"a": 2, "b": 1})
	if h1 != h2 || len(h1) != 64 {
		t.Errorf("content hash not canonical: %s %s", h1, h2)
	}
}

func TestPlans(t *testing.T) {
	at := time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)
	steps := []PlanStep{{Thought: "Write the helper first.\nmore", Action: "cat > a.py"}, {Action: "python a.py 3"}}
	p1, ok := NewPlan("t1", "Sort the 5 numbers [1, 2, 3] by 'key'", "list", at, "sort_list", steps)
	if !ok {
		t.Fatal("no plan")
	}
	p2, _ := NewPlan("t2", "Sort the 7 numbers [9, 8] by 'other'", "list", at.Add(time.Hour), "sort_list", []PlanStep{{Thought: "Write the helper first.", Action: "cat > a.py"}, {Action: "python a.py 4"}})
	if p1.ID != p2.ID {
		t.Fatalf("same plan with other literals got ids %s %s", p1.ID, p2.ID)
	}
	if p1.Task != "Sort the <num> numbers <list> by <str>" || !slices.Equal(p1.Steps, []string{"Write the helper first. → cat > a.py", "→ python a.py 3"}) {
		t.Fatalf("plan %+v", p1)
	}
	if _, ok := NewPlan("t3", "x", "", at, "", nil); ok {
		t.Fatal("a plan without steps")
	}
	lib, st, err := MergePlans(nil, CombinePlans([]Plan{p1, p2}), opts(1))
	if err != nil {
		t.Fatal(err)
	}
	if len(lib) != 1 || lib[0].Uses != 2 || st.Added != 1 || !lib[0].LastUsed.Equal(at.Add(time.Hour)) {
		t.Fatalf("library %+v stats %+v", lib, st)
	}
	again, st, _ := MergePlans(lib, []Plan{p1}, opts(2))
	if again[0].Uses != 2 || st.UsesAdded != 0 {
		t.Fatalf("re-merging the same trajectory counted it: %+v", again[0])
	}
}

func TestLineage(t *testing.T) {
	l := UpdateLineage(nil, []ConceptUse{{Name: "fn_0", Body: "(f #0)", Uses: 4, Solutions: 2}}, "r1", 1)
	l = UpdateLineage(l, []ConceptUse{{Name: "apply_f", Body: "(f #0)", Uses: 3}, {Name: "g2", Body: "(g #0 #1)", Uses: 1}}, "r2", 2)
	l = UpdateLineage(l, []ConceptUse{{Name: "apply_f", Body: "(f #0)", Uses: 5}}, "r2", 2) // r2 re-run: replaces
	if len(l) != 2 {
		t.Fatalf("lineage %+v", l)
	}
	f := l[0]
	if f.Name != "apply_f" || f.FirstRun != "r1" || f.TotalUses != 9 || len(f.Runs) != 2 || l[1].FirstVersion != 2 {
		t.Fatalf("lineage %+v", l)
	}
}
