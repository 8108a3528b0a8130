# The code replayer's harness: it runs programs on a task's example inputs
# and prints one JSON line per program holding each example's result:
# ["v", value] (the value returned, as canonical JSON) or ["e", name] (the
# exception raised, or "Timeout" / "Crashed"). It never sees the expected
# outputs: the comparison is made outside the sandbox, so a program cannot
# claim to pass. Every program runs in a child forked for it, in a session
# of its own (a fresh interpreter state, its own time limit, and every
# process it starts killed with it), so one program cannot disturb another.
# It runs inside the sandbox and reads its job from standard input:
#   {"entry": "solve", "timeout": 2.0, "inputs": [...], "programs": ["source", ...]}
import json
import os
import select
import signal
import sys
import time


def _token(o):
    # Values JSON cannot hold become stable tokens: sets as sorted lists,
    # other objects by their type's name (never their address).
    if isinstance(o, (set, frozenset)):
        items = sorted(json.dumps(x, sort_keys=True, default=_token) for x in o)
        return [json.loads(s) for s in items]
    if isinstance(o, (bytes, bytearray)):
        return {"bytes": o.hex()}
    return "<%s>" % type(o).__name__


def _canon(v):
    return json.loads(json.dumps(v, sort_keys=True, default=_token))


def _run(src, entry, inputs):
    try:
        g = {"__name__": "__replay__"}
        exec(compile(src, "main.py", "exec"), g)
        fn = g.get(entry)
        if fn is None:
            raise NameError("name %r is not defined" % entry)
    except BaseException as e:  # noqa: B902 - the program's failure is data
        return [["e", type(e).__name__]] * len(inputs)
    results = []
    for x in inputs:
        try:
            results.append(["v", _canon(fn(json.loads(json.dumps(x))))])
        except BaseException as e:  # noqa: B902
            results.append(["e", type(e).__name__])
    return results


def _write_all(fd, b):
    while b:
        b = b[os.write(fd, b):]


def _kill(pid):
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def main():
    job = json.load(sys.stdin)
    entry, timeout, inputs = job["entry"], float(job["timeout"]), job["inputs"]
    devnull = os.open(os.devnull, os.O_RDWR)
    for src in job["programs"]:
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            try:
                os.close(r)
                os.setsid()
                os.dup2(devnull, 0)
                os.dup2(devnull, 1)
                os.dup2(devnull, 2)
                me = os.getpid()
                signal.setitimer(signal.ITIMER_REAL, timeout)
                res = _run(src, entry, inputs)
                if os.getpid() == me:
                    _write_all(w, json.dumps(res).encode())
            except BaseException:  # noqa: B902
                pass
            os._exit(0)
        os.close(w)
        # The parent keeps its own clock: a program that catches SIGALRM,
        # or hands the pipe to a process of its own, is killed all the same.
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
        _kill(pid)  # the whole session: grandchildren too
        status = 0
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            if time.monotonic() > deadline + 1.0:
                _kill(pid)
                _, status = os.waitpid(pid, 0)
                break
            time.sleep(0.005)
        try:
            results = json.loads(data.decode())
            if not isinstance(results, list) or len(results) != len(inputs):
                raise ValueError
        except ValueError:
            alarm = os.WIFSIGNALED(status) and os.WTERMSIG(status) in (signal.SIGALRM, signal.SIGXCPU)
            results = [["e", "Timeout" if timed_out or alarm else "Crashed"]] * len(inputs)
        sys.stdout.write(json.dumps(results) + "\n")
        sys.stdout.flush()


main()
