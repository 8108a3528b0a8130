import sys
from collections import Counter


def is_palindrome(s):
    s = [c.lower() for c in s if c.isalpha()]
    return s == s[::-1]


def caesar(text, shift):
    result = []
    for ch in text:
        if ch.isupper():
            result.append(chr((ord(ch) - ord('A') + shift) % 26 + ord('A')))
        elif ch.islower():
            result.append(chr((ord(ch) - ord('a') + shift) % 26 + ord('a')))
        else:
            result.append(ch)
    return ''.join(result)


def run_length(s):
    if not s:
        return ""
    out = []
    prev, count = s[0], 1
    for ch in s[1:]:
        if ch == prev:
            count += 1
        else:
            out.append(f"{prev}{count}")
            prev, count = ch, 1
    out.append(f"{prev}{count}")
    return "".join(out)


def anagrams(a, b):
    return Counter(a.replace(" ", "").lower()) == Counter(b.replace(" ", "").lower())


data = sys.stdin.read().split("\n")
for line in data:
    if not line.strip():
        continue
    print(line, "->", is_palindrome(line), caesar(line, 3), run_length(line))
print(anagrams("Dormitory", "dirty room"), anagrams("abc", "abd"))
