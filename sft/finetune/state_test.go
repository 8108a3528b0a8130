package finetune

import (
	"bytes"
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/atlas-ai/atlas-learn/columnar/storage"
	"github.com/atlas-ai/atlas-learn/columnar/storage/membucket"
)

func TestStateRoundTrip(t *testing.T) {
	ctx := context.Background()
	local, err := storage.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		b    storage.Bucket
	}{{"membucket", membucket.New("")}, {"local", local}} {
		t.Run(tc.name, func(t *testing.T) {
			empty, err := LoadState(ctx, tc.b, StateKey)
			if err != nil || empty.LastFinetune != nil || len(empty.Runs) != 0 {
				t.Fatalf("missing state: %+v, %v", empty, err)
			}
			b := Batch{RunID: "r1", Trajectories: 120, Successes: 60, Examples: 80}
			d := policy.Decide(empty, at(1, 2), b)
			res := &Result{RequestID: "ft-1", Backend: "queue", JobID: "ft-1", Status: StatusQueued,
				Datasets: []DatasetRef{{Dataset: "sft.openai", Split: "train", Format: "jsonl", URI: "s3://b/runs/r1/sft/openai/train.jsonl", Rows: 80, SHA256: "ab", RunID: "r1"}}}
			st := empty.Apply(d, b, res)
			if err := SaveState(ctx, tc.b, StateKey, st); err != nil {
				t.Fatal(err)
			}
			got, err := LoadState(ctx, tc.b, StateKey)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, st) {
				t.Fatalf("round trip:\n%+v\n%+v", got, st)
			}
			e1, _ := st.Encode()
			e2, _ := got.Encode()
			if !bytes.Equal(e1, e2) {
				t.Fatal("encodings differ")
			}
			if got.TotalFinetunes != 1 || len(got.Jobs) != 1 || got.Jobs[0].Datasets[0].URI == "" || !got.LastFinetune.Equal(at(1, 2)) {
				t.Fatalf("state %+v", got)
			}
			if !got.UpdateJob(Result{RequestID: "ft-1", JobID: "ft-1", Status: StatusSucceeded, ModelID: "m1"}) || got.Jobs[0].ModelID != "m1" || len(got.Pending()) != 0 {
				t.Fatalf("update: %+v", got.Jobs)
			}
		})
	}
}

func TestDecodeStateErrors(t *testing.T) {
	for _, tc := range []struct{ data, want string }{
		{`{`, "malformed"},
		{`{"format":"other","version":1}`, `format "other"`},
		{`{"format":"atlas-learn/finetune-state","version":2}`, "version 2"},
	} {
		if _, err := DecodeState([]byte(tc.data), "x.json"); err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "x.json") {
			t.Errorf("%s: err = %v, want %q", tc.data, err, tc.want)
		}
	}
}

func TestMethodValidate(t *testing.T) {
	if err := DefaultMethod().Validate(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		edit func(*Method)
		want string
	}{
		{func(m *Method) { m.Type = "qlora" }, "type:"},
		{func(m *Method) { m.LoRARank = 0 }, "lora_rank:"},
		{func(m *Method) { m.LearningRate = 0 }, "learning_rate:"},
		{func(m *Method) { m.Epochs = 0 }, "epochs:"},
		{func(m *Method) { m.GradientAccumulation = 0 }, "gradient_accumulation:"},
		{func(m *Method) { m.WarmupRatio = 1 }, "warmup_ratio:"},
	} {
		m := DefaultMethod()
		tc.edit(&m)
		if err := m.Validate(); err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("err = %v, want %q", err, tc.want)
		}
	}
	m := DefaultMethod()
	m.Type, m.LoRARank = "full", 0
	if err := m.Validate(); err != nil {
		t.Fatalf("full fine-tune needs no rank: %v", err)
	}
}
