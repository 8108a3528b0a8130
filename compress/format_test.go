package compress

import (
	"bytes"
	"context"
	"encoding/json"
	"github.com/atlas-ai/atlas-learn/internal/shareddata"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestTextFormatExact: every corpus reads, and prints in a form that reads
// back to the same term; for the corpora whose Stitch output is stored, our
// printing of each input is exactly Stitch's printing of it.
func TestTextFormatExact(t *testing.T) {
	dir := filepath.Join(shareddata.Dir(t), "stitch")
	files, err := filepath.Glob(filepath.Join(dir, "*", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no corpora: %v", err)
	}
	printed := map[string][]string{}
	for _, f := range files {
		if strings.Contains(f, "expected_outputs") {
			continue
		}
		s := NewStore(DefaultCost())
		for i, p := range loadPrograms(t, f) {
			r, err := s.parseTerm(p, 0, 0)
			if err != nil {
				t.Fatalf("%s program %d: %v", f, i, err)
			}
			got := s.String(r)
			if r2, err := s.parseTerm(got, 0, 0); err != nil || r2 != r {
				t.Fatalf("%s program %d: printed form %s reads back differently (%v)", f, i, got, err)
			}
			printed[f] = append(printed[f], got)
		}
	}
	for _, name := range []string{"dials", "furniture", "bridge"} {
		b, err := os.ReadFile(filepath.Join(dir, "expected_outputs", name+"-a2-i10.json"))
		if err != nil {
			t.Fatal(err)
		}
		var want struct {
			Original []string `json:"original"`
		}
		if err := json.Unmarshal(b, &want); err != nil {
			t.Fatal(err)
		}
		got := printed[filepath.Join(dir, "cogsci", name+".json")]
		if len(got) != len(want.Original) {
			t.Fatalf("%s: %d programs, Stitch %d", name, len(got), len(want.Original))
		}
		for i := range got {
			if got[i] != want.Original[i] {
				t.Fatalf("%s program %d: we print\n%s\nStitch prints\n%s", name, i, got[i], want.Original[i])
			}
		}
	}
}

func TestTermBasics(t *testing.T) {
	s := NewStore(DefaultCost())
	for _, tc := range []struct {
		in, out string
		cost    int64
	}{
		{"(f a b)", "(f a b)", 302},
		{"((f a) b)", "(f a b)", 302},
		{"(lam (f $0))", "(lam (f $0))", 202},
		{"  (g   (x))  ", "(g x)", 201},
		{"(lam (lam ($1 $0)))", "(lam (lam ($1 $0)))", 203},
	} {
		r, err := s.parseTerm(tc.in, 0, 0)
		if err != nil {
			t.Fatalf("%q: %v", tc.in, err)
		}
		if got := s.String(r); got != tc.out || s.Cost(r) != tc.cost {
			t.Errorf("%q: %s cost %d, want %s cost %d", tc.in, got, s.Cost(r), tc.out, tc.cost)
		}
	}
	a, _ := s.parseTerm("(f (g x) (g x))", 0, 0)
	b, _ := s.parseTerm("(f (g x) (g x))", 0, 0)
	if a != b {
		t.Error("equal terms are not interned to one id")
	}
	// shifting only moves free variables
	src, _ := s.parseTerm("(lam ($0 $1 $3))", 0, 0)
	want, _ := s.parseTerm("(lam ($0 $3 $5))", 0, 0)
	if got := s.Shift(src, 2); got != want {
		t.Errorf("shift: %s, want %s", s.String(got), s.String(want))
	}
}

func TestSummaryValidation(t *testing.T) {
	for _, tc := range []struct{ name, doc, want string }{
		{"version", `{"version":7}`, "version 7"},
		{"lengths", `{"version":1,"symbols":["a"],"nodes":[[0,0,-1]],"count":[],"owner":[]}`, "counts"},
		{"forward edge", `{"version":1,"symbols":["a"],"nodes":[[3,0,1],[0,0,-1]],"count":[1,1],"owner":[0,0]}`, "node 0 is malformed"},
		{"bad symbol", `{"version":1,"symbols":[],"nodes":[[0,0,-1]],"count":[1],"owner":[0]}`, "node 0 is malformed"},
		{"zero count", `{"version":1,"symbols":["a"],"nodes":[[0,0,-1]],"count":[0],"owner":[0]}`, "count 0"},
		{"not json", `{"version":`, "read summary"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadSummary(strings.NewReader(tc.doc))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
	// a real summary survives the round trip
	sh, err := NewShard(0, 0, []string{"(f (g x) (g x))", "(lam (h $0))"}, DefaultCost(), 0)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := WriteSummary(&buf, sh.Summary()); err != nil {
		t.Fatal(err)
	}
	sum, err := ReadSummary(&buf)
	if err != nil {
		t.Fatal(err)
	}
	c := MergeSummaries(DefaultCost(), []*Summary{sum})
	if c.Cost() != sh.Cost() || c.Programs() != 2 {
		t.Errorf("merged cost %d programs %d, want %d and 2", c.Cost(), c.Programs(), sh.Cost())
	}
}

// TestNamesAvoidCorpusSymbols: a learned name never collides with a
// primitive of the corpus.
func TestNamesAvoidCorpusSymbols(t *testing.T) {
	progs := []string{"(fn_0 (big tree here) 1)", "(fn_0 (big tree here) 2)", "(k (big tree here))"}
	res, err := Compress(context.Background(), progs, Options{Iterations: 1, MaxArity: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Abstractions) != 1 || res.Abstractions[0].Name != "fn_1" {
		t.Fatalf("got %+v", res.Abstractions)
	}
	checkInvariants(t, progs, res)
}

// stitchBasicFinal is Stitch's final cost on its basic corpora with 3
// iterations and arity 3 (stitch-core 0.1.29, run on this machine).
var stitchBasicFinal = map[string]int64{
	"cex": 200, "ctx_thread_1": 402, "ctx_thread_2": 402, "ctx_thread_twice": 402, "hof": 907,
	"identical": 200, "issue108": 814, "issue108_2": 1315, "lio_test1": 17467, "lio_test2": 9190,
	"map": 1820, "map2": 1719, "map_minimal": 1010, "safe_ctx_thread_bug": 402, "simple1": 402,
	"simple2": 402, "simple3": 402, "simple4": 402, "simple5": 808, "simple_hof": 808,
	"symbol_weighting_test_1": 400, "symbol_weighting_test_2": 400, "tmp_crash": 1010, "tmp_minimal": 3736,
}

// TestBasicCorpora runs Stitch's small regression corpora (curried heads,
// lambdas, tagged lambdas lam_N and $i_N), checks the invariants and
// compares the final cost with Stitch's.
func TestBasicCorpora(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(shareddata.Dir(t), "stitch", "basic", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no corpora: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			progs := loadPrograms(t, f)
			res, err := Compress(context.Background(), progs, Options{Iterations: 3, MaxArity: 3})
			if err != nil {
				t.Fatal(err)
			}
			checkInvariants(t, progs, res)
			want, ok := stitchBasicFinal[strings.TrimSuffix(filepath.Base(f), ".json")]
			if !ok {
				t.Fatal("no Stitch result recorded for this corpus")
			}
			if res.FinalCost > want {
				t.Errorf("final cost %d > Stitch's %d", res.FinalCost, want)
			}
		})
	}
}
