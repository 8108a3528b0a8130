package sft

import (
	"fmt"
	"math"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/tiktoken-go/tokenizer"
)

// Encodings names the token encodings Tokenizer knows (both embedded in
// the binary: counting needs no network).
func Encodings() []string {
	return []string{string(tokenizer.O200kBase), string(tokenizer.Cl100kBase)}
}

// Tokenizer counts tokens in one tiktoken encoding; it is safe for
// concurrent use.
//
// Its counts are github.com/tiktoken-go/tokenizer's, computed without
// its per-piece allocations: the text is split with a mirror of the
// encoding's generated split matcher (pretok.go), and each piece's
// byte-pair merges are those of the package's own algorithm over the
// same ranks, remembered per piece (pieces repeat: words, indentation,
// punctuation).
type Tokenizer struct {
	name  string
	codec tokenizer.Codec
	ranks map[string]uint32
	next  func(rs []rune, cls []uint8, pos int) int
	pool  sync.Pool
}

// counterCacheMax bounds a counter's remembered pieces; past it the
// memory starts afresh.
const counterCacheMax = 1 << 17

// counter is one goroutine's scratch space and piece memory.
type counter struct {
	rs    []rune
	cls   []uint8
	cache map[string]int32
	lines map[string]int32
	parts []bpePart
	nodes []mergeNode
	heap  mergeHeap
}

// NewTokenizer loads the encoding name (o200k_base or cl100k_base).
func NewTokenizer(name string) (*Tokenizer, error) {
	var next func([]rune, []uint8, int) int
	switch name {
	case string(tokenizer.O200kBase):
		next = nextO200k
	case string(tokenizer.Cl100kBase):
		next = nextCl100k
	default:
		return nil, fmt.Errorf("encoding %q: want one of %v", name, Encodings())
	}
	c, err := tokenizer.Get(tokenizer.Encoding(name))
	if err != nil {
		return nil, fmt.Errorf("encoding %q: %w", name, err)
	}
	ranks, err := ranksOf(c)
	if err != nil {
		return nil, fmt.Errorf("encoding %q: %w", name, err)
	}
	t := &Tokenizer{name: name, codec: c, ranks: ranks, next: next}
	t.pool.New = func() any { return &counter{cache: map[string]int32{}, lines: map[string]int32{}} }
	return t, nil
}

// ranksOf recovers the codec's merge ranks (token bytes → id) through
// Decode: the package does not export its vocabulary. Ids without a
// token (the gaps before the special tokens) are skipped.
func ranksOf(c tokenizer.Codec) (map[string]uint32, error) {
	ranks := make(map[string]uint32, 1<<18)
	for id := uint(0); id < maxTokenID; id++ {
		s, err := c.Decode([]uint{id})
		if err != nil || s == "" {
			continue
		}
		if _, dup := ranks[s]; dup {
			return nil, fmt.Errorf("token %q has two ids", s)
		}
		ranks[s] = uint32(id)
	}
	if len(ranks) < 256 {
		return nil, fmt.Errorf("only %d tokens decode", len(ranks))
	}
	return ranks, nil
}

// maxTokenID bounds the ids ranksOf asks for (o200k_base's last is
// 199997).
const maxTokenID = 1 << 18

// Name is the encoding's name.
func (t *Tokenizer) Name() string { return t.name }

// Count is the number of tokens of s.
func (t *Tokenizer) Count(s string) (int, error) {
	if s == "" {
		return 0, nil
	}
	c := t.pool.Get().(*counter)
	n := t.count(c, s)
	t.pool.Put(c)
	return n, nil
}

// count counts s with c's scratch space, a line at a time: s is cut
// after each line break that a character other than white space or '/'
// follows. No piece of either pattern runs across such a cut (a word,
// number or contraction holds no line break; punctuation takes line
// breaks and slashes after it, white space takes white space; \s+(?!\S),
// the one branch that looks past its match, is reached only for white
// space without a line break), and the pieces before it are the same
// when the text ends there: a text's count is the sum of its lines',
// and each line's count is remembered (prompts share their task's and
// history's lines, code lines repeat).
func (t *Tokenizer) count(c *counter, s string) int {
	if !utf8.ValidString(s) {
		// The codec matches on runes: an invalid byte is a U+FFFD of its own.
		s = string([]rune(s))
	}
	if len(c.cache) > counterCacheMax {
		clear(c.cache)
	}
	if len(c.lines) > counterCacheMax {
		clear(c.lines)
	}
	n, start := 0, 0
	for i := 1; i <= len(s); i++ {
		if i < len(s) && (s[i-1] != '\n' || !cutBefore(s[i:])) {
			continue
		}
		line := s[start:i]
		start = i
		if k, ok := c.lines[line]; ok {
			n += int(k)
			continue
		}
		k := t.countPieces(c, line)
		c.lines[strings.Clone(line)] = int32(k)
		n += k
	}
	return n
}

// cutBefore says whether a line may be cut before rest: its first
// character is neither white space nor '/'.
func cutBefore(rest string) bool {
	if b := rest[0]; b < utf8.RuneSelf {
		return asciiClasses[b]&clsSpace == 0 && b != '/'
	}
	r, _ := utf8.DecodeRuneInString(rest)
	return !unicode.IsSpace(r)
}

// countPieces splits s into pieces and adds up their tokens.
func (t *Tokenizer) countPieces(c *counter, s string) int {
	rs := c.rs[:0]
	for _, r := range s {
		rs = append(rs, r)
	}
	c.rs = rs
	c.cls = classify(rs, c.cls)
	n, pos, off := 0, 0, 0
	for pos < len(rs) {
		end := t.next(rs, c.cls, pos)
		if end < 0 {
			// No piece starts here: the scanner skips the character.
			off += utf8.RuneLen(rs[pos])
			pos++
			continue
		}
		w := 0
		for _, r := range rs[pos:end] {
			w += utf8.RuneLen(r)
		}
		n += t.pieceTokens(c, s[off:off+w])
		pos, off = end, off+w
	}
	return n
}

// pieceTokens is the number of tokens byte-pair encoding makes of piece.
func (t *Tokenizer) pieceTokens(c *counter, piece string) int {
	// The memory first: it is small, and holds the common pieces, tokens
	// or not.
	if k, ok := c.cache[piece]; ok {
		return int(k)
	}
	var k int
	if _, ok := t.ranks[piece]; ok {
		k = 1
	} else if len(piece) < mergeHeapThreshold {
		k = t.mergeScan(c, piece)
	} else {
		k = t.mergeHeap(c, piece)
	}
	c.cache[strings.Clone(piece)] = int32(k)
	return k
}

// dropFront removes the first n tokens of s and returns the rest (valid
// UTF-8: a character split at the cut is dropped) and how many tokens
// it keeps.
func (t *Tokenizer) dropFront(s string, n int) (string, int, error) {
	_, toks, err := t.codec.Encode(s)
	if err != nil {
		return "", 0, fmt.Errorf("encoding tokens: %w", err)
	}
	if n >= len(toks) {
		return "", 0, nil
	}
	rest := strings.Join(toks[n:], "")
	// A cut inside a multi-byte character leaves stray bytes: drop them.
	rest = strings.ToValidUTF8(rest, "")
	return rest, len(toks) - n, nil
}

// The byte-pair merges below are github.com/tiktoken-go/tokenizer's
// (codec/codec.go, v0.10.0), counting parts instead of listing them:
// the leftmost pair of lowest rank merges first, found by a scan for
// short pieces and with a heap from mergeHeapThreshold bytes.

const mergeHeapThreshold = 96

type bpePart struct {
	offset int
	rank   uint
}

func (t *Tokenizer) rankOf(s string) uint {
	if r, ok := t.ranks[s]; ok {
		return uint(r)
	}
	return math.MaxUint
}

// mergeScan is the codec's mergePairsScan; it returns the tokens.
func (t *Tokenizer) mergeScan(c *counter, piece string) int {
	parts := c.parts[:0]
	for i := 0; i <= len(piece); i++ {
		parts = append(parts, bpePart{i, math.MaxUint})
	}
	getRank := func(index, skip int) uint {
		if index+skip+2 < len(parts) {
			return t.rankOf(piece[parts[index].offset:parts[index+skip+2].offset])
		}
		return math.MaxUint
	}
	for i := 0; i < len(parts)-2; i++ {
		parts[i].rank = getRank(i, 0)
	}
	for len(parts) > 1 {
		minRank, minIndex := uint(math.MaxUint), 0
		for i, p := range parts[:len(parts)-1] {
			if p.rank < minRank {
				minRank, minIndex = p.rank, i
			}
		}
		if minRank == math.MaxUint {
			break
		}
		parts[minIndex].rank = getRank(minIndex, 1)
		if minIndex > 0 {
			parts[minIndex-1].rank = getRank(minIndex-1, 1)
		}
		parts = append(parts[:minIndex+1], parts[minIndex+2:]...)
	}
	c.parts = parts[:0]
	return len(parts) - 1
}

const noRank = math.MaxUint32

type mergeNode struct {
	prev, next int32
	rank       uint32
}

type mergeCandidate struct {
	rank   uint32
	offset int32
}

// mergeHeap is the codec's binary min-heap of candidates by rank, then
// offset.
type mergeHeap []mergeCandidate

func (h mergeHeap) less(a, b int) bool {
	if h[a].rank != h[b].rank {
		return h[a].rank < h[b].rank
	}
	return h[a].offset < h[b].offset
}

func (h mergeHeap) init() {
	for i := len(h)/2 - 1; i >= 0; i-- {
		h.down(i)
	}
}

func (h *mergeHeap) push(c mergeCandidate) {
	*h = append(*h, c)
	h.up(len(*h) - 1)
}

func (h *mergeHeap) pop() mergeCandidate {
	old := *h
	top := old[0]
	last := len(old) - 1
	old[0] = old[last]
	*h = old[:last]
	h.down(0)
	return top
}

func (h mergeHeap) up(i int) {
	for i > 0 {
		parent := (i - 1) / 2
		if !h.less(i, parent) {
			return
		}
		h[i], h[parent] = h[parent], h[i]
		i = parent
	}
}

func (h mergeHeap) down(i int) {
	for {
		child := 2*i + 1
		if child >= len(h) {
			return
		}
		if right := child + 1; right < len(h) && h.less(right, child) {
			child = right
		}
		if !h.less(child, i) {
			return
		}
		h[i], h[child] = h[child], h[i]
		i = child
	}
}

// mergeHeap is the codec's mergePairsHeap; it returns the tokens.
func (t *Tokenizer) mergeHeap(c *counter, piece string) int {
	n := int32(len(piece))
	nodes := c.nodes[:0]
	for i := int32(0); i <= n; i++ {
		nodes = append(nodes, mergeNode{prev: i - 1, next: i + 1, rank: noRank})
	}
	nodes[n].next = -1
	rankOf := func(i int32) uint32 {
		j := nodes[i].next
		if j < 0 {
			return noRank
		}
		k := nodes[j].next
		if k < 0 {
			return noRank
		}
		if r, ok := t.ranks[piece[i:k]]; ok {
			return r
		}
		return noRank
	}
	cands := c.heap[:0]
	for i := int32(0); i+2 <= n; i++ {
		if r := rankOf(i); r != noRank {
			nodes[i].rank = r
			cands = append(cands, mergeCandidate{r, i})
		}
	}
	cands.init()
	for len(cands) > 0 {
		top := cands.pop()
		i := top.offset
		if nodes[i].rank != top.rank {
			continue
		}
		j := nodes[i].next
		k := nodes[j].next
		nodes[j].rank = noRank
		nodes[i].next = k
		if k >= 0 {
			nodes[k].prev = i
		}
		for _, b := range [2]int32{i, nodes[i].prev} {
			if b < 0 {
				continue
			}
			nodes[b].rank = rankOf(b)
			if nodes[b].rank != noRank {
				cands.push(mergeCandidate{nodes[b].rank, b})
			}
		}
	}
	parts := 0
	for i := int32(0); i >= 0; i = nodes[i].next {
		parts++
	}
	c.nodes, c.heap = nodes[:0], cands[:0]
	return parts - 1
}
