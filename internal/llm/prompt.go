package llm

import (
	"fmt"
	"text/template"
)

// ParsePrompt parses a prompt template file's text: it must define a
// "system" and a "user" template, and a missing key is an error when it
// is executed. name is the file, for errors.
func ParsePrompt(name, text string) (*template.Template, error) {
	t, err := template.New(name).Option("missingkey=error").Parse(text)
	if err != nil {
		return nil, fmt.Errorf("prompt %s: %w", name, err)
	}
	for _, n := range []string{"system", "user"} {
		if t.Lookup(n) == nil {
			return nil, fmt.Errorf("prompt %s: no %q template", name, n)
		}
	}
	return t, nil
}
