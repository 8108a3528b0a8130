package compress

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"
)

func TestDAGCost(t *testing.T) {
	cm := DefaultCost()
	tests := []struct {
		name, program string
		tree, dag     int64
	}{
		{"leaf", "f", 100, 100},
		{"no repeats", "(f a b)", 302, 302},
		// (g x) twice: counted once, the second occurrence one variable
		{"shared argument", "(f (g x) (g x))", 2 + 100 + 201 + 201, 2 + 100 + 201 + 100},
		// a repeated leaf is a name either way
		{"repeated leaf", "(f x x)", 302, 302},
		// the shared node's own repeats are inside it: counted once
		{"nested share", "(h (f (g x) (g x)) (f (g x) (g x)))", 2 + 100 + 2*504, 2 + 100 + 403 + 100},
		// partial applications are not values: (f a) in (f a b) and (f a c) is not shared
		{"partial application", "(h (f a b) (f a c))", 2 + 100 + 302 + 302, 2 + 100 + 302 + 302},
		// the same open term under different binders is not the same value
		{"open terms under other binders", "(lam (f (g $0) (lam (g $0))))", 1 + 2 + 100 + 201 + 1 + 201, 1 + 2 + 100 + 201 + 1 + 201},
		// (h (f $0)) under two sibling lambdas: two different values
		{"open terms under sibling binders", "(g (lam (h (f $0))) (lam (k (f $0))))", 2 + 100 + 2*(1+1+100+201), 2 + 100 + 2*(1+1+100+201)},
		// $1 is the same binder in both; $0 is not
		{"open terms under sibling binders, outer variable", "(lam (g (lam (h (f $0 $1))) (lam (k (f $0 $1)))))", 1 + 102 + 2*(1+1+100+302), 1 + 102 + 2*(1+1+100+302)},
		// (f $1) uses only the outer binder: the same value in both
		{"a term of the outer binder under sibling lambdas", "(lam (g (lam (h (f $1))) (lam (k (f $1)))))", 1 + 102 + 2*(1+1+100+201), 1 + 102 + (1 + 1 + 100 + 201) + (1 + 1 + 100 + 100)},
		// a lambda closed over the same binder, written twice: one value
		{"the same closure twice", "(lam (g (lam (f $0 $1)) (lam (f $0 $1))))", 1 + 102 + 2*(1+302), 1 + 102 + (1 + 302) + 100},
		{"open terms under the same binder", "(lam (f (g $0) (g $0)))", 1 + 2 + 100 + 201 + 201, 1 + 2 + 100 + 201 + 100},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tree, err := ProgramCost(tt.program, cm)
			if err != nil {
				t.Fatal(err)
			}
			dag, err := DAGCost(tt.program, cm)
			if err != nil {
				t.Fatal(err)
			}
			if tree != tt.tree || dag != tt.dag {
				t.Errorf("%s: tree %d, dag %d; want %d, %d", tt.program, tree, dag, tt.tree, tt.dag)
			}
		})
	}
	if _, err := DAGCost("(f", cm); err == nil {
		t.Error("unbalanced term accepted")
	}
}

// TestCompressReportsDAGCosts: the result's DAG costs are those of the
// programs before and after the rewrite, on any number of workers.
func TestCompressReportsDAGCosts(t *testing.T) {
	programs := []string{
		"(lam (f (g (h $0) a) (g (h $0) a)))",
		"(lam (k (g (h $0) b)))",
		"(lam (g (h c) a))",
		"(lam (f (g (h $0) b) x))",
	}
	for _, workers := range []int{1, 3} {
		res, err := Compress(context.Background(), programs, Options{Iterations: 2, MaxArity: 2, Workers: workers})
		if err != nil {
			t.Fatal(err)
		}
		var before, after int64
		for i, p := range programs {
			b, err := DAGCost(p, DefaultCost())
			if err != nil {
				t.Fatal(err)
			}
			a, err := DAGCost(res.Rewritten[i], DefaultCost())
			if err != nil {
				t.Fatal(err)
			}
			before, after = before+b, after+a
		}
		if len(res.Abstractions) == 0 {
			t.Fatal("nothing learned")
		}
		if res.OriginalDAGCost != before || res.FinalDAGCost != after || res.DAGCompressionRatio != float64(before)/float64(after) {
			t.Errorf("workers %d: DAG costs %d → %d (%v), want %d → %d", workers, res.OriginalDAGCost, res.FinalDAGCost, res.DAGCompressionRatio, before, after)
		}
		if res.OriginalDAGCost >= res.OriginalCost {
			t.Errorf("a corpus with repeated subterms: DAG cost %d, tree cost %d", res.OriginalDAGCost, res.OriginalCost)
		}
	}
}

// TestSearchTimeout: a search that runs out of Options.SearchTimeout is
// an error naming the iteration, or, with StopOnTimeout, ends the learning
// with what was learned before; a timeout that is not reached changes
// nothing.
func TestSearchTimeout(t *testing.T) {
	programs := []string{"(f (g a) (g a))", "(h (g a) b)", "(f (g a) c)", "(k (g a) (g a))"}
	ctx := context.Background()
	want, err := Compress(ctx, programs, Options{Iterations: 3, MaxArity: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(want.Abstractions) == 0 {
		t.Fatal("nothing learned: the test checks nothing")
	}
	tests := []struct {
		name    string
		timeout time.Duration
		stop    bool
		library []Abstraction
		check   func(t *testing.T, res *Result, err error)
	}{
		{"not reached", time.Hour, false, nil, func(t *testing.T, res *Result, err error) {
			if err != nil || !reflect.DeepEqual(res.Abstractions, want.Abstractions) || !reflect.DeepEqual(res.Rewritten, want.Rewritten) || res.SearchTimeout != nil {
				t.Errorf("a timeout not reached changed the result: %v, %+v", err, res)
			}
		}},
		{"fail", time.Nanosecond, false, nil, func(t *testing.T, res *Result, err error) {
			var te *SearchTimeoutError
			if !errors.As(err, &te) || te.Iteration != 0 || te.Timeout != time.Nanosecond {
				t.Errorf("error %v, want a SearchTimeoutError of iteration 0", err)
			}
		}},
		{"stop", time.Nanosecond, true, nil, func(t *testing.T, res *Result, err error) {
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Abstractions) != 0 || !reflect.DeepEqual(res.Rewritten, programs) || res.CompressionRatio != 1 {
				t.Errorf("stopped before the first search: %+v", res)
			}
			if res.SearchTimeout == nil || res.SearchTimeout.Iteration != 0 || res.SearchTimeout.Timeout != "1ns" {
				t.Errorf("search_timeout %+v", res.SearchTimeout)
			}
		}},
		{"stop keeps the library", time.Nanosecond, true, want.Abstractions[:1], func(t *testing.T, res *Result, err error) {
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Abstractions) != 1 || res.PreviousAbstractions != 1 || res.FinalCost >= res.OriginalCost || res.SearchTimeout == nil {
				t.Errorf("with a library: %+v", res)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := Compress(ctx, programs, Options{Iterations: 3, MaxArity: 2, SearchTimeout: tt.timeout, StopOnTimeout: tt.stop, Library: tt.library})
			tt.check(t, res, err)
		})
	}
	if _, err := Compress(ctx, programs, Options{Iterations: 1, SearchTimeout: -time.Second}); err == nil {
		t.Error("a negative timeout accepted")
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	var te *SearchTimeoutError
	if _, err := Compress(cctx, programs, Options{Iterations: 1, SearchTimeout: time.Hour, StopOnTimeout: true}); err == nil || errors.As(err, &te) {
		t.Errorf("a cancelled run: %v, want the cancellation", err)
	}
}
