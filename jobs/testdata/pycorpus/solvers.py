from minidsl import *


def solve_a(I):
    x0 = rbind(plus, ONE)
    x1 = fmap(x0, I)
    x2 = rev(x1)
    return x2


def solve_b(I):
    x0 = rbind(plus, TWO)
    x1 = fmap(x0, I)
    x2 = rev(x1)
    x3 = first(x2)
    return x3


def solve_c(I):
    x0 = keep(positive, I)
    x1 = rbind(times, THREE)
    x2 = fmap(x1, x0)
    x3 = total(x2)
    return x3


def solve_d(I):
    x0 = keep(positive, I)
    x1 = rbind(times, TWO)
    x2 = fmap(x1, x0)
    x3 = rev(x2)
    return x3


def solve_e(I):
    x0 = rest(I)
    x1 = rbind(plus, THREE)
    x2 = fmap(x1, x0)
    x3 = rev(x2)
    return x3


def solve_f(I):
    x0 = keep(positive, I)
    x1 = rbind(times, ONE)
    x2 = fmap(x1, x0)
    x3 = total(x2)
    x4 = plus(x3, x3)
    return x4


def solve_g(I):
    x0 = compose(rev, first)
    x1 = rbind(plus, ONE)
    x2 = fmap(x1, I)
    x3 = x0(x2)
    return x3


def solve_h(I):
    x0 = keep(positive, I)
    x1 = lbind(times, TWO)
    x2 = fmap(x1, x0)
    x3 = total(x2)
    return x3
