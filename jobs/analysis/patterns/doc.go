// Package patterns mines error messages into templates, the way log
// parsers do (Drain, He et al., ICWS 2017): variable parts — numbers,
// hexadecimal, IP addresses, host names and ports, paths, URLs, quoted
// values, identifiers with digits, the variable values of key=value pairs,
// dates, quantities with units — become <*>, messages are grouped by
// template, and each template is counted with its first and last message
// and a few examples.
//
// A Miner takes one message at a time (Add) into a Drain parse tree: a
// fixed-depth tree over the token count and the leading tokens, whose
// leaves hold clusters matched by token similarity. Result then runs a
// final pass that does not depend on the order of the messages:
//
//  1. the distinct tokenised messages are clustered again by the same tree,
//     most frequent first (a node whose leading tokens take more than
//     MaxChildren values keys them all <*>, as if it had overflowed from
//     the start);
//  2. each cluster is split on the positions whose values are constants of
//     different templates rather than a variable: fewer than MinDistinct
//     distinct words, UPPER_CASE enumeration constants, key=value pairs
//     with fewer than MinDistinctKeyed values (positions holding masked
//     variables never split);
//  3. templates that differ only in their variables (the same constant
//     tokens in the same order, whatever the number and place of the
//     variables) are merged.
//
// Every decision is deterministic: no output depends on map iteration
// order, the same input gives the same IDs and templates, and a reordered
// input gives the same templates (numbered by first message).
//
// ErrorMessage extracts the message worth mining from a traceback or a
// tool's output.
//
// The package is a pure algorithm: no storage, no configuration, no I/O
// besides the readers and writers its caller passes (AddLines, WriteLines).
package patterns
