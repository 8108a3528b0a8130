package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/atlas-ai/atlas-learn/columnar"
	"github.com/atlas-ai/atlas-learn/columnar/storage"
	"github.com/atlas-ai/atlas-learn/columnar/storage/membucket"
	"github.com/atlas-ai/atlas-learn/jobs/recall"
)

func testRecallDocs(version string) []recall.Doc {
	return []recall.Doc{
		{ID: "strategy/reverse-words", Kind: recall.KindStrategy, Title: "Reverse the words of a sentence", Text: "split on spaces, reverse the list, join with single spaces " + version,
			Payload: json.RawMessage(`{"situation":"reverse word order","suggestion":"split, reverse, join","parameters":{"sep":" "}}`)},
		{ID: "concept/chunk", Kind: recall.KindConcept, Title: "chunk", Text: "split a list into consecutive chunks of n elements",
			Payload: json.RawMessage(`{"signature":"chunk(xs, n)","description":"consecutive chunks","python":"def chunk(xs, n):\n    return [xs[i:i+n] for i in range(0, len(xs), n)]"}`)},
		{ID: "plan/p1", Kind: recall.KindPlan, Title: "Sum of chunks", Text: "chunk the list then sum each chunk",
			Payload: json.RawMessage(`{"steps":["chunk the list","sum each chunk"]}`)},
	}
}

func publishTestMemory(t testing.TB, b storage.Bucket, root, version string, docs []recall.Doc) MemoryPointer {
	t.Helper()
	ix, err := recall.Build(docs, recall.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	p := NewMemoryPointer(version, "run-"+version, "2026-01-01T00:00:00Z")
	if err := PublishRecallIndex(context.Background(), b, root, p, ix); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadMemoryAndRecall(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	if _, err := OpenMemoryRoot(ctx, dir+"/missing", storage.S3Config{}); !errors.Is(err, ErrNoMemory) || !strings.Contains(err.Error(), "no memory at "+dir+"/missing") {
		t.Fatalf("missing dir: %v", err)
	}
	b, err := OpenMemoryRoot(ctx, dir, storage.S3Config{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := LoadMemory(ctx, b, ""); !errors.Is(err, ErrNoMemory) {
		t.Fatalf("empty dir: %v", err)
	}
	lb, _ := storage.NewLocal(dir)
	publishTestMemory(t, lb, "", "000001", testRecallDocs("v1"))
	m, err := LoadMemory(ctx, b, "")
	if err != nil {
		t.Fatal(err)
	}
	res, err := m.Recall(RecallQuery{Query: "reverse the words", K: 5})
	if err != nil || res.MemoryVersion != "000001" || len(res.Hits) == 0 || res.Hits[0].ID != "strategy/reverse-words" {
		t.Fatalf("recall %+v %v", res, err)
	}
	res, err = m.Recall(RecallQuery{Query: "unicorns", K: 5})
	if err != nil || res.Hits == nil || len(res.Hits) != 0 {
		t.Errorf("no hits: %+v %v (want an empty, non-nil list)", res, err)
	}
	// A broken index names the version and the object.
	if err := storage.Put(ctx, lb, "versions/000001/index/recall.idx", []byte("broken")); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadMemory(ctx, b, ""); !errors.Is(err, recall.ErrFormat) || !strings.Contains(err.Error(), "memory version 000001") || !strings.Contains(err.Error(), "recall.idx") {
		t.Errorf("broken index: %v", err)
	}
}

func TestRecallQueryValidate(t *testing.T) {
	for _, tc := range []struct {
		q    RecallQuery
		want string
	}{
		{RecallQuery{Query: "x", K: 5}, ""},
		{RecallQuery{Query: "x", K: 100, Kinds: []string{"plan", "concept", "strategy"}}, ""},
		{RecallQuery{Query: "  ", K: 5}, "q: the query is empty"},
		{RecallQuery{Query: strings.Repeat("a", RecallMaxQuery+1), K: 5}, "at most 4096"},
		{RecallQuery{Query: "x", K: 0}, "k: want 1..100"},
		{RecallQuery{Query: "x", K: 101}, "k: want 1..100"},
		{RecallQuery{Query: "x", K: 5, Kinds: []string{"strategies"}}, `unknown kind "strategies"`},
	} {
		err := tc.q.Validate()
		if (tc.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%+v: err %v, want %q", tc.q.Kinds, err, tc.want)
		}
	}
	if got := ParseRecallKinds("strategy, plan", "", "concept"); strings.Join(got, "|") != "strategy|plan|concept" {
		t.Errorf("ParseRecallKinds %q", got)
	}
}

func get(t testing.TB, srv *httptest.Server, method, path string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var body map[string]any
	if method != http.MethodHead {
		if err := json.Unmarshal(data, &body); err != nil {
			t.Fatalf("%s %s: body %q is not JSON: %v", method, path, data, err)
		}
		if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("%s %s: content type %q", method, path, ct)
		}
	}
	return resp.StatusCode, body
}

func TestRecallServerHTTP(t *testing.T) {
	ctx := context.Background()
	b := membucket.New("mem")
	s := NewRecallServer(b, "memory", nil)
	srv := httptest.NewServer(s)
	defer srv.Close()

	// Before any memory: 503 (bad requests are still 400).
	if code, body := get(t, srv, "GET", "/healthz"); code != 503 || body["status"] != "unavailable" {
		t.Errorf("healthz before memory: %d %v", code, body)
	}
	if code, _ := get(t, srv, "GET", "/v1/recall?q=reverse"); code != 503 {
		t.Errorf("recall before memory: %d", code)
	}
	if _, err := s.Reload(ctx); !errors.Is(err, ErrNoMemory) {
		t.Errorf("reload without memory: %v", err)
	}
	publishTestMemory(t, b, "memory", "000001", testRecallDocs("v1"))
	if ok, err := s.Reload(ctx); !ok || err != nil {
		t.Fatalf("reload: %v %v", ok, err)
	}
	if ok, err := s.Reload(ctx); ok || err != nil {
		t.Errorf("reload of the same version: %v %v", ok, err)
	}

	long := url.QueryEscape(strings.Repeat("word ", 1000))
	for _, tc := range []struct {
		method, path string
		code         int
		errPart      string
	}{
		{"GET", "/v1/recall", 400, "q: the query is empty"},
		{"GET", "/v1/recall?q=", 400, "q: the query is empty"},
		{"GET", "/v1/recall?q=%20%20", 400, "q: the query is empty"},
		{"GET", "/v1/recall?q=x&k=abc", 400, "k: not an integer"},
		{"GET", "/v1/recall?q=x&k=0", 400, "k: want 1..100"},
		{"GET", "/v1/recall?q=x&k=101", 400, "k: want 1..100"},
		{"GET", "/v1/recall?q=x&k=-3", 400, "k: want 1..100"},
		{"GET", "/v1/recall?q=x&kind=strategy,bogus", 400, `unknown kind "bogus"`},
		{"GET", "/v1/recall?q=" + long, 400, "at most 4096"},
		{"POST", "/v1/recall?q=x", 405, "method POST not allowed"},
		{"DELETE", "/healthz", 405, "method DELETE not allowed"},
		{"GET", "/", 404, "no such endpoint /"},
		{"GET", "/v1/recal", 404, "no such endpoint"},
	} {
		code, body := get(t, srv, tc.method, tc.path)
		msg, _ := body["error"].(string)
		if code != tc.code || !strings.Contains(msg, tc.errPart) {
			t.Errorf("%s %.40s: %d %q, want %d %q", tc.method, tc.path, code, msg, tc.code, tc.errPart)
		}
	}

	code, body := get(t, srv, "GET", "/healthz")
	if code != 200 || body["status"] != "ok" || body["memory_version"] != "000001" || body["documents"] != float64(3) {
		t.Errorf("healthz: %d %v", code, body)
	}
	code, body = get(t, srv, "GET", "/v1/recall?q="+url.QueryEscape("split the list into chunks")+"&k=2&kind=concept&kind=plan")
	if code != 200 || body["memory_version"] != "000001" || body["query"] != "split the list into chunks" {
		t.Fatalf("recall: %d %v", code, body)
	}
	hits := body["hits"].([]any)
	if len(hits) != 2 {
		t.Fatalf("hits %v", hits)
	}
	h0 := hits[0].(map[string]any)
	if h0["id"] != "concept/chunk" || h0["rank"] != float64(1) || h0["kind"] != "concept" || h0["payload"].(map[string]any)["signature"] != "chunk(xs, n)" {
		t.Errorf("first hit %v", h0)
	}
	for _, h := range hits {
		if k := h.(map[string]any)["kind"]; k == "strategy" {
			t.Errorf("kind filter let a strategy through: %v", h)
		}
	}
	code, body = get(t, srv, "GET", "/v1/recall?q=zzzz")
	if code != 200 || body["hits"] == nil || len(body["hits"].([]any)) != 0 {
		t.Errorf("no hits: %d %v", code, body)
	}
}

// TestRecallServerReloadUnderLoad swaps versions while clients query: no
// request fails, and every answer is consistent with the version it
// names.
func TestRecallServerReloadUnderLoad(t *testing.T) {
	ctx := context.Background()
	b := membucket.New("mem")
	publishTestMemory(t, b, "", "000001", testRecallDocs("alpha"))
	s := NewRecallServer(b, "", nil)
	if _, err := s.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s)
	defer srv.Close()

	var failed, done atomic.Int64
	seen := sync.Map{}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for c := 0; c < 8; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				resp, err := srv.Client().Get(srv.URL + "/v1/recall?q=alpha+beta+gamma+reverse&k=3")
				if err != nil {
					failed.Add(1)
					continue
				}
				var res RecallResult
				err = json.NewDecoder(resp.Body).Decode(&res)
				resp.Body.Close()
				if err != nil || resp.StatusCode != 200 || len(res.Hits) == 0 {
					failed.Add(1)
					continue
				}
				// Version n's reverse-words text carries its own word.
				word := map[string]string{"000001": "alpha", "000002": "beta", "000003": "gamma"}[res.MemoryVersion]
				if word == "" {
					failed.Add(1)
				}
				seen.Store(res.MemoryVersion, true)
				done.Add(1)
			}
		}()
	}
	for v, word := range []string{"beta", "gamma"} {
		time.Sleep(30 * time.Millisecond)
		docs := testRecallDocs(word)
		docs = append(docs, recall.Synthetic(2000, uint64(v), nil, "pad")...) // a load that takes a moment
		publishTestMemory(t, b, "", MemoryVersionName(v+2), docs)
		if ok, err := s.Reload(ctx); !ok || err != nil {
			t.Fatalf("reload %d: %v %v", v+2, ok, err)
		}
	}
	// A broken version is not swapped in: the old one keeps serving.
	if err := storage.Put(ctx, b, "versions/000004/index/recall.idx", []byte("broken")); err != nil {
		t.Fatal(err)
	}
	if err := WriteMemoryPointer(ctx, b, "", NewMemoryPointer("000004", "r", "")); err != nil {
		t.Fatal(err)
	}
	if ok, err := s.Reload(ctx); ok || err == nil {
		t.Errorf("broken version: swapped %v, err %v", ok, err)
	}
	time.Sleep(30 * time.Millisecond)
	close(stop)
	wg.Wait()
	if n := failed.Load(); n > 0 {
		t.Errorf("%d requests failed during reloads (%d succeeded)", n, done.Load())
	}
	for _, v := range []string{"000001", "000003"} {
		if _, ok := seen.Load(v); !ok {
			t.Errorf("no answer from version %s", v)
		}
	}
	if v := s.Current().Pointer.Version; v != "000003" {
		t.Errorf("serving %s after a broken version, want 000003", v)
	}
}

// TestServeRecallPollsAndShutsDown runs the whole server: it starts
// without memory, picks up a version by polling, and stops with ctx.
func TestServeRecallPollsAndShutsDown(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	b := membucket.New("mem")
	addr := make(chan string, 1)
	errc := make(chan error, 1)
	go func() {
		errc <- ServeRecall(ctx, ServeRecallOptions{Bucket: b, Addr: "127.0.0.1:0", ReloadInterval: 20 * time.Millisecond, Ready: func(a string) { addr <- a }})
	}()
	base := "http://" + <-addr
	status := func() int {
		resp, err := http.Get(base + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if c := status(); c != 503 {
		t.Fatalf("healthz without memory: %d", c)
	}
	publishTestMemory(t, b, "", "000001", testRecallDocs("v"))
	deadline := time.Now().Add(5 * time.Second)
	for status() != 200 {
		if time.Now().After(deadline) {
			t.Fatal("the poll never loaded the memory")
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	select {
	case err := <-errc:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("no shutdown")
	}
}

func TestEvalRecall(t *testing.T) {
	ctx := context.Background()
	res, err := EvalRecall(ctx, EvalRecallOptions{N: 400, Seed: 3, Strategies: 5000})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", res)
	if res.Documents != 5000 || res.Queries < 40 || res.Built < 10 || res.Distractors != 5000-res.Built {
		t.Errorf("sizes %+v", res)
	}
	if res.Top3Accuracy < 0.8 || res.Top1Accuracy > res.Top3Accuracy {
		t.Errorf("top1 %.3f top3 %.3f", res.Top1Accuracy, res.Top3Accuracy)
	}
	// The accuracy is a pure function of the inputs.
	again, err := EvalRecall(ctx, EvalRecallOptions{N: 400, Seed: 3, Strategies: 5000})
	if err != nil || again.Top1Accuracy != res.Top1Accuracy || again.Top3Accuracy != res.Top3Accuracy || again.Terms != res.Terms {
		t.Errorf("second run %+v %v", again, err)
	}
	// The builder is a parameter; a builder that gives documents no
	// provenance scores zero.
	none, err := EvalRecall(ctx, EvalRecallOptions{N: 400, Seed: 3, Strategies: 100, Docs: func(_ context.Context, tr []columnar.Trajectory) ([]recall.Doc, error) {
		docs := make([]recall.Doc, 0, len(tr))
		for i, x := range tr {
			docs = append(docs, recall.Doc{ID: fmt.Sprintf("strategy/%d", i), Kind: recall.KindStrategy, Text: x.Task.Description})
		}
		return docs, nil
	}})
	if err != nil || none.Top3Accuracy != 0 {
		t.Errorf("builder without provenance: %+v %v", none, err)
	}
	if _, err := EvalRecall(ctx, EvalRecallOptions{N: 10, HeldOut: 1.5}); err == nil {
		t.Error("held-out 1.5 accepted")
	}
}

func TestProvisionalRecallDocsNoFamilyNames(t *testing.T) {
	res, err := EvalRecall(context.Background(), EvalRecallOptions{N: 200, Seed: 1, Strategies: 0, Docs: func(ctx context.Context, tr []columnar.Trajectory) ([]recall.Doc, error) {
		docs, err := ProvisionalRecallDocs(ctx, tr)
		for _, d := range docs {
			for _, x := range tr {
				if strings.Contains(d.Title+d.Text, x.Task.ID) {
					t.Errorf("document %s indexes task id %s", d.ID, x.Task.ID)
				}
			}
			if fam := payloadFamilies(d.Payload); len(fam) != 1 {
				t.Errorf("document %s stands for families %v", d.ID, fam)
			} else if strings.Contains(d.Title+" "+d.Text, fam[0]) && strings.Contains(fam[0], "_") {
				t.Errorf("document %s indexes its family name %s", d.ID, fam[0])
			}
		}
		return docs, err
	}})
	if err != nil || res.Documents == 0 {
		t.Fatalf("%+v %v", res, err)
	}
}
