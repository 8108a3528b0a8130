// Package pyread is a test helper that reads Parquet files with the readers
// users reach for, pyarrow and DuckDB, and fails the test when either
// rejects a file. It catches what a round trip through parquet-go cannot: a
// page header over parquet-cpp's limits, strings that are not UTF-8, a JSON
// column that does not hold JSON.
//
// The readers run in a Python virtual environment with pinned versions of
// pyarrow and DuckDB from PyPI, created once and cached under
// $HOME/.cache/atlas-learn/venv-pyread/<key>, where the key hashes the pinned
// requirements and the base interpreter's version. The base interpreter is
// $ATLAS_PYREAD_PYTHON, else python3 on PATH. When the environment cannot be
// created the test fails: it is never skipped.
package pyread

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// requirements pins the readers. Changing it makes a new environment.
const requirements = "pyarrow==26.0.1\nduckdb==2.0.1\n"

// checkScript reads each file given on its command line with pyarrow and
// DuckDB and prints one JSON result per file.
//
//go:embed check.py
var checkScript string

// installTimeout bounds creating the environment (a download of about
// 100 MB the first time).
const installTimeout = 15 * time.Minute

// checkTimeout bounds one Check call.
const checkTimeout = 5 * time.Minute

var (
	envOnce   sync.Once
	envPython string
	envErr    error
)

// result is what check.py prints for one file.
type result struct {
	File        string   `json:"file"`
	PyarrowRows *int64   `json:"pyarrow_rows"`
	DuckDBCount *int64   `json:"duckdb_count"`
	DuckDBRows  *int64   `json:"duckdb_rows"`
	Errors      []string `json:"errors"`
}

// Check reads each Parquet file with pyarrow (pq.read_table, then
// Table.validate(full=True), every column decoded to Python values and every
// value of a top-level JSON column parsed) and with DuckDB (SELECT count(*)
// FROM read_parquet(f), then every row of every column), and fails t with the
// reader's error when either rejects a file or they disagree on its row
// count. It fails t at once when the readers cannot be set up.
func Check(t testing.TB, files ...string) {
	t.Helper()
	if len(files) == 0 {
		t.Fatalf("pyread.Check: no files given")
		return
	}
	py, err := python()
	if err != nil {
		t.Fatalf("pyread: cannot set up the Python readers (pyarrow, DuckDB); the test needs them: %v", err)
		return
	}
	abs := make([]string, len(files))
	for i, f := range files {
		if abs[i], err = filepath.Abs(f); err != nil {
			t.Fatalf("pyread: %v", err)
			return
		}
	}
	results, err := run(py, abs)
	if err != nil {
		t.Fatalf("pyread: %v", err)
		return
	}
	for i, f := range files {
		r, ok := results[abs[i]]
		if !ok {
			t.Errorf("pyread: %s: no result from the readers", f)
			continue
		}
		for _, e := range r.Errors {
			t.Errorf("pyread: %s is rejected by %s", f, e)
		}
		if len(r.Errors) > 0 {
			continue
		}
		if r.PyarrowRows == nil || r.DuckDBCount == nil || r.DuckDBRows == nil {
			t.Errorf("pyread: %s: incomplete result %+v", f, r)
			continue
		}
		if *r.PyarrowRows != *r.DuckDBCount || *r.DuckDBRows != *r.DuckDBCount {
			t.Errorf("pyread: %s: row counts disagree: pyarrow read %d, DuckDB counted %d and read %d", f, *r.PyarrowRows, *r.DuckDBCount, *r.DuckDBRows)
		}
	}
}

// run runs check.py on files and returns its results by file.
func run(python string, files []string) (map[string]result, error) {
	ctx, cancel := context.WithTimeout(context.Background(), checkTimeout)
	defer cancel()
	args := append([]string{"-I", "-"}, files...)
	cmd := exec.CommandContext(ctx, python, args...)
	cmd.Stdin = strings.NewReader(checkScript)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("the reader script failed: %w\n%s", err, tail(stderr.String()))
	}
	out := map[string]result{}
	sc := bufio.NewScanner(&stdout)
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	for sc.Scan() {
		var r result
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			return nil, fmt.Errorf("the reader script printed %q: %w\n%s", sc.Text(), err, tail(stderr.String()))
		}
		out[r.File] = r
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading the reader script's output: %w", err)
	}
	return out, nil
}

// python returns the interpreter of the readers' virtual environment,
// creating the environment the first time (in this process, and on this
// machine: later processes reuse the cached one).
func python() (string, error) {
	envOnce.Do(func() { envPython, envErr = setup() })
	return envPython, envErr
}

// setup finds or creates the virtual environment. Concurrent test
// processes may both build one; each builds in a directory of its own and
// the first to rename it into place wins.
func setup() (string, error) {
	base := os.Getenv("ATLAS_PYREAD_PYTHON")
	if base == "" {
		base = "python3"
	}
	basePath, err := exec.LookPath(base)
	if err != nil {
		return "", fmt.Errorf("no Python interpreter %q (set ATLAS_PYREAD_PYTHON): %w", base, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), installTimeout)
	defer cancel()
	version, err := command(ctx, basePath, "-I", "-c", "import sys; print(sys.version)")
	if err != nil {
		return "", fmt.Errorf("%s does not run: %w", basePath, err)
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("no cache directory: %w", err)
	}
	root := filepath.Join(cache, "atlas-learn", "venv-pyread")
	sum := sha256.Sum256([]byte(requirements + "\x00" + strings.TrimSpace(version)))
	dir := filepath.Join(root, hex.EncodeToString(sum[:8]))
	python := filepath.Join(dir, "bin", "python")
	if _, err := os.Stat(filepath.Join(dir, "requirements.txt")); err == nil {
		return python, nil
	}
	if err := os.MkdirAll(root, 0o755); err != nil {
		return "", fmt.Errorf("cache directory: %w", err)
	}
	tmp, err := os.MkdirTemp(root, filepath.Base(dir)+".tmp-")
	if err != nil {
		return "", fmt.Errorf("cache directory: %w", err)
	}
	defer os.RemoveAll(tmp) // gone after the rename; removed on failure
	fmt.Fprintf(os.Stderr, "pyread: installing %s into %s (once)\n", strings.ReplaceAll(strings.TrimSpace(requirements), "\n", ", "), dir)
	if _, err := command(ctx, basePath, "-I", "-m", "venv", tmp); err != nil {
		return "", fmt.Errorf("create a virtual environment: %w", err)
	}
	req := filepath.Join(tmp, "requirements.in")
	if err := os.WriteFile(req, []byte(requirements), 0o644); err != nil {
		return "", err
	}
	tmpPython := filepath.Join(tmp, "bin", "python")
	if _, err := command(ctx, tmpPython, "-I", "-m", "pip", "install", "--disable-pip-version-check", "--no-input", "-q", "-r", req); err != nil {
		return "", fmt.Errorf("install %s from PyPI: %w", strings.ReplaceAll(strings.TrimSpace(requirements), "\n", " "), err)
	}
	if _, err := command(ctx, tmpPython, "-I", "-c", "import pyarrow.parquet, duckdb"); err != nil {
		return "", fmt.Errorf("the installed readers do not import: %w", err)
	}
	// requirements.txt marks a complete environment: it is written last,
	// and the directory only appears under its final name complete.
	if err := os.WriteFile(filepath.Join(tmp, "requirements.txt"), []byte(requirements), 0o644); err != nil {
		return "", err
	}
	if err := os.Rename(tmp, dir); err != nil {
		if _, serr := os.Stat(filepath.Join(dir, "requirements.txt")); serr == nil {
			return python, nil // another process got there first
		}
		return "", fmt.Errorf("move the environment into place: %w", err)
	}
	return python, nil
}

// command runs name with args and returns its standard output; an error
// carries the end of its combined output.
func command(ctx context.Context, name string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			err = fmt.Errorf("%w (timed out)", err)
		}
		return "", fmt.Errorf("%s %s: %w\n%s", name, strings.Join(args, " "), err, tail(stdout.String()+stderr.String()))
	}
	return stdout.String(), nil
}

// tail is the end of a command's output, enough to show its error.
func tail(s string) string {
	const max = 4000
	s = strings.TrimSpace(s)
	if len(s) > max {
		s = "..." + s[len(s)-max:]
	}
	return s
}

// datasetsScript reads whole datasets; see ReadDatasets.
//
//go:embed datasets.py
var datasetsScript string

// Dataset is one dataset to read: its files ("parquet" or "jsonl").
type Dataset struct {
	Name   string   `json:"name"`
	Format string   `json:"format"`
	Files  []string `json:"files"`
}

// DatasetResult is what the readers found in one dataset.
type DatasetResult struct {
	Name string `json:"name"`
	// PyarrowRows and DuckDBRows are the rows each found over all files.
	PyarrowRows int64 `json:"pyarrow_rows"`
	DuckDBRows  int64 `json:"duckdb_rows"`
	// Columns are the top-level columns pyarrow found, in file order.
	Columns []string `json:"columns"`
	Errors  []string `json:"errors"`
}

// ReadDatasets reads each dataset with pyarrow (Parquet with
// pq.read_table, JSONL with pyarrow.json, every table validated in full)
// and DuckDB (read_parquet over all the files, read_json per file), and
// returns what they found, by name; a reader that rejects a dataset fails
// t. It fails t at once when the readers cannot be set up.
func ReadDatasets(t testing.TB, datasets []Dataset) map[string]DatasetResult {
	t.Helper()
	py, err := python()
	if err != nil {
		t.Fatalf("pyread: cannot set up the Python readers (pyarrow, DuckDB); the test needs them: %v", err)
		return nil
	}
	spec, err := json.Marshal(datasets)
	if err != nil {
		t.Fatalf("pyread: %v", err)
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), checkTimeout)
	defer cancel()
	script := filepath.Join(t.TempDir(), "datasets.py")
	if err := os.WriteFile(script, []byte(datasetsScript), 0o644); err != nil {
		t.Fatalf("pyread: %v", err)
		return nil
	}
	cmd := exec.CommandContext(ctx, py, "-I", script)
	cmd.Stdin = bytes.NewReader(spec)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("pyread: the dataset reader failed: %v\n%s", err, tail(stderr.String()))
		return nil
	}
	out := map[string]DatasetResult{}
	sc := bufio.NewScanner(&stdout)
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	for sc.Scan() {
		var r DatasetResult
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("pyread: the dataset reader printed %q: %v", sc.Text(), err)
			return nil
		}
		for _, e := range r.Errors {
			t.Errorf("pyread: dataset %s is rejected by %s", r.Name, e)
		}
		out[r.Name] = r
	}
	for _, d := range datasets {
		if _, ok := out[d.Name]; !ok {
			t.Errorf("pyread: dataset %s: no result from the readers", d.Name)
		}
	}
	return out
}
