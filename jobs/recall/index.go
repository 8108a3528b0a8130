// Package recall is the lexical index agents query to recall what the
// memory holds: strategies, concepts and plans, each a Doc. Build turns
// documents into an immutable Index scored with BM25F (BM25 over several
// weighted fields: the title, the text and any extra fields); Search
// returns the top k hits, ties broken by document id; WriteTo and Read
// move an index through a versioned, checksummed binary format.
//
// The package knows nothing of storage or configuration: the memory
// (jobs/memory) produces the documents and stores the index, and the
// recall and serve commands load it (jobs/recalljob.go).
//
// Everything is deterministic: the same documents, in any order, give a
// byte-identical serialized index and the same hits.
package recall

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strings"
	"sync"
)

// The kinds of documents the memory holds.
const (
	KindStrategy = "strategy"
	KindConcept  = "concept"
	KindPlan     = "plan"
)

// Kinds lists the known kinds, sorted.
func Kinds() []string { return []string{KindConcept, KindPlan, KindStrategy} }

// ValidKind tells whether k is one of Kinds.
func ValidKind(k string) bool {
	return k == KindStrategy || k == KindConcept || k == KindPlan
}

// Doc is one document of the index.
type Doc struct {
	// ID is unique in the index: "strategy/<name>", "concept/<name>",
	// "plan/<id>".
	ID string `json:"id"`
	// Kind is strategy, concept or plan (see Kinds); Search can filter by
	// it.
	Kind string `json:"kind"`
	// Title is indexed with Options.TitleWeight and returned with hits.
	Title string `json:"title"`
	// Text is the body that is indexed (weight 1); it is not stored.
	Text string `json:"text"`
	// Fields are further indexed texts by field name (for example "cues"
	// or "signature"), each weighted by Options.FieldWeights (1 when not
	// listed); they are not stored.
	Fields map[string]string `json:"fields,omitempty"`
	// Payload is returned to agents as-is with each hit; it must be empty
	// or valid JSON, and is never indexed.
	Payload json.RawMessage `json:"payload,omitempty"`
}

// Options are the scoring parameters.
type Options struct {
	// K1 is BM25's term-frequency saturation (default 1.2).
	K1 float64 `json:"k1"`
	// B is BM25's length normalization, 0..1 (default 0.75).
	B float64 `json:"b"`
	// TitleWeight is the weight of Doc.Title (default 2); the text's is 1.
	TitleWeight float64 `json:"title_weight"`
	// FieldWeights weights Doc.Fields by name; fields not listed weigh 1.
	FieldWeights map[string]float64 `json:"field_weights,omitempty"`
}

// DefaultOptions are k1 1.2, b 0.75, title weight 2.
func DefaultOptions() Options { return Options{K1: 1.2, B: 0.75, TitleWeight: 2} }

// Validate names the first invalid option.
func (o Options) Validate() error {
	bad := func(v float64) bool { return math.IsNaN(v) || math.IsInf(v, 0) || v < 0 }
	switch {
	case bad(o.K1):
		return fmt.Errorf("k1: must be a finite number >= 0, got %v", o.K1)
	case bad(o.B) || o.B > 1:
		return fmt.Errorf("b: must be in [0, 1], got %v", o.B)
	case bad(o.TitleWeight):
		return fmt.Errorf("title_weight: must be a finite number >= 0, got %v", o.TitleWeight)
	}
	for _, k := range sortedKeys(o.FieldWeights) {
		if bad(o.FieldWeights[k]) {
			return fmt.Errorf("field_weights.%s: must be a finite number >= 0, got %v", k, o.FieldWeights[k])
		}
	}
	return nil
}

// Field names of the title and the text in an index.
const (
	fieldTitle = "title"
	fieldText  = "text"
)

// Index is an immutable BM25F index. It is safe for concurrent use.
type Index struct {
	k1, b  float64
	fields []fieldInfo // sorted by name
	docs   []storedDoc // sorted by ID
	kinds  []string    // distinct kinds, sorted
	// terms are sorted; the postings of terms[i] are post[off[i]:off[i+1]].
	terms []string
	off   []uint32
	post  []posting
	idf   []float64

	poolOnce sync.Once
	scratch  *sync.Pool
}

type fieldInfo struct {
	name   string
	weight float64
}

type storedDoc struct {
	id, kind, title string
	kindIdx         uint16
	payload         json.RawMessage
}

// posting is one document of a term with the term's pseudo-frequency in
// it: BM25F's sum over fields of weight × tf / (1 − b + b × len/avglen).
type posting struct {
	doc uint32
	tf  float32
}

// Build indexes docs. Documents must have a unique, non-empty ID, a kind,
// and an empty or valid JSON payload; errors name the document. Whatever
// the order of docs, the index (and its serialized form) is the same.
func Build(docs []Doc, opts Options) (*Index, error) {
	if err := opts.Validate(); err != nil {
		return nil, fmt.Errorf("recall options: %w", err)
	}
	if len(docs) > math.MaxUint32 {
		return nil, fmt.Errorf("recall: %d documents is too many", len(docs))
	}
	order := make([]int, len(docs))
	for i := range order {
		order[i] = i
	}
	sort.Slice(order, func(i, j int) bool { return docs[order[i]].ID < docs[order[j]].ID })

	// Fields: title, text, and every extra field name used, sorted.
	names := map[string]bool{fieldTitle: true, fieldText: true}
	for i, d := range docs {
		if d.ID == "" {
			return nil, fmt.Errorf("recall: document %d: empty id", i)
		}
		if d.Kind == "" || strings.ContainsAny(d.Kind, ",") {
			return nil, fmt.Errorf("recall: document %s: kind %q: want a non-empty name without commas", d.ID, d.Kind)
		}
		if len(d.Payload) > 0 && !json.Valid(d.Payload) {
			return nil, fmt.Errorf("recall: document %s: payload is not valid JSON", d.ID)
		}
		for f := range d.Fields {
			if f == fieldTitle || f == fieldText || f == "" {
				return nil, fmt.Errorf("recall: document %s: field name %q is reserved", d.ID, f)
			}
			names[f] = true
		}
	}
	ix := &Index{k1: opts.K1, b: opts.B}
	fieldIdx := map[string]int{}
	for _, n := range sortedKeys(names) {
		w := 1.0
		switch {
		case n == fieldTitle:
			w = opts.TitleWeight
		case n == fieldText:
		default:
			if v, ok := opts.FieldWeights[n]; ok {
				w = v
			}
		}
		fieldIdx[n] = len(ix.fields)
		ix.fields = append(ix.fields, fieldInfo{name: n, weight: w})
	}

	// Tokenize every field of every document, in ID order.
	type fieldTerms struct {
		tf  map[string]int
		len int
	}
	nf := len(ix.fields)
	perDoc := make([][]fieldTerms, len(docs))
	totalLen := make([]float64, nf)
	kindSet := map[string]bool{}
	for r, i := range order {
		d := docs[i]
		if r > 0 && docs[order[r-1]].ID == d.ID {
			return nil, fmt.Errorf("recall: document %s: duplicate id", d.ID)
		}
		kindSet[d.Kind] = true
		ft := make([]fieldTerms, nf)
		add := func(f int, text string) {
			toks := Tokens(text)
			if len(toks) == 0 {
				return
			}
			m := make(map[string]int, len(toks))
			for _, t := range toks {
				m[t]++
			}
			ft[f] = fieldTerms{tf: m, len: len(toks)}
			totalLen[f] += float64(len(toks))
		}
		add(fieldIdx[fieldTitle], d.Title)
		add(fieldIdx[fieldText], d.Text)
		for _, f := range sortedKeys(d.Fields) {
			add(fieldIdx[f], d.Fields[f])
		}
		perDoc[r] = ft
		ix.docs = append(ix.docs, storedDoc{id: d.ID, kind: d.Kind, title: d.Title, payload: append(json.RawMessage(nil), d.Payload...)})
	}
	ix.kinds = sortedKeys(kindSet)
	for i := range ix.docs {
		ix.docs[i].kindIdx = uint16(sort.SearchStrings(ix.kinds, ix.docs[i].kind))
	}
	if len(ix.kinds) > math.MaxUint16 {
		return nil, fmt.Errorf("recall: %d kinds is too many", len(ix.kinds))
	}

	// Pseudo-frequencies per (term, doc), fields summed in name order.
	avg := make([]float64, nf)
	for f := range avg {
		if len(docs) > 0 {
			avg[f] = totalLen[f] / float64(len(docs))
		}
	}
	byTerm := map[string][]posting{}
	for r, ft := range perDoc {
		acc := map[string]float64{}
		for f, x := range ft {
			if x.len == 0 || ix.fields[f].weight == 0 {
				continue
			}
			norm := 1 - ix.b + ix.b*float64(x.len)/avg[f]
			for _, t := range sortedKeys(x.tf) {
				acc[t] += ix.fields[f].weight * float64(x.tf[t]) / norm
			}
		}
		for _, t := range sortedKeys(acc) {
			if float32(acc[t]) <= 0 {
				continue
			}
			byTerm[t] = append(byTerm[t], posting{doc: uint32(r), tf: float32(acc[t])})
		}
	}
	ix.terms = sortedKeys(byTerm)
	ix.off = make([]uint32, 0, len(ix.terms)+1)
	for _, t := range ix.terms {
		ix.off = append(ix.off, uint32(len(ix.post)))
		ix.post = append(ix.post, byTerm[t]...)
	}
	ix.off = append(ix.off, uint32(len(ix.post)))
	ix.computeIDF()
	return ix, nil
}

// computeIDF sets each term's idf, ln(1 + (N − df + 0.5) / (df + 0.5)),
// which is positive however common the term.
func (ix *Index) computeIDF() {
	n := float64(len(ix.docs))
	ix.idf = make([]float64, len(ix.terms))
	for i := range ix.terms {
		df := float64(ix.off[i+1] - ix.off[i])
		ix.idf[i] = math.Log(1 + (n-df+0.5)/(df+0.5))
	}
}

// Len is the number of documents.
func (ix *Index) Len() int { return len(ix.docs) }

// Terms is the number of distinct terms.
func (ix *Index) Terms() int { return len(ix.terms) }

// Options are the scoring parameters the index was built with.
func (ix *Index) Options() Options {
	o := Options{K1: ix.k1, B: ix.b}
	for _, f := range ix.fields {
		switch f.name {
		case fieldTitle:
			o.TitleWeight = f.weight
		case fieldText:
		default:
			if o.FieldWeights == nil {
				o.FieldWeights = map[string]float64{}
			}
			o.FieldWeights[f.name] = f.weight
		}
	}
	return o
}

// KindCounts is the number of documents of each kind.
func (ix *Index) KindCounts() map[string]int {
	m := make(map[string]int, len(ix.kinds))
	for _, d := range ix.docs {
		m[d.kind]++
	}
	return m
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
