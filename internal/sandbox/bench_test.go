package sandbox

import (
	"context"
	"testing"
	"time"
)

// replayProgram is a short program of the kind counterfactual replay runs:
// it reads a JSON input and prints a result.
var replayProgram = Program{
	Code:  "import json, sys\nd = json.load(sys.stdin)\nprint(json.dumps({'total': sum(d['xs']), 'n': len(d['xs'])}))\n",
	Stdin: []byte(`{"xs": [3, 1, 4, 1, 5, 9, 2, 6]}`),
}

// BenchmarkReplay measures one replay of a short program, side by side:
// cold (a Runner starts a sandbox for it: bubblewrap, the interpreter, the
// fork server), warm (a Pool's running sandbox forks a child for it), and
// warm with json preloaded by the fork server.
func BenchmarkReplay(b *testing.B) {
	o := DefaultOptions()
	o.NoSite = true
	warmJSON := o
	warmJSON.Preload = []string{"json"}
	for _, c := range []struct {
		name string
		ex   func(b *testing.B) Executor
	}{
		{"cold", func(*testing.B) Executor { return NewRunner(o) }},
		{"warm", func(b *testing.B) Executor { return benchPool(b, o) }},
		{"warm-preload-json", func(b *testing.B) Executor { return benchPool(b, warmJSON) }},
	} {
		b.Run(c.name, func(b *testing.B) {
			ex := c.ex(b)
			replay(b, ex) // probe the machine, start the sandbox
			b.ResetTimer()
			start := time.Now()
			for range b.N {
				replay(b, ex)
			}
			b.ReportMetric(float64(time.Since(start).Microseconds())/1000/float64(b.N), "ms/replay")
		})
	}
}

func benchPool(b *testing.B, o Options) *Pool {
	p := NewPool(o, 1)
	b.Cleanup(func() { _ = p.Close() })
	return p
}

func replay(b *testing.B, ex Executor) {
	res, err := ex.Run(context.Background(), replayProgram)
	if err != nil || res.Stdout != "{\"total\": 31, \"n\": 8}\n" {
		b.Fatalf("replay: %v %+v", err, res)
	}
}
