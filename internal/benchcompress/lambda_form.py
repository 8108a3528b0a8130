"""Writes the lambda-calculus form of straight-line Python functions, as
the issue that asked for the Python path compared it: every local inlined
at each of its uses (so a local read twice is written twice), calls
curried ((f a b)), parameters as de Bruijn variables under one lam each,
names and integer constants as primitives, tuples as (tuple ...). A
function with any other statement or expression is left out and counted.

Usage: python3 lambda_form.py SOURCE.py OUT.json; prints "programs N
skipped M" on standard error. Used by `atlas-learn bench compress-python`.
"""
import ast
import json
import sys


class Skip(Exception):
    pass


def expr(e, env, params):
    if isinstance(e, ast.Name):
        if e.id in env:
            return env[e.id]
        if e.id in params:
            return "$%d" % (len(params) - 1 - params.index(e.id))
        return e.id
    if isinstance(e, ast.Constant):
        v = e.value
        if isinstance(v, bool) or v is None:
            return repr(v)
        if isinstance(v, int):
            return str(v)
        raise Skip("constant %r" % (v,))
    if isinstance(e, ast.UnaryOp) and isinstance(e.op, ast.USub) and isinstance(e.operand, ast.Constant):
        return "-" + expr(e.operand, env, params)
    if isinstance(e, ast.Tuple):
        if not e.elts:
            return "empty_tuple"
        return "(tuple " + " ".join(expr(x, env, params) for x in e.elts) + ")"
    if isinstance(e, ast.Call) and not e.keywords:
        return "(" + " ".join([expr(e.func, env, params)] + [expr(a, env, params) for a in e.args]) + ")"
    raise Skip(type(e).__name__)


def lam(f):
    params = [a.arg for a in f.args.args]
    env = {}
    for st in f.body:
        if isinstance(st, ast.Assign) and len(st.targets) == 1 and isinstance(st.targets[0], ast.Name):
            env[st.targets[0].id] = expr(st.value, env, params)
        elif isinstance(st, ast.Return) and st.value is not None:
            body = expr(st.value, env, params)
            for _ in params:
                body = "(lam " + body + ")"
            return body
        else:
            raise Skip(type(st).__name__)
    raise Skip("no return")


def main():
    src, out = sys.argv[1:3]
    with open(src) as f:
        tree = ast.parse(f.read())
    programs, skipped = [], 0
    for f in tree.body:
        if isinstance(f, ast.FunctionDef):
            try:
                programs.append(lam(f))
            except Skip:
                skipped += 1
    with open(out, "w") as f:
        json.dump(programs, f)
    print("programs %d skipped %d" % (len(programs), skipped), file=sys.stderr)


if __name__ == "__main__":
    main()
