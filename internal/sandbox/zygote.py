# The sandbox's fork server ("zygote"). Package sandbox starts it inside the
# bubblewrap sandbox (or, without isolation, as a plain child process) and
# talks to it over a SOCK_SEQPACKET socket. It never sees a program or its
# data: for each run it receives five file descriptors (request, stdin,
# stdout, stderr, status) and forks a child; the child reads the program
# from the request pipe, drops privileges, lowers its resource limits and
# runs the program in its own, freshly forked interpreter. The zygote's
# memory thus stays as it was at start-up, and no run can see another's data.
#
# Control messages (ASCII, one per packet):
#   zygote -> Go: "ready <pid> <uid>"
#                 "exit <id> <wait status> <utime us> <stime us> <maxrss KiB> <clean>"
#   Go -> zygote: "run <id>" with SCM_RIGHTS [request, stdin, stdout, stderr, status]
#                 "kill <id>"
# When the socket closes, the zygote kills what is left and exits.
#
# argv: sock-fd work-dir scratch-dirs(colon-separated) pidns(0/1) drop-uid(0/1) helpers oneshot(0/1)
#       nodump(0/1) library-dirs(newline-separated) preload(comma-separated)
#
# Only built-in modules are imported here, so that start-up stays cheap and
# the children start from an interpreter close to a fresh one.
import os, sys, errno, signal, select, resource, _socket

SOCK_FD = int(sys.argv[1])
WORK = sys.argv[2]
SCRATCH = [d for d in sys.argv[3].split(":") if d]
PIDNS = sys.argv[4] == "1"
DROP = sys.argv[5] == "1"
HELPERS = int(sys.argv[6])
ONESHOT = sys.argv[7] == "1"
NODUMP = sys.argv[8] == "1"
LIBS = [d for d in sys.argv[9].split("\n") if d]
PRELOAD = [m for m in sys.argv[10].split(",") if m]
NFDS = 5

sock = _socket.socket(fileno=SOCK_FD)
os.environ.pop("PWD", None)  # set by bubblewrap's --chdir


def send(*words):
    sock.sendmsg([" ".join(str(w) for w in words).encode()])


def recv():
    space = _socket.CMSG_SPACE(NFDS * 4)
    data, anc, _flags, _addr = sock.recvmsg(4096, space)
    fds = []
    for level, kind, payload in anc:
        if level == _socket.SOL_SOCKET and kind == _socket.SCM_RIGHTS:
            n = len(payload) - len(payload) % 4
            fds.extend(int.from_bytes(payload[i:i + 4], sys.byteorder) for i in range(0, n, 4))
    return data.decode().split(), fds


def set_nodump():
    # Keep processes of the same user (the programs, in user-namespace mode)
    # from ptracing the zygote or opening its /proc entries.
    try:
        import ctypes
        ctypes.CDLL(None, use_errno=True).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE
    except Exception as e:
        os.write(2, ("sandbox zygote: prctl(PR_SET_DUMPABLE): %s\n" % e).encode())


def kill_all(pid, reap):
    """Kill every process of the run and reap the run's first process;
    True when none is left."""
    if not PIDNS:
        try:
            os.killpg(pid, signal.SIGKILL)
        except OSError:
            pass
        for _ in range(2000):
            if reap():
                return True
            select.select([], [], [], 0.001)
        return False
    # In our own PID namespace kill(-1) reaches every process but the
    # namespace's init (bubblewrap's reaper, which reaps the orphans) and
    # the zygote itself.
    for _ in range(2000):
        try:
            os.kill(-1, signal.SIGKILL)
        except ProcessLookupError:
            pass
        except OSError:
            return False
        done = reap()
        try:
            os.kill(-1, 0)
        except ProcessLookupError:
            if done or reap():
                return True
        except OSError:
            return False
        select.select([], [], [], 0.001)
    return False


def clean(top):
    """Empty directory top; True when it is empty."""
    if not top:
        return True
    for _ in range(3):
        try:
            stack = [top]
            dirs = []
            while stack:
                d = stack.pop()
                if d != top:
                    try:
                        os.chmod(d, 0o700)
                    except OSError:
                        pass
                for e in os.scandir(d):
                    if e.is_dir(follow_symlinks=False):
                        stack.append(e.path)
                        dirs.append(e.path)
                    else:
                        os.unlink(e.path)
            for d in reversed(dirs):
                os.rmdir(d)
            if not os.listdir(top):
                return True
        except OSError:
            pass
    return False


def run(rid, fds):
    if len(fds) != NFDS:
        for fd in fds:
            os.close(fd)
        send("exit", rid, -1, 0, 0, 0, 0)
        return
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        code = 126
        try:
            child(fds)
        except BaseException as e:
            try:
                os.write(2, ("sandbox: cannot start program: %r\n" % (e,)).encode())
            except BaseException:
                pass
        os._exit(code)
    for fd in fds:
        os.close(fd)
    status = []

    def reap():
        if not status:
            p, st, ru = os.wait4(pid, os.WNOHANG)
            if p == pid:
                status.append((st, ru))
        return bool(status)

    try:
        pidfd = os.pidfd_open(pid)
    except (AttributeError, OSError):
        pidfd = -1
    poller = select.poll()
    poller.register(sock.fileno(), select.POLLIN)
    if pidfd >= 0:
        poller.register(pidfd, select.POLLIN)
    gone = None
    while not reap():
        for fd, _ev in poller.poll(-1 if pidfd >= 0 else 5):
            if fd != sock.fileno():
                continue
            words, extra = recv()
            for f in extra:
                os.close(f)
            if not words:  # Go has gone: nobody to report to
                kill_all(pid, reap)
                os._exit(0)
            if words[0] == "kill":
                gone = kill_all(pid, reap)
    if pidfd >= 0:
        os.close(pidfd)
    if gone is None or gone:
        gone = kill_all(pid, reap)
    st, ru = status[0]
    ok = gone and (ONESHOT or all(clean(d) for d in [WORK] + SCRATCH))
    send("exit", rid, st, int(ru.ru_utime * 1e6), int(ru.ru_stime * 1e6), ru.ru_maxrss, 1 if ok else 0)
    if not ok:
        os._exit(3)


def read_request(fd):
    chunks = []
    while True:
        b = os.read(fd, 1 << 16)
        if not b:
            break
        chunks.append(b)
    data = b"".join(chunks)
    fields = []
    i = 0
    while i < len(data):
        j = data.index(b"\n", i)
        n = int(data[i:j])
        fields.append(data[j + 1:j + 1 + n])
        i = j + 1 + n
    return fields


def child(fds):
    req_fd, in_fd, out_fd, err_fd, st_fd = fds
    sock.detach()
    os.setsid()
    # The received descriptors are above 3 (0-2 and the socket, 3, were
    # open when they arrived), so these do not clobber each other.
    os.dup2(in_fd, 0)
    os.dup2(out_fd, 1)
    os.dup2(err_fd, 2)
    os.dup2(st_fd, 3, inheritable=False)
    f = read_request(req_fd)
    os.closerange(4, 1 << 16)
    code = f[0]
    uid, gid, mem, cpu, fsize, nofile, nproc = (int(x) for x in f[1:8])
    args = [x.decode("utf-8", "surrogateescape") for x in f[8:]]
    if DROP:
        os.setgroups([])
        os.setresgid(gid, gid, gid)
        os.setresuid(uid, uid, uid)
        if os.getuid() != uid or os.geteuid() != uid:
            raise OSError("privileges not dropped")
    os.chdir(WORK)
    fd = os.open("main.py", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    view = memoryview(code)
    while view:
        view = view[os.write(fd, view):]
    os.close(fd)

    def lim(r, soft, hard):
        # Never above the hard limit the sandbox was given: raising it
        # needs a privilege the child has not got.
        cur = resource.getrlimit(r)[1]
        if cur != resource.RLIM_INFINITY:
            soft, hard = min(soft, cur), min(hard, cur)
        resource.setrlimit(r, (soft, hard))

    lim(resource.RLIMIT_CORE, 0, 0)
    if cpu > 0:
        lim(resource.RLIMIT_CPU, cpu, cpu + 1)
    if mem > 0:
        lim(resource.RLIMIT_AS, mem, mem)
    if fsize > 0:
        lim(resource.RLIMIT_FSIZE, fsize, fsize)
    if nofile > 0:
        lim(resource.RLIMIT_NOFILE, nofile, nofile)
    if nproc > 0:
        lim(resource.RLIMIT_NPROC, nproc + HELPERS, nproc + HELPERS)
    sys.argv = ["main.py"] + args
    os._exit(execute(code))


def hint(e):
    """The resource limit an uncaught exception points at, if any."""
    seen = 0
    while e is not None and seen < 8:
        if isinstance(e, MemoryError):
            return "memory"
        if isinstance(e, OSError):
            if e.errno == errno.EFBIG:
                return "file size"
            if e.errno in (errno.ENOSPC, errno.EDQUOT):
                return "disk"
            if e.errno == errno.EMFILE:
                return "open files"
            if e.errno == errno.EAGAIN and isinstance(e, BlockingIOError):
                return "processes"
        if isinstance(e, RuntimeError) and "can't start new thread" in str(e):
            return "processes"
        e = e.__cause__ or e.__context__
        seen += 1
    return ""


def status(e):
    t = type(e)
    name = t.__qualname__ if t.__module__ == "builtins" else t.__module__ + "." + t.__qualname__
    try:
        os.write(3, ("exception %s\nlimit %s\n" % (name, hint(e))).encode())
    except BaseException:
        pass


def execute(code):
    """Run code as __main__ the way `python main.py` does; return the exit status."""
    main = type(sys)("__main__")
    main.__file__ = os.path.join(WORK, "main.py")
    main.__cached__ = None
    main.__builtins__ = __builtins__
    try:
        main.__loader__ = sys.modules["_frozen_importlib_external"].SourceFileLoader("__main__", main.__file__)
    except Exception:
        main.__loader__ = None
    sys.modules["__main__"] = main
    # `python main.py` runs the program's module at depth 1; here it runs
    # below the zygote's frames. Raise the recursion limit by their number
    # and hide the difference from the program.
    off = 1  # exec's own entry into the interpreter loop
    f = sys._getframe()
    while f is not None:
        off += 1
        f = f.f_back
    getlimit, setlimit = sys.getrecursionlimit, sys.setrecursionlimit
    setlimit(getlimit() + off)
    sys.getrecursionlimit = lambda: getlimit() - off
    sys.setrecursionlimit = lambda n: setlimit(n + off)
    rc = 0
    try:
        exec(compile(code, "main.py", "exec", dont_inherit=True), main.__dict__)
    except SystemExit as e:
        rc = exit_code(e)
    except BaseException as e:
        status(e)
        rc = report(e)
    try:
        if "threading" in sys.modules:
            sys.modules["threading"]._shutdown()
    except BaseException:
        pass
    try:
        import atexit
        atexit._run_exitfuncs()
    except BaseException:
        pass
    for s in (sys.stdout, sys.stderr):
        try:
            if s is not None:
                s.flush()
        except BaseException:
            rc = 120
    return rc


def exit_code(e):
    c = e.code
    if c is None:
        return 0
    if isinstance(c, int):
        return c & 0xFF
    try:
        sys.stderr.write(str(c) + "\n")
    except BaseException:
        pass
    return 1


def report(e):
    tb = e.__traceback__
    e.__traceback__ = tb.tb_next if tb is not None else None
    try:
        sys.excepthook(type(e), e, e.__traceback__)
    except BaseException:
        try:
            os.write(2, ("%s\n" % type(e).__name__).encode())
        except BaseException:
            pass
    if isinstance(e, KeyboardInterrupt):
        try:
            sys.stderr.flush()
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            os.kill(os.getpid(), signal.SIGINT)
        except BaseException:
            pass
        return 130
    return 1


def main():
    if NODUMP:
        set_nodump()
    # The library directories come first on sys.path, as PYTHONPATH would
    # put them; only now, after the zygote's own imports.
    sys.path[0:0] = LIBS
    for m in PRELOAD:
        __import__(m)
    send("ready", os.getpid(), os.getuid())
    while True:
        words, fds = recv()
        if not words:
            return
        if words[0] == "run" and len(words) == 2:
            run(words[1], fds)
            if ONESHOT:
                return
        else:
            for fd in fds:
                os.close(fd)


main()
