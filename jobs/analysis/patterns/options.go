package patterns

import (
	"errors"
	"fmt"
)

// Options are the miner's settings. Start from DefaultOptions: the zero
// value is not valid.
type Options struct {
	// Depth is the number of leading tokens that key the parse tree below
	// the token-count level (Drain's depth minus three: Drain3's default
	// depth 4 keys one token). A leading token holding a variable or a
	// digit is keyed as <*>. 0 keys by token count only.
	Depth int
	// SimThreshold is the least similarity, the share of a message's
	// tokens equal to a cluster's template (variables excluded), for the
	// message to join the cluster (Drain's st), in (0, 1].
	SimThreshold float64
	// MaxChildren bounds the children of a tree node (Drain's
	// max_children). The streaming tree keys the tokens past it as <*>;
	// the final pass keys a level <*> for every message of a node when its
	// tokens there take more than MaxChildren values, whatever the order.
	MaxChildren int
	// MinDistinct is the number of distinct values at one position of a
	// cluster from which the position is a variable, when the values are
	// words (positions holding only masked variables are variables
	// anyway). A position with fewer distinct values splits the cluster
	// instead: its values are constants of different templates. UPPER_CASE
	// words (enumeration constants) always split. 0 disables the split.
	MinDistinct int
	// MinDistinctKeyed is MinDistinct for key=value tokens whose values
	// are words (mode=fast, user=root): such values are more often
	// settings than free values, so the bar is higher.
	MinDistinctKeyed int
	// Merge merges, after clustering and splitting, the templates whose
	// constant tokens are the same sequence, whatever their variables (so
	// variables spanning different numbers of tokens end in one template).
	Merge bool
	// MaxTokens caps the tokens of one message: the tail of a longer one
	// becomes a single <*>.
	MaxTokens int
	// MaxTokenLen is the longest token kept as it is (in bytes); a longer
	// one is a variable.
	MaxTokenLen int
	// MaxExamples is the number of message indexes kept per template as
	// examples (the first ones).
	MaxExamples int
}

// DefaultOptions returns the settings used everywhere by default: one
// configuration for every kind of log, no per-source rules.
func DefaultOptions() Options {
	return Options{
		Depth:            2,
		SimThreshold:     0.4,
		MaxChildren:      100,
		MinDistinct:      3,
		MinDistinctKeyed: 4,
		Merge:            true,
		MaxTokens:        256,
		MaxTokenLen:      256,
		MaxExamples:      5,
	}
}

// Validate reports the first setting out of its range.
func (o Options) Validate() error {
	var err error
	switch {
	case o.Depth < 0 || o.Depth > 16:
		err = fmt.Errorf("depth: want 0..16, got %d", o.Depth)
	case !(o.SimThreshold > 0 && o.SimThreshold <= 1):
		err = fmt.Errorf("sim_threshold: want (0, 1], got %g", o.SimThreshold)
	case o.MaxChildren < 1:
		err = fmt.Errorf("max_children: want at least 1, got %d", o.MaxChildren)
	case o.MinDistinct < 0:
		err = fmt.Errorf("min_distinct: want at least 0, got %d", o.MinDistinct)
	case o.MinDistinctKeyed < 0:
		err = fmt.Errorf("min_distinct_keyed: want at least 0, got %d", o.MinDistinctKeyed)
	case o.MaxTokens < 1:
		err = fmt.Errorf("max_tokens: want at least 1, got %d", o.MaxTokens)
	case o.MaxTokenLen < 1:
		err = fmt.Errorf("max_token_len: want at least 1, got %d", o.MaxTokenLen)
	case o.MaxExamples < 0:
		err = fmt.Errorf("max_examples: want at least 0, got %d", o.MaxExamples)
	}
	if err != nil {
		return fmt.Errorf("%w: %w", ErrOptions, err)
	}
	return nil
}

// ErrOptions is the error Validate wraps.
var ErrOptions = errors.New("invalid patterns options")
