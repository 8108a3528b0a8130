def read_ints():
    return list(map(int, input().split()))


def two_sum(nums, target):
    seen = {}
    for i, x in enumerate(nums):
        if target - x in seen:
            return seen[target - x], i
        seen[x] = i
    return None


def count_pairs(nums, target):
    counts = {}
    total = 0
    for x in nums:
        total += counts.get(target - x, 0)
        counts[x] = counts.get(x, 0) + 1
    return total


t = int(input())
for _ in range(t):
    n, target = read_ints()
    nums = read_ints()
    pair = two_sum(nums, target)
    if pair is None:
        print('none', count_pairs(nums, target))
    else:
        i, j = pair
        print(i, j, nums[i] + nums[j] == target, count_pairs(nums, target))
