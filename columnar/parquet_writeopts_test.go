package columnar_test

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/encoding/thrift"
	"github.com/parquet-go/parquet-go/format"

	"github.com/atlas-ai/atlas-learn/columnar"
	"github.com/atlas-ai/atlas-learn/internal/pyread"
)

// text returns n bytes of deterministic, word-like text: about as
// compressible as real observations, unlike a repeated string.
func text(seed uint64, n int) string {
	r := rand.New(rand.NewPCG(seed, 7))
	var b strings.Builder
	b.Grow(n + 16)
	for b.Len() < n {
		switch r.IntN(12) {
		case 0:
			b.WriteString("\n")
		case 1:
			fmt.Fprintf(&b, "%d ", r.IntN(100000))
		default:
			w := r.IntN(2000)
			fmt.Fprintf(&b, "w%x%c ", w, 'a'+rune(w%26))
		}
	}
	return b.String()[:n]
}

// bigTrajectory is one trajectory of about size bytes: steps with long
// observations and thoughts, a long solution and a large extra.
func bigTrajectory(id string, size int, seed uint64) columnar.Trajectory {
	t := sample(int(seed))
	t.TrajectoryID = id
	steps := 40
	per := size / (steps + 8)
	t.Steps = make([]columnar.Step, steps)
	for i := range t.Steps {
		t.Steps[i] = columnar.Step{Index: int32(i), Thought: text(seed+uint64(i), per/8), Action: "bash", ActionType: "bash",
			Observation: text(seed+1000+uint64(i), per), Code: text(seed+2000+uint64(i), per/16)}
	}
	t.Solution.Code = text(seed+3000, per)
	x, _ := json.Marshal(map[string]any{"source": map[string]string{"history": text(seed+4000, 6*per)}})
	t.Extra = x
	return t
}

// oneValue is a small trajectory with a single observation of n bytes: the
// case where one value, not a sum of many, exceeds a reader's limits.
func oneValue(id string, n int) columnar.Trajectory {
	t := sample(1)
	t.TrajectoryID = id
	t.Steps = []columnar.Step{{Index: 0, Action: "cat big.log", ActionType: "bash", Observation: text(99, n)}}
	return t
}

func textBytes(rows []columnar.Trajectory) int {
	n := 0
	for _, t := range rows {
		b, _ := json.Marshal(t)
		n += len(b)
	}
	return n
}

// TestLargeValuesReadable writes trajectories whose values are megabytes
// long: the files must stay readable by pyarrow and DuckDB (whole-value
// statistics once put 4 copies of a value in its page header, over
// parquet-cpp's 16 MB limit), hold no copy of the text outside the pages
// (footer and page headers stay small) and read back unchanged. Small rows,
// and rows without extra (once an empty string in a JSON column, which
// DuckDB rejects), must be readable too.
func TestLargeValuesReadable(t *testing.T) {
	cases := []struct {
		name string
		rows []columnar.Trajectory
		opts columnar.WriterOptions
	}{
		{"50 MB trajectory", []columnar.Trajectory{bigTrajectory("big", 50<<20, 1)}, columnar.WriterOptions{}},
		{"20 MB value between two small rows", []columnar.Trajectory{sample(1), oneValue("one-value", 20<<20), sample(2)}, columnar.WriterOptions{}},
		{"rows without extra", func() []columnar.Trajectory {
			a, b := sample(1), sample(2)
			a.Extra, b.Extra = nil, json.RawMessage{}
			return []columnar.Trajectory{a, b}
		}(), columnar.WriterOptions{}},
		{"many small rows", func() []columnar.Trajectory {
			var rows []columnar.Trajectory
			for i := 0; i < 3000; i++ {
				rows = append(rows, sample(i))
			}
			return rows
		}(), columnar.WriterOptions{RowGroupRows: 1000}},
	}
	dir := t.TempDir()
	var files []string
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for j := range tc.rows {
				tc.rows[j].Normalize()
			}
			data := writeParquet(t, tc.rows, tc.opts)
			p := filepath.Join(dir, fmt.Sprintf("case-%d.parquet", i))
			if err := os.WriteFile(p, data, 0o644); err != nil {
				t.Fatal(err)
			}
			files = append(files, p)

			// At most the JSON's size, plus Parquet's fixed metadata.
			in := textBytes(tc.rows)
			if len(data) > in+16<<10 {
				t.Errorf("file is %d bytes for %d bytes of trajectory JSON: values are stored more than once", len(data), in)
			}
			footer := int(binary.LittleEndian.Uint32(data[len(data)-8:]))
			if footer > 64<<10 {
				t.Errorf("footer is %d bytes, want at most 64 KiB", footer)
			}
			h := maxPageHeader(t, data)
			t.Logf("%d bytes of trajectory JSON: %d of Parquet, footer %d, largest page header %d", in, len(data), footer, h)
			if h > 1<<10 {
				t.Errorf("largest page header is %d bytes, want at most 1 KiB", h)
			}
			got, err := readAll[columnar.Trajectory](t, data, p)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.rows) {
				t.Fatalf("read back %d rows that differ from the %d written", len(got), len(tc.rows))
			}
		})
	}
	pyread.Check(t, files...)
}

// maxPageHeader decodes every page header of every column chunk and returns
// the largest header's size in bytes.
func maxPageHeader(t *testing.T, data []byte) int {
	t.Helper()
	f, err := parquet.OpenFile(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	largest := 0
	for _, oi := range f.OffsetIndexes() {
		for _, loc := range oi.PageLocations {
			var h format.PageHeader
			if err := thrift.NewDecoder(new(thrift.CompactProtocol).NewReader(bytes.NewReader(data[loc.Offset:]))).Decode(&h); err != nil {
				t.Fatalf("page header at %d: %v", loc.Offset, err)
			}
			// The page's location spans its header and its bytes.
			size := int(loc.CompressedPageSize) - int(h.CompressedPageSize)
			largest = max(largest, size)
		}
	}
	return largest
}

// TestStatisticsPolicy pins which columns carry min/max statistics: the
// short identifier columns do, the free-text ones do not, page headers never
// do, and column-index bounds are truncated.
func TestStatisticsPolicy(t *testing.T) {
	var rows []columnar.Trajectory
	for i := 0; i < 10; i++ {
		r := sample(i)
		r.Task.Description = strings.Repeat("long description ", 100)
		rows = append(rows, r)
	}
	data := writeParquet(t, rows, columnar.WriterOptions{})
	f, err := parquet.OpenFile(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		column    string
		wantStats bool
	}{
		{"trajectory_id", true},
		{"task.id", true},
		{"task.domain", true},
		{"agent.model", true},
		{"steps.list.element.action_type", true},
		{"outcome.exit_status", true},
		{"solution.language", true},
		{"metadata.key_value.key", true},
		{"steps.list.element.index", true},
		{"outcome.reward", true},
		{"task.description", false},
		{"task.input", false},
		{"steps.list.element.thought", false},
		{"steps.list.element.action", false},
		{"steps.list.element.observation", false},
		{"steps.list.element.code", false},
		{"outcome.error_info", false},
		{"solution.code", false},
		{"metadata.key_value.value", false},
		{"extra", false},
	}
	chunks := map[string]format.ColumnChunk{}
	for _, c := range f.Metadata().RowGroups[0].Columns {
		chunks[strings.Join(c.MetaData.PathInSchema, ".")] = c
	}
	for _, tc := range cases {
		t.Run(tc.column, func(t *testing.T) {
			c, ok := chunks[tc.column]
			if !ok {
				t.Fatalf("no column %s", tc.column)
			}
			st := c.MetaData.Statistics
			if has := st.MinValue != nil || st.MaxValue != nil; has != tc.wantStats {
				t.Fatalf("min/max statistics present = %v, want %v", has, tc.wantStats)
			}
			if st.Min != nil || st.Max != nil {
				t.Fatalf("deprecated min/max statistics written")
			}
		})
	}
	for i, ci := range f.ColumnIndexes() {
		for j := range ci.MinValues {
			if len(ci.MinValues[j]) > 16 || len(ci.MaxValues[j]) > 16 {
				t.Fatalf("column %d page %d: column-index bounds of %d and %d bytes, want at most 16", i, j, len(ci.MinValues[j]), len(ci.MaxValues[j]))
			}
		}
	}
	for _, oi := range f.OffsetIndexes() {
		for _, loc := range oi.PageLocations {
			var h format.PageHeader
			if err := thrift.NewDecoder(new(thrift.CompactProtocol).NewReader(bytes.NewReader(data[loc.Offset:]))).Decode(&h); err != nil {
				t.Fatal(err)
			}
			if s := h.DataPageHeaderV2.V.Statistics; s.MinValue != nil || s.MaxValue != nil || s.Min != nil || s.Max != nil {
				t.Fatalf("page at %d has statistics in its header", loc.Offset)
			}
			if s := h.DataPageHeader.V.Statistics; s.MinValue != nil || s.MaxValue != nil || s.Min != nil || s.Max != nil {
				t.Fatalf("page at %d has statistics in its header", loc.Offset)
			}
		}
	}
}
