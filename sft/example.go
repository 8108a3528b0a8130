package sft

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/atlas-ai/atlas-learn/columnar"
)

// Example kinds and subkinds.
const (
	KindSampling   = "sampling"
	KindRefinement = "refinement"

	SubkindSolution = "solution"
	SubkindKeyStep  = "key_step"
	SubkindError    = "error"
)

// Where an example's parent quality came from.
const (
	// QualityTests: the fraction of tests passed in the trajectory's last
	// test report ("2/3 examples passed", "5 passed, 1 failed").
	QualityTests = "tests"
	// QualityReward: the outcome's reward, clamped to [0, 1] (no test
	// report).
	QualityReward = "reward"
	// QualitySuccess: a heuristic fallback, 1 for success and 0 for
	// failure (no test report, no reward).
	QualitySuccess = "success"
)

// Schema of the Parquet dataset of examples (see Example).
const (
	SchemaName    = "sft_example"
	SchemaVersion = 1
)

// Example is one training example, and one row of the sft Parquet
// dataset.
type Example struct {
	// ID identifies the example: a hash of its trajectory, subkind and
	// step.
	ID           string `parquet:"id" json:"id"`
	TrajectoryID string `parquet:"trajectory_id" json:"trajectory_id"`
	TaskID       string `parquet:"task_id" json:"task_id"`
	// Step is the key step whose action is the completion; -1 for
	// sampling and error examples.
	Step    int32  `parquet:"step" json:"step"`
	Kind    string `parquet:"kind" json:"kind"`
	Subkind string `parquet:"subkind" json:"subkind"`
	// Weight is the example's loss weight (SOAR: 2.0, 1.5, 1.0).
	Weight     float64 `parquet:"weight" json:"weight"`
	System     string  `parquet:"system" json:"system"`
	Prompt     string  `parquet:"prompt" json:"prompt"`
	Completion string  `parquet:"completion" json:"completion"`
	// Quality is the parent trajectory's quality in [0, 1];
	// QualitySource says where it came from; Reward is the outcome's.
	Quality       float64 `parquet:"quality" json:"quality"`
	QualitySource string  `parquet:"quality_source" json:"quality_source"`
	Reward        float64 `parquet:"reward" json:"reward"`
	// QualityBin is the refinement example's bin of Quality (-1 for
	// sampling examples).
	QualityBin int32 `parquet:"quality_bin" json:"quality_bin"`
	// Token counts in the run's encoding; TotalTokens is their sum.
	SystemTokens     int32 `parquet:"system_tokens" json:"system_tokens"`
	PromptTokens     int32 `parquet:"prompt_tokens" json:"prompt_tokens"`
	CompletionTokens int32 `parquet:"completion_tokens" json:"completion_tokens"`
	TotalTokens      int32 `parquet:"total_tokens" json:"total_tokens"`
	// Truncated: the prompt's history was cut from the front to fit
	// max_tokens.
	Truncated bool `parquet:"truncated" json:"truncated"`
	// Split is "train" or "validation", by the task.
	Split string `parquet:"split" json:"split"`

	// What truncation needs: the rendered task, the history, and
	// whether the prompt is an error prompt.
	taskText, history string
	isErr             bool
	// rk is what ranking compares; counted: the prompt's tokens are
	// counted (the others are counted once the example is kept).
	rk      rankKey
	counted bool
}

// Splits.
const (
	SplitTrain      = "train"
	SplitValidation = "validation"
)

// Input is one trajectory and what the analysis says of it.
type Input struct {
	Trajectory *columnar.Trajectory
	// KeySteps are the analysis's key steps (indices into the steps).
	KeySteps []int32
	// ErrorMessages are the analysis's error lines, used as the error
	// information of a failed trajectory whose outcome has none.
	ErrorMessages []string
}

// Weights are the examples' weights by subkind.
type Weights struct {
	Sampling, Refinement, Error float64
}

// DefaultWeights are SOAR's.
func DefaultWeights() Weights { return Weights{Sampling: 2.0, Refinement: 1.5, Error: 1.0} }

// BuildStats counts what Build passed over.
type BuildStats struct {
	// EmptyCompletion: examples with nothing to complete (no code and no
	// action).
	EmptyCompletion int64
	// KeyStepOutOfRange: key steps that are not steps of the trajectory.
	KeyStepOutOfRange int64
	// FailedNoError: failed trajectories without error information.
	FailedNoError int64
}

// exampleID is the stable id of an example.
func exampleID(trajectoryID, subkind string, step int32) string {
	h := sha256.Sum256([]byte(trajectoryID + "\x00" + subkind + "\x00" + strconv.Itoa(int(step))))
	return hex.EncodeToString(h[:8])
}

// Build renders the examples of one trajectory, in order: the sampling
// example, then the key steps' refinement examples by step, or the error
// example. Token counts, bins and splits are filled in by Prepare.
func Build(in Input, w Weights, system string, t *Templates, st *BuildStats) ([]Example, error) {
	tr := in.Trajectory
	q, src := Quality(tr)
	base := Example{TrajectoryID: tr.TrajectoryID, TaskID: tr.Task.ID, System: system, Quality: q, QualitySource: src, Reward: tr.Outcome.Reward, QualityBin: -1}
	var out []Example
	taskText, err := t.task(&tr.Task)
	if err != nil {
		return nil, fmt.Errorf("trajectory %s: %w", tr.TrajectoryID, err)
	}
	if tr.Outcome.Success {
		if c := solutionOf(tr); c != "" {
			p, err := t.samplingWith(taskText)
			if err != nil {
				return nil, fmt.Errorf("trajectory %s: sampling prompt: %w", tr.TrajectoryID, err)
			}
			e := base
			e.Kind, e.Subkind, e.Step, e.Weight, e.Prompt, e.Completion = KindSampling, SubkindSolution, -1, w.Sampling, p, c
			e.taskText = taskText
			out = append(out, e)
		} else {
			st.EmptyCompletion++
		}
		seen := map[int32]bool{}
		for _, k := range sortedSteps(in.KeySteps) {
			if seen[k] {
				continue
			}
			seen[k] = true
			if k < 0 || int(k) >= len(tr.Steps) {
				st.KeyStepOutOfRange++
				continue
			}
			s := &tr.Steps[k]
			c := s.Code
			if strings.TrimSpace(c) == "" {
				c = s.Action
			}
			if strings.TrimSpace(c) == "" {
				st.EmptyCompletion++
				continue
			}
			h, err := t.history(tr.Steps, int(k))
			if err != nil {
				return nil, fmt.Errorf("trajectory %s: key step %d: %w", tr.TrajectoryID, k, err)
			}
			p, err := t.refinementWith(taskText, h, false, false)
			if err != nil {
				return nil, fmt.Errorf("trajectory %s: key step %d: %w", tr.TrajectoryID, k, err)
			}
			e := base
			e.Kind, e.Subkind, e.Step, e.Weight, e.Prompt, e.Completion = KindRefinement, SubkindKeyStep, k, w.Refinement, p, c
			e.taskText, e.history = taskText, h
			out = append(out, e)
		}
	} else {
		info := strings.TrimSpace(tr.Outcome.ErrorInfo)
		if info == "" {
			info = strings.TrimSpace(strings.Join(in.ErrorMessages, "\n"))
		}
		if info == "" {
			st.FailedNoError++
		} else {
			h, err := t.history(tr.Steps, -1)
			if err != nil {
				return nil, fmt.Errorf("trajectory %s: %w", tr.TrajectoryID, err)
			}
			p, err := t.refinementWith(taskText, h, false, true)
			if err != nil {
				return nil, fmt.Errorf("trajectory %s: error prompt: %w", tr.TrajectoryID, err)
			}
			c, err := t.errorCompletion(info)
			if err != nil {
				return nil, fmt.Errorf("trajectory %s: error completion: %w", tr.TrajectoryID, err)
			}
			e := base
			e.Kind, e.Subkind, e.Step, e.Weight, e.Prompt, e.Completion = KindRefinement, SubkindError, -1, w.Error, p, c
			e.taskText, e.history, e.isErr = taskText, h, true
			out = append(out, e)
		}
	}
	for i := range out {
		out[i].ID = exampleID(out[i].TrajectoryID, out[i].Subkind, out[i].Step)
		out[i].Prompt = strings.ToValidUTF8(out[i].Prompt, "\uFFFD")
		out[i].Completion = strings.ToValidUTF8(out[i].Completion, "\uFFFD")
	}
	return out, nil
}

func sortedSteps(ks []int32) []int32 {
	out := slices.Clone(ks)
	slices.Sort(out)
	return out
}

// solutionOf is the solution's code, or the last action when there is
// no code.
func solutionOf(t *columnar.Trajectory) string {
	if strings.TrimSpace(t.Solution.Code) != "" {
		return t.Solution.Code
	}
	for i := len(t.Steps) - 1; i >= 0; i-- {
		if strings.TrimSpace(t.Steps[i].Action) != "" {
			return t.Steps[i].Action
		}
	}
	return ""
}

var (
	slashPassed = regexp.MustCompile(`(\d+)\s*/\s*(\d+)\s+(?:\w+\s+)?passed`)
	passedCount = regexp.MustCompile(`(\d+)\s+passed`)
	failedCount = regexp.MustCompile(`(\d+)\s+(?:failed|errors?)`)
)

// testFraction is the fraction of tests passed a test report states:
// "k/n ... passed" or pytest's "k passed, m failed".
func testFraction(obs string) (float64, bool) {
	// Every pattern needs one of these words: most observations have none.
	if !strings.Contains(obs, "passed") && !strings.Contains(obs, "failed") && !strings.Contains(obs, "error") {
		return 0, false
	}
	if m := slashPassed.FindAllStringSubmatch(obs, -1); m != nil {
		last := m[len(m)-1]
		k, _ := strconv.Atoi(last[1])
		n, _ := strconv.Atoi(last[2])
		if n > 0 && k <= n {
			return float64(k) / float64(n), true
		}
	}
	p := passedCount.FindAllStringSubmatch(obs, -1)
	f := failedCount.FindAllStringSubmatch(obs, -1)
	if p == nil && f == nil {
		return 0, false
	}
	var k, m int
	if p != nil {
		k, _ = strconv.Atoi(p[len(p)-1][1])
	}
	if f != nil {
		m, _ = strconv.Atoi(f[len(f)-1][1])
	}
	if k+m == 0 {
		return 0, false
	}
	return float64(k) / float64(k+m), true
}

// Quality is a trajectory's quality in [0, 1] and where it came from:
// the fraction of tests passed in its last test report, else its reward
// (clamped), else (a heuristic) 1 for success and 0 for failure. A
// successful trajectory whose last report says otherwise keeps the
// report's value: the report is what the tests saw.
func Quality(t *columnar.Trajectory) (float64, string) {
	for i := len(t.Steps) - 1; i >= 0; i-- {
		if f, ok := testFraction(t.Steps[i].Observation); ok {
			return f, QualityTests
		}
	}
	if t.Outcome.Reward != 0 {
		return min(max(t.Outcome.Reward, 0), 1), QualityReward
	}
	if t.Outcome.Success {
		return 1, QualitySuccess
	}
	return 0, QualitySuccess
}

// stableHash is a 64-bit hash of s, for deterministic orders and splits.
func stableHash(s string) uint64 {
	h := sha256.Sum256([]byte(s))
	return binary.BigEndian.Uint64(h[:8])
}

// SplitOf is the split of a task: validation when the task id's hash
// mod 100 is below validationPercent.
func SplitOf(taskID string, validationPercent int) string {
	if int(stableHash("split\x00"+taskID)%100) < validationPercent {
		return SplitValidation
	}
	return SplitTrain
}
