// Package textcut truncates text for rows and messages without splitting
// a UTF-8 sequence.
package textcut

import "unicode/utf8"

// Cut returns s cut to at most n bytes at a rune boundary, with "…"
// marking the cut; s itself when it fits.
func Cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
