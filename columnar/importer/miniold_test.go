package importer

import (
	"path/filepath"
	"reflect"
	"testing"
)

// TestMiniSWEAgentOlderMarkers imports a bare message list of an earlier
// version: the MICRO_SWE_AGENT_FINAL_OUTPUT sentinel and the observation
// layout with the return code on a line of its own.
func TestMiniSWEAgentOlderMarkers(t *testing.T) {
	tr := importOne(t, MiniSWEAgent, filepath.Join("testdata", "mini_micro_old.traj.json"))
	if tr.Outcome.ExitStatus != "Submitted" || !tr.Outcome.Success || tr.Solution.Language != "diff" {
		t.Errorf("outcome %+v, language %q; want an inferred Submitted with a diff", tr.Outcome, tr.Solution.Language)
	}
	type want struct {
		actionType  string
		isError     bool
		observation string
	}
	wants := []want{
		{ActionView, false, "def greet():\n    return 'bye'\n"},
		{ActionPython, true, "AttributeError: module 'greet' has no attribute 'missing'\n"},
		{ActionEdit, false, ""},
		{ActionSubmit, false, tr.Solution.Code},
	}
	var got []want
	for _, s := range tr.Steps {
		got = append(got, want{s.ActionType, s.IsError, s.Observation})
	}
	if !reflect.DeepEqual(got, wants) {
		t.Errorf("steps:\n got %+v\nwant %+v", got, wants)
	}
	for i, rc := range []float64{0, 1, 0} {
		if v, _ := extraValue(t, tr, "steps["+string(rune('0'+i))+"].returncode"); v != rc {
			t.Errorf("steps[%d].returncode = %v, want %v", i, v, rc)
		}
	}
}

// TestOlderSentinelsAndReturncodes covers the earlier submit sentinels and
// observation layouts one by one.
func TestOlderSentinelsAndReturncodes(t *testing.T) {
	for _, cmd := range []string{
		"echo MINI_SWE_AGENT_FINAL_OUTPUT",
		"echo MICRO_SWE_AGENT_FINAL_OUTPUT && git diff",
		"echo 'NANO_SWE_AGENT_FINAL_OUTPUT'; git add -A && git diff --cached",
	} {
		if at, _ := classifyCommand(cmd); at != ActionSubmit {
			t.Errorf("classifyCommand(%q) = %q, want submit", cmd, at)
		}
	}
	tests := []struct {
		obs    string
		rc     int
		ok     bool
		failed bool
		output string
	}{
		{"<returncode>1</returncode>\n<output>\nx\n</output>", 1, true, true, "x\n"},
		{"<returncode>\n1\n</returncode>\nx\n", 1, true, true, "x\n"},
		{"<returncode>\n0\n</returncode>\n<output>\nok\n</output>", 0, true, false, "ok\n"},
		{"<returncode>\n-9\n</returncode>\n", -9, true, true, ""},
		{"<returncode>\n0\n</returncode>\n<warning>\nlong\n</warning>", 0, true, false, "<returncode>\n0\n</returncode>\n<warning>\nlong\n</warning>"},
		{"Observation: hi", 0, false, false, "Observation: hi"},
	}
	for _, tc := range tests {
		rc, ok := returncodeOf(tc.obs)
		if rc != tc.rc || ok != tc.ok {
			t.Errorf("returncodeOf(%q) = %d, %v; want %d, %v", tc.obs, rc, ok, tc.rc, tc.ok)
		}
		if got := observationFailed(tc.obs); got != tc.failed {
			t.Errorf("observationFailed(%q) = %v, want %v", tc.obs, got, tc.failed)
		}
		if got := unwrapMiniObservation(tc.obs); got != tc.output {
			t.Errorf("unwrapMiniObservation(%q) = %q, want %q", tc.obs, got, tc.output)
		}
	}
}
