package importer

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/atlas-ai/atlas-learn/columnar"
)

// OpenHands is an OpenHands run, in one of two forms:
//
//   - an event stream: a JSON list of events, each an action (an "action"
//     key) or an observation (an "observation" key, with "cause" the id of
//     the action it answers), as OpenHands saves a session and as its
//     tests/runtime/trajs hold;
//   - evaluation output (output.jsonl): one record per line with
//     "instance_id", "instruction", "history" (the event list, or the older
//     list of [action, observation] pairs), "test_result" (with
//     "git_patch", and after evaluation a verdict), "metadata", "metrics"
//     and "error".
//
// The rules are on convertOpenHands.
const OpenHands Format = "openhands"

// ActionBrowse is the action type of a browser action (OpenHands' browse
// and browse_interactive).
const ActionBrowse = "browse"

// ohSkippedActions are actions that are no agent step: the system prompt,
// state changes, memory recalls and history condensation. They stay in
// extra.source with every other event.
var ohSkippedActions = setOf("system", "change_agent_state", "recall", "condensation", "condensation_request")

// importOpenHands reads an event-stream file whole and evaluation output
// as JSONL, telling them apart by the first byte of the content.
func (s *session) importOpenHands(r io.Reader) error {
	br := bufio.NewReader(r)
	c, err := firstContentByte(br)
	if err != nil {
		return fmt.Errorf("import %s: read: %w", s.name, err)
	}
	if c == '[' {
		return s.whole(br, convertOpenHands)
	}
	return s.lines(br, convertOpenHands)
}

// firstContentByte returns the first byte of br after a byte order mark and
// white space without consuming anything; 0 for empty content.
func firstContentByte(br *bufio.Reader) (byte, error) {
	for n := 64; ; n *= 2 {
		b, err := br.Peek(n)
		rest := bytes.TrimLeft(bytes.TrimPrefix(b, utf8BOM), " \t\r\n")
		if len(rest) > 0 {
			return rest[0], nil
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				return 0, nil
			}
			if errors.Is(err, bufio.ErrBufferFull) {
				return 0, nil // a buffer of white space: let the reader report it
			}
			return 0, err
		}
	}
}

// ohEvent is one decoded OpenHands event.
type ohEvent struct {
	index       int // position in the event list
	o           *object
	id, cause   string
	source      string
	action      string
	observation string
}

// convertOpenHands maps an OpenHands event list or output.jsonl record.
//
// Task: the description is the first user message event's text ("action"
// "message", "source" "user"), else the record's "instruction"; the id is
// "instance_id", else the file stem (event streams) or the trajectory id.
//
// Steps: one per agent action event in order, except the system prompt,
// state changes, recalls and condensations. Its observation is the
// observation event whose "cause" is the action's "id", else the next
// observation without a cause before the next step's action. Mapping by
// action: run → its command, classified like any shell command (bash,
// python, test, ...); run_ipython → python with the cell as code; edit,
// read and other tool actions → the tool call recorded in
// tool_call_metadata, classified like an OpenAI tool call
// (str_replace_editor create/str_replace → edit with the written code,
// view → view), or by the action's own args when there is none; finish →
// submit; think → think; browse/browse_interactive → browse; message →
// a step with only a thought (what the agent said). The thought is
// args.thought (for a message its content; for finish the final thought or
// message). is_error: an "error" observation, "success": false, a non-zero
// extras.metadata.exit_code (or extras.exit_code), else the text markers
// of the other formats ("ERROR:").
//
// Outcome: exit_status is "submitted" when the agent ran a finish action,
// else "error" when the record has an "error", else empty. success is the
// test_result verdict when there is one (test_result.resolved,
// test_result.report.resolved, test_result.success; reward 1 or 0 from
// it); without one it is the SWE-agent heuristic: "submitted" with a
// non-blank test_result.git_patch, which is the solution. An event stream
// has no patch, so it is never a success. extra.notes.success_basis says
// which rule applied.
//
// Extra: the event list is kept verbatim in extra.source ("events" for an
// event stream, "history" for a record, with every unmapped record field);
// extra.steps[i] holds the step's event positions, ids and kinds.
func convertOpenHands(rec record) (columnar.Trajectory, error) {
	var t columnar.Trajectory
	x := newExtra(OpenHands)
	var (
		raws                         []json.RawMessage
		top                          *object
		path                         string
		err                          error
		instanceID, tid, instruction string
		testResult, meta             *object
		runError                     string
	)
	switch k := jsonKind(rec.data); k {
	case "list":
		if raws, err = decodeList("", rec.data); err != nil {
			return t, err
		}
		x.setSource("events", rec.data)
	case "object":
		if top, err = decodeObject("", rec.data); err != nil {
			return t, err
		}
		path = "history"
		var ok bool
		if raws, ok, err = top.list("history"); err != nil {
			return t, err
		} else if !ok {
			return t, fieldErrorf("history", "missing")
		}
		if instanceID, err = top.id("instance_id"); err != nil {
			return t, err
		}
		for _, key := range []string{"trajectory_id", "id"} {
			if top.has(key) {
				if tid, err = top.id(key); err != nil {
					return t, err
				}
				top.consume(key)
				break
			}
		}
		if instruction, err = top.str("instruction"); err != nil {
			return t, err
		}
		if testResult, err = top.object("test_result"); err != nil {
			return t, err
		}
		if meta, err = top.object("metadata"); err != nil {
			return t, err
		}
		if runError, err = top.str("error"); err != nil {
			return t, err
		}
		top.consume("instance_id", "error")
	default:
		return t, fieldErrorf("", "expected a list of events or an object with a history, got %s", k)
	}

	events, err := ohEvents(path, raws)
	if err != nil {
		return t, err
	}

	// Which observation answers which action.
	byCause := map[string]int{}
	for i, e := range events {
		if e.observation != "" && e.cause != "" {
			if _, ok := byCause[e.cause]; !ok {
				byCause[e.cause] = i
			}
		}
	}
	isStep := func(e *ohEvent) bool {
		return e.action != "" && e.source != "user" && e.source != "environment" && !ohSkippedActions[e.action]
	}
	used := map[int]bool{}
	answer := func(i int) *ohEvent {
		e := &events[i]
		if e.id != "" {
			if j, ok := byCause[e.id]; ok && j > i {
				used[j] = true
				return &events[j]
			}
		}
		for j := i + 1; j < len(events); j++ {
			n := &events[j]
			if isStep(n) {
				break
			}
			if n.observation != "" && n.cause == "" && !used[j] && n.observation != "agent_state_changed" {
				used[j] = true
				return n
			}
		}
		return nil
	}

	var description, model, finalState string
	finished := false
	for i := range events {
		e := &events[i]
		if e.observation == "agent_state_changed" {
			if ex, err := e.o.object("extras"); err == nil && ex != nil {
				if s, err := ex.str("agent_state"); err == nil && s != "" {
					finalState = s
				}
			}
		}
		if description == "" && e.action == "message" && e.source == "user" {
			if description, err = ohMessageText(e); err != nil {
				return t, err
			}
		}
		if model == "" {
			model = lookupString(e.o, "tool_call_metadata", "model_response", "model")
		}
		if !isStep(e) {
			continue
		}
		st, err := ohStep(e)
		if err != nil {
			return t, err
		}
		f := map[string]any{"event_index": e.index, "action": e.action}
		if e.id != "" {
			f["event_id"] = e.id
		}
		if obs := answer(i); obs != nil {
			f["observation_index"] = obs.index
			f["observation"] = obs.observation
			if st.Observation, st.IsError, err = ohObservation(obs); err != nil {
				return t, err
			}
		}
		if st.ActionType == ActionSubmit {
			finished = true
		}
		st.Index = int32(len(t.Steps))
		t.Steps = append(t.Steps, st)
		x.addStep(f)
	}
	if finalState != "" {
		x.note("final_agent_state", finalState)
	}

	// Outcome.
	switch {
	case finished:
		t.Outcome.ExitStatus = "submitted"
	case runError != "":
		t.Outcome.ExitStatus = "error"
	}
	t.Outcome.ErrorInfo = runError
	verdict, hasVerdict, basis := false, false, ""
	if testResult != nil {
		if t.Solution.Code, err = testResult.str("git_patch"); err != nil {
			return t, err
		}
		if verdict, hasVerdict, basis, err = ohVerdict(testResult); err != nil {
			return t, err
		}
	}
	if hasVerdict {
		t.Outcome.Success = verdict
		if verdict {
			t.Outcome.Reward = 1
		}
		x.note("success_basis", basis)
	} else {
		t.Outcome.Success = finished && strings.TrimSpace(t.Solution.Code) != ""
		x.note("success_basis", `no test result: exit_status "submitted" (a finish action) and a non-blank test_result.git_patch`)
	}

	t.SchemaVersion = columnar.SchemaVersion
	switch {
	case top == nil:
		// An event list: one run per file, named as every single-run
		// file is (the stem and a hash of the file's bytes).
		id, err := wholeFileID(rec)
		if err != nil {
			return t, err
		}
		t.TrajectoryID = id
	case tid != "":
		t.TrajectoryID = tid
	default:
		base := instanceID
		if base == "" {
			base = rec.stem
		}
		sum := sha256.Sum256(rec.data)
		t.TrajectoryID = base + "-" + hex.EncodeToString(sum[:6])
	}
	t.Task.ID = instanceID
	if t.Task.ID == "" && top == nil {
		t.Task.ID = rec.stem
	}
	if t.Task.ID == "" {
		t.Task.ID = t.TrajectoryID
	}
	t.Task.Description = strings.TrimSpace(description)
	if t.Task.Description == "" && instruction != "" {
		t.Task.Description = strings.TrimSpace(instruction)
		top.consume("instruction")
	}
	t.Task.Domain = "swe"
	t.Agent.Name = lookupString(meta, "agent_class")
	if t.Agent.Name == "" {
		t.Agent.Name = "openhands"
	}
	if m := lookupString(meta, "llm_config", "model"); m != "" {
		model = m
	} else if m := lookupString(meta, "model_name"); m != "" {
		model = m
	}
	t.Agent.Model = model
	t.Solution.Language = solutionLanguage(t.Solution.Code)
	t.CreatedAt = epoch
	for _, e := range events {
		if raw, ok := e.o.raw("timestamp"); ok {
			if ts, err := parseTimestamp("timestamp", raw); err == nil {
				t.CreatedAt = ts
				break
			}
		}
	}
	if top != nil {
		x.addSource(top.rest())
	}
	t.Metadata = map[string]string{"source_format": string(OpenHands), "source_name": rec.stem}
	if t.Extra, err = x.build(); err != nil {
		return t, err
	}
	return t, nil
}

// ohEvents decodes the events of the list at path; pairs ([action,
// observation], the older history form) are flattened, and empty objects
// in them dropped.
func ohEvents(path string, raws []json.RawMessage) ([]ohEvent, error) {
	var events []ohEvent
	add := func(p string, raw json.RawMessage) error {
		o, err := decodeObject(p, raw)
		if err != nil {
			return err
		}
		if len(o.fields) == 0 {
			return nil
		}
		e := ohEvent{index: len(events), o: o}
		if e.id, err = o.id("id"); err != nil {
			return err
		}
		if e.cause, err = o.id("cause"); err != nil {
			return err
		}
		if e.source, err = o.str("source"); err != nil {
			return err
		}
		if e.action, err = o.str("action"); err != nil {
			return err
		}
		if e.observation, err = o.str("observation"); err != nil {
			return err
		}
		if e.action == "" && e.observation == "" {
			return fieldErrorf(p, "event has neither an action nor an observation")
		}
		events = append(events, e)
		return nil
	}
	for i, raw := range raws {
		p := indexPath(path, i)
		if jsonKind(raw) == "list" {
			pair, err := decodeList(p, raw)
			if err != nil {
				return nil, err
			}
			for j, r := range pair {
				if err := add(indexPath(p, j), r); err != nil {
					return nil, err
				}
			}
			continue
		}
		if err := add(p, raw); err != nil {
			return nil, err
		}
	}
	return events, nil
}

// ohMessageText is a message event's text: args.content, else message.
func ohMessageText(e *ohEvent) (string, error) {
	args, err := e.o.object("args")
	if err != nil {
		return "", err
	}
	if args != nil && args.has("content") {
		return args.str("content")
	}
	return e.o.str("message")
}

// ohStep maps an agent action event by the rules on convertOpenHands; the
// observation is filled in by the caller.
func ohStep(e *ohEvent) (columnar.Step, error) {
	var st columnar.Step
	args, err := e.o.object("args")
	if err != nil {
		return st, err
	}
	if args == nil {
		args = &object{path: childPath(e.o.path, "args"), fields: map[string]json.RawMessage{}, consumed: map[string]bool{}}
	}
	arg := func(keys ...string) string {
		s, _, err := args.firstStr(keys...)
		if err != nil {
			return ""
		}
		return s
	}
	st.Thought = strings.TrimSpace(arg("thought"))
	switch e.action {
	case "run":
		st.Action = arg("command")
		st.ActionType, st.Code = classifyCommand(st.Action)
		if st.ActionType == "" {
			st.ActionType = ActionBash // an empty command reads the running process's output
		}
		return st, nil
	case "run_ipython":
		st.Action = arg("code")
		st.ActionType, st.Code = ActionPython, st.Action
		return st, nil
	case "message":
		text, err := ohMessageText(e)
		if err != nil {
			return st, err
		}
		st.Thought = strings.TrimSpace(text)
		return st, nil
	case "finish":
		if t := strings.TrimSpace(arg("final_thought")); t != "" {
			st.Thought = t
		}
		if st.Thought == "" {
			msg, _ := e.o.str("message")
			st.Thought = strings.TrimSpace(msg)
		}
		st.Action, st.ActionType = "finish", ActionSubmit
		if tc, ok := ohToolCall(e); ok {
			st.Action, _, _ = classifyToolCall(tc.name, tc.args, tc.argsText)
		}
		return st, nil
	case "think":
		st.Action, st.ActionType = "think", ActionThink
		return st, nil
	case "browse":
		st.Action, st.ActionType = arg("url"), ActionBrowse
		return st, nil
	case "browse_interactive":
		st.Action, st.ActionType = arg("browser_actions"), ActionBrowse
		return st, nil
	}
	if tc, ok := ohToolCall(e); ok {
		st.Action, st.ActionType, st.Code = classifyToolCall(tc.name, tc.args, tc.argsText)
		return st, nil
	}
	// No tool call recorded: the action's own args.
	rest := map[string]json.RawMessage{}
	for k, v := range args.fields {
		if k != "thought" {
			rest[k] = v
		}
	}
	raw, err := marshalJSON(rest)
	if err != nil {
		return st, err
	}
	st.Action = e.action + " " + string(raw)
	switch e.action {
	case "edit", "write":
		st.ActionType = ActionEdit
		switch arg("command") {
		case "view":
			st.ActionType = ActionView
		case "create":
			st.Code = arg("file_text", "content")
		case "str_replace", "insert":
			st.Code = arg("new_str")
		default:
			st.Code = arg("content", "file_text", "new_str")
		}
	case "read":
		st.ActionType = ActionView
	default:
		st.ActionType = ActionFunctionCall
	}
	return st, nil
}

// ohToolCall returns the function call an action event was made from:
// tool_call_metadata names the function and the call id, and its
// model_response holds the calls of the model's message.
func ohToolCall(e *ohEvent) (toolCall, bool) {
	md, err := e.o.object("tool_call_metadata")
	if err != nil || md == nil {
		return toolCall{}, false
	}
	name, _ := md.str("function_name")
	id, _ := md.str("tool_call_id")
	resp, err := md.object("model_response")
	if err != nil || resp == nil {
		return toolCall{}, false
	}
	choices, _, err := resp.list("choices")
	if err != nil {
		return toolCall{}, false
	}
	for i, c := range choices {
		co, err := decodeObject(indexPath(childPath(resp.path, "choices"), i), c)
		if err != nil {
			continue
		}
		msg, err := co.object("message")
		if err != nil || msg == nil {
			continue
		}
		calls, _, err := msg.list("tool_calls")
		if err != nil {
			continue
		}
		for j, raw := range calls {
			tc, err := parseToolCall(indexPath(childPath(msg.path, "tool_calls"), j), raw)
			if err != nil {
				continue
			}
			if tc.id == id || id == "" && tc.name == name {
				return tc, true
			}
		}
	}
	return toolCall{}, false
}

// ohObservation reads an observation event: its text ("content", else
// "message") and whether the action failed.
func ohObservation(e *ohEvent) (string, bool, error) {
	text, err := e.o.str("content")
	if err != nil {
		return "", false, err
	}
	if _, ok := e.o.fields["content"]; !ok {
		if text, err = e.o.str("message"); err != nil {
			return "", false, err
		}
	}
	if e.observation == "error" {
		return text, true, nil
	}
	if ok, present, err := e.o.truth("success"); err != nil {
		return "", false, err
	} else if present && !ok {
		return text, true, nil
	}
	ex, err := e.o.object("extras")
	if err != nil {
		return "", false, err
	}
	if ex != nil {
		md, err := ex.object("metadata")
		if err != nil {
			return "", false, err
		}
		for _, o := range []*object{md, ex} {
			if o == nil {
				continue
			}
			if rc, ok, err := o.number("exit_code"); err != nil {
				return "", false, err
			} else if ok {
				return text, rc != 0, nil
			}
		}
	}
	return text, observationFailed(text), nil
}

// ohVerdict reads a test_result's verdict: "resolved", then
// report.resolved (SWE-bench evaluation), then "success".
func ohVerdict(tr *object) (verdict, ok bool, basis string, err error) {
	if verdict, ok, err = tr.truth("resolved"); err != nil || ok {
		return verdict, ok, "test_result.resolved", err
	}
	report, err := tr.object("report")
	if err != nil {
		return false, false, "", err
	}
	if report != nil {
		if verdict, ok, err = report.truth("resolved"); err != nil || ok {
			return verdict, ok, "test_result.report.resolved", err
		}
	}
	verdict, ok, err = tr.truth("success")
	return verdict, ok, "test_result.success", err
}
