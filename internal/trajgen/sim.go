package trajgen

import (
	"sort"
	"strings"
)

// The simulator computes, without running Python, what a generated program
// does on an input: the value solve returns, or the exception it raises and
// where. Each helper's Go twin follows the Python source in helpers.go, in
// its correct or its buggy form.

// pyErr is a Python exception raised during simulation. helper is -1 when
// the exception comes from solve's own line.
type pyErr struct {
	typ, msg string
	helper   helperID
	hline    int // line within the helper's definition (0 = the def line)
	// solveLine is the solve body line executing when it was raised.
	solveLine int
}

// env is the state of one simulated call of solve.
type env struct {
	buggy uint32 // helpers defined in their buggy form, by bit
	line  int    // index of the solve body line being executed
}

func (e *env) isBuggy(h helperID) bool { return e.buggy&(1<<uint(h)) != 0 }

// at records that solve is executing body line i.
func (e *env) at(i int) { e.line = i }

func raiseIn(h helperID, line int, typ, msg string) {
	panic(&pyErr{typ: typ, msg: msg, helper: h, hline: line})
}

func raise(typ, msg string) {
	panic(&pyErr{typ: typ, msg: msg, helper: -1})
}

const notIterable = "'function' object is not iterable"

func filterBy(xs []any, p func(any) bool) []any {
	out := []any{}
	for _, v := range xs {
		if p(v) {
			out = append(out, v)
		}
	}
	return out
}

func mapEach(xs []any, f func(any) any) []any {
	out := make([]any, len(xs))
	for i, v := range xs {
		out[i] = f(v)
	}
	return out
}

func countWhere(xs []any, p func(any) bool) int {
	n := 0
	for _, v := range xs {
		if p(v) {
			n++
		}
	}
	return n
}

func (e *env) chunk(xs []any, n int) []any {
	end := len(xs)
	if e.isBuggy(hChunk) {
		end = len(xs) - n
	}
	out := []any{}
	for i := 0; i < end; i += n {
		j := min(i+n, len(xs))
		out = append(out, append([]any{}, xs[i:j]...))
	}
	return out
}

// pairwise returns the consecutive pairs as two-element lists (Python
// tuples, which never reach the output).
func (e *env) pairwise(xs []any) [][2]int {
	out := [][2]int{}
	end := len(xs) - 1
	if e.isBuggy(hPairwise) {
		end = len(xs)
	}
	for i := 0; i < end; i++ {
		if i+1 >= len(xs) {
			raiseIn(hPairwise, 3, "IndexError", "list index out of range")
		}
		out = append(out, [2]int{xs[i].(int), xs[i+1].(int)})
	}
	return out
}

func (e *env) windowSums(xs []any, k int) []any {
	end := len(xs) - k + 1
	if e.isBuggy(hWindowSums) {
		end = len(xs) - k
	}
	out := []any{}
	for i := 0; i < end; i++ {
		s := 0
		for _, v := range xs[i:min(i+k, len(xs))] {
			s += v.(int)
		}
		out = append(out, s)
	}
	return out
}

func dedupe(xs []any) []any {
	out := []any{}
	for _, v := range xs {
		dup := false
		for _, o := range out {
			if pyEqual(o, v) {
				dup = true
				break
			}
		}
		if !dup {
			out = append(out, v)
		}
	}
	return out
}

func gridOf(v any) [][]any {
	rows := v.([]any)
	g := make([][]any, len(rows))
	for i, r := range rows {
		g[i] = r.([]any)
	}
	return g
}

// zipColumns is [list(row) for row in zip(*g)].
func zipColumns(g [][]any) [][]any {
	if len(g) == 0 {
		return nil
	}
	w := len(g[0])
	for _, r := range g {
		w = min(w, len(r))
	}
	cols := make([][]any, w)
	for c := range w {
		col := make([]any, len(g))
		for r := range g {
			col[r] = g[r][c]
		}
		cols[c] = col
	}
	return cols
}

func listOfRows(rows [][]any) []any {
	out := make([]any, len(rows))
	for i, r := range rows {
		out[i] = r
	}
	return out
}

func reversed(xs []any) []any {
	out := make([]any, len(xs))
	for i, v := range xs {
		out[len(xs)-1-i] = v
	}
	return out
}

func (e *env) transpose(v any) []any {
	g := gridOf(v)
	if !e.isBuggy(hTranspose) {
		return listOfRows(zipColumns(g))
	}
	out := []any{}
	for c := 0; c < len(g); c++ {
		col := []any{}
		for r := 0; r < len(g); r++ {
			if c >= len(g[r]) {
				raiseIn(hTranspose, 1, "IndexError", "list index out of range")
			}
			col = append(col, g[r][c])
		}
		out = append(out, col)
	}
	return out
}

func rotateCW(v any) []any {
	cols := zipColumns(gridOf(v))
	out := make([]any, len(cols))
	for i, c := range cols {
		out[i] = reversed(c)
	}
	return out
}

func rotateCCW(v any) []any {
	return reversed(listOfRows(zipColumns(gridOf(v))))
}

func flipH(v any) []any {
	rows := v.([]any)
	out := make([]any, len(rows))
	for i, r := range rows {
		out[i] = reversed(r.([]any))
	}
	return out
}

func flatten(v any) []any {
	out := []any{}
	for _, r := range v.([]any) {
		out = append(out, r.([]any)...)
	}
	return out
}

func (e *env) runLength(s string) []any {
	out := []any{}
	for i := 0; i < len(s); i++ {
		ch := s[i : i+1]
		if e.isBuggy(hRunLength) && len(out) == 0 {
			raiseIn(hRunLength, 3, "IndexError", "list index out of range")
		}
		if n := len(out); n > 0 && out[n-1].([]any)[0] == ch {
			last := out[n-1].([]any)
			last[1] = last[1].(int) + 1
		} else {
			out = append(out, []any{ch, 1})
		}
	}
	return out
}

func (e *env) shiftChar(c byte, k int) byte {
	if e.isBuggy(hShiftChar) {
		return byte(pyMod(int(c)+k, 26) + 97)
	}
	return byte(pyMod(int(c)-97+k, 26) + 97)
}

func words(s string) []any {
	f := strings.Fields(s)
	out := make([]any, len(f))
	for i, w := range f {
		out[i] = w
	}
	return out
}

// digitSum is sum(digits(n)), raising the TypeError of the buggy digits.
func (e *env) digitSum(n int) int {
	s := itoa(n)
	if e.isBuggy(hDigits) {
		raise("TypeError", "unsupported operand type(s) for +: 'int' and 'str'")
	}
	t := 0
	for i := 0; i < len(s); i++ {
		t += int(s[i] - '0')
	}
	return t
}

func (e *env) isPrime(n int) bool {
	if n < 2 {
		return false
	}
	for i := 2; ; i++ {
		if e.isBuggy(hIsPrime) {
			if i*i >= n {
				return true
			}
		} else if i*i > n {
			return true
		}
		if n%i == 0 {
			return false
		}
	}
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, pyMod(a, b)
	}
	return a
}

func (e *env) collatzLen(n int) int {
	steps := 0
	if e.isBuggy(hCollatzLen) {
		steps = 1
	}
	for n != 1 {
		if n%2 == 0 {
			n /= 2
		} else {
			n = 3*n + 1
		}
		steps++
	}
	return steps
}

func (e *env) clamp(v, lo, hi int) int {
	if e.isBuggy(hClamp) {
		return min(lo, max(v, hi))
	}
	return max(lo, min(v, hi))
}

func (e *env) fib(n int) int {
	steps := n
	if e.isBuggy(hFib) {
		steps = n - 1
	}
	a, b := 0, 1
	for range max(steps, 0) {
		a, b = b, a+b
	}
	return a
}

// sumInts is Python's sum over a list, raising its TypeError on a
// non-int item.
func sumInts(xs []any) int {
	t := 0
	for _, v := range xs {
		switch v := v.(type) {
		case int:
			t += v
		case []any:
			raise("TypeError", "unsupported operand type(s) for +: 'int' and 'list'")
		case string:
			raise("TypeError", "unsupported operand type(s) for +: 'int' and 'str'")
		}
	}
	return t
}

func maxInts(xs []any) int {
	m := xs[0].(int)
	for _, v := range xs[1:] {
		m = max(m, v.(int))
	}
	return m
}

func sortInts(xs []any, reverse bool) []any {
	v := make([]int, len(xs))
	for i, x := range xs {
		v[i] = x.(int)
	}
	if reverse {
		sort.Sort(sort.Reverse(sort.IntSlice(v)))
	} else {
		sort.Ints(v)
	}
	return ints(v)
}

func itoa(n int) string {
	var b strings.Builder
	pyRepr(&b, n)
	return b.String()
}
