package sft

import (
	"container/heap"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"sync"
	"unicode"
	"unicode/utf8"
)

// rankKey is what rankLess compares of an example, kept apart so that
// the global selections (exact duplicates, quality bins) can rank
// examples that are not in memory.
type rankKey struct {
	quality    float64
	compTokens int32
	compLen    int32
	// hash is stableHash(ID); id is the ID's value (16 hex digits, so
	// that comparing values compares the strings).
	hash, id uint64
	// seq is the example's place in the input (trajectory, then example):
	// it orders only examples whose ids are equal (trajectory ids given
	// twice).
	seq int64
}

func rankKeyOf(e *Example, hash uint64, seq int64) rankKey {
	id, err := strconv.ParseUint(e.ID, 16, 64)
	if err != nil || len(e.ID) != 16 {
		// Ids are exampleID's; a foreign one still gets a fixed place.
		id = stableHash("id\x00" + e.ID)
	}
	return rankKey{quality: e.Quality, compTokens: e.CompletionTokens, compLen: int32(len(e.Completion)), hash: hash, id: id, seq: seq}
}

// compareRank is rankLess on keys: quality descending, then the shortest
// completion (tokens, then bytes), then the id's hash, the id, the input
// order.
func compareRank(a, b *rankKey) int {
	switch {
	case a.quality != b.quality:
		if a.quality > b.quality {
			return -1
		}
		return 1
	case a.compTokens != b.compTokens:
		return int(a.compTokens) - int(b.compTokens)
	case a.compLen != b.compLen:
		return int(a.compLen) - int(b.compLen)
	case a.hash != b.hash:
		if a.hash < b.hash {
			return -1
		}
		return 1
	case a.id != b.id:
		if a.id < b.id {
			return -1
		}
		return 1
	}
	return cmpInt64(a.seq, b.seq)
}

func cmpInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// bitset is a set of sequence numbers.
type bitset []uint64

func (b *bitset) add(i int64) {
	w := int(i / 64)
	if w >= len(*b) {
		*b = append(*b, make([]uint64, w+1-len(*b))...)
	}
	(*b)[w] |= 1 << (uint(i) % 64)
}

func (b bitset) has(i int64) bool {
	w := int(i / 64)
	return w < len(b) && b[w]&(1<<(uint(i)%64)) != 0
}

// SpillOptions say where a Pipeline keeps its examples between passes.
type SpillOptions struct {
	// Dir is the directory under which a temporary directory holds the
	// buckets' files; "" keeps them in memory.
	Dir string
	// Buckets partitions the examples by a hash of their task id (< 1:
	// one). Only one bucket per worker is in memory at a time; the
	// result does not depend on the count.
	Buckets int
}

// dupRecord is what the exact-duplicate selection keeps of an example:
// the hash of its normalised text and its rank.
type dupRecord struct {
	key [2]uint64
	rk  rankKey
}

// binRecord is what the bin balancing keeps of a refinement example.
type binRecord struct {
	bin int32
	rk  rankKey
}

// Pipeline is Prepare in passes over buckets of examples, for inputs
// that do not fit in memory: Add builds each trajectory's examples,
// counts their completions' tokens and spills them into buckets by task;
// Finish removes the exact duplicates (over all buckets, by a hash of
// the normalised text), selects within each bucket (near duplicates,
// overlength, the per-task cap), balances the quality bins over all of
// them, counts the prompt tokens of the examples kept, and streams those
// in output order. What it emits is what Prepare returns, whatever the
// buckets and workers.
type Pipeline struct {
	o       Options
	workers int
	sysTok  int
	sysNorm string
	dir     string // the temporary directory; "" in memory
	buckets []*store
	runs    []*store
	batch   []Input
	seq     int64
	sum     Summary
	bs      BuildStats
	dups    []dupRecord
	// exactLosers and binLosers are the sequence numbers the global
	// selections drop.
	exactLosers, binLosers bitset
	finished               bool
}

// pipelineBatch is how many trajectories Add builds at once.
const pipelineBatch = 256

// NewPipeline starts a pipeline; Close removes what it spilled.
func NewPipeline(o Options, sp SpillOptions) (*Pipeline, error) {
	if err := o.Validate(); err != nil {
		return nil, fmt.Errorf("sft: %w", err)
	}
	sys, err := o.Tokenizer.Count(o.System)
	if err != nil {
		return nil, fmt.Errorf("sft: system prompt: %w", err)
	}
	p := &Pipeline{o: o, workers: max(o.Workers, 1), sysTok: sys, sysNorm: normSpace(o.System),
		sum: Summary{Encoding: o.Tokenizer.Name(), Epochs: o.Epochs}}
	if sp.Dir != "" {
		d, err := os.MkdirTemp(sp.Dir, "atlas-sft-")
		if err != nil {
			return nil, fmt.Errorf("sft: spill: %w", err)
		}
		p.dir = d
	}
	for i := range max(sp.Buckets, 1) {
		s, err := newStore(p.dir, fmt.Sprintf("bucket-%05d", i))
		if err != nil {
			p.Close()
			return nil, err
		}
		p.buckets = append(p.buckets, s)
	}
	return p, nil
}

// Close removes the spilled files.
func (p *Pipeline) Close() error {
	var errs []error
	for _, s := range append(p.buckets, p.runs...) {
		errs = append(errs, s.drop())
	}
	p.buckets, p.runs = nil, nil
	if p.dir != "" {
		errs = append(errs, os.RemoveAll(p.dir))
		p.dir = ""
	}
	return errors.Join(errs...)
}

// Add adds one trajectory (in input order).
func (p *Pipeline) Add(ctx context.Context, in Input) error {
	if p.finished {
		return fmt.Errorf("sft: Add after Finish")
	}
	p.batch = append(p.batch, in)
	if len(p.batch) >= pipelineBatch {
		return p.flush(ctx)
	}
	return nil
}

// built is one trajectory's examples, as a worker left them.
type built struct {
	exs  []Example
	keys [][2]uint64
	st   BuildStats
	err  error
}

// flush builds the batch's examples with the workers, then spills them
// in input order.
func (p *Pipeline) flush(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	out := make([]built, len(p.batch))
	var wg sync.WaitGroup
	for g := range p.workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var buf []byte
			for i := g; i < len(p.batch); i += p.workers {
				out[i], buf = p.build(p.batch[i], buf)
			}
		}()
	}
	wg.Wait()
	p.sum.Trajectories += int64(len(p.batch))
	p.batch = p.batch[:0]
	for i := range out {
		b := &out[i]
		if b.err != nil {
			return b.err
		}
		p.bs.EmptyCompletion += b.st.EmptyCompletion
		p.bs.KeyStepOutOfRange += b.st.KeyStepOutOfRange
		p.bs.FailedNoError += b.st.FailedNoError
		for j := range b.exs {
			e := &b.exs[j]
			switch e.Subkind {
			case SubkindSolution:
				p.sum.ExamplesSampling++
			case SubkindKeyStep:
				p.sum.ExamplesKeyStep++
			case SubkindError:
				p.sum.ExamplesError++
			}
			e.rk = rankKeyOf(e, e.rk.hash, p.seq)
			p.seq++
			p.dups = append(p.dups, dupRecord{key: b.keys[j], rk: e.rk})
			if err := p.buckets[bucketOf(e.TaskID, len(p.buckets))].put(e); err != nil {
				return err
			}
		}
	}
	return nil
}

// bucketOf is the bucket of a task.
func bucketOf(taskID string, n int) int {
	if n <= 1 {
		return 0
	}
	h := fnv.New64a()
	h.Write([]byte(taskID))
	return int(h.Sum64() % uint64(n))
}

// build renders one trajectory's examples and measures what the
// selections need: completion tokens, the rank hash, the duplicate key,
// and the prompt tokens of an example that may be over MaxTokens (the
// others' wait for the examples kept). buf is scratch space, returned
// for the next call.
func (p *Pipeline) build(in Input, buf []byte) (built, []byte) {
	var b built
	exs, err := Build(in, p.o.Weights, p.o.System, p.o.Templates, &b.st)
	if err != nil {
		b.err = fmt.Errorf("sft: %w", err)
		return b, buf
	}
	b.exs, b.keys = exs, make([][2]uint64, len(exs))
	for i := range exs {
		e := &exs[i]
		c, err := p.o.Tokenizer.Count(e.Completion)
		if err != nil {
			b.err = fmt.Errorf("sft: example %s (trajectory %s, %s step %d): %w", e.ID, e.TrajectoryID, e.Subkind, e.Step, err)
			return b, buf
		}
		e.SystemTokens, e.CompletionTokens = int32(p.sysTok), int32(c)
		e.rk.hash = stableHash(e.ID)
		b.keys[i], buf = p.dupKey(e, buf)
		// A token is at least a byte (the prompt is valid UTF-8): a prompt
		// of no more bytes than the room left cannot be over.
		if p.o.MaxTokens > 0 && p.sysTok+c+len(e.Prompt) > p.o.MaxTokens {
			if err := p.countPrompt(e); err != nil {
				b.err = err
				return b, buf
			}
		} else {
			e.taskText, e.history = "", ""
		}
	}
	return b, buf
}

// countPrompt counts e's prompt tokens.
func (p *Pipeline) countPrompt(e *Example) error {
	n, err := p.o.Tokenizer.Count(e.Prompt)
	if err != nil {
		return fmt.Errorf("sft: example %s (trajectory %s, %s step %d): %w", e.ID, e.TrajectoryID, e.Subkind, e.Step, err)
	}
	e.PromptTokens = int32(n)
	e.TotalTokens = e.SystemTokens + e.PromptTokens + e.CompletionTokens
	e.counted = true
	return nil
}

// dupKey hashes what dedupeExact compared: the system prompt, prompt
// and completion, white space normalised (normSpace), NUL apart.
func (p *Pipeline) dupKey(e *Example, buf []byte) ([2]uint64, []byte) {
	buf = append(buf[:0], p.sysNorm...)
	buf = append(buf, 0)
	buf = appendNormSpace(buf, e.Prompt)
	buf = append(buf, 0)
	buf = appendNormSpace(buf, e.Completion)
	sum := sha256.Sum256(buf)
	return [2]uint64{binary.BigEndian.Uint64(sum[:8]), binary.BigEndian.Uint64(sum[8:16])}, buf
}

// appendNormSpace appends normSpace(s): the fields of s (strings.Fields:
// runs of white space, ASCII or unicode.IsSpace, apart) one space apart.
func appendNormSpace(b []byte, s string) []byte {
	first := true
	i := 0
	for i < len(s) {
		// Skip white space.
		for i < len(s) {
			if c := s[i]; c < utf8.RuneSelf {
				if asciiSpace[c] == 0 {
					break
				}
				i++
				continue
			}
			r, n := utf8.DecodeRuneInString(s[i:])
			if !unicode.IsSpace(r) {
				break
			}
			i += n
		}
		if i == len(s) {
			break
		}
		// A field.
		start := i
		for i < len(s) {
			if c := s[i]; c < utf8.RuneSelf {
				if asciiSpace[c] != 0 {
					break
				}
				i++
				continue
			}
			r, n := utf8.DecodeRuneInString(s[i:])
			if unicode.IsSpace(r) {
				break
			}
			i += n
		}
		if !first {
			b = append(b, ' ')
		}
		b, first = append(b, s[start:i]...), false
	}
	return b
}

// asciiSpace marks the ASCII white space strings.Fields splits at.
var asciiSpace = [utf8.RuneSelf]uint8{'\t': 1, '\n': 1, '\v': 1, '\f': 1, '\r': 1, ' ': 1}

// Finish runs the selections and calls emit with each example kept, in
// output order; the example is emit's only for the call. It returns the
// summary.
func (p *Pipeline) Finish(ctx context.Context, emit func(*Example) error) (Summary, error) {
	if p.finished {
		return Summary{}, fmt.Errorf("sft: Finish twice")
	}
	if len(p.batch) > 0 {
		if err := p.flush(ctx); err != nil {
			return Summary{}, err
		}
	}
	p.finished = true
	for _, s := range p.buckets {
		if err := s.finish(); err != nil {
			return Summary{}, err
		}
	}
	s := &p.sum
	s.EmptyCompletion, s.KeyStepOutOfRange, s.FailedNoError = p.bs.EmptyCompletion, p.bs.KeyStepOutOfRange, p.bs.FailedNoError
	s.DuplicatesExact = p.selectExact()
	bins, err := p.selectBuckets(ctx)
	if err != nil {
		return Summary{}, err
	}
	s.RefinementBins, s.DroppedByBin = p.balance(bins)
	if err := p.merge(ctx, emit); err != nil {
		return Summary{}, err
	}
	return *s, nil
}

// selectExact marks all but the best ranked of the examples with the
// same normalised text; it returns how many.
func (p *Pipeline) selectExact() int64 {
	d := p.dups
	slices.SortFunc(d, func(a, b dupRecord) int {
		if a.key != b.key {
			if a.key[0] != b.key[0] {
				return cmpU64(a.key[0], b.key[0])
			}
			return cmpU64(a.key[1], b.key[1])
		}
		return compareRank(&a.rk, &b.rk)
	})
	var n int64
	for i := 1; i < len(d); i++ {
		if d[i].key == d[i-1].key {
			p.exactLosers.add(d[i].rk.seq)
			n++
		}
	}
	p.dups = nil
	return n
}

func cmpU64(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// bucketResult is what selecting one bucket found.
type bucketResult struct {
	near, overDropped, overTruncated, capped, droppedByCap int64
	bins                                                   []binRecord
	err                                                    error
}

// selectBuckets runs the per-task selections on every bucket (the
// workers one bucket each) and writes each bucket's survivors, in output
// order, as a run for the merge. It returns the refinement survivors'
// bin records.
func (p *Pipeline) selectBuckets(ctx context.Context) ([]binRecord, error) {
	p.runs = make([]*store, len(p.buckets))
	for i := range p.runs {
		s, err := newStore(p.dir, fmt.Sprintf("run-%05d", i))
		if err != nil {
			return nil, err
		}
		p.runs[i] = s
	}
	res := make([]bucketResult, len(p.buckets))
	var wg sync.WaitGroup
	next := make(chan int)
	for range min(p.workers, len(p.buckets)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				res[i] = p.selectBucket(ctx, i)
			}
		}()
	}
	for i := range p.buckets {
		next <- i
	}
	close(next)
	wg.Wait()
	var bins []binRecord
	s := &p.sum
	for _, r := range res {
		if r.err != nil {
			return nil, r.err
		}
		s.DuplicatesNear += r.near
		s.OverlengthDropped += r.overDropped
		s.OverlengthTruncate += r.overTruncated
		s.TasksCapped += r.capped
		s.DroppedByCap += r.droppedByCap
		bins = append(bins, r.bins...)
	}
	return bins, nil
}

// selectBucket selects within bucket i.
func (p *Pipeline) selectBucket(ctx context.Context, i int) bucketResult {
	var r bucketResult
	if r.err = ctx.Err(); r.err != nil {
		return r
	}
	all, err := p.buckets[i].readAll(p.o.System)
	if err != nil {
		r.err = err
		return r
	}
	if err := p.buckets[i].drop(); err != nil {
		r.err = fmt.Errorf("sft: spill: %w", err)
		return r
	}
	exs := all[:0]
	for _, e := range all {
		if !p.exactLosers.has(e.rk.seq) {
			exs = append(exs, e)
		}
	}
	slices.SortFunc(exs, func(a, b Example) int { return rankLess(&a, &b) })
	exs, r.near = dedupeNear(exs, p.o.NearThreshold, p.o.ShingleTokens)
	exs, r.overDropped, r.overTruncated = applyOverlength(exs, p.o)
	exs, r.capped, r.droppedByCap = capPerTask(exs, p.o.MaxPerTask)
	for j := range exs {
		e := &exs[j]
		if e.Kind == KindRefinement {
			r.bins = append(r.bins, binRecord{bin: int32(BinOf(e.Quality, p.o.Bins)), rk: e.rk})
		}
		e.taskText, e.history = "", ""
	}
	slices.SortFunc(exs, func(a, b Example) int { return outputOrder(&a, &b) })
	run := p.runs[i]
	for j := range exs {
		if r.err = run.put(&exs[j]); r.err != nil {
			return r
		}
	}
	r.err = run.finish()
	return r
}

// outputOrder is outputLess, then the input order.
func outputOrder(a, b *Example) int {
	if c := outputLess(*a, *b); c != 0 {
		return c
	}
	return cmpInt64(a.rk.seq, b.rk.seq)
}

// balance is balanceBins over the bin records of all buckets: it marks
// the refinement examples a bin over its cap drops, and returns the
// count kept per bin and the count dropped.
func (p *Pipeline) balance(recs []binRecord) ([]int64, int64) {
	n := p.o.Bins
	bins := make([][]binRecord, n)
	for _, r := range recs {
		bins[r.bin] = append(bins[r.bin], r)
	}
	capN := -1
	if p.o.BinFactor > 0 {
		total, nonEmpty := 0, 0
		for _, b := range bins {
			if len(b) > 0 {
				total += len(b)
				nonEmpty++
			}
		}
		if nonEmpty > 0 {
			capN = int(math.Ceil(float64(total) / float64(nonEmpty) * p.o.BinFactor))
		}
	}
	counts := make([]int64, n)
	var dropped int64
	for i, b := range bins {
		counts[i] = int64(len(b))
		if capN < 0 || len(b) <= capN {
			continue
		}
		slices.SortFunc(b, func(x, y binRecord) int { return compareRank(&x.rk, &y.rk) })
		keep := make([]bool, len(b))
		for _, k := range diverseIndices(len(b), capN) {
			keep[k] = true
		}
		kept := int64(0)
		for k, r := range b {
			if keep[k] {
				kept++
			} else {
				p.binLosers.add(r.rk.seq)
			}
		}
		counts[i] = kept
		dropped += int64(len(b) - capN)
	}
	return counts, dropped
}

// mergeBatch is how many examples the merge hands to a worker at once.
const mergeBatch = 512

// batchOut is a batch of merged examples on its way to emit.
type batchOut struct {
	exs  []Example
	err  error
	done chan struct{}
}

// merge merges the runs in output order, drops the bin balancing's
// losers, assigns bins and splits, counts the prompt tokens not yet
// counted (the workers, a batch each) and emits.
func (p *Pipeline) merge(ctx context.Context, emit func(*Example) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	work := make(chan *batchOut, p.workers)
	ordered := make(chan *batchOut, 2*p.workers)
	mergeErr := make(chan error, 1)
	go func() {
		defer close(work)
		defer close(ordered)
		mergeErr <- p.mergeRuns(ctx, func(b *batchOut) bool {
			select {
			case work <- b:
			case <-ctx.Done():
				return false
			}
			select {
			case ordered <- b:
			case <-ctx.Done():
				return false
			}
			return true
		})
	}()
	var wg sync.WaitGroup
	for range p.workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range work {
				for i := range b.exs {
					if e := &b.exs[i]; !e.counted && b.err == nil {
						b.err = p.countPrompt(e)
					}
				}
				close(b.done)
			}
		}()
	}
	var err error
	est := estimator{}
	s := &p.sum
	for b := range ordered {
		<-b.done
		if err != nil {
			continue
		}
		if b.err != nil {
			err = b.err
			cancel()
			continue
		}
		for i := range b.exs {
			e := &b.exs[i]
			s.TokensTotal += int64(e.TotalTokens)
			if e.Split == SplitTrain {
				s.TrainExamples++
			} else {
				s.ValidationExamples++
			}
			s.Examples++
			est.add(e, p.o)
			e.rk, e.counted = rankKey{}, false
			if err = emit(e); err != nil {
				cancel()
				break
			}
		}
	}
	wg.Wait()
	if merr := <-mergeErr; err == nil && merr != nil && !errors.Is(merr, context.Canceled) {
		err = merr
	}
	if err == nil {
		err = ctx.Err()
	}
	if err != nil {
		return err
	}
	s.Formats = est.stats(p.o)
	return nil
}

// cursor is one run's next example in the merge.
type cursor struct {
	r *storeReader
	e Example
}

type cursorHeap []*cursor

func (h cursorHeap) Len() int           { return len(h) }
func (h cursorHeap) Less(i, j int) bool { return outputOrder(&h[i].e, &h[j].e) < 0 }
func (h cursorHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *cursorHeap) Push(x any)        { *h = append(*h, x.(*cursor)) }
func (h *cursorHeap) Pop() any {
	old := *h
	c := old[len(old)-1]
	*h = old[:len(old)-1]
	return c
}

// mergeRuns merges the runs into batches of kept examples, handing each
// to send (which says whether to go on).
func (p *Pipeline) mergeRuns(ctx context.Context, send func(*batchOut) bool) error {
	var h cursorHeap
	defer func() {
		for _, c := range h {
			c.r.close()
		}
	}()
	for _, run := range p.runs {
		r, err := run.reader()
		if err != nil {
			return err
		}
		c := &cursor{r: r}
		switch err := r.next(&c.e, p.o.System); {
		case errors.Is(err, io.EOF):
			r.close()
		case err != nil:
			r.close()
			return err
		default:
			h = append(h, c)
		}
	}
	heap.Init(&h)
	b := &batchOut{done: make(chan struct{})}
	for h.Len() > 0 {
		c := h[0]
		e := c.e
		if e.Kind != KindRefinement || !p.binLosers.has(e.rk.seq) {
			if e.Kind == KindRefinement {
				e.QualityBin = int32(BinOf(e.Quality, p.o.Bins))
			}
			e.Split = SplitOf(e.TaskID, p.o.ValidationPercent)
			b.exs = append(b.exs, e)
			if len(b.exs) == mergeBatch {
				if !send(b) {
					return ctx.Err()
				}
				b = &batchOut{done: make(chan struct{})}
			}
		}
		c.e = Example{}
		switch err := c.r.next(&c.e, p.o.System); {
		case errors.Is(err, io.EOF):
			c.r.close()
			heap.Pop(&h)
		case err != nil:
			return err
		default:
			heap.Fix(&h, 0)
		}
	}
	if len(b.exs) > 0 && !send(b) {
		return ctx.Err()
	}
	return nil
}

// estimator sums the train split for the estimates.
type estimator struct {
	rows, toks, repRows, repToks int64
}

func (t *estimator) add(e *Example, o Options) {
	if e.Split != SplitTrain {
		return
	}
	t.rows++
	t.toks += int64(e.TotalTokens)
	n := int64(Copies(e.Weight, o.ReplicateK))
	t.repRows += n
	t.repToks += n * int64(e.TotalTokens)
}

// stats is the training estimate of every JSONL export format.
func (t *estimator) stats(o Options) []FormatStats {
	var out []FormatStats
	for _, f := range JSONLFormats() {
		st := FormatStats{Format: f.Name, Rows: t.rows, TrainingTokens: t.toks * int64(o.Epochs)}
		if f.Name == FormatTRLReplicated {
			st.Rows, st.TrainingTokens = t.repRows, t.repToks*int64(o.Epochs)
		}
		st.CostUSD = float64(st.TrainingTokens) / 1e6 * o.PricePer1M[f.Name]
		out = append(out, st)
	}
	return out
}
