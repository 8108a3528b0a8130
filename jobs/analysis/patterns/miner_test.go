package patterns

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// mine runs the default miner (with changes) and returns the result.
func mine(t *testing.T, msgs []string, change func(*Options)) Result {
	t.Helper()
	o := DefaultOptions()
	if change != nil {
		change(&o)
	}
	res, err := Mine(msgs, o)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// templatesOf returns each message's final template.
func templatesOf(r Result) []string {
	out := make([]string, len(r.Assignments))
	for i, id := range r.Assignments {
		out[i] = r.Templates[id-1].Template
	}
	return out
}

// sameGroups reports whether two messages share a template.
func sameGroup(r Result, i, j int) bool { return r.Assignments[i] == r.Assignments[j] }

func TestTree(t *testing.T) {
	o := DefaultOptions()
	tr := newTree(o)
	add := func(s string) *cluster { return tr.add(0, Tokenize(s, o), nil) }
	a := add("session closed for user alice")
	if b := add("session closed for user bob"); b != a {
		t.Error("similar messages of one length and prefix: want one cluster")
	}
	if !slices.Equal(a.tokens, []string{"session", "closed", "for", "user", "<*>"}) || !a.wild[4] {
		t.Errorf("template %q wild %v", a.tokens, a.wild)
	}
	if c := add("session closed for user alice now"); c == a {
		t.Error("another token count: want another cluster")
	}
	if c := add("session opened for user alice"); c == a {
		t.Error("another second token (depth 2): want another cluster")
	}
	if c := add("session closed because of quota"); c != a {
		t.Error("similarity 2/5 reaches the threshold 0.4: want the cluster")
	}
	o5 := DefaultOptions()
	o5.SimThreshold = 0.5
	t5 := newTree(o5)
	if t5.add(0, Tokenize("session closed for user alice", o5), nil) == t5.add(0, Tokenize("session closed because of quota", o5), nil) {
		t.Error("similarity 2/5 under the threshold 0.5: want two clusters")
	}
	// depth 0: the token count alone keys the leaf
	o0 := DefaultOptions()
	o0.Depth = 0
	t0 := newTree(o0)
	x := t0.add(0, Tokenize("alpha beta gamma", o0), nil)
	if y := t0.add(0, Tokenize("delta beta gamma", o0), nil); y != x {
		t.Error("depth 0: want one cluster")
	}
	// MaxChildren: past it, new leading tokens share the <*> child
	o1 := DefaultOptions()
	o1.MaxChildren, o1.Depth = 2, 1
	t1 := newTree(o1)
	t1.add(0, []string{"a", "x"}, nil)
	t1.add(0, []string{"b", "x"}, nil)
	c := t1.add(0, []string{"c", "x"}, nil)
	if d := t1.add(0, []string{"d", "x"}, nil); d != c {
		t.Error("past MaxChildren: want the <*> child's cluster")
	}
	if n := len(t1.byLen[2].children); n != 3 {
		t.Errorf("%d children, want 2 and <*>", n)
	}
}

func TestTreeKeys(t *testing.T) {
	sigs := [][]string{{"a", "x", "1"}, {"b", "x", "1"}, {"c", "y", "1"}, {"d", "y", "1"}, {"a", "x"}, {"b", "z"}}
	toks := func(s int32) []string { return sigs[s] }
	all := []int32{0, 1, 2, 3, 4, 5}
	keys := treeKeys(all, toks, 2, 3)
	want := [][]string{{"<*>", "x"}, {"<*>", "x"}, {"<*>", "y"}, {"<*>", "y"}, {"a", "x"}, {"b", "z"}}
	if !reflect.DeepEqual(keys, want) {
		t.Errorf("keys %q, want %q (4 first tokens of length 3 overflow 3 children)", keys, want)
	}
	// order-independent
	rev := []int32{5, 4, 3, 2, 1, 0}
	rk := treeKeys(rev, toks, 2, 3)
	for i, s := range rev {
		if !slices.Equal(rk[i], want[s]) {
			t.Errorf("reversed: sig %d keys %q", s, rk[i])
		}
	}
	// shorter than the depth: keys for the tokens there are
	if k := treeKeys([]int32{0}, func(int32) []string { return []string{"solo"} }, 3, 3); !reflect.DeepEqual(k, [][]string{{"solo"}}) {
		t.Errorf("short: %q", k)
	}
	// through the miner: past MaxChildren leading words are a variable
	var msgs []string
	for i := range 8 {
		msgs = append(msgs, fmt.Sprintf("%s failed to start", strings.Repeat(string(rune('a'+i)), 3)))
	}
	r := mine(t, msgs, func(o *Options) { o.MaxChildren = 4 })
	if len(r.Templates) != 1 || r.Templates[0].Template != "<*> failed to start" {
		t.Errorf("overflowing leading words: %q", templatesOf(r))
	}
	if r := mine(t, msgs[:3], nil); len(r.Templates) != 3 {
		t.Errorf("few leading words stay constants: %q", templatesOf(r))
	}
}

func TestSimilarity(t *testing.T) {
	c := &cluster{tokens: []string{"a", "<*>", "c", "d"}, wild: []bool{false, true, false, false}}
	for _, x := range []struct {
		toks []string
		sim  float64
	}{
		{[]string{"a", "b", "c", "d"}, 0.75},
		{[]string{"a", "b", "x", "y"}, 0.25},
		{[]string{"z", "z", "z", "z"}, 0},
	} {
		if s, w := similarity(c, x.toks); s != x.sim || w != 1 {
			t.Errorf("similarity(%q) = %v, %d", x.toks, s, w)
		}
	}
	if s, _ := similarity(&cluster{}, nil); s != 1 {
		t.Errorf("empty: %v", s)
	}
}

func TestSplit(t *testing.T) {
	for _, c := range []struct {
		name string
		msgs []string
		same [][2]int // pairs in one template
		diff [][2]int // pairs in different templates
	}{
		{"few distinct words are constants",
			[]string{"cupsd startup succeeded", "cupsd shutdown succeeded", "cupsd startup succeeded"},
			[][2]int{{0, 2}}, [][2]int{{0, 1}}},
		{"MinDistinct words are a variable",
			[]string{"session closed for user cyrus", "session closed for user news", "session closed for user test"},
			[][2]int{{0, 1}, {1, 2}}, nil},
		{"a masked value makes a variable",
			[]string{"Failed none for invalid user 0 from 1.2.3.4", "Failed none for invalid user admin from 1.2.3.5"},
			[][2]int{{0, 1}}, nil},
		{"a variable matching a word makes a variable",
			[]string{"ciod: LOGIN chdir(/p/a/b) failed", "ciod: LOGIN chdir(pwd) failed"},
			[][2]int{{0, 1}}, nil},
		{"UPPER_CASE words are constants",
			[]string{"Transitioned from NEW to A", "Transitioned from OLD to A", "Transitioned from RUNNING to A", "Transitioned from DONE to A"},
			nil, [][2]int{{0, 1}, {1, 2}, {2, 3}}},
		{"key=value words under MinDistinctKeyed are constants",
			[]string{"auth failure rhost=1.2.3.4 user=root", "auth failure rhost=1.2.3.5 user=guest", "auth failure rhost=1.2.3.6 user=test"},
			nil, [][2]int{{0, 1}, {1, 2}}},
		{"key=value words from MinDistinctKeyed are a variable",
			[]string{"auth failure user=a1", "auth failure user=bob", "auth failure user=carl", "auth failure user=dan", "auth failure user=eve"},
			[][2]int{{0, 1}, {1, 2}, {3, 4}}, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := mine(t, c.msgs, nil)
			for _, p := range c.same {
				if !sameGroup(r, p[0], p[1]) {
					t.Errorf("%q and %q: want one template, got %q", c.msgs[p[0]], c.msgs[p[1]], templatesOf(r))
				}
			}
			for _, p := range c.diff {
				if sameGroup(r, p[0], p[1]) {
					t.Errorf("%q and %q: want two templates, got %q", c.msgs[p[0]], c.msgs[p[1]], templatesOf(r))
				}
			}
		})
	}
	// MinDistinct 0: plain Drain, no split
	r := mine(t, []string{"cupsd startup succeeded", "cupsd shutdown succeeded"}, func(o *Options) { o.MinDistinct, o.Depth = 0, 1 })
	if !sameGroup(r, 0, 1) || r.Templates[0].Template != "cupsd <*> succeeded" {
		t.Errorf("no split: %q", templatesOf(r))
	}
	// the generalised key=value keeps its key
	r = mine(t, []string{"auth failed user=a1", "auth failed user=bob", "auth failed user=carl", "auth failed user=dan"}, nil)
	if got := r.Templates[0].Template; got != "auth failed user=<*>" {
		t.Errorf("keyed variable: %q", got)
	}
}

func TestMergePass(t *testing.T) {
	msgs := []string{
		"h1.example.com:80 close, 0 bytes sent, 0 bytes received, lifetime 00:01",
		"h2.example.com:80 close, 10 bytes (1.2 KB) sent, 7 bytes received, lifetime <1 sec",
		"h3.example.com:80 close, 1 bytes sent, 70 bytes (7.1 KB) received, lifetime 01:02",
		"10.0.0.1:443 close, 5 bytes (1.1 KB) sent, 9 bytes (9 MB) received, lifetime 00:07",
		"h1.example.com:80 open through proxy p.example.com:8080 HTTPS",
	}
	r := mine(t, msgs, nil)
	for i := 1; i < 4; i++ {
		if !sameGroup(r, 0, i) {
			t.Errorf("message %d: want the close template, got %q", i, templatesOf(r))
		}
	}
	if sameGroup(r, 0, 4) {
		t.Error("open and close merged")
	}
	want := "<*> close, <*> bytes <*> sent, <*> bytes <*> received, lifetime <*>"
	if got := templatesOf(r)[0]; got != want {
		t.Errorf("merged template %q, want %q", got, want)
	}
	// without the merge pass the variants stay apart
	r = mine(t, msgs, func(o *Options) { o.Merge = false })
	if sameGroup(r, 0, 1) {
		t.Error("Merge off: variants of different lengths merged")
	}
	// templates without a constant are not merged with one another
	r = mine(t, []string{"42", "(7)", "hello"}, nil)
	if len(r.Templates) != 3 {
		t.Errorf("all-variable templates: %q", templatesOf(r))
	}
}

func TestMergeGroups(t *testing.T) {
	m, err := New(DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"a <*> b", "a b", "a <*> <*>, b", "c d"} {
		m.Add(s)
	}
	groups := []group{
		{tokens: []string{"a", "<*>", "b"}, members: []int32{0}},
		{tokens: []string{"a", "b"}, members: []int32{1}},
		{tokens: []string{"a", "<*>,", "b"}, members: []int32{2}},
		{tokens: []string{"c", "d"}, members: []int32{3}},
	}
	out := m.mergeSkeletons(groups)
	if len(out) != 2 {
		t.Fatalf("%d groups, want 2", len(out))
	}
	if got := strings.Join(out[0].tokens, " "); got != "a <*> b" {
		t.Errorf("merged template %q", got)
	}
	if !slices.Equal(out[0].members, []int32{0, 1, 2}) || !slices.Equal(out[1].members, []int32{3}) {
		t.Errorf("members %v %v", out[0].members, out[1].members)
	}
}

// corpus is a small mixed log for the determinism tests.
func corpus() []string {
	var msgs []string
	users := []string{"alice", "bob", "carol", "dave"}
	for i := range 300 {
		u := users[i%len(users)]
		switch i % 7 {
		case 0:
			msgs = append(msgs, fmt.Sprintf("Failed password for %s from 10.0.%d.%d port %d ssh2", u, i%5, i%250, 1000+i))
		case 1:
			msgs = append(msgs, fmt.Sprintf("session closed for user %s", u))
		case 2:
			msgs = append(msgs, fmt.Sprintf("KeyError: '%s'", u))
		case 3:
			msgs = append(msgs, fmt.Sprintf("h%d.example.com:80 close, %d bytes sent, lifetime 00:%02d", i, i*3, i%60))
		case 4:
			msgs = append(msgs, fmt.Sprintf("h%d.example.com:80 close, %d bytes (%d.%d KB) sent, lifetime <1 sec", i, i*3000, i, i%10))
		case 5:
			msgs = append(msgs, []string{"cupsd startup succeeded", "cupsd shutdown succeeded"}[i%2])
		default:
			msgs = append(msgs, fmt.Sprintf("Transitioned from %s to %s", []string{"NEW", "RUNNING", "DONE"}[i%3], []string{"A", "B"}[i%2]))
		}
	}
	return msgs
}

func TestDeterminism(t *testing.T) {
	msgs := corpus()
	a, b := mine(t, msgs, nil), mine(t, msgs, nil)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("same input, different results")
	}
	set := func(r Result) []string {
		var s []string
		for _, tp := range r.Templates {
			s = append(s, fmt.Sprintf("%s #%d", tp.Template, tp.Count))
		}
		slices.Sort(s)
		return s
	}
	want := set(a)
	rng := rand.New(rand.NewPCG(1, 2))
	for k := range 5 {
		sh := slices.Clone(msgs)
		rng.Shuffle(len(sh), func(i, j int) { sh[i], sh[j] = sh[j], sh[i] })
		r := mine(t, sh, nil)
		if got := set(r); !slices.Equal(got, want) {
			t.Fatalf("shuffle %d: templates\n%q\nwant\n%q", k, got, want)
		}
		// each message keeps its template
		byMsg := map[string]string{}
		for i, s := range msgs {
			byMsg[s] = templatesOf(a)[i]
		}
		for i, s := range sh {
			if templatesOf(r)[i] != byMsg[s] {
				t.Fatalf("shuffle %d: %q has %q, want %q", k, s, templatesOf(r)[i], byMsg[s])
			}
		}
	}
	// IDs follow first messages
	for i, tp := range a.Templates {
		if tp.ID != i+1 || a.Assignments[tp.First] != tp.ID || (i > 0 && tp.First <= a.Templates[i-1].First) {
			t.Fatalf("template %d: id %d first %d", i, tp.ID, tp.First)
		}
	}
}

func TestTemplatesCounts(t *testing.T) {
	msgs := []string{"a 1", "b", "a 2", "a 3", "b", "a 4"}
	r := mine(t, msgs, func(o *Options) { o.MaxExamples = 2 })
	want := []Template{
		{ID: 1, Template: "a <*>", Count: 4, First: 0, Last: 5, Examples: []int{0, 2}},
		{ID: 2, Template: "b", Count: 2, First: 1, Last: 4, Examples: []int{1, 4}},
	}
	if !reflect.DeepEqual(r.Templates, want) {
		t.Errorf("templates %+v", r.Templates)
	}
	if !slices.Equal(r.Assignments, []int{1, 2, 1, 1, 2, 1}) {
		t.Errorf("assignments %v", r.Assignments)
	}
}

func TestEdgeCases(t *testing.T) {
	long := strings.Repeat("x ", 5000) + "tail"
	msgs := []string{"", "   ", "hello world", "", long, long + " more", "héllo wörld ✓", "日本語のエラー 123", "\x00\xff bad utf8"}
	r := mine(t, msgs, nil)
	tm := templatesOf(r)
	if !sameGroup(r, 0, 1) || !sameGroup(r, 0, 3) || tm[0] != "" {
		t.Errorf("empty lines: %q", tm[:4])
	}
	if !sameGroup(r, 4, 5) || !strings.HasSuffix(tm[4], Wildcard) || len(strings.Fields(tm[4])) != DefaultOptions().MaxTokens {
		t.Errorf("long lines: %d tokens", len(strings.Fields(tm[4])))
	}
	if tm[6] != "héllo wörld ✓" || tm[7] != "日本語のエラー <*>" {
		t.Errorf("unicode: %q %q", tm[6], tm[7])
	}
	if len(r.Assignments) != len(msgs) {
		t.Fatal("assignments")
	}
	// no messages at all
	r = mine(t, nil, nil)
	if len(r.Templates) != 0 || len(r.Assignments) != 0 {
		t.Errorf("empty input: %+v", r)
	}
}

func TestStreaming(t *testing.T) {
	m, err := New(DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	a := m.Add("session closed for user alice")
	b := m.Add("session closed for user bob")
	c := m.Add("something else entirely")
	if a != b || a == c {
		t.Errorf("streaming ids %d %d %d", a, b, c)
	}
	if tpl, ok := m.StreamTemplate(a); !ok || tpl != "session closed for user <*>" {
		t.Errorf("stream template %q %v", tpl, ok)
	}
	if _, ok := m.StreamTemplate(99); ok {
		t.Error("unknown stream id")
	}
	r1 := m.Result()
	if m.Add("session closed for user alice") != a {
		t.Error("a repeated message changed cluster")
	}
	if m.Len() != 4 || len(m.Assign()) != 4 || len(r1.Assignments) != 3 {
		t.Errorf("len %d assign %d", m.Len(), len(m.Assign()))
	}
	// the final pass splits what the streaming tree grouped: two distinct
	// words are constants (MinDistinct 3)
	if len(m.Templates()) != 3 || m.Assign()[0] == m.Assign()[1] || m.Assign()[0] != m.Assign()[3] {
		t.Errorf("templates %+v", m.Templates())
	}
}

func TestOptionsValidate(t *testing.T) {
	if err := DefaultOptions().Validate(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name   string
		change func(*Options)
	}{
		{"depth", func(o *Options) { o.Depth = -1 }},
		{"sim_threshold", func(o *Options) { o.SimThreshold = 0 }},
		{"sim_threshold", func(o *Options) { o.SimThreshold = 1.5 }},
		{"max_children", func(o *Options) { o.MaxChildren = 0 }},
		{"min_distinct", func(o *Options) { o.MinDistinct = -1 }},
		{"min_distinct_keyed", func(o *Options) { o.MinDistinctKeyed = -1 }},
		{"max_tokens", func(o *Options) { o.MaxTokens = 0 }},
		{"max_token_len", func(o *Options) { o.MaxTokenLen = 0 }},
		{"max_examples", func(o *Options) { o.MaxExamples = -1 }},
	} {
		o := DefaultOptions()
		c.change(&o)
		err := o.Validate()
		if err == nil || !strings.Contains(err.Error(), c.name) {
			t.Errorf("%s: %v", c.name, err)
		}
		if _, err := New(o); err == nil {
			t.Errorf("%s: New accepted invalid options", c.name)
		}
	}
	if err := (Options{}).Validate(); err == nil {
		t.Error("zero options accepted")
	}
}
