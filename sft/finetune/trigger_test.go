package finetune

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

var policy = Trigger{MinTrajectories: 100, MinInterval: 24 * time.Hour, MinSuccessRate: 0.2, MinExamples: 50}

func at(day, hour int) time.Time { return time.Date(2026, 11, day, hour, 0, 0, 0, time.UTC) }

func failed(d Decision) []string {
	var out []string
	for _, r := range d.Rules {
		if !r.Pass {
			out = append(out, r.Rule)
		}
	}
	return out
}

func TestDecide(t *testing.T) {
	last := at(1, 2)
	tests := []struct {
		name       string
		state      State
		now        time.Time
		batch      Batch
		want       bool
		wantFailed []string
		reason     string // a line Reasons must contain
	}{
		{"first run, everything passes", State{}, at(1, 2), Batch{RunID: "r1", Trajectories: 100, Successes: 20, Examples: 50}, true, nil,
			"min_interval: pass: no fine-tune yet (threshold 24h0m0s)"},
		{"too few trajectories", State{}, at(1, 2), Batch{RunID: "r1", Trajectories: 99, Successes: 99, Examples: 500}, false, []string{RuleMinTrajectories},
			"min_trajectories: fail: 99 trajectories since the last fine-tune (99 new in this run) (threshold 100)"},
		{"accumulated trajectories count", State{TrajectoriesSince: 60, SuccessesSince: 30, Runs: []RunRecord{{RunID: "r0"}}}, at(2, 2),
			Batch{RunID: "r1", Trajectories: 40, Successes: 0, Examples: 50}, true, nil,
			"min_success_rate: pass: success rate 0.3000 (30 of 100) (threshold 0.2000)"},
		{"too soon", State{LastFinetune: &last}, at(2, 1), Batch{RunID: "r2", Trajectories: 500, Successes: 500, Examples: 500}, false, []string{RuleMinInterval},
			"min_interval: fail: 23h0m0s since the last fine-tune at 2026-11-01T02:00:00Z (threshold 24h0m0s)"},
		{"exactly the interval", State{LastFinetune: &last}, at(2, 2), Batch{RunID: "r2", Trajectories: 500, Successes: 500, Examples: 500}, true, nil,
			"min_interval: pass: 24h0m0s since the last fine-tune at 2026-11-01T02:00:00Z (threshold 24h0m0s)"},
		{"clock before the last fine-tune", State{LastFinetune: &last}, at(1, 1), Batch{RunID: "r2", Trajectories: 500, Successes: 500, Examples: 500}, false, []string{RuleMinInterval}, ""},
		{"low quality", State{}, at(1, 2), Batch{RunID: "r1", Trajectories: 1000, Successes: 199, Examples: 500}, false, []string{RuleMinSuccessRate},
			"min_success_rate: fail: success rate 0.1990 (199 of 1000) (threshold 0.2000)"},
		{"no trajectories at all fails the rate", State{}, at(1, 2), Batch{RunID: "r1", Examples: 500}, false, []string{RuleMinTrajectories, RuleMinSuccessRate}, ""},
		{"too few examples", State{}, at(1, 2), Batch{RunID: "r1", Trajectories: 100, Successes: 100, Examples: 49, ValidationExamples: 5, WeightedExamples: 80.5}, false, []string{RuleMinExamples},
			"min_examples: fail: 49 training examples in this run (5 validation, weight 80.50) (threshold 50)"},
		{"a counted run is not counted twice", State{TrajectoriesSince: 60, SuccessesSince: 60, Runs: []RunRecord{{RunID: "r1", Trajectories: 60}}}, at(1, 2),
			Batch{RunID: "r1", Trajectories: 60, Successes: 60, Examples: 50}, false, []string{RuleMinTrajectories},
			"note: run r1 (or its trajectories) was counted before; its 60 trajectories are not added again"},
		{"a counted run that triggered is due again", State{LastFinetune: &last, Runs: []RunRecord{{RunID: "r1", Trajectories: 100, Finetune: true, RequestID: "ft-x"}},
			Jobs: []Job{{RequestID: "ft-x", RunID: "r1"}}}, at(1, 2),
			Batch{RunID: "r1", Trajectories: 100, Successes: 100, Examples: 50}, true, []string{RuleMinTrajectories, RuleMinInterval, RuleMinSuccessRate},
			"note: run r1 already triggered request ft-x; it is due again so that the back-end finds that request"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := policy.Decide(tc.state, tc.now, tc.batch)
			if d.Finetune != tc.want {
				t.Errorf("Finetune = %v, want %v; reasons:\n%s", d.Finetune, tc.want, strings.Join(d.Reasons, "\n"))
			}
			if got := failed(d); !slices.Equal(got, tc.wantFailed) {
				t.Errorf("failed rules = %v, want %v", got, tc.wantFailed)
			}
			if len(d.Rules) != 4 || len(d.Reasons) < 5 {
				t.Errorf("want 4 rules and a reason each plus the verdict, got %d rules, %d reasons", len(d.Rules), len(d.Reasons))
			}
			if tc.reason != "" && !slices.Contains(d.Reasons, tc.reason) {
				t.Errorf("reasons lack %q:\n%s", tc.reason, strings.Join(d.Reasons, "\n"))
			}
			again := policy.Decide(tc.state, tc.now, tc.batch)
			if fmt.Sprint(again) != fmt.Sprint(d) {
				t.Errorf("Decide is not deterministic")
			}
		})
	}
}

// A simulated week of nightly runs: which nights trigger, and why the
// others do not. The clock is the run's (its newest trajectory), so the
// week runs in no time.
func TestSimulatedWeek(t *testing.T) {
	nights := []struct {
		now                              time.Time
		trajectories, successes, example int64
		want                             bool
		wantFailed                       []string
	}{
		// Night 1: a small first batch.
		{at(1, 2), 60, 30, 40, false, []string{RuleMinTrajectories, RuleMinExamples}},
		// Night 2: 130 accumulated, never fine-tuned: the first fine-tune.
		{at(2, 2), 70, 35, 120, true, nil},
		// Night 3 runs early: 23 hours after the fine-tune.
		{at(3, 1), 150, 90, 200, false, []string{RuleMinInterval}},
		// Night 4: 170 accumulated, but too few examples tonight.
		{at(4, 2), 20, 2, 10, false, []string{RuleMinExamples}},
		// Night 5: a flood of failures drags the rate to 92/470.
		{at(5, 2), 300, 0, 300, false, []string{RuleMinSuccessRate}},
		// Night 6: 120/500 successes: the second fine-tune.
		{at(6, 2), 30, 28, 80, true, nil},
		// Night 7: a full day and a good batch: the third.
		{at(7, 2), 200, 100, 150, true, nil},
	}
	var st State
	var triggered []int
	for i, n := range nights {
		runID := fmt.Sprintf("night-%d", i+1)
		b := Batch{RunID: runID, Trajectories: n.trajectories, Successes: n.successes, Examples: n.example}
		d := policy.Decide(st, n.now, b)
		if d.Finetune != n.want || !slices.Equal(failed(d), n.wantFailed) {
			t.Fatalf("night %d: Finetune = %v, failed %v; want %v, %v; reasons:\n%s", i+1, d.Finetune, failed(d), n.want, n.wantFailed, strings.Join(d.Reasons, "\n"))
		}
		var res *Result
		if d.Finetune {
			triggered = append(triggered, i+1)
			res = &Result{RequestID: RequestID(runID, "fp"), Backend: "queue", JobID: RequestID(runID, "fp"), Status: StatusQueued}
		}
		st = st.Apply(d, b, res)
		// A re-run of the same night changes nothing.
		d2 := policy.Decide(st, n.now, b)
		if !d2.AlreadyCounted || d2.Finetune != n.want || d2.Resubmit != n.want {
			t.Fatalf("night %d re-run: %+v", i+1, d2)
		}
		if st2 := st.Apply(d2, b, res); fmt.Sprint(st2.Runs, st2.Jobs, st2.TrajectoriesSince, st2.TotalFinetunes) != fmt.Sprint(st.Runs, st.Jobs, st.TrajectoriesSince, st.TotalFinetunes) {
			t.Fatalf("night %d: re-applying changed the state:\n%+v\n%+v", i+1, st, st2)
		}
		// Rewound to before the night, the re-run decides as the first
		// attempt did, and applying it again gives the same state.
		rw := st.Rewound(b)
		if d3 := policy.Decide(rw, n.now, b); !reflect.DeepEqual(d3, d) {
			t.Fatalf("night %d rewound: %+v\nfirst: %+v", i+1, d3, d)
		}
		if st3 := rw.Apply(d, b, res); !reflect.DeepEqual(st3, st) {
			t.Fatalf("night %d: rewound and re-applied:\n%+v\n%+v", i+1, st3, st)
		}
		if other := st.Rewound(Batch{RunID: "night-0"}); !reflect.DeepEqual(other, st) {
			t.Fatalf("night %d: rewinding another run changed the state", i+1)
		}
		// The same run id over other trajectories (a fixed run_id reused
		// on the next night) is another run: nothing is rewound.
		if other := st.Rewound(Batch{RunID: runID, InputID: "sha256:other"}); !reflect.DeepEqual(other, st) {
			t.Fatalf("night %d: rewinding the run id over another input changed the state", i+1)
		}
	}
	if !slices.Equal(triggered, []int{2, 6, 7}) {
		t.Fatalf("triggered on nights %v, want 2, 6, 7", triggered)
	}
	if st.TotalFinetunes != 3 || len(st.Jobs) != 3 || len(st.Runs) != 7 || st.TrajectoriesSince != 0 || !st.LastFinetune.Equal(at(7, 2)) {
		t.Fatalf("final state %+v", st)
	}
	// Between fine-tunes the trajectories accumulate: after night 5 the
	// state held nights 3..5.
	var sum int64
	for _, r := range st.Runs[2:5] {
		sum += r.Trajectories
	}
	if sum != 470 {
		t.Fatalf("nights 3..5 counted %d trajectories, want 470", sum)
	}
}

// A decision to fine-tune that submitted nothing (back-end none, or the
// submission failed) records no fine-tune: the trajectories keep
// accumulating.
func TestApplyWithoutSubmission(t *testing.T) {
	b := Batch{RunID: "r1", Trajectories: 150, Successes: 100, Examples: 100}
	d := policy.Decide(State{}, at(1, 2), b)
	if !d.Finetune {
		t.Fatal("want due")
	}
	st := State{}.Apply(d, b, nil)
	if st.LastFinetune != nil || st.TotalFinetunes != 0 || st.TrajectoriesSince != 150 || !st.Counted("r1") {
		t.Fatalf("state %+v", st)
	}
	d = policy.Decide(st, at(2, 2), Batch{RunID: "r2", Trajectories: 1, Successes: 1, Examples: 100})
	if !d.Finetune || d.Trajectories != 151 {
		t.Fatalf("next night: %+v", d)
	}
}
