package finetune

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"
)

// Backend hands a fine-tuning request off and reports on it.
type Backend interface {
	// Name is the back-end's name in results and the state ("queue",
	// "openai").
	Name() string
	// Submit hands req off. It is idempotent: submitting a request id
	// again returns the job of the first submission.
	Submit(ctx context.Context, req Request) (Result, error)
	// Status reports on a job Submit returned.
	Status(ctx context.Context, jobID string) (Result, error)
}

// Withdrawer is a Backend that can take back a request it was given
// (before any cluster acted on it): the run that made it failed.
type Withdrawer interface {
	Withdraw(ctx context.Context, requestID string) error
}

// The statuses of a Result. Back-ends map theirs onto these
// (OpenAI's validating_files is queued, cancelled is failed).
const (
	StatusQueued    = "queued"
	StatusRunning   = "running"
	StatusSucceeded = "succeeded"
	StatusFailed    = "failed"
)

// Terminal tells whether a status is final.
func Terminal(status string) bool { return status == StatusSucceeded || status == StatusFailed }

// Request is one fine-tuning request.
type Request struct {
	// Format identifies request files ("atlas-learn/finetune-request").
	Format string `json:"format"`
	// ID is derived from the run (see RequestID): submitting the same run
	// again gives the same id.
	ID string `json:"request_id"`
	// RunID and Fingerprint identify the run whose datasets are used;
	// Manifest is the run manifest's URI, which names every file with
	// its checksum (the dataset versions). The files exist for readers
	// once that manifest does.
	RunID       string `json:"run_id"`
	Fingerprint string `json:"fingerprint"`
	Manifest    string `json:"manifest"`
	// BaseModel is the model to fine-tune.
	BaseModel string `json:"base_model"`
	Method    Method `json:"method"`
	// Train and Validation are the files to train and validate on (in
	// the format the back-end takes); Datasets lists every fine-tuning
	// file of the run, all formats.
	Train      []DatasetRef `json:"train"`
	Validation []DatasetRef `json:"validation"`
	Datasets   []DatasetRef `json:"datasets"`
	// Decision is the trigger's, for the record.
	Decision *Decision `json:"decision,omitempty"`
}

// RequestFormat identifies request files.
const RequestFormat = "atlas-learn/finetune-request"

// Method is how to fine-tune. The defaults (DefaultMethod) are SOAR's
// (Pourcel et al., ICML 2025; flowersteam/SOAR,
// soar/training/train_unsloth.py): LoRA (rank-stabilised) of rank 256 and
// alpha 32 on every attention and MLP projection, learning rate 5e-5
// with a cosine schedule and 10% warm-up, 3 epochs, batch 1 with 32
// gradient-accumulation steps, AdamW 8-bit, weight decay 0.05, seed 3407,
// loss on the responses only.
type Method struct {
	// Type is lora or full.
	Type                 string   `json:"type" yaml:"type"`
	LoRARank             int      `json:"lora_rank" yaml:"lora_rank"`
	LoRAAlpha            int      `json:"lora_alpha" yaml:"lora_alpha"`
	LoRADropout          float64  `json:"lora_dropout" yaml:"lora_dropout"`
	RSLoRA               bool     `json:"rslora" yaml:"rslora"`
	TargetModules        []string `json:"target_modules" yaml:"target_modules"`
	LearningRate         float64  `json:"learning_rate" yaml:"learning_rate"`
	LRScheduler          string   `json:"lr_scheduler" yaml:"lr_scheduler"`
	WarmupRatio          float64  `json:"warmup_ratio" yaml:"warmup_ratio"`
	Epochs               int      `json:"epochs" yaml:"epochs"`
	BatchSize            int      `json:"batch_size" yaml:"batch_size"`
	GradientAccumulation int      `json:"gradient_accumulation" yaml:"gradient_accumulation"`
	WeightDecay          float64  `json:"weight_decay" yaml:"weight_decay"`
	Optimizer            string   `json:"optimizer" yaml:"optimizer"`
	MaxSeqLen            int      `json:"max_seq_len" yaml:"max_seq_len"`
	Seed                 int64    `json:"seed" yaml:"seed"`
	TrainOnResponsesOnly bool     `json:"train_on_responses_only" yaml:"train_on_responses_only"`
}

// DefaultMethod is SOAR's fine-tuning setup (see Method).
func DefaultMethod() Method {
	return Method{Type: "lora", LoRARank: 256, LoRAAlpha: 32, RSLoRA: true,
		TargetModules: []string{"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"},
		LearningRate:  5e-5, LRScheduler: "cosine", WarmupRatio: 0.1, Epochs: 3, BatchSize: 1, GradientAccumulation: 32,
		WeightDecay: 0.05, Optimizer: "adamw_8bit", MaxSeqLen: 30000, Seed: 3407, TrainOnResponsesOnly: true}
}

// Validate reports the first invalid field, named as in the YAML.
func (m Method) Validate() error {
	switch {
	case m.Type != "lora" && m.Type != "full":
		return fmt.Errorf("type: want lora or full, got %q", m.Type)
	case m.Type == "lora" && m.LoRARank < 1:
		return fmt.Errorf("lora_rank: must be positive for lora, got %d", m.LoRARank)
	case m.Type == "lora" && m.LoRAAlpha < 1:
		return fmt.Errorf("lora_alpha: must be positive for lora, got %d", m.LoRAAlpha)
	case m.LoRADropout < 0 || m.LoRADropout >= 1:
		return fmt.Errorf("lora_dropout: must be 0..1 (exclusive), got %v", m.LoRADropout)
	case !(m.LearningRate > 0 && m.LearningRate < 1):
		return fmt.Errorf("learning_rate: must be in (0, 1), got %v", m.LearningRate)
	case m.WarmupRatio < 0 || m.WarmupRatio >= 1:
		return fmt.Errorf("warmup_ratio: must be 0..1 (exclusive), got %v", m.WarmupRatio)
	case m.Epochs < 1 || m.Epochs > 100:
		return fmt.Errorf("epochs: must be 1..100, got %d", m.Epochs)
	case m.BatchSize < 1:
		return fmt.Errorf("batch_size: must be positive, got %d", m.BatchSize)
	case m.GradientAccumulation < 1:
		return fmt.Errorf("gradient_accumulation: must be positive, got %d", m.GradientAccumulation)
	case m.WeightDecay < 0:
		return fmt.Errorf("weight_decay: must be >= 0, got %v", m.WeightDecay)
	case m.MaxSeqLen < 0:
		return fmt.Errorf("max_seq_len: must be >= 0, got %d", m.MaxSeqLen)
	}
	return nil
}

// DatasetRef is one file of a fine-tuning dataset, with its version: the
// run that wrote it and the checksum its manifest records.
type DatasetRef struct {
	// Dataset is the dataset's name in the run manifest ("sft.openai").
	Dataset string `json:"dataset"`
	// Split is train or validation ("" when the file name says neither).
	Split  string `json:"split,omitempty"`
	Format string `json:"format"`
	// URI is the file's location (a path or s3://...).
	URI    string `json:"uri"`
	Rows   int64  `json:"rows"`
	Bytes  int64  `json:"bytes"`
	SHA256 string `json:"sha256"`
	RunID  string `json:"run_id"`
}

// Result is what a back-end reports on a request.
type Result struct {
	RequestID string `json:"request_id"`
	Backend   string `json:"backend"`
	JobID     string `json:"job_id"`
	// Status is one of the Status constants.
	Status string `json:"status"`
	// ModelID is the fine-tuned model, once succeeded.
	ModelID string `json:"model_id,omitempty"`
	Error   string `json:"error,omitempty"`
	// Datasets are the files the request named.
	Datasets []DatasetRef `json:"datasets"`
	// Existing tells that Submit found the request already submitted.
	Existing bool `json:"existing"`
}

// RequestID derives a request's id from its run: "ft-" and 16 hex
// digits of a hash of the run id and fingerprint.
func RequestID(runID, fingerprint string) string {
	h := sha256.Sum256([]byte(runID + "\x00" + fingerprint))
	return "ft-" + hex.EncodeToString(h[:8])
}

// ErrPollTimeout is returned by Wait when the job is still not done.
var ErrPollTimeout = errors.New("fine-tune job not done before the poll timeout")

// Wait polls b for job every interval until it reaches a terminal status
// or timeout passes (then the last result and ErrPollTimeout).
func Wait(ctx context.Context, b Backend, jobID string, interval, timeout time.Duration) (Result, error) {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		res, err := b.Status(ctx, jobID)
		if err != nil {
			return res, err
		}
		if Terminal(res.Status) {
			return res, nil
		}
		t := time.NewTimer(interval)
		select {
		case <-ctx.Done():
			t.Stop()
			return res, fmt.Errorf("fine-tune job %s: %w", jobID, ctx.Err())
		case <-deadline.C:
			t.Stop()
			return res, fmt.Errorf("fine-tune job %s (status %s after %s): %w", jobID, res.Status, timeout, ErrPollTimeout)
		case <-t.C:
		}
	}
}
