import sys


def read_lines():
    return [line.rstrip('\n') for line in sys.stdin]


def normalize(word):
    return ''.join(ch for ch in word.lower() if ch.isalnum())


def count_words(lines):
    counts = {}
    for line in lines:
        for word in line.split():
            w = normalize(word)
            if not w:
                continue
            counts[w] = counts.get(w, 0) + 1
    return counts


def top_k(counts, k):
    items = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return items[:k]


lines = read_lines()
counts = count_words(lines)
for word, n in top_k(counts, 3):
    print(f"{word}: {n}")
print(f"distinct={len(counts)} total={sum(counts.values())!r:>4}")
longest = max(counts, key=len) if counts else ""
print("longest", longest, len(longest))
