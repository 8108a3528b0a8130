import sys


def read_ints():
    return list(map(int, sys.stdin.readline().split()))


def neighbors(grid, r, c):
    rows, cols = len(grid), len(grid[0])
    out = []
    for dr, dc in ((1, 0), (-1, 0), (0, 1), (0, -1)):
        nr, nc = r + dr, c + dc
        if 0 <= nr < rows and 0 <= nc < cols:
            out.append((nr, nc))
    return out


def flood(grid, seen, r, c):
    stack = [(r, c)]
    size = 0
    while stack:
        cell = stack.pop()
        if cell in seen:
            continue
        seen.add(cell)
        size += 1
        for nr, nc in neighbors(grid, *cell):
            if grid[nr][nc] == '#' and (nr, nc) not in seen:
                stack.append((nr, nc))
    return size


n, m = read_ints()
grid = [sys.stdin.readline().strip() for _ in range(n)]
seen = set()
sizes = []
for i in range(n):
    for j in range(m):
        if grid[i][j] == '#' and (i, j) not in seen:
            sizes.append(flood(grid, seen, i, j))
print(len(sizes), sorted(sizes, reverse=True))
