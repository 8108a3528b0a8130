# The code replayer's harness: it runs programs against a task's examples
# and prints one JSON line per program with each example's result. Every
# program runs in a child forked for it (a fresh interpreter state, its own
# time limit), so one program cannot disturb another. It is itself run
# inside the sandbox, and reads its job from standard input:
#   {"entry": "solve", "timeout": 2.0, "examples": [{"input":..,"output":..}],
#    "programs": ["source", ...]}
import json
import os
import signal
import sys


def _canon(v):
    return json.loads(json.dumps(v, sort_keys=True, default=repr))


def _run(src, entry, examples, w):
    results = []
    try:
        g = {"__name__": "__replay__"}
        exec(compile(src, "main.py", "exec"), g)
        fn = g.get(entry)
        if fn is None:
            raise NameError("name %r is not defined" % entry)
    except BaseException as e:  # noqa: B902 - the program's failure is data
        results = ["error:" + type(e).__name__] * len(examples)
        w.write(json.dumps(results).encode())
        return
    for ex in examples:
        try:
            got = _canon(fn(json.loads(json.dumps(ex["input"]))))
            if got == ex["output"]:
                results.append("ok")
            else:
                results.append("wrong:" + json.dumps(got, sort_keys=True)[:200])
        except BaseException as e:  # noqa: B902
            results.append("error:" + type(e).__name__)
    w.write(json.dumps(results).encode())


def main():
    job = json.load(sys.stdin)
    entry, timeout, examples = job["entry"], float(job["timeout"]), job["examples"]
    for ex in examples:
        ex["output"] = _canon(ex["output"])
    for src in job["programs"]:
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(r)
            signal.setitimer(signal.ITIMER_REAL, timeout)
            with os.fdopen(w, "wb") as out:
                try:
                    sys.stdout = open(os.devnull, "w")
                    _run(src, entry, examples, out)
                except BaseException:  # noqa: B902
                    pass
            os._exit(0)
        os.close(w)
        with os.fdopen(r, "rb") as f:
            data = f.read()
        _, status = os.waitpid(pid, 0)
        try:
            results = json.loads(data.decode())
        except ValueError:
            if os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGALRM:
                results = ["error:Timeout"] * len(examples)
            else:
                results = ["error:Crashed"] * len(examples)
        sys.stdout.write(json.dumps(results) + "\n")
        sys.stdout.flush()


main()
