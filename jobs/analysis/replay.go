package analysis

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/atlas-ai/atlas-learn/internal/textcut"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/atlas-ai/atlas-learn/columnar"
)

// ErrNotReplayable is wrapped by replayers for trajectories they cannot
// replay (no code, no examples): such trajectories fall back to simple.
var ErrNotReplayable = errors.New("not replayable")

// Outcome is what one replay observed.
type Outcome struct {
	// Score is the fraction of the task passed, in [0, 1] (0 or 1 where
	// the environment only says success or failure).
	Score float64
	// Behavior identifies the observable behaviour (for the code replayer,
	// each example's result), so that any change is seen, not only a
	// change of score; "" when the replayer cannot tell more than Score.
	Behavior string
}

// StepOutcome is the outcome of replaying without one step.
type StepOutcome struct {
	Outcome
	// Known is false when the step was not replayed (the budget ran out).
	Known bool
}

// ReplayStats counts a Replay's work.
type ReplayStats struct {
	// Replays were run; CacheHits were answered from the cache.
	Replays, CacheHits int
}

// Replayer replays a trajectory without some of its steps.
type Replayer interface {
	// Replay returns the outcome of the whole trajectory (base) and of the
	// trajectory without each step (out[i] for step i), running at most
	// budget replays besides the base (budget <= 0: no bound). An error
	// wrapping ErrNotReplayable means the trajectory cannot be replayed.
	Replay(ctx context.Context, t *columnar.Trajectory, budget int) (base Outcome, out []StepOutcome, st ReplayStats, err error)
}

// Cache remembers outcomes by key; it must be safe for concurrent use.
type Cache interface {
	Get(key string) (Outcome, bool)
	Put(key string, o Outcome)
}

// MemCache is an in-memory Cache.
type MemCache struct {
	mu sync.Mutex
	m  map[string]Outcome
}

// NewMemCache returns an empty MemCache.
func NewMemCache() *MemCache { return &MemCache{m: map[string]Outcome{}} }

// Get looks key up.
func (c *MemCache) Get(key string) (Outcome, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	o, ok := c.m[key]
	return o, ok
}

// Put stores o under key.
func (c *MemCache) Put(key string, o Outcome) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m[key] = o
}

// Len is the number of entries.
func (c *MemCache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}

// Entries returns every entry, for persisting.
func (c *MemCache) Entries() map[string]Outcome {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]Outcome, len(c.m))
	for k, v := range c.m {
		out[k] = v
	}
	return out
}

// Runner runs a Python program with stdin in the sandbox and returns its
// standard output; an error means the program did not finish normally.
type Runner interface {
	RunPython(ctx context.Context, program string, stdin []byte) ([]byte, error)
}

//go:embed harness.py
var harness string

// CodeReplayer replays program-synthesis trajectories: it rebuilds the
// program without each step (see programOf for the convention), runs the
// distinct programs against the task's examples (task.input's
// "examples": [{"input", "output"}]) through Runner, in one sandboxed
// process per trajectory with a fresh forked child per program, and
// compares each example's result. Outcomes are cached by (program hash,
// examples hash), so identical programs (within a trajectory or across
// trajectories and runs, with a persisted cache) are run once.
type CodeReplayer struct {
	Runner Runner
	Cache  Cache
	// Entry is the function the examples call (default "solve").
	Entry string
	// Timeout bounds one program on all examples (default 2s).
	Timeout time.Duration
}

type taskExamples struct {
	Examples []struct {
		Input  json.RawMessage `json:"input"`
		Output json.RawMessage `json:"output"`
	} `json:"examples"`
}

// Replay implements Replayer.
func (r *CodeReplayer) Replay(ctx context.Context, t *columnar.Trajectory, budget int) (Outcome, []StepOutcome, ReplayStats, error) {
	var st ReplayStats
	var ex taskExamples
	if t.Task.Input == "" || json.Unmarshal([]byte(t.Task.Input), &ex) != nil || len(ex.Examples) == 0 {
		return Outcome{}, nil, st, fmt.Errorf("%w: the task has no input/output examples", ErrNotReplayable)
	}
	steps, err := programOf(ctx, t)
	if err != nil {
		return Outcome{}, nil, st, err
	}
	edits := 0
	for _, s := range steps {
		if s.kind == stepEdit {
			edits++
		}
	}
	if edits == 0 {
		return Outcome{}, nil, st, fmt.Errorf("%w: no step edits code", ErrNotReplayable)
	}
	exHash := hashOf([]byte(t.Task.Input))
	base := build(steps, nil)
	// The programs to know: the base, then each step's variant in order.
	progs := []string{base}
	variant := make([]int, len(steps)) // index into progs; -1: same as base without running
	for k, s := range steps {
		if s.kind == stepNone {
			variant[k] = 0
			continue
		}
		p := build(steps, removal(steps, k))
		found := -1
		for i, q := range progs {
			if q == p {
				found = i
				break
			}
		}
		if found < 0 {
			progs = append(progs, p)
			found = len(progs) - 1
		}
		variant[k] = found
	}
	outcomes := make([]*Outcome, len(progs))
	var run []int
	for i, p := range progs {
		// The budget counts distinct variants whether or not the cache
		// knows them, so that what is known (and so the credit) never
		// depends on what the cache holds.
		if i > 0 && budget > 0 && i > budget {
			continue // over budget: unknown
		}
		if r.Cache != nil {
			if o, ok := r.Cache.Get(r.key(p, exHash)); ok {
				outcomes[i] = &o
				st.CacheHits++
				continue
			}
		}
		run = append(run, i)
	}
	if len(run) > 0 {
		var srcs []string
		for _, i := range run {
			srcs = append(srcs, progs[i])
		}
		got, err := r.runAll(ctx, srcs, t.Task.Input, len(ex.Examples))
		if err != nil {
			return Outcome{}, nil, st, err
		}
		for j, i := range run {
			o := got[j]
			outcomes[i] = &o
			// Outcomes that depend on the machine's load (a timeout, a
			// crash) are not remembered.
			if r.Cache != nil && !strings.Contains(o.Behavior, "error:Timeout") && !strings.Contains(o.Behavior, "error:Crashed") {
				r.Cache.Put(r.key(progs[i], exHash), o)
			}
		}
		st.Replays += len(run)
	}
	if outcomes[0] == nil {
		return Outcome{}, nil, st, errors.New("the base program was not run")
	}
	out := make([]StepOutcome, len(steps))
	for k := range steps {
		if o := outcomes[variant[k]]; o != nil {
			out[k] = StepOutcome{Outcome: *o, Known: true}
		}
	}
	return *outcomes[0], out, st, nil
}

// runAll runs the programs through the harness, in one sandboxed process,
// and compares each example's result with its expected output here,
// outside the sandbox: the harness never sees the expected outputs.
func (r *CodeReplayer) runAll(ctx context.Context, programs []string, taskInput string, nExamples int) ([]Outcome, error) {
	var ex taskExamples
	if err := json.Unmarshal([]byte(taskInput), &ex); err != nil {
		return nil, fmt.Errorf("%w: task.input: %v", ErrNotReplayable, err)
	}
	inputs := make([]json.RawMessage, len(ex.Examples))
	want := make([]string, len(ex.Examples))
	for i, e := range ex.Examples {
		inputs[i] = e.Input
		if len(inputs[i]) == 0 {
			inputs[i] = json.RawMessage("null")
		}
		w, err := canonJSON(e.Output)
		if err != nil {
			return nil, fmt.Errorf("%w: task.input: example %d: output: %v", ErrNotReplayable, i, err)
		}
		want[i] = w
	}
	job, err := json.Marshal(struct {
		Entry    string            `json:"entry"`
		Timeout  float64           `json:"timeout"`
		Inputs   []json.RawMessage `json:"inputs"`
		Programs []string          `json:"programs"`
	}{r.entry(), r.timeout().Seconds(), inputs, programs})
	if err != nil {
		return nil, err
	}
	stdout, err := r.Runner.RunPython(ctx, harness, job)
	if err != nil {
		return nil, fmt.Errorf("replay: %w", err)
	}
	var out []Outcome
	sc := bufio.NewScanner(bytes.NewReader(stdout))
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	for sc.Scan() {
		var res [][2]json.RawMessage
		if err := json.Unmarshal(sc.Bytes(), &res); err != nil || len(res) != nExamples {
			return nil, fmt.Errorf("replay: the harness printed %q", truncate(sc.Text(), 200))
		}
		ok := 0
		beh := make([]string, len(res))
		for i, x := range res {
			var kind string
			if err := json.Unmarshal(x[0], &kind); err != nil {
				return nil, fmt.Errorf("replay: the harness printed %q", truncate(sc.Text(), 200))
			}
			switch kind {
			case "v":
				got, err := canonJSON(x[1])
				switch {
				case err != nil:
					beh[i] = "error:Unreadable"
				case got == want[i]:
					beh[i] = "ok"
					ok++
				default:
					beh[i] = "wrong:" + truncate(got, 200)
				}
			default:
				var name string
				_ = json.Unmarshal(x[1], &name)
				beh[i] = "error:" + truncate(name, 80)
			}
		}
		out = append(out, Outcome{Score: float64(ok) / float64(nExamples), Behavior: strings.Join(beh, "\x1f")})
	}
	if len(out) != len(programs) {
		return nil, fmt.Errorf("replay: the harness answered %d of %d programs", len(out), len(programs))
	}
	return out, nil
}

// canonJSON is the canonical text of a JSON value: numbers as float64
// (so 1 and 1.0 agree, as they do in Python), object keys sorted.
func canonJSON(raw json.RawMessage) (string, error) {
	var v any
	if len(raw) == 0 {
		raw = json.RawMessage("null")
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		return "", err
	}
	b, err := json.Marshal(v)
	return string(b), err
}

// key is a program's cache key: the program, the examples, and what else
// decides the outcome (the harness, the entry point, the time limit).
func (r *CodeReplayer) key(program, exHash string) string {
	return hashOf([]byte(program)) + ":" + exHash + ":" + hashOf([]byte(fmt.Sprintf("%s\x00%s\x00%s", harness, r.entry(), r.timeout())))
}

func (r *CodeReplayer) entry() string {
	if r.Entry == "" {
		return "solve"
	}
	return r.Entry
}

func (r *CodeReplayer) timeout() time.Duration {
	if r.Timeout <= 0 {
		return 2 * time.Second
	}
	return r.Timeout
}

func hashOf(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:16])
}

// truncate cuts s to at most n bytes, at a rune boundary, marking the cut.
func truncate(s string, n int) string { return textcut.Cut(s, n) }

// counterfactual is the counterfactual method.
func counterfactual(ctx context.Context, t *columnar.Trajectory, r Replayer, budget int) (Credit, error) {
	base, outs, st, err := r.Replay(ctx, t, budget)
	if err != nil {
		return Credit{}, err
	}
	if (base.Score == 1) != t.Outcome.Success {
		return Credit{}, fmt.Errorf("%w: the replay scores %.2f%s where the trajectory recorded success=%v", ErrNotReplayable, base.Score, behaviorSummary(base.Behavior), t.Outcome.Success)
	}
	c := Credit{Method: Counterfactual, Requested: Counterfactual, Attribution: make([]float64, len(t.Steps)), Replays: st.Replays, CacheHits: st.CacheHits}
	unknown := 0
	for k, o := range outs {
		if !o.Known {
			unknown++
			continue
		}
		d := base.Score - o.Score
		c.Attribution[k] = math.Max(-1, math.Min(1, d))
		changed := o.Score != base.Score
		if base.Behavior != "" && o.Behavior != "" {
			changed = o.Behavior != base.Behavior
		}
		if changed {
			c.KeySteps = append(c.KeySteps, k)
		}
	}
	if unknown > 0 {
		c.Fallback = fmt.Sprintf("counterfactual: the replay budget ran out; %d step(s) not replayed have no credit", unknown)
	}
	return c, nil
}

// behaviorSummary lists the distinct non-"ok" example results of a code
// replay (the exception or limit that stopped the program: Timeout,
// MemoryError, PermissionError, ...), for messages.
func behaviorSummary(b string) string {
	if b == "" {
		return ""
	}
	seen := map[string]bool{}
	var out []string
	for _, r := range strings.Split(b, "\x1f") {
		if strings.HasPrefix(r, "wrong:") {
			r = "wrong answer"
		}
		if r == "ok" || seen[r] {
			continue
		}
		seen[r] = true
		out = append(out, r)
		if len(out) == 4 {
			break
		}
	}
	if len(out) == 0 {
		return ""
	}
	return " (" + strings.Join(out, ", ") + ")"
}
