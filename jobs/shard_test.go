package jobs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/atlas-ai/atlas-learn/columnar"
	"github.com/atlas-ai/atlas-learn/internal/trajgen"
)

func TestParseShard(t *testing.T) {
	tests := []struct {
		in      string
		want    Shard
		wantErr string
	}{
		{"0/1", Shard{0, 1}, ""},
		{"3/4", Shard{3, 4}, ""},
		{" 2 / 8 ", Shard{2, 8}, ""},
		{"4/4", Shard{}, "index must be 0..3"},
		{"-1/4", Shard{}, "index must be 0..3"},
		{"0/0", Shard{}, "count must be 1.."},
		{"1", Shard{}, "want i/N"},
		{"a/b", Shard{}, "want i/N"},
		{"0/10001", Shard{}, "count must be 1.."},
	}
	for _, tt := range tests {
		got, err := ParseShard(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseShard(%q) = %v, %v; want an error with %q", tt.in, got, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseShard(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}

// Every file is in exactly one shard, shards are contiguous runs of the
// listing, and their bytes are balanced.
func TestShardFiles(t *testing.T) {
	sized := func(sizes ...int64) []columnar.SourceFile {
		out := make([]columnar.SourceFile, len(sizes))
		for i, s := range sizes {
			out[i] = columnar.SourceFile{Rel: fmt.Sprintf("f%02d", i), Size: s}
		}
		return out
	}
	even := make([]int64, 40)
	for i := range even {
		even[i] = 1000
	}
	tests := []struct {
		name  string
		files []columnar.SourceFile
		n     int
		// maxShare bounds a shard's share of the bytes (0: not checked).
		maxShare float64
	}{
		{"even", sized(even...), 4, 0.25},
		{"one shard", sized(even...), 1, 1},
		{"more shards than files", sized(5, 5, 5), 8, 0},
		{"skewed", sized(100, 1, 1, 1, 1, 100, 1, 1, 1, 1), 2, 0.6},
		{"empty files", sized(0, 0, 0, 0, 0), 2, 0},
		{"an empty file last", sized(10, 0), 2, 0},
		{"empty files last", sized(10, 10, 10, 0, 0), 3, 0},
		{"no files", nil, 3, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var total int64
			for _, f := range tt.files {
				total += f.Size
			}
			var all []string
			for i := range tt.n {
				part := shardFiles(tt.files, Shard{Index: i, Count: tt.n})
				var bytes int64
				for _, f := range part {
					all = append(all, f.Rel)
					bytes += f.Size
				}
				if tt.maxShare > 0 && float64(bytes) > tt.maxShare*float64(total)+1e-9 {
					t.Errorf("shard %d holds %d of %d bytes", i, bytes, total)
				}
			}
			if len(all) != len(tt.files) {
				t.Fatalf("%d files in the shards, %d listed", len(all), len(tt.files))
			}
			for i, f := range tt.files {
				// Concatenated in shard order, the shards are the listing.
				if all[i] != f.Rel {
					t.Fatalf("position %d: %s, want %s", i, all[i], f.Rel)
				}
			}
		})
	}
}

func shardTestInput(t *testing.T, in string, seed int64) string {
	t.Helper()
	ctx := context.Background()
	opts := GenOptions{Gen: trajgen.DefaultConfig(), Output: in, Parquet: ParquetConfig{RowsPerFile: 50}}
	opts.Gen.N, opts.Gen.Seed = 300, seed
	if _, err := Gen(ctx, opts, slog.New(slog.NewTextHandler(io.Discard, nil))); err != nil {
		t.Fatal(err)
	}
	return in
}

// The reduce step refuses shards that are missing, of another listing or
// not shards, naming them; the map and reduce flags do not mix.
func TestReduceRefuses(t *testing.T) {
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	in := shardTestInput(t, t.TempDir(), 4)
	out := t.TempDir()
	cfg, err := LoadConfig("", func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	cfg.Input, cfg.Output, cfg.Workers = in, out, 1

	if _, err := RunWithOptions(ctx, cfg, log, RunOptions{Shard: Shard{0, 2}}); err != nil {
		t.Fatal(err)
	}
	_, err = RunWithOptions(ctx, cfg, log, RunOptions{Reduce: 2})
	var missing *ShardsMissingError
	if !errors.As(err, &missing) || len(missing.Missing) != 1 || missing.Missing[0] != (Shard{1, 2}) || !strings.Contains(err.Error(), "1-of-2") {
		t.Fatalf("reduce with shard 1 missing: %v", err)
	}
	// Nothing was committed, and the input is still new.
	if _, err := os.Stat(filepath.Join(out, "memory", "CURRENT")); !os.IsNotExist(err) {
		t.Fatalf("memory after a failed reduce: %v", err)
	}
	res, err := RunWithOptions(ctx, cfg, log, RunOptions{Shard: Shard{1, 2}})
	if err != nil {
		t.Fatal(err)
	}
	// A shard directory holding another shard's manifest.
	wrong := filepath.Join(out, res.RunDir, columnar.RunManifest)
	data, _ := os.ReadFile(wrong)
	os.WriteFile(wrong, []byte(strings.Replace(string(data), `"index": 1`, `"index": 0`, 1)), 0o644)
	if _, err := RunWithOptions(ctx, cfg, log, RunOptions{Reduce: 2}); err == nil || !strings.Contains(err.Error(), "the manifest says shard 0/2") {
		t.Fatalf("reduce over a misplaced shard manifest: %v", err)
	}
	os.WriteFile(wrong, data, 0o644)

	// The input changes after the map step: another run id, whose shards
	// were never written; the error points at the shards that exist.
	shardTestInput(t, in, 5)
	_, err = RunWithOptions(ctx, cfg, log, RunOptions{Reduce: 2})
	if !errors.As(err, &missing) || len(missing.Missing) != 2 || len(missing.Elsewhere) != 1 || !strings.Contains(err.Error(), "changed since the map step") {
		t.Fatalf("reduce after the input changed: %v", err)
	}

	for _, ro := range []RunOptions{{Shard: Shard{0, 2}, Reduce: 2}, {Shard: Shard{2, 2}}, {Reduce: -1}, {Wait: 1}} {
		if _, err := RunWithOptions(ctx, cfg, log, ro); !errors.As(err, new(*ConfigError)) {
			t.Errorf("options %+v: %v, want a configuration error", ro, err)
		}
	}
}

// The last after-commit functions (the memory's CURRENT) run only when
// every other one succeeded: a run whose fine-tune state could not be
// written is not marked done.
func TestAfterCommitLast(t *testing.T) {
	tests := []struct {
		name     string
		failures []bool
		wantLast bool
	}{
		{"all succeed", []bool{false, false}, true},
		{"one fails", []bool{false, true}, false},
		{"none", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &runHooks{}
			var order []string
			for i, fail := range tt.failures {
				h.afterCommit = append(h.afterCommit, func(context.Context) error {
					order = append(order, fmt.Sprint(i))
					if fail {
						return errors.New("state not written")
					}
					return nil
				})
			}
			h.last = append(h.last, func(context.Context) error { order = append(order, "last"); return nil })
			err := h.run(context.Background())
			ranLast := len(order) > 0 && order[len(order)-1] == "last"
			if ranLast != tt.wantLast || (err == nil) != tt.wantLast || len(order) != len(tt.failures)+map[bool]int{true: 1}[tt.wantLast] {
				t.Fatalf("ran %v, err %v", order, err)
			}
			if !tt.wantLast && !strings.Contains(err.Error(), "did not advance") {
				t.Fatalf("err %v", err)
			}
		})
	}
}

// Files that arrive between the map's processes do not split the run:
// a shard that starts later, and the reduce, pin themselves to the
// listing of the shard set under way; the new files go to the next run.
func TestShardsPinTheirListing(t *testing.T) {
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	in := t.TempDir()
	shardTestInput(t, filepath.Join(in, "a"), 4)
	out := t.TempDir()
	cfg, err := LoadConfig("", func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	cfg.Input, cfg.Output, cfg.Workers = in, out, 1
	first, err := RunWithOptions(ctx, cfg, log, RunOptions{Shard: Shard{0, 2}})
	if err != nil {
		t.Fatal(err)
	}
	shardTestInput(t, filepath.Join(in, "b"), 5) // arrives before shard 1 starts
	second, err := RunWithOptions(ctx, cfg, log, RunOptions{Shard: Shard{1, 2}})
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Dir(first.RunDir) != filepath.Dir(second.RunDir) {
		t.Fatalf("shard 1 went to %s, shard 0 is in %s", second.RunDir, first.RunDir)
	}
	res, err := RunWithOptions(ctx, cfg, log, RunOptions{Reduce: 2})
	if err != nil {
		t.Fatal(err)
	}
	if res.Manifest.Counters["rows_read"] != 300 {
		t.Fatalf("the reduce read %d rows, want the 300 of the pinned listing", res.Manifest.Counters["rows_read"])
	}
	for _, f := range res.Manifest.Inputs {
		if !strings.HasPrefix(f.Path, "a/") {
			t.Fatalf("the pinned run read %s", f.Path)
		}
	}
	// The next run reads the files that arrived, and only them.
	next, err := Run(ctx, cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	if next.Manifest.Counters["rows_read"] != 300 || next.RunDir == res.RunDir {
		t.Fatalf("next run: %d rows in %s", next.Manifest.Counters["rows_read"], next.RunDir)
	}
	for _, f := range next.Manifest.Inputs {
		if !strings.HasPrefix(f.Path, "b/") {
			t.Fatalf("the next run read %s again", f.Path)
		}
	}
}
