package trajgen

import (
	"math/rand/v2"
	"strings"
)

// helperID names one function of the shared helper vocabulary.
type helperID int

const (
	hFilterBy helperID = iota
	hMapEach
	hCountWhere
	hChunk
	hPairwise
	hWindowSums
	hDedupe
	hTranspose
	hRotateCW
	hRotateCCW
	hFlipH
	hFlatten
	hRunLength
	hShiftChar
	hWords
	hDigits
	hIsPrime
	hGCD
	hFold
	hCollatzLen
	hFreq
	hClamp
	hFib
	numHelpers
)

// helperDef is the Python source of a helper, with {slot} placeholders for
// the names of its parameters and locals, which vary between trajectories.
type helperDef struct {
	name  string
	slots []string
	lines []string
	// bugLines, when set, is the helper as an agent might wrongly write it;
	// bugKind labels that bug.
	bugLines []string
	bugKind  string
	bugNote  string
}

// namePools are the names a slot may take. Pools that can meet in one
// function are disjoint.
var namePools = map[string][]string{
	"xs":     {"xs", "items", "values", "nums", "seq", "arr", "data", "lst"},
	"xss":    {"xss", "lists", "groups", "nested", "rows"},
	"v":      {"v", "item", "val", "e", "elem", "y"},
	"p":      {"p", "pred", "cond", "keep", "test_fn"},
	"f":      {"f", "fn", "func", "op", "transform"},
	"out":    {"out", "res", "result", "buf", "collected"},
	"i":      {"i", "j", "idx", "pos"},
	"n":      {"n", "size", "width", "step"},
	"k":      {"k", "span", "width", "size"},
	"g":      {"g", "grid", "m", "mat", "board"},
	"row":    {"row", "line", "cells", "col"},
	"r":      {"r", "y", "ri", "row_i"},
	"c":      {"c", "x", "ci", "col_i"},
	"s":      {"s", "text", "st", "word", "src"},
	"ch":     {"ch", "c", "char", "letter"},
	"seen":   {"seen", "visited", "known", "done"},
	"a":      {"a", "x", "u", "p"},
	"b":      {"b", "y", "w", "q"},
	"acc":    {"acc", "total", "state", "cur"},
	"counts": {"counts", "tally", "hist", "table"},
	"num":    {"n", "num", "m", "val"},
	"steps":  {"steps", "count", "moves", "k"},
	"d":      {"d", "digit", "ch", "c"},
	"lo":     {"lo", "low", "bottom"},
	"hi":     {"hi", "high", "top"},
	"loop":   {"_", "i", "step"},
	// solve's locals and lambda parameters
	"s1": {"kept", "picked", "parts", "tmp", "cur", "items", "vals", "stage"},
	"s2": {"out", "res", "mapped", "step2", "vals2", "done"},
	"lv": {"v", "n", "e", "y", "item", "num"},
	"lc": {"c", "ch", "letter"},
	"lw": {"w", "word", "tok"},
	"lp": {"p", "prev", "a", "left"},
	"lq": {"q", "nxt", "b", "right"},
}

var helperDefs = [numHelpers]helperDef{
	hFilterBy: {
		name:  "filter_by",
		slots: []string{"xs", "p", "v"},
		lines: []string{
			"def filter_by({xs}, {p}):",
			"    return [{v} for {v} in {xs} if {p}({v})]",
		},
	},
	hMapEach: {
		name:  "map_each",
		slots: []string{"xs", "f", "v"},
		lines: []string{
			"def map_each({xs}, {f}):",
			"    return [{f}({v}) for {v} in {xs}]",
		},
	},
	hCountWhere: {
		name:  "count_where",
		slots: []string{"xs", "p", "v", "n"},
		lines: []string{
			"def count_where({xs}, {p}):",
			"    {n} = 0",
			"    for {v} in {xs}:",
			"        if {p}({v}):",
			"            {n} += 1",
			"    return {n}",
		},
	},
	hChunk: {
		name:  "chunk",
		slots: []string{"xs", "n", "i"},
		lines: []string{
			"def chunk({xs}, {n}):",
			"    return [{xs}[{i}:{i} + {n}] for {i} in range(0, len({xs}), {n})]",
		},
		bugLines: []string{
			"def chunk({xs}, {n}):",
			"    return [{xs}[{i}:{i} + {n}] for {i} in range(0, len({xs}) - {n}, {n})]",
		},
		bugKind: "off_by_one",
		bugNote: "the range in chunk stops one chunk early",
	},
	hPairwise: {
		name:  "pairwise",
		slots: []string{"xs", "out", "i"},
		lines: []string{
			"def pairwise({xs}):",
			"    {out} = []",
			"    for {i} in range(len({xs}) - 1):",
			"        {out}.append(({xs}[{i}], {xs}[{i} + 1]))",
			"    return {out}",
		},
		bugLines: []string{
			"def pairwise({xs}):",
			"    {out} = []",
			"    for {i} in range(len({xs})):",
			"        {out}.append(({xs}[{i}], {xs}[{i} + 1]))",
			"    return {out}",
		},
		bugKind: "index_error",
		bugNote: "pairwise loops one index too far",
	},
	hWindowSums: {
		name:  "window_sums",
		slots: []string{"xs", "k", "out", "i"},
		lines: []string{
			"def window_sums({xs}, {k}):",
			"    {out} = []",
			"    for {i} in range(len({xs}) - {k} + 1):",
			"        {out}.append(sum({xs}[{i}:{i} + {k}]))",
			"    return {out}",
		},
		bugLines: []string{
			"def window_sums({xs}, {k}):",
			"    {out} = []",
			"    for {i} in range(len({xs}) - {k}):",
			"        {out}.append(sum({xs}[{i}:{i} + {k}]))",
			"    return {out}",
		},
		bugKind: "off_by_one",
		bugNote: "window_sums skips the last window",
	},
	hDedupe: {
		name:  "dedupe",
		slots: []string{"xs", "seen", "out", "v"},
		lines: []string{
			"def dedupe({xs}):",
			"    {seen} = set()",
			"    {out} = []",
			"    for {v} in {xs}:",
			"        if {v} not in {seen}:",
			"            {seen}.add({v})",
			"            {out}.append({v})",
			"    return {out}",
		},
	},
	hTranspose: {
		name:  "transpose",
		slots: []string{"g", "row", "r", "c"},
		lines: []string{
			"def transpose({g}):",
			"    return [list({row}) for {row} in zip(*{g})]",
		},
		bugLines: []string{
			"def transpose({g}):",
			"    return [[{g}[{r}][{c}] for {r} in range(len({g}))] for {c} in range(len({g}))]",
		},
		bugKind: "off_by_one",
		bugNote: "transpose takes the column count from the number of rows",
	},
	hRotateCW: {
		name:  "rotate_cw",
		slots: []string{"g", "row"},
		lines: []string{
			"def rotate_cw({g}):",
			"    return [list({row})[::-1] for {row} in zip(*{g})]",
		},
	},
	hRotateCCW: {
		name:  "rotate_ccw",
		slots: []string{"g", "row"},
		lines: []string{
			"def rotate_ccw({g}):",
			"    return [list({row}) for {row} in zip(*{g})][::-1]",
		},
	},
	hFlipH: {
		name:  "flip_h",
		slots: []string{"g", "row"},
		lines: []string{
			"def flip_h({g}):",
			"    return [{row}[::-1] for {row} in {g}]",
		},
	},
	hFlatten: {
		name:  "flatten",
		slots: []string{"xss", "out", "xs"},
		lines: []string{
			"def flatten({xss}):",
			"    {out} = []",
			"    for {xs} in {xss}:",
			"        {out}.extend({xs})",
			"    return {out}",
		},
	},
	hRunLength: {
		name:  "run_length",
		slots: []string{"s", "out", "ch"},
		lines: []string{
			"def run_length({s}):",
			"    {out} = []",
			"    for {ch} in {s}:",
			"        if {out} and {out}[-1][0] == {ch}:",
			"            {out}[-1][1] += 1",
			"        else:",
			"            {out}.append([{ch}, 1])",
			"    return {out}",
		},
		bugLines: []string{
			"def run_length({s}):",
			"    {out} = []",
			"    for {ch} in {s}:",
			"        if {out}[-1][0] == {ch}:",
			"            {out}[-1][1] += 1",
			"        else:",
			"            {out}.append([{ch}, 1])",
			"    return {out}",
		},
		bugKind: "index_error",
		bugNote: "run_length reads the last run before there is one",
	},
	hShiftChar: {
		name:  "shift_char",
		slots: []string{"ch", "k"},
		lines: []string{
			"def shift_char({ch}, {k}):",
			"    return chr((ord({ch}) - 97 + {k}) % 26 + 97)",
		},
		bugLines: []string{
			"def shift_char({ch}, {k}):",
			"    return chr((ord({ch}) + {k}) % 26 + 97)",
		},
		bugKind: "wrong_answer",
		bugNote: "shift_char forgets to subtract ord('a') before wrapping",
	},
	hWords: {
		name:  "words",
		slots: []string{"s"},
		lines: []string{
			"def words({s}):",
			"    return {s}.split()",
		},
	},
	hDigits: {
		name:  "digits",
		slots: []string{"num", "d"},
		lines: []string{
			"def digits({num}):",
			"    return [int({d}) for {d} in str({num})]",
		},
		bugLines: []string{
			"def digits({num}):",
			"    return [{d} for {d} in str({num})]",
		},
		bugKind: "type_error",
		bugNote: "digits returns the digit characters, not ints",
	},
	hIsPrime: {
		name:  "is_prime",
		slots: []string{"num", "i"},
		lines: []string{
			"def is_prime({num}):",
			"    if {num} < 2:",
			"        return False",
			"    {i} = 2",
			"    while {i} * {i} <= {num}:",
			"        if {num} % {i} == 0:",
			"            return False",
			"        {i} += 1",
			"    return True",
		},
		bugLines: []string{
			"def is_prime({num}):",
			"    if {num} < 2:",
			"        return False",
			"    {i} = 2",
			"    while {i} * {i} < {num}:",
			"        if {num} % {i} == 0:",
			"            return False",
			"        {i} += 1",
			"    return True",
		},
		bugKind: "off_by_one",
		bugNote: "is_prime stops trial division one step early, so squares of primes pass",
	},
	hGCD: {
		name:  "gcd",
		slots: []string{"a", "b"},
		lines: []string{
			"def gcd({a}, {b}):",
			"    while {b}:",
			"        {a}, {b} = {b}, {a} % {b}",
			"    return {a}",
		},
	},
	hFold: {
		name:  "fold",
		slots: []string{"xs", "f", "acc", "v"},
		lines: []string{
			"def fold({xs}, {f}, {acc}):",
			"    for {v} in {xs}:",
			"        {acc} = {f}({acc}, {v})",
			"    return {acc}",
		},
	},
	hCollatzLen: {
		name:  "collatz_len",
		slots: []string{"num", "steps"},
		lines: []string{
			"def collatz_len({num}):",
			"    {steps} = 0",
			"    while {num} != 1:",
			"        {num} = {num} // 2 if {num} % 2 == 0 else 3 * {num} + 1",
			"        {steps} += 1",
			"    return {steps}",
		},
		bugLines: []string{
			"def collatz_len({num}):",
			"    {steps} = 1",
			"    while {num} != 1:",
			"        {num} = {num} // 2 if {num} % 2 == 0 else 3 * {num} + 1",
			"        {steps} += 1",
			"    return {steps}",
		},
		bugKind: "off_by_one",
		bugNote: "collatz_len starts counting at 1",
	},
	hFreq: {
		name:  "freq",
		slots: []string{"xs", "counts", "v"},
		lines: []string{
			"def freq({xs}):",
			"    {counts} = {}",
			"    for {v} in {xs}:",
			"        {counts}[{v}] = {counts}.get({v}, 0) + 1",
			"    return {counts}",
		},
	},
	hClamp: {
		name:  "clamp",
		slots: []string{"v", "lo", "hi"},
		lines: []string{
			"def clamp({v}, {lo}, {hi}):",
			"    return max({lo}, min({v}, {hi}))",
		},
		bugLines: []string{
			"def clamp({v}, {lo}, {hi}):",
			"    return min({lo}, max({v}, {hi}))",
		},
		bugKind: "wrong_helper",
		bugNote: "clamp has min and max swapped",
	},
	hFib: {
		name:  "fib",
		slots: []string{"num", "a", "b", "loop"},
		lines: []string{
			"def fib({num}):",
			"    {a}, {b} = 0, 1",
			"    for {loop} in range({num}):",
			"        {a}, {b} = {b}, {a} + {b}",
			"    return {a}",
		},
		bugLines: []string{
			"def fib({num}):",
			"    {a}, {b} = 0, 1",
			"    for {loop} in range({num} - 1):",
			"        {a}, {b} = {b}, {a} + {b}",
			"    return {a}",
		},
		bugKind: "off_by_one",
		bugNote: "fib runs the loop one time too few",
	},
}

// maxSlots bounds the slots of one function.
const maxSlots = 10

// slotVals maps slot names to the names (or literal values) they take.
type slotVals struct {
	n          int
	keys, vals [maxSlots]string
}

func (s *slotVals) set(k, v string) {
	for i := range s.n {
		if s.keys[i] == k {
			s.vals[i] = v
			return
		}
	}
	if s.n == maxSlots {
		panic("trajgen: too many slots")
	}
	s.keys[s.n], s.vals[s.n] = k, v
	s.n++
}

func (s *slotVals) get(k string) string {
	for i := range s.n {
		if s.keys[i] == k {
			return s.vals[i]
		}
	}
	panic("trajgen: no value for slot {" + k + "}")
}

// slotter gives the value of a slot.
type slotter interface {
	get(k string) string
}

// helperSlots are the names of one helper's slots, in the order of its
// helperDef.slots.
type helperSlots struct {
	slots []string
	vals  [maxHelperSlots]string
}

// maxHelperSlots bounds the slots of a helper.
const maxHelperSlots = 4

func (h *helperSlots) get(k string) string {
	for i, s := range h.slots {
		if s == k {
			return h.vals[i]
		}
	}
	panic("trajgen: no value for slot {" + k + "}")
}

// pickHelperNames chooses distinct names for a helper's slots.
func pickHelperNames(r *rand.Rand, slots []string, into *helperSlots) {
	into.slots = slots
	for k, slot := range slots {
		pool := namePools[slot]
		j := r.IntN(len(pool))
		for tries := 0; contains(into.vals[:k], pool[j]) && tries < len(pool); tries++ {
			j = (j + 1) % len(pool)
		}
		into.vals[k] = pool[j]
	}
}

// render writes line with every {slot} replaced.
func render(b *strings.Builder, line string, s slotter) {
	for {
		i := strings.IndexByte(line, '{')
		if i < 0 {
			b.WriteString(line)
			return
		}
		j := strings.IndexByte(line[i:], '}')
		if j == 1 { // a literal "{}"
			b.WriteString(line[:i+2])
			line = line[i+2:]
			continue
		}
		b.WriteString(line[:i])
		b.WriteString(s.get(line[i+1 : i+j]))
		line = line[i+j+1:]
	}
}

func renderString(line string, s slotter) string {
	var b strings.Builder
	render(&b, line, s)
	return b.String()
}

// pickNames chooses distinct names for slots from their pools.
func pickNames(r *rand.Rand, slots []string, into *slotVals) {
	var used [maxSlots]string
	for k, slot := range slots {
		pool := namePools[slot]
		j := r.IntN(len(pool))
		for tries := 0; contains(used[:k], pool[j]) && tries < len(pool); tries++ {
			j = (j + 1) % len(pool)
		}
		used[k] = pool[j]
		into.set(slot, pool[j])
	}
}

func contains(xs []string, s string) bool { return indexOf(xs, s) >= 0 }

func indexOf(xs []string, s string) int {
	for i, x := range xs {
		if x == s {
			return i
		}
	}
	return -1
}

// helperDocs says in a few words what each helper does, for thoughts.
var helperDocs = [numHelpers]string{
	hFilterBy:   "keeps the items that satisfy a predicate",
	hMapEach:    "applies a function to every item",
	hCountWhere: "counts the items that satisfy a predicate",
	hChunk:      "splits a list into consecutive pieces of a given size",
	hPairwise:   "pairs each element with the next one",
	hWindowSums: "sums every window of k consecutive elements",
	hDedupe:     "drops repeated values but keeps the first occurrence",
	hTranspose:  "turns the rows of a grid into columns",
	hRotateCW:   "rotates a grid a quarter turn clockwise",
	hRotateCCW:  "rotates a grid a quarter turn counter-clockwise",
	hFlipH:      "mirrors every row of a grid",
	hFlatten:    "concatenates a list of lists",
	hRunLength:  "groups runs of equal characters with their lengths",
	hShiftChar:  "shifts a lowercase letter around the alphabet",
	hWords:      "splits a sentence into words",
	hDigits:     "lists the decimal digits of a number",
	hIsPrime:    "tests a number for primality by trial division",
	hGCD:        "computes the greatest common divisor with Euclid's algorithm",
	hFold:       "folds a binary function over a list",
	hCollatzLen: "counts the Collatz steps down to 1",
	hFreq:       "counts how often each item occurs",
	hClamp:      "limits a value to a range",
	hFib:        "computes Fibonacci numbers iteratively",
}
