package finetune_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/atlas-ai/atlas-learn/columnar/storage"
	"github.com/atlas-ai/atlas-learn/columnar/storage/membucket"
	"github.com/atlas-ai/atlas-learn/sft/finetune"
	"github.com/atlas-ai/atlas-learn/sft/finetune/finetunetest"
)

const goodJSONL = `{"messages":[{"role":"system","content":"You write Python."},{"role":"user","content":"reverse a list"},{"role":"assistant","content":"def solve(x): return x[::-1]"}]}
{"messages":[{"role":"user","content":"sum a list"},{"role":"assistant","content":"def solve(x): return sum(x)"}]}
`

const badJSONL = `{"messages":[{"role":"robot","content":"beep"},{"role":"assistant","content":"boop"}]}
`

func request(train string) (finetune.Request, *membucket.Bucket) {
	files := membucket.New("mem://data")
	ctx := context.Background()
	_ = storage.Put(ctx, files, "train.jsonl", []byte(train))
	_ = storage.Put(ctx, files, "validation.jsonl", []byte(goodJSONL[:strings.Index(goodJSONL, "\n")+1]))
	req := finetune.Request{ID: finetune.RequestID("r1", "fp"), RunID: "r1", Fingerprint: "fp", BaseModel: "gpt-4.1-mini", Method: finetune.DefaultMethod(),
		Train:      []finetune.DatasetRef{{Dataset: "sft.openai", Split: "train", Format: "jsonl", URI: "train.jsonl", RunID: "r1"}},
		Validation: []finetune.DatasetRef{{Dataset: "sft.openai", Split: "validation", Format: "jsonl", URI: "validation.jsonl", RunID: "r1"}}}
	return req, files
}

func backend(t *testing.T, srv *finetunetest.Server, files storage.Bucket, ledger storage.Bucket, edit func(*finetune.OpenAIOptions)) *finetune.OpenAI {
	t.Helper()
	o := finetune.OpenAIOptions{BaseURL: srv.URL, APIKey: "sk-test-secret", Timeout: 5 * time.Second, MaxRetries: 3,
		BackoffInitial: time.Millisecond, BackoffMax: 5 * time.Millisecond, PollInterval: 2 * time.Millisecond, PollTimeout: 5 * time.Second,
		Suffix: "atlas", Ledger: ledger, LedgerPrefix: "memory/finetune/requests",
		Read: func(ctx context.Context, uri string) ([]byte, error) { return storage.Get(ctx, files, uri) }}
	if edit != nil {
		edit(&o)
	}
	b, err := finetune.NewOpenAI(o)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestOpenAIGoodPath(t *testing.T) {
	ctx := context.Background()
	srv := finetunetest.New(t)
	srv.MaxRequests = 20
	req, files := request(goodJSONL)
	ledger := membucket.New("")
	b := backend(t, srv, files, ledger, nil)
	res, err := b.Submit(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != finetune.StatusSucceeded || res.ModelID != "ft:gpt-4.1-mini:atlas:ftjob-001" || res.JobID != "ftjob-001" || res.RequestID != req.ID || len(res.Datasets) != 2 {
		t.Fatalf("result %+v", res)
	}
	reqs := srv.Requests()
	if srv.Count(finetunetest.RouteUpload) != 2 || srv.Count(finetunetest.RouteCreate) != 1 || srv.Count(finetunetest.RouteGet) < 2 {
		t.Fatalf("requests: %+v", reqs)
	}
	for _, r := range reqs {
		if r.Authorization != "Bearer sk-test-secret" {
			t.Fatalf("authorization %q", r.Authorization)
		}
		if r.Route == finetunetest.RouteUpload && (r.Purpose != "fine-tune" || r.Lines == 0) {
			t.Fatalf("upload %+v", r)
		}
	}
	if f, ok := srv.File("file-001"); !ok || string(f) != goodJSONL {
		t.Fatalf("uploaded training file %q", f)
	}
	job := srv.Jobs()[0]
	if job.Model != "gpt-4.1-mini" || job.TrainingFile != "file-001" || job.ValidationFile != "file-002" || job.Suffix != "atlas" {
		t.Fatalf("job %+v", job)
	}
	c, _ := json.Marshal(job.Create)
	for _, want := range []string{`"n_epochs":3`, `"batch_size":32`, `"seed":3407`, `"type":"supervised"`, `"request_id":"` + req.ID + `"`} {
		if !strings.Contains(string(c), want) {
			t.Errorf("create body %s lacks %s", c, want)
		}
	}
	// Submitting the same request again finds the job in the ledger.
	n := srv.Count("")
	res2, err := b.Submit(ctx, req)
	if err != nil || !res2.Existing || res2.JobID != res.JobID || res2.Status != finetune.StatusSucceeded {
		t.Fatalf("resubmit: %+v %v", res2, err)
	}
	if srv.Count(finetunetest.RouteUpload) != 2 || srv.Count(finetunetest.RouteCreate) != 1 || srv.Count("") != n+1 {
		t.Fatalf("resubmitting uploaded or created again: %d requests", srv.Count(""))
	}
}

func TestOpenAIFailures(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name    string
		train   string
		setup   func(*finetunetest.Server)
		edit    func(*finetune.OpenAIOptions)
		wantErr string
		is      error
		check   func(t *testing.T, srv *finetunetest.Server, res finetune.Result)
	}{
		{name: "no wait returns the job as created", train: goodJSONL, edit: func(o *finetune.OpenAIOptions) { o.PollTimeout = 0 },
			check: func(t *testing.T, srv *finetunetest.Server, res finetune.Result) {
				if res.Status != finetune.StatusQueued || srv.Count(finetunetest.RouteGet) != 0 {
					t.Fatalf("%+v", res)
				}
			}},
		{name: "job failed", train: goodJSONL, setup: func(s *finetunetest.Server) {
			s.Script("the training file has too few examples", "validating_files", "running", "failed")
		}, check: func(t *testing.T, srv *finetunetest.Server, res finetune.Result) {
			if res.Status != finetune.StatusFailed || res.Error != "the training file has too few examples" || res.ModelID != "" {
				t.Fatalf("%+v", res)
			}
		}},
		{name: "cancelled is failed", train: goodJSONL, setup: func(s *finetunetest.Server) { s.Script("", "queued", "cancelled") },
			check: func(t *testing.T, srv *finetunetest.Server, res finetune.Result) {
				if res.Status != finetune.StatusFailed || res.Error != "cancelled" {
					t.Fatalf("%+v", res)
				}
			}},
		{name: "bad file is a 4xx, not retried", train: badJSONL, wantErr: `HTTP 400: finetunetest: invalid file`,
			check: func(t *testing.T, srv *finetunetest.Server, _ finetune.Result) {
				if srv.Count(finetunetest.RouteUpload) != 1 || srv.Count(finetunetest.RouteCreate) != 0 {
					t.Fatalf("%d uploads, %d creates", srv.Count(finetunetest.RouteUpload), srv.Count(finetunetest.RouteCreate))
				}
			}},
		{name: "malformed create response", train: goodJSONL, setup: func(s *finetunetest.Server) {
			s.Fail(finetunetest.RouteCreate, finetunetest.Fault{Body: `{"id":"ftjob-1","status":`})
		}, wantErr: "malformed response"},
		{name: "unknown status", train: goodJSONL, setup: func(s *finetunetest.Server) {
			s.Fail(finetunetest.RouteGet, finetunetest.Fault{Body: `{"id":"ftjob-001","status":"exploded"}`})
		}, wantErr: `unknown status "exploded"`},
		{name: "succeeded without a model", train: goodJSONL, setup: func(s *finetunetest.Server) {
			s.Fail(finetunetest.RouteGet, finetunetest.Fault{Body: `{"id":"ftjob-001","status":"succeeded"}`})
		}, wantErr: "without a fine_tuned_model"},
		{name: "poll timeout", train: goodJSONL, setup: func(s *finetunetest.Server) { s.Script("", "running") },
			edit: func(o *finetune.OpenAIOptions) {
				o.PollInterval, o.PollTimeout = 5*time.Millisecond, 60*time.Millisecond
			}, is: finetune.ErrPollTimeout},
		{name: "429 and 5xx are retried", train: goodJSONL, setup: func(s *finetunetest.Server) {
			s.Fail(finetunetest.RouteUpload, finetunetest.Fault{Status: 429, RetryAfter: "0"}, finetunetest.Fault{Status: 500})
			s.Fail(finetunetest.RouteCreate, finetunetest.Fault{Status: 503})
			s.Fail(finetunetest.RouteGet, finetunetest.Fault{Status: 502})
		}, check: func(t *testing.T, srv *finetunetest.Server, res finetune.Result) {
			if res.Status != finetune.StatusSucceeded || srv.Count(finetunetest.RouteUpload) != 4 || srv.Count(finetunetest.RouteCreate) != 2 || len(srv.Jobs()) != 1 {
				t.Fatalf("%+v: %d uploads, %d creates", res, srv.Count(finetunetest.RouteUpload), srv.Count(finetunetest.RouteCreate))
			}
		}},
		{name: "retries are bounded", train: goodJSONL, setup: func(s *finetunetest.Server) {
			s.Fail(finetunetest.RouteCreate, finetunetest.Fault{Status: 500}, finetunetest.Fault{Status: 500}, finetunetest.Fault{Status: 500}, finetunetest.Fault{Status: 500})
		}, edit: func(o *finetune.OpenAIOptions) { o.MaxRetries = 2 }, wantErr: "HTTP 500",
			check: func(t *testing.T, srv *finetunetest.Server, _ finetune.Result) {
				if srv.Count(finetunetest.RouteCreate) != 3 {
					t.Fatalf("%d creates, want 3", srv.Count(finetunetest.RouteCreate))
				}
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := finetunetest.New(t)
			srv.MaxRequests = 40
			if tc.setup != nil {
				tc.setup(srv)
			}
			req, files := request(tc.train)
			b := backend(t, srv, files, membucket.New(""), tc.edit)
			res, err := b.Submit(ctx, req)
			switch {
			case tc.is != nil:
				if !errors.Is(err, tc.is) {
					t.Fatalf("err = %v, want %v", err, tc.is)
				}
			case tc.wantErr != "":
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				if strings.Contains(err.Error(), "sk-test-secret") {
					t.Fatalf("the key leaked: %v", err)
				}
			case err != nil:
				t.Fatal(err)
			}
			if tc.check != nil {
				tc.check(t, srv, res)
			}
		})
	}
}

func TestCheckChatJSONL(t *testing.T) {
	for _, tc := range []struct{ data, want string }{
		{goodJSONL, ""},
		{badJSONL, "role"},
		{`{"messages":[{"role":"user","content":"x"}]}`, "no assistant"},
		{`{"messages":[],"weight":2}`, "unexpected key"},
		{`{"messages":[{"role":"user","content":1},{"role":"assistant","content":"y"}]}`, "content"},
		{"\n\n", "no examples"},
		{`[1]`, "not a JSON object"},
	} {
		err := finetunetest.CheckChatJSONL([]byte(tc.data))
		if (tc.want == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: err = %v, want %q", tc.data, err, tc.want)
		}
	}
}
