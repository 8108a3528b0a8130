package recall

import (
	"container/heap"
	"encoding/json"
	"sort"
	"sync"
)

// Hit is one search result.
type Hit struct {
	// Rank is 1 for the best hit.
	Rank  int     `json:"rank"`
	Kind  string  `json:"kind"`
	ID    string  `json:"id"`
	Title string  `json:"title"`
	Score float64 `json:"score"`
	// Payload is the document's payload, as given to Build (null when it
	// had none).
	Payload json.RawMessage `json:"payload"`
}

// scratch is one search's accumulator: a score per document and the
// documents touched, reused through a pool so that a search allocates
// little whatever the index size.
type scratch struct {
	score   []float64
	touched []uint32
}

func (ix *Index) pool() *sync.Pool {
	ix.poolOnce.Do(func() {
		n := len(ix.docs)
		ix.scratch = &sync.Pool{New: func() any { return &scratch{score: make([]float64, n)} }}
	})
	return ix.scratch
}

// QueryTerms is the distinct terms Search looks up for query, sorted.
func QueryTerms(query string) []string {
	toks := Tokens(query)
	sort.Strings(toks)
	out := toks[:0]
	for i, t := range toks {
		if i == 0 || t != toks[i-1] {
			out = append(out, t)
		}
	}
	return out
}

// Search returns the k best documents for query, best first, restricted
// to the given kinds when any are given (unknown kinds match nothing).
// The score of a document is the sum, over the distinct terms of the
// query that it contains, of idf × tf / (k1 + tf), tf being the term's
// BM25F pseudo-frequency in the document; documents without any query
// term are not hits. Equal scores are ordered by document id. k < 1 or a
// query without terms gives no hits.
func (ix *Index) Search(query string, k int, kinds ...string) []Hit {
	if k < 1 || len(ix.docs) == 0 {
		return nil
	}
	var allow []bool
	if len(kinds) > 0 {
		allow = make([]bool, len(ix.kinds))
		any := false
		for _, kd := range kinds {
			if i := sort.SearchStrings(ix.kinds, kd); i < len(ix.kinds) && ix.kinds[i] == kd {
				allow[i], any = true, true
			}
		}
		if !any {
			return nil
		}
	}
	terms := QueryTerms(query)
	if len(terms) == 0 {
		return nil
	}
	p := ix.pool()
	s := p.Get().(*scratch)
	defer func() {
		for _, d := range s.touched {
			s.score[d] = 0
		}
		s.touched = s.touched[:0]
		p.Put(s)
	}()
	k1 := ix.k1
	for _, t := range terms {
		ti := sort.SearchStrings(ix.terms, t)
		if ti == len(ix.terms) || ix.terms[ti] != t {
			continue
		}
		idf := ix.idf[ti]
		for _, pst := range ix.post[ix.off[ti]:ix.off[ti+1]] {
			if s.score[pst.doc] == 0 {
				s.touched = append(s.touched, pst.doc)
			}
			tf := float64(pst.tf)
			s.score[pst.doc] += idf * tf / (k1 + tf)
		}
	}
	h := make(hitHeap, 0, min(k, len(s.touched)))
	for _, d := range s.touched {
		if allow != nil && !allow[ix.docs[d].kindIdx] {
			continue
		}
		c := cand{doc: d, score: s.score[d]}
		if len(h) < k {
			h = append(h, c)
			if len(h) == k {
				heap.Init(&h)
			}
			continue
		}
		if better(c, h[0]) {
			h[0] = c
			heap.Fix(&h, 0)
		}
	}
	sort.Slice(h, func(i, j int) bool { return better(h[i], h[j]) })
	out := make([]Hit, len(h))
	for i, c := range h {
		d := &ix.docs[c.doc]
		out[i] = Hit{Rank: i + 1, Kind: d.kind, ID: d.id, Title: d.title, Score: c.score, Payload: d.payload}
	}
	return out
}

type cand struct {
	doc   uint32
	score float64
}

// better orders candidates: higher score first, then lower document
// index, which is ID order since documents are sorted by ID.
func better(a, b cand) bool {
	if a.score != b.score {
		return a.score > b.score
	}
	return a.doc < b.doc
}

// hitHeap is a min-heap whose root is the worst of the k kept.
type hitHeap []cand

func (h hitHeap) Len() int           { return len(h) }
func (h hitHeap) Less(i, j int) bool { return better(h[j], h[i]) }
func (h hitHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *hitHeap) Push(x any)        { *h = append(*h, x.(cand)) }
func (h *hitHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
