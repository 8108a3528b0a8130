package compress

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
)

// SummaryVersion is the version of the shard summary format.
const SummaryVersion = 1

// Summary is what one shard (the map side) reports to the reducer in one
// iteration: the distinct subtrees of its programs as a hash-consed DAG in
// child-first order, how often each occurs, and which program owns it.
//
// Node i is [kind, a, b]: for kind 0 (primitive) a indexes Symbols, for 1
// ($i) and 2 (#i) a is the index, for 3 (application) a and b index earlier
// nodes (function, argument), for 4 (lam) a is the body; for 1 and 4, b is
// the tag of $i_tag or lam_tag, or -1. Count[i] is the
// number of occurrences of node i in the shard's programs, Owner[i] the
// global index of the only program containing it, or -1 when several do.
// Summaries merge by interning the nodes and adding counts, so the merged
// DAG is the same whatever the sharding.
type Summary struct {
	Version  int        `json:"version"`
	Shard    int        `json:"shard"`
	Programs int        `json:"programs"`
	Cost     int64      `json:"cost"`
	Symbols  []string   `json:"symbols"`
	Nodes    [][3]int32 `json:"nodes"`
	Count    []int64    `json:"count"`
	Owner    []int32    `json:"owner"`
}

// WriteSummary encodes sum as JSON.
func WriteSummary(w io.Writer, sum *Summary) error {
	if err := json.NewEncoder(w).Encode(sum); err != nil {
		return fmt.Errorf("write summary: %w", err)
	}
	return nil
}

// ReadSummary decodes and validates a summary written by WriteSummary.
func ReadSummary(r io.Reader) (*Summary, error) {
	var sum Summary
	if err := json.NewDecoder(r).Decode(&sum); err != nil {
		return nil, fmt.Errorf("read summary: %w", err)
	}
	if sum.Version != SummaryVersion {
		return nil, fmt.Errorf("read summary: version %d, want %d", sum.Version, SummaryVersion)
	}
	if len(sum.Count) != len(sum.Nodes) || len(sum.Owner) != len(sum.Nodes) {
		return nil, fmt.Errorf("read summary: %d nodes but %d counts and %d owners", len(sum.Nodes), len(sum.Count), len(sum.Owner))
	}
	for i, n := range sum.Nodes {
		if sum.Count[i] <= 0 || sum.Owner[i] < -1 {
			return nil, fmt.Errorf("read summary: node %d has count %d and owner %d", i, sum.Count[i], sum.Owner[i])
		}
		ok := true
		switch Kind(n[0]) {
		case KindPrim:
			ok = n[1] >= 0 && int(n[1]) < len(sum.Symbols)
		case KindVar:
			ok = n[1] >= 0 && n[2] >= -1
		case KindIVar:
			ok = n[1] >= 0
		case KindApp:
			ok = n[1] >= 0 && n[1] < int32(i) && n[2] >= 0 && n[2] < int32(i)
		case KindLam:
			ok = n[1] >= 0 && n[1] < int32(i) && n[2] >= -1
		default:
			ok = false
		}
		if !ok {
			return nil, fmt.Errorf("read summary: node %d is malformed: %v", i, n)
		}
	}
	return &sum, nil
}

// summarize computes the summary of the programs rooted at roots in s;
// base is the global index of roots[0].
func summarize(s *Store, roots []int32, shard, base int) *Summary {
	n := s.Len()
	count := make([]int64, n)
	owner := make([]int32, n)
	for i := range owner {
		owner[i] = -2 // unset
	}
	var total int64
	for i, r := range roots {
		count[r]++
		owner[r] = mergeOwner(owner[r], int32(base+i))
		total += s.cost[r]
	}
	for id := n - 1; id >= 0; id-- {
		if count[id] == 0 {
			continue
		}
		nd := s.nodes[id]
		switch nd.kind {
		case KindApp:
			count[nd.a] += count[id]
			count[nd.b] += count[id]
			owner[nd.a] = mergeOwner(owner[nd.a], owner[id])
			owner[nd.b] = mergeOwner(owner[nd.b], owner[id])
		case KindLam:
			count[nd.a] += count[id]
			owner[nd.a] = mergeOwner(owner[nd.a], owner[id])
		}
	}
	sum := &Summary{Version: SummaryVersion, Shard: shard, Programs: len(roots), Cost: total}
	local := make([]int32, n)
	symLocal := map[int32]int32{}
	for id := 0; id < n; id++ {
		if count[id] == 0 {
			continue
		}
		nd := s.nodes[id]
		out := [3]int32{int32(nd.kind), nd.a, nd.b}
		switch nd.kind {
		case KindPrim:
			l, ok := symLocal[nd.a]
			if !ok {
				l = int32(len(sum.Symbols))
				sum.Symbols = append(sum.Symbols, s.syms[nd.a])
				symLocal[nd.a] = l
			}
			out[1] = l
		case KindApp:
			out[1], out[2] = local[nd.a], local[nd.b]
		case KindLam:
			out[1] = local[nd.a] // out[2] keeps the tag
		}
		local[id] = int32(len(sum.Nodes))
		sum.Nodes = append(sum.Nodes, out)
		sum.Count = append(sum.Count, count[id])
		sum.Owner = append(sum.Owner, owner[id])
	}
	return sum
}

func mergeOwner(x, y int32) int32 {
	switch {
	case x == -2:
		return y
	case y == -2 || x == y:
		return x
	}
	return -1
}

// Corpus is the reducer's view of the whole corpus: the merged DAG of all
// shards with occurrence counts.
type Corpus struct {
	store    *Store
	count    []int64
	owner    []int32
	cost     int64
	programs int
}

// MergeSummaries is the reduce step: it interns every shard's DAG into one
// store. Summaries are merged in shard order.
func MergeSummaries(cm CostModel, sums []*Summary) *Corpus {
	sums = slices.Clone(sums)
	slices.SortStableFunc(sums, func(a, b *Summary) int { return a.Shard - b.Shard })
	s := NewStore(cm)
	c := &Corpus{store: s}
	for _, sum := range sums {
		c.cost += sum.Cost
		c.programs += sum.Programs
		ids := make([]int32, len(sum.Nodes))
		for i, nd := range sum.Nodes {
			var id int32
			switch Kind(nd[0]) {
			case KindPrim:
				id = s.Prim(sum.Symbols[nd[1]])
			case KindVar:
				id = s.TaggedVar(nd[1], nd[2])
			case KindIVar:
				id = s.IVar(nd[1])
			case KindApp:
				id = s.App(ids[nd[1]], ids[nd[2]])
			case KindLam:
				id = s.TaggedLam(ids[nd[1]], nd[2])
			}
			ids[i] = id
			for int(id) >= len(c.count) {
				c.count = append(c.count, 0)
				c.owner = append(c.owner, -2)
			}
			c.count[id] += sum.Count[i]
			c.owner[id] = mergeOwner(c.owner[id], sum.Owner[i])
		}
	}
	for len(c.count) < s.Len() {
		c.count = append(c.count, 0)
		c.owner = append(c.owner, -2)
	}
	return c
}

// Cost is the total cost of the corpus's programs.
func (c *Corpus) Cost() int64 { return c.cost }

// HasSymbol reports whether the corpus uses the primitive name.
func (c *Corpus) HasSymbol(name string) bool {
	_, ok := c.store.symIdx[name]
	return ok
}

// Programs is the number of programs in the corpus.
func (c *Corpus) Programs() int { return c.programs }
