import heapq


def read_ints():
    return list(map(int, input().split()))


def schedule(jobs, workers):
    # Greedy: longest job first onto the least loaded worker.
    heap = [(0, w) for w in range(workers)]
    heapq.heapify(heap)
    assignment = {w: [] for w in range(workers)}
    for duration, name in sorted(jobs, reverse=True):
        load, w = heapq.heappop(heap)
        assignment[w].append(name)
        heapq.heappush(heap, (load + duration, w))
    makespan = max(load for load, _ in heap)
    return makespan, assignment


def counter():
    count = 0

    def bump(step=1):
        nonlocal count
        count += step
        return count
    return bump


n, workers = read_ints()
jobs = []
for i in range(n):
    parts = input().split()
    jobs.append((int(parts[1]), parts[0]))
makespan, assignment = schedule(jobs, workers)
print('makespan', makespan)
for w in sorted(assignment):
    print(w, ','.join(assignment[w]) or '-')
tick = counter()
tick()
tick(5)
print('ticks', tick(step=2))
