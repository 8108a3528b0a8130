// Package configs holds the job's configuration files and deployment
// manifests; local.yaml is embedded in the binary as its default.
package configs

import _ "embed"

// Local is local.yaml: the configuration used when no --config is given.
//
//go:embed local.yaml
var Local []byte

// CreditPrompt is prompts/credit.tmpl: the prompt of the analysis stage's
// LLM-judged credit assignment (text/template, with a "system" and a
// "user" template).
//
//go:embed prompts/credit.tmpl
var CreditPrompt string

// StrategyPrompt is prompts/strategy.tmpl: the prompt of the strategies
// stage's LLM extractor (text/template, with a "system" and a "user"
// template).
//
//go:embed prompts/strategy.tmpl
var StrategyPrompt string

// AutoDocPrompt is prompts/autodoc.tmpl: the prompt that names and
// documents learned concepts (text/template, with a "system" and a "user"
// template).
//
//go:embed prompts/autodoc.tmpl
var AutoDocPrompt string
