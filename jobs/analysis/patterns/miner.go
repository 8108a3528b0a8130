package patterns

import (
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
)

// Template is one mined pattern.
type Template struct {
	// ID numbers the templates 1, 2, … in the order of their first
	// message.
	ID int `json:"id"`
	// Template is the pattern: the constant tokens, variables as <*>,
	// joined by single spaces.
	Template string `json:"template"`
	// Count is the number of messages of the template.
	Count int `json:"count"`
	// First and Last are the indexes (0-based, in Add order) of its first
	// and last message.
	First int `json:"first"`
	Last  int `json:"last"`
	// Examples are the indexes of its first messages (at most
	// Options.MaxExamples).
	Examples []int `json:"examples"`
}

// Result is the outcome of mining: the templates, by ID, and each
// message's template ID in Add order.
type Result struct {
	Templates   []Template `json:"templates"`
	Assignments []int      `json:"assignments"`
}

// signature is one distinct tokenised message.
type signature struct {
	key         string
	tokens      []string
	count       int
	first, last int
	stream      *cluster // its cluster in the streaming tree
}

// Miner mines templates from messages. Add feeds it one message at a
// time (a streaming Drain tree gives an immediate cluster); Result runs
// the final pass over everything added and gives each message its final
// template. A Miner is not safe for concurrent use.
//
// The final pass depends only on the multiset of tokenised messages, not
// on their order: it clusters the distinct tokenisations in a canonical
// order (most frequent first), splits clusters on positions whose few
// distinct words are constants, and merges templates with the same
// constant tokens. Template IDs follow the first message of each
// template, so reordering the input renumbers the templates but does not
// change them.
type Miner struct {
	o      Options
	index  map[string]int32
	sigs   []*signature
	assign []int32
	stream *tree
	res    *Result
}

// New returns a miner with options o.
func New(o Options) (*Miner, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	return &Miner{o: o, index: map[string]int32{}, stream: newTree(o)}, nil
}

// Len is the number of messages added.
func (m *Miner) Len() int { return len(m.assign) }

// Add adds a message (one line; a message with newlines is tokenised as
// if they were spaces) and returns its cluster in the streaming tree.
// Streaming cluster IDs are stable (a message keeps its ID) but are not
// the final template IDs of Result, which the final pass may split and
// merge.
func (m *Miner) Add(msg string) (clusterID int) {
	toks := Tokenize(msg, m.o)
	key := sigKey(toks)
	i, ok := m.index[key]
	n := len(m.assign)
	if !ok {
		i = int32(len(m.sigs))
		for j, t := range toks {
			toks[j] = strings.Clone(t) // do not keep msg alive
		}
		s := &signature{key: key, tokens: toks, first: n}
		s.stream = m.stream.add(i, toks, nil)
		m.sigs = append(m.sigs, s)
		m.index[key] = i
	}
	s := m.sigs[i]
	s.count++
	s.last = n
	m.assign = append(m.assign, i)
	m.res = nil
	return s.stream.id
}

// StreamTemplate returns the current template of streaming cluster id
// (as returned by Add), and false when there is none.
func (m *Miner) StreamTemplate(id int) (string, bool) {
	if id < 1 || id > len(m.stream.clusters) {
		return "", false
	}
	return strings.Join(m.stream.clusters[id-1].tokens, " "), true
}

// sigKey encodes tokens unambiguously (length-prefixed).
func sigKey(toks []string) string {
	var b []byte
	for _, t := range toks {
		b = binary.AppendUvarint(b, uint64(len(t)))
		b = append(b, t...)
	}
	return string(b)
}

// Templates returns the final templates, by ID.
func (m *Miner) Templates() []Template { return m.Result().Templates }

// Assign returns each added message's final template ID, in Add order.
func (m *Miner) Assign() []int { return m.Result().Assignments }

// Result runs the final pass (once per batch of Adds; the result is kept
// until the next Add) and returns the templates and assignments. The
// caller must not modify it.
func (m *Miner) Result() Result {
	if m.res == nil {
		r := m.final()
		m.res = &r
	}
	return *m.res
}

// group is a template of the final pass and the signatures it covers.
type group struct {
	tokens  []string
	members []int32
}

// final is the order-independent final pass.
func (m *Miner) final() Result {
	order := make([]int32, len(m.sigs))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(a, b int32) int {
		sa, sb := m.sigs[a], m.sigs[b]
		if sa.count != sb.count {
			return sb.count - sa.count
		}
		return strings.Compare(sa.key, sb.key)
	})
	keys := treeKeys(order, func(s int32) []string { return m.sigs[s].tokens }, m.o.Depth, m.o.MaxChildren)
	t := newTree(m.o)
	for n, i := range order {
		t.add(i, m.sigs[i].tokens, keys[n])
	}
	var groups []group
	for _, c := range t.clusters {
		groups = append(groups, m.split(c)...)
	}
	if m.o.Merge {
		groups = m.mergeSkeletons(groups)
	}
	return m.number(groups)
}

// split divides a cluster on its splitting positions (see splits), in
// the order of their first member; each part's template holds the
// members' token where they agree, a variable elsewhere (see
// generalise).
func (m *Miner) split(c *cluster) []group {
	n := len(c.tokens)
	var splitAt []int
	for p := range n {
		var vals []string
		for _, s := range c.members {
			v := m.sigs[s].tokens[p]
			if !slices.Contains(vals, v) {
				vals = append(vals, v)
				if len(vals) > max(m.o.MinDistinct, m.o.MinDistinctKeyed, 2) {
					break
				}
			}
		}
		if len(vals) == 1 {
			continue
		}
		if m.o.MinDistinct > 0 && m.splits(vals) {
			splitAt = append(splitAt, p)
		}
	}
	var groups []group
	byKey := map[string]int{}
	for _, s := range c.members {
		toks := m.sigs[s].tokens
		var kb []string
		for _, p := range splitAt {
			kb = append(kb, toks[p])
		}
		k := sigKey(kb)
		gi, ok := byKey[k]
		if !ok {
			gi = len(groups)
			byKey[k] = gi
			groups = append(groups, group{})
		}
		groups[gi].members = append(groups[gi].members, s)
	}
	for gi := range groups {
		g := &groups[gi]
		g.tokens = make([]string, n)
		for p := range n {
			g.tokens[p] = m.generalise(g.members, p)
		}
	}
	return groups
}

// splits decides whether a position with distinct values vals (at least
// two; the list may stop a little past the thresholds) splits its
// cluster. An UPPER_CASE word always splits (enumeration constants); a
// key=value token splits while there are fewer than MinDistinctKeyed
// values; a position holding a masked variable (a token that is only a
// variable, or one whose variable matches another value) never splits;
// any other splits while there are fewer than MinDistinct values.
func (m *Miner) splits(vals []string) bool {
	keyed, masked := false, false
	for _, v := range vals {
		switch {
		case isUpperWord(v):
			return true
		case isKeyed(v):
			keyed = true
		case isVarToken(v):
			masked = true
		case strings.Contains(v, Wildcard):
			for _, w := range vals {
				if w != v && matches(v, w) {
					masked = true // chdir(<*>) and chdir(pwd)
				}
			}
		}
	}
	switch {
	case keyed:
		return len(vals) < m.o.MinDistinctKeyed
	case masked:
		return false
	}
	return len(vals) < m.o.MinDistinct
}

// generalise is the template token at position p of signatures members:
// their token when they agree; else key=<*> when they are all key=value
// pairs of one key, else <*>.
func (m *Miner) generalise(members []int32, p int) string {
	first := m.sigs[members[0]].tokens[p]
	key, _, keyed := strings.Cut(first, "=")
	keyed = keyed && key != ""
	same := true
	for _, s := range members[1:] {
		v := m.sigs[s].tokens[p]
		if v == first {
			continue
		}
		same = false
		if !keyed {
			return Wildcard
		}
		if k, _, ok := strings.Cut(v, "="); !ok || k != key {
			return Wildcard
		}
	}
	if same {
		return first
	}
	return key + "=" + Wildcard
}

// skeleton is the sequence of a template's constant tokens.
func skeleton(toks []string) []string {
	var s []string
	for _, t := range toks {
		if !isVarToken(t) {
			s = append(s, t)
		}
	}
	return s
}

// mergeSkeletons merges the groups that share a skeleton (the sequence
// of constant tokens), whether their templates' or one of their
// messages': templates that differ only in their variables, whatever the
// number and place of the variables, are one template. Skeletons without
// any constant merge nothing. The merged template is built from the
// merged groups of the most frequent template skeleton: between two
// constants it keeps the variables those groups agree on, or one <*>.
func (m *Miner) mergeSkeletons(groups []group) []group {
	parent := make([]int, len(groups))
	for i := range parent {
		parent[i] = i
	}
	var find func(int) int
	find = func(i int) int {
		for parent[i] != i {
			parent[i] = parent[parent[i]]
			i = parent[i]
		}
		return i
	}
	owner := map[string]int{}
	link := func(gi int, toks []string) {
		sk := skeleton(toks)
		if len(sk) == 0 {
			return
		}
		k := sigKey(sk)
		o, ok := owner[k]
		if !ok {
			owner[k] = gi
			return
		}
		a, b := find(o), find(gi)
		if a != b {
			parent[max(a, b)] = min(a, b)
		}
	}
	for gi, g := range groups {
		link(gi, g.tokens)
		for _, s := range g.members {
			link(gi, m.sigs[s].tokens)
		}
	}
	var out []group
	index := map[int]int{}
	var parts [][]int
	for gi := range groups {
		r := find(gi)
		oi, ok := index[r]
		if !ok {
			oi = len(out)
			index[r] = oi
			out = append(out, group{})
			parts = append(parts, nil)
		}
		out[oi].members = append(out[oi].members, groups[gi].members...)
		parts[oi] = append(parts[oi], gi)
	}
	for oi, ps := range parts {
		if len(ps) == 1 {
			out[oi].tokens = groups[ps[0]].tokens
			continue
		}
		out[oi].tokens = m.mergedTemplate(groups, ps)
	}
	return out
}

// mergedTemplate builds the template of merged groups ps (see
// mergeSkeletons).
func (m *Miner) mergedTemplate(groups []group, ps []int) []string {
	// the most frequent template skeleton (ties: the first group's)
	counts := map[string]int{}
	best, bestN := "", -1
	for _, gi := range ps {
		k := sigKey(skeleton(groups[gi].tokens))
		for _, s := range groups[gi].members {
			counts[k] += m.sigs[s].count
		}
	}
	for _, gi := range ps {
		k := sigKey(skeleton(groups[gi].tokens))
		if counts[k] > bestN {
			best, bestN = k, counts[k]
		}
	}
	var skel []string
	var gaps [][]string // per gap, the groups' variables there
	for _, gi := range ps {
		toks := groups[gi].tokens
		sk := skeleton(toks)
		if sigKey(sk) != best {
			continue
		}
		if gaps == nil {
			skel, gaps = sk, make([][]string, len(sk)+1)
		}
		j, gap := 0, []string(nil)
		for _, t := range toks {
			if isVarToken(t) {
				gap = append(gap, t)
				continue
			}
			gaps[j] = append(gaps[j], strings.Join(gap, " "))
			gap = nil
			j++
		}
		gaps[j] = append(gaps[j], strings.Join(gap, " "))
	}
	var toks []string
	for j, texts := range gaps {
		same := true
		for _, t := range texts[1:] {
			if t != texts[0] {
				same = false
				break
			}
		}
		switch {
		case same && texts[0] != "":
			toks = append(toks, strings.Fields(texts[0])...)
		case !same:
			toks = append(toks, Wildcard)
		}
		if j < len(skel) {
			toks = append(toks, skel[j])
		}
	}
	return toks
}

// number gives the groups their IDs, by first message, and builds the
// result.
func (m *Miner) number(groups []group) Result {
	type ranked struct {
		g     *group
		first int
	}
	rs := make([]ranked, len(groups))
	for i := range groups {
		f := len(m.assign)
		for _, s := range groups[i].members {
			f = min(f, m.sigs[s].first)
		}
		rs[i] = ranked{&groups[i], f}
	}
	slices.SortFunc(rs, func(a, b ranked) int { return a.first - b.first })
	sigTemplate := make([]int, len(m.sigs))
	res := Result{Templates: make([]Template, len(rs)), Assignments: make([]int, len(m.assign))}
	for i, r := range rs {
		t := Template{ID: i + 1, Template: strings.Join(r.g.tokens, " "), First: r.first}
		for _, s := range r.g.members {
			sigTemplate[s] = i
			t.Count += m.sigs[s].count
			t.Last = max(t.Last, m.sigs[s].last)
		}
		res.Templates[i] = t
	}
	for n, s := range m.assign {
		ti := sigTemplate[s]
		res.Assignments[n] = ti + 1
		if t := &res.Templates[ti]; len(t.Examples) < m.o.MaxExamples {
			t.Examples = append(t.Examples, n)
		}
	}
	return res
}

// Mine mines msgs in one call with options o.
func Mine(msgs []string, o Options) (Result, error) {
	m, err := New(o)
	if err != nil {
		return Result{}, fmt.Errorf("mine: %w", err)
	}
	for _, s := range msgs {
		m.Add(s)
	}
	return m.Result(), nil
}
