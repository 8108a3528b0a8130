"""A tiny list DSL for the compress tests (not re-arc's)."""


def plus(a, b):
    return a + b


def times(a, b):
    return a * b


def rev(xs):
    return tuple(reversed(xs))


def first(xs):
    return xs[0]


def rest(xs):
    return tuple(xs[1:])


def fmap(f, xs):
    return tuple(f(x) for x in xs)


def keep(p, xs):
    return tuple(x for x in xs if p(x))


def rbind(f, b):
    return lambda a: f(a, b)


def lbind(f, a):
    return lambda b: f(a, b)


def compose(f, g):
    return lambda x: g(f(x))


def total(xs):
    return sum(xs)


def positive(x):
    return x > 0


ONE = 1
TWO = 2
THREE = 3
