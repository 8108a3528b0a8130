package jobs_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go/compress/zstd"

	"github.com/atlas-ai/atlas-learn/columnar"
	"github.com/atlas-ai/atlas-learn/internal/shareddata"
	"github.com/atlas-ai/atlas-learn/jobs"
)

// zstdSize is the size of data compressed by zstd at its default level
// (klauspost's SpeedDefault, about zstd -3), as one frame.
func zstdSize(t *testing.T, data []byte) int64 {
	t.Helper()
	out, err := (&zstd.Codec{Level: zstd.SpeedDefault}).Encode(nil, data)
	if err != nil {
		t.Fatal(err)
	}
	return int64(len(out))
}

// parquetBytes imports files into a new dataset (each file appended to the
// previous ones when appendEach, one import per file) and returns the bytes
// of its Parquet files and their paths.
func parquetBytes(t *testing.T, format string, files []string, cfg jobs.Config, appendEach bool) (int64, []string) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "ds")
	opts := jobs.ImportOptions{Format: format, Output: out, OnError: columnar.OnErrorFail, Parquet: cfg.Parquet}
	batches := [][]string{files}
	if appendEach {
		batches = nil
		for _, f := range files {
			batches = append(batches, []string{f})
		}
		opts.Append = true
	}
	for _, b := range batches {
		opts.Files = b
		if _, err := jobs.Import(context.Background(), opts, quiet()); err != nil {
			t.Fatal(err)
		}
	}
	var n int64
	pq := filesUnder(t, out, ".parquet")
	for _, p := range pq {
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		n += st.Size()
	}
	return n, pq
}

// TestImportSize measures the Parquet of imports of the shared real files
// against the zstd-compressed size of their JSON, at the default zstd
// level and at level 4: all files of a format in one import, one file per
// import appended to one dataset (--append), and one file per import into
// datasets of their own. It logs the table of the README and checks:
//
//   - together and appended one at a time, the Parquet is at most 1.5
//     times the input compressed file by file (each .traj as its own .zst),
//     for every group, and appending one at a time gives the very bytes of
//     importing together;
//   - into datasets of their own, each file's Parquet is at most its input
//     compressed times 2.5 plus Parquet's fixed cost of a one-row file of
//     this schema (footer, page index and page headers: about 4.7 KB); once these files
//     were five times the raw input.
func TestImportSize(t *testing.T) {
	root := filepath.Join(shareddata.Dir(t), "trajectories")
	// maxRatio bounds Parquet over zstd file by file. The small groups
	// meet it because an import's part files are not partitioned by day
	// (one part file, one fixed cost) and extra refers to the columns for
	// the texts it repeats instead of storing them again.
	groups := []struct {
		name, format string
		pattern      []string
		maxRatio     float64
		levels       []int // zstd levels measured (4 is slow: only where it tells most)
	}{
		{"swe-agent", "swe-agent", []string{"swe-agent/*.traj"}, 1.5, []int{3, 4}},
		{"mini-swe-agent", "mini-swe-agent", []string{"mini-swe-agent/*.traj.json", "mini-swe-agent-1.1/*.traj.json"}, 1.5, []int{3}},
		{"openhands", "openhands", []string{"openhands/*.json"}, 1.5, []int{3}},
		{"all (auto)", "auto", []string{"*/*.traj", "*/*.traj.json", "openhands/*.json"}, 1.5, []int{3}},
	}
	fixed := fixedParquetCost(t)
	t.Logf("fixed cost of a one-row Parquet file: %d bytes", fixed)
	t.Logf("| files | zstd level | input bytes | zstd, file by file | zstd, concatenated | Parquet together | ratio | appended one at a time | ratio | own dataset each | ratio |")
	t.Logf("|---|---|---|---|---|---|---|---|---|---|---|")
	for _, g := range groups {
		var files []string
		for _, p := range g.pattern {
			files = append(files, glob(t, filepath.Join(root, p))...)
		}
		var in, zin int64
		var all []byte
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			in += int64(len(b))
			zin += zstdSize(t, b)
			all = append(all, b...)
		}
		zall := zstdSize(t, all)
		for _, level := range g.levels {
			t.Run(fmt.Sprintf("%s/level %d", g.name, level), func(t *testing.T) {
				cfg := config(t, "unused", "unused")
				cfg.Parquet.ZstdLevel = level
				together, tfiles := parquetBytes(t, g.format, files, cfg, false)
				appended, afiles := parquetBytes(t, g.format, files, cfg, true)
				var own int64
				for _, f := range files {
					n, _ := parquetBytes(t, g.format, []string{f}, cfg, false)
					b, _ := os.ReadFile(f)
					if limit := zstdSize(t, b)*5/2 + fixed; n > limit {
						t.Errorf("%s alone: %d bytes of Parquet, want at most %d (2.5 × zstd + %d)", filepath.Base(f), n, limit, fixed)
					}
					own += n
				}
				ratio := func(n int64) string { return fmt.Sprintf("%.2f", float64(n)/float64(zin)) }
				t.Logf("| %s (%d) | %d | %d | %d | %d | %d | %s | %d | %s | %d | %s |", g.name, len(files), level, in, zin, zall, together, ratio(together), appended, ratio(appended), own, ratio(own))
				if r := float64(together) / float64(zin); r > g.maxRatio {
					t.Errorf("together: %d bytes of Parquet, %.2f × %d (zstd of the input), want at most %.1f", together, r, zin, g.maxRatio)
				}
				if r := float64(appended) / float64(zin); r > g.maxRatio {
					t.Errorf("appended one at a time: %d bytes of Parquet, %.2f × %d (zstd of the input), want at most %.1f", appended, r, zin, g.maxRatio)
				}
				if a, b := partFiles(t, afiles), partFiles(t, tfiles); !reflect.DeepEqual(a, b) {
					t.Errorf("appending one at a time gave the part files %v, importing together %v: want the same", a, b)
				}
			})
		}
	}
}

// fixedParquetCost is the size of a one-trajectory Parquet file whose
// texts are all empty: the cost of the schema's footer, page index and
// page headers, paid once per file.
func fixedParquetCost(t *testing.T) int64 {
	t.Helper()
	p := filepath.Join(t.TempDir(), "min.jsonl")
	line := `{"schema_version":1,"trajectory_id":"x","task":{"id":"","description":"","domain":""},"agent":{"name":"","model":""},"steps":[],"outcome":{"success":false,"reward":0},"solution":{},"created_at":"1970-01-01T00:00:00Z"}`
	if err := os.WriteFile(p, []byte(line+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	n, _ := parquetBytes(t, jobs.NativeJSONL, []string{p}, config(t, "unused", "unused"), false)
	return n
}

// partFiles maps each part file's partition directory to the SHA-256 of
// its content: file names differ between outputs (they carry the
// fingerprint), content need not.
func partFiles(t *testing.T, paths []string) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		dir := filepath.Base(filepath.Dir(p))
		if !strings.HasPrefix(dir, "dt=") {
			dir = ""
		}
		out[dir] = append(out[dir], fmt.Sprintf("%x", sha256.Sum256(b)))
	}
	return out
}
