def read_ints():
    return list(map(int, input().split()))


def read_matrix(n):
    return [read_ints() for _ in range(n)]


def transpose(m):
    return [list(row) for row in zip(*m)]


def rotate(m):
    return [row[::-1] for row in transpose(m)]


def matmul(a, b):
    bt = transpose(b)
    return [[sum(x * y for x, y in zip(row, col)) for col in bt] for row in a]


def show(m):
    for row in m:
        print(' '.join(map(str, row)))


n = int(input())
a = read_matrix(n)
show(rotate(a))
print('-' * 5)
show(matmul(a, transpose(a)))
total = 0
for i in range(n):
    total += a[i][i]
print('trace', total, 'max', max(max(r) for r in a))
