package sft

import (
	_ "embed"
	"fmt"
	"strings"
	"text/template"

	"github.com/atlas-ai/atlas-learn/columnar"
)

// DefaultTemplates is the text of the default templates
// (templates/default.tmpl).
//
//go:embed templates/default.tmpl
var DefaultTemplates string

// templateNames are the templates a template file must define.
var templateNames = []string{"task", "step", "sampling", "refinement", "completion_error"}

// Templates render examples' prompts and error completions.
type Templates struct {
	t *template.Template
}

// ParseTemplates parses a template file (text/template) that defines
// task, step, sampling, refinement and completion_error; name is for
// errors.
func ParseTemplates(name, text string) (*Templates, error) {
	t, err := template.New(name).Option("missingkey=error").Parse(text)
	if err != nil {
		return nil, fmt.Errorf("templates %s: %w", name, err)
	}
	for _, n := range templateNames {
		if t.Lookup(n) == nil {
			return nil, fmt.Errorf("templates %s: no template %q defined (want %s)", name, n, strings.Join(templateNames, ", "))
		}
	}
	tt := &Templates{t: t}
	// A template that fails on a plain example fails here, not mid-run.
	if _, err := tt.sampling(&columnar.Task{ID: "t", Description: "d", Domain: "x", Input: "{}"}); err != nil {
		return nil, fmt.Errorf("templates %s: %w", name, err)
	}
	if _, err := tt.refinement(&columnar.Task{ID: "t"}, []columnar.Step{{Thought: "a", Action: "b", Observation: "c", Code: "d"}}, 0, false, true); err != nil {
		return nil, fmt.Errorf("templates %s: %w", name, err)
	}
	if _, err := tt.errorCompletion("e"); err != nil {
		return nil, fmt.Errorf("templates %s: %w", name, err)
	}
	return tt, nil
}

// Default returns the default templates.
func Default() *Templates {
	t, err := ParseTemplates("default.tmpl", DefaultTemplates)
	if err != nil {
		panic(err) // the embedded file is tested
	}
	return t
}

func (t *Templates) exec(name string, data any) (string, error) {
	var b strings.Builder
	if err := t.t.ExecuteTemplate(&b, name, data); err != nil {
		return "", fmt.Errorf("template %s: %w", name, err)
	}
	return b.String(), nil
}

func (t *Templates) task(task *columnar.Task) (string, error) { return t.exec("task", task) }

func (t *Templates) sampling(task *columnar.Task) (string, error) {
	tt, err := t.task(task)
	if err != nil {
		return "", err
	}
	return t.samplingWith(tt)
}

// samplingWith renders the sampling prompt of a rendered task.
func (t *Templates) samplingWith(taskText string) (string, error) {
	return t.exec("sampling", map[string]any{"Task": taskText})
}

// history renders steps[:n] (n < 0: all of them), oldest first, one
// blank line apart.
func (t *Templates) history(steps []columnar.Step, n int) (string, error) {
	if n < 0 || n > len(steps) {
		n = len(steps)
	}
	parts := make([]string, 0, n)
	for i := 0; i < n; i++ {
		s, err := t.exec("step", &steps[i])
		if err != nil {
			return "", fmt.Errorf("step %d: %w", i, err)
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, "\n\n"), nil
}

func (t *Templates) refinementWith(taskText, history string, truncated, isErr bool) (string, error) {
	return t.exec("refinement", map[string]any{"Task": taskText, "History": history, "Truncated": truncated, "Error": isErr})
}

func (t *Templates) refinement(task *columnar.Task, steps []columnar.Step, n int, truncated, isErr bool) (string, error) {
	tt, err := t.task(task)
	if err != nil {
		return "", err
	}
	h, err := t.history(steps, n)
	if err != nil {
		return "", err
	}
	return t.refinementWith(tt, h, truncated, isErr)
}

func (t *Templates) errorCompletion(info string) (string, error) {
	return t.exec("completion_error", map[string]any{"Error": info})
}
