package columnar_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/atlas-ai/atlas-learn/columnar"
)

// scanned is one line ScanLines handed over.
type scanned struct {
	N    int64
	Line string
}

func TestScanLines(t *testing.T) {
	const maxLine = 8
	long := strings.Repeat("x", 100) // many times the reader's buffer at this cap
	tests := []struct {
		name    string
		in      string
		policy  columnar.OnError
		want    []scanned
		bad     []int64 // lines reported to onBad
		errLine int64   // > 0: want a *RecordError for this line
	}{
		{name: "empty input", in: ""},
		{name: "normal", in: "a\nbb\nccc\n", want: []scanned{{1, "a"}, {2, "bb"}, {3, "ccc"}}},
		{name: "blank lines are counted, not passed", in: "\na\n\n  \t \nb\n\n",
			want: []scanned{{2, "a"}, {5, "b"}}},
		{name: "only blank lines", in: "\n\n\r\n"},
		{name: "surrounding white space trimmed", in: "  a b \t\n", want: []scanned{{1, "a b"}}},
		{name: "line exactly at cap", in: "12345678\nx\n", want: []scanned{{1, "12345678"}, {2, "x"}}},
		{name: "line exactly at cap with CRLF", in: "12345678\r\nx\r\n", want: []scanned{{1, "12345678"}, {2, "x"}}},
		{name: "line exactly at cap without trailing newline", in: "x\n12345678", want: []scanned{{1, "x"}, {2, "12345678"}}},
		{name: "one over cap, fail", in: "ok\n123456789\nnext\n", policy: columnar.OnErrorFail,
			want: []scanned{{1, "ok"}}, errLine: 2},
		{name: "one over cap, empty policy fails", in: "123456789\nnext\n",
			errLine: 1},
		{name: "one over cap, skip", in: "ok\n123456789\nnext\n", policy: columnar.OnErrorSkip,
			want: []scanned{{1, "ok"}, {3, "next"}}, bad: []int64{2}},
		{name: "one over cap with CRLF, skip", in: "123456789\r\nnext\r\n", policy: columnar.OnErrorSkip,
			want: []scanned{{2, "next"}}, bad: []int64{1}},
		{name: "far over cap, fail", in: "ok\n" + long + "\nnext\n", policy: columnar.OnErrorFail,
			want: []scanned{{1, "ok"}}, errLine: 2},
		{name: "far over cap, skip, reading goes on past it", in: "ok\n" + long + "\nnext\n" + long + "\n" + long + "\nlast",
			policy: columnar.OnErrorSkip, want: []scanned{{1, "ok"}, {3, "next"}, {6, "last"}}, bad: []int64{2, 4, 5}},
		{name: "over cap as last line without newline, skip", in: "ok\n" + long, policy: columnar.OnErrorSkip,
			want: []scanned{{1, "ok"}}, bad: []int64{2}},
		{name: "white space counts towards the cap", in: "   a      \n", policy: columnar.OnErrorSkip, bad: []int64{1}},
		{name: "CRLF", in: "a\r\nb\r\n\r\nc\r\n", want: []scanned{{1, "a"}, {2, "b"}, {4, "c"}}},
		{name: "no trailing newline", in: "a\nb", want: []scanned{{1, "a"}, {2, "b"}}},
		{name: "CRLF without trailing newline", in: "a\r\nb\r", want: []scanned{{1, "a"}, {2, "b"}}},
		{name: "byte order mark", in: "\xef\xbb\xbfa\n\xef\xbb\xbfb\n", want: []scanned{{1, "a"}, {2, "\xef\xbb\xbfb"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// A one-byte reader makes every read short, as a network
			// stream may.
			readers := map[string]func() io.Reader{
				"whole":    func() io.Reader { return strings.NewReader(tc.in) },
				"one byte": func() io.Reader { return iotest.OneByteReader(strings.NewReader(tc.in)) },
			}
			for _, mode := range []string{"whole", "one byte"} {
				t.Run(mode, func(t *testing.T) {
					var got []scanned
					var bad []int64
					err := columnar.ScanLines(context.Background(), readers[mode](), "f.jsonl", maxLine, tc.policy,
						func(re *columnar.RecordError) {
							if re.File != "f.jsonl" || re.Row != -1 || !errors.Is(re, columnar.ErrLineTooLong) {
								t.Errorf("onBad got %#v", re)
							}
							bad = append(bad, re.Line)
						},
						func(line []byte, n int64) error {
							got = append(got, scanned{n, string(line)})
							return nil
						})
					if tc.errLine > 0 {
						var re *columnar.RecordError
						if !errors.As(err, &re) {
							t.Fatalf("error %v (%T), want a *RecordError", err, err)
						}
						if re.File != "f.jsonl" || re.Line != tc.errLine || !errors.Is(err, columnar.ErrLineTooLong) {
							t.Errorf("error %#v, want f.jsonl line %d, too long", re, tc.errLine)
						}
						if want := fmt.Sprintf("f.jsonl: line %d: line too long: more than %d bytes", tc.errLine, maxLine); err.Error() != want {
							t.Errorf("error = %q, want %q", err, want)
						}
					} else if err != nil {
						t.Fatalf("error %v", err)
					}
					if !reflect.DeepEqual(got, tc.want) {
						t.Errorf("lines = %v, want %v", got, tc.want)
					}
					if !reflect.DeepEqual(bad, tc.bad) {
						t.Errorf("bad lines = %v, want %v", bad, tc.bad)
					}
				})
			}
		})
	}
}

func TestScanLinesDefaultCap(t *testing.T) {
	// A line far longer than the reader's buffer but under MaxJSONLLine.
	big := strings.Repeat("y", 3<<20)
	var got []int
	err := columnar.ScanLines(context.Background(), strings.NewReader(big+"\n"+big), "f", 0, columnar.OnErrorFail, nil, func(line []byte, n int64) error {
		if string(line) != big {
			t.Errorf("line %d differs", n)
		}
		got = append(got, len(line))
		return nil
	})
	if err != nil || len(got) != 2 {
		t.Fatalf("err %v, lines %v", err, got)
	}
}

func TestScanLinesStops(t *testing.T) {
	noLine := func(line []byte, n int64) error {
		t.Errorf("line %d passed after the scan should have stopped", n)
		return nil
	}

	t.Run("cancelled context", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		err := columnar.ScanLines(ctx, strings.NewReader("a\nb\n"), "f", 8, columnar.OnErrorSkip, nil, noLine)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("error %v, want context.Canceled", err)
		}
		if !strings.HasPrefix(err.Error(), "f: line 1: ") {
			t.Errorf("error %q does not name the file and line", err)
		}
	})

	t.Run("context cancelled while scanning", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		var got []int64
		err := columnar.ScanLines(ctx, strings.NewReader("a\nb\nc\n"), "f", 8, columnar.OnErrorFail, nil, func(_ []byte, n int64) error {
			got = append(got, n)
			cancel()
			return nil
		})
		if !errors.Is(err, context.Canceled) || !reflect.DeepEqual(got, []int64{1}) {
			t.Fatalf("err %v, lines %v; want context.Canceled after line 1", err, got)
		}
	})

	t.Run("cancelled context on empty input", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if err := columnar.ScanLines(ctx, strings.NewReader(""), "f", 8, columnar.OnErrorFail, nil, noLine); !errors.Is(err, context.Canceled) {
			t.Fatalf("error %v, want context.Canceled", err)
		}
	})

	t.Run("callback error passes through", func(t *testing.T) {
		sentinel := errors.New("disk full")
		n := 0
		err := columnar.ScanLines(context.Background(), strings.NewReader("a\nb\n"), "f", 8, columnar.OnErrorSkip, nil, func([]byte, int64) error {
			n++
			return sentinel
		})
		if err != sentinel || n != 1 {
			t.Fatalf("err %v after %d lines, want the callback's error itself after 1", err, n)
		}
	})

	t.Run("read error", func(t *testing.T) {
		broken := errors.New("connection reset")
		r := io.MultiReader(strings.NewReader("a\nb"), iotest.ErrReader(broken))
		var got []string
		err := columnar.ScanLines(context.Background(), r, "f", 8, columnar.OnErrorFail, nil, func(line []byte, _ int64) error {
			got = append(got, string(line))
			return nil
		})
		if !errors.Is(err, broken) || !strings.HasPrefix(err.Error(), "f: read line 2: ") {
			t.Fatalf("error %v, want the read error naming f line 2", err)
		}
		var re *columnar.RecordError
		if errors.As(err, &re) {
			t.Errorf("a read error is not a bad record: %v", err)
		}
		if !reflect.DeepEqual(got, []string{"a", "b"}) {
			t.Errorf("lines = %q, want a and the partial b", got)
		}
	})
}

func TestOnErrorHandle(t *testing.T) {
	re := &columnar.RecordError{File: "f", Line: 3, Row: -1, Err: errors.New("bad")}
	for _, tc := range []struct {
		policy columnar.OnError
		want   error
		calls  int
	}{
		{columnar.OnErrorFail, re, 0},
		{"", re, 0},
		{columnar.OnErrorSkip, nil, 1},
	} {
		calls := 0
		err := tc.policy.Handle(re, func(got *columnar.RecordError) {
			calls++
			if got != re {
				t.Errorf("%q: onBad got %v", tc.policy, got)
			}
		})
		if err != tc.want || calls != tc.calls {
			t.Errorf("%q: Handle = %v with %d calls, want %v with %d", tc.policy, err, calls, tc.want, tc.calls)
		}
	}
	if err := columnar.OnErrorSkip.Handle(re, nil); err != nil {
		t.Errorf("skip with nil onBad: %v", err)
	}
}

func TestRecordErrorMessage(t *testing.T) {
	cause := errors.New("expected a list, got string")
	for _, tc := range []struct {
		re   columnar.RecordError
		want string
	}{
		{columnar.RecordError{File: "c.jsonl", Line: 7, Row: -1, Field: "messages", Err: cause}, "c.jsonl: line 7: field messages: expected a list, got string"},
		{columnar.RecordError{File: "c.jsonl", Line: 7, Row: -1, Err: cause}, "c.jsonl: line 7: expected a list, got string"},
		{columnar.RecordError{File: "p.parquet", Row: 0, Err: cause}, "p.parquet: row 0: expected a list, got string"},
		{columnar.RecordError{File: "p.parquet", Row: 12, Field: "steps", Err: cause}, "p.parquet: row 12: field steps: expected a list, got string"},
		{columnar.RecordError{File: "a.traj", Row: -1, Field: "info", Err: cause}, "a.traj: field info: expected a list, got string"},
		{columnar.RecordError{File: "a.traj", Row: -1, Err: cause}, "a.traj: expected a list, got string"},
	} {
		if got := tc.re.Error(); got != tc.want {
			t.Errorf("Error() = %q, want %q", got, tc.want)
		}
		if !errors.Is(&tc.re, cause) {
			t.Errorf("%q does not wrap its cause", tc.want)
		}
	}
}
