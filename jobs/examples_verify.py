"""The built-in test of `atlas-learn compress --verify-with examples`.

It runs as main.py in the sandbox: standard input holds one program as a
self-contained module, argv[1] the function to call ("" for solve, or else
the last function the module defines), argv[3] the task's input, JSON of the
form {"examples": [{"input": ..., "output": ...}, ...]}. It calls the
function on each example's input and prints whether the result equals the
output (and the result when it does not); it exits 0 when all are equal."""
import json
import sys
import types


def main():
    name = sys.argv[1] if len(sys.argv) > 1 else ""
    task = json.loads(sys.argv[3]) if len(sys.argv) > 3 and sys.argv[3] else {}
    ns = {"__name__": "solution"}
    exec(compile(sys.stdin.read(), "solution.py", "exec"), ns)
    fn = ns.get(name) if name else ns.get("solve")
    if fn is None:
        fns = [v for v in ns.values() if isinstance(v, types.FunctionType)]
        fn = fns[-1] if fns else None
    if fn is None:
        print("no function to call")
        sys.exit(2)
    examples = task.get("examples") or []
    if not examples:
        print("no examples")
        sys.exit(2)
    ok = True
    for i, ex in enumerate(examples):
        try:
            got = fn(json.loads(json.dumps(ex["input"])))
            same = json.loads(json.dumps(got)) == ex["output"]
        except Exception as e:  # the program's own failure is a result
            print(i, "error", type(e).__name__)
            ok = False
            continue
        print(i, "ok" if same else "wrong " + repr(got)[:2000])
        ok = ok and same
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
