import sys
from collections import deque


def read_ints():
    return list(map(int, sys.stdin.readline().split()))


def neighbors(grid, r, c):
    rows, cols = len(grid), len(grid[0])
    out = []
    for dr, dc in ((1, 0), (-1, 0), (0, 1), (0, -1)):
        nr, nc = r + dr, c + dc
        if 0 <= nr < rows and 0 <= nc < cols and grid[nr][nc] != '#':
            out.append((nr, nc))
    return out


def shortest_path(grid, start, goal):
    # Breadth-first search over open cells.
    dist = {start: 0}
    queue = deque([start])
    while queue:
        cell = queue.popleft()
        if cell == goal:
            return dist[cell]
        for nxt in neighbors(grid, *cell):
            if nxt not in dist:
                dist[nxt] = dist[cell] + 1
                queue.append(nxt)
    return -1


def main():
    n, m = read_ints()
    grid = [sys.stdin.readline().strip() for _ in range(n)]
    start = goal = None
    for i in range(n):
        for j in range(m):
            if grid[i][j] == 'S':
                start = (i, j)
            elif grid[i][j] == 'G':
                goal = (i, j)
    print(shortest_path(grid, start, goal))


main()
