package recall

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
)

// baseVocab is the built-in vocabulary of Synthetic: words of programming
// tasks and their solutions.
var baseVocab = strings.Fields(`list string grid matrix number integer array element value item key index
	sort filter map reduce fold sum count max min average mean median mode product total reverse rotate
	transpose mirror flip shift chunk window pair split join strip trim upper lower capitalize vowel
	letter word sentence character digit prime fibonacci gcd factor divisor remainder modulo square root
	power even odd positive negative zero nonzero duplicate unique dedupe distinct frequency histogram
	tally group partition merge interleave zip flatten nested recursive iterative loop accumulate running
	prefix suffix substring palindrome anagram encode decode compress expand run length caesar cipher
	column row diagonal neighbour border cell path graph tree node edge depth breadth search binary
	linear range interval clamp bound limit threshold scale normalize round truncate parse format
	validate check compare equal greater smaller first last middle head tail front back left right
	ascending descending order stable swap insert remove delete append extend replace update lookup
	dictionary set tuple queue stack heap counter default helper function return input output example
	test case edge empty single multiple step collatz sequence series difference gap consecutive adjacent`)

// Synthetic returns n deterministic synthetic strategy documents, for
// padding an index to a size (latency at scale) and for tests: a title of
// 3 to 6 words and a text of 12 to 40 words drawn from vocab (the
// built-in programming vocabulary when empty) with a Zipf distribution,
// so that common words have long postings as in real text. IDs are
// "strategy/<prefix>-<seed>-<i>"; the payload names the document as
// synthetic.
func Synthetic(n int, seed uint64, vocab []string, prefix string) []Doc {
	if len(vocab) == 0 {
		vocab = baseVocab
	}
	r := rand.New(rand.NewPCG(seed, 0x5eed))
	// A fixed shuffle of the vocabulary decides which words are common.
	words := append([]string(nil), vocab...)
	r.Shuffle(len(words), func(i, j int) { words[i], words[j] = words[j], words[i] })
	z := rand.NewZipf(r, 1.07, 2, uint64(len(words)-1))
	pick := func(m int) string {
		var b strings.Builder
		for i := 0; i < m; i++ {
			if i > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(words[z.Uint64()])
		}
		return b.String()
	}
	docs := make([]Doc, n)
	for i := range docs {
		title := pick(3 + r.IntN(4))
		text := pick(12 + r.IntN(29))
		id := fmt.Sprintf("strategy/%s-%d-%06d", prefix, seed, i)
		p, _ := json.Marshal(map[string]any{"synthetic": true, "situation": title, "suggestion": text})
		docs[i] = Doc{ID: id, Kind: KindStrategy, Title: title, Text: text, Payload: p}
	}
	return docs
}
