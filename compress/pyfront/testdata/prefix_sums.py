def read_ints():
    return list(map(int, input().split()))


def prefix_sums(xs):
    out = [0]
    for x in xs:
        out.append(out[-1] + x)
    return out


def range_sum(pre, lo, hi):
    return pre[hi] - pre[lo]


def max_subarray(xs):
    best = cur = xs[0]
    for x in xs[1:]:
        cur = max(x, cur + x)
        best = max(best, cur)
    return best


n, q = read_ints()
xs = read_ints()
pre = prefix_sums(xs)
answers = []
for _ in range(q):
    lo, hi = read_ints()
    answers.append(range_sum(pre, lo - 1, hi))
print('\n'.join(map(str, answers)))
print('best', max_subarray(xs))
