package patterns

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
)

func TestAddLines(t *testing.T) {
	for _, c := range []struct {
		name string
		in   string
		n    int
	}{
		{"empty input", "", 0},
		{"one line, no newline", "a b", 1},
		{"newline-terminated", "a\nb\n", 2},
		{"empty lines count", "a\n\n\nb", 4},
		{"crlf", "a 1\r\na 2\r\n", 2},
	} {
		t.Run(c.name, func(t *testing.T) {
			m, _ := New(DefaultOptions())
			n, err := m.AddLines(context.Background(), strings.NewReader(c.in))
			if err != nil || n != c.n || m.Len() != c.n {
				t.Errorf("AddLines = %d, %v (len %d), want %d", n, err, m.Len(), c.n)
			}
		})
	}
	m, _ := New(DefaultOptions())
	m.AddLines(context.Background(), strings.NewReader("a 1\r\na 2\r\n"))
	if got := m.Templates(); len(got) != 1 || got[0].Template != "a <*>" {
		t.Errorf("crlf templates %+v", got)
	}
	// a line past MaxLineBytes is cut, and the next line is its own
	long := strings.Repeat("y", MaxLineBytes+100)
	m, _ = New(DefaultOptions())
	n, err := m.AddLines(context.Background(), strings.NewReader(long+"\nnext line\n"))
	if err != nil || n != 2 {
		t.Fatalf("long line: %d, %v", n, err)
	}
	if tm := m.Templates(); len(tm) != 2 || tm[1].Template != "next line" {
		t.Errorf("long line templates %+v", tm)
	}
	// cancelled context
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	m, _ = New(DefaultOptions())
	if _, err := m.AddLines(ctx, strings.NewReader("a\n")); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
	// a failing reader
	m, _ = New(DefaultOptions())
	if _, err := m.AddLines(context.Background(), errReader{}); err == nil || !strings.Contains(err.Error(), "boom") {
		t.Errorf("reader error: %v", err)
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("boom") }

func TestWriteLines(t *testing.T) {
	r, err := Mine([]string{"a 1", "b", "a 2"}, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := r.WriteLines(&b); err != nil {
		t.Fatal(err)
	}
	if want := "1\ta <*>\n2\tb\n1\ta <*>\n"; b.String() != want {
		t.Errorf("WriteLines = %q, want %q", b.String(), want)
	}
}
