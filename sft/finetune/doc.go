// Package finetune decides when the hindsight datasets are worth a
// fine-tune (should_finetune) and hands them off to a fine-tuning
// back-end.
//
// The decision is a pure function: Trigger.Decide takes the fine-tune
// State kept beside the memory (trajectories accumulated since the last
// fine-tune, when that was, the runs already counted), the run's clock
// (never the wall clock: the newest trajectory's time or a configured
// one) and the run's Batch (trajectories, successes, examples), and
// returns a Decision whose Reasons name every rule with its value and
// threshold. State.Apply folds a run into the state; the caller stores it
// only once the run has committed, so a failed run never advances it, and
// a run id already counted is never counted twice.
//
// A Backend takes a Request (base model, method with SOAR's defaults,
// the dataset files with their versions, a request id derived from the
// run) and returns a Result. Queue writes the request as JSON into an
// object-storage prefix that a training cluster watches and reads the
// status file the cluster writes back; OpenAI drives an OpenAI-compatible
// fine-tuning API (files, fine_tuning/jobs).
package finetune
