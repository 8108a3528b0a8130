package analysis_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/atlas-ai/atlas-learn/columnar"
	"github.com/atlas-ai/atlas-learn/jobs/analysis"
)

// envService is a test environment on 127.0.0.1: a trajectory succeeds
// when it still has every step whose action starts with "need"; partial
// credit is the fraction of those present. It fails in scripted ways.
type envService struct {
	mu       sync.Mutex
	requests int
	inFlight atomic.Int64
	maxSeen  atomic.Int64
	// fail maps a request number (1-based) to a failure: "503", "429",
	// "slow", "garbage", "400".
	fail map[int]string
}

func (e *envService) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := e.inFlight.Add(1)
	defer e.inFlight.Add(-1)
	for m := e.maxSeen.Load(); n > m && !e.maxSeen.CompareAndSwap(m, n); m = e.maxSeen.Load() {
	}
	e.mu.Lock()
	e.requests++
	k := e.requests
	e.mu.Unlock()
	switch e.fail[k] {
	case "503":
		http.Error(w, "busy", http.StatusServiceUnavailable)
		return
	case "429":
		w.Header().Set("Retry-After", "0")
		http.Error(w, "slow down", http.StatusTooManyRequests)
		return
	case "slow":
		select {
		case <-time.After(2 * time.Second):
		case <-r.Context().Done():
		}
		return
	case "garbage":
		fmt.Fprint(w, `{"succes": tru`)
		return
	case "400":
		http.Error(w, "bad trajectory", http.StatusBadRequest)
		return
	}
	var req analysis.ReplayRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.Protocol != analysis.ReplayProtocol {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	time.Sleep(2 * time.Millisecond)
	need, have := 0, 0
	for _, s := range req.Steps {
		if strings.HasPrefix(s.Action, "need") {
			have++
		}
	}
	need = 3
	score := float64(have) / float64(need)
	json.NewEncoder(w).Encode(analysis.ReplayResponse{Success: have == need, Score: &score})
}

func sweTrajectory(id string) columnar.Trajectory {
	t := columnar.Trajectory{TrajectoryID: id, Task: columnar.Task{ID: "repo-1", Description: "fix the bug"}, Outcome: columnar.Outcome{Success: true}}
	for i, a := range []string{"ls", "need-edit-a", "cat x", "need-edit-b", "need-test", "submit"} {
		t.Steps = append(t.Steps, columnar.Step{Index: int32(i), Action: a})
	}
	return t
}

func TestHTTPReplayer(t *testing.T) {
	tests := []struct {
		name    string
		fail    map[int]string
		wantErr string
	}{
		{name: "clean"},
		{name: "503 then ok", fail: map[int]string{1: "503", 3: "503"}},
		{name: "429 with Retry-After", fail: map[int]string{2: "429"}},
		{name: "a slow answer times out and is retried", fail: map[int]string{1: "slow"}},
		{name: "malformed answer", fail: map[int]string{1: "garbage", 2: "garbage", 3: "garbage", 4: "garbage", 5: "garbage", 6: "garbage", 7: "garbage"}, wantErr: "malformed answer"},
		{name: "4xx is not retried", fail: map[int]string{1: "400", 2: "400", 3: "400", 4: "400", 5: "400", 6: "400", 7: "400"}, wantErr: "HTTP 400"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := &envService{fail: tc.fail}
			srv := httptest.NewServer(env)
			defer srv.Close()
			rep := analysis.NewHTTPReplayer(srv.URL, 2)
			rep.Timeout, rep.Backoff, rep.Retries = 300*time.Millisecond, 5*time.Millisecond, 3
			a, err := analysis.New(analysis.Options{Method: analysis.Counterfactual, Replayer: rep})
			if err != nil {
				t.Fatal(err)
			}
			tr := sweTrajectory("t1")
			c, err := a.Credit(context.Background(), &tr)
			if err != nil {
				t.Fatal(err)
			}
			if tc.wantErr != "" {
				if c.Method != analysis.Simple || !strings.Contains(c.Fallback, tc.wantErr) {
					t.Fatalf("credit %+v, want a fallback naming %q", c, tc.wantErr)
				}
				return
			}
			if c.Method != analysis.Counterfactual || c.Fallback != "" {
				t.Fatalf("credit %+v", c)
			}
			if fmt.Sprint(c.KeySteps) != "[1 3 4]" {
				t.Fatalf("key steps %v, want [1 3 4]", c.KeySteps)
			}
			if got := c.Attribution[1]; got < 0.33 || got > 0.34 {
				t.Fatalf("graded contribution %v, want 1/3", got)
			}
			if m := env.maxSeen.Load(); m > 2 {
				t.Fatalf("%d requests in flight, limit 2", m)
			}
		})
	}
}

func TestHTTPReplayerCacheAndBudget(t *testing.T) {
	env := &envService{}
	srv := httptest.NewServer(env)
	defer srv.Close()
	rep := analysis.NewHTTPReplayer(srv.URL, 4)
	rep.Cache = analysis.NewMemCache()
	tr := sweTrajectory("t1")
	base, outs, st, err := rep.Replay(context.Background(), &tr, 2)
	if err != nil {
		t.Fatal(err)
	}
	if base.Score != 1 || st.Replays != 3 || !outs[0].Known || !outs[1].Known || outs[2].Known {
		t.Fatalf("budget 2: base %+v, %+v, %+v", base, outs, st)
	}
	// The same steps under another id: all from the cache.
	other := sweTrajectory("t2")
	_, _, st, err = rep.Replay(context.Background(), &other, 2)
	if err != nil || st.Replays != 0 || st.CacheHits != 3 {
		t.Fatalf("cached replay: %+v, %v", st, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	fresh := analysis.NewHTTPReplayer(srv.URL, 1)
	if _, _, _, err := fresh.Replay(ctx, &tr, 0); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
}
