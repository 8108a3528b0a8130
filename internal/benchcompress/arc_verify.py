"""Test program for `atlas-learn compress --verify-with` on ARC solvers.

It runs as main.py in the sandbox: standard input holds one program as a
self-contained module, argv[1] is the name of its solver function and the
task is the ARC task whose id ends that name (for a whole file, argv[1]
is empty and the solver is the last function the file defines) (verify_007bbfb7 -> 007bbfb7),
looked up as <id>.json in the library directories (sys.path). It prints,
for every train and test pair, whether the solver's output is right (and
the output when it is not), and exits 0 when the task is solved."""
import json
import os
import sys
import types


def find_task(task_id):
    for d in sys.path:
        p = os.path.join(d, task_id + ".json")
        if d and os.path.isfile(p):
            return p
    return None


def grid(rows):
    return tuple(tuple(r) for r in rows)


def main():
    name = sys.argv[1] if len(sys.argv) > 1 else ""
    src = sys.stdin.read()
    ns = {"__name__": "solver"}
    exec(compile(src, "solver.py", "exec"), ns)
    if not name:
        # a file unit: the last function the module defines itself
        fns = [k for k, v in ns.items() if isinstance(v, types.FunctionType) and v.__module__ == "solver"]
        name = fns[-1] if fns else ""
    solver = ns.get(name)
    if solver is None:
        print("no solver function")
        sys.exit(2)
    task_id = name.rsplit("_", 1)[-1]
    path = find_task(task_id)
    if path is None:
        print("no task", task_id)
        sys.exit(2)
    with open(path) as f:
        task = json.load(f)
    solved = True
    for split in ("train", "test"):
        for i, pair in enumerate(task[split]):
            try:
                out = solver(grid(pair["input"]))
            except Exception as e:  # the solver's own failure is a result
                print(split, i, "error", type(e).__name__)
                solved = False
                continue
            if out == grid(pair["output"]):
                print(split, i, "ok")
            else:
                print(split, i, "wrong", repr(out)[:2000])
                solved = False
    sys.exit(0 if solved else 1)


if __name__ == "__main__":
    main()
