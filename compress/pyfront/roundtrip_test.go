package pyfront

import (
	"context"
	"testing"
)

func TestCorpusRoundTrip(t *testing.T) {
	for _, s := range corpus(t) {
		t.Run(s.name, func(t *testing.T) {
			e1 := mustEncode(t, s.src)
			py, err := Decode(e1)
			if err != nil {
				t.Fatalf("decode: %v\n%s", err, e1)
			}
			if err := Check(context.Background(), []byte(py)); err != nil {
				t.Fatalf("decoded Python does not parse: %v\n%s", err, py)
			}
			e2 := mustEncode(t, py)
			if e1 != e2 {
				t.Fatalf("not a fixed point:\n%s\n%s\n%s", e1, e2, py)
			}
			want := run(t, s.src, s.input)
			got := run(t, py, s.input)
			if want.ExitCode != 0 || got.Stdout != want.Stdout || got.ExitCode != want.ExitCode {
				t.Fatalf("outputs differ:\nwant %q (%d) %s\ngot %q (%d) %s\n%s", want.Stdout, want.ExitCode, want.Stderr, got.Stdout, got.ExitCode, got.Stderr, py)
			}
		})
	}
}
