package pyread

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/parquet-go/parquet-go"
)

// recorder is a testing.TB that records failures instead of failing, so
// that Check's verdict on a bad file can itself be tested.
type recorder struct {
	testing.TB
	mu     sync.Mutex
	failed bool
	msgs   []string
}

func (r *recorder) Helper() {}

func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failed = true
	r.msgs = append(r.msgs, fmt.Sprintf(format, args...))
}

func (r *recorder) Fatalf(format string, args ...any) {
	r.Errorf(format, args...)
	runtime.Goexit()
}

// checkRecorded runs Check on a recorder and returns what it reported.
func checkRecorded(t *testing.T, files ...string) (bool, string) {
	r := &recorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		Check(r, files...)
	}()
	<-done
	return r.failed, strings.Join(r.msgs, "\n")
}

type row struct {
	ID   string `parquet:"id"`
	Text string `parquet:"text"`
	Doc  string `parquet:"doc,json"`
}

func writeRows(t *testing.T, name string, rows []row) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	w := parquet.NewGenericWriter[row](f)
	if _, err := w.Write(rows); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestCheck(t *testing.T) {
	good := writeRows(t, "good.parquet", []row{{"a", "héllo", `{"k":1}`}, {"b", "", `null`}})
	garbage := filepath.Join(t.TempDir(), "garbage.parquet")
	if err := os.WriteFile(garbage, []byte("PAR1 this is not a parquet file PAR1"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		file string
		// want is a substring of the failure; "" means Check passes.
		want string
	}{
		{"valid", good, ""},
		{"invalid UTF-8", writeRows(t, "latin1.parquet", []row{{"a", "caf\xe9", `{}`}}), "UTF"},
		{"JSON column not JSON", writeRows(t, "json.parquet", []row{{"a", "x", `{not json`}}), "pyarrow: json.decoder.JSONDecodeError"},
		{"not Parquet", garbage, "rejected by pyarrow"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			failed, msg := checkRecorded(t, tc.file)
			switch {
			case tc.want == "" && failed:
				t.Fatalf("Check failed on a valid file:\n%s", msg)
			case tc.want != "" && !failed:
				t.Fatalf("Check passed a file it must reject")
			case tc.want != "" && !strings.Contains(msg, tc.want):
				t.Fatalf("Check's failure does not mention %q:\n%s", tc.want, msg)
			}
		})
	}
	// Several files in one call: each is judged on its own.
	failed, msg := checkRecorded(t, good, garbage)
	if !failed || strings.Contains(msg, "good.parquet") || !strings.Contains(msg, "garbage.parquet") {
		t.Fatalf("mixed call: failed=%v\n%s", failed, msg)
	}
}

func TestCheckFailsWithoutPython(t *testing.T) {
	// A fresh setup with no interpreter must fail the test, not skip it.
	t.Setenv("ATLAS_PYREAD_PYTHON", filepath.Join(t.TempDir(), "no-such-python"))
	if _, err := setup(); err == nil || !strings.Contains(err.Error(), "no Python interpreter") {
		t.Fatalf("setup without Python: %v", err)
	}
}
