package patterns

import (
	"strings"
	"unicode"
)

// ErrorMessage returns the message worth mining in text, a traceback or a
// tool's output:
//
//   - in a Python traceback, the exception line that ends it (the last
//     traceback's, when exceptions are chained): "ValueError: bad value";
//   - else the last line naming an exception, "XxxError: …" (also
//     Exception, Exit, Interrupt, Warning, Iteration, Failure, Fault; a
//     pytest "E   " prefix is dropped), as printed for a SyntaxError
//     without a traceback;
//   - else the last non-empty line.
//
// The line is trimmed and ANSI colour codes are removed; ErrorMessage
// returns "" when text has no non-empty line.
func ErrorMessage(text string) string {
	lines := strings.Split(stripANSI(text), "\n")
	for i := range lines {
		lines[i] = strings.TrimRight(lines[i], " \t\r")
	}
	if h := lastTraceback(lines); h >= 0 {
		indent := indentOf(lines[h])
		for _, l := range lines[h+1:] {
			t := strings.TrimSpace(l)
			if t == "" || indentOf(l) > indent || strings.HasPrefix(t, "File \"") {
				continue
			}
			if isExceptionLine(t) {
				return t
			}
			break
		}
	}
	for i := len(lines) - 1; i >= 0; i-- {
		t := strings.TrimSpace(lines[i])
		if rest, ok := strings.CutPrefix(t, "E "); ok {
			t = strings.TrimSpace(rest)
		}
		if isExceptionLine(t) {
			return t
		}
	}
	for i := len(lines) - 1; i >= 0; i-- {
		if t := strings.TrimSpace(lines[i]); t != "" {
			return t
		}
	}
	return ""
}

// lastTraceback is the index of the last "Traceback (most recent call
// last):" line, or -1.
func lastTraceback(lines []string) int {
	for i := len(lines) - 1; i >= 0; i-- {
		if strings.HasPrefix(strings.TrimSpace(lines[i]), "Traceback (most recent call last)") {
			return i
		}
	}
	return -1
}

func indentOf(l string) int { return len(l) - len(strings.TrimLeft(l, " \t")) }

// hasExceptionSuffix reports whether name ends like an exception class.
func hasExceptionSuffix(name string) bool {
	for _, s := range []string{"Error", "Exception", "Exit", "Interrupt", "Warning", "Iteration", "Failure", "Fault"} {
		if strings.HasSuffix(name, s) {
			return true
		}
	}
	return false
}

// isExceptionLine reports whether t is "Name" or "Name: message" where
// Name is a (dotted) identifier ending like an exception class.
func isExceptionLine(t string) bool {
	name, _, _ := strings.Cut(t, ":")
	if name == "" || !hasExceptionSuffix(name) {
		return false
	}
	for _, part := range strings.Split(name, ".") {
		if part == "" {
			return false
		}
		for j, r := range part {
			if !(r == '_' || unicode.IsLetter(r) || (j > 0 && unicode.IsDigit(r))) {
				return false
			}
		}
	}
	return true
}

// stripANSI removes ANSI escape sequences (CSI: ESC [ … final byte).
func stripANSI(s string) string {
	if !strings.Contains(s, "\x1b") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != 0x1b {
			b.WriteByte(s[i])
			continue
		}
		if i+1 < len(s) && s[i+1] == '[' {
			j := i + 2
			for j < len(s) && !(s[j] >= 0x40 && s[j] <= 0x7e) {
				j++
			}
			i = j
			continue
		}
		i++ // a two-byte escape
	}
	return b.String()
}
