package importer

import (
	"strings"
	"testing"

	"github.com/atlas-ai/atlas-learn/columnar"
)

// TestJSONDocument covers OpenAI-chat input that is a JSON document rather
// than JSON lines: a pretty-printed record, an array of records, several
// pretty-printed records; and what a broken one says.
func TestJSONDocument(t *testing.T) {
	rec := func(id string) string {
		return "{\n  \"id\": \"" + id + "\",\n  \"messages\": [\n    {\"role\": \"user\", \"content\": \"hi\"}\n  ]\n}"
	}
	tests := []struct {
		name    string
		src     string
		onError columnar.OnError
		ids     []string
		wantErr string
		skipped int
	}{
		{"pretty object", rec("a") + "\n", "", []string{"a"}, "", 0},
		{"pretty object after blank lines, BOM", "\ufeff\n\n" + rec("a"), "", []string{"a"}, "", 0},
		{"array", "[\n" + rec("a") + ",\n" + rec("b") + "\n]\n", "", []string{"a", "b"}, "", 0},
		{"two pretty objects", rec("a") + "\n" + rec("b") + "\n", "", []string{"a", "b"}, "", 0},
		{"truncated document", rec("a")[:30], "", nil, "d.jsonl: line 3: invalid JSON: unexpected EOF (the file is a JSON document spanning lines, not JSON lines with one record per line)", 0},
		{"second record bad", rec("a") + "\n{\n \"id\": 1,\n \"messages\": 7\n}", "", nil, "d.jsonl: line 7: field messages: expected a list, got number", 0},
		{"second record bad, skip", rec("a") + "\n{\n \"id\": 1,\n \"messages\": 7\n}", columnar.OnErrorSkip, []string{"a"}, "", 1},
		// JSON lines whose first line is bad stay JSON lines: the bad line
		// is reported alone and, under skip, the others are read.
		{"bad first line", `{"id": "a", "messages": [` + "\n" + `{"id": "b", "messages": []}` + "\n", "", nil, "d.jsonl: line 1: invalid JSON", 0},
		{"bad first line, skip", `{"id": "a", "messages": [` + "\n" + `{"id": "b", "messages": []}` + "\n", columnar.OnErrorSkip, []string{"b"}, "", 1},
		{"one truncated line", `{"id": "a", "messages": [`, "", nil, "d.jsonl: line 1: invalid JSON: unexpected end of JSON input", 0},
		{"JSON lines", `{"id": "a", "messages": []}` + "\n" + `{"id": "b", "messages": []}` + "\n", "", []string{"a", "b"}, "", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, st, err := importString(t, OpenAIChat, "d.jsonl", tc.src, Options{OnError: tc.onError})
			if tc.wantErr != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want prefix %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, tr := range out {
				ids = append(ids, tr.TrajectoryID)
			}
			if strings.Join(ids, ",") != strings.Join(tc.ids, ",") || st.Skipped != tc.skipped {
				t.Errorf("ids %v skipped %d, want %v %d", ids, st.Skipped, tc.ids, tc.skipped)
			}
		})
	}
}
