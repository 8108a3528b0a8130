package finetune

import (
	"fmt"
	"time"
)

// Trigger is the should_finetune policy: a fine-tune is due when enough
// trajectories have accumulated since the last one, enough time has
// passed since it, and the data passes the quality gate. Every rule must
// pass.
type Trigger struct {
	// MinTrajectories is the least number of trajectories accumulated
	// since the last fine-tune (this run's included).
	MinTrajectories int64
	// MinInterval is the least time since the last fine-tune, on the
	// run's clock. A state that has never fine-tuned passes.
	MinInterval time.Duration
	// MinSuccessRate is the least success rate of the accumulated
	// trajectories (0..1).
	MinSuccessRate float64
	// MinExamples is the least number of training examples in this run's
	// fine-tuning dataset (validation examples are not counted).
	MinExamples int64
}

// Batch is what one run brings to the decision.
type Batch struct {
	// RunID identifies the run: a run id already counted in the state is
	// not counted again.
	RunID string
	// InputID identifies the batch's trajectories (a hash of their ids),
	// so that the same trajectories under another run id (a re-run with
	// a derived run id after a settings change) are not counted twice
	// either; "" is no identity.
	InputID string
	// Trajectories and Successes are the run's trajectories and how many
	// of them succeeded.
	Trajectories, Successes int64
	// Examples and ValidationExamples are the examples of the run's
	// fine-tuning dataset, by split; WeightedExamples sums their weights.
	Examples, ValidationExamples int64
	WeightedExamples             float64
}

// Rule names, as used in Decision.Rules.
const (
	RuleMinTrajectories = "min_trajectories"
	RuleMinInterval     = "min_interval"
	RuleMinSuccessRate  = "min_success_rate"
	RuleMinExamples     = "min_examples"
)

// RuleResult is one rule of a decision: its value and threshold.
type RuleResult struct {
	Rule      string `json:"rule"`
	Pass      bool   `json:"pass"`
	Value     string `json:"value"`
	Threshold string `json:"threshold"`
}

// Decision is the outcome of Decide, with the numbers it was made on.
type Decision struct {
	// Finetune tells whether a fine-tune is due.
	Finetune bool `json:"finetune"`
	// Reasons are human-readable lines, one per rule (pass or fail) in a
	// fixed order, then notes; their text is stable.
	Reasons []string     `json:"reasons"`
	Rules   []RuleResult `json:"rules"`
	// Now is the run's clock the decision was made at.
	Now time.Time `json:"now"`
	// RunID is the batch's run; AlreadyCounted tells that the state had
	// counted it before (a re-run), so that its trajectories were not
	// added again; Resubmit that this run had already triggered a
	// fine-tune, which is due again so that the same request is found.
	RunID          string `json:"run_id"`
	AlreadyCounted bool   `json:"already_counted"`
	Resubmit       bool   `json:"resubmit"`
	// NewTrajectories are the batch's trajectories that count
	// (0 when already counted); Trajectories and Successes the
	// accumulated ones, this run's included.
	NewTrajectories int64   `json:"new_trajectories"`
	Trajectories    int64   `json:"trajectories"`
	Successes       int64   `json:"successes"`
	SuccessRate     float64 `json:"success_rate"`
	// Examples, ValidationExamples and WeightedExamples are the batch's.
	Examples           int64   `json:"examples"`
	ValidationExamples int64   `json:"validation_examples"`
	WeightedExamples   float64 `json:"weighted_examples"`
	// LastFinetune is the state's last fine-tune (nil: never) and
	// SinceLastSeconds the time since it on the run's clock.
	LastFinetune     *time.Time `json:"last_finetune,omitempty"`
	SinceLastSeconds int64      `json:"since_last_seconds"`
}

// Decide applies the policy to the state and the batch at now, the run's
// clock. It is a pure function: the same arguments give the same
// Decision.
func (t Trigger) Decide(state State, now time.Time, batch Batch) Decision {
	now = now.UTC()
	d := Decision{Now: now, RunID: batch.RunID, Examples: batch.Examples, ValidationExamples: batch.ValidationExamples, WeightedExamples: batch.WeightedExamples}
	d.AlreadyCounted = state.Counted(batch.RunID) || state.CountedInput(batch.InputID)
	d.Trajectories, d.Successes = state.TrajectoriesSince, state.SuccessesSince
	if !d.AlreadyCounted {
		d.NewTrajectories = batch.Trajectories
		d.Trajectories += batch.Trajectories
		d.Successes += batch.Successes
	}
	if d.Trajectories > 0 {
		d.SuccessRate = float64(d.Successes) / float64(d.Trajectories)
	}
	var rules []RuleResult
	add := func(rule string, pass bool, value, threshold string) {
		rules = append(rules, RuleResult{Rule: rule, Pass: pass, Value: value, Threshold: threshold})
	}
	add(RuleMinTrajectories, d.Trajectories >= t.MinTrajectories,
		fmt.Sprintf("%d trajectories since the last fine-tune (%d new in this run)", d.Trajectories, d.NewTrajectories),
		fmt.Sprintf("%d", t.MinTrajectories))
	if state.LastFinetune == nil {
		add(RuleMinInterval, true, "no fine-tune yet", t.MinInterval.String())
	} else {
		last := state.LastFinetune.UTC()
		d.LastFinetune = &last
		since := now.Sub(last)
		d.SinceLastSeconds = int64(since / time.Second)
		add(RuleMinInterval, since >= t.MinInterval,
			fmt.Sprintf("%s since the last fine-tune at %s", since, last.Format(time.RFC3339)), t.MinInterval.String())
	}
	add(RuleMinSuccessRate, d.Trajectories > 0 && d.SuccessRate >= t.MinSuccessRate,
		fmt.Sprintf("success rate %.4f (%d of %d)", d.SuccessRate, d.Successes, d.Trajectories),
		fmt.Sprintf("%.4f", t.MinSuccessRate))
	add(RuleMinExamples, batch.Examples >= t.MinExamples,
		fmt.Sprintf("%d training examples in this run (%d validation, weight %.2f)", batch.Examples, batch.ValidationExamples, batch.WeightedExamples),
		fmt.Sprintf("%d", t.MinExamples))
	d.Rules = rules
	d.Finetune = true
	for _, r := range rules {
		verdict := "pass"
		if !r.Pass {
			verdict, d.Finetune = "fail", false
		}
		d.Reasons = append(d.Reasons, fmt.Sprintf("%s: %s: %s (threshold %s)", r.Rule, verdict, r.Value, r.Threshold))
	}
	if d.AlreadyCounted {
		d.Reasons = append(d.Reasons, fmt.Sprintf("note: run %s (or its trajectories) was counted before; its %d trajectories are not added again", batch.RunID, batch.Trajectories))
		if j := state.JobOf(batch.RunID); j != nil {
			// The run triggered a fine-tune when it first committed:
			// due again, so that the same request is found rather than
			// the decision silently flipping on a re-run.
			d.Finetune, d.Resubmit = true, true
			d.Reasons = append(d.Reasons, fmt.Sprintf("note: run %s already triggered request %s; it is due again so that the back-end finds that request", batch.RunID, j.RequestID))
		}
	}
	if d.Finetune {
		d.Reasons = append(d.Reasons, "decision: fine-tune")
	} else {
		d.Reasons = append(d.Reasons, "decision: no fine-tune")
	}
	return d
}
