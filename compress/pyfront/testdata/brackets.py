import sys

PAIRS = {')': '(', ']': '[', '}': '{'}


def balanced(s):
    stack = []
    for ch in s:
        if ch in '([{':
            stack.append(ch)
        elif ch in PAIRS:
            if not stack or stack.pop() != PAIRS[ch]:
                return False
    return not stack


def depth(s):
    best = cur = 0
    for ch in s:
        if ch in '([{':
            cur += 1
            best = max(best, cur)
        elif ch in PAIRS:
            cur -= 1
    return best


for line in sys.stdin.read().splitlines():
    line = line.strip()
    if not line:
        continue
    ok = balanced(line)
    print(line, 'yes' if ok else 'no', depth(line) if ok else '-')
