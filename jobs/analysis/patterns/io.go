package patterns

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
)

// MaxLineBytes is the longest line AddLines reads as a message; the rest
// of a longer line is skipped (a message is cut to MaxTokens tokens
// anyway).
const MaxLineBytes = 1 << 20

// AddLines adds each line of r as a message (lines end at "\n"; a final
// "\r" is dropped; an empty line is an empty message) and returns how
// many it added. It stops when ctx is done.
func (m *Miner) AddLines(ctx context.Context, r io.Reader) (int, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	n := 0
	var line []byte
	for {
		if n%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return n, fmt.Errorf("line %d: %w", n+1, err)
			}
		}
		chunk, err := br.ReadSlice('\n')
		if len(line)+len(chunk) <= MaxLineBytes {
			line = append(line, chunk...)
		} else if len(line) < MaxLineBytes {
			line = append(line, chunk[:MaxLineBytes-len(line)]...)
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return n, fmt.Errorf("line %d: %w", n+1, err)
		}
		if len(line) > 0 || err == nil {
			s := line
			if len(s) > 0 && s[len(s)-1] == '\n' {
				s = s[:len(s)-1]
			}
			if len(s) > 0 && s[len(s)-1] == '\r' {
				s = s[:len(s)-1]
			}
			m.Add(string(s))
			n++
		}
		line = line[:0]
		if err != nil {
			return n, nil
		}
	}
}

// WriteLines writes one line per message, in order:
// "<template_id>\t<template>\n".
func (r Result) WriteLines(w io.Writer) error {
	bw := bufio.NewWriter(w)
	for _, id := range r.Assignments {
		t := r.Templates[id-1]
		fmt.Fprintf(bw, "%d\t%s\n", t.ID, t.Template)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write templates: %w", err)
	}
	return nil
}
