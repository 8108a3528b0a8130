package trajgen

import "strings"

// harness runs solve on every example and prints one line per example and
// a summary; an exception is shown as a traceback restricted to the
// program's own named functions (comprehension and lambda frames left out,
// so the text is the same on every Python 3 version). It exits 1 when an
// example fails.
const harness = `

import json as _json
import os as _os
import sys as _sys
import traceback as _traceback

_EXAMPLES = _json.loads(@EXAMPLES@)["examples"]


def _describe(e):
    lines = ["Traceback (most recent call last):"]
    for f in _traceback.extract_tb(e.__traceback__)[1:]:
        if f.name.startswith("<"):
            continue
        lines.append('  File "%s", line %d, in %s' % (_os.path.basename(f.filename), f.lineno, f.name))
        lines.append("    " + (f.line or "").strip())
    lines.append("%s: %s" % (type(e).__name__, e))
    return "\n".join(lines)


def _run_examples():
    failed = 0
    for i, ex in enumerate(_EXAMPLES):
        try:
            got = solve(ex["input"])
        except Exception as e:
            failed += 1
            print("example %d: error" % i)
            print(_describe(e))
            continue
        if got == ex["output"]:
            print("example %d: ok" % i)
        else:
            failed += 1
            print("example %d: expected %r, got %r" % (i, ex["output"], got))
    print("%d/%d examples passed" % (len(_EXAMPLES) - failed, len(_EXAMPLES)))
    return failed


_sys.exit(1 if _run_examples() else 0)
`

// HarnessProgram returns the test program behind every run_tests
// observation: solution (which defines solve) followed by a harness that
// runs solve on the examples of taskInput (a task's input JSON, with an
// "examples" list of {"input", "output"} objects). Run it as main.py
// (internal/sandbox does) and its standard output is the observation; the
// solution's line numbers are unchanged.
func HarnessProgram(solution, taskInput string) string {
	var lit strings.Builder
	writeJSONString(&lit, taskInput)
	h := strings.Replace(harness, "@EXAMPLES@", lit.String(), 1)
	if !strings.HasSuffix(solution, "\n") {
		solution += "\n"
	}
	return solution + h
}
