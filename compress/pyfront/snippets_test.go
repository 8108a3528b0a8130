package pyfront

import (
	"context"
	"testing"
)

// snippets cover syntax the corpus does not; each prints what it computes.
var snippets = []struct{ name, src string }{
	{"precedence", "a, b, c = 2, 3, 4\nprint((a + b) * c, a + b * c, -a ** 2, (-a) ** 2, a ** -1, not a == b, (not a) == b, a if b else c, (a if b else c) + 1)\nprint((lambda: a)(), [lambda: 1][0](), (a, b)[0], (1).real, 1 .real, 2.5.real, a < b < c, (a < b) < c)\n"},
	{"strings", "x = 3\nw = 6\nprint(f'{x!r:>{w}}|', f\"{'q'}\", f'{x + 1}', f'{{x}}', rb'\\d' b'a', 'a' 'b', r'\\n', u'é', f'{ {x: 1}[x] }', '''tri\nple''', \"a;b%c(d)\")\n"},
	{"numbers", "print(0x1F, 0o17, 0b101, 1_000, 1e-3, 1j, .5, 1., 10 // 3, 10 % 3, 7 / 2, 2 @ 3 if False else 0, ~5, 1 << 3 >> 1, 6 & 3 | 8 ^ 1)\n"},
	{"comprehensions", "xs = [3, 1, 2]\nprint([x * y for x in xs for y in xs if x != y], {x: x * x for x in xs}, {x % 2 for x in xs}, sum(x for x in xs), list(x for x in xs if x > 1))\nprint([y for x in xs if (y := x * 2) > 2], y)\n"},
	{"functions", "def f(a, /, b, *args, c=1, d: int = 2, **kw) -> int:\n    return a + b + sum(args) + c + d + len(kw)\ndef g(*, k):\n    return k\nprint(f(1, 2, 3, 4, c=5, z=6), g(k=7), f(*[1, 2], **{'c': 0}))\n"},
	{"closures", "def outer(n):\n    total = 0\n    def add(k):\n        nonlocal total\n        total += k + n\n        return total\n    add(1)\n    add(2)\n    return total, [add(i) for i in range(2)]\nprint(outer(10))\n"},
	{"globals", "count = 0\ndef bump():\n    global count\n    count += 1\n    return count\nbump()\nprint(bump(), count)\n"},
	{"classes", "class Base:\n    scale = 2\n    def __init__(self, v):\n        self.v = v\n    def get(self):\n        return self.v * self.scale\nclass Sub(Base):\n    scale = 3\n    def get(self):\n        return super().get() + 1\n    @staticmethod\n    def make(v):\n        return Sub(v)\n    @property\n    def twice(self):\n        return self.get() * 2\nprint(Sub.make(4).get(), Sub(1).twice, Base(5).get())\n"},
	{"class in function", "def make(k):\n    class K:\n        val = k\n        def f(self):\n            return k + self.val\n    return K().f()\nprint(make(3))\n"},
	{"exceptions", "def f(x):\n    try:\n        if x < 0:\n            raise ValueError('neg')\n        r = 10 // x\n    except ZeroDivisionError:\n        return 'zero'\n    except (ValueError, TypeError) as e:\n        return 'bad ' + str(e)\n    else:\n        return r\n    finally:\n        print('done', x)\nprint(f(0), f(-1), f(3))\n"},
	{"loops", "i = 0\nwhile i < 10:\n    i += 3\n    if i == 6:\n        continue\nelse:\n    print('end', i)\nfor j in range(5):\n    if j == 3:\n        break\nelse:\n    print('no break')\nprint(i, j)\n"},
	{"generators", "def gen(n):\n    yield 0\n    yield from range(n)\n    x = yield\n    return x\ng = gen(2)\nprint(next(g), list(g))\n"},
	{"with and del", "import io\nwith io.StringIO('a\\nb') as f, io.StringIO() as g:\n    g.write(f.read())\n    out = g.getvalue()\nd = {'a': 1, 'b': 2}\ndel d['a'], out\nassert d, 'empty'\nprint(d)\n"},
	{"slices", "a = list(range(10))\nprint(a[1:], a[:2], a[::3], a[1:8:2], a[-1], a[::-1], a[:], a[slice(2)])\na[1:3] = [9]\nprint(a)\n"},
	{"star targets", "a, *b = [1, 2, 3]\n[c, d] = 4, 5\n(e, (f, g)) = 6, (7, 8)\nprint(a, b, c, d, e, f, g, *b, *[1], {**{'x': 1}, 'y': 2}, *'ab'.upper(), *[[3]][0])\n"},
	{"unicode and odd names", "lam = 1\nnil = 2\nv0 = 3\nc1 = 4\nπ = 3.14\ndef f(a):\n    return a + v0 + c1\nprint(lam + nil, f(1), π, [v0 for v0 in range(2)], v0)\n"},
	{"keyword param names", "def area(w, h=1):\n    return w * h\nprint(area(2, h=3), area(w=4))\n"},
	{"dynamic", "def f(a, b):\n    return sorted(locals())\nprint(f(1, 2))\n"},
	{"async", "import asyncio\nasync def f(x):\n    await asyncio.sleep(0)\n    return x * 2\nasync def main():\n    async def agen():\n        yield 1\n    print(await f(3), [v async for v in agen()])\nasyncio.run(main())\n"},
	{"decorators", "import functools\ndef deco(fn):\n    @functools.wraps(fn)\n    def wrap(*a, **k):\n        return fn(*a, **k) + 1\n    return wrap\n@deco\ndef h(x):\n    return x\nprint(h(1), h.__name__)\n"},
	{"conditional imports", "from __future__ import annotations\nimport os.path as osp, sys\nfrom collections import Counter as C, deque\nfrom os import *\nprint(osp.basename('/a/b'), C('aab').most_common(1), type(deque()).__name__)\n"},
	{"annotations", "x: int = 5\ny: list[int]\nq: dict[str, list[int]] = {}\ndef f(a: 'int', *r: int, **k: str) -> None:\n    z: int = a\n    print(z, r, k)\nf(x, 1, q='s')\n"},
	{"parenthesised yield and walrus", "def g():\n    x = yield\n    y = (yield x)\n    print(x, y)\nit = g()\nnext(it)\nit.send(1)\ntry:\n    it.send(2)\nexcept StopIteration:\n    pass\nif (n := 5) > 3:\n    print(n)\n"},
	{"lambda scopes", "fs = [lambda x, i=i: x + i for i in range(3)]\nadd = lambda a, b=2: a + b\nprint([f(10) for f in fs], add(1), (lambda *a, **k: (a, k))(1, b=2))\n"},
	{"shadowed builtins", "def f(list, max=3):\n    len = 2\n    return list[:len] * max\ndef g(xs):\n    return list(map(len, xs)), max(xs)\nprint(f([1, 2, 3], 2), g(['a', 'bb']))\n"},
	{"class-level comprehension", "class A:\n    xs = [1, 2, 3]\n    ys = [x * 2 for x in xs]\n    n = len(ys)\nprint(A.ys, A.n)\n"},
	{"recursion and nested helpers", "def solve(n):\n    memo = {}\n    def fib(k):\n        if k < 2:\n            return k\n        if k not in memo:\n            memo[k] = fib(k - 1) + fib(k - 2)\n        return memo[k]\n    return fib(n)\nprint(solve(30))\n"},
	{"late binding closures", "def make():\n    fs = []\n    for i in range(3):\n        fs.append(lambda: i)\n    i = 10\n    return [f() for f in fs]\nprint(make())\n"},
	{"global from nested function", "total = 0\ndef outer():\n    def inner(k):\n        global total\n        total += k\n    for k in range(4):\n        inner(k)\n    return total\nprint(outer(), total)\n"},
	{"unbound local kept", "x = 1\ndef f():\n    try:\n        print(x)\n    except NameError as e:\n        print(type(e).__name__)\n    x = 2\n    return x\nprint(f())\n"},
	{"crlf, tabs and no final newline", "def f(a):\r\n\tif a:\r\n\t\treturn [a,\r\n\t\t\t1]\r\n\treturn None\r\nprint(f(2), f(0))"},
	{"line continuations", "x = 1 + \\\n    2\ny = (3 +\n     4)\nprint(x, y, 'a' \\\n      'b')\n"},
	{"variable named locals", "def f():\n    locals = 3\n    def g():\n        y = locals + 1\n        return y\n    return g()\nprint(f())\n"},
	{"comments everywhere", "# head\nx = [1,  # one\n     2]  # two\n\n\ndef f():  # c\n    # inner\n    return x  # r\nprint(f())\n"},
}

func TestSnippetRoundTrip(t *testing.T) {
	for _, s := range snippets {
		t.Run(s.name, func(t *testing.T) {
			e1 := mustEncode(t, s.src)
			py, err := Decode(e1)
			if err != nil {
				t.Fatalf("decode: %v\n%s", err, e1)
			}
			if err := Check(context.Background(), []byte(py)); err != nil {
				t.Fatalf("decoded Python does not parse: %v\n%s", err, py)
			}
			if e2 := mustEncode(t, py); e1 != e2 {
				t.Fatalf("not a fixed point:\n%s\n%s\n%s", e1, e2, py)
			}
			want, got := run(t, s.src, ""), run(t, py, "")
			if want.ExitCode != 0 {
				t.Fatalf("original fails: %s", want.Stderr)
			}
			if got.Stdout != want.Stdout || got.ExitCode != 0 {
				t.Fatalf("outputs differ:\nwant %q\ngot  %q %s\n%s", want.Stdout, got.Stdout, got.Stderr, py)
			}
		})
	}
}
