package importer

import (
	"testing"
)

// TestNullsKept checks that a null source field mapped to a string column
// (which reads it as "") stays in extra as null, so that null and "" remain
// distinguishable.
func TestNullsKept(t *testing.T) {
	tests := []struct {
		name, file, src string
		format          Format
		path            string // in extra, where the null must be
		present         bool
	}{
		{"chat patch null", "c.jsonl", `{"id": "a", "messages": [], "patch": null}` + "\n", OpenAIChat, "source.patch", true},
		{"chat patch empty", "c.jsonl", `{"id": "a", "messages": [], "patch": ""}` + "\n", OpenAIChat, "source.patch", false},
		{"swe-agent exit_status null", "s.traj", `{"history": [], "info": {"exit_status": null, "submission": null}}`, SWEAgent, "source.info.exit_status", true},
		{"swe-agent submission empty", "s.traj", `{"history": [], "info": {"exit_status": "submitted", "submission": ""}}`, SWEAgent, "source.info.submission", false},
		{"mini instance_id null", "m.traj.json", `{"info": {"exit_status": null}, "messages": [], "instance_id": null}`, MiniSWEAgent, "source.instance_id", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, _, err := importString(t, tc.format, tc.file, tc.src, Options{})
			if err != nil || len(out) != 1 {
				t.Fatalf("err %v, %d trajectories", err, len(out))
			}
			v, ok := extraValue(t, out[0], tc.path)
			if ok != tc.present || ok && v != nil {
				t.Errorf("extra.%s = %v, %v; want present %v and null", tc.path, v, ok, tc.present)
			}
		})
	}
}
