package patterns

import (
	"slices"
	"strings"
	"testing"
)

func TestTokenize(t *testing.T) {
	o := DefaultOptions()
	for _, c := range []struct {
		name, in string
		want     []string
	}{
		{"empty", "", nil},
		{"blank", " \t \r ", nil},
		{"words", "Connection reset by peer", []string{"Connection", "reset", "by", "peer"}},
		{"numbers", "expected 3 got -4.5", []string{"expected", "<*>", "got", "<*>"}},
		{"hex", "at 0x7f3a2c mask deadbeef01 ffff", []string{"at", "<*>", "mask", "<*>", "ffff"}},
		{"ip and port", "from 10.0.0.1 port 22 to [192.168.1.2:8080]", []string{"from", "<*>", "port", "<*>", "to", "[<*>]"}},
		{"host:port", "proxy.cse.cuhk.edu.hk:5070 open", []string{"<*>", "open"}},
		{"host names", "resolve www.example.com and MSRA-SA.fareast.corp.microsoft.com", []string{"resolve", "<*>", "and", "<*>"}},
		{"not host names", "rpc.statd main.py os.path org.apache.Foo", []string{"rpc.statd", "main.py", "os.path", "org.apache.Foo"}},
		{"paths", "open /tmp/x.txt ./a ../b ~/c a/b/c C:\\x\\y and/or", []string{"open", "<*>", "and/or"}},
		{"url", "GET http://localhost:8080/health failed", []string{"GET", "<*>", "failed"}},
		{"email", "mail bob@example.com now", []string{"mail", "<*>", "now"}},
		{"single quotes", "KeyError: 'foo bar'", []string{"KeyError:", "'<*>'"}},
		{"double quotes", `File "/x/y.py", line 42, in f`, []string{"File", `"<*>",`, "line", "<*>,", "in", "f"}},
		{"backquotes", "unknown `flag`", []string{"unknown", "`<*>`"}},
		{"apostrophes", "can't open users' files", []string{"can't", "open", "users'", "files"}},
		{"unclosed quote", "it's 'open", []string{"it's", "'open"}},
		{"identifiers with digits", "host78 V1R1 R02-M1-N0", []string{"<*>"}},
		{"names with one digit", "ssh2 SOCKS5 tty2 utf8", []string{"ssh2", "SOCKS5", "tty2", "utf8"}},
		{"name prefix kept", "blk_-42 jetty-6.1.26 localhost:8080", []string{"blk_<*>", "jetty-<*>", "localhost:<*>"}},
		{"key=value", "mode=fast count=10 path=/a/b empty= tty=:0", []string{"mode=fast", "count=<*>", "path=<*>", "empty=", "tty=<*>"}},
		{"brackets", "LOGIN(uid=0) mice.c(1766) chdir(pwd)", []string{"LOGIN(uid=<*>)", "mice.c(<*>)", "chdir(pwd)"}},
		{"empty values", "got () and [] and ''", []string{"got", "(<*>)", "and", "[<*>]", "and", "'<*>'"}},
		{"units", "took 250 ms, 1.2 KB (3 sec) <1 sec", []string{"took", "<*>,", "<*>", "(<*>)", "<*>"}},
		{"dates", "at Fri Jun 17 07:07:00 2005 done", []string{"at", "<*>", "done"}},
		{"date word alone", "Sun rises in May", []string{"Sun", "rises", "in", "May"}},
		{"dot padding", "illegal instruction......0 loop... 12", []string{"illegal", "instruction", "<*>", "loop", "<*>"}},
		{"lists collapse", "delete blk_1 blk_2 blk_3 done", []string{"delete", "blk_<*>", "done"}},
		{"unicode", "ñandú falló en 日本語 π=3.14", []string{"ñandú", "falló", "en", "日本語", "π=<*>"}},
		{"trailing punctuation kept", "code 42: at 7.", []string{"code", "<*>:", "at", "<*>."}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := Tokenize(c.in, o); !slices.Equal(got, c.want) {
				t.Errorf("Tokenize(%q) = %q, want %q", c.in, got, c.want)
			}
		})
	}
}

func TestTokenizeLimits(t *testing.T) {
	o := DefaultOptions()
	o.MaxTokens, o.MaxTokenLen = 5, 8
	for _, c := range []struct {
		name, in string
		want     []string
	}{
		{"at the cap", "a b c d e", []string{"a", "b", "c", "d", "e"}},
		{"over the cap", "a b c d e f g", []string{"a", "b", "c", "d", "<*>"}},
		{"collapsed under the cap", "a 1 2 3 4 5 6 b", []string{"a", "<*>", "b"}},
		{"long token", "a abcdefghij b", []string{"a", "<*>", "b"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := Tokenize(c.in, o); !slices.Equal(got, c.want) {
				t.Errorf("Tokenize(%q) = %q, want %q", c.in, got, c.want)
			}
		})
	}
	// a huge line is cut to the byte budget, with a variable tail
	huge := strings.Repeat("word ", 1<<20)
	got := Tokenize(huge, DefaultOptions())
	if len(got) != DefaultOptions().MaxTokens || got[len(got)-1] != Wildcard || got[0] != "word" {
		t.Errorf("huge line: %d tokens, last %q", len(got), got[len(got)-1])
	}
	// cut inside a multi-byte rune: still valid UTF-8 tokens
	for _, tok := range Tokenize(strings.Repeat("日本 ", 1<<16), DefaultOptions()) {
		if !strings.Contains(tok, "日本") && tok != Wildcard {
			t.Fatalf("bad token %q", tok)
		}
	}
}

func TestIsVariable(t *testing.T) {
	for _, c := range []struct {
		in   string
		want bool
	}{
		{"42", true}, {"2nd", true}, {"16K", true}, {"0x1f", true}, {"550e8400-e29b", true},
		{"10.0.0.1:80", true}, {"host78", true}, {"V1R1", true}, {"deadbeef01", true},
		{"x86_64", true}, {"/tmp/x", true}, {"http://x", true}, {"a@b.c", true},
		{"www.example.com", true}, {"a.b.co.uk", true},
		{"ssh2", false}, {"SOCKS5", false}, {"deadbeef", false}, {"main.py", false},
		{"os.path", false}, {"and/or", false}, {"/", false}, {"word", false}, {"ext4", false}, {"e820", true},
	} {
		if got := isVariable(c.in); got != c.want {
			t.Errorf("isVariable(%q) = %v, want %v", c.in, got, c.want)
		}
	}
}

func TestMatches(t *testing.T) {
	for _, c := range []struct {
		pattern, in string
		want        bool
	}{
		{"chdir(<*>)", "chdir(pwd)", true},
		{"chdir(<*>)", "chdir()", false},
		{"<*>", "x", true},
		{"a<*>b<*>c", "axbyc", true},
		{"a<*>b<*>c", "abc", false},
		{"x", "x", true},
		{"mapResourceRequest:<*>", "reduceResourceRequest:<*>", false},
	} {
		if got := matches(c.pattern, c.in); got != c.want {
			t.Errorf("matches(%q, %q) = %v, want %v", c.pattern, c.in, got, c.want)
		}
	}
}

func TestTokenClasses(t *testing.T) {
	for _, c := range []struct {
		tok                  string
		varTok, keyed, upper bool
	}{
		{"<*>", true, false, false},
		{"(<*>),", true, false, false},
		{"blk_<*>", false, false, false},
		{"uid=<*>", false, true, false},
		{"user=root", false, true, false},
		{"FAIL_TASK_CLEANUP", false, false, true},
		{"SOCKS5", false, false, true},
		{"A", false, false, false},
		{"Word", false, false, false},
	} {
		if got := isVarToken(c.tok); got != c.varTok {
			t.Errorf("isVarToken(%q) = %v", c.tok, got)
		}
		if got := isKeyed(c.tok); got != c.keyed {
			t.Errorf("isKeyed(%q) = %v", c.tok, got)
		}
		if got := isUpperWord(c.tok); got != c.upper {
			t.Errorf("isUpperWord(%q) = %v", c.tok, got)
		}
	}
}
