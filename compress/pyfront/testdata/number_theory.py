import math
from functools import reduce


def read_ints():
    return list(map(int, input().split()))


def sieve(n):
    is_prime = [True] * (n + 1)
    is_prime[0:2] = [False, False]
    for i in range(2, int(math.isqrt(n)) + 1):
        if is_prime[i]:
            for j in range(i * i, n + 1, i):
                is_prime[j] = False
    return [i for i, p in enumerate(is_prime) if p]


def factorize(n):
    factors = {}
    d = 2
    while d * d <= n:
        while n % d == 0:
            factors[d] = factors.get(d, 0) + 1
            n //= d
        d += 1
    if n > 1:
        factors[n] = factors.get(n, 0) + 1
    return factors


def lcm(a, b):
    return a * b // math.gcd(a, b)


nums = read_ints()
print(sieve(30))
for x in nums:
    f = factorize(x)
    print(x, ' * '.join(f"{p}^{e}" if e > 1 else str(p) for p, e in sorted(f.items())))
print(reduce(lcm, nums), reduce(math.gcd, nums))
evens = list(filter(lambda v: v % 2 == 0, nums))
squares = {v: v ** 2 for v in nums if v < 50}
print(evens, squares, -2 ** 2, (-2) ** 2, not nums or len(nums) > 2)
