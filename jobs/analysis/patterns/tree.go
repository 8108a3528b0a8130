package patterns

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
// when no cluster of its leaf is similar enough, and returns it.
func (t *tree) add(sig int32, toks []string) *cluster {
	n := t.byLen[len(toks)]
	if n == nil {
		n = &node{}
		t.byLen[len(toks)] = n
	}
	for i := 0; i < t.depth && i < len(toks); i++ {
		n = n.child(treeKey(toks[i]), t.maxChildren)
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
