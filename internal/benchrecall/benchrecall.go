// Package benchrecall is atlas-learn bench recall and bench serve: the
// recall index's build, load and search times at several sizes, and the
// recall server under a bounded load with a memory reload in the middle.
package benchrecall

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/atlas-ai/atlas-learn/columnar/storage"
	"github.com/atlas-ai/atlas-learn/jobs"
	"github.com/atlas-ai/atlas-learn/jobs/recall"
)

// queries are the bench's queries: the first 20 words of synthetic
// documents of another seed than the index's, so that they share its
// vocabulary but are no document's own text.
func queries(n int) []string {
	out := make([]string, n)
	for i, d := range recall.Synthetic(n, 99, nil, "query") {
		w := strings.Fields(d.Title + " " + d.Text)
		out[i] = strings.Join(w[:min(len(w), 20)], " ")
	}
	return out
}

func percentile(sorted []time.Duration, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := min(len(sorted)-1, int(float64(len(sorted))*p))
	return float64(sorted[i].Microseconds()) / 1000
}

// IndexOptions configures RunIndex.
type IndexOptions struct {
	// Sizes are the document counts measured.
	Sizes []int
	// Queries per size.
	Queries int
}

// RunIndex builds, serializes, loads and searches synthetic indexes of
// each size and prints one row per size.
func RunIndex(ctx context.Context, w io.Writer, o IndexOptions) error {
	qs := queries(max(o.Queries, 1))
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "DOCS\tTERMS\tBUILD_MS\tINDEX_MIB\tLOAD_MS\tP50_MS\tP99_MS")
	for _, n := range o.Sizes {
		if err := ctx.Err(); err != nil {
			return err
		}
		t0 := time.Now()
		ix, err := recall.Build(recall.Synthetic(n, 1, nil, "bench"), recall.DefaultOptions())
		if err != nil {
			return err
		}
		build := time.Since(t0)
		var buf bytes.Buffer
		if _, err := ix.WriteTo(&buf); err != nil {
			return err
		}
		t0 = time.Now()
		if ix, err = recall.Decode(buf.Bytes()); err != nil {
			return err
		}
		load := time.Since(t0)
		lat := make([]time.Duration, len(qs))
		for i, q := range qs {
			t0 = time.Now()
			ix.Search(q, 5)
			lat[i] = time.Since(t0)
		}
		sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
		fmt.Fprintf(tw, "%d\t%d\t%d\t%.1f\t%d\t%.3f\t%.3f\n", n, ix.Terms(), build.Milliseconds(), float64(buf.Len())/(1<<20), load.Milliseconds(), percentile(lat, 0.5), percentile(lat, 0.99))
	}
	return tw.Flush()
}

// ServeOptions configures RunServe.
type ServeOptions struct {
	Docs        int
	Requests    int
	Concurrency int
	// Self is this program, re-executed as `bench serve-client` to drive
	// the load from a second process; "" drives it from goroutines of
	// this one.
	Self string
	// Stderr receives the client process's errors.
	Stderr io.Writer
}

// ClientResult is what the load client reports, as the last line of its
// output.
type ClientResult struct {
	Requests int            `json:"requests"`
	Failed   int            `json:"failed"`
	Seconds  float64        `json:"seconds"`
	P50Ms    float64        `json:"p50_ms"`
	P99Ms    float64        `json:"p99_ms"`
	Versions map[string]int `json:"versions"`
	Errors   []string       `json:"errors,omitempty"`
}

// halfLine is the line the client prints when half of its requests are
// done: the signal to publish the new memory version.
const halfLine = "half"

// RunServe serves a synthetic memory of o.Docs documents from a temporary
// directory, drives o.Requests queries at it with o.Concurrency clients,
// publishes a second version when half are done, and prints requests,
// failed, rps, p50, p99 and whether the reload was seen. Any failed
// request is an error.
func RunServe(ctx context.Context, w io.Writer, o ServeOptions) error {
	if o.Docs < 1 || o.Requests < 1 || o.Concurrency < 1 {
		return fmt.Errorf("bench serve: --docs, --requests and --concurrency must be positive")
	}
	dir, err := os.MkdirTemp("", "atlas-bench-serve-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	b, err := storage.NewLocal(dir)
	if err != nil {
		return err
	}
	v1, v2 := jobs.NewMemoryPointer(jobs.MemoryVersionName(1), "bench-1", ""), jobs.NewMemoryPointer(jobs.MemoryVersionName(2), "bench-2", "")
	for i, p := range []jobs.MemoryPointer{v1, v2} {
		ix, err := recall.Build(recall.Synthetic(o.Docs, uint64(i+1), nil, "bench"), recall.DefaultOptions())
		if err != nil {
			return err
		}
		if i == 0 {
			err = jobs.PublishRecallIndex(ctx, b, "", p, ix)
		} else { // version 2's index is ready; its CURRENT comes mid-load
			err = jobs.WriteIndex(ctx, b, p.Index, ix)
		}
		if err != nil {
			return err
		}
	}
	sctx, stop := context.WithCancel(ctx)
	defer stop()
	addr := make(chan string, 1)
	served := make(chan error, 1)
	go func() {
		served <- jobs.ServeRecall(sctx, jobs.ServeRecallOptions{Bucket: b, Addr: "127.0.0.1:0", ReloadInterval: 100 * time.Millisecond, Ready: func(a string) { addr <- a }})
	}()
	var base string
	select {
	case base = <-addr:
		base = "http://" + base
	case err := <-served:
		return err
	}

	lines, wait := startClient(ctx, base, o)
	var last string
	sc := bufio.NewScanner(lines)
	sc.Buffer(make([]byte, 1<<16), 1<<22)
	reloadErr := error(nil)
	for sc.Scan() {
		if l := sc.Text(); l == halfLine {
			reloadErr = jobs.WriteMemoryPointer(ctx, b, "", v2)
		} else {
			last = l
		}
	}
	if err := wait(); err != nil {
		return fmt.Errorf("bench serve: client: %w", err)
	}
	stop()
	if err := <-served; err != nil {
		return err
	}
	if reloadErr != nil {
		return fmt.Errorf("bench serve: publishing version 2: %w", reloadErr)
	}
	var res ClientResult
	if err := json.Unmarshal([]byte(last), &res); err != nil {
		return fmt.Errorf("bench serve: client result %q: %w", last, err)
	}
	seen := "no"
	if res.Versions[v2.Version] > 0 {
		seen = "yes"
	}
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "DOCS\tREQUESTS\tFAILED\tRPS\tP50_MS\tP99_MS\tRELOAD_SEEN\tCLIENT")
	client := "process"
	if o.Self == "" {
		client = "in-process"
	}
	fmt.Fprintf(tw, "%d\t%d\t%d\t%.0f\t%.3f\t%.3f\t%s\t%s\n", o.Docs, res.Requests, res.Failed, float64(res.Requests)/res.Seconds, res.P50Ms, res.P99Ms, seen, client)
	if err := tw.Flush(); err != nil {
		return err
	}
	if res.Failed > 0 {
		return fmt.Errorf("bench serve: %d of %d requests failed, first: %s", res.Failed, res.Requests, strings.Join(res.Errors, "; "))
	}
	return nil
}

// startClient runs the client, in a second process when o.Self is set,
// and returns its output lines and a wait function.
func startClient(ctx context.Context, base string, o ServeOptions) (io.Reader, func() error) {
	pr, pw := io.Pipe()
	if o.Self == "" {
		done := make(chan error, 1)
		go func() {
			err := RunClient(ctx, pw, base, o.Requests, o.Concurrency)
			pw.CloseWithError(err)
			done <- err
		}()
		return pr, func() error { return <-done }
	}
	cmd := exec.CommandContext(ctx, o.Self, "bench", "serve-client", "--url", base, "--requests", strconv.Itoa(o.Requests), "--concurrency", strconv.Itoa(o.Concurrency))
	cmd.Stdout = pw
	cmd.Stderr = o.Stderr
	if err := cmd.Start(); err != nil {
		pw.CloseWithError(err)
		return pr, func() error { return err }
	}
	done := make(chan error, 1)
	go func() {
		err := cmd.Wait()
		pw.CloseWithError(err)
		done <- err
	}()
	return pr, func() error { return <-done }
}

// RunClient sends requests queries to the recall server at base with
// concurrency workers, prints "half" when half are done and then one
// JSON ClientResult line.
func RunClient(ctx context.Context, w io.Writer, base string, requests, concurrency int) error {
	if requests < 1 || concurrency < 1 {
		return errors.New("serve-client: --requests and --concurrency must be positive")
	}
	qs := queries(256)
	hc := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: concurrency, MaxIdleConns: concurrency}}
	var next, completed atomic.Int64
	var mu sync.Mutex
	res := ClientResult{Requests: requests, Versions: map[string]int{}}
	lat := make([]time.Duration, requests)
	var halfOnce sync.Once
	var werr error
	one := func(i int) error {
		u := base + "/v1/recall?k=5&q=" + url.QueryEscape(qs[i%len(qs)])
		resp, err := hc.Get(u)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		var r jobs.RecallResult
		if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
			return fmt.Errorf("status %d: %w", resp.StatusCode, err)
		}
		if resp.StatusCode != http.StatusOK || r.MemoryVersion == "" {
			return fmt.Errorf("status %d", resp.StatusCode)
		}
		mu.Lock()
		res.Versions[r.MemoryVersion]++
		mu.Unlock()
		return nil
	}
	start := time.Now()
	var wg sync.WaitGroup
	for c := 0; c < concurrency; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= requests {
					return
				}
				t0 := time.Now()
				err := one(i)
				lat[i] = time.Since(t0)
				if err != nil {
					mu.Lock()
					res.Failed++
					if len(res.Errors) < 5 {
						res.Errors = append(res.Errors, err.Error())
					}
					mu.Unlock()
				}
				if completed.Add(1) == int64(requests/2) {
					halfOnce.Do(func() {
						mu.Lock()
						_, werr = fmt.Fprintln(w, halfLine)
						mu.Unlock()
					})
				}
			}
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return err
	}
	res.Seconds = time.Since(start).Seconds()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	res.P50Ms, res.P99Ms = percentile(lat, 0.5), percentile(lat, 0.99)
	data, err := json.Marshal(res)
	if err != nil {
		return err
	}
	if werr != nil {
		return werr
	}
	_, err = fmt.Fprintf(w, "%s\n", data)
	return err
}
