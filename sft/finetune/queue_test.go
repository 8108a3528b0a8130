package finetune

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/atlas-ai/atlas-learn/columnar/storage"
	"github.com/atlas-ai/atlas-learn/columnar/storage/membucket"
)

func testRequest(runID string) Request {
	return Request{ID: RequestID(runID, "fp1"), RunID: runID, Fingerprint: "fp1", Manifest: "out/runs/" + runID + "/manifest.json",
		BaseModel: "Qwen/Qwen2.5-Coder-7B-Instruct", Method: DefaultMethod(),
		Train:      []DatasetRef{{Dataset: "sft.openai", Split: "train", Format: "jsonl", URI: "mem://train.jsonl", Rows: 2, SHA256: "aa", RunID: runID}},
		Validation: []DatasetRef{{Dataset: "sft.openai", Split: "validation", Format: "jsonl", URI: "mem://validation.jsonl", Rows: 1, SHA256: "bb", RunID: runID}}}
}

// The queue round trip: a request written once, its status read back as
// the cluster writes it.
func TestQueueRoundTrip(t *testing.T) {
	ctx := context.Background()
	b := membucket.New("")
	q := NewQueue(b, "finetune-queue/")
	req := testRequest("r1")
	res, err := q.Submit(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != StatusQueued || res.JobID != req.ID || res.RequestID != req.ID || res.Existing || res.Backend != "queue" || len(res.Datasets) != 2 {
		t.Fatalf("submit: %+v", res)
	}
	data, err := storage.Get(ctx, b, "finetune-queue/"+req.ID+".json")
	if err != nil {
		t.Fatal(err)
	}
	var back Request
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	if back.Format != RequestFormat || back.ID != req.ID || back.Method.LoRARank != 256 || back.Train[0].URI != "mem://train.jsonl" || back.Manifest == "" {
		t.Fatalf("request file: %s", data)
	}
	// Submitting again writes nothing new.
	req2 := req
	req2.BaseModel = "other"
	res, err = q.Submit(ctx, req2)
	if err != nil || !res.Existing {
		t.Fatalf("resubmit: %+v %v", res, err)
	}
	if again, _ := storage.Get(ctx, b, "finetune-queue/"+req.ID+".json"); string(again) != string(data) {
		t.Fatal("resubmitting replaced the request")
	}
	objs, _ := storage.List(ctx, b, "finetune-queue/", nil)
	if len(objs) != 1 {
		t.Fatalf("%d objects in the queue, want 1", len(objs))
	}
	// The cluster reports.
	for _, tc := range []struct {
		status, want, wantErr string
	}{
		{`{"request_id":"` + req.ID + `","status":"running"}`, StatusRunning, ""},
		{`{"status":"succeeded","model_id":"atlas-ft-1"}`, StatusSucceeded, ""},
		{`{"status":"failed","error":"OOM"}`, StatusFailed, ""},
		{`{"status":"done"}`, "", "field status"},
		{`{"request_id":"ft-other","status":"running"}`, "", "field request_id"},
		{`not json`, "", "malformed status file"},
	} {
		if err := storage.Put(ctx, b, q.StatusKey(req.ID), []byte(tc.status)); err != nil {
			t.Fatal(err)
		}
		res, err := q.Status(ctx, req.ID)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%s: err = %v, want %q", tc.status, err, tc.wantErr)
			}
			continue
		}
		if err != nil || res.Status != tc.want {
			t.Errorf("%s: %+v %v", tc.status, res, err)
		}
		if tc.want == StatusSucceeded && res.ModelID != "atlas-ft-1" || tc.want == StatusFailed && res.Error != "OOM" {
			t.Errorf("%s: %+v", tc.status, res)
		}
	}
	if _, err := q.Status(ctx, "ft-none"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("unknown request: %v", err)
	}
	if _, err := q.Submit(ctx, Request{ID: "../x"}); err == nil {
		t.Fatal("a request id with a slash was accepted")
	}
}

// A withdrawn request is gone (the run that made it failed); withdrawing
// again is no error, and a later submission writes it afresh.
func TestQueueWithdraw(t *testing.T) {
	ctx := context.Background()
	b := membucket.New("")
	q := NewQueue(b, "finetune-queue/")
	var _ Withdrawer = q
	req := testRequest("r1")
	if _, err := q.Submit(ctx, req); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := q.Withdraw(ctx, req.ID); err != nil {
			t.Fatal(err)
		}
	}
	if ok, _ := storage.Exists(ctx, b, "finetune-queue/"+req.ID+".json"); ok {
		t.Fatal("the request is still there")
	}
	res, err := q.Submit(ctx, req)
	if err != nil || res.Existing {
		t.Fatalf("resubmit: %+v %v", res, err)
	}
	if err := q.Withdraw(ctx, "../x"); err == nil {
		t.Fatal("a bad id withdrawn")
	}
}
