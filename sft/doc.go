// Package sft builds ATLAS's hindsight-learning datasets the way SOAR
// (Pourcel et al., ICML 2025) did: from each successful trajectory a
// sampling example (the task → its solution) and a refinement example per
// key step (the history up to the step → the step's action), and from
// each failed trajectory with error information a refinement example
// (the whole history → "[ERROR] <error>"). Prepare renders the examples
// with text/template (Templates), counts their tokens with an embedded
// tiktoken encoding (Tokenizer), removes exact and near duplicates, caps
// the examples per task (greedy plus diverse), balances the refinement
// examples over bins of their parent's quality, drops or truncates
// over-long examples, splits train from validation by task, and
// estimates training tokens and cost per export format. The writers
// (WriteOpenAI, WriteTRLPromptCompletion, WriteTRLConversational,
// WriteTRLReplicated, WriteCard) produce the exports.
//
// The package knows nothing of storage or configuration: its inputs are
// trajectories and their analysis as plain structs, its options a plain
// struct, and its outputs are written to io.Writers. Everything it
// returns is a pure function of its inputs, whatever the number of
// workers.
package sft
