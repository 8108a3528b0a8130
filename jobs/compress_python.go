package jobs

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"golang.org/x/sync/errgroup"

	"github.com/atlas-ai/atlas-learn/columnar/storage"
	"github.com/atlas-ai/atlas-learn/compress"
	"github.com/atlas-ai/atlas-learn/compress/pyfront"
)

// PyProgram is one program of a python corpus.
type PyProgram struct {
	// Source is the file or trajectory dataset it comes from; ID the
	// trajectory's id ("" for a file).
	Source string `json:"source"`
	ID     string `json:"id,omitempty"`
	// Name is the function's name for a function unit.
	Name string `json:"name,omitempty"`
	// Term is the encoded (normalised) program.
	Term string `json:"-"`
	// Context is the Python a function unit runs in (see pyfront.Program).
	Context string `json:"-"`
	// Original is the program as written, as a runnable module, when
	// verification asks for it.
	Original string `json:"-"`
	// TaskInput is a trajectory's task input (JSON), when verification
	// asks for it.
	TaskInput string `json:"-"`
	// Helper is the Ref of the shared helper whose definition this program
	// keeps (pyfront.Helper.HelperProgram), or "".
	Helper string `json:"-"`
}

// Label names the program in messages: SOURCE[#ID][:NAME].
func (p PyProgram) Label() string {
	l := p.Source
	if p.ID != "" {
		l += "#" + p.ID
	}
	if p.Name != "" {
		l += ":" + p.Name
	}
	return l
}

// ReadPythonCorpus reads a python corpus (see ReadPrograms) as programs of
// the given unit, normalised as enc says. With original set, each program
// also carries its source as written, as a runnable module.
func ReadPythonCorpus(ctx context.Context, inputs []string, limit, workers int, s3 storage.S3Config, enc pyfront.EncodeOptions, original bool) ([]PyProgram, error) {
	var programs []PyProgram
	var files []string
	for _, in := range inputs {
		if !IsDataset(in) {
			files = append(files, in)
			continue
		}
		left := 0
		if limit > 0 {
			if left = limit - len(programs); left <= 0 {
				continue
			}
		}
		read := Solutions
		if original {
			read = SolutionsWithTasks
		}
		sols, err := read(ctx, in, "python", left, s3)
		if err != nil {
			return nil, err
		}
		src := storage.Redact(in)
		// One program per solution for a file unit, written in place (a
		// large corpus keeps no second copy); a function unit collects.
		base := len(programs)
		var ps [][]PyProgram
		if enc.Unit == pyfront.UnitFunction {
			ps = make([][]PyProgram, len(sols))
		} else {
			programs = slices.Grow(programs, len(sols))[:base+len(sols)]
		}
		g, gctx := errgroup.WithContext(ctx)
		g.SetLimit(max(workers, 1))
		for i := range sols {
			g.Go(func() error {
				p, err := encodePython(gctx, src, []byte(sols[i].Code), enc, original)
				if err != nil {
					return fmt.Errorf("%s: trajectory %s: solution.code: %w", src, sols[i].TrajectoryID, err)
				}
				for k := range p {
					p[k].ID, p[k].TaskInput = sols[i].TrajectoryID, sols[i].TaskInput
				}
				if ps != nil {
					ps[i] = p
				} else {
					programs[base+i] = p[0]
				}
				return nil
			})
		}
		if err := g.Wait(); err != nil {
			return nil, err
		}
		for _, p := range ps {
			programs = append(programs, p...)
		}
	}
	files, err := expandPythonInputs(files)
	if err != nil {
		return nil, err
	}
	for _, in := range files {
		b, err := storage.ReadObject(ctx, in, s3)
		if err != nil {
			return nil, fmt.Errorf("read input: %w", err)
		}
		ps, err := encodePython(ctx, in, b, enc, original)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", in, err)
		}
		programs = append(programs, ps...)
	}
	if len(programs) == 0 {
		return nil, fmt.Errorf("empty corpus: the inputs hold no programs (unit %s)", enc.Unit)
	}
	return programs, nil
}

func encodePython(ctx context.Context, source string, src []byte, enc pyfront.EncodeOptions, original bool) ([]PyProgram, error) {
	ps, err := pyfront.EncodeUnits(ctx, src, enc)
	if err != nil {
		return nil, err
	}
	var orig []pyfront.Program
	if original && enc.Unit == pyfront.UnitFunction {
		raw := enc
		raw.Inline = false
		if orig, err = pyfront.EncodeUnits(ctx, src, raw); err != nil {
			return nil, err
		}
	}
	out := make([]PyProgram, len(ps))
	for i, p := range ps {
		out[i] = PyProgram{Source: source, Name: p.Name, Term: p.Term, Context: p.Context}
		if !original {
			continue
		}
		if enc.Unit != pyfront.UnitFunction {
			out[i].Original = string(src)
			continue
		}
		py, err := pyfront.Decode(orig[i].Term)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p.Name, err)
		}
		out[i].Original = joinModule(p.Context, py)
	}
	return out, nil
}

// joinModule puts a function unit's context before its code.
func joinModule(context, code string) string {
	if context == "" {
		return code
	}
	return strings.TrimRight(context, "\n") + "\n\n\n" + code
}

// ConceptReport is one learned concept shown as Python.
type ConceptReport struct {
	Name   string `json:"name"`
	Python string `json:"python"`
	// Uses is the number of uses in the corpus right after it was learned;
	// Calls the number of calls in the rendered programs.
	Uses  int64 `json:"uses"`
	Calls int   `json:"calls"`
	// Programs is the number of rendered programs that call it.
	Programs int `json:"programs"`
	// Withdrawn says why verification withdrew it ("" if it was not).
	Withdrawn string `json:"withdrawn,omitempty"`
}

// PythonRendering shows a python-format result as Python source: each
// concept as a function, and each rewritten program as a self-contained
// module (the concepts it calls, defined once, then the program).
type PythonRendering struct {
	Abstractions map[string]string `json:"abstractions"`
	Concepts     []ConceptReport   `json:"concepts"`
	// Helpers are the function definitions shared, identical, by several
	// programs: existing concepts, named by their own names (Python: the
	// definition as rewritten, with the concepts it calls).
	Helpers   []pyfront.Helper `json:"helpers,omitempty"`
	Rewritten []string         `json:"rewritten"`
	// Programs names the programs (file, or file:function), in order.
	Programs []string `json:"programs"`
	// Errors lists what could not be printed; Compress fails when there is
	// anything in it.
	Errors []string `json:"errors,omitempty"`
	// Verification is the result of --verify-with, when given.
	Verification *Verification `json:"verification,omitempty"`
	called       [][]string
	pureCalls    bool
}

// pyConcepts turns a library into the printer's concepts.
func pyConcepts(lib []compress.Abstraction) []pyfront.Concept {
	out := make([]pyfront.Concept, len(lib))
	for i, a := range lib {
		out[i] = pyfront.Concept{Name: a.Name, Body: a.Body, Arity: a.Arity}
	}
	return out
}

// admitPython is compress.Options.Admit for the python format.
func admitPython(lib []compress.Abstraction, a compress.Abstraction) error {
	return pyfront.Admissible(pyfront.Concept{Name: a.Name, Body: a.Body, Arity: a.Arity}, pyConcepts(lib))
}

// RenderPython prints a result's abstractions and rewritten programs as
// Python, the programs in parallel (workers) and in order. progs, when
// given, names the programs and holds their contexts.
// With pureCalls, calls of plain names are taken to have no effects (as
// the data-flow normalisation takes them; see pyfront.RenderOptions).
// Helpers are the corpus's shared helpers (pyfront.SharedHelpers), whose
// definitions are put back in each program.
func RenderPython(ctx context.Context, res *compress.Result, progs []PyProgram, helpers []pyfront.Helper, workers int, pureCalls bool) *PythonRendering {
	return renderPython(ctx, res, progs, helpers, workers, pureCalls, nil)
}

func renderPython(ctx context.Context, res *compress.Result, progs []PyProgram, helpers []pyfront.Helper, workers int, pureCalls bool, withdrawn map[string]string) *PythonRendering {
	out := &PythonRendering{Abstractions: map[string]string{}, Helpers: slices.Clone(helpers), pureCalls: pureCalls}
	lib := pyConcepts(res.Abstractions)
	index := map[string]int{}
	for i, a := range res.Abstractions {
		index[a.Name] = i
		r := ConceptReport{Name: a.Name, Uses: a.Uses, Withdrawn: withdrawn[a.Name]}
		src, err := pyfront.ConceptToPythonLib(lib[i], lib[:i+1])
		if err != nil {
			out.Errors = append(out.Errors, fmt.Sprintf("abstraction %s: %v", a.Name, err))
		} else {
			out.Abstractions[a.Name] = src
			r.Python = src
		}
		out.Concepts = append(out.Concepts, r)
	}
	// the shared helpers' definitions, as rewritten
	defs := map[string]string{}
	for _, h := range helpers {
		defs[h.Ref] = h.Def
	}
	for i, p := range progs {
		if p.Helper == "" || i >= len(res.Rewritten) {
			continue
		}
		d, err := pyfront.HelperDef(res.Rewritten[i])
		if err != nil {
			out.Errors = append(out.Errors, fmt.Sprintf("helper %s: %v", p.Name, err))
			continue
		}
		defs[p.Helper] = d
	}
	skip := map[string]bool{}
	for n := range withdrawn {
		skip[n] = true
	}
	// Programs print independently: in parallel, collected in order.
	// The shared helpers' programs come last; they are printed inside the
	// programs that define them, and in Helpers.
	n := len(res.Rewritten)
	for n > 0 && n <= len(progs) && progs[n-1].Helper != "" {
		n--
	}
	for i := range out.Helpers {
		if d, ok := defs[out.Helpers[i].Ref]; ok && d != out.Helpers[i].Def {
			src, _, err := pyfront.RenderProgram("(module (seq "+d+" nil))", lib, pyfront.RenderOptions{Withdrawn: skip, PureCalls: pureCalls})
			if err != nil {
				out.Errors = append(out.Errors, fmt.Sprintf("helper %s: %v", out.Helpers[i].Name, err))
				continue
			}
			out.Helpers[i].Python = src
		}
	}
	out.Rewritten = make([]string, n)
	out.Programs = make([]string, n)
	out.called = make([][]string, n)
	errs := make([]error, n)
	// Identical programs (same rewritten term and context) print once and
	// share their text: generated corpora repeat solutions.
	first := make([]int, n)
	seen := map[string]int{}
	for i, p := range res.Rewritten[:n] {
		out.Programs[i] = fmt.Sprintf("program %d", i)
		key := p
		if i < len(progs) {
			out.Programs[i] = progs[i].Label()
			key = progs[i].Context + "\x00" + p
		}
		if j, ok := seen[key]; ok {
			first[i] = j
			continue
		}
		seen[key] = i
		first[i] = i
	}
	seen = nil
	g, _ := errgroup.WithContext(ctx)
	g.SetLimit(max(workers, 1))
	for i, p := range res.Rewritten[:n] {
		if first[i] != i {
			continue
		}
		var pp PyProgram
		if i < len(progs) {
			pp = progs[i]
		}
		g.Go(func() error {
			src, called, err := pyfront.RenderProgram(pyfront.ExpandHelpers(p, defs), lib, pyfront.RenderOptions{Withdrawn: skip, PureCalls: pureCalls})
			if err == nil && strings.TrimSpace(src) == "" && p != "(module nil)" {
				err = fmt.Errorf("prints as nothing")
			}
			out.Rewritten[i], out.called[i], errs[i] = joinModule(pp.Context, src), called, err
			return nil
		})
	}
	_ = g.Wait()
	for i, j := range first {
		if j != i {
			out.Rewritten[i], out.called[i], errs[i] = out.Rewritten[j], out.called[j], errs[j]
		}
	}
	for i, err := range errs {
		if err != nil {
			out.Errors = append(out.Errors, fmt.Sprintf("%s: %v", out.Programs[i], err))
		}
	}
	for i := range out.called {
		for _, name := range out.called[i] {
			c := &out.Concepts[index[name]]
			c.Programs++
			c.Calls += strings.Count(out.Rewritten[i], name+"(") - 1
		}
	}
	return out
}

// grammarCost prices the python format's grammar atoms at cost, unless the
// cost model prices them itself.
func grammarCost(cm compress.CostModel, cost int64) compress.CostModel {
	if cost <= 0 {
		return cm
	}
	cm = cm.OrDefault()
	prim := maps.Clone(cm.Prim)
	if prim == nil {
		prim = map[string]int64{}
	}
	for _, a := range pyfront.GrammarAtoms() {
		if _, set := prim[a]; !set {
			prim[a] = cost
		}
	}
	cm.Prim = prim
	return cm
}
