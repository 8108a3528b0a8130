package analysis

// matcher finds any of a set of phrases in a text in one pass (an
// Aho–Corasick automaton compiled to a DFA over bytes). The failure
// detectors run over every observation of every trajectory; a pass per
// phrase costs more than the rest of the analysis.
type matcher struct {
	fold  bool
	next  [][256]int32 // DFA transitions
	depth []int32      // length of the phrase a node ends, 0 if none
}

// newMatcher compiles phrases; with fold, ASCII letters match in either
// case (phrases must then be given in lower case).
func newMatcher(fold bool, phrases ...string) *matcher {
	m := &matcher{fold: fold, next: make([][256]int32, 1), depth: []int32{0}}
	for _, p := range phrases {
		n := int32(0)
		for i := 0; i < len(p); i++ {
			c := p[i]
			if m.next[n][c] == 0 {
				m.next = append(m.next, [256]int32{})
				m.depth = append(m.depth, 0)
				m.next[n][c] = int32(len(m.next) - 1)
			}
			n = m.next[n][c]
		}
		if m.depth[n] == 0 || int32(len(p)) < m.depth[n] {
			m.depth[n] = int32(len(p))
		}
	}
	// Breadth-first: failure links, then the full transition table.
	fail := make([]int32, len(m.next))
	var queue []int32
	for c := 0; c < 256; c++ {
		if s := m.next[0][c]; s != 0 {
			queue = append(queue, s)
		}
	}
	for len(queue) > 0 {
		r := queue[0]
		queue = queue[1:]
		if m.depth[r] == 0 && m.depth[fail[r]] != 0 {
			m.depth[r] = m.depth[fail[r]] // a shorter phrase ends here
		}
		for c := 0; c < 256; c++ {
			s := m.next[r][c]
			if s == 0 {
				m.next[r][c] = m.next[fail[r]][c]
				continue
			}
			fail[s] = m.next[fail[r]][c]
			queue = append(queue, s)
		}
	}
	return m
}

// index is the start of the first phrase occurrence to end in s, or -1.
func (m *matcher) index(s string) int {
	n := int32(0)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if m.fold && c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		n = m.next[n][c]
		if d := m.depth[n]; d != 0 {
			return i + 1 - int(d)
		}
	}
	return -1
}
