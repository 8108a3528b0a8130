package jobs

import (
	"errors"

	"github.com/atlas-ai/atlas-learn/columnar"
	"github.com/atlas-ai/atlas-learn/columnar/storage"
	"github.com/atlas-ai/atlas-learn/internal/llm"
)

// ConfigError is a configuration that cannot run: a bad key or value, a
// missing file, stages that do not fit together. Its message names the
// key.
type ConfigError struct{ Err error }

func (e *ConfigError) Error() string { return "configuration: " + e.Err.Error() }
func (e *ConfigError) Unwrap() error { return e.Err }

// Failure classes of a run, each with its own exit status (see
// ExitCode).
const (
	ExitOK       = 0
	ExitFailure  = 1 // anything else: a bug, a failed sandbox, a cancelled run
	ExitConfig   = 2 // bad configuration or flags
	ExitStorage  = 3 // storage unreachable or refusing (credentials, bucket, endpoint)
	ExitBadInput = 4 // a bad input record under on_error: fail
	ExitBudget   = 5 // the model budget (llm.budget_usd) ran out
)

// ExitCode is the exit status of a command that failed with err: its
// failure class. Classes are checked from the most specific: a bad record
// read from storage is bad input, not a storage failure.
func ExitCode(err error) int {
	var cfg *ConfigError
	var rec *columnar.RecordError
	var st *storage.Error
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &cfg):
		return ExitConfig
	case errors.Is(err, llm.ErrBudgetExhausted):
		return ExitBudget
	case errors.As(err, &rec):
		return ExitBadInput
	case errors.As(err, &st):
		return ExitStorage
	}
	return ExitFailure
}
