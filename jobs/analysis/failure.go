package analysis

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/atlas-ai/atlas-learn/columnar"
)

// Failure modes of agent runs, detected from the steps and the outcome.
const (
	// ModeLoop: the same action three or more times in a row, or two
	// actions alternating four or more times, without progress.
	ModeLoop = "loop"
	// ModeBrokenEdit: an edit that leaves the code failing to parse.
	ModeBrokenEdit = "broken_edit"
	// ModeTestRegression: after an edit, a test run with fewer passes or
	// more failures than the run before it.
	ModeTestRegression = "test_regression"
	// ModeBudgetExhausted: the run ended on a cost, token, step, context
	// or time limit.
	ModeBudgetExhausted = "budget_exhausted"
	// ModeSubmitWithoutRunning: a submission with no code, test or command
	// run before it.
	ModeSubmitWithoutRunning = "submit_without_running"
	// ModeToolError: a tool or environment failure rather than the
	// agent's logic: a command not found, a rejected tool call, a model
	// server error, a command that timed out.
	ModeToolError = "tool_error"
)

// FailureMode is one detected failure mode: its name, the steps that show
// it and the evidence (an excerpt of the action or observation).
type FailureMode struct {
	Mode     string  `parquet:"mode" json:"mode"`
	Steps    []int32 `parquet:"steps,list" json:"steps"`
	Evidence string  `parquet:"evidence" json:"evidence"`
}

// DetectFailureModes finds the failure modes of t, in the order of the
// constants above, each at most once (with all its steps).
func DetectFailureModes(t *columnar.Trajectory) []FailureMode {
	var out []FailureMode
	for _, d := range []func(*columnar.Trajectory) *FailureMode{detectLoop, detectBrokenEdit, detectTestRegression, detectBudget, detectSubmitWithoutRunning, detectToolError} {
		if m := d(t); m != nil {
			out = append(out, *m)
		}
	}
	return out
}

func normAction(s columnar.Step) string {
	a := strings.Join(strings.Fields(s.Action), " ")
	if a == "" && s.Code != "" {
		a = strings.Join(strings.Fields(s.Code), " ")
	}
	return a
}

func excerpt(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 160 {
		return s[:160] + "…"
	}
	return s
}

func detectLoop(t *columnar.Trajectory) *FailureMode {
	acts := make([]string, len(t.Steps))
	for i, s := range t.Steps {
		acts[i] = normAction(s)
	}
	seen := map[int]bool{}
	var steps []int32
	var evidence string
	add := func(lo, hi int, ev string) {
		for i := lo; i < hi; i++ {
			if !seen[i] {
				seen[i] = true
				steps = append(steps, int32(i))
			}
		}
		if evidence == "" {
			evidence = ev
		}
	}
	// Runs of one action.
	for i := 0; i < len(acts); {
		j := i
		for j < len(acts) && acts[j] != "" && acts[j] == acts[i] {
			j++
		}
		if j-i >= 3 {
			add(i, j, fmt.Sprintf("%q %d times in a row", excerpt(acts[i]), j-i))
		}
		if j == i {
			j++
		}
		i = j
	}
	// Two actions alternating: A B A B ...
	for i := 0; i+3 < len(acts); {
		a, b := acts[i], acts[i+1]
		if a == "" || b == "" || a == b {
			i++
			continue
		}
		j := i + 2
		for j < len(acts) && acts[j] == acts[j-2] {
			j++
		}
		if j-i >= 4 {
			add(i, j, fmt.Sprintf("%q and %q alternate %d times", excerpt(a), excerpt(b), j-i))
			i = j
			continue
		}
		i++
	}
	if len(steps) == 0 {
		return nil
	}
	slices.Sort(steps)
	return &FailureMode{Mode: ModeLoop, Steps: steps, Evidence: evidence}
}

// syntaxRE matches parse errors only: a linter's complaint behind an
// editor's "introduced new syntax error(s)" banner (an undefined name,
// say) is not one.
var syntaxRE = regexp.MustCompile(`(SyntaxError|IndentationError|TabError|E999|invalid syntax|unexpected indent|unindent does not match)`)

func isEdit(s columnar.Step) bool {
	return s.ActionType == "edit"
}

func detectBrokenEdit(t *columnar.Trajectory) *FailureMode {
	var steps []int32
	var evidence string
	for i, s := range t.Steps {
		if !isEdit(s) {
			continue
		}
		obs := s.Observation
		// The edit's own answer, or the next run right after it.
		if !syntaxRE.MatchString(obs) && i+1 < len(t.Steps) && isRun(t.Steps[i+1]) {
			obs = t.Steps[i+1].Observation
		}
		if m := syntaxRE.FindStringIndex(obs); m != nil {
			steps = append(steps, int32(i))
			if evidence == "" {
				evidence = "step " + strconv.Itoa(i) + ": " + excerpt(lineAround(obs, m[0]))
			}
		}
	}
	if len(steps) == 0 {
		return nil
	}
	return &FailureMode{Mode: ModeBrokenEdit, Steps: steps, Evidence: evidence}
}

func lineAround(s string, at int) string {
	lo := strings.LastIndexByte(s[:at], '\n') + 1
	hi := strings.IndexByte(s[at:], '\n')
	if hi < 0 {
		return s[lo:]
	}
	return s[lo : at+hi]
}

// isRun tells steps that execute code: tests, Python, shell commands,
// exploratory runs.
func isRun(s columnar.Step) bool {
	switch s.ActionType {
	case "test", "python", "bash", "explore":
		return true
	}
	return false
}

// testCounts reads pass and fail counts from a test run's output: pytest's
// summary ("3 failed, 10 passed"), unittest's ("Ran 5 tests", "FAILED
// (failures=2)"), and "k/n examples passed".
var (
	pytestRE   = regexp.MustCompile(`(\d+) (passed|failed|error|errors)\b`)
	fractionRE = regexp.MustCompile(`(\d+)/(\d+) (?:examples |tests )?passed`)
	unittestRE = regexp.MustCompile(`Ran (\d+) tests?`)
	utFailRE   = regexp.MustCompile(`FAILED \((?:failures=(\d+))?(?:, )?(?:errors=(\d+))?\)`)
)

func testCounts(obs string) (passed, failed int, ok bool) {
	if m := fractionRE.FindAllStringSubmatch(obs, -1); m != nil {
		last := m[len(m)-1]
		p, _ := strconv.Atoi(last[1])
		n, _ := strconv.Atoi(last[2])
		return p, n - p, true
	}
	if m := pytestRE.FindAllStringSubmatch(obs, -1); m != nil {
		for _, x := range m {
			n, _ := strconv.Atoi(x[1])
			if x[2] == "passed" {
				passed += n
			} else {
				failed += n
			}
		}
		return passed, failed, true
	}
	if m := unittestRE.FindStringSubmatch(obs); m != nil {
		total, _ := strconv.Atoi(m[1])
		if f := utFailRE.FindStringSubmatch(obs); f != nil {
			a, _ := strconv.Atoi(f[1])
			b, _ := strconv.Atoi(f[2])
			failed = a + b
		}
		return total - failed, failed, true
	}
	return 0, 0, false
}

func detectTestRegression(t *columnar.Trajectory) *FailureMode {
	var steps []int32
	var evidence string
	havePrev := false
	var prevPass, prevFail int
	editedSince := false
	for i, s := range t.Steps {
		if isEdit(s) || s.Action == "revert" {
			editedSince = true
			continue
		}
		if !isRun(s) {
			continue
		}
		p, f, ok := testCounts(s.Observation)
		if !ok {
			continue
		}
		if havePrev && editedSince && (p < prevPass || f > prevFail) {
			steps = append(steps, int32(i))
			if evidence == "" {
				evidence = fmt.Sprintf("step %d: %d passed, %d failed after %d passed, %d failed", i, p, f, prevPass, prevFail)
			}
		}
		havePrev, prevPass, prevFail, editedSince = true, p, f, false
	}
	if len(steps) == 0 {
		return nil
	}
	return &FailureMode{Mode: ModeTestRegression, Steps: steps, Evidence: evidence}
}

// budgetRE matches the exit statuses of runs stopped by a limit.
// (mini-swe-agent's "Timeout" is the model client's exception, a tool
// error, not a budget.)
var budgetRE = regexp.MustCompile(`(?i)(exit_cost|exit_context|exit_total_execution_time|context.?window|cost limit|limitsexceeded|limits? exceeded|max(imum)? (steps|iterations|tokens)|step limit|token limit)`)

func detectBudget(t *columnar.Trajectory) *FailureMode {
	st := t.Outcome.ExitStatus
	if !budgetRE.MatchString(st) {
		return nil
	}
	m := &FailureMode{Mode: ModeBudgetExhausted, Steps: []int32{}, Evidence: "exit status " + strconv.Quote(st)}
	if n := len(t.Steps); n > 0 {
		m.Steps = []int32{int32(n - 1)}
	}
	return m
}

// trivial are shell commands that run nothing of the task's.
var trivial = map[string]bool{"echo": true, "printf": true, "cd": true, "ls": true, "cat": true, "pwd": true, "export": true,
	"mkdir": true, "touch": true, "true": true, ":": true, "head": true, "tail": true, "which": true, "env": true}

// runsCode tells steps that run the task's code, tests or a program.
func runsCode(s columnar.Step) bool {
	if s.ActionType != "bash" {
		return isRun(s)
	}
	f := strings.Fields(s.Action)
	return len(f) > 0 && !trivial[f[0]]
}

func detectSubmitWithoutRunning(t *columnar.Trajectory) *FailureMode {
	for i, s := range t.Steps {
		if runsCode(s) {
			return nil
		}
		if s.ActionType == "submit" {
			return &FailureMode{Mode: ModeSubmitWithoutRunning, Steps: []int32{int32(i)}, Evidence: fmt.Sprintf("step %d submits; no step before it runs code or tests", i)}
		}
	}
	return nil
}

var toolErrRE = regexp.MustCompile(`(?i)(command not found|no such command|permission denied|OCI runtime|docker: |FormatError|format error|malformed (?:tool|function) call|did not match the expected format|InternalServerError|APIConnectionError|RateLimitError|ServiceUnavailable|command timed out|execution timed out|timed out after \d+|exceeded the timeout)`)

// modelErrRE matches a failed model call in the exit status or error
// information (litellm's and the OpenAI client's exceptions).
var modelErrRE = regexp.MustCompile(`(?i)(litellm|InternalServerError|APIConnectionError|APIError|RateLimitError|ServiceUnavailable|Timeout Error|Connection timed out|^timeout$)`)

func detectToolError(t *columnar.Trajectory) *FailureMode {
	var steps []int32
	var evidence string
	for i, s := range t.Steps {
		if loc := toolErrRE.FindStringIndex(s.Observation); loc != nil {
			steps = append(steps, int32(i))
			if evidence == "" {
				evidence = "step " + strconv.Itoa(i) + ": " + excerpt(lineAround(s.Observation, loc[0]))
			}
		}
	}
	if st := t.Outcome.ExitStatus; len(steps) == 0 && (modelErrRE.MatchString(st) || modelErrRE.MatchString(t.Outcome.ErrorInfo)) {
		evidence = "exit status " + strconv.Quote(st)
		steps = []int32{}
	} else if len(steps) == 0 {
		return nil
	}
	return &FailureMode{Mode: ModeToolError, Steps: steps, Evidence: evidence}
}
