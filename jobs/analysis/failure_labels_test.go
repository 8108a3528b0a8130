package analysis_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/atlas-ai/atlas-learn/columnar"
	"github.com/atlas-ai/atlas-learn/columnar/importer"
	"github.com/atlas-ai/atlas-learn/internal/shareddata"
	"github.com/atlas-ai/atlas-learn/jobs/analysis"
)

// The failure-mode detectors against hand-made labels of the real
// trajectories in ../shared/data/trajectories (testdata/failure_modes:
// each label names its mode, steps and the evidence read off the steps).
func TestFailureModesOnRealTrajectories(t *testing.T) {
	data, err := os.ReadFile("../../testdata/failure_modes/labels.json")
	if err != nil {
		t.Fatal(err)
	}
	var labels struct {
		Trajectories []struct {
			File  string `json:"file"`
			Modes []struct {
				Mode  string  `json:"mode"`
				Steps []int32 `json:"steps"`
			} `json:"modes"`
		} `json:"trajectories"`
	}
	if err := json.Unmarshal(data, &labels); err != nil {
		t.Fatal(err)
	}
	if len(labels.Trajectories) < 24 {
		t.Fatalf("%d labelled trajectories", len(labels.Trajectories))
	}
	root := filepath.Join(shareddata.Dir(t), "trajectories")
	var tp, fp, fn int
	for _, l := range labels.Trajectories {
		format := importer.SWEAgent
		if strings.HasPrefix(l.File, "mini-swe-agent") {
			format = importer.MiniSWEAgent
		}
		f, err := os.Open(filepath.Join(root, l.File))
		if err != nil {
			t.Fatal(err)
		}
		var tr columnar.Trajectory
		_, err = importer.Import(context.Background(), format, l.File, f, func(x columnar.Trajectory) error { tr = x; return nil }, importer.Options{})
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]string{}
		for _, m := range l.Modes {
			want[m.Mode] = fmt.Sprint(m.Steps)
		}
		got := map[string]string{}
		for _, m := range analysis.DetectFailureModes(&tr) {
			got[m.Mode] = fmt.Sprint(m.Steps)
		}
		for m, steps := range want {
			g, ok := got[m]
			switch {
			case !ok:
				fn++
				t.Errorf("%s: missed %s %s", l.File, m, steps)
			case g != steps:
				fp++
				fn++
				t.Errorf("%s: %s at steps %s, labelled %s", l.File, m, g, steps)
			default:
				tp++
			}
		}
		for m, steps := range got {
			if _, ok := want[m]; !ok {
				fp++
				t.Errorf("%s: detected %s %s, not labelled", l.File, m, steps)
			}
		}
	}
	t.Logf("failure modes on %d real trajectories: %d right, %d wrong or extra, %d missed", len(labels.Trajectories), tp, fp, fn)
}
