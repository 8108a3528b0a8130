package patterns

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Wildcard stands for a variable in templates.
const Wildcard = "<*>"

// maxQuoted is the longest quoted value (in bytes) masked as one variable.
const maxQuoted = 256

// Tokenize returns the tokens of msg as the miner sees them: split on
// white space and on runs of dots, each variable part masked as <*>
// (numbers, hexadecimal, addresses, host names, ports, paths, URLs, e-mail
// addresses, quoted values, identifiers with digits, the variable values
// of key=value pairs, dates, quantities with their unit), consecutive
// variables collapsed into one, and at most o.MaxTokens tokens (a longer
// message's tail is one <*>). Tokenize is a pure function of msg and o.
func Tokenize(msg string, o Options) []string {
	truncated := false
	// more bytes than 2*MaxTokens tokens of MaxTokenLen cannot matter
	if budget := 2 * o.MaxTokens * (o.MaxTokenLen + 1); len(msg) > budget {
		for budget > 0 && !utf8.RuneStart(msg[budget]) {
			budget--
		}
		msg, truncated = msg[:budget], true
	}
	s := maskQuotes(msg)
	var toks []string
	for rest := s; ; {
		var f string
		f, rest = nextField(rest)
		if f == "" {
			break
		}
		// keep a few more than the cap: collapsing may shorten the list
		if len(toks) >= 2*o.MaxTokens {
			truncated = true
			break
		}
		if len(f) > o.MaxTokenLen {
			toks = append(toks, Wildcard)
			continue
		}
		toks = append(toks, maskToken(f))
	}
	for i, t := range toks {
		if isEmptyValue(t) {
			toks[i] = t[:1] + Wildcard + t[1:]
		}
	}
	toks = mergeUnits(toks)
	maskDates(toks)
	toks = collapse(toks)
	if len(toks) > o.MaxTokens {
		toks, truncated = toks[:o.MaxTokens], true
	}
	if truncated && len(toks) > 0 {
		if toks[len(toks)-1] != Wildcard {
			if len(toks) == o.MaxTokens {
				toks = toks[:len(toks)-1]
			}
			toks = append(toks, Wildcard)
		}
	}
	return toks
}

// isEmptyValue reports whether a token is an empty bracket or quote
// pair, the empty value of a variable: (), [], {}, two quotes.
func isEmptyValue(t string) bool {
	switch strings.TrimRight(t, ",;:.") {
	case "()", "[]", "{}", "''", `""`:
		return true
	}
	return false
}

// nextField returns the next field of s: fields are separated by white
// space and by runs of two or more dots (the padding of "name......value").
func nextField(s string) (field, rest string) {
	i := 0
	for i < len(s) {
		r, n := utf8.DecodeRuneInString(s[i:])
		if unicode.IsSpace(r) {
			i += n
			continue
		}
		if r == '.' && i+1 < len(s) && s[i+1] == '.' {
			for i < len(s) && s[i] == '.' {
				i++
			}
			continue
		}
		break
	}
	start := i
	for i < len(s) {
		r, n := utf8.DecodeRuneInString(s[i:])
		if unicode.IsSpace(r) || (r == '.' && i+1 < len(s) && s[i+1] == '.') {
			break
		}
		i += n
	}
	return s[start:i], s[i:]
}

// maskQuotes replaces the content of quoted values ('…', "…", `…`, at
// most maxQuoted bytes on one line) by <*>. A quote opens a value only at
// the start or after a character that is not a letter or digit, and closes
// it only before one that is not, so apostrophes (can't, users') are left
// alone.
func maskQuotes(s string) string {
	if !strings.ContainsAny(s, "'\"`") {
		return s
	}
	var b strings.Builder
	last := 0
	for i := 0; i < len(s); i++ {
		q := s[i]
		if q != '\'' && q != '"' && q != '`' {
			continue
		}
		if i > 0 {
			if r, _ := utf8.DecodeLastRuneInString(s[:i]); isAlnum(r) {
				continue
			}
		}
		end := -1
		for j := i + 1; j < len(s) && j-i <= maxQuoted; j++ {
			if s[j] == '\n' {
				break
			}
			if s[j] != q {
				continue
			}
			if r, _ := utf8.DecodeRuneInString(s[j+1:]); j+1 < len(s) && isAlnum(r) {
				continue
			}
			end = j
			break
		}
		if end <= i+1 { // no closing quote, or an empty value
			continue
		}
		b.WriteString(s[last : i+1])
		b.WriteString(Wildcard)
		b.WriteByte(q)
		last = end + 1
		i = end
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

// isDelim reports whether c splits a token into pieces that are masked
// separately: brackets, '=', ',', ';', '|' and quotes.
func isDelim(c byte) bool {
	switch c {
	case '(', ')', '[', ']', '{', '}', '=', ',', ';', '|', '"', '\'', '`':
		return true
	}
	return false
}

// maskToken masks the variable pieces of one white-space delimited token:
// the token is cut at brackets, '=', ',', ';', '|' and quotes, and each
// piece between them that looks variable becomes <*>, so that
// "LOGIN(uid=0)" becomes "LOGIN(uid=<*>)" and "[10.0.0.1]" "[<*>]".
func maskToken(tok string) string {
	var b strings.Builder
	changed := false
	for i := 0; i < len(tok); {
		if isDelim(tok[i]) {
			b.WriteByte(tok[i])
			i++
			continue
		}
		j := i
		for j < len(tok) && !isDelim(tok[j]) {
			j++
		}
		p := tok[i:j]
		if m := maskPiece(p); m != p {
			changed = true
			p = m
		}
		b.WriteString(p)
		i = j
	}
	if !changed {
		return tok
	}
	return b.String()
}

// maskPiece masks one piece of a token when it looks variable, keeping a
// leading '#' and trailing ':', '.', '!', '?'. A piece that is a name, a
// separator and a variable ("blk_-42", "jetty-6.1.26", "localhost:8080")
// keeps its name: "blk_<*>".
func maskPiece(p string) string {
	if strings.Contains(p, Wildcard) {
		return p
	}
	core := strings.TrimRight(p, ":.!?")
	suffix := p[len(core):]
	prefix := ""
	if strings.HasPrefix(core, "#") {
		prefix, core = "#", core[1:]
	}
	if core == "" || !isVariable(core) {
		return p
	}
	if !isWhole(core) {
		if i := namePrefix(core); i > 0 && isVariable(core[i:]) {
			prefix += core[:i]
		}
	}
	return prefix + Wildcard + suffix
}

// isWhole reports whether a variable piece is masked whole even when it
// starts with a name: URLs, paths, e-mail addresses, host names and
// host:port pairs.
func isWhole(p string) bool {
	if strings.Contains(p, "://") || isPath(p) || strings.Contains(p, "@") || isHostName(p) {
		return true
	}
	if i := strings.LastIndexByte(p, ':'); i > 0 && isHostName(p[:i]) {
		return true
	}
	return false
}

// namePrefix returns the length of a leading name (letters only) and its
// separator ('-', '_', ':', '.', '#'), or 0 when p does not start so.
func namePrefix(p string) int {
	i := 0
	for i < len(p) && (p[i] >= 'a' && p[i] <= 'z' || p[i] >= 'A' && p[i] <= 'Z') {
		i++
	}
	if i == 0 || i >= len(p)-1 {
		return 0
	}
	switch p[i] {
	case '-', '_', ':', '.', '#':
		return i + 1
	}
	return 0
}

// isVariable reports whether a piece of a token is a variable: a URL, a
// path, an e-mail address, a host name, or a word with digits that is not
// a plain name with a one-digit version (ssh2, SOCKS5 and utf8 are
// constants; 42, 0x1f, 10.0.0.1:80, blk_-42, 2.6.5-1, 16K, host78,
// V1R1, deadbeef01 and R02-M1-N0 are variables).
func isVariable(p string) bool {
	if strings.Contains(p, "://") {
		return true
	}
	if isPath(p) {
		return true
	}
	if at := strings.IndexByte(p, '@'); at > 0 && strings.Contains(p[at:], ".") {
		return true
	}
	runsWithDigits := 0
	for run := range alnumRuns(p) {
		digits, groups, hex, prevDigit := 0, 0, true, false
		for _, r := range run {
			d := r >= '0' && r <= '9'
			if d {
				digits++
				if !prevDigit {
					groups++
				}
			} else if !(r >= 'a' && r <= 'f' || r >= 'A' && r <= 'F') {
				hex = false
			}
			prevDigit = d
		}
		if digits == 0 {
			continue
		}
		runsWithDigits++
		switch {
		case run[0] >= '0' && run[0] <= '9': // 42, 2nd, 16K, 0x1f, 550e8400
			return true
		case digits >= 2 || groups >= 2: // host78, V1R1
			return true
		case hex && len(run) >= 8: // deadbeef1
			return true
		}
	}
	if runsWithDigits >= 2 {
		return true // R2-M1, x86_64
	}
	return isHostName(p)
}

// isPath reports whether p looks like a file path.
func isPath(p string) bool {
	switch {
	case len(p) >= 2 && p[0] == '/' && p[1] != '/':
		return true
	case strings.HasPrefix(p, "~/"), strings.HasPrefix(p, "./"), strings.HasPrefix(p, "../"):
		return true
	case len(p) >= 3 && p[1] == ':' && p[2] == '\\' && unicode.IsLetter(rune(p[0])):
		return true
	}
	return strings.Count(p, "/") >= 2 || strings.Count(p, `\`) >= 2
}

// isTLD reports whether w is a top-level domain that makes a dotted word
// a host name (any two-letter country code also does, with at least three
// labels).
func isTLD(w string) bool {
	switch w {
	case "com", "net", "org", "edu", "gov", "mil", "int", "info", "biz", "io", "local",
		"internal", "arpa", "localdomain":
		return true
	}
	return false
}

// isHostName reports whether p is a dotted name ending in a known
// top-level domain: www.example.com, proxy.cse.cuhk.edu.hk.
func isHostName(p string) bool {
	labels := strings.Split(p, ".")
	if len(labels) < 2 {
		return false
	}
	for _, l := range labels {
		if l == "" {
			return false
		}
		for _, r := range l {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-') {
				return false
			}
		}
	}
	tld := strings.ToLower(labels[len(labels)-1])
	return isTLD(tld) || (len(labels) >= 3 && len(tld) == 2 && tld[0] >= 'a' && tld[1] >= 'a')
}

// alnumRuns yields the maximal runs of letters and digits of s.
func alnumRuns(s string) func(yield func(string) bool) {
	return func(yield func(string) bool) {
		start := -1
		for i, r := range s {
			if isAlnum(r) {
				if start < 0 {
					start = i
				}
				continue
			}
			if start >= 0 {
				if !yield(s[start:i]) {
					return
				}
				start = -1
			}
		}
		if start >= 0 {
			yield(s[start:])
		}
	}
}

func isAlnum(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }

// isUnit reports whether w is a unit, a word that belongs to the variable
// quantity before it: "1.2 KB" and "(3 sec)" are one variable each.
func isUnit(w string) bool {
	switch w {
	case "B", "KB", "MB", "GB", "TB", "PB", "KiB", "MiB", "GiB", "TiB", "kB", "ns", "us",
		"µs", "ms", "s", "sec", "secs", "second", "seconds", "min", "mins", "minute",
		"minutes", "h", "hr", "hrs", "hour", "hours", "day", "days", "%":
		return true
	}
	return false
}

// mergeUnits joins a unit to the variable quantity before it: "<*> KB)"
// becomes "<*>)".
func mergeUnits(toks []string) []string {
	out := toks[:0]
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		if i+1 < len(toks) && strings.HasSuffix(t, Wildcard) {
			next := toks[i+1]
			u := strings.TrimRight(next, ")]},;:.!?")
			if isUnit(u) {
				out = append(out, t+next[len(u):])
				i++
				continue
			}
		}
		out = append(out, t)
	}
	return out
}

// isDateWord reports whether w names a day or a month: a variable next
// to another variable ("Fri Jun 17 07:07:00 2005").
func isDateWord(w string) bool {
	switch w {
	case "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun", "Monday", "Tuesday", "Wednesday",
		"Thursday", "Friday", "Saturday", "Sunday", "Jan", "Feb", "Mar", "Apr", "May", "Jun",
		"Jul", "Aug", "Sep", "Sept", "Oct", "Nov", "Dec", "January", "February", "March",
		"April", "June", "July", "August", "September", "October", "November", "December":
		return true
	}
	return false
}

// maskDates masks the day and month names that stand next to a variable
// (or to a masked date word), in place.
func maskDates(toks []string) {
	isDate := func(i int) bool {
		return isDateWord(strings.TrimRight(toks[i], ",."))
	}
	pass := func(i, step int) {
		if !isDate(i) {
			return
		}
		for _, j := range []int{i - step, i + step} {
			if j >= 0 && j < len(toks) && toks[j] == Wildcard {
				toks[i] = Wildcard
				return
			}
		}
	}
	for i := len(toks) - 1; i >= 0; i-- {
		pass(i, 1)
	}
	for i := range toks {
		pass(i, 1)
	}
}

// collapse replaces runs of one repeated token holding a variable by one
// ("<*> <*>" and "blk_<*> blk_<*>" are one variable: a list).
func collapse(toks []string) []string {
	out := toks[:0]
	for i, t := range toks {
		if i > 0 && t == toks[i-1] && strings.Contains(t, Wildcard) {
			continue
		}
		out = append(out, t)
	}
	return out
}

// matches reports whether pattern (a token with <*>, each standing for
// one or more characters) matches token t.
func matches(pattern, t string) bool {
	parts := strings.Split(pattern, Wildcard)
	if len(parts) == 1 {
		return pattern == t
	}
	if !strings.HasPrefix(t, parts[0]) {
		return false
	}
	t = t[len(parts[0]):]
	last := parts[len(parts)-1]
	for _, p := range parts[1 : len(parts)-1] {
		i := strings.Index(t[min(1, len(t)):], p)
		if i < 0 {
			return false
		}
		t = t[min(1, len(t))+i+len(p):]
	}
	return len(t) > len(last) && strings.HasSuffix(t, last)
}

// isVarToken reports whether a token is a variable with punctuation only
// around it: <*>, (<*>), [<*>], '<*>', <*>:.
func isVarToken(t string) bool {
	if !strings.Contains(t, Wildcard) {
		return false
	}
	for _, r := range strings.ReplaceAll(t, Wildcard, "") {
		if isAlnum(r) {
			return false
		}
	}
	return true
}

// isKeyed reports whether a token is a key=value pair (its value, when
// variable, is already masked).
func isKeyed(t string) bool { return strings.IndexByte(t, '=') > 0 }

// isUpperWord reports whether a token is an UPPER_CASE word (at least two
// letters, all upper case, no variable): the way enumeration constants
// are written.
func isUpperWord(t string) bool {
	if strings.Contains(t, Wildcard) {
		return false
	}
	letters := 0
	for _, r := range t {
		if unicode.IsLetter(r) {
			if !unicode.IsUpper(r) {
				return false
			}
			letters++
		}
	}
	return letters >= 2
}

// treeKey is the key of a leading token in the parse tree: variables (and
// tokens with digits, as in Drain) share the <*> key.
func treeKey(t string) string {
	if strings.Contains(t, Wildcard) || strings.ContainsAny(t, "0123456789") {
		return Wildcard
	}
	return t
}
