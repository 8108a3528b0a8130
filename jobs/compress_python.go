package jobs

import (
	"context"
	"fmt"

	"golang.org/x/sync/errgroup"

	"github.com/atlas-ai/atlas-learn/compress"
	"github.com/atlas-ai/atlas-learn/compress/pyfront"
)

// PythonRendering shows a python-format result as Python source. A concept
// that cannot be a Python function (it is only ever inlined) or a program
// that cannot be printed is listed in Errors instead.
type PythonRendering struct {
	Abstractions map[string]string `json:"abstractions"`
	Rewritten    []string          `json:"rewritten"`
	Errors       []string          `json:"errors,omitempty"`
}

// RenderPython prints a result's abstractions and rewritten programs as
// Python, the programs in parallel (workers) and in order.
func RenderPython(ctx context.Context, res *compress.Result, workers int) *PythonRendering {
	out := &PythonRendering{Abstractions: map[string]string{}}
	var lib []pyfront.Concept
	for _, a := range res.Abstractions {
		c := pyfront.Concept{Name: a.Name, Body: a.Body, Arity: a.Arity}
		lib = append(lib, c)
		src, err := pyfront.ConceptToPythonLib(c, lib)
		if err != nil {
			out.Errors = append(out.Errors, fmt.Sprintf("abstraction %s: %v", a.Name, err))
			continue
		}
		out.Abstractions[a.Name] = src
	}
	// Programs print independently: in parallel, collected in order.
	out.Rewritten = make([]string, len(res.Rewritten))
	errs := make([]error, len(res.Rewritten))
	g, _ := errgroup.WithContext(ctx)
	g.SetLimit(max(workers, 1))
	for i, p := range res.Rewritten {
		g.Go(func() error {
			out.Rewritten[i], errs[i] = pyfront.ProgramToPython(p, lib)
			return nil
		})
	}
	_ = g.Wait()
	for i, err := range errs {
		if err != nil {
			out.Errors = append(out.Errors, fmt.Sprintf("program %d: %v", i, err))
		}
	}
	return out
}
