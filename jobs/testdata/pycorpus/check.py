"""--verify-with test for solvers.py: runs the named solver on fixed inputs."""
import sys

name = sys.argv[1]
ns = {"__name__": "solver"}
exec(compile(sys.stdin.read(), "solver.py", "exec"), ns)
for xs in [(1, 2, 3), (-1, 5, 0, 7), (4,)]:
    print(repr(ns[name](xs)))
