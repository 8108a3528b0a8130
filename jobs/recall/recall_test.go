package recall

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestTokens(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"Sort the list", []string{"sort", "list"}},
		{"filter_values and sort_desc", []string{"filter", "valu", "sort", "desc"}},
		{"parseHTTPHeader", []string{"pars", "http", "header"}},
		{"run-length encoding", []string{"run", "length", "encod"}},
		{"a x 7 42 of", []string{"7", "42"}},
		{"Sorted sorting SORTS", []string{"sort", "sort", "sort"}},
		{"base64 Décodé", []string{"base64", "décodé"}},
	} {
		if got := Tokens(tc.in); !slices.Equal(got, tc.want) {
			t.Errorf("Tokens(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestStem(t *testing.T) {
	// Examples from Porter's paper.
	for in, want := range map[string]string{
		"caresses": "caress", "ponies": "poni", "cats": "cat", "caress": "caress",
		"feed": "feed", "agreed": "agre", "plastered": "plaster", "motoring": "motor", "sing": "sing",
		"conflated": "conflat", "hopping": "hop", "falling": "fall", "filing": "file", "happy": "happi",
		"relational": "relat", "hopeful": "hope", "goodness": "good", "adjustment": "adjust",
		"generalization": "gener", "controll": "control", "rate": "rate", "probate": "probat",
		"x1": "x1", "go": "go",
	} {
		if got := Stem(in); got != want {
			t.Errorf("Stem(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestBM25Scores checks the scores against values computed by hand:
// three documents of lengths 3, 2 and 1 (average 2), k1 1.2, b 0.75.
func TestBM25Scores(t *testing.T) {
	docs := []Doc{
		{ID: "strategy/a", Kind: KindStrategy, Text: "cat dog cat"},
		{ID: "strategy/b", Kind: KindStrategy, Text: "dog bird"},
		{ID: "strategy/c", Kind: KindStrategy, Text: "fish"},
	}
	ix, err := Build(docs, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	// cat: df 1, idf = ln(1 + 2.5/1.5) = 0.980829; in a: tf 2, norm
	// 1 - 0.75 + 0.75*3/2 = 1.375, tf~ = 1.454545, score = idf*tf~/(1.2+tf~)
	// = 0.537441.
	// dog: df 2, idf = ln(1 + 1.5/2.5) = 0.470004; in b: tf~ = 1, score =
	// 0.213638; in a: tf~ = 0.727273, score = 0.177360.
	for _, tc := range []struct {
		q    string
		want []Hit
	}{
		{"cat", []Hit{{Rank: 1, ID: "strategy/a", Score: 0.537441}}},
		{"dog", []Hit{{Rank: 1, ID: "strategy/b", Score: 0.213638}, {Rank: 2, ID: "strategy/a", Score: 0.177360}}},
		{"cats and dogs", []Hit{{Rank: 1, ID: "strategy/a", Score: 0.537441 + 0.177360}, {Rank: 2, ID: "strategy/b", Score: 0.213638}}},
		{"cat cat cat", []Hit{{Rank: 1, ID: "strategy/a", Score: 0.537441}}}, // query terms count once
		{"the of", nil},
		{"unicorn", nil},
	} {
		got := ix.Search(tc.q, 10)
		if len(got) != len(tc.want) {
			t.Fatalf("Search(%q) = %+v, want %+v", tc.q, got, tc.want)
		}
		for i, h := range got {
			w := tc.want[i]
			if h.Rank != w.Rank || h.ID != w.ID || math.Abs(h.Score-w.Score) > 1e-5 || h.Kind != KindStrategy {
				t.Errorf("Search(%q)[%d] = %+v, want %+v", tc.q, i, h, w)
			}
		}
	}
}

// TestFieldWeights: a word in the title (weight 2) or a weighted field
// counts more than the same word in the text.
func TestFieldWeights(t *testing.T) {
	docs := []Doc{
		{ID: "concept/text", Kind: KindConcept, Title: "other words", Text: "window maximum"},
		{ID: "concept/title", Kind: KindConcept, Title: "window maximum", Text: "other words"},
		{ID: "concept/cues", Kind: KindConcept, Title: "other words", Text: "more words", Fields: map[string]string{"cues": "window maximum"}},
	}
	o := DefaultOptions()
	o.FieldWeights = map[string]float64{"cues": 6} // present in one document of three: its length norm is 2.5
	ix, err := Build(docs, o)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, h := range ix.Search("sliding window maximum", 3) {
		ids = append(ids, h.ID)
	}
	if want := []string{"concept/cues", "concept/title", "concept/text"}; !slices.Equal(ids, want) {
		t.Errorf("order %v, want %v", ids, want)
	}
}

func TestSearchTiesKindsAndK(t *testing.T) {
	docs := []Doc{
		{ID: "plan/2", Kind: KindPlan, Text: "reverse words"},
		{ID: "plan/1", Kind: KindPlan, Text: "reverse words"},
		{ID: "strategy/z", Kind: KindStrategy, Text: "reverse words", Payload: json.RawMessage(`{"suggestion":"split then join"}`)},
		{ID: "concept/c", Kind: KindConcept, Text: "sum digits"},
	}
	ix, err := Build(docs, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	ids := func(hs []Hit) []string {
		var out []string
		for _, h := range hs {
			out = append(out, h.ID)
		}
		return out
	}
	for _, tc := range []struct {
		k     int
		kinds []string
		want  []string
	}{
		{10, nil, []string{"plan/1", "plan/2", "strategy/z"}},
		{2, nil, []string{"plan/1", "plan/2"}},
		{1, nil, []string{"plan/1"}},
		{0, nil, nil},
		{10, []string{KindStrategy}, []string{"strategy/z"}},
		{10, []string{KindStrategy, KindPlan}, []string{"plan/1", "plan/2", "strategy/z"}},
		{10, []string{KindConcept}, nil},
		{10, []string{"nonsense"}, nil},
	} {
		if got := ids(ix.Search("reverse the words", tc.k, tc.kinds...)); !slices.Equal(got, tc.want) {
			t.Errorf("k=%d kinds=%v: %v, want %v", tc.k, tc.kinds, got, tc.want)
		}
	}
	h := ix.Search("reverse", 10, KindStrategy)
	if len(h) != 1 || string(h[0].Payload) != `{"suggestion":"split then join"}` || h[0].Rank != 1 {
		t.Errorf("payload hit %+v", h)
	}
}

func TestBuildErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		docs []Doc
		opts Options
		want string
	}{
		{"empty id", []Doc{{Kind: KindPlan}}, DefaultOptions(), "document 0: empty id"},
		{"no kind", []Doc{{ID: "x"}}, DefaultOptions(), "document x: kind"},
		{"duplicate", []Doc{{ID: "x", Kind: KindPlan}, {ID: "x", Kind: KindPlan}}, DefaultOptions(), "document x: duplicate id"},
		{"payload", []Doc{{ID: "x", Kind: KindPlan, Payload: json.RawMessage(`{`)}}, DefaultOptions(), "document x: payload is not valid JSON"},
		{"reserved field", []Doc{{ID: "x", Kind: KindPlan, Fields: map[string]string{"title": "t"}}}, DefaultOptions(), `field name "title" is reserved`},
		{"b", nil, Options{K1: 1, B: 2}, "b: must be in [0, 1]"},
		{"k1", nil, Options{K1: math.NaN()}, "k1: must be"},
		{"weight", nil, Options{K1: 1, FieldWeights: map[string]float64{"cues": -1}}, "field_weights.cues"},
	} {
		_, err := Build(tc.docs, tc.opts)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err %v, want %q", tc.name, err, tc.want)
		}
	}
}

func serialize(t testing.TB, ix *Index) []byte {
	t.Helper()
	var buf bytes.Buffer
	n, err := ix.WriteTo(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if n != int64(buf.Len()) {
		t.Fatalf("WriteTo returned %d, wrote %d", n, buf.Len())
	}
	return buf.Bytes()
}

// TestDeterminism: shuffled documents give a byte-identical index.
func TestDeterminism(t *testing.T) {
	docs := SyntheticDocs(500, 7)
	want := serialize(t, mustBuild(t, docs))
	for seed := uint64(1); seed <= 5; seed++ {
		sh := slices.Clone(docs)
		rand.New(rand.NewPCG(seed, 0)).Shuffle(len(sh), func(i, j int) { sh[i], sh[j] = sh[j], sh[i] })
		if got := serialize(t, mustBuild(t, sh)); !bytes.Equal(got, want) {
			t.Fatalf("shuffle %d: serialized index differs", seed)
		}
	}
}

func mustBuild(t testing.TB, docs []Doc) *Index {
	t.Helper()
	ix, err := Build(docs, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	return ix
}

func TestRoundTrip(t *testing.T) {
	docs := SyntheticDocs(300, 3)
	docs = append(docs, Doc{ID: "concept/extra", Kind: KindConcept, Title: "with fields", Fields: map[string]string{"signature": "def chunk(xs, n)"}})
	o := DefaultOptions()
	o.FieldWeights = map[string]float64{"signature": 1.5}
	ix, err := Build(docs, o)
	if err != nil {
		t.Fatal(err)
	}
	data := serialize(t, ix)
	back, err := Read(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(serialize(t, back), data) {
		t.Fatal("re-serialized index differs")
	}
	if back.Len() != ix.Len() || back.Terms() != ix.Terms() || !reflect.DeepEqual(back.Options(), ix.Options()) || !reflect.DeepEqual(back.KindCounts(), ix.KindCounts()) {
		t.Fatalf("read %d docs %d terms %+v, built %d docs %d terms %+v", back.Len(), back.Terms(), back.Options(), ix.Len(), ix.Terms(), ix.Options())
	}
	for _, q := range []string{"chunk", "sort the values descending", docs[17].Text, "nothing matches zzzz"} {
		if a, b := ix.Search(q, 5), back.Search(q, 5); !reflect.DeepEqual(a, b) {
			t.Errorf("query %q: built %+v, read %+v", q, a, b)
		}
	}
	if h := back.Search("chunk", 1, KindConcept); len(h) != 1 || h[0].ID != "concept/extra" {
		t.Errorf("field search after round trip: %+v", h)
	}
}

func TestReadCorrupt(t *testing.T) {
	data := serialize(t, mustBuild(t, SyntheticDocs(50, 1)))
	flip := slices.Clone(data)
	flip[len(flip)/2] ^= 0x40
	other := slices.Clone(data)
	binary.LittleEndian.PutUint32(other[8:], FormatVersion+1)
	// A body that checksums but does not parse: a document count larger
	// than the data.
	bogus := append(slices.Clone(data[:12]), make([]byte, 16)...)
	bogus = append(bogus, 0xff, 0xff, 0x03)
	bogus = binary.LittleEndian.AppendUint32(bogus, crcOf(bogus))
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "bad magic"},
		{"other file", []byte("PAR1 this is not an index at all"), "bad magic"},
		{"other version", other, fmt.Sprintf("format version %d", FormatVersion+1)},
		{"flipped byte", flip, "checksum mismatch"},
		{"truncated", data[:len(data)-10], "checksum mismatch"},
		{"bad body", bogus, "exceeds the remaining"},
	} {
		_, err := Read(bytes.NewReader(tc.data))
		if err == nil || !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err %v, want ErrFormat and %q", tc.name, err, tc.want)
		}
	}
}

func crcOf(b []byte) uint32 { return crc32.Checksum(b, crc32.MakeTable(crc32.Castagnoli)) }

// SyntheticDocs is Synthetic over the built-in vocabulary.
func SyntheticDocs(n int, seed uint64) []Doc { return Synthetic(n, seed, nil, "synthetic") }

// TestConcurrentSearch runs searches from many goroutines (go test -race)
// and checks that each sees the same hits as alone.
func TestConcurrentSearch(t *testing.T) {
	docs := SyntheticDocs(2000, 5)
	ix := mustBuild(t, docs)
	queries := make([]string, 40)
	want := make([][]Hit, len(queries))
	for i := range queries {
		queries[i] = docs[i*37].Text
		want[i] = ix.Search(queries[i], 5)
	}
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := 0; r < 50; r++ {
				i := (g*7 + r) % len(queries)
				if got := ix.Search(queries[i], 5); !reflect.DeepEqual(got, want[i]) {
					errs <- fmt.Sprintf("query %d: %+v, want %+v", i, got, want[i])
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

// TestSyntheticQuality: querying a document's own title finds it first
// almost always (the synthetic corpus has random overlaps).
func TestSyntheticQuality(t *testing.T) {
	docs := SyntheticDocs(3000, 9)
	ix := mustBuild(t, docs)
	found := 0
	for i := 0; i < 200; i++ {
		d := docs[i*13]
		if h := ix.Search(d.Title+" "+d.Text, 3); len(h) > 0 && slices.ContainsFunc(h, func(h Hit) bool { return h.ID == d.ID }) {
			found++
		}
	}
	if found < 190 {
		t.Errorf("own text in top 3 for %d of 200 documents", found)
	}
}

// TestLatency100k: the latency goal at 100k documents, checked loosely
// here (the race detector and shared CI machines are slow) and measured by
// BenchmarkSearch100k and atlas-learn eval recall.
func TestLatency100k(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	docs := SyntheticDocs(100_000, 11)
	ix := mustBuild(t, docs)
	var lat []time.Duration
	for i := 0; i < 300; i++ {
		q := docs[(i*7919)%len(docs)].Text
		start := time.Now()
		ix.Search(q, 5)
		lat = append(lat, time.Since(start))
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	p50, p99 := lat[len(lat)/2], lat[len(lat)*99/100]
	t.Logf("100k docs, %d terms: p50 %v p99 %v", ix.Terms(), p50, p99)
	if p99 > 200*time.Millisecond {
		t.Errorf("p99 %v", p99)
	}
}

func BenchmarkSearch100k(b *testing.B) {
	docs := SyntheticDocs(100_000, 11)
	ix := mustBuild(b, docs)
	queries := make([]string, 256)
	for i := range queries {
		queries[i] = docs[(i*7919)%len(docs)].Text
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ix.Search(queries[i%len(queries)], 5)
	}
}

func BenchmarkRead100k(b *testing.B) {
	data := serialize(b, mustBuild(b, SyntheticDocs(100_000, 11)))
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := Decode(data); err != nil {
			b.Fatal(err)
		}
	}
}
