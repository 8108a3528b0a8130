package columnar

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
)

// ErrLineTooLong is the cause (errors.Is) of the *RecordError ScanLines
// reports for a line longer than its cap.
var ErrLineTooLong = errors.New("line too long")

// utf8BOM is dropped from the start of the first line.
var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// ScanLines reads r one line at a time and calls fn with each line that is
// not blank and its 1-based line number n; name is the file name that
// errors carry. A line is handed over without its ending ("\n" or "\r\n")
// and without surrounding white space, a UTF-8 byte order mark before the
// first line is dropped, and a last line without a newline is read like
// any other. Blank lines are counted but not passed to fn. The slice fn
// gets is only valid until fn returns.
//
// No more than about maxLine bytes of a line are held in memory (maxLine
// <= 0 means MaxJSONLLine): a line whose content, without its ending, is
// longer than maxLine is a *RecordError naming name and the line, wrapping
// ErrLineTooLong. policy decides what happens to it, as OnError.Handle
// does: under OnErrorSkip onBad (when not nil) gets it, the rest of the
// line is discarded and reading goes on with the next line.
//
// ScanLines checks ctx before every line and returns its error, wrapped,
// when it is done: a cancelled scan never looks like a complete one.
// Errors returned by fn pass through as they are; read errors are wrapped
// with name and the line number.
func ScanLines(ctx context.Context, r io.Reader, name string, maxLine int, policy OnError, onBad func(*RecordError), fn func(line []byte, n int64) error) error {
	if maxLine <= 0 {
		maxLine = MaxJSONLLine
	}
	br := bufio.NewReaderSize(r, min(64<<10, maxLine+2))
	// The buffer holds the line and its ending: maxLine + len("\r\n").
	limit := maxLine + 2
	var buf []byte
	var n int64
	for {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("%s: line %d: %w", name, n+1, err)
		}
		buf = buf[:0]
		tooLong, read := false, false
		var readErr error
		for {
			chunk, err := br.ReadSlice('\n')
			read = read || len(chunk) > 0
			if !tooLong {
				if len(buf)+len(chunk) > limit {
					tooLong, buf = true, buf[:0]
				} else {
					buf = append(buf, chunk...)
				}
			}
			if err == bufio.ErrBufferFull {
				continue
			}
			readErr = err
			break
		}
		if !read {
			if readErr == io.EOF {
				return nil
			}
			if readErr != nil {
				return fmt.Errorf("%s: read line %d: %w", name, n+1, readErr)
			}
		}
		n++
		if !tooLong {
			line := bytes.TrimSuffix(buf, []byte("\n"))
			line = bytes.TrimSuffix(line, []byte("\r"))
			if n == 1 {
				line = bytes.TrimPrefix(line, utf8BOM)
			}
			if len(line) > maxLine {
				tooLong = true
			} else if line = bytes.TrimSpace(line); len(line) > 0 {
				if err := fn(line, n); err != nil {
					return err
				}
			}
		}
		if tooLong {
			re := &RecordError{File: name, Line: n, Row: -1, Err: fmt.Errorf("%w: more than %d bytes", ErrLineTooLong, maxLine)}
			if err := policy.Handle(re, onBad); err != nil {
				return err
			}
		}
		if readErr == io.EOF {
			return nil
		}
		if readErr != nil {
			return fmt.Errorf("%s: read line %d: %w", name, n, readErr)
		}
	}
}
