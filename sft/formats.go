package sft

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
)

// Export formats.
const (
	// FormatParquet is every example, one Parquet dataset (weights,
	// kinds, splits as columns).
	FormatParquet = "parquet"
	// FormatOpenAI is OpenAI's chat fine-tuning JSONL: {"messages":
	// [system, user, assistant]} and nothing else (OpenAI rejects extra
	// keys; its per-message weight is 0 or 1, so the float weights stay
	// in the Parquet and in trl_replicated).
	FormatOpenAI = "openai"
	// FormatTRLPromptCompletion is TRL's standard prompt-completion JSONL:
	// {"prompt", "completion"}; the system prompt, when set, starts the
	// prompt, a blank line before the user prompt.
	FormatTRLPromptCompletion = "trl_prompt_completion"
	// FormatTRLConversational is TRL's conversational JSONL: {"messages":
	// [system, user, assistant]}.
	FormatTRLConversational = "trl_conversational"
	// FormatTRLReplicated is FormatTRLPromptCompletion with each example
	// repeated Copies(weight, k) times, for trainers without per-example
	// weights.
	FormatTRLReplicated = "trl_replicated"
)

// Format describes one export format: its name and its directory under
// the run's sft/ directory.
type Format struct {
	Name string
	Dir  string
	// Schema names the format's rows in the manifest.
	Schema string
}

// JSONLFormats are the JSONL export formats, in the order they are
// written.
func JSONLFormats() []Format {
	return []Format{
		{Name: FormatOpenAI, Dir: "openai", Schema: "sft_openai_chat"},
		{Name: FormatTRLPromptCompletion, Dir: "trl/prompt_completion", Schema: "sft_trl_prompt_completion"},
		{Name: FormatTRLConversational, Dir: "trl/conversational", Schema: "sft_trl_conversational"},
		{Name: FormatTRLReplicated, Dir: "trl-replicated", Schema: "sft_trl_prompt_completion"},
	}
}

// ParquetDir is the Parquet dataset's directory under sft/.
const ParquetDir = "parquet"

// Message is one chat message.
type Message struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// ChatLine is one line of the OpenAI and TRL conversational formats.
type ChatLine struct {
	Messages []Message `json:"messages"`
}

// PromptCompletionLine is one line of TRL's prompt-completion format.
type PromptCompletionLine struct {
	Prompt     string `json:"prompt"`
	Completion string `json:"completion"`
}

func messages(e *Example) []Message {
	var ms []Message
	if e.System != "" {
		ms = append(ms, Message{Role: "system", Content: e.System})
	}
	return append(ms, Message{Role: "user", Content: e.Prompt}, Message{Role: "assistant", Content: e.Completion})
}

func promptCompletion(e *Example) PromptCompletionLine {
	p := e.Prompt
	if e.System != "" {
		p = e.System + "\n\n" + p
	}
	return PromptCompletionLine{Prompt: p, Completion: e.Completion}
}

// LineWriter writes JSON lines (HTML characters unescaped) and counts
// them.
type LineWriter struct {
	bw   *bufio.Writer
	enc  *json.Encoder
	rows int64
}

// NewLineWriter writes to w.
func NewLineWriter(w io.Writer) *LineWriter {
	bw := bufio.NewWriterSize(w, 1<<20)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	return &LineWriter{bw: bw, enc: enc}
}

// Write writes one line.
func (w *LineWriter) Write(v any) error {
	if err := w.enc.Encode(v); err != nil {
		return err
	}
	w.rows++
	return nil
}

// writeLine writes one encoded line (its newline included).
func (w *LineWriter) writeLine(b []byte) error {
	if _, err := w.bw.Write(b); err != nil {
		return err
	}
	w.rows++
	return nil
}

// Rows is the number of lines written.
func (w *LineWriter) Rows() int64 { return w.rows }

// Flush flushes the buffer.
func (w *LineWriter) Flush() error { return w.bw.Flush() }

// FormatWriter writes the lines of one JSONL format, example by
// example.
type FormatWriter struct {
	lw     *LineWriter
	format string
	k      float64
}

// NewFormatWriter writes the JSONL format named to w; k is
// trl_replicated's factor.
func NewFormatWriter(w io.Writer, format string, k float64) (*FormatWriter, error) {
	switch format {
	case FormatOpenAI, FormatTRLConversational, FormatTRLPromptCompletion, FormatTRLReplicated:
	default:
		return nil, fmt.Errorf("unknown format %q", format)
	}
	return &FormatWriter{lw: NewLineWriter(w), format: format, k: k}, nil
}

// Write writes e's line (trl_replicated: its copies).
func (f *FormatWriter) Write(e *Example) error {
	var err error
	switch f.format {
	case FormatOpenAI, FormatTRLConversational:
		err = f.lw.Write(ChatLine{Messages: messages(e)})
	case FormatTRLPromptCompletion:
		err = f.lw.Write(promptCompletion(e))
	case FormatTRLReplicated:
		l := promptCompletion(e)
		for n := Copies(e.Weight, f.k); n > 0 && err == nil; n-- {
			err = f.lw.Write(l)
		}
	}
	if err != nil {
		return fmt.Errorf("%s: example %s: %w", f.format, e.ID, err)
	}
	return nil
}

// WriteLines writes e's line from l, which holds e's encoded lines
// (trl_replicated: its copies).
func (f *FormatWriter) WriteLines(e *Example, l *Lines) error {
	line := l.promptCompletion.Bytes()
	if f.format == FormatOpenAI || f.format == FormatTRLConversational {
		line = l.chat.Bytes()
	}
	n := 1
	if f.format == FormatTRLReplicated {
		n = Copies(e.Weight, f.k)
	}
	for ; n > 0; n-- {
		if err := f.lw.writeLine(line); err != nil {
			return fmt.Errorf("%s: example %s: %w", f.format, e.ID, err)
		}
	}
	return nil
}

// Lines are one example's JSONL lines, encoded once for all the
// formats: the chat line (openai, trl_conversational) and the
// prompt-completion line (trl_prompt_completion, trl_replicated), as
// FormatWriter.Write encodes them.
type Lines struct {
	chat, promptCompletion bytes.Buffer
	encChat, encPC         *json.Encoder
}

// NewLines returns an empty Lines.
func NewLines() *Lines {
	l := &Lines{}
	l.encChat, l.encPC = json.NewEncoder(&l.chat), json.NewEncoder(&l.promptCompletion)
	l.encChat.SetEscapeHTML(false)
	l.encPC.SetEscapeHTML(false)
	return l
}

// Encode encodes e's lines, replacing what l held.
func (l *Lines) Encode(e *Example) error {
	l.chat.Reset()
	l.promptCompletion.Reset()
	if err := l.encChat.Encode(ChatLine{Messages: messages(e)}); err != nil {
		return fmt.Errorf("example %s: %w", e.ID, err)
	}
	if err := l.encPC.Encode(promptCompletion(e)); err != nil {
		return fmt.Errorf("example %s: %w", e.ID, err)
	}
	return nil
}

// Rows is the number of lines written.
func (f *FormatWriter) Rows() int64 { return f.lw.Rows() }

// Flush flushes the buffer.
func (f *FormatWriter) Flush() error { return f.lw.Flush() }

// WriteFormat writes exs (one split, in output order) in the JSONL
// format named; k is trl_replicated's factor. It returns the lines
// written.
func WriteFormat(w io.Writer, format string, exs []Example, k float64) (int64, error) {
	fw, err := NewFormatWriter(w, format, k)
	if err != nil {
		if len(exs) == 0 {
			return 0, nil
		}
		return 0, err
	}
	for i := range exs {
		if err := fw.Write(&exs[i]); err != nil {
			return fw.Rows(), err
		}
	}
	return fw.Rows(), fw.Flush()
}

// SplitExamples returns the examples of one split, in order.
func SplitExamples(exs []Example, split string) []Example {
	var out []Example
	for _, e := range exs {
		if e.Split == split {
			out = append(out, e)
		}
	}
	return out
}
