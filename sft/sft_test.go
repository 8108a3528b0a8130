package sft

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/atlas-ai/atlas-learn/columnar"
	"github.com/atlas-ai/atlas-learn/internal/trajgen"
)

// generated returns n generated trajectories with their key steps (the
// generator's ground truth, as an analysis would find them) and, for
// the failed ones, their error lines.
func generated(t testing.TB, n int, seed int64) []Input {
	t.Helper()
	gc := trajgen.DefaultConfig()
	gc.N, gc.Seed = n, seed
	var out []Input
	err := trajgen.Generate(context.Background(), gc, func(tr columnar.Trajectory) error {
		var x struct {
			Gen struct {
				KeySteps []int32 `json:"key_steps"`
			} `json:"gen"`
		}
		if err := json.Unmarshal(tr.Extra, &x); err != nil {
			return err
		}
		var msgs []string
		for _, s := range tr.Steps {
			if s.IsError {
				lines := strings.Split(strings.TrimSpace(s.Observation), "\n")
				msgs = append(msgs, lines[len(lines)-1])
			}
		}
		out = append(out, Input{Trajectory: &tr, KeySteps: x.Gen.KeySteps, ErrorMessages: msgs})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func testTokenizer(t *testing.T) *Tokenizer {
	t.Helper()
	tok, err := NewTokenizer("o200k_base")
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func testOptions(t *testing.T) Options {
	return Options{Weights: DefaultWeights(), System: "You write Python.", Templates: Default(), Tokenizer: testTokenizer(t),
		MaxTokens: 0, Overlength: OverlengthDrop, NearThreshold: 0, ShingleTokens: 3, MaxPerTask: 0, Bins: 4, BinFactor: 0,
		ValidationPercent: 10, Epochs: 3, ReplicateK: 1, PricePer1M: map[string]float64{FormatOpenAI: 3}, Workers: 4}
}

func byID(ins []Input) map[string]*columnar.Trajectory {
	m := map[string]*columnar.Trajectory{}
	for _, in := range ins {
		m[in.Trajectory.TrajectoryID] = in.Trajectory
	}
	return m
}

// Every example traces to its trajectory and step, with the configured
// weight, the right completion, and a prompt holding exactly the history
// before the step.
func TestExamplesTrace(t *testing.T) {
	ins := generated(t, 400, 3)
	o := testOptions(t)
	o.Weights = Weights{Sampling: 3, Refinement: 0.5, Error: 0.25}
	res, err := Prepare(context.Background(), ins, o)
	if err != nil {
		t.Fatal(err)
	}
	trajs := byID(ins)
	keys := map[string][]int32{}
	for _, in := range ins {
		keys[in.Trajectory.TrajectoryID] = in.KeySteps
	}
	seen := map[string]int{}
	for _, e := range res.Examples {
		tr := trajs[e.TrajectoryID]
		if tr == nil || tr.Task.ID != e.TaskID {
			t.Fatalf("example %s: trajectory %s (task %s) not in the input", e.ID, e.TrajectoryID, e.TaskID)
		}
		seen[e.Subkind]++
		if e.ID != exampleID(e.TrajectoryID, e.Subkind, e.Step) {
			t.Errorf("example %s: id does not match its trajectory, subkind and step", e.ID)
		}
		if e.System != o.System || !strings.Contains(e.Prompt, tr.Task.Description) {
			t.Errorf("example %s: system %q, prompt without the task", e.ID, e.System)
		}
		if e.TotalTokens != e.SystemTokens+e.PromptTokens+e.CompletionTokens || e.CompletionTokens <= 0 || e.PromptTokens <= 0 {
			t.Errorf("example %s: tokens %d+%d+%d != %d", e.ID, e.SystemTokens, e.PromptTokens, e.CompletionTokens, e.TotalTokens)
		}
		switch e.Subkind {
		case SubkindSolution:
			if !tr.Outcome.Success || e.Kind != KindSampling || e.Step != -1 || e.Weight != 3 || e.Completion != tr.Solution.Code || e.QualityBin != -1 {
				t.Errorf("sampling example %s: %+v", e.ID, e)
			}
		case SubkindKeyStep:
			if !tr.Outcome.Success || e.Kind != KindRefinement || e.Weight != 0.5 || !slices.Contains(keys[e.TrajectoryID], e.Step) {
				t.Errorf("key-step example %s: %+v", e.ID, e)
			}
			s := tr.Steps[e.Step]
			want := s.Code
			if want == "" {
				want = s.Action
			}
			if e.Completion != want {
				t.Errorf("key-step example %s: completion %q, want step %d's %q", e.ID, e.Completion, e.Step, want)
			}
			for i := range tr.Steps {
				has := strings.Contains(e.Prompt, fmt.Sprintf("Step %d:\n", i))
				if has != (i < int(e.Step)) {
					t.Errorf("key-step example %s (step %d): prompt has step %d: %v", e.ID, e.Step, i, has)
				}
			}
		case SubkindError:
			if tr.Outcome.Success || e.Kind != KindRefinement || e.Step != -1 || e.Weight != 0.25 || !strings.HasPrefix(e.Completion, "[ERROR] ") {
				t.Errorf("error example %s: %+v", e.ID, e)
			}
			if last := len(tr.Steps) - 1; last >= 0 && !strings.Contains(e.Prompt, fmt.Sprintf("Step %d:\n", last)) {
				t.Errorf("error example %s: prompt lacks the last step", e.ID)
			}
		default:
			t.Errorf("example %s: subkind %q", e.ID, e.Subkind)
		}
		if e.Quality < 0 || e.Quality > 1 {
			t.Errorf("example %s: quality %v", e.ID, e.Quality)
		}
	}
	for _, k := range []string{SubkindSolution, SubkindKeyStep, SubkindError} {
		if seen[k] == 0 {
			t.Errorf("no %s examples in %d", k, len(res.Examples))
		}
	}
	s := res.Summary
	back := SummaryFromCounters(s.Counters())
	back.Encoding, back.Epochs = s.Encoding, s.Epochs
	if !reflect.DeepEqual(back, s) {
		t.Errorf("summary from counters:\n%+v\nwant\n%+v", back, s)
	}
	var toks, rep int64
	for _, e := range res.Examples {
		if e.Split == SplitTrain {
			toks += int64(e.TotalTokens)
			rep += int64(Copies(e.Weight, o.ReplicateK)) * int64(e.TotalTokens)
		}
	}
	for _, f := range s.Formats {
		want := toks * 3
		if f.Format == FormatTRLReplicated {
			want = rep * 3
		}
		price := map[string]float64{FormatOpenAI: 3}[f.Format]
		if f.TrainingTokens != want || f.CostUSD != float64(want)/1e6*price {
			t.Errorf("format %s: %d training tokens, $%v; want %d", f.Format, f.TrainingTokens, f.CostUSD, want)
		}
	}
	if s.Examples != int64(len(res.Examples)) || s.TrainExamples+s.ValidationExamples != s.Examples || s.ExamplesSampling != int64(seen[SubkindSolution]) {
		t.Errorf("summary %+v, examples by subkind %v", s, seen)
	}
}

func TestBuildFallbacks(t *testing.T) {
	tpl := Default()
	tr := &columnar.Trajectory{TrajectoryID: "a", Task: columnar.Task{ID: "t", Description: "d"},
		Steps:   []columnar.Step{{Index: 0, Action: "ls"}, {Index: 1, Action: "submit 42"}},
		Outcome: columnar.Outcome{Success: true}}
	var st BuildStats
	exs, err := Build(Input{Trajectory: tr, KeySteps: []int32{1, 7, 1}}, DefaultWeights(), "", tpl, &st)
	if err != nil {
		t.Fatal(err)
	}
	if len(exs) != 2 || exs[0].Completion != "submit 42" || exs[1].Step != 1 || exs[1].Completion != "submit 42" || st.KeyStepOutOfRange != 1 {
		t.Fatalf("got %+v, stats %+v", exs, st)
	}
	if exs[0].QualitySource != QualitySuccess || exs[0].Quality != 1 {
		t.Errorf("quality %v %s, want the success fallback", exs[0].Quality, exs[0].QualitySource)
	}
	// A failure: the outcome's error first, else the analysis's lines.
	tr.Outcome = columnar.Outcome{Success: false}
	exs, _ = Build(Input{Trajectory: tr, ErrorMessages: []string{"ValueError: x"}}, DefaultWeights(), "", tpl, &st)
	if len(exs) != 1 || exs[0].Completion != "[ERROR] ValueError: x" {
		t.Fatalf("got %+v", exs)
	}
	tr.Outcome.ErrorInfo = "Timeout"
	exs, _ = Build(Input{Trajectory: tr, ErrorMessages: []string{"ValueError: x"}}, DefaultWeights(), "", tpl, &st)
	if len(exs) != 1 || exs[0].Completion != "[ERROR] Timeout" {
		t.Fatalf("got %+v", exs)
	}
	tr.Outcome.ErrorInfo = ""
	exs, _ = Build(Input{Trajectory: tr}, DefaultWeights(), "", tpl, &st)
	if len(exs) != 0 || st.FailedNoError != 1 {
		t.Fatalf("got %+v, stats %+v", exs, st)
	}
}

func TestQuality(t *testing.T) {
	for _, c := range []struct {
		name    string
		obs     []string
		out     columnar.Outcome
		want    float64
		wantSrc string
	}{
		{"slash", []string{"example 0: ok\n2/3 examples passed"}, columnar.Outcome{}, 2.0 / 3, QualityTests},
		{"last report wins", []string{"0/4 examples passed", "defined f", "4/4 examples passed"}, columnar.Outcome{Success: true}, 1, QualityTests},
		{"pytest", []string{"==== 3 passed, 1 failed in 0.1s ===="}, columnar.Outcome{}, 0.75, QualityTests},
		{"reward", []string{"ok"}, columnar.Outcome{Reward: 0.4}, 0.4, QualityReward},
		{"reward clamped", nil, columnar.Outcome{Reward: 7, Success: true}, 1, QualityReward},
		{"success", nil, columnar.Outcome{Success: true}, 1, QualitySuccess},
		{"failure", []string{"Traceback"}, columnar.Outcome{}, 0, QualitySuccess},
	} {
		tr := &columnar.Trajectory{Outcome: c.out}
		for i, o := range c.obs {
			tr.Steps = append(tr.Steps, columnar.Step{Index: int32(i), Observation: o})
		}
		q, src := Quality(tr)
		if src != c.wantSrc || q < c.want-1e-9 || q > c.want+1e-9 {
			t.Errorf("%s: got %v %s, want %v %s", c.name, q, src, c.want, c.wantSrc)
		}
	}
}

// The result is the same whatever the input order and the worker count.
func TestPrepareDeterministic(t *testing.T) {
	ins := generated(t, 300, 5)
	o := testOptions(t)
	o.MaxPerTask, o.BinFactor, o.NearThreshold, o.MaxTokens, o.Overlength = 3, 1.5, 0.8, 600, OverlengthTruncate
	o.Workers = 1
	a, err := Prepare(context.Background(), ins, o)
	if err != nil {
		t.Fatal(err)
	}
	shuffled := append([]Input(nil), ins...)
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	o.Workers = 8
	b, err := Prepare(context.Background(), shuffled, o)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a.Summary, b.Summary) || len(a.Examples) != len(b.Examples) {
		t.Fatalf("summaries differ:\n%+v\n%+v", a.Summary, b.Summary)
	}
	for i := range a.Examples {
		if !reflect.DeepEqual(a.Examples[i], b.Examples[i]) {
			t.Fatalf("example %d differs: %s vs %s", i, a.Examples[i].ID, b.Examples[i].ID)
		}
	}
	var x, y bytes.Buffer
	for _, f := range JSONLFormats() {
		WriteFormat(&x, f.Name, a.Examples, 1)
		WriteFormat(&y, f.Name, b.Examples, 1)
	}
	if !bytes.Equal(x.Bytes(), y.Bytes()) {
		t.Fatal("exports differ")
	}
}

// sameTask gives every trajectory the task of its generator template, so
// that tasks have many trajectories.
func sameTask(ins []Input) {
	for _, in := range ins {
		id, _, _ := strings.Cut(in.Trajectory.Task.ID, "-")
		in.Trajectory.Task.ID = id
	}
}

// No task keeps more than the cap; the kept ones include the best.
func TestPerTaskCap(t *testing.T) {
	ins := generated(t, 600, 7)
	sameTask(ins)
	o := testOptions(t)
	o.MaxPerTask = 5
	res, err := Prepare(context.Background(), ins, o)
	if err != nil {
		t.Fatal(err)
	}
	per := map[string]int{}
	for _, e := range res.Examples {
		per[e.TaskID]++
	}
	for id, n := range per {
		if n > 5 {
			t.Errorf("task %s: %d examples, cap 5", id, n)
		}
	}
	o.MaxPerTask = 0
	all, _ := Prepare(context.Background(), ins, o)
	if res.Summary.TasksCapped == 0 || all.Summary.Examples-res.Summary.Examples != res.Summary.DroppedByCap {
		t.Errorf("capped %d tasks, dropped %d; %d - %d examples", res.Summary.TasksCapped, res.Summary.DroppedByCap, all.Summary.Examples, res.Summary.Examples)
	}
}

func TestGreedyDiverse(t *testing.T) {
	var exs []Example
	for i := 0; i < 20; i++ {
		exs = append(exs, Example{ID: fmt.Sprint(i), Quality: float64(20-i) / 20})
	}
	got := greedyDiverse(exs, 6)
	var ids []string
	for _, e := range got {
		ids = append(ids, e.ID)
	}
	// The 3 best, then 3 spread over the 17 others: 3+2, 3+8, 3+14.
	if want := []string{"0", "1", "2", "5", "11", "17"}; !slices.Equal(ids, want) {
		t.Errorf("got %v, want %v", ids, want)
	}
	if n := len(greedyDiverse(exs, 50)); n != 20 {
		t.Errorf("under the cap: %d kept", n)
	}
}

// Duplicates of a trajectory (another id, the same content) are removed
// exactly; solutions that differ only in names' comments and spacing are
// near duplicates.
func TestDedupe(t *testing.T) {
	ins := generated(t, 200, 9)
	o := testOptions(t)
	base, err := Prepare(context.Background(), ins, o)
	if err != nil {
		t.Fatal(err)
	}
	var dup []Input
	for _, in := range ins {
		c := *in.Trajectory
		c.TrajectoryID += "-copy"
		c.Steps = slices.Clone(c.Steps)
		dup = append(dup, in, Input{Trajectory: &c, KeySteps: in.KeySteps, ErrorMessages: in.ErrorMessages})
	}
	res, err := Prepare(context.Background(), dup, o)
	if err != nil {
		t.Fatal(err)
	}
	if res.Summary.DuplicatesExact != base.Summary.Examples || res.Summary.Examples != base.Summary.Examples {
		t.Errorf("exact duplicates %d, examples %d; want %d and %d", res.Summary.DuplicatesExact, res.Summary.Examples, base.Summary.Examples, base.Summary.Examples)
	}
	// Near: the copy's solution gets a comment and other spacing.
	dup = dup[:0]
	for _, in := range ins {
		c := *in.Trajectory
		c.TrajectoryID += "-near"
		c.Solution.Code = "# another attempt\n" + strings.ReplaceAll(c.Solution.Code, "    ", "  ")
		dup = append(dup, in, Input{Trajectory: &c})
	}
	o.NearThreshold = 0.9
	res, err = Prepare(context.Background(), dup, o)
	if err != nil {
		t.Fatal(err)
	}
	if res.Summary.DuplicatesNear != base.Summary.ExamplesSampling {
		t.Errorf("near duplicates %d, want %d", res.Summary.DuplicatesNear, base.Summary.ExamplesSampling)
	}
	if j := jaccard(shingles("def f(x):\n    return x+1", 3), shingles("def g(y):\n    return y*2", 3)); j > 0.5 {
		t.Errorf("different code: jaccard %v", j)
	}
}

// Over-long examples are dropped, or truncated from the history side
// with their completion kept.
func TestOverlength(t *testing.T) {
	ins := generated(t, 200, 11)
	o := testOptions(t)
	full, _ := Prepare(context.Background(), ins, o)
	long := map[string]Example{}
	for _, e := range full.Examples {
		long[e.ID] = e
	}
	o.MaxTokens = 500
	for _, mode := range []string{OverlengthDrop, OverlengthTruncate} {
		o.Overlength = mode
		res, err := Prepare(context.Background(), ins, o)
		if err != nil {
			t.Fatal(err)
		}
		s := res.Summary
		if s.OverlengthDropped+s.OverlengthTruncate == 0 {
			t.Fatalf("%s: nothing over %d tokens", mode, o.MaxTokens)
		}
		if mode == OverlengthDrop && s.OverlengthTruncate != 0 {
			t.Errorf("drop: %d truncated", s.OverlengthTruncate)
		}
		for _, e := range res.Examples {
			n, _ := o.Tokenizer.Count(e.Prompt)
			if e.TotalTokens > 500 || int(e.PromptTokens) != n {
				t.Errorf("%s: example %s has %d tokens (prompt %d, counted %d)", mode, e.ID, e.TotalTokens, e.PromptTokens, n)
			}
			orig := long[e.ID]
			if e.Completion != orig.Completion {
				t.Errorf("%s: example %s: completion changed", mode, e.ID)
			}
			if e.Truncated {
				if !strings.Contains(e.Prompt, "[earlier steps truncated]") || !strings.HasPrefix(e.Prompt, "Task (") || len(e.Prompt) >= len(orig.Prompt) {
					t.Errorf("truncated example %s: prompt %q", e.ID, e.Prompt[:min(len(e.Prompt), 200)])
				}
			}
		}
		if mode == OverlengthTruncate && s.OverlengthTruncate == 0 {
			t.Error("truncate: nothing truncated")
		}
	}
}

// Refinement examples are balanced over the quality bins.
func TestBins(t *testing.T) {
	ins := generated(t, 500, 13)
	o := testOptions(t)
	o.BinFactor = 1
	res, err := Prepare(context.Background(), ins, o)
	if err != nil {
		t.Fatal(err)
	}
	o.BinFactor = 0
	all, _ := Prepare(context.Background(), ins, o)
	before := make([]int, o.Bins)
	total, nonEmpty := 0, 0
	for _, e := range all.Examples {
		if e.Kind == KindRefinement {
			if e.QualityBin != int32(BinOf(e.Quality, o.Bins)) {
				t.Fatalf("example %s: bin %d of quality %v", e.ID, e.QualityBin, e.Quality)
			}
			before[e.QualityBin]++
			total++
		}
	}
	for _, n := range before {
		if n > 0 {
			nonEmpty++
		}
	}
	capN := (total + nonEmpty - 1) / nonEmpty
	var kept int64
	for i, n := range res.Summary.RefinementBins {
		if n > int64(capN) || n > int64(before[i]) {
			t.Errorf("bin %d: %d kept of %d, cap %d", i, n, before[i], capN)
		}
		kept += n
	}
	if res.Summary.DroppedByBin == 0 || int64(total)-kept != res.Summary.DroppedByBin {
		t.Errorf("dropped %d, before %v, after %v", res.Summary.DroppedByBin, before, res.Summary.RefinementBins)
	}
}

func TestSplitByTask(t *testing.T) {
	ins := generated(t, 300, 15)
	sameTask(ins)
	for _, pct := range []int{0, 30, 100} {
		o := testOptions(t)
		o.ValidationPercent = pct
		res, err := Prepare(context.Background(), ins, o)
		if err != nil {
			t.Fatal(err)
		}
		split := map[string]string{}
		for _, e := range res.Examples {
			if s, ok := split[e.TaskID]; ok && s != e.Split {
				t.Errorf("task %s in both splits", e.TaskID)
			}
			split[e.TaskID] = e.Split
		}
		s := res.Summary
		switch {
		case pct == 0 && s.ValidationExamples != 0, pct == 100 && s.TrainExamples != 0, pct == 30 && (s.TrainExamples == 0 || s.ValidationExamples == 0):
			t.Errorf("validation %d%%: %d train, %d validation", pct, s.TrainExamples, s.ValidationExamples)
		}
	}
}

func TestCopies(t *testing.T) {
	for _, c := range []struct {
		w, k float64
		want int
	}{{2, 1, 2}, {1.5, 1, 2}, {1, 1, 1}, {1.5, 2, 3}, {2, 2, 4}, {0, 1, 0}, {0.4, 1, 0}} {
		if got := Copies(c.w, c.k); got != c.want {
			t.Errorf("Copies(%v, %v) = %d, want %d", c.w, c.k, got, c.want)
		}
	}
}

// checkChat validates an OpenAI or TRL conversational line: only the
// messages key; system (optional), user, assistant in order; each a
// role and a non-empty string content, nothing else.
func checkChat(line []byte) error {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(line, &top); err != nil {
		return err
	}
	if len(top) != 1 || top["messages"] == nil {
		return fmt.Errorf("keys %v, want only messages", slices.Sorted(maps.Keys(top)))
	}
	var ms []map[string]any
	if err := json.Unmarshal(top["messages"], &ms); err != nil {
		return fmt.Errorf("messages: %w", err)
	}
	var roles []string
	for i, m := range ms {
		if len(m) != 2 {
			return fmt.Errorf("messages[%d]: keys %v", i, m)
		}
		r, ok1 := m["role"].(string)
		c, ok2 := m["content"].(string)
		if !ok1 || !ok2 || c == "" {
			return fmt.Errorf("messages[%d]: role %v content %v", i, m["role"], m["content"])
		}
		roles = append(roles, r)
	}
	if !slices.Equal(roles, []string{"system", "user", "assistant"}) && !slices.Equal(roles, []string{"user", "assistant"}) {
		return fmt.Errorf("roles %v", roles)
	}
	return nil
}

func checkPromptCompletion(line []byte) error {
	var top map[string]any
	if err := json.Unmarshal(line, &top); err != nil {
		return err
	}
	p, ok1 := top["prompt"].(string)
	c, ok2 := top["completion"].(string)
	if len(top) != 2 || !ok1 || !ok2 || p == "" || c == "" {
		return fmt.Errorf("want string prompt and completion only, got %v", slices.Sorted(maps.Keys(top)))
	}
	return nil
}

// Every export line follows its format's rules.
func TestFormats(t *testing.T) {
	ins := generated(t, 150, 17)
	o := testOptions(t)
	res, err := Prepare(context.Background(), ins, o)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []float64{1, 2} {
		for _, f := range JSONLFormats() {
			var b bytes.Buffer
			n, err := WriteFormat(&b, f.Name, res.Examples, k)
			if err != nil {
				t.Fatal(err)
			}
			lines := bytes.Split(bytes.TrimSuffix(b.Bytes(), []byte("\n")), []byte("\n"))
			want := len(res.Examples)
			if f.Name == FormatTRLReplicated {
				want = 0
				for _, e := range res.Examples {
					want += Copies(e.Weight, k)
				}
			}
			if int(n) != want || len(lines) != want {
				t.Errorf("%s k=%v: %d lines (%d counted), want %d", f.Name, k, len(lines), n, want)
			}
			check := checkPromptCompletion
			if f.Name == FormatOpenAI || f.Name == FormatTRLConversational {
				check = checkChat
			}
			for i, l := range lines {
				if err := check(l); err != nil {
					t.Fatalf("%s line %d: %v", f.Name, i+1, err)
				}
			}
		}
	}
	if _, err := WriteFormat(&bytes.Buffer{}, "alpaca", res.Examples, 1); err == nil {
		t.Error("unknown format: no error")
	}
}

// The card's YAML header is valid and names every file per config and
// split.
func TestCard(t *testing.T) {
	info := CardInfo{RunID: "run-x", License: "mit", Weights: DefaultWeights(), ReplicateK: 1,
		Files: []CardFile{
			{Format: FormatParquet, Split: ParquetSplit, Path: "parquet/part-00000-x.parquet", Bytes: 300},
			{Format: FormatParquet, Split: ParquetSplit, Path: "parquet/part-00001-x.parquet", Bytes: 200},
			{Format: FormatOpenAI, Split: SplitTrain, Path: "openai/train-x.jsonl", Rows: 7, Bytes: 70},
			{Format: FormatOpenAI, Split: SplitValidation, Path: "openai/validation-x.jsonl", Rows: 2, Bytes: 20},
			{Format: FormatTRLPromptCompletion, Split: SplitTrain, Path: "trl/prompt_completion/train-x.jsonl", Rows: 7, Bytes: 77},
		},
		Summary: Summary{Examples: 9, Encoding: "o200k_base", Epochs: 3}}
	var b bytes.Buffer
	if err := WriteCard(&b, info); err != nil {
		t.Fatal(err)
	}
	text := b.String()
	head, body, ok := strings.Cut(strings.TrimPrefix(text, "---\n"), "\n---\n")
	if !strings.HasPrefix(text, "---\n") || !ok || !strings.Contains(body, "round(weight × 1)") {
		t.Fatalf("card:\n%s", text)
	}
	var y struct {
		License        string   `yaml:"license"`
		TaskCategories []string `yaml:"task_categories"`
		Configs        []struct {
			Name      string `yaml:"config_name"`
			DataFiles []struct {
				Split string   `yaml:"split"`
				Path  []string `yaml:"path"`
			} `yaml:"data_files"`
		} `yaml:"configs"`
		Info []cardInfoYAML `yaml:"dataset_info"`
	}
	dec := yaml.NewDecoder(strings.NewReader(head))
	dec.KnownFields(false)
	if err := dec.Decode(&y); err != nil {
		t.Fatalf("YAML header: %v\n%s", err, head)
	}
	if y.License != "mit" || !slices.Equal(y.TaskCategories, []string{"text-generation"}) {
		t.Errorf("license %q, categories %v", y.License, y.TaskCategories)
	}
	got := map[string][]string{}
	for _, c := range y.Configs {
		for _, d := range c.DataFiles {
			got[c.Name+"/"+d.Split] = d.Path
		}
	}
	want := map[string][]string{
		"openai/train":                []string{"openai/train-x.jsonl"},
		"openai/validation":           []string{"openai/validation-x.jsonl"},
		"trl_prompt_completion/train": []string{"trl/prompt_completion/train-x.jsonl"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("data files %v, want %v", got, want)
	}
	if len(y.Info) != 4 || y.Info[0].Name != FormatOpenAI || len(y.Info[0].Features) != 1 || y.Info[0].Splits[0].N != 7 || y.Info[0].Splits[1].N != 2 {
		t.Errorf("dataset_info %+v", y.Info)
	}
	// Every split states its rows and bytes (datasets ignores a splits
	// list without num_bytes).
	if sizes, want := splitSizes(t, y.Info), map[string][2]int{"openai/train": {7, 70}, "openai/validation": {2, 20}, "trl_prompt_completion/train": {7, 77}}; !reflect.DeepEqual(sizes, want) {
		t.Errorf("split sizes %v, want %v", sizes, want)
	}
	// The Parquet features are the Example's columns, in order.
	var cols []string
	rt := reflect.TypeOf(Example{})
	for i := 0; i < rt.NumField(); i++ {
		if tag := rt.Field(i).Tag.Get("parquet"); tag != "" {
			cols = append(cols, tag)
		}
	}
	var feats []string
	for _, f := range parquetFeatures {
		feats = append(feats, f[0])
	}
	if !slices.Equal(cols, feats) {
		t.Errorf("card features %v, columns %v", feats, cols)
	}
	for _, c := range cols {
		if !strings.Contains(body, "| "+c+" | ") || columnDocs(c, "x") == "" {
			t.Errorf("the card does not describe column %s", c)
		}
	}
	if !strings.Contains(body, "parquet/part-00000-x.parquet") {
		t.Error("the card does not name the Parquet file")
	}

	// The Parquet dataset's own card: one config, its files relative to
	// its directory, every example, the files' bytes, the columns.
	b.Reset()
	if err := WriteParquetCard(&b, info); err != nil {
		t.Fatal(err)
	}
	head, body, ok = strings.Cut(strings.TrimPrefix(b.String(), "---\n"), "\n---\n")
	if !ok {
		t.Fatalf("parquet card:\n%s", b.String())
	}
	y.Configs, y.Info = nil, nil
	if err := yaml.Unmarshal([]byte(head), &y); err != nil {
		t.Fatalf("parquet card YAML: %v\n%s", err, head)
	}
	if len(y.Configs) != 1 || y.Configs[0].Name != FormatParquet || len(y.Configs[0].DataFiles) != 1 ||
		y.Configs[0].DataFiles[0].Split != ParquetSplit || !slices.Equal(y.Configs[0].DataFiles[0].Path, []string{"part-00000-x.parquet", "part-00001-x.parquet"}) {
		t.Errorf("parquet card configs %+v", y.Configs)
	}
	if len(y.Info) != 1 || len(y.Info[0].Features) != len(parquetFeatures) {
		t.Errorf("parquet card dataset_info %+v", y.Info)
	}
	if sizes, want := splitSizes(t, y.Info), map[string][2]int{"parquet/full": {9, 500}}; !reflect.DeepEqual(sizes, want) {
		t.Errorf("parquet split sizes %v, want %v", sizes, want)
	}
	for _, c := range cols {
		if !strings.Contains(body, "| "+c+" | ") {
			t.Errorf("the parquet card does not describe column %s", c)
		}
	}
}

// cardInfoYAML is one config of a card's dataset_info.
type cardInfoYAML struct {
	Name     string           `yaml:"config_name"`
	Features []map[string]any `yaml:"features"`
	Splits   []struct {
		Name  string `yaml:"name"`
		N     int    `yaml:"num_examples"`
		Bytes *int   `yaml:"num_bytes"`
	} `yaml:"splits"`
}

// splitSizes maps config/split to the rows and bytes dataset_info
// states, failing on a split without num_bytes.
func splitSizes(t *testing.T, info []cardInfoYAML) map[string][2]int {
	t.Helper()
	out := map[string][2]int{}
	for _, c := range info {
		for _, sp := range c.Splits {
			if sp.Bytes == nil {
				t.Errorf("%s/%s: no num_bytes", c.Name, sp.Name)
				continue
			}
			out[c.Name+"/"+sp.Name] = [2]int{sp.N, *sp.Bytes}
		}
	}
	return out
}
