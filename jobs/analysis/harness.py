# The code replayer's harness: it runs programs against a task's examples
# and prints one JSON line per program with each example's result. Every
# program runs in a child forked for it (a fresh interpreter state, its own
# time limit), so one program cannot disturb another. It is itself run
# inside the sandbox, and reads its job from standard input:
#   {"entry": "solve", "timeout": 2.0, "examples": [{"input":..,"output":..}],
#    "programs": ["source", ...]}
import json
import os
import select
import signal
import sys
import time


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


class _Once:
    """The result pipe, written by the forked child only (never by
    processes the program itself forked)."""

    def __init__(self, fd, pid):
        self.fd, self.pid = fd, pid

    def write(self, b):
        if os.getpid() != self.pid:
            return
        while b:
            b = b[os.write(self.fd, b):]


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
            me = os.getpid()
            signal.setitimer(signal.ITIMER_REAL, timeout)
            out = _Once(w, me)
            try:
                sys.stdout = open(os.devnull, "w")
                _run(src, entry, examples, out)
            except BaseException:  # noqa: B902
                pass
            os._exit(0)
        os.close(w)
        # The parent keeps its own clock: a program that catches SIGALRM
        # is killed all the same.
        data, deadline, timed_out = b"", time.monotonic() + timeout + 1.0, False
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                timed_out = True
                break
            ready, _, _ = select.select([r], [], [], left)
            if not ready:
                continue
            chunk = os.read(r, 1 << 16)
            if not chunk:
                break
            data += chunk
            if len(data) > (1 << 22):
                break
        os.close(r)
        if timed_out:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        _, status = os.waitpid(pid, 0)
        try:
            results = json.loads(data.decode())
            if not isinstance(results, list) or len(results) != len(examples):
                raise ValueError
        except ValueError:
            if timed_out or (os.WIFSIGNALED(status) and os.WTERMSIG(status) in (signal.SIGALRM, signal.SIGXCPU)):
                results = ["error:Timeout"] * len(examples)
            else:
                results = ["error:Crashed"] * len(examples)
        sys.stdout.write(json.dumps(results) + "\n")
        sys.stdout.flush()


main()
