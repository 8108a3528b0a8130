package trajgen

import (
	"math/rand/v2"
	"strconv"
	"strings"
)

// template is a family of tasks: a parameterised description, an input
// distribution, a correct solution and the bugs an agent might make.
type template struct {
	name, domain string
	// params draws the task's integer parameters.
	params func(r *rand.Rand) []int
	// slots fills the solve slots that depend on the parameters.
	slots    func(p []int, s *slotVals)
	describe func(p []int) string
	input    func(r *rand.Rand, p []int) any
	plan     string // what the solution does, for thoughts
	solve    variant
	bugs     []bug
}

// variant is one version of solve: its body lines (with slots), the
// helpers it calls, and its Go twin.
type variant struct {
	helpers []helperID
	lines   []string
	sim     func(e *env, p []int, x any) any
}

// bug is a wrong version of the solution: either a helper in its buggy form
// (helper >= 0) or another solve body.
type bug struct {
	kind, note string
	helper     helperID
	solve      *variant
}

func helperBug(h helperID) bug {
	d := &helperDefs[h]
	return bug{kind: d.bugKind, note: d.bugNote, helper: h}
}

func solveBug(kind, note string, v variant) bug {
	return bug{kind: kind, note: note, helper: -1, solve: &v}
}

var solveSlots = []string{"s1", "s2", "lv", "lc", "lw", "lp", "lq"}

func randInts(r *rand.Rand, n, lo, hi int) []any {
	out := make([]any, n)
	for i := range out {
		out[i] = lo + r.IntN(hi-lo+1)
	}
	return out
}

func between(r *rand.Rand, lo, hi int) int { return lo + r.IntN(hi-lo+1) }

func randWord(r *rand.Rand, alphabet string, lo, hi int) string {
	n := between(r, lo, hi)
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[r.IntN(len(alphabet))]
	}
	return string(b)
}

func randSentence(r *rand.Rand, alphabet string, words int) string {
	var b strings.Builder
	for i := range words {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(randWord(r, alphabet, 2, 7))
	}
	return b.String()
}

func randGrid(r *rand.Rand, rows, cols, lo, hi int) []any {
	g := make([]any, rows)
	for i := range g {
		g[i] = randInts(r, cols, lo, hi)
	}
	return g
}

// nonSquare draws grid dimensions, rarely square.
func nonSquare(r *rand.Rand) (int, int) {
	rows, cols := between(r, 2, 4), between(r, 2, 4)
	if rows == cols && r.IntN(4) != 0 {
		cols++
	}
	return rows, cols
}

const lowercase = "abcdefghijklmnopqrstuvwxyz"

func noParams(*rand.Rand) []int { return nil }
func noSlots([]int, *slotVals)  {}
func asList(x any) []any        { return x.([]any) }
func pred(f func(int) bool) func(any) bool {
	return func(v any) bool { return f(v.(int)) }
}

var templates = []template{
	{
		name: "filter_sort", domain: "list",
		params: func(r *rand.Rand) []int { return []int{r.IntN(2), r.IntN(2)} },
		slots: func(p []int, s *slotVals) {
			s.set("par", strconv.Itoa(p[0]))
			rev := [2]string{"", ", reverse=True"}
			s.set("rev", rev[p[1]])
			s.set("norev", rev[1-p[1]])
		},
		describe: func(p []int) string {
			return "Given a list of integers, keep only the " + [2]string{"even", "odd"}[p[0]] +
				" numbers and return them sorted in " + [2]string{"ascending", "descending"}[p[1]] + " order."
		},
		input: func(r *rand.Rand, p []int) any { return randInts(r, between(r, 5, 9), -20, 40) },
		plan:  "keep the numbers with the right parity with filter_by, then sort them",
		solve: variant{
			helpers: []helperID{hFilterBy},
			lines: []string{
				"{s1} = filter_by(x, lambda {lv}: {lv} % 2 == {par})",
				"return sorted({s1}{rev})",
			},
			sim: func(e *env, p []int, x any) any {
				e.at(0)
				a := filterBy(asList(x), pred(func(v int) bool { return pyMod(v, 2) == p[0] }))
				e.at(1)
				return sortInts(a, p[1] == 1)
			},
		},
		bugs: []bug{
			solveBug("missing_step", "the filtered numbers are never sorted", variant{
				helpers: []helperID{hFilterBy},
				lines: []string{
					"{s1} = filter_by(x, lambda {lv}: {lv} % 2 == {par})",
					"return {s1}",
				},
				sim: func(e *env, p []int, x any) any {
					e.at(0)
					return filterBy(asList(x), pred(func(v int) bool { return pyMod(v, 2) == p[0] }))
				},
			}),
			solveBug("type_error", "the arguments of filter_by are swapped", variant{
				helpers: []helperID{hFilterBy},
				lines: []string{
					"{s1} = filter_by(lambda {lv}: {lv} % 2 == {par}, x)",
					"return sorted({s1}{rev})",
				},
				sim: func(e *env, p []int, x any) any {
					e.at(0)
					raiseIn(hFilterBy, 1, "TypeError", notIterable)
					return nil
				},
			}),
			solveBug("wrong_answer", "the sort order is reversed", variant{
				helpers: []helperID{hFilterBy},
				lines: []string{
					"{s1} = filter_by(x, lambda {lv}: {lv} % 2 == {par})",
					"return sorted({s1}{norev})",
				},
				sim: func(e *env, p []int, x any) any {
					e.at(0)
					a := filterBy(asList(x), pred(func(v int) bool { return pyMod(v, 2) == p[0] }))
					e.at(1)
					return sortInts(a, p[1] == 0)
				},
			}),
		},
	},
	{
		name: "sum_squares_positive", domain: "list",
		params: noParams, slots: noSlots,
		describe: func([]int) string {
			return "Given a list of integers, return the sum of the squares of the positive numbers."
		},
		input: func(r *rand.Rand, p []int) any { return randInts(r, between(r, 4, 8), -9, 9) },
		plan:  "filter the positive numbers, square them with map_each and add them up",
		solve: variant{
			helpers: []helperID{hFilterBy, hMapEach},
			lines: []string{
				"{s1} = filter_by(x, lambda {lv}: {lv} > 0)",
				"{s2} = map_each({s1}, lambda {lv}: {lv} * {lv})",
				"return sum({s2})",
			},
			sim: func(e *env, p []int, x any) any {
				a := filterBy(asList(x), pred(func(v int) bool { return v > 0 }))
				return sumInts(mapEach(a, func(v any) any { return v.(int) * v.(int) }))
			},
		},
		bugs: []bug{
			solveBug("missing_step", "the squares of the negative numbers are included too", variant{
				helpers: []helperID{hFilterBy, hMapEach},
				lines: []string{
					"{s1} = filter_by(x, lambda {lv}: {lv} > 0)",
					"{s2} = map_each(x, lambda {lv}: {lv} * {lv})",
					"return sum({s2})",
				},
				sim: func(e *env, p []int, x any) any {
					return sumInts(mapEach(asList(x), func(v any) any { return v.(int) * v.(int) }))
				},
			}),
			solveBug("missing_step", "the numbers are summed without squaring them", variant{
				helpers: []helperID{hFilterBy},
				lines: []string{
					"{s1} = filter_by(x, lambda {lv}: {lv} > 0)",
					"return sum({s1})",
				},
				sim: func(e *env, p []int, x any) any {
					return sumInts(filterBy(asList(x), pred(func(v int) bool { return v > 0 })))
				},
			}),
			solveBug("type_error", "the arguments of map_each are swapped", variant{
				helpers: []helperID{hFilterBy, hMapEach},
				lines: []string{
					"{s1} = filter_by(x, lambda {lv}: {lv} > 0)",
					"{s2} = map_each(lambda {lv}: {lv} * {lv}, {s1})",
					"return sum({s2})",
				},
				sim: func(e *env, p []int, x any) any {
					e.at(1)
					raiseIn(hMapEach, 1, "TypeError", notIterable)
					return nil
				},
			}),
		},
	},
	{
		name: "chunk_sums", domain: "list",
		params: func(r *rand.Rand) []int { return []int{between(r, 2, 4)} },
		slots:  func(p []int, s *slotVals) { s.set("k", strconv.Itoa(p[0])) },
		describe: func(p []int) string {
			return "Split the list into consecutive chunks of " + strconv.Itoa(p[0]) +
				" elements (the last chunk may be shorter) and return the sum of each chunk."
		},
		input: func(r *rand.Rand, p []int) any { return randInts(r, between(r, 5, 11), 0, 20) },
		plan:  "cut the list into chunks and sum each chunk",
		solve: variant{
			helpers: []helperID{hChunk, hMapEach},
			lines: []string{
				"{s1} = chunk(x, {k})",
				"return map_each({s1}, sum)",
			},
			sim: func(e *env, p []int, x any) any {
				a := e.chunk(asList(x), p[0])
				e.at(1)
				return mapEach(a, func(v any) any { return sumInts(v.([]any)) })
			},
		},
		bugs: []bug{
			helperBug(hChunk),
			solveBug("type_error", "sum is applied to the list of chunks instead of to each chunk", variant{
				helpers: []helperID{hChunk},
				lines: []string{
					"{s1} = chunk(x, {k})",
					"return sum({s1})",
				},
				sim: func(e *env, p []int, x any) any {
					a := e.chunk(asList(x), p[0])
					e.at(1)
					return sumInts(a)
				},
			}),
		},
	},
	{
		name: "pairwise_diff", domain: "list",
		params: noParams, slots: noSlots,
		describe: func([]int) string {
			return "Return the list of differences between consecutive elements: each element minus the one before it."
		},
		input: func(r *rand.Rand, p []int) any { return randInts(r, between(r, 4, 8), -10, 30) },
		plan:  "pair up neighbours with pairwise and subtract",
		solve: variant{
			helpers: []helperID{hPairwise},
			lines: []string{
				"{s1} = pairwise(x)",
				"return [{lq} - {lp} for {lp}, {lq} in {s1}]",
			},
			sim: func(e *env, p []int, x any) any {
				ps := e.pairwise(asList(x))
				out := make([]any, len(ps))
				for i, pq := range ps {
					out[i] = pq[1] - pq[0]
				}
				return out
			},
		},
		bugs: []bug{
			helperBug(hPairwise),
			solveBug("wrong_answer", "the subtraction is the wrong way round", variant{
				helpers: []helperID{hPairwise},
				lines: []string{
					"{s1} = pairwise(x)",
					"return [{lp} - {lq} for {lp}, {lq} in {s1}]",
				},
				sim: func(e *env, p []int, x any) any {
					ps := e.pairwise(asList(x))
					out := make([]any, len(ps))
					for i, pq := range ps {
						out[i] = pq[0] - pq[1]
					}
					return out
				},
			}),
		},
	},
	{
		name: "dedupe_above", domain: "list",
		params: func(r *rand.Rand) []int { return []int{between(r, 0, 10)} },
		slots:  func(p []int, s *slotVals) { s.set("t", strconv.Itoa(p[0])) },
		describe: func(p []int) string {
			return "Remove duplicate values, keeping the first occurrence of each, and return the values greater than " +
				strconv.Itoa(p[0]) + " in their original order."
		},
		input: func(r *rand.Rand, p []int) any {
			xs := randInts(r, between(r, 6, 10), 0, 15)
			if r.IntN(2) == 0 {
				xs[r.IntN(len(xs))] = p[0]
			}
			return xs
		},
		plan: "dedupe the list, then keep the values above the threshold",
		solve: variant{
			helpers: []helperID{hDedupe, hFilterBy},
			lines: []string{
				"{s1} = dedupe(x)",
				"return filter_by({s1}, lambda {lv}: {lv} > {t})",
			},
			sim: func(e *env, p []int, x any) any {
				return filterBy(dedupe(asList(x)), pred(func(v int) bool { return v > p[0] }))
			},
		},
		bugs: []bug{
			solveBug("wrong_helper", "sorted(set(...)) loses the original order", variant{
				helpers: []helperID{hFilterBy},
				lines: []string{
					"{s1} = sorted(set(x))",
					"return filter_by({s1}, lambda {lv}: {lv} > {t})",
				},
				sim: func(e *env, p []int, x any) any {
					return filterBy(sortInts(dedupe(asList(x)), false), pred(func(v int) bool { return v > p[0] }))
				},
			}),
			solveBug("off_by_one", "the comparison keeps values equal to the threshold", variant{
				helpers: []helperID{hDedupe, hFilterBy},
				lines: []string{
					"{s1} = dedupe(x)",
					"return filter_by({s1}, lambda {lv}: {lv} >= {t})",
				},
				sim: func(e *env, p []int, x any) any {
					return filterBy(dedupe(asList(x)), pred(func(v int) bool { return v >= p[0] }))
				},
			}),
		},
	},
	{
		name: "window_max", domain: "list",
		params: func(r *rand.Rand) []int { return []int{between(r, 2, 3)} },
		slots:  func(p []int, s *slotVals) { s.set("k", strconv.Itoa(p[0])) },
		describe: func(p []int) string {
			return "Return the largest sum of " + strconv.Itoa(p[0]) + " consecutive elements of the list."
		},
		input: func(r *rand.Rand, p []int) any {
			xs := randInts(r, between(r, p[0]+2, 8), -5, 12)
			if r.IntN(2) == 0 {
				for i := len(xs) - p[0]; i < len(xs); i++ {
					xs[i] = between(r, 13, 25)
				}
			}
			return xs
		},
		plan: "compute every window sum and take the maximum",
		solve: variant{
			helpers: []helperID{hWindowSums},
			lines: []string{
				"{s1} = window_sums(x, {k})",
				"return max({s1})",
			},
			sim: func(e *env, p []int, x any) any {
				return maxInts(e.windowSums(asList(x), p[0]))
			},
		},
		bugs: []bug{
			helperBug(hWindowSums),
			solveBug("missing_step", "it returns the largest element, not the largest window sum", variant{
				helpers: []helperID{hWindowSums},
				lines: []string{
					"{s1} = window_sums(x, {k})",
					"return max(x)",
				},
				sim: func(e *env, p []int, x any) any {
					e.windowSums(asList(x), p[0])
					e.at(1)
					return maxInts(asList(x))
				},
			}),
		},
	},
	{
		name: "clamp_all", domain: "list",
		params: func(r *rand.Rand) []int {
			lo := between(r, 0, 5)
			return []int{lo, lo + between(r, 3, 10)}
		},
		slots: func(p []int, s *slotVals) {
			s.set("lo", strconv.Itoa(p[0]))
			s.set("hi", strconv.Itoa(p[1]))
		},
		describe: func(p []int) string {
			return "Clamp every value of the list into the range [" + strconv.Itoa(p[0]) + ", " + strconv.Itoa(p[1]) + "]."
		},
		input: func(r *rand.Rand, p []int) any { return randInts(r, between(r, 5, 9), p[0]-10, p[1]+10) },
		plan:  "map clamp over the list",
		solve: variant{
			helpers: []helperID{hMapEach, hClamp},
			lines: []string{
				"return map_each(x, lambda {lv}: clamp({lv}, {lo}, {hi}))",
			},
			sim: func(e *env, p []int, x any) any {
				return mapEach(asList(x), func(v any) any { return e.clamp(v.(int), p[0], p[1]) })
			},
		},
		bugs: []bug{helperBug(hClamp)},
	},
	{
		name: "caesar_shift", domain: "string",
		params: func(r *rand.Rand) []int { return []int{between(r, 1, 25)} },
		slots:  func(p []int, s *slotVals) { s.set("k", strconv.Itoa(p[0])) },
		describe: func(p []int) string {
			return "Shift every lowercase letter " + strconv.Itoa(p[0]) +
				" places forward in the alphabet, wrapping around from z to a; spaces stay as they are."
		},
		input: func(r *rand.Rand, p []int) any { return randSentence(r, lowercase, between(r, 1, 4)) },
		plan:  "shift each letter with shift_char and join the result",
		solve: variant{
			helpers: []helperID{hMapEach, hShiftChar},
			lines: []string{
				"{s1} = map_each(list(x), lambda {lc}: shift_char({lc}, {k}) if {lc} != ' ' else {lc})",
				"return ''.join({s1})",
			},
			sim: func(e *env, p []int, x any) any { return e.caesar(x.(string), p[0]) },
		},
		bugs: []bug{
			helperBug(hShiftChar),
			solveBug("missing_step", "the shifted characters are returned as a list, not joined", variant{
				helpers: []helperID{hMapEach, hShiftChar},
				lines: []string{
					"{s1} = map_each(list(x), lambda {lc}: shift_char({lc}, {k}) if {lc} != ' ' else {lc})",
					"return {s1}",
				},
				sim: func(e *env, p []int, x any) any {
					s := e.caesar(x.(string), p[0])
					out := make([]any, len(s))
					for i := range s {
						out[i] = s[i : i+1]
					}
					return out
				},
			}),
		},
	},
	{
		name: "run_length_encode", domain: "string",
		params: noParams, slots: noSlots,
		describe: func([]int) string {
			return "Run-length encode the string: return a list of [character, count] pairs, one for each run of equal characters."
		},
		input: func(r *rand.Rand, p []int) any { return randWord(r, "abc", 4, 12) },
		plan:  "call run_length on the string",
		solve: variant{
			helpers: []helperID{hRunLength},
			lines:   []string{"return run_length(x)"},
			sim:     func(e *env, p []int, x any) any { return e.runLength(x.(string)) },
		},
		bugs: []bug{helperBug(hRunLength)},
	},
	{
		name: "reverse_words", domain: "string",
		params: noParams, slots: noSlots,
		describe: func([]int) string {
			return "Reverse the order of the words in the sentence and join them with single spaces."
		},
		input: func(r *rand.Rand, p []int) any { return randSentence(r, lowercase, between(r, 2, 5)) },
		plan:  "split into words, reverse the list and join",
		solve: variant{
			helpers: []helperID{hWords},
			lines: []string{
				"{s1} = words(x)",
				"return ' '.join({s1}[::-1])",
			},
			sim: func(e *env, p []int, x any) any { return joinStrings(reversed(words(x.(string))), " ") },
		},
		bugs: []bug{
			solveBug("missing_step", "the words are joined without being reversed", variant{
				helpers: []helperID{hWords},
				lines: []string{
					"{s1} = words(x)",
					"return ' '.join({s1})",
				},
				sim: func(e *env, p []int, x any) any { return joinStrings(words(x.(string)), " ") },
			}),
			solveBug("wrong_answer", "it reverses the characters instead of the words", variant{
				helpers: []helperID{hWords},
				lines: []string{
					"{s1} = words(x)",
					"return x[::-1]",
				},
				sim: func(e *env, p []int, x any) any {
					s := x.(string)
					b := make([]byte, len(s))
					for i := range s {
						b[len(s)-1-i] = s[i]
					}
					return string(b)
				},
			}),
		},
	},
	{
		name: "capitalize_words", domain: "string",
		params: noParams, slots: noSlots,
		describe: func([]int) string {
			return "Capitalize the first letter of every word; words are separated by single spaces."
		},
		input: func(r *rand.Rand, p []int) any { return randSentence(r, lowercase, between(r, 2, 5)) },
		plan:  "split into words, upper-case each first letter and join",
		solve: variant{
			helpers: []helperID{hWords, hMapEach},
			lines: []string{
				"{s1} = words(x)",
				"{s2} = map_each({s1}, lambda {lw}: {lw}[0].upper() + {lw}[1:])",
				"return ' '.join({s2})",
			},
			sim: func(e *env, p []int, x any) any {
				return joinStrings(mapEach(words(x.(string)), func(v any) any {
					w := v.(string)
					return strings.ToUpper(w[:1]) + w[1:]
				}), " ")
			},
		},
		bugs: []bug{
			solveBug("wrong_answer", "whole words are upper-cased", variant{
				helpers: []helperID{hWords, hMapEach},
				lines: []string{
					"{s1} = words(x)",
					"{s2} = map_each({s1}, lambda {lw}: {lw}.upper())",
					"return ' '.join({s2})",
				},
				sim: func(e *env, p []int, x any) any { return strings.ToUpper(x.(string)) },
			}),
			solveBug("missing_step", "the capitalized words are returned as a list", variant{
				helpers: []helperID{hWords, hMapEach},
				lines: []string{
					"{s1} = words(x)",
					"{s2} = map_each({s1}, lambda {lw}: {lw}[0].upper() + {lw}[1:])",
					"return {s2}",
				},
				sim: func(e *env, p []int, x any) any {
					return mapEach(words(x.(string)), func(v any) any {
						w := v.(string)
						return strings.ToUpper(w[:1]) + w[1:]
					})
				},
			}),
		},
	},
	{
		name: "count_vowels", domain: "string",
		params: noParams, slots: noSlots,
		describe: func([]int) string { return "Count the vowels (a, e, i, o, u) in the string." },
		input: func(r *rand.Rand, p []int) any {
			return randSentence(r, "abcdefghiklmnoprstuuuvw", between(r, 1, 4))
		},
		plan: "count the characters that are vowels with count_where",
		solve: variant{
			helpers: []helperID{hCountWhere},
			lines:   []string{"return count_where(x, lambda {lc}: {lc} in 'aeiou')"},
			sim:     func(e *env, p []int, x any) any { return countIn(x.(string), "aeiou") },
		},
		bugs: []bug{
			solveBug("type_error", "the arguments of count_where are swapped", variant{
				helpers: []helperID{hCountWhere},
				lines:   []string{"return count_where(lambda {lc}: {lc} in 'aeiou', x)"},
				sim: func(e *env, p []int, x any) any {
					raiseIn(hCountWhere, 2, "TypeError", notIterable)
					return nil
				},
			}),
			solveBug("wrong_answer", "the vowel set misses 'u'", variant{
				helpers: []helperID{hCountWhere},
				lines:   []string{"return count_where(x, lambda {lc}: {lc} in 'aeio')"},
				sim:     func(e *env, p []int, x any) any { return countIn(x.(string), "aeio") },
			}),
		},
	},
	{
		name: "most_common_letter", domain: "string",
		params: noParams, slots: noSlots,
		describe: func([]int) string {
			return "Return the letter that occurs most often in the string (spaces do not count); on a tie, return the one that comes first in the alphabet."
		},
		input: func(r *rand.Rand, p []int) any { return randSentence(r, "abcdefg", between(r, 1, 3)) },
		plan:  "count letters with freq and take the most frequent, breaking ties alphabetically",
		solve: variant{
			helpers: []helperID{hFreq},
			lines: []string{
				"{s1} = freq(x.replace(' ', ''))",
				"return max(sorted({s1}), key=lambda {lc}: {s1}[{lc}])",
			},
			sim: func(e *env, p []int, x any) any { return mostCommon(x.(string), true) },
		},
		bugs: []bug{
			solveBug("wrong_answer", "ties are broken by first occurrence, not alphabetically", variant{
				helpers: []helperID{hFreq},
				lines: []string{
					"{s1} = freq(x.replace(' ', ''))",
					"return max({s1}, key=lambda {lc}: {s1}[{lc}])",
				},
				sim: func(e *env, p []int, x any) any { return mostCommon(x.(string), false) },
			}),
		},
	},
	{
		name: "rotate_grid", domain: "grid",
		params: noParams, slots: noSlots,
		describe: func([]int) string { return "Rotate the grid 90 degrees clockwise." },
		input: func(r *rand.Rand, p []int) any {
			rows, cols := nonSquare(r)
			return randGrid(r, rows, cols, 0, 9)
		},
		plan: "rotate with rotate_cw",
		solve: variant{
			helpers: []helperID{hRotateCW},
			lines:   []string{"return rotate_cw(x)"},
			sim:     func(e *env, p []int, x any) any { return rotateCW(x) },
		},
		bugs: []bug{
			solveBug("wrong_helper", "it rotates counter-clockwise", variant{
				helpers: []helperID{hRotateCCW},
				lines:   []string{"return rotate_ccw(x)"},
				sim:     func(e *env, p []int, x any) any { return rotateCCW(x) },
			}),
			solveBug("wrong_helper", "transposing is not rotating", variant{
				helpers: []helperID{hTranspose},
				lines:   []string{"return transpose(x)"},
				sim:     func(e *env, p []int, x any) any { return e.transpose(x) },
			}),
		},
	},
	{
		name: "column_max", domain: "grid",
		params: noParams, slots: noSlots,
		describe: func([]int) string { return "Return the maximum of each column of the grid, left to right." },
		input: func(r *rand.Rand, p []int) any {
			rows, cols := nonSquare(r)
			return randGrid(r, rows, cols, 0, 20)
		},
		plan: "transpose the grid and take the maximum of each row of the result",
		solve: variant{
			helpers: []helperID{hTranspose, hMapEach},
			lines: []string{
				"{s1} = transpose(x)",
				"return map_each({s1}, max)",
			},
			sim: func(e *env, p []int, x any) any {
				return mapEach(e.transpose(x), func(v any) any { return maxInts(v.([]any)) })
			},
		},
		bugs: []bug{
			helperBug(hTranspose),
			solveBug("missing_step", "it takes row maxima because the grid is never transposed", variant{
				helpers: []helperID{hTranspose, hMapEach},
				lines: []string{
					"{s1} = transpose(x)",
					"return map_each(x, max)",
				},
				sim: func(e *env, p []int, x any) any {
					e.transpose(x)
					e.at(1)
					return mapEach(asList(x), func(v any) any { return maxInts(v.([]any)) })
				},
			}),
		},
	},
	{
		name: "count_nonzero", domain: "grid",
		params: noParams, slots: noSlots,
		describe: func([]int) string { return "Count the non-zero cells of the grid." },
		input: func(r *rand.Rand, p []int) any {
			rows, cols := nonSquare(r)
			return randGrid(r, rows, cols, -2, 3)
		},
		plan: "flatten the grid and count the non-zero cells",
		solve: variant{
			helpers: []helperID{hFlatten, hCountWhere},
			lines: []string{
				"{s1} = flatten(x)",
				"return count_where({s1}, lambda {lv}: {lv} != 0)",
			},
			sim: func(e *env, p []int, x any) any {
				return countWhere(flatten(x), pred(func(v int) bool { return v != 0 }))
			},
		},
		bugs: []bug{
			solveBug("missing_step", "it counts rows, because the grid is not flattened", variant{
				helpers: []helperID{hFlatten, hCountWhere},
				lines: []string{
					"{s1} = flatten(x)",
					"return count_where(x, lambda {lv}: {lv} != 0)",
				},
				sim: func(e *env, p []int, x any) any { return len(asList(x)) },
			}),
			solveBug("type_error", "the arguments of count_where are swapped", variant{
				helpers: []helperID{hFlatten, hCountWhere},
				lines: []string{
					"{s1} = flatten(x)",
					"return count_where(lambda {lv}: {lv} != 0, {s1})",
				},
				sim: func(e *env, p []int, x any) any {
					e.at(1)
					raiseIn(hCountWhere, 2, "TypeError", notIterable)
					return nil
				},
			}),
		},
	},
	{
		name: "grid_total", domain: "grid",
		params: noParams, slots: noSlots,
		describe: func([]int) string { return "Return the sum of all the numbers in the grid." },
		input: func(r *rand.Rand, p []int) any {
			rows, cols := nonSquare(r)
			return randGrid(r, rows, cols, -5, 9)
		},
		plan: "sum each row, then sum the row sums",
		solve: variant{
			helpers: []helperID{hMapEach},
			lines:   []string{"return sum(map_each(x, sum))"},
			sim: func(e *env, p []int, x any) any {
				return sumInts(mapEach(asList(x), func(v any) any { return sumInts(v.([]any)) }))
			},
		},
		bugs: []bug{
			solveBug("type_error", "sum is applied to the rows themselves", variant{
				helpers: []helperID{hMapEach},
				lines:   []string{"return sum(x)"},
				sim:     func(e *env, p []int, x any) any { return sumInts(asList(x)) },
			}),
		},
	},
	{
		name: "mirror_grid", domain: "grid",
		params: noParams, slots: noSlots,
		describe: func([]int) string { return "Mirror the grid left to right (reverse every row)." },
		input: func(r *rand.Rand, p []int) any {
			rows, cols := nonSquare(r)
			return randGrid(r, rows, cols, 0, 9)
		},
		plan: "flip every row with flip_h",
		solve: variant{
			helpers: []helperID{hFlipH},
			lines:   []string{"return flip_h(x)"},
			sim:     func(e *env, p []int, x any) any { return flipH(x) },
		},
		bugs: []bug{
			solveBug("wrong_answer", "it reverses the order of the rows instead", variant{
				helpers: []helperID{hFlipH},
				lines:   []string{"return x[::-1]"},
				sim:     func(e *env, p []int, x any) any { return reversed(asList(x)) },
			}),
		},
	},
	{
		name: "digit_sum", domain: "math",
		params: noParams, slots: noSlots,
		describe: func([]int) string { return "Return the sum of the decimal digits of the number." },
		input:    func(r *rand.Rand, p []int) any { return between(r, 10, 99999) },
		plan:     "split the number into digits and add them",
		solve: variant{
			helpers: []helperID{hDigits},
			lines:   []string{"return sum(digits(x))"},
			sim:     func(e *env, p []int, x any) any { return e.digitSum(x.(int)) },
		},
		bugs: []bug{helperBug(hDigits)},
	},
	{
		name: "primes_below", domain: "math",
		params: noParams, slots: noSlots,
		describe: func([]int) string {
			return "Return, in increasing order, the prime numbers smaller than the given number."
		},
		input: func(r *rand.Rand, p []int) any { return between(r, 5, 40) },
		plan:  "filter range(2, x) with is_prime",
		solve: variant{
			helpers: []helperID{hFilterBy, hIsPrime},
			lines:   []string{"return filter_by(list(range(2, x)), is_prime)"},
			sim: func(e *env, p []int, x any) any {
				var out []any
				for n := 2; n < x.(int); n++ {
					if e.isPrime(n) {
						out = append(out, n)
					}
				}
				if out == nil {
					out = []any{}
				}
				return out
			},
		},
		bugs: []bug{helperBug(hIsPrime)},
	},
	{
		name: "gcd_all", domain: "math",
		params: noParams, slots: noSlots,
		describe: func([]int) string { return "Return the greatest common divisor of all the numbers in the list." },
		input: func(r *rand.Rand, p []int) any {
			g := between(r, 2, 12)
			xs := randInts(r, between(r, 3, 6), 1, 12)
			for i := range xs {
				xs[i] = xs[i].(int) * g
			}
			return xs
		},
		plan: "fold gcd over the list, starting from 0",
		solve: variant{
			helpers: []helperID{hGCD, hFold},
			lines:   []string{"return fold(x, gcd, 0)"},
			sim: func(e *env, p []int, x any) any {
				a := 0
				for _, v := range asList(x) {
					a = gcd(a, v.(int))
				}
				return a
			},
		},
		bugs: []bug{
			solveBug("wrong_answer", "the fold starts from 1, so the answer is always 1", variant{
				helpers: []helperID{hGCD, hFold},
				lines:   []string{"return fold(x, gcd, 1)"},
				sim:     func(e *env, p []int, x any) any { return 1 },
			}),
		},
	},
	{
		name: "collatz_steps", domain: "math",
		params: noParams, slots: noSlots,
		describe: func([]int) string {
			return "Return how many steps of the Collatz map (n -> n / 2 if n is even, else 3n + 1) it takes to reach 1."
		},
		input: func(r *rand.Rand, p []int) any { return between(r, 2, 60) },
		plan:  "iterate the Collatz map with collatz_len",
		solve: variant{
			helpers: []helperID{hCollatzLen},
			lines:   []string{"return collatz_len(x)"},
			sim:     func(e *env, p []int, x any) any { return e.collatzLen(x.(int)) },
		},
		bugs: []bug{helperBug(hCollatzLen)},
	},
	{
		name: "fibonacci", domain: "math",
		params: noParams, slots: noSlots,
		describe: func([]int) string {
			return "Return the n-th Fibonacci number, where fib(0) = 0 and fib(1) = 1."
		},
		input: func(r *rand.Rand, p []int) any { return between(r, 1, 30) },
		plan:  "compute it iteratively with fib",
		solve: variant{
			helpers: []helperID{hFib},
			lines:   []string{"return fib(x)"},
			sim:     func(e *env, p []int, x any) any { return e.fib(x.(int)) },
		},
		bugs: []bug{helperBug(hFib)},
	},
}

func (e *env) caesar(s string, k int) string {
	b := []byte(s)
	for i, c := range b {
		if c != ' ' {
			b[i] = e.shiftChar(c, k)
		}
	}
	return string(b)
}

func joinStrings(xs []any, sep string) string {
	var b strings.Builder
	for i, v := range xs {
		if i > 0 {
			b.WriteString(sep)
		}
		b.WriteString(v.(string))
	}
	return b.String()
}

func countIn(s, set string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(set, s[i]) >= 0 {
			n++
		}
	}
	return n
}

// mostCommon is max(sorted(counts), key=...) when alphabetical, else
// max(counts, key=...) over first-occurrence order.
func mostCommon(s string, alphabetical bool) string {
	var counts [256]int
	var order []byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == ' ' {
			continue
		}
		if counts[c] == 0 {
			order = append(order, c)
		}
		counts[c]++
	}
	if alphabetical {
		order = order[:0]
		for c := 0; c < 256; c++ {
			if counts[c] > 0 {
				order = append(order, byte(c))
			}
		}
	}
	best := order[0]
	for _, c := range order[1:] {
		if counts[c] > counts[best] {
			best = c
		}
	}
	return string(best)
}
