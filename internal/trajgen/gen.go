// Package trajgen generates realistic, deterministic program-synthesis
// trajectories at any scale, with ground truth for credit assignment.
//
// Each trajectory is an agent solving a small programming task (list,
// string, grid or math) given input/output examples. The agent writes
// helper functions from a shared vocabulary (filter_by, chunk, transpose,
// run_length, ...; parameter and local names vary between trajectories),
// writes solve(x), runs the examples, and sometimes writes a bug, explores,
// tries and reverts a change, or fixes the bug. Every observation is the
// exact output the code would produce under HarnessProgram, computed by a
// Go simulation of the code (generation never runs Python); the package
// tests check this against real Python through internal/sandbox.
//
// Trajectory i depends only on Config.Seed and i, so data sets can be
// generated in shards (Generator.One, Generator.Range) and come out the
// same whatever the split.
//
// Ground truth lives in the trajectory's Extra as
//
//	{"gen": {"template": ..., "domain": ..., "helpers": [...], "bug": ...,
//	         "bug_note": ..., "bug_step": n, "fixed_bug": ..., "fix_step": n,
//	         "key_steps": [...], "distractor_steps": [...]}}
//
// where key_steps are the steps whose code is part of the final program
// and is reached from solve (the steps that truly matter for the outcome),
// bug_step is the step that wrote the bug of a failed trajectory, fix_step
// the step that fixed the bug of a repaired one, and distractor_steps the
// steps that could be removed without changing the outcome.
package trajgen

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/atlas-ai/atlas-learn/columnar"
)

// Generator produces the trajectories of one Config.
type Generator struct {
	cfg Config
}

// New returns a Generator for cfg, which must be valid.
func New(cfg Config) (*Generator, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Generator{cfg: cfg.withDefaults()}, nil
}

// Generate streams trajectories 0..cfg.N-1 to emit, in order, holding one
// at a time. It stops at the first error of emit or of ctx.
func Generate(ctx context.Context, cfg Config, emit func(columnar.Trajectory) error) error {
	g, err := New(cfg)
	if err != nil {
		return err
	}
	return g.Range(ctx, 0, cfg.N, emit)
}

// Range streams trajectories lo..hi-1 to emit, in order.
func (g *Generator) Range(ctx context.Context, lo, hi int, emit func(columnar.Trajectory) error) error {
	if lo < 0 || hi < lo {
		return fmt.Errorf("trajgen: bad range [%d, %d)", lo, hi)
	}
	for i := lo; i < hi; i++ {
		if (i-lo)&255 == 0 {
			if err := ctx.Err(); err != nil {
				return fmt.Errorf("trajgen: generating trajectory %d: %w", i, err)
			}
		}
		if err := emit(g.One(i)); err != nil {
			return fmt.Errorf("trajgen: emitting trajectory %d: %w", i, err)
		}
	}
	return nil
}

// splitmix64 scrambles an index into a well-mixed stream selector.
func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// rngFor returns the random source of trajectory i.
func (g *Generator) rngFor(i int) *rand.Rand {
	return rand.New(rand.NewPCG(splitmix64(uint64(g.cfg.Seed)), splitmix64(uint64(i)^0x5851f42d4c957f2d)))
}

// example is one input/output pair of a task.
type example struct {
	input, output any
}

// maxExampleDraws bounds how often examples are redrawn to make a chosen
// bug show.
const maxExampleDraws = 6

// One returns trajectory i.
func (g *Generator) One(i int) columnar.Trajectory {
	t, _ := g.one(i, false)
	return t
}

func (g *Generator) one(i int, record bool) (columnar.Trajectory, []recordedRun) {
	r := g.rngFor(i)
	t := &templates[r.IntN(len(templates))]
	p := t.params(r)
	b := &build{r: r, t: t, p: p, record: record}
	b.steps = make([]columnar.Step, 0, 8)
	b.hv = make([]helperSlots, 0, 4)
	pickNames(r, solveSlots, &b.sv)
	t.slots(p, &b.sv)

	wantFail := r.Float64() < g.cfg.FailureRate
	wantFix := !wantFail && r.Float64() < g.cfg.FixRate
	var chosen *bug
	for draw := 0; draw < maxExampleDraws; draw++ {
		b.drawExamples()
		if !wantFail && !wantFix {
			break
		}
		if chosen = b.failingBug(); chosen != nil {
			break
		}
	}
	if chosen == nil {
		wantFail, wantFix = false, false
	}
	b.narrate(chosen, wantFail, g.cfg.DistractorRate)
	return b.trajectory(g.cfg, i), b.runs
}

// build accumulates one trajectory.
type build struct {
	r     *rand.Rand
	t     *template
	p     []int
	sv    slotVals
	hv    []helperSlots    // names of the helpers met so far
	hvIdx [numHelpers]int8 // 1 + index into hv; 0 for none

	examples []example

	// program state
	order   []helperID
	defined uint32
	buggy   uint32
	solve   *variant

	// writer[u] is the step that wrote unit u's current version; unit
	// numHelpers is solve.
	writer [numHelpers + 1]int

	steps       []columnar.Step
	distractors []int
	finalBug    *bug
	bugStep     int
	fixedBug    *bug
	fixStep     int
	lastRun     runResult

	// record, for tests, keeps the program behind every run step.
	record bool
	runs   []recordedRun
}

// recordedRun is a run step's program and observation, kept for tests.
type recordedRun struct {
	step                 int
	program, observation string
}

const solveUnit = numHelpers

func (b *build) drawExamples() {
	n := between(b.r, 3, 5)
	b.examples = b.examples[:0]
	for range n {
		x := b.t.input(b.r, b.p)
		e := env{}
		b.examples = append(b.examples, example{input: x, output: b.t.solve.sim(&e, b.p, x)})
	}
}

// failingBug returns, in random order of trial, the first bug of the
// template that makes at least one example fail.
func (b *build) failingBug() *bug {
	bugs := b.t.bugs
	start := b.r.IntN(len(bugs))
	for k := range bugs {
		bg := &bugs[(start+k)%len(bugs)]
		v, buggy := &b.t.solve, uint32(0)
		if bg.solve != nil {
			v = bg.solve
		} else {
			buggy = 1 << uint(bg.helper)
		}
		for _, ex := range b.examples {
			got, perr := b.call(v, buggy, ex.input)
			if perr != nil || !pyEqual(got, ex.output) {
				return bg
			}
		}
	}
	return nil
}

// call simulates solve on x.
func (b *build) call(v *variant, buggy uint32, x any) (got any, perr *pyErr) {
	e := env{buggy: buggy}
	defer func() {
		if rec := recover(); rec != nil {
			pe, ok := rec.(*pyErr)
			if !ok {
				panic(rec)
			}
			pe2 := *pe
			pe2.solveLine = e.line
			perr = &pe2
		}
	}()
	return v.sim(&e, b.p, x), nil
}

func (b *build) names(h helperID) *helperSlots {
	if b.hvIdx[h] == 0 {
		b.hv = append(b.hv, helperSlots{})
		pickHelperNames(b.r, helperDefs[h].slots, &b.hv[len(b.hv)-1])
		b.hvIdx[h] = int8(len(b.hv))
	}
	return &b.hv[b.hvIdx[h]-1]
}

func (b *build) pick(options []string) string { return options[b.r.IntN(len(options))] }

func (b *build) addStep(s columnar.Step) int {
	s.Index = int32(len(b.steps))
	b.steps = append(b.steps, s)
	return int(s.Index)
}

// helperText renders helper h in its current (correct or buggy) form.
func (b *build) helperText(sb *strings.Builder, h helperID, buggy bool) {
	lines := helperDefs[h].lines
	if buggy {
		lines = helperDefs[h].bugLines
	}
	s := b.names(h)
	for i, l := range lines {
		if i > 0 {
			sb.WriteByte('\n')
		}
		render(sb, l, s)
	}
	sb.WriteByte('\n')
}

func (b *build) solveText(sb *strings.Builder, v *variant) {
	sb.WriteString("def solve(x):\n")
	for _, l := range v.lines {
		sb.WriteString("    ")
		render(sb, l, &b.sv)
		sb.WriteByte('\n')
	}
}

// program renders the current program, and the first line of each unit.
func (b *build) program() (string, [numHelpers + 1]int) {
	var starts [numHelpers + 1]int
	var sb strings.Builder
	sb.Grow(640)
	line := 1
	for _, h := range b.order {
		starts[h] = line
		b.helperText(&sb, h, b.buggy&(1<<uint(h)) != 0)
		sb.WriteString("\n\n")
		line += len(helperDefs[h].lines) + 2
	}
	starts[solveUnit] = line
	if b.solve != nil {
		b.solveText(&sb, b.solve)
	}
	return sb.String(), starts
}

// starts returns the first line of each unit of the current program.
func (b *build) starts() [numHelpers + 1]int {
	var starts [numHelpers + 1]int
	line := 1
	for _, h := range b.order {
		starts[h] = line
		line += len(helperDefs[h].lines) + 2
	}
	starts[solveUnit] = line
	return starts
}

// defineHelpers adds the helpers of hs not yet defined, in their correct
// form unless buggy names one; it returns the ones it wrote.
func (b *build) defineHelpers(hs []helperID, buggy helperID, step int) []helperID {
	var wrote []helperID
	for _, h := range hs {
		bit := uint32(1) << uint(h)
		if b.defined&bit != 0 {
			continue
		}
		b.defined |= bit
		b.order = append(b.order, h)
		if h == buggy {
			b.buggy |= bit
		}
		b.writer[h] = step
		wrote = append(wrote, h)
	}
	return wrote
}

func listHelpers(hs []helperID) string {
	var sb strings.Builder
	for i, h := range hs {
		if i > 0 {
			if i == len(hs)-1 {
				sb.WriteString(" and ")
			} else {
				sb.WriteString(", ")
			}
		}
		sb.WriteString(helperDefs[h].name)
	}
	return sb.String()
}

// narrate builds the steps. chosen is the bug written first (nil for a
// clean run); fail says whether it stays unfixed.
func (b *build) narrate(chosen *bug, fail bool, distractorRate float64) {
	if b.r.Float64() < distractorRate {
		b.exploreStep()
	}
	first := &b.t.solve
	buggyHelper := helperID(-1)
	if chosen != nil {
		if chosen.solve != nil {
			first = chosen.solve
		} else {
			buggyHelper = chosen.helper
		}
	}
	// Helpers: all in one step, or one step each.
	hs := first.helpers
	if len(hs) > 1 && b.r.IntN(2) == 0 {
		for _, h := range hs {
			b.writeHelpersStep([]helperID{h}, buggyHelper)
		}
	} else {
		b.writeHelpersStep(hs, buggyHelper)
	}
	solveStep := b.writeSolveStep(first)
	bugStep := solveStep
	if buggyHelper >= 0 {
		bugStep = b.writer[buggyHelper]
	}
	b.runStep(b.pick([]string{"Run the examples.", "Let me run the tests.", "Check the solution against the examples."}))

	switch {
	case chosen == nil:
		b.maybeAttempt(distractorRate)
	case fail:
		b.finalBug, b.bugStep = chosen, bugStep
		b.maybeAttempt(distractorRate)
	default:
		b.fixStep = b.fixStepFor(chosen)
		b.fixedBug = chosen
		b.runStep(b.pick([]string{"Run the examples again.", "Re-run the tests.", "Check the fix."}))
		b.maybeAttempt(distractorRate / 2)
	}
}

func (b *build) exploreStep() {
	x := b.examples[0].input
	var code, obs strings.Builder
	code.WriteString("x = ")
	pyRepr(&code, x)
	code.WriteByte('\n')
	kind := "int"
	switch x := x.(type) {
	case string:
		kind = "string"
	case []any:
		kind = "list"
		if _, ok := x[0].([]any); ok {
			kind = "grid"
		}
	}
	switch kind {
	case "list":
		xs := x.([]any)
		code.WriteString("print(len(x), min(x), max(x))\n")
		obs.WriteString(strconv.Itoa(len(xs)) + " " + strconv.Itoa(minInts(xs)) + " " + strconv.Itoa(maxInts(xs)) + "\n")
	case "string":
		code.WriteString("print(len(x), x.split())\n")
		obs.WriteString(strconv.Itoa(len(x.(string))) + " ")
		pyRepr(&obs, words(x.(string)))
		obs.WriteByte('\n')
	case "grid":
		g := x.([]any)
		code.WriteString("print(len(x), 'x', len(x[0]))\n")
		obs.WriteString(strconv.Itoa(len(g)) + " x " + strconv.Itoa(len(g[0].([]any))) + "\n")
	default:
		code.WriteString("print(type(x).__name__, x)\n")
		obs.WriteString("int " + strconv.Itoa(x.(int)) + "\n")
	}
	i := b.addStep(columnar.Step{
		Thought: b.pick([]string{
			"Let me look at the first example input before writing anything.",
			"First, inspect what an input looks like.",
			"Check the shape of the input.",
		}),
		Action:      "run_code",
		ActionType:  "explore",
		Code:        code.String(),
		Observation: obs.String(),
	})
	b.distractors = append(b.distractors, i)
}

func (b *build) writeHelpersStep(hs []helperID, buggy helperID) {
	step := len(b.steps)
	wrote := b.defineHelpers(hs, buggy, step)
	if len(wrote) == 0 {
		return
	}
	var code, th strings.Builder
	for i, h := range wrote {
		if i > 0 {
			code.WriteString("\n\n")
		}
		b.helperText(&code, h, b.buggy&(1<<uint(h)) != 0)
	}
	if len(wrote) == 1 {
		th.WriteString(b.pick([]string{"I need a helper ", "First a helper: ", "Write "}))
		th.WriteString(helperDefs[wrote[0]].name)
		th.WriteString(", which ")
		th.WriteString(helperDocs[wrote[0]])
		th.WriteByte('.')
	} else {
		th.WriteString(b.pick([]string{"Start with the helpers: ", "I'll write the helpers first: "}))
		for i, h := range wrote {
			if i > 0 {
				th.WriteString("; ")
			}
			th.WriteString(helperDefs[h].name)
			th.WriteByte(' ')
			th.WriteString(helperDocs[h])
		}
		th.WriteByte('.')
	}
	b.addStep(columnar.Step{
		Thought:     th.String(),
		Action:      "write_code",
		ActionType:  "edit",
		Code:        code.String(),
		Observation: "defined " + listHelpers(wrote),
	})
}

func (b *build) writeSolveStep(v *variant) int {
	var code strings.Builder
	b.solveText(&code, v)
	b.solve = v
	i := b.addStep(columnar.Step{
		Thought:     b.pick([]string{"Now solve: ", "With the helpers in place, solve can ", "The plan for solve: "}) + b.t.plan + ".",
		Action:      "write_code",
		ActionType:  "edit",
		Code:        code.String(),
		Observation: "defined solve",
	})
	b.writer[solveUnit] = i
	return i
}

// fixStepFor writes the correction of bg and returns its step.
func (b *build) fixStepFor(bg *bug) int {
	step := len(b.steps)
	var code strings.Builder
	var what string
	if bg.solve == nil {
		h := bg.helper
		b.buggy &^= 1 << uint(h)
		b.writer[h] = step
		b.helperText(&code, h, false)
		what = helperDefs[h].name
	} else {
		wrote := b.defineHelpers(b.t.solve.helpers, -1, step)
		for _, h := range wrote {
			b.helperText(&code, h, false)
			code.WriteString("\n\n")
		}
		b.solveText(&code, &b.t.solve)
		b.solve = &b.t.solve
		b.writer[solveUnit] = step
		what = "solve"
		if len(wrote) > 0 {
			what = listHelpers(wrote) + " and solve"
		}
	}
	b.addStep(columnar.Step{
		Thought:     b.pick([]string{"The failure shows that ", "Looking at the output: ", "Found it: "}) + bg.note + ". Fix " + what + ".",
		Action:      "fix",
		ActionType:  "edit",
		Code:        code.String(),
		Observation: "redefined " + what,
	})
	return step
}

// maybeAttempt adds, with probability rate, a change that is tried, seen to
// make things worse, and reverted: distractor steps.
func (b *build) maybeAttempt(rate float64) {
	if b.r.Float64() >= rate {
		return
	}
	bugs := b.t.bugs
	bg := &bugs[b.r.IntN(len(bugs))]
	if bg == b.finalBug || bg == b.fixedBug {
		return
	}
	// Only a change to a unit that exists, needing no new helper.
	if bg.solve == nil {
		if b.defined&(1<<uint(bg.helper)) == 0 || b.buggy&(1<<uint(bg.helper)) != 0 {
			return
		}
	} else {
		if bg.solve == b.solve {
			return
		}
		for _, h := range bg.solve.helpers {
			if b.defined&(1<<uint(h)) == 0 {
				return
			}
		}
	}
	before := b.lastRun
	savedBuggy, savedSolve, savedWriter := b.buggy, b.solve, b.writer
	step := len(b.steps)
	var code strings.Builder
	var what string
	if bg.solve == nil {
		b.buggy |= 1 << uint(bg.helper)
		b.writer[bg.helper] = step
		b.helperText(&code, bg.helper, true)
		what = helperDefs[bg.helper].name
	} else {
		b.solve = bg.solve
		b.writer[solveUnit] = step
		b.solveText(&code, bg.solve)
		what = "solve"
	}
	a := b.addStep(columnar.Step{
		Thought:     b.pick([]string{"Maybe " + what + " can be written more simply; let me try a variant.", "Try an alternative version of " + what + "."}),
		Action:      "write_code",
		ActionType:  "edit",
		Code:        code.String(),
		Observation: "redefined " + what,
	})
	run := b.runStep("Run the examples with the new version.")
	after := b.lastRun
	b.buggy, b.solve, b.writer = savedBuggy, savedSolve, savedWriter
	verdict := "That did not help (" + strconv.Itoa(after.passed) + "/" + strconv.Itoa(after.total) + " examples pass); revert "
	if after.passed == after.total {
		verdict = "It passes too, but the previous version was clearer; revert "
	}
	rev := b.addStep(columnar.Step{
		Thought:     verdict + what + " to the previous version.",
		Action:      "revert",
		ActionType:  "edit",
		Observation: "reverted " + what,
	})
	b.distractors = append(b.distractors, a, run, rev)
	b.lastRun = before
	rerun := b.runStep("Run the examples again after the revert.")
	b.distractors = append(b.distractors, rerun)
}

// runResult is what HarnessProgram prints for the current program.
type runResult struct {
	output        string
	passed, total int
	firstFailure  string // the lines about the first failing example
	errored       bool   // the first failing example raised
}

// run simulates HarnessProgram on the current program.
func (b *build) run() runResult {
	starts := b.starts()
	var out strings.Builder
	out.Grow(32 * len(b.examples))
	res := runResult{total: len(b.examples)}
	for i, ex := range b.examples {
		mark := out.Len()
		got, perr := b.call(b.solve, b.buggy, ex.input)
		idx := strconv.Itoa(i)
		switch {
		case perr != nil:
			out.WriteString("example " + idx + ": error\n")
			b.writeTraceback(&out, perr, starts)
		case pyEqual(got, ex.output):
			out.WriteString("example " + idx + ": ok\n")
			res.passed++
			continue
		default:
			out.WriteString("example " + idx + ": expected ")
			pyRepr(&out, ex.output)
			out.WriteString(", got ")
			pyRepr(&out, got)
			out.WriteByte('\n')
		}
		if res.firstFailure == "" {
			res.firstFailure = strings.TrimSuffix(out.String()[mark:], "\n")
			res.errored = perr != nil
		}
	}
	out.WriteString(strconv.Itoa(res.passed) + "/" + strconv.Itoa(res.total) + " examples passed\n")
	res.output = out.String()
	return res
}

func (b *build) writeTraceback(out *strings.Builder, pe *pyErr, starts [numHelpers + 1]int) {
	out.WriteString("Traceback (most recent call last):\n")
	out.WriteString(`  File "main.py", line `)
	out.WriteString(strconv.Itoa(starts[solveUnit] + 1 + pe.solveLine))
	out.WriteString(", in solve\n    ")
	render(out, b.solve.lines[pe.solveLine], &b.sv)
	out.WriteByte('\n')
	if pe.helper >= 0 {
		lines := helperDefs[pe.helper].lines
		if b.buggy&(1<<uint(pe.helper)) != 0 {
			lines = helperDefs[pe.helper].bugLines
		}
		out.WriteString(`  File "main.py", line `)
		out.WriteString(strconv.Itoa(starts[pe.helper] + pe.hline))
		out.WriteString(", in ")
		out.WriteString(helperDefs[pe.helper].name)
		out.WriteString("\n    ")
		render(out, strings.TrimSpace(lines[pe.hline]), b.names(pe.helper))
		out.WriteByte('\n')
	}
	out.WriteString(pe.typ)
	out.WriteString(": ")
	out.WriteString(pe.msg)
	out.WriteByte('\n')
}

func (b *build) runStep(thought string) int {
	res := b.run()
	b.lastRun = res
	i := b.addStep(columnar.Step{
		Thought:     thought,
		Action:      "run_tests",
		ActionType:  "test",
		Observation: res.output,
		IsError:     res.passed < res.total,
	})
	if b.record {
		prog, _ := b.program()
		b.runs = append(b.runs, recordedRun{step: i, program: prog, observation: res.output})
	}
	return i
}

// taskInput renders the examples as the task's input JSON.
func (b *build) taskInput() string {
	var sb strings.Builder
	sb.Grow(256)
	sb.WriteString(`{"examples": [`)
	for i, ex := range b.examples {
		if i > 0 {
			sb.WriteString(", ")
		}
		sb.WriteString(`{"input": `)
		writeJSON(&sb, ex.input)
		sb.WriteString(`, "output": `)
		writeJSON(&sb, ex.output)
		sb.WriteByte('}')
	}
	sb.WriteString("]}")
	return sb.String()
}

const fnvOffset = 14695981039346656037

// fnv64a continues an FNV-1a hash over s.
func fnv64a(h uint64, s string) uint64 {
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

// agentModels are the model names trajectories are attributed to.
var agentModels = []string{"sim-coder-small", "sim-coder-medium", "sim-coder-large"}

func (b *build) trajectory(cfg Config, i int) columnar.Trajectory {
	input := b.taskInput()
	h := fnv64a(fnv64a(fnvOffset, b.t.name), input)
	prog, _ := b.program()
	success := b.lastRun.passed == b.lastRun.total

	out := columnar.Trajectory{
		SchemaVersion: columnar.SchemaVersion,
		TrajectoryID:  "gen-" + strconv.FormatInt(cfg.Seed, 10) + "-" + strconv.Itoa(i),
		Task: columnar.Task{
			ID:          b.t.name + "-" + strconv.FormatUint(h&0xffffffffffff, 16),
			Description: b.t.describe(b.p),
			Domain:      b.t.domain,
			Input:       input,
		},
		Agent:    columnar.Agent{Name: "atlas-gen-agent", Model: agentModels[b.r.IntN(len(agentModels))]},
		Steps:    b.steps,
		Solution: columnar.Solution{Code: prog, Language: "python"},
		CreatedAt: cfg.Start.Add(time.Duration(i)*time.Second +
			time.Duration(b.r.IntN(1000))*time.Millisecond).Truncate(time.Millisecond),
		Metadata: map[string]string{
			"generator": "atlas-learn gen",
			"seed":      strconv.FormatInt(cfg.Seed, 10),
			"index":     strconv.Itoa(i),
		},
	}
	last := &out.Steps[len(out.Steps)-1]
	if success {
		out.Outcome = columnar.Outcome{Success: true, Reward: 1, ExitStatus: "passed"}
		last.Reward = 1
	} else {
		status := "tests_failed"
		if b.lastRun.errored {
			status = "error"
		}
		out.Outcome = columnar.Outcome{ExitStatus: status, ErrorInfo: b.lastRun.firstFailure}
	}
	out.Extra = b.extra()
	return out
}

// keySteps returns the writers of solve and of the helpers solve uses.
func (b *build) keySteps() []int {
	var ks []int
	add := func(s int) {
		for _, k := range ks {
			if k == s {
				return
			}
		}
		ks = append(ks, s)
	}
	for _, h := range b.solve.helpers {
		add(b.writer[h])
	}
	add(b.writer[solveUnit])
	// insertion sort: tiny
	for i := 1; i < len(ks); i++ {
		for j := i; j > 0 && ks[j] < ks[j-1]; j-- {
			ks[j], ks[j-1] = ks[j-1], ks[j]
		}
	}
	return ks
}

func writeInts(sb *strings.Builder, xs []int) {
	sb.WriteByte('[')
	for i, x := range xs {
		if i > 0 {
			sb.WriteString(", ")
		}
		sb.WriteString(strconv.Itoa(x))
	}
	sb.WriteByte(']')
}

func (b *build) extra() []byte {
	var sb strings.Builder
	sb.Grow(256)
	sb.WriteString(`{"gen": {"template": `)
	writeJSONString(&sb, b.t.name)
	sb.WriteString(`, "domain": `)
	writeJSONString(&sb, b.t.domain)
	sb.WriteString(`, "helpers": [`)
	for i, h := range b.solve.helpers {
		if i > 0 {
			sb.WriteString(", ")
		}
		writeJSONString(&sb, helperDefs[h].name)
	}
	sb.WriteString(`], "bug": `)
	if b.finalBug != nil {
		writeJSONString(&sb, b.finalBug.kind)
		sb.WriteString(`, "bug_note": `)
		writeJSONString(&sb, b.finalBug.note)
		sb.WriteString(`, "bug_step": `)
		sb.WriteString(strconv.Itoa(b.bugStep))
	} else {
		sb.WriteString(`""`)
	}
	if b.fixedBug != nil {
		sb.WriteString(`, "fixed_bug": `)
		writeJSONString(&sb, b.fixedBug.kind)
		sb.WriteString(`, "bug_note": `)
		writeJSONString(&sb, b.fixedBug.note)
		sb.WriteString(`, "fix_step": `)
		sb.WriteString(strconv.Itoa(b.fixStep))
	}
	sb.WriteString(`, "key_steps": `)
	writeInts(&sb, b.keySteps())
	sb.WriteString(`, "distractor_steps": `)
	d := b.distractors
	if d == nil {
		d = []int{}
	}
	writeInts(&sb, d)
	sb.WriteString("}}")
	return []byte(sb.String())
}

func minInts(xs []any) int {
	m := xs[0].(int)
	for _, v := range xs[1:] {
		m = min(m, v.(int))
	}
	return m
}
