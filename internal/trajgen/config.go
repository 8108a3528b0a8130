package trajgen

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// DefaultFailureRate is the share of trajectories that end in failure under
// DefaultConfig.
const DefaultFailureRate = 0.35

// Config says what to generate. Generation is a pure function of Seed and
// the trajectory index, so the same Config always yields the same data.
type Config struct {
	// N is the number of trajectories Generate produces (indices 0..N-1).
	N int
	// Seed selects the data set.
	Seed int64
	// FailureRate is the probability that a trajectory ends in failure,
	// taken literally (0 means every trajectory succeeds).
	FailureRate float64
	// FixRate is the probability that a successful trajectory first writes
	// a bug, sees the tests fail and fixes it.
	FixRate float64
	// DistractorRate is the probability of each kind of distractor step
	// (an exploratory print; a tried-and-reverted change).
	DistractorRate float64
	// Start is the created_at of trajectory 0; trajectory i is created
	// about i seconds later. The zero time means DefaultStart().
	Start time.Time
}

// DefaultStart is the created_at of trajectory 0 when Config.Start is zero.
func DefaultStart() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) }

// DefaultConfig returns the defaults: 1000 trajectories, seed 1, 35%
// failures.
func DefaultConfig() Config {
	return Config{
		N:              1000,
		Seed:           1,
		FailureRate:    DefaultFailureRate,
		FixRate:        0.35,
		DistractorRate: 0.3,
		Start:          DefaultStart(),
	}
}

// Validate reports every invalid field.
func (c Config) Validate() error {
	var errs []error
	if c.N < 0 {
		errs = append(errs, fmt.Errorf("trajgen: N %d is negative", c.N))
	}
	for _, f := range []struct {
		name string
		v    float64
	}{{"FailureRate", c.FailureRate}, {"FixRate", c.FixRate}, {"DistractorRate", c.DistractorRate}} {
		if math.IsNaN(f.v) || f.v < 0 || f.v > 1 {
			errs = append(errs, fmt.Errorf("trajgen: %s %v is outside [0, 1]", f.name, f.v))
		}
	}
	return errors.Join(errs...)
}

func (c Config) withDefaults() Config {
	if c.Start.IsZero() {
		c.Start = DefaultStart()
	}
	return c
}
