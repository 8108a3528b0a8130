package columnar_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/atlas-ai/atlas-learn/columnar"
	"github.com/atlas-ai/atlas-learn/columnar/storage"
	"github.com/atlas-ai/atlas-learn/internal/pyread"
)

func TestSanitizeJSON(t *testing.T) {
	cases := []struct {
		name, in, want string
		n              int
	}{
		{"clean", `{"a":"héllo \u00e9 \n"}`, `{"a":"héllo \u00e9 \n"}`, 0},
		{"Latin-1 byte", "{\"a\":\"caf\xe9\"}", "{\"a\":\"caf\uFFFD\"}", 1},
		{"each invalid byte", "\"\xff\xfe\"", "\"\uFFFD\uFFFD\"", 2},
		{"truncated sequence", "\"\xe2\x82\"", "\"\uFFFD\uFFFD\"", 2},
		{"overlong NUL", "\"\xc0\x80\"", "\"\uFFFD\uFFFD\"", 2},
		{"UTF-8 encoded surrogate", "\"\xed\xa0\x80\"", "\"\uFFFD\uFFFD\uFFFD\"", 3},
		{"lone high surrogate escape", `"a\ud83dz"`, `"a\ufffdz"`, 1},
		{"lone low surrogate escape", `"\uDE00"`, `"\ufffd"`, 1},
		{"high surrogate at the end", `"\ud83d`, `"\ufffd`, 1},
		{"valid surrogate pair", `"\ud83d\ude00"`, `"\ud83d\ude00"`, 0},
		{"two high surrogates", `"\ud83d\ud83d\ude00"`, `"\ufffd\ud83d\ude00"`, 1},
		{"escaped backslash before u", `"\\ud83d"`, `"\\ud83d"`, 0},
		{"non-surrogate escape", `"\u0041\u20ac"`, `"\u0041\u20ac"`, 0},
		{"bytes and escapes", "{\"k\xff\":\"\\udc00\"}", "{\"k\uFFFD\":\"\\ufffd\"}", 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, n := columnar.SanitizeJSON([]byte(tc.in))
			if string(got) != tc.want || n != tc.n {
				t.Fatalf("SanitizeJSON(%q) = %q, %d; want %q, %d", tc.in, got, n, tc.want, tc.n)
			}
			if !utf8.Valid(got) {
				t.Fatalf("result %q is not UTF-8", got)
			}
			if json.Valid([]byte(tc.in)) && !json.Valid(got) {
				t.Fatalf("valid JSON %q became invalid: %q", tc.in, got)
			}
			// What encoding/json decodes agrees with the sanitized text.
			var a, b any
			if json.Unmarshal([]byte(tc.in), &a) == nil {
				if err := json.Unmarshal(got, &b); err != nil || !reflect.DeepEqual(a, b) {
					t.Fatalf("decodes to %#v, the original to %#v (%v)", b, a, err)
				}
			}
		})
	}
}

// setStrings sets every string reachable in v (struct fields, slice
// elements) to s, and returns how many it set.
func setStrings(v reflect.Value, s string) int {
	switch v.Kind() {
	case reflect.String:
		v.SetString(s)
		return 1
	case reflect.Struct:
		n := 0
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() {
				n += setStrings(v.Field(i), s)
			}
		}
		return n
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return 0 // json.RawMessage: set by the caller
		}
		n := 0
		for i := 0; i < v.Len(); i++ {
			n += setStrings(v.Index(i), s)
		}
		return n
	}
	return 0
}

// badTrajectory is a trajectory with invalid UTF-8 in every string field,
// every metadata key and value and extra; n is the number of invalid bytes.
func badTrajectory() (tr columnar.Trajectory, n int) {
	tr = sample(3)
	n = setStrings(reflect.ValueOf(&tr).Elem(), "caf\xe9")
	tr.Task.Input = "{\"x\":\"\xff\"}"
	tr.Metadata = map[string]string{"k\xff": "v\xfe", "k\uFFFD": "kept", "ok": "\xc3"}
	tr.Extra = json.RawMessage("{\"source\":{\"note\":\"Latin-1: caf\xe9\",\"bad\xff\":\"\\udc00\"}}")
	return tr, n + 3 + 3
}

func TestTrajectorySanitizeUTF8(t *testing.T) {
	tr, want := badTrajectory()
	tr.SchemaVersion = columnar.SchemaVersion
	if got := tr.SanitizeUTF8(); got != want {
		t.Fatalf("SanitizeUTF8 = %d, want %d", got, want)
	}
	var invalid []string
	v := reflect.ValueOf(tr)
	var walk func(path string, v reflect.Value)
	walk = func(path string, v reflect.Value) {
		switch v.Kind() {
		case reflect.String:
			if !utf8.ValidString(v.String()) {
				invalid = append(invalid, path)
			}
		case reflect.Struct:
			for i := 0; i < v.NumField(); i++ {
				walk(path+"."+v.Type().Field(i).Name, v.Field(i))
			}
		case reflect.Slice:
			if v.Type().Elem().Kind() == reflect.Uint8 {
				if !utf8.Valid(v.Bytes()) {
					invalid = append(invalid, path)
				}
				return
			}
			for i := 0; i < v.Len(); i++ {
				walk(path+"[]", v.Index(i))
			}
		case reflect.Map:
			for _, k := range v.MapKeys() {
				walk(path+" key", k)
				walk(path+"["+k.String()+"]", v.MapIndex(k))
			}
		}
	}
	walk("trajectory", v)
	if len(invalid) > 0 {
		t.Fatalf("still invalid after SanitizeUTF8: %s", strings.Join(invalid, ", "))
	}
	if tr.Steps[0].Observation != "caf\uFFFD" {
		t.Fatalf("observation = %q", tr.Steps[0].Observation)
	}
	if tr.Metadata["k\uFFFD"] != "kept" || tr.Metadata["k\uFFFD#2"] != "v\uFFFD" {
		t.Fatalf("colliding metadata keys: %q", tr.Metadata)
	}
	if got := tr.UTF8Replacements(); got != want {
		t.Fatalf("marker %q = %q, want %d", columnar.UTF8ReplacedKey, tr.Metadata[columnar.UTF8ReplacedKey], want)
	}
	if err := tr.Validate(); err != nil {
		t.Fatal(err)
	}
	// Idempotent: nothing more to replace, the marker unchanged.
	if n := tr.SanitizeUTF8(); n != 0 || tr.UTF8Replacements() != want {
		t.Fatalf("second SanitizeUTF8 = %d, marker %d", n, tr.UTF8Replacements())
	}
	// A clean trajectory gets no marker.
	clean := sample(1)
	if n := clean.SanitizeUTF8(); n != 0 {
		t.Fatalf("clean trajectory: %d replacements", n)
	}
	if _, ok := clean.Metadata[columnar.UTF8ReplacedKey]; ok {
		t.Fatal("clean trajectory got a marker")
	}
}

// TestInvalidUTF8WrittenValid writes a trajectory with invalid UTF-8 through
// a sink (Parquet and the JSONL copy): both copies must be UTF-8, the
// Parquet file must pass pyarrow's full validation and DuckDB, and the
// JSONL copy must read back to the same trajectory.
func TestInvalidUTF8WrittenValid(t *testing.T) {
	dir := t.TempDir()
	b, err := storage.Open(context.Background(), dir, storage.S3Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	c, err := columnar.NewCommitter(context.Background(), b, "", columnar.DatasetManifest)
	if err != nil {
		t.Fatal(err)
	}
	sink := columnar.NewSink(c, columnar.SinkOptions[columnar.Trajectory]{JSONL: true})
	bad, want := badTrajectory()
	for _, tr := range []columnar.Trajectory{sample(1), bad} {
		if err := sink.Write(context.Background(), tr); err != nil {
			t.Fatal(err)
		}
	}
	if err := sink.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := c.Commit(context.Background(), &columnar.Manifest{Kind: "dataset"}); err != nil {
		t.Fatal(err)
	}
	pq, _ := filepath.Glob(filepath.Join(dir, "*.parquet"))
	jl, _ := filepath.Glob(filepath.Join(dir, "*.jsonl"))
	if len(pq) != 1 || len(jl) != 1 {
		t.Fatalf("files: %v %v", pq, jl)
	}
	pyread.Check(t, pq...)
	data, err := os.ReadFile(jl[0])
	if err != nil {
		t.Fatal(err)
	}
	if !utf8.Valid(data) {
		t.Fatal("the JSONL copy is not UTF-8")
	}
	var got []columnar.Trajectory
	err = columnar.ReadJSONL(context.Background(), bytes.NewReader(data), "x.jsonl", columnar.OnErrorFail, nil, func(tr *columnar.Trajectory, _ int64) error {
		got = append(got, *tr)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[1].UTF8Replacements() != want {
		t.Fatalf("read back %d records, marker %d (want %d)", len(got), got[1].UTF8Replacements(), want)
	}
	pqData, err := os.ReadFile(pq[0])
	if err != nil {
		t.Fatal(err)
	}
	fromParquet, err := readAll[columnar.Trajectory](t, pqData, pq[0])
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(fromParquet, got) {
		t.Fatal("the Parquet and JSONL copies differ")
	}
}

// TestReadJSONLInvalidUTF8 reads native JSONL with invalid bytes in mapped
// fields and in extra: they are replaced before decoding and counted in the
// record's marker, where the decoder alone would replace the first silently
// and keep the second.
func TestReadJSONLInvalidUTF8(t *testing.T) {
	line := "{\"schema_version\":1,\"trajectory_id\":\"t\xff1\",\"task\":{\"id\":\"x\",\"description\":\"caf\xe9\",\"domain\":\"d\"},\"agent\":{\"name\":\"a\",\"model\":\"m\"},\"steps\":[],\"outcome\":{\"success\":false,\"reward\":0},\"solution\":{},\"created_at\":\"2026-01-01T00:00:00Z\",\"extra\":{\"raw\":\"\xfe\\ud800\"}}\n"
	var got []columnar.Trajectory
	err := columnar.ReadJSONL(context.Background(), strings.NewReader(line+line), "x.jsonl", columnar.OnErrorFail, nil, func(tr *columnar.Trajectory, _ int64) error {
		got = append(got, *tr)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	tr := got[0]
	if tr.TrajectoryID != "t\uFFFD1" || tr.Task.Description != "caf\uFFFD" || string(tr.Extra) != "{\"raw\":\"\uFFFD\\ufffd\"}" {
		t.Fatalf("decoded %q %q %s", tr.TrajectoryID, tr.Task.Description, tr.Extra)
	}
	if tr.UTF8Replacements() != 4 || got[1].UTF8Replacements() != 4 {
		t.Fatalf("markers %d and %d, want 4 each", tr.UTF8Replacements(), got[1].UTF8Replacements())
	}
}
