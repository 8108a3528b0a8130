package recall

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// stopWords are dropped from documents and queries alike: English function
// words that carry no topic. The list is small on purpose (BM25's idf
// already discounts frequent words); changing it changes the terms of an
// index, so it is part of the format version.
var stopWords = map[string]bool{
	"a": true, "an": true, "and": true, "are": true, "as": true, "at": true, "be": true, "by": true,
	"do": true, "does": true, "for": true, "from": true, "has": true, "have": true, "if": true, "in": true,
	"into": true, "is": true, "it": true, "its": true, "of": true, "on": true, "or": true, "so": true,
	"than": true, "that": true, "the": true, "their": true, "then": true, "there": true, "these": true,
	"this": true, "those": true, "to": true, "was": true, "were": true, "when": true, "which": true,
	"while": true, "with": true, "you": true, "your": true, "we": true, "our": true, "i": true, "me": true,
	"my": true, "not": true, "no": true, "but": true, "can": true, "will": true, "should": true, "would": true,
	"all": true, "any": true, "each": true, "every": true, "what": true, "how": true, "who": true,
}

// Tokens splits text into index terms: words are runs of letters and
// digits (so snake_case and kebab-case split), split again at camelCase
// boundaries ("parseHTTPHeader" gives parse, http, header), lower-cased,
// stop words and one-letter words dropped, and stemmed (see Stem).
// Documents and queries go through the same function.
func Tokens(text string) []string {
	var out []string
	emit := func(w string) {
		w = strings.ToLower(w)
		if utf8.RuneCountInString(w) < 2 && !isDigits(w) {
			return
		}
		if stopWords[w] {
			return
		}
		out = append(out, Stem(w))
	}
	start := -1
	var prev rune
	for i, r := range text {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			if start >= 0 {
				emit(text[start:i])
				start = -1
			}
			prev = 0
			continue
		}
		if start < 0 {
			start = i
			prev = r
			continue
		}
		// camelCase: a lower-case letter or digit followed by an upper-case
		// one starts a word; so does the last capital of an acronym that
		// is followed by a lower-case letter ("HTTPServer": HTTP, Server).
		if unicode.IsUpper(r) && (unicode.IsLower(prev) || unicode.IsDigit(prev)) {
			emit(text[start:i])
			start = i
		} else if unicode.IsLower(r) && unicode.IsUpper(prev) {
			if p := i - utf8.RuneLen(prev); p > start {
				emit(text[start:p])
				start = p
			}
		}
		prev = r
	}
	if start >= 0 {
		emit(text[start:])
	}
	return out
}

func isDigits(s string) bool {
	for _, r := range s {
		if !unicode.IsDigit(r) {
			return false
		}
	}
	return s != ""
}
