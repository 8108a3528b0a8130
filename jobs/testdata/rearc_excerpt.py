# An excerpt of re-arc's verifiers.py (https://github.com/michaelhodel/re-arc),
# MIT License, Copyright (c) 2024 Michael Hodel (full notice: rearc_excerpt.LICENSE): 30 of its 400 functions.
from dsl import *


def verify_00d62c1b(I: Grid) -> Grid:
    x0 = objects(I, T, F, F)
    x1 = mostcolor(I)
    x2 = colorfilter(x0, x1)
    x3 = rbind(bordering, I)
    x4 = compose(flip, x3)
    x5 = mfilter(x2, x4)
    x6 = fill(I, FOUR, x5)
    return x6


def verify_05f2a901(I: Grid) -> Grid:
    x0 = objects(I, T, T, T)
    x1 = fork(multiply, height, width)
    x2 = fork(equality, size, x1)
    x3 = extract(x0, x2)
    x4 = other(x0, x3)
    x5 = gravitate(x4, x3)
    x6 = move(I, x4, x5)
    return x6


def verify_0b148d64(I: Grid) -> Grid:
    x0 = partition(I)
    x1 = fork(multiply, height, width)
    x2 = argmin(x0, x1)
    x3 = subgrid(x2, I)
    return x3


def verify_0ca9ddb6(I: Grid) -> Grid:
    x0 = ofcolor(I, ONE)
    x1 = ofcolor(I, TWO)
    x2 = mapply(dneighbors, x0)
    x3 = mapply(ineighbors, x1)
    x4 = fill(I, SEVEN, x2)
    x5 = fill(x4, FOUR, x3)
    return x5


def verify_0d3d703e(I: Grid) -> Grid:
    x0 = switch(I, THREE, FOUR)
    x1 = switch(x0, EIGHT, NINE)
    x2 = switch(x1, TWO, SIX)
    x3 = switch(x2, ONE, FIVE)
    return x3


def verify_10fcaaa3(I: Grid) -> Grid:
    x0 = hconcat(I, I)
    x1 = vconcat(x0, x0)
    x2 = asindices(x1)
    x3 = mostcolor(I)
    x4 = ofcolor(x1, x3)
    x5 = difference(x2, x4)
    x6 = mapply(ineighbors, x5)
    x7 = underfill(x1, EIGHT, x6)
    return x7


def verify_178fcbfb(I: Grid) -> Grid:
    x0 = ofcolor(I, TWO)
    x1 = ofcolor(I, THREE)
    x2 = ofcolor(I, ONE)
    x3 = mapply(vfrontier, x0)
    x4 = mapply(hfrontier, x1)
    x5 = mapply(hfrontier, x2)
    x6 = fill(I, TWO, x3)
    x7 = fill(x6, THREE, x4)
    x8 = fill(x7, ONE, x5)
    return x8


def verify_1cf80156(I: Grid) -> Grid:
    x0 = frontiers(I)
    x1 = merge(x0)
    x2 = color(x1)
    x3 = palette(I)
    x4 = other(x3, x2)
    x5 = objects(I, T, T, F)
    x6 = matcher(color, x4)
    x7 = extract(x5, x6)
    x8 = subgrid(x7, I)
    return x8


def verify_1e0a9b12(I: Grid) -> Grid:
    x0 = mostcolor(I)
    x1 = rot270(I)
    x2 = matcher(identity, x0)
    x3 = rbind(sfilter, x2)
    x4 = compose(flip, x2)
    x5 = rbind(sfilter, x4)
    x6 = fork(combine, x3, x5)
    x7 = apply(x6, x1)
    x8 = rot90(x7)
    return x8


def verify_1f876c06(I: Grid) -> Grid:
    x0 = fgpartition(I)
    x1 = compose(last, first)
    x2 = power(last, TWO)
    x3 = fork(connect, x1, x2)
    x4 = fork(recolor, color, x3)
    x5 = mapply(x4, x0)
    x6 = paint(I, x5)
    return x6


def verify_23b5c85d(I: Grid) -> Grid:
    x0 = partition(I)
    x1 = fork(multiply, height, width)
    x2 = fork(equality, size, x1)
    x3 = sfilter(x0, x2)
    x4 = argmin(x3, x1)
    x5 = subgrid(x4, I)
    return x5


def verify_25d8a9c8(I: Grid) -> Grid:
    x0 = width(I)
    x1 = rbind(branch, ZERO)
    x2 = rbind(x1, FIVE)
    x3 = compose(size, dedupe)
    x4 = matcher(x3, ONE)
    x5 = compose(x2, x4)
    x6 = rbind(repeat, x0)
    x7 = compose(x6, x5)
    x8 = apply(x7, I)
    return x8


def verify_25ff71a9(I: Grid) -> Grid:
    x0 = objects(I, T, T, T)
    x1 = first(x0)
    x2 = move(I, x1, DOWN)
    return x2


def verify_28bf18c6(I: Grid) -> Grid:
    x0 = objects(I, T, T, T)
    x1 = first(x0)
    x2 = subgrid(x1, I)
    x3 = hconcat(x2, x2)
    return x3


def verify_2dee498d(I: Grid) -> Grid:
    x0 = hsplit(I, THREE)
    x1 = first(x0)
    return x1


def verify_321b1fc6(I: Grid) -> Grid:
    x0 = objects(I, F, F, T)
    x1 = argmax(x0, numcolors)
    x2 = remove(x1, x0)
    x3 = normalize(x1)
    x4 = apply(ulcorner, x2)
    x5 = lbind(shift, x3)
    x6 = mapply(x5, x4)
    x7 = paint(I, x6)
    x8 = cover(x7, x1)
    return x8


def verify_32597951(I: Grid) -> Grid:
    x0 = partition(I)
    x1 = fork(multiply, height, width)
    x2 = argmin(x0, x1)
    x3 = delta(x2)
    x4 = fill(I, THREE, x3)
    return x4


def verify_39a8645d(I: Grid) -> Grid:
    x0 = objects(I, T, T, T)
    x1 = totuple(x0)
    x2 = apply(normalize, x1)
    x3 = mostcommon(x2)
    x4 = mostcolor(I)
    x5 = shape(x3)
    x6 = canvas(x4, x5)
    x7 = paint(x6, x3)
    return x7


def verify_3aa6fb7a(I: Grid) -> Grid:
    x0 = objects(I, T, F, T)
    x1 = mapply(corners, x0)
    x2 = underfill(I, ONE, x1)
    return x2


def verify_3af2c5a8(I: Grid) -> Grid:
    x0 = vmirror(I)
    x1 = hconcat(I, x0)
    x2 = hmirror(x1)
    x3 = vconcat(x1, x2)
    return x3


def verify_3c9b0459(I: Grid) -> Grid:
    x0 = rot180(I)
    return x0


def verify_40853293(I: Grid) -> Grid:
    x0 = partition(I)
    x1 = fork(recolor, color, backdrop)
    x2 = apply(x1, x0)
    x3 = mfilter(x2, hline)
    x4 = mfilter(x2, vline)
    x5 = paint(I, x3)
    x6 = paint(x5, x4)
    return x6


def verify_4258a5f9(I: Grid) -> Grid:
    x0 = leastcolor(I)
    x1 = ofcolor(I, x0)
    x2 = mapply(neighbors, x1)
    x3 = difference(x2, x1)
    x4 = fill(I, ONE, x3)
    return x4


def verify_42a50994(I: Grid) -> Grid:
    x0 = objects(I, F, T, T)
    x1 = sizefilter(x0, ONE)
    x2 = merge(x1)
    x3 = cover(I, x2)
    return x3


def verify_4347f46a(I: Grid) -> Grid:
    x0 = objects(I, T, F, T)
    x1 = fork(difference, toindices, box)
    x2 = mapply(x1, x0)
    x3 = mostcolor(I)
    x4 = fill(I, x3, x2)
    return x4


def verify_445eab21(I: Grid) -> Grid:
    x0 = objects(I, T, F, T)
    x1 = fork(multiply, height, width)
    x2 = argmax(x0, x1)
    x3 = color(x2)
    x4 = canvas(x3, TWO_BY_TWO)
    return x4


def verify_44d8ac46(I: Grid) -> Grid:
    x0 = objects(I, T, F, T)
    x1 = apply(delta, x0)
    x2 = mfilter(x1, square)
    x3 = fill(I, TWO, x2)
    return x3


def verify_44f52bb0(I: Grid) -> Grid:
    x0 = vmirror(I)
    x1 = equality(x0, I)
    x2 = hmirror(I)
    x3 = equality(x2, I)
    x4 = either(x1, x3)
    x5 = branch(x4, ONE, SEVEN)
    x6 = canvas(x5, UNITY)
    return x6


def verify_46442a0e(I: Grid) -> Grid:
    x0 = rot90(I)
    x1 = rot180(I)
    x2 = rot270(I)
    x3 = hconcat(I, x0)
    x4 = hconcat(x2, x1)
    x5 = vconcat(x3, x4)
    return x5


def verify_46f33fce(I: Grid) -> Grid:
    x0 = rot180(I)
    x1 = downscale(x0, TWO)
    x2 = rot180(x1)
    x3 = upscale(x2, FOUR)
    return x3
