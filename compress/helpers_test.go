package compress

import (
	"encoding/json"
	"os"
	"testing"
)

func loadPrograms(t testing.TB, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var progs []string
	if err := json.Unmarshal(b, &progs); err != nil {
		t.Fatal(err)
	}
	return progs
}
