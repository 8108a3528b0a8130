def read_ints():
    return list(map(int, input().split()))


def merge(intervals):
    intervals = sorted(intervals)
    merged = []
    for lo, hi in intervals:
        if merged and lo <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], hi)
        else:
            merged.append([lo, hi])
    return merged


def covered(merged):
    total = 0
    for lo, hi in merged:
        total += hi - lo
    return total


def main():
    n = int(input())
    intervals = []
    for _ in range(n):
        a, b = read_ints()
        if a > b:
            a, b = b, a
        intervals.append([a, b])
    merged = merge(intervals)
    print(len(merged), covered(merged))
    for lo, hi in merged:
        print(lo, hi)


if __name__ == '__main__':
    main()
