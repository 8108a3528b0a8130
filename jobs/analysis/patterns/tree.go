package patterns

import (
	"fmt"
	"slices"
)

// cluster is a group of the parse tree: a template (tokens, with the
// positions generalised by the tree marked wild) and its member
// signatures.
type cluster struct {
	id      int
	tokens  []string
	wild    []bool
	members []int32
}

// node is a node of the parse tree: children by token key, and at the
// leaves the clusters.
type node struct {
	children map[string]*node
	clusters []*cluster
}

// tree is Drain's fixed-depth parse tree: the first level is the token
// count, the next Depth levels the leading tokens (variables keyed <*>,
// at most MaxChildren children a node, the rest under <*>), and each leaf
// holds clusters matched by similarity.
type tree struct {
	depth       int
	maxChildren int
	sim         float64
	byLen       map[int]*node
	clusters    []*cluster
}

func newTree(o Options) *tree {
	return &tree{depth: o.Depth, maxChildren: o.MaxChildren, sim: o.SimThreshold, byLen: map[int]*node{}}
}

// add places signature sig (tokens toks) in its cluster, creating one
// when no cluster of its leaf is similar enough, and returns it. keys,
// when not nil, are the keys of the leading tokens, decided beforehand.
func (t *tree) add(sig int32, toks, keys []string) *cluster {
	n := t.byLen[len(toks)]
	if n == nil {
		n = &node{}
		t.byLen[len(toks)] = n
	}
	for i := 0; i < t.depth && i < len(toks); i++ {
		k := treeKey(toks[i])
		if keys != nil {
			k = keys[i]
		}
		n = n.child(k, t.maxChildren)
	}
	c := bestMatch(n.clusters, toks, t.sim)
	if c == nil {
		c = &cluster{id: len(t.clusters) + 1, tokens: append([]string(nil), toks...), wild: make([]bool, len(toks))}
		n.clusters = append(n.clusters, c)
		t.clusters = append(t.clusters, c)
	} else {
		for i, tok := range toks {
			if !c.wild[i] && c.tokens[i] != tok {
				c.wild[i], c.tokens[i] = true, Wildcard
			}
		}
	}
	c.members = append(c.members, sig)
	return c
}

// child returns the child of n for key k, creating it while n has fewer
// than max children; past that, unknown keys go to the <*> child.
func (n *node) child(k string, max int) *node {
	if n.children == nil {
		n.children = map[string]*node{}
	}
	if c := n.children[k]; c != nil {
		return c
	}
	if len(n.children) >= max {
		k = Wildcard
		if c := n.children[k]; c != nil {
			return c
		}
	}
	c := &node{}
	n.children[k] = c
	return c
}

// bestMatch returns the most similar cluster of a leaf at or above the
// threshold (ties: the one with more variables, then the oldest), or nil.
func bestMatch(cs []*cluster, toks []string, threshold float64) *cluster {
	var best *cluster
	bestSim, bestWild := -1.0, -1
	for _, c := range cs {
		sim, wild := similarity(c, toks)
		if sim > bestSim || (sim == bestSim && wild > bestWild) {
			best, bestSim, bestWild = c, sim, wild
		}
	}
	if best == nil || bestSim < threshold {
		return nil
	}
	return best
}

// similarity is Drain's simSeq: the share of positions where the template
// holds the message's token (generalised positions do not count), and the
// number of generalised positions.
func similarity(c *cluster, toks []string) (float64, int) {
	if len(toks) == 0 {
		return 1, 0
	}
	same, wild := 0, 0
	for i, tok := range toks {
		if c.wild[i] {
			wild++
			continue
		}
		if c.tokens[i] == tok {
			same++
		}
	}
	return float64(same) / float64(len(toks)), wild
}

// treeKeys decides the leading-token keys of signatures sigs (tokens of
// signature s: toks(s)) for a tree of the given depth, independently of
// their order: level by level, within each node (same token count, same
// keys above), a level whose tokens take more than maxChildren distinct
// keys is keyed <*> for every signature of the node, as if the node had
// overflowed from the start.
func treeKeys(sigs []int32, toks func(int32) []string, depth, maxChildren int) [][]string {
	keys := make([][]string, len(sigs))
	nodes := map[string][]int{} // path -> indexes into sigs
	for i, s := range sigs {
		p := sigKey([]string{fmt.Sprint(len(toks(s)))})
		nodes[p] = append(nodes[p], i)
	}
	for level := range depth {
		next := map[string][]int{}
		// visit nodes in a fixed order: by their first signature
		paths := make([]string, 0, len(nodes))
		for p := range nodes {
			paths = append(paths, p)
		}
		slices.SortFunc(paths, func(a, b string) int { return nodes[a][0] - nodes[b][0] })
		for _, p := range paths {
			idx := nodes[p]
			if len(toks(sigs[idx[0]])) <= level {
				continue // the token count is the same within a node
			}
			distinct := map[string]bool{}
			for _, i := range idx {
				distinct[treeKey(toks(sigs[i])[level])] = true
			}
			overflow := len(distinct) > maxChildren
			for _, i := range idx {
				k := treeKey(toks(sigs[i])[level])
				if overflow {
					k = Wildcard
				}
				keys[i] = append(keys[i], k)
				np := p + sigKey([]string{k})
				next[np] = append(next[np], i)
			}
		}
		nodes = next
	}
	return keys
}
