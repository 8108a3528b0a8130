package jobs

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"net"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/atlas-ai/atlas-learn/columnar"
	"github.com/atlas-ai/atlas-learn/columnar/storage"
	"github.com/atlas-ai/atlas-learn/columnar/storage/membucket"
	"github.com/atlas-ai/atlas-learn/internal/trajgen"
	"github.com/atlas-ai/atlas-learn/jobs/recall"
)

// Limits of a recall query, shared by atlas-learn recall and serve.
const (
	RecallDefaultK  = 5
	RecallMaxK      = 100
	RecallMaxQuery  = 4096 // bytes
	recallShutdown  = 10 * time.Second
	recallReadLimit = 30 * time.Second
)

// RecallConfig is the recall section: where atlas-learn recall and serve
// find the memory, and how serve runs.
type RecallConfig struct {
	// Addr is where serve listens.
	Addr string `yaml:"addr" json:"addr"`
	// ReloadInterval is how often serve polls CURRENT.
	ReloadInterval time.Duration `yaml:"reload_interval" json:"reload_interval"`
	// K is the number of hits per query.
	K int `yaml:"k" json:"k"`
}

// Validate names the first invalid key of the section.
func (c RecallConfig) Validate(s3 storage.S3Config) error {
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		return fmt.Errorf("addr: want host:port, got %q", c.Addr)
	}
	if c.ReloadInterval < 100*time.Millisecond {
		return fmt.Errorf("reload_interval: must be at least 100ms, got %v", c.ReloadInterval)
	}
	if c.K < 1 || c.K > RecallMaxK {
		return fmt.Errorf("k: must be 1..%d, got %d", RecallMaxK, c.K)
	}
	return nil
}

// MemoryURI is the memory root of the configuration: memory.uri, or
// <output>/memory when it is empty.
func (c Config) MemoryURI() (string, error) {
	if c.Memory.URI != "" {
		return c.Memory.URI, nil
	}
	loc, err := MemoryLocation(&c)
	if err != nil {
		return "", fmt.Errorf("output: %w", err)
	}
	return loc.String(), nil
}

// Memory is one loaded memory version: its pointer and its index.
type Memory struct {
	Pointer MemoryPointer
	Index   *recall.Index
}

// OpenMemoryRoot opens the memory root uri for reading and returns the
// store and the root's prefix within it (always "": the store is opened
// at the root). A local directory that does not exist is a
// *NoMemoryError naming uri.
func OpenMemoryRoot(ctx context.Context, uri string, s3 storage.S3Config) (storage.Bucket, error) {
	loc, err := storage.ParseLocation(uri, s3)
	if err != nil {
		return nil, fmt.Errorf("memory: %w", err)
	}
	if loc.Driver == storage.DriverFile {
		b, err := storage.OpenLocalDir(loc.Path)
		if errors.Is(err, storage.ErrNotFound) {
			return nil, &NoMemoryError{Location: storage.Redact(uri)}
		}
		return b, err
	}
	return loc.Open(ctx)
}

// LoadMemory reads root's pointer and the index it names. Without a
// pointer it returns a *NoMemoryError.
func LoadMemory(ctx context.Context, b storage.BucketReader, root string) (*Memory, error) {
	p, err := ReadMemoryPointer(ctx, b, root)
	if err != nil {
		return nil, err
	}
	ix, err := ReadIndex(ctx, b, storage.Join(root, p.Index))
	if err != nil {
		return nil, fmt.Errorf("memory version %s: %w", p.Version, err)
	}
	return &Memory{Pointer: *p, Index: ix}, nil
}

// RecallQuery is one query of the memory.
type RecallQuery struct {
	Query string
	K     int
	// Kinds restricts the hits to these kinds (recall.Kinds); empty means
	// every kind.
	Kinds []string
}

// Validate names what is wrong with the query, in the terms of its
// parameters (q, k, kind).
func (q RecallQuery) Validate() error {
	switch {
	case strings.TrimSpace(q.Query) == "":
		return errors.New("q: the query is empty")
	case len(q.Query) > RecallMaxQuery:
		return fmt.Errorf("q: the query is %d bytes, at most %d are allowed", len(q.Query), RecallMaxQuery)
	case q.K < 1 || q.K > RecallMaxK:
		return fmt.Errorf("k: want 1..%d, got %d", RecallMaxK, q.K)
	}
	for _, k := range q.Kinds {
		if !recall.ValidKind(k) {
			return fmt.Errorf("kind: unknown kind %q (want %s)", k, strings.Join(recall.Kinds(), ", "))
		}
	}
	return nil
}

// ParseRecallKinds splits a comma-separated kind list ("strategy,plan"),
// dropping empty entries.
func ParseRecallKinds(s ...string) []string {
	var out []string
	for _, x := range s {
		for _, k := range strings.Split(x, ",") {
			if k = strings.TrimSpace(k); k != "" {
				out = append(out, k)
			}
		}
	}
	return out
}

// RecallResult is the answer to a query, as atlas-learn recall --json
// prints it and GET /v1/recall returns it.
type RecallResult struct {
	MemoryVersion string       `json:"memory_version"`
	Query         string       `json:"query"`
	Hits          []recall.Hit `json:"hits"`
}

// Recall validates q and searches m.
func (m *Memory) Recall(q RecallQuery) (RecallResult, error) {
	if err := q.Validate(); err != nil {
		return RecallResult{}, err
	}
	hits := m.Index.Search(q.Query, q.K, q.Kinds...)
	if hits == nil {
		hits = []recall.Hit{}
	}
	return RecallResult{MemoryVersion: m.Pointer.Version, Query: q.Query, Hits: hits}, nil
}

// RecallServer answers recall queries over HTTP from the current memory
// version, which Reload swaps in atomically: a request runs on the
// version it started with.
//
//	GET /v1/recall?q=...&k=5&kind=strategy,plan   RecallResult
//	GET /healthz                                  {"status":"ok","memory_version":...,"documents":N}
//
// Errors are JSON objects {"error": "..."}: 400 for a bad query (missing
// or empty q, k not in 1..100, an unknown kind, q over 4096 bytes), 404
// for other paths, 405 for methods other than GET, 503 while no memory is
// loaded.
type RecallServer struct {
	b    storage.BucketReader
	root string
	log  *slog.Logger
	cur  atomic.Pointer[Memory]
	mu   sync.Mutex // serializes Reload
}

// NewRecallServer serves the memory at root of b; nothing is loaded until
// Reload.
func NewRecallServer(b storage.BucketReader, root string, log *slog.Logger) *RecallServer {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &RecallServer{b: b, root: root, log: log}
}

// Current is the memory being served, nil before the first load.
func (s *RecallServer) Current() *Memory { return s.cur.Load() }

// Reload reads the pointer and, when it names another version than the
// one served (or none is), loads that version's index and swaps it in.
// On any error the memory served stays as it was. It tells whether it
// swapped.
func (s *RecallServer) Reload(ctx context.Context) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, err := ReadMemoryPointer(ctx, s.b, s.root)
	if err != nil {
		return false, err
	}
	if old := s.cur.Load(); old != nil && old.Pointer == *p {
		return false, nil
	}
	start := time.Now()
	ix, err := ReadIndex(ctx, s.b, storage.Join(s.root, p.Index))
	if err != nil {
		return false, fmt.Errorf("memory version %s: %w", p.Version, err)
	}
	old := s.cur.Swap(&Memory{Pointer: *p, Index: ix})
	from := ""
	if old != nil {
		from = old.Pointer.Version
	}
	s.log.Info("recall: memory loaded", "version", p.Version, "from", from, "documents", ix.Len(), "terms", ix.Terms(), "load_ms", time.Since(start).Milliseconds())
	return true, nil
}

// Poll calls Reload every interval until ctx ends, logging failures (the
// memory served stays as it was): a missing memory and a failure that
// repeats the one before at debug, others as warnings.
func (s *RecallServer) Poll(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	last := ""
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		_, err := s.Reload(ctx)
		switch {
		case err == nil || ctx.Err() != nil:
			last = ""
		case errors.Is(err, ErrNoMemory) || err.Error() == last:
			s.log.Debug("recall: reload failed; serving the memory loaded before", "err", err)
		default: // warn once per distinct failure, not every interval
			s.log.Warn("recall: reload failed; serving the memory loaded before", "err", err)
		}
		if err != nil {
			last = err.Error()
		}
	}
}

// ServeHTTP implements http.Handler.
func (s *RecallServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
	s.serve(rec, r)
	s.log.Debug("recall: request", "method", r.Method, "path", r.URL.Path, "query", r.URL.RawQuery, "status", rec.status, "duration_us", time.Since(start).Microseconds())
}

func (s *RecallServer) serve(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/v1/recall", "/healthz":
	default:
		writeJSONError(w, http.StatusNotFound, fmt.Sprintf("no such endpoint %s (want GET /v1/recall or /healthz)", r.URL.Path))
		return
	}
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		writeJSONError(w, http.StatusMethodNotAllowed, fmt.Sprintf("method %s not allowed (want GET)", r.Method))
		return
	}
	m := s.cur.Load()
	if r.URL.Path == "/healthz" {
		if m == nil {
			writeJSON(w, http.StatusServiceUnavailable, map[string]any{"status": "unavailable", "error": "no memory loaded yet"})
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"status": "ok", "memory_version": m.Pointer.Version, "documents": m.Index.Len()})
		return
	}
	v := r.URL.Query()
	q := RecallQuery{Query: v.Get("q"), K: RecallDefaultK, Kinds: ParseRecallKinds(v["kind"]...)}
	if ks, ok := v["k"]; ok {
		k, err := strconv.Atoi(strings.TrimSpace(ks[0]))
		if err != nil {
			writeJSONError(w, http.StatusBadRequest, fmt.Sprintf("k: not an integer: %q", ks[0]))
			return
		}
		q.K = k
	}
	if err := q.Validate(); err != nil {
		writeJSONError(w, http.StatusBadRequest, err.Error())
		return
	}
	if m == nil {
		writeJSONError(w, http.StatusServiceUnavailable, "no memory loaded yet")
		return
	}
	res, err := m.Recall(q)
	if err != nil {
		writeJSONError(w, http.StatusBadRequest, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, res)
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		status, data = http.StatusInternalServerError, []byte(`{"error":"encoding the response failed"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(append(data, '\n'))
}

func writeJSONError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

// ServeRecallOptions configures ServeRecall.
type ServeRecallOptions struct {
	// Bucket and Root are the memory.
	Bucket storage.BucketReader
	Root   string
	// Addr is where to listen ("127.0.0.1:8080") unless Listener is set.
	Addr     string
	Listener net.Listener
	// ReloadInterval is how often CURRENT is polled (default 10s).
	ReloadInterval time.Duration
	Logger         *slog.Logger
	// Ready, when set, is called with the address served once the
	// listener is open.
	Ready func(addr string)
}

// ServeRecall serves recall queries until ctx ends, then shuts down
// gracefully (requests in flight finish). It starts even when there is no
// memory yet (answering 503) and picks one up when it appears.
func ServeRecall(ctx context.Context, o ServeRecallOptions) error {
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if o.ReloadInterval <= 0 {
		o.ReloadInterval = 10 * time.Second
	}
	s := NewRecallServer(o.Bucket, o.Root, log)
	if _, err := s.Reload(ctx); err != nil {
		log.Warn("recall: no memory loaded at start; answering 503 until one is", "err", err)
	}
	ln := o.Listener
	if ln == nil {
		var err error
		if ln, err = net.Listen("tcp", o.Addr); err != nil {
			return fmt.Errorf("serve: %w", err)
		}
	}
	srv := &http.Server{Handler: s, ReadHeaderTimeout: recallReadLimit, ReadTimeout: recallReadLimit, WriteTimeout: recallReadLimit, IdleTimeout: 2 * time.Minute}
	pollCtx, stopPoll := context.WithCancel(ctx)
	defer stopPoll()
	go s.Poll(pollCtx, o.ReloadInterval)
	done := make(chan error, 1)
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recallShutdown)
		defer cancel()
		done <- srv.Shutdown(sctx)
	}()
	log.Info("recall: serving", "addr", ln.Addr().String(), "reload_interval", o.ReloadInterval.String())
	if o.Ready != nil {
		o.Ready(ln.Addr().String())
	}
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	if err := <-done; err != nil {
		return fmt.Errorf("serve: shutdown: %w", err)
	}
	log.Info("recall: stopped")
	return nil
}

// EvalDocBuilder turns the training trajectories of eval recall into the
// documents of the index. The payload of a document that stands for some
// of them must carry their task ids as "source_task_ids" (a JSON array of
// strings), which scoring reads; the indexed text must not contain task
// ids or family names.
type EvalDocBuilder func(ctx context.Context, train []columnar.Trajectory) ([]recall.Doc, error)

// EvalRecallOptions configures EvalRecall.
type EvalRecallOptions struct {
	// N trajectories are generated with Seed (atlas-learn gen's).
	N    int
	Seed int64
	// HeldOut is the share of task ids held out as queries (default 0.2).
	HeldOut float64
	// Strategies is the total number of documents: the built ones padded
	// with synthetic distractors (default 100000; fewer than built means
	// no distractors).
	Strategies int
	// Docs builds the documents (default MemoryRecallDocs: the real
	// offline path, strategies and plans through the memory's merge).
	Docs   EvalDocBuilder
	Logger *slog.Logger
}

// EvalRecallResult is eval recall's report.
type EvalRecallResult struct {
	Top1Accuracy float64 `json:"top1_accuracy"`
	Top3Accuracy float64 `json:"top3_accuracy"`
	P50Ms        float64 `json:"p50_ms"`
	P99Ms        float64 `json:"p99_ms"`
	Documents    int     `json:"documents"`
	Queries      int     `json:"queries"`
	BuildMs      float64 `json:"build_ms"`
	LoadMs       float64 `json:"load_ms"`
	// Built is the number of documents the builder made (the rest are
	// distractors); Train the training trajectories (successes only).
	Built       int `json:"built_documents"`
	Distractors int `json:"distractors"`
	Train       int `json:"train_trajectories"`
	Terms       int `json:"terms"`
}

// TaskFamily is the family of a generated task: its id up to the last
// "-" ("filter_sort-1a2b3c" gives "filter_sort").
func TaskFamily(taskID string) string {
	if i := strings.LastIndexByte(taskID, '-'); i > 0 {
		return taskID[:i]
	}
	return taskID
}

// heldOut tells, deterministically from the seed and the task id, whether
// a task is held out.
func heldOut(seed int64, taskID string, share float64) bool {
	h := fnv.New64a()
	fmt.Fprintf(h, "%d\x00%s", seed, taskID)
	return float64(h.Sum64()>>11)/float64(1<<53) < share
}

// EvalRecall measures recall on generated trajectories: it splits them by
// task id into train and held-out, builds documents from the train
// successes, pads them with distractors, and queries each held-out task's
// description, counting a hit right when a document built from a task of
// the same family ranks first (top1) or in the first three (top3).
func EvalRecall(ctx context.Context, o EvalRecallOptions) (EvalRecallResult, error) {
	var res EvalRecallResult
	if o.N < 1 {
		return res, fmt.Errorf("--n must be at least 1, got %d", o.N)
	}
	if o.HeldOut == 0 {
		o.HeldOut = 0.2
	}
	if !(o.HeldOut > 0 && o.HeldOut < 1) {
		return res, fmt.Errorf("--held-out must be in (0, 1), got %v", o.HeldOut)
	}
	if o.Strategies < 0 {
		return res, fmt.Errorf("--strategies must not be negative, got %d", o.Strategies)
	}
	if o.Docs == nil {
		o.Docs = MemoryRecallDocs
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	gc := trajgen.DefaultConfig()
	gc.N, gc.Seed = o.N, o.Seed
	var train []columnar.Trajectory
	type query struct{ text, family string }
	seen := map[string]bool{}
	var queries []query
	err := trajgen.Generate(ctx, gc, func(t columnar.Trajectory) error {
		if heldOut(o.Seed, t.Task.ID, o.HeldOut) {
			if !seen[t.Task.ID] {
				seen[t.Task.ID] = true
				queries = append(queries, query{text: t.Task.Description, family: TaskFamily(t.Task.ID)})
			}
		} else if t.Outcome.Success {
			train = append(train, t)
		}
		return nil
	})
	if err != nil {
		return res, err
	}
	if len(queries) == 0 || len(train) == 0 {
		return res, fmt.Errorf("eval recall: %d trajectories give %d held-out tasks and %d train successes; use a larger --n", o.N, len(queries), len(train))
	}
	docs, err := o.Docs(ctx, train)
	if err != nil {
		return res, fmt.Errorf("eval recall: building documents: %w", err)
	}
	res.Built, res.Train = len(docs), len(train)
	if pad := o.Strategies - len(docs); pad > 0 {
		docs = append(docs, recall.Synthetic(pad, uint64(o.Seed), docVocab(docs), "distractor")...)
		res.Distractors = pad
	}
	families := map[string][]string{} // document id -> families it stands for
	for _, d := range docs {
		if f := payloadFamilies(d.Payload); len(f) > 0 {
			families[d.ID] = f
		}
	}
	start := time.Now()
	ix, err := recall.Build(docs, recall.DefaultOptions())
	if err != nil {
		return res, fmt.Errorf("eval recall: %w", err)
	}
	res.BuildMs = ms(time.Since(start))
	// Load as serve does: write the index to a store and read it back.
	mb := membucket.New("eval-recall")
	if err := WriteIndex(ctx, mb, "index/recall.idx", ix); err != nil {
		return res, err
	}
	start = time.Now()
	if ix, err = ReadIndex(ctx, mb, "index/recall.idx"); err != nil {
		return res, err
	}
	res.LoadMs = ms(time.Since(start))
	res.Documents, res.Terms, res.Queries = ix.Len(), ix.Terms(), len(queries)

	lat := make([]time.Duration, len(queries))
	top1, top3 := 0, 0
	for i, q := range queries {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		t0 := time.Now()
		hits := ix.Search(q.text, 3)
		lat[i] = time.Since(t0)
		for r, h := range hits {
			if contains(families[h.ID], q.family) {
				if r == 0 {
					top1++
				}
				top3++
				break
			}
		}
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	res.Top1Accuracy = float64(top1) / float64(len(queries))
	res.Top3Accuracy = float64(top3) / float64(len(queries))
	res.P50Ms = ms(lat[len(lat)/2])
	res.P99Ms = ms(lat[min(len(lat)-1, len(lat)*99/100)])
	log.Info("eval recall", "documents", res.Documents, "queries", res.Queries, "top1", res.Top1Accuracy, "top3", res.Top3Accuracy)
	return res, nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// payloadFamilies reads the families of a payload's source_task_ids.
func payloadFamilies(p json.RawMessage) []string {
	var x struct {
		SourceTaskIDs []string `json:"source_task_ids"`
	}
	if len(p) == 0 || json.Unmarshal(p, &x) != nil {
		return nil
	}
	var out []string
	for _, id := range x.SourceTaskIDs {
		if f := TaskFamily(id); !contains(out, f) {
			out = append(out, f)
		}
	}
	sort.Strings(out)
	return out
}

// docVocab is the distinct lower-cased words of the documents' titles and
// texts, sorted: the vocabulary of the distractors.
func docVocab(docs []recall.Doc) []string {
	set := map[string]bool{}
	for _, d := range docs {
		for _, w := range strings.FieldsFunc(strings.ToLower(d.Title+" "+d.Text), func(r rune) bool {
			return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_')
		}) {
			set[w] = true
		}
	}
	out := make([]string, 0, len(set))
	for w := range set {
		out = append(out, w)
	}
	sort.Strings(out)
	return out
}

var defRe = regexp.MustCompile(`(?m)^\s*def\s+([A-Za-z_][A-Za-z0-9_]*)\s*\(([^)]*)\)`)

// ProvisionalRecallDocs is the provisional document builder of eval
// recall, a heuristic stand-in until strategy extraction and the memory
// provide real documents: one strategy document per distinct (task
// description, solution helpers) among the successes, titled with the
// description's first sentence, its text the description, the domain and
// the identifiers the solution defines (function and parameter names,
// solve excepted). Its payload says "builder": "provisional" and carries
// the source task ids, which are not indexed.
func ProvisionalRecallDocs(_ context.Context, train []columnar.Trajectory) ([]recall.Doc, error) {
	type acc struct {
		doc   recall.Doc
		tasks []string
		funcs []string
	}
	byID := map[string]*acc{}
	for _, t := range train {
		if !t.Outcome.Success {
			continue
		}
		var funcs, idents []string
		for _, m := range defRe.FindAllStringSubmatch(t.Solution.Code, -1) {
			if m[1] != "solve" {
				funcs = append(funcs, m[1])
				idents = append(idents, m[1])
			}
			for _, p := range strings.Split(m[2], ",") {
				if p = strings.TrimSpace(strings.SplitN(strings.SplitN(p, "=", 2)[0], ":", 2)[0]); p != "" && p != "x" {
					idents = append(idents, p)
				}
			}
		}
		sort.Strings(funcs)
		desc := strings.TrimSpace(t.Task.Description)
		title, _, _ := strings.Cut(desc, ";")
		if i := strings.Index(title, ". "); i > 0 {
			title = title[:i+1]
		}
		text := desc + "\n" + t.Task.Domain + "\n" + strings.Join(idents, " ")
		key := desc + "\x00" + strings.Join(funcs, ",")
		sum := sha256.Sum256([]byte(key))
		id := "strategy/provisional-" + hex.EncodeToString(sum[:6])
		a := byID[id]
		if a == nil {
			a = &acc{doc: recall.Doc{ID: id, Kind: recall.KindStrategy, Title: title, Text: text}, funcs: funcs}
			byID[id] = a
		}
		a.tasks = append(a.tasks, t.Task.ID)
	}
	ids := make([]string, 0, len(byID))
	for id := range byID {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	docs := make([]recall.Doc, 0, len(ids))
	for _, id := range ids {
		a := byID[id]
		sort.Strings(a.tasks)
		count := len(a.tasks)
		a.tasks = a.tasks[:min(count, 20)] // provenance, bounded
		sugg := "solve it directly"
		if len(a.funcs) > 0 {
			sugg = "write the helpers " + strings.Join(a.funcs, ", ") + " and compose them in solve"
		}
		p, err := json.Marshal(map[string]any{
			"builder":         "provisional",
			"situation":       a.doc.Title,
			"suggestion":      sugg,
			"source_task_ids": a.tasks,
			"source_count":    count,
		})
		if err != nil {
			return nil, fmt.Errorf("document %s: %w", id, err)
		}
		a.doc.Payload = p
		docs = append(docs, a.doc)
	}
	return docs, nil
}

// The payload keys printed first for each kind, in this order; other keys
// follow in name order.
var recallPayloadKeys = map[string][]string{
	recall.KindStrategy: {"situation", "suggestion", "parameters"},
	recall.KindConcept:  {"signature", "description", "python"},
	recall.KindPlan:     {"steps"},
}

// WriteRecallText prints res for people: one block per hit with its
// rank, kind, title and score, its id, and its payload's fields — the
// key fields of its kind first (situation, suggestion, parameters for
// strategies; signature, description, python for concepts; steps for
// plans), then the others; multi-line text is indented, lists are
// numbered, long lists shortened.
func WriteRecallText(w io.Writer, res RecallResult) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "memory %s: %d hits for %q\n", res.MemoryVersion, len(res.Hits), res.Query)
	for _, h := range res.Hits {
		title := h.Title
		if title == "" {
			title = h.ID
		}
		fmt.Fprintf(bw, "\n%d. [%s] %s  (score %.3f)\n   id: %s\n", h.Rank, h.Kind, title, h.Score, h.ID)
		writePayload(bw, h.Kind, h.Payload)
	}
	return bw.Flush()
}

func writePayload(w io.Writer, kind string, p json.RawMessage) {
	if len(p) == 0 || string(p) == "null" {
		return
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(p, &obj); err != nil {
		fmt.Fprintf(w, "   payload: %s\n", shorten(string(p), 300))
		return
	}
	keys := append([]string(nil), recallPayloadKeys[kind]...)
	keys = slices.DeleteFunc(keys, func(k string) bool { _, ok := obj[k]; return !ok })
	var rest []string
	for k := range obj {
		if !slices.Contains(keys, k) {
			rest = append(rest, k)
		}
	}
	sort.Strings(rest)
	for _, k := range append(keys, rest...) {
		writeValue(w, k, obj[k])
	}
}

func writeValue(w io.Writer, key string, raw json.RawMessage) {
	const maxItems = 10
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return
	}
	switch x := v.(type) {
	case string:
		if strings.Contains(x, "\n") {
			fmt.Fprintf(w, "   %s:\n", key)
			for _, l := range strings.Split(strings.TrimRight(x, "\n"), "\n") {
				fmt.Fprintf(w, "       %s\n", l)
			}
			return
		}
		fmt.Fprintf(w, "   %s: %s\n", key, shorten(x, 300))
	case []any:
		if len(x) == 0 {
			fmt.Fprintf(w, "   %s: []\n", key)
			return
		}
		fmt.Fprintf(w, "   %s:\n", key)
		for i, e := range x {
			if i == maxItems {
				fmt.Fprintf(w, "       ... (%d more)\n", len(x)-maxItems)
				break
			}
			s, ok := e.(string)
			if !ok {
				b, _ := json.Marshal(e)
				s = string(b)
			}
			fmt.Fprintf(w, "       %d. %s\n", i+1, shorten(s, 200))
		}
	case map[string]any:
		ks := make([]string, 0, len(x))
		for k := range x {
			ks = append(ks, k)
		}
		sort.Strings(ks)
		parts := make([]string, 0, len(ks))
		for _, k := range ks {
			b, _ := json.Marshal(x[k])
			parts = append(parts, k+"="+string(b))
		}
		fmt.Fprintf(w, "   %s: %s\n", key, shorten(strings.Join(parts, ", "), 300))
	default:
		b, _ := json.Marshal(x)
		fmt.Fprintf(w, "   %s: %s\n", key, b)
	}
}

func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}
