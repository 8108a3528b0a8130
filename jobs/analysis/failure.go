package analysis

import (
	"fmt"
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
	a := normSpace(s.Action)
	if a == "" && s.Code != "" {
		a = normSpace(s.Code)
	}
	return a
}

// normSpace collapses runs of white space into one space, allocating only
// when there is something to collapse.
func normSpace(s string) string {
	clean := len(s) == 0 || (s[0] != ' ' && s[len(s)-1] != ' ')
	for i := 0; clean && i < len(s); i++ {
		switch s[i] {
		case '\n', '\t', '\r', '\v', '\f':
			clean = false
		case ' ':
			clean = i+1 >= len(s) || s[i+1] != ' '
		}
	}
	if clean {
		return s
	}
	return strings.Join(strings.Fields(s), " ")
}

func excerpt(s string) string {
	return truncate(strings.Join(strings.Fields(s), " "), 160)
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

// syntaxErrors are the phrases of parse errors only: a linter's complaint
// behind an editor's "introduced new syntax error(s)" banner (an
// undefined name, say) is not one. Matched case-sensitively.
var syntaxErrors = []string{"SyntaxError", "IndentationError", "TabError", "E999", "invalid syntax", "unexpected indent", "unindent does not match"}

// findSyntaxError is the position of the first parse-error phrase in s,
// or -1.
func findSyntaxError(s string) int { return syntaxMatcher.index(s) }

// The phrase lists compiled once; matchers are read-only after.
var (
	syntaxMatcher   = newMatcher(false, syntaxErrors...)
	toolErrMatcher  = newMatcher(true, toolErrors...)
	modelErrMatcher = newMatcher(true, modelErrors...)
)

// toolErrors are the phrases of tool and environment failures, matched
// in lower case.
var toolErrors = []string{"command not found", "no such command", "permission denied", "oci runtime", "docker: ", "formaterror",
	"format error", "malformed tool call", "malformed function call", "did not match the expected format", "internalservererror",
	"apiconnectionerror", "ratelimiterror", "serviceunavailable", "command timed out", "execution timed out", "exceeded the timeout"}

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
		at := findSyntaxError(obs)
		if at < 0 && i+1 < len(t.Steps) && isRun(t.Steps[i+1]) {
			obs = t.Steps[i+1].Observation
			at = findSyntaxError(obs)
		}
		if at >= 0 {
			steps = append(steps, int32(i))
			if evidence == "" {
				evidence = "step " + strconv.Itoa(i) + ": " + excerpt(lineAround(obs, at))
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

// testCounts reads pass and fail counts from a test run's output: "k/n
// [examples |tests ]passed" (the last one), else pytest's summary ("3
// failed, 10 passed, 1 error"), else unittest's ("Ran 5 tests" and
// "FAILED (failures=2, errors=1)"). Hand-written: it runs on every test
// observation, where regular expressions cost more than the rest of the
// analysis.
func testCounts(obs string) (passed, failed int, ok bool) {
	if i := strings.LastIndex(obs, " passed"); i >= 0 {
		// k/n [examples |tests ]passed
		head := obs[:i]
		head = strings.TrimSuffix(strings.TrimSuffix(head, " examples"), " tests")
		if n, rest, ok1 := trailingInt(head); ok1 && strings.HasSuffix(rest, "/") {
			if k, _, ok2 := trailingInt(rest[:len(rest)-1]); ok2 && k <= n {
				return k, n - k, true
			}
		}
	}
	found := false
	for _, w := range []string{" passed", " failed", " errors", " error"} {
		for off := 0; ; {
			j := strings.Index(obs[off:], w)
			if j < 0 {
				break
			}
			j += off
			off = j + len(w)
			if w == " error" && strings.HasPrefix(obs[off:], "s") {
				continue // counted as " errors"
			}
			if off < len(obs) && isWordByte(obs[off]) {
				continue
			}
			if n, _, ok := trailingInt(obs[:j]); ok {
				found = true
				if w == " passed" {
					passed += n
				} else {
					failed += n
				}
			}
		}
	}
	if found {
		return passed, failed, true
	}
	if i := strings.Index(obs, "Ran "); i >= 0 {
		if total, ok := leadingInt(obs[i+4:]); ok && strings.HasPrefix(strings.TrimLeft(obs[i+4:], "0123456789"), " test") {
			if j := strings.Index(obs, "FAILED ("); j >= 0 {
				for _, k := range []string{"failures=", "errors="} {
					if x := strings.Index(obs[j:], k); x >= 0 {
						n, _ := leadingInt(obs[j+x+len(k):])
						failed += n
					}
				}
			}
			return total - failed, failed, true
		}
	}
	return 0, 0, false
}

func isWordByte(c byte) bool {
	return c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// trailingInt parses the decimal number that s ends with.
func trailingInt(s string) (n int, rest string, ok bool) {
	i := len(s)
	for i > 0 && s[i-1] >= '0' && s[i-1] <= '9' {
		i--
	}
	if i == len(s) || len(s)-i > 9 {
		return 0, s, false
	}
	n, _ = strconv.Atoi(s[i:])
	return n, s[:i], true
}

// leadingInt parses the decimal number s starts with.
func leadingInt(s string) (int, bool) {
	i := 0
	for i < len(s) && i < 9 && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i == 0 {
		return 0, false
	}
	n, _ := strconv.Atoi(s[:i])
	return n, true
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

// budgetStatuses are the exit statuses (in lower case) of runs stopped
// by a limit. (mini-swe-agent's "Timeout" is the model client's
// exception, a tool error, not a budget.)
var budgetStatuses = newMatcher(true, "exit_cost", "exit_context", "exit_total_execution_time", "context window", "context_window",
	"context length", "cost limit", "limitsexceeded", "limits exceeded", "limit exceeded", "max steps", "maximum steps",
	"max iterations", "maximum iterations", "max tokens", "maximum tokens", "step limit", "token limit")

func detectBudget(t *columnar.Trajectory) *FailureMode {
	st := t.Outcome.ExitStatus
	if st == "" || budgetStatuses.index(st) < 0 {
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

// modelErrors are the phrases of a failed model call in the exit status
// or error information (litellm's and the OpenAI client's exceptions),
// in lower case; an exit status of exactly "timeout" is one too.
var modelErrors = []string{"litellm", "internalservererror", "apiconnectionerror", "apierror", "ratelimiterror", "serviceunavailable",
	"timeout error", "connection timed out"}

func detectToolError(t *columnar.Trajectory) *FailureMode {
	var steps []int32
	var evidence string
	for i, s := range t.Steps {
		// Views, searches and edits show files, whose text may say anything;
		// tool failures are answers to commands and tool calls.
		switch s.ActionType {
		case "view", "search", "edit", "submit", "think":
			continue
		}
		if at := toolErrMatcher.index(s.Observation); at >= 0 {
			steps = append(steps, int32(i))
			if evidence == "" {
				evidence = "step " + strconv.Itoa(i) + ": " + excerpt(lineAround(s.Observation, at))
			}
		}
	}
	st := t.Outcome.ExitStatus
	if len(steps) == 0 && (strings.EqualFold(st, "timeout") || modelErrMatcher.index(st) >= 0 || modelErrMatcher.index(t.Outcome.ErrorInfo) >= 0) {
		evidence = "exit status " + strconv.Quote(st)
		steps = []int32{}
	} else if len(steps) == 0 {
		return nil
	}
	return &FailureMode{Mode: ModeToolError, Steps: steps, Evidence: evidence}
}
