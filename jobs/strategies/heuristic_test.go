package strategies

import (
	"context"
	"math"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/atlas-ai/atlas-learn/columnar"
	"github.com/atlas-ai/atlas-learn/internal/trajgen"
)

// inputOf is the extractor input of a generated trajectory, its steps
// with code taken as the key steps.
func inputOf(t *columnar.Trajectory) *Input {
	in := &Input{TrajectoryID: t.TrajectoryID, TaskID: t.Task.ID, Description: t.Task.Description, Domain: t.Task.Domain,
		Code: t.Solution.Code, Language: t.Solution.Language}
	for i, s := range t.Steps {
		if s.Code != "" {
			in.KeySteps = append(in.KeySteps, Step{Index: i, Thought: s.Thought, Action: s.Action, ActionType: s.ActionType, Code: s.Code})
		}
	}
	return in
}

func family(taskID string) string {
	f, _, _ := strings.Cut(taskID, "-")
	return f
}

// generated returns the heuristic strategies of the successful
// trajectories among n generated ones, and each one's family.
func generated(t *testing.T, n int, seed int64) ([]Strategy, []string, []*Input) {
	t.Helper()
	cfg := trajgen.DefaultConfig()
	cfg.N, cfg.Seed = n, seed
	var rows []Strategy
	var fams []string
	var ins []*Input
	err := trajgen.Generate(context.Background(), cfg, func(tr columnar.Trajectory) error {
		if !tr.Outcome.Success {
			return nil
		}
		in := inputOf(&tr)
		s, err := Heuristic{MaxCues: 16}.Extract(context.Background(), in)
		if err != nil {
			return err
		}
		if err := Validate(&s, 16); err != nil {
			t.Errorf("trajectory %s: heuristic strategy invalid: %v\n%+v", tr.TrajectoryID, err, s)
		}
		rows = append(rows, s)
		fams = append(fams, family(tr.Task.ID))
		ins = append(ins, in)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return rows, fams, ins
}

// Tasks of one generated family get one to three names, and no two
// families share a name.
func TestHeuristicSameFamilySameName(t *testing.T) {
	rows, fams, _ := generated(t, 600, 3)
	names := map[string]map[string]bool{}
	owner := map[string]string{}
	for i, s := range rows {
		if names[fams[i]] == nil {
			names[fams[i]] = map[string]bool{}
		}
		names[fams[i]][s.Name] = true
		if o, ok := owner[s.Name]; ok && o != fams[i] {
			t.Errorf("name %s shared by families %s and %s", s.Name, o, fams[i])
		}
		owner[s.Name] = fams[i]
		if s.Source != SourceHeuristic || s.Model != "" || s.Fallback != "" {
			t.Errorf("%s: labels %q %q %q", s.Name, s.Source, s.Model, s.Fallback)
		}
		if s.Situation == "" || s.Suggestion == "" || s.Implementation == "" || len(s.Cues) == 0 || len(s.Parameters) == 0 ||
			len(s.UsedIn) != 1 || s.Domain == "" || len(s.Concepts) == 0 {
			t.Errorf("%s: empty fields: %+v", s.Name, s)
		}
	}
	if len(names) < 20 {
		t.Fatalf("only %d families generated", len(names))
	}
	var fs []string
	for f := range names {
		fs = append(fs, f)
	}
	sort.Strings(fs)
	total := 0
	for _, f := range fs {
		var ns []string
		for n := range names[f] {
			ns = append(ns, n)
		}
		sort.Strings(ns)
		total += len(ns)
		t.Logf("%-22s %d: %v", f, len(ns), ns)
		if len(ns) > 3 {
			t.Errorf("family %s has %d names: %v", f, len(ns), ns)
		}
	}
	t.Logf("%d families, %d names", len(fs), total)
}

// A lexical index over the strategies' situation, cues and suggestion
// recalls the family of held-out tasks.
func TestHeuristicRecallsFamily(t *testing.T) {
	rows, fams, _ := generated(t, 400, 5)
	merged := Merge(rows, 0, 0)
	famOf := map[string]string{}
	for i, s := range rows {
		famOf[s.Name] = fams[i]
	}
	docs := make([]map[string]float64, len(merged))
	df := map[string]float64{}
	for i, s := range merged {
		docs[i] = map[string]float64{}
		for _, w := range contentWords(s.Situation + " " + strings.Join(s.Cues, " ") + " " + s.Suggestion) {
			if docs[i][w] == 0 {
				df[w]++
			}
			docs[i][w]++
		}
	}
	held, hfams, hins := generated(t, 200, 77)
	hit := 0
	for i := range held {
		best, bestScore := -1, 0.0
		for j, d := range docs {
			score := 0.0
			for _, w := range contentWords(hins[i].Description) {
				if d[w] > 0 {
					score += math.Log(1 + float64(len(docs))/df[w])
				}
			}
			if score > bestScore {
				best, bestScore = j, score
			}
		}
		if best >= 0 && famOf[merged[best].Name] == hfams[i] {
			hit++
		} else if best >= 0 {
			t.Logf("miss: %s (%s) -> %s", hins[i].Description, hfams[i], merged[best].Name)
		}
	}
	rate := float64(hit) / float64(len(held))
	t.Logf("top-1 family recall %.3f over %d held-out tasks, %d strategies", rate, len(held), len(merged))
	if rate < 0.95 {
		t.Errorf("top-1 family recall %.3f, want >= 0.95", rate)
	}
}

func TestAbstractText(t *testing.T) {
	for _, c := range []struct {
		in, want string
		params   []Parameter
	}{
		{"Clamp every value of the list into the range [2, 6].", "Clamp every value of the list into the range [{range:int}, {range_2:int}].",
			[]Parameter{{"range", "int", "a number taken from the task, e.g. 2"}, {"range_2", "int", "a number taken from the task, e.g. 6"}}},
		{"Keep only the even numbers, sorted in descending order.", "Keep only the {parity:str} numbers, sorted in {order:str} order.",
			[]Parameter{{"parity", "str", "one of even, odd"}, {"order", "str", "one of ascending, descending, increasing, decreasing"}}},
		{"Replace 'ab' by x, scaled by -1.5; 3n + 1", "Replace {replace:str} by x, scaled by {scaled:float}; 3n + {scaled_2:int}",
			[]Parameter{{"replace", "str", "a string taken from the task, e.g. 'ab'"}, {"scaled", "float", "a number taken from the task, e.g. -1.5"}, {"scaled_2", "int", "a number taken from the task, e.g. 1"}}},
		{"'q' first", "{s:str} first", []Parameter{{"s", "str", "a string taken from the task, e.g. 'q'"}}},
		{"No literals here.", "No literals here.", nil},
	} {
		got, params := abstractText(c.in)
		if got != c.want || !reflect.DeepEqual(params, c.params) {
			t.Errorf("abstractText(%q) = %q %+v, want %q %+v", c.in, got, params, c.want, c.params)
		}
	}
}

func TestScanPython(t *testing.T) {
	src := `import math
# a comment with call(x)
def helper(xs, f=len, *rest):
    s = "not(a call)"
    return [f(x) for x in xs]

def solve(x):
    def inner(y):
        return y.strip()
    ys = helper(x, lambda v: inner(v))
    return ' '.join(sorted(ys))

print(solve('a'))
`
	c := scanPython(src)
	var got []string
	for _, d := range c.defs {
		got = append(got, d.name+"("+strings.Join(d.params, ",")+"):"+strings.Join(d.calls, ","))
	}
	want := []string{"helper(xs,f,rest):f", "solve(x):helper,inner,.join,sorted", "inner(y):.strip"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("defs %v, want %v", got, want)
	}
	if e := c.entry(); e == nil || e.name != "solve" {
		t.Errorf("entry %+v", e)
	}
	if !reflect.DeepEqual(c.top, []string{"print", "solve"}) {
		t.Errorf("top %v", c.top)
	}
	if h := definedHelpers(src); !reflect.DeepEqual(h, []string{"helper"}) {
		t.Errorf("helpers %v", h)
	}
}

func TestMerge(t *testing.T) {
	a := Strategy{Name: "a", Situation: "first", UsedIn: []string{"t3"}, Trajectories: 1, Cues: []string{"x", "y"},
		Parameters: []Parameter{{Name: "k", Type: "int"}}, Concepts: []string{"h"}}
	b := Strategy{Name: "b", UsedIn: []string{"t2"}, Trajectories: 1}
	a2 := Strategy{Name: "a", Situation: "second", UsedIn: []string{"t1"}, Trajectories: 1, Cues: []string{"w", "y"},
		Parameters: []Parameter{{Name: "k", Type: "str"}, {Name: "m", Type: "str"}}, Concepts: []string{"g", "h"}}
	got := Merge([]Strategy{a, b, a2}, 0, 2)
	if len(got) != 2 || got[0].Name != "a" || got[1].Name != "b" {
		t.Fatalf("merged %+v", got)
	}
	m := got[0]
	if m.Situation != "first" || !reflect.DeepEqual(m.UsedIn, []string{"t1", "t3"}) || m.Trajectories != 2 ||
		!reflect.DeepEqual(m.Cues, []string{"w", "x"}) || !reflect.DeepEqual(m.Concepts, []string{"g", "h"}) ||
		!reflect.DeepEqual(m.Parameters, []Parameter{{Name: "k", Type: "int"}, {Name: "m", Type: "str"}}) {
		t.Errorf("merged row %+v", m)
	}
	if a.UsedIn[0] != "t3" || len(a.Cues) != 2 {
		t.Errorf("Merge changed its input: %+v", a)
	}
	if got := Merge([]Strategy{a, a2}, 1, 0); !reflect.DeepEqual(got[0].UsedIn, []string{"t1"}) {
		t.Errorf("max_used_in: %v", got[0].UsedIn)
	}
}
