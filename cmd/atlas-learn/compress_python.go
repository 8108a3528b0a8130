package main

import (
	"context"
	"fmt"

	"github.com/atlas-ai/atlas-learn/compress"
	"github.com/atlas-ai/atlas-learn/compress/pyfront"
)

// pythonRendering shows a python-format result as Python source. A concept
// that cannot be a Python function (it is only ever inlined) or a program
// that cannot be printed is listed in Errors instead.
type pythonRendering struct {
	Abstractions map[string]string `json:"abstractions"`
	Rewritten    []string          `json:"rewritten"`
	Errors       []string          `json:"errors,omitempty"`
}

func encodePython(ctx context.Context, src []byte) (string, error) {
	return pyfront.Encode(ctx, src)
}

func renderPython(res *compress.Result) (*pythonRendering, error) {
	out := &pythonRendering{Abstractions: map[string]string{}}
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
	for i, p := range res.Rewritten {
		src, err := pyfront.ProgramToPython(p, lib)
		if err != nil {
			out.Errors = append(out.Errors, fmt.Sprintf("program %d: %v", i, err))
		}
		out.Rewritten = append(out.Rewritten, src)
	}
	return out, nil
}
