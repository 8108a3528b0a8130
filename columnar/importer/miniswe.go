package importer

import (
	"encoding/json"
	"regexp"
	"strings"
	"time"

	"github.com/atlas-ai/atlas-learn/columnar"
)

// miniBlockRE matches the bash block mini-swe-agent reads its action from.
var miniBlockRE = regexp.MustCompile("(?s)```(?:mswea_bash_command|bash)\\s*\\n(.*?)\\n```")

// convertMiniSWEAgent maps a mini-swe-agent trajectory: the object form
// with info/messages/trajectory_format or the older bare message list.
//
// Steps. A step is one action of an assistant message: its thought (on the
// message's first step only) and one command, read from extra.actions, from
// the message's bash tool calls, or from the one bash block of its text. An
// assistant message with several tool calls (mini-swe-agent-1.1 runs with
// parallel_tool_calls) becomes several steps, in call order. A step's
// observation is the message that answers its action:
//
//   - a tool call is answered by the tool message with its tool_call_id,
//     wherever it stands among the replies;
//   - a tool call without one was never reported because the run ended
//     while executing the message's actions (mini-swe-agent raises
//     Submitted, or an uncaught error, before it writes any tool message
//     of that message): the exit message answers the message's first submit
//     call, or its last call when none submits;
//   - a text action (no tool call id) is answered by the reply in its
//     position, as in older runs.
//
// The observation is what the model saw: the answering message's content,
// with mini-swe-agent's standard <returncode>/<output> template unwrapped
// (the return code goes to extra.steps[i].returncode); a content the template
// does not match whole (a truncated output, an exception, a warning) is kept
// as is. The untruncated command output, extra.raw_output, is kept in
// extra.steps[i].raw_output where it differs from the observation, and in
// extra.source.messages with every other message field.
//
// A step is an error when its output carries a structured return code
// other than 0 (extra.returncode), an exception_info (a timeout, a command
// not executed), a FormatError interrupt, or an exit status other than
// Submitted; without a structured return code the text markers of
// observationFailed apply, as for older runs. A model turn rejected as a
// format error that mini-swe-agent 2 records only as a user message with
// extra.interrupt_type "FormatError" (no assistant message before it)
// becomes a step without an action whose observation is that message.
func convertMiniSWEAgent(rec record) (columnar.Trajectory, error) {
	var t columnar.Trajectory
	x := newExtra(MiniSWEAgent)
	var (
		msgsRaw []json.RawMessage
		msgPath string
		info    *object
		err     error
		// instanceID is a top-level instance_id, which some batch
		// runners add; the file name stem is the task id otherwise.
		instanceID string
	)
	switch k := jsonKind(rec.data); k {
	case "list":
		if msgsRaw, err = decodeList("", rec.data); err != nil {
			return t, err
		}
		x.setSource("messages", rec.data)
		x.note("source_shape", "bare message list (older mini-swe-agent)")
	case "object":
		top, err := decodeObject("", rec.data)
		if err != nil {
			return t, err
		}
		msgPath = "messages"
		var ok bool
		if msgsRaw, ok, err = top.list("messages"); err != nil {
			return t, err
		} else if !ok {
			return t, fieldErrorf("messages", "missing")
		}
		if _, err := top.str("trajectory_format"); err != nil {
			return t, err
		}
		if info, err = top.object("info"); err != nil {
			return t, err
		}
		if info != nil {
			top.consume("info")
		}
		if instanceID, err = top.str("instance_id"); err != nil {
			return t, err
		}
		top.consume("instance_id")
		x.addSource(top.rest())
	default:
		return t, fieldErrorf("", "expected an object or a list of messages, got %s", k)
	}

	msgs, err := parseMessages(msgPath, msgsRaw)
	if err != nil {
		return t, err
	}
	var (
		lastObs *chatMessage
		exitMsg *chatMessage     // the last message with role "exit"
		used    = map[int]bool{} // messages that answered a step
		kept    bool             // some step keeps a raw_output
	)
	addStep := func(st columnar.Step, fields map[string]any, obs *chatMessage) error {
		if obs != nil {
			used[obs.index] = true
			fields["observation_index"] = obs.index
			o, err := miniObservation(obs)
			if err != nil {
				return err
			}
			st.Observation = o.text
			st.IsError = st.IsError || o.failed
			if o.rcKnown {
				fields["returncode"] = o.rc
			}
			if o.hasRaw && o.raw != o.text {
				fields["raw_output"] = o.raw
				kept = true
			}
		}
		lastObs = obs
		st.Index = int32(len(t.Steps))
		t.Steps = append(t.Steps, st)
		x.addStep(fields)
		return nil
	}
	for k := range msgs {
		m := &msgs[k]
		switch {
		case m.role == "exit":
			exitMsg = m
		case m.role == "assistant":
			acts, thought, found, err := miniActions(m)
			if err != nil {
				return t, err
			}
			if len(acts) == 0 {
				acts = []miniAction{{}} // a step without an action; its reply is the format error
			}
			answers := miniAnswers(replies(msgs, k), acts)
			for ai, a := range acts {
				st := columnar.Step{Action: a.command}
				if ai == 0 {
					st.Thought = thought
				}
				st.ActionType, st.Code = classifyCommand(a.command)
				fields := map[string]any{"message_index": m.index}
				if found > 1 {
					fields["actions_found"] = found
				}
				if a.toolCallID != "" {
					fields["tool_call_id"] = a.toolCallID
				}
				if err := addStep(st, fields, answers[ai]); err != nil {
					return t, err
				}
			}
		case !used[m.index] && m.role == "user":
			rejected, thought := miniRejectedTurn(m)
			if !rejected {
				continue
			}
			st := columnar.Step{Thought: thought, IsError: true}
			if err := addStep(st, map[string]any{"format_error": true}, m); err != nil {
				return t, err
			}
		}
	}
	if kept {
		x.note("raw_output", "steps[i].raw_output is the untruncated extra.raw_output of the answering message where it differs from the observation the model saw")
	}

	var exitStatus, submission string
	if info != nil {
		if exitStatus, err = info.str("exit_status"); err != nil {
			return t, err
		}
		if submission, err = info.str("submission"); err != nil {
			return t, err
		}
		errorInfo, key, err := info.firstStr("traceback", "exception_str", "error")
		if err != nil {
			return t, err
		}
		t.Outcome.ErrorInfo = errorInfo
		info.consume("exit_status", "submission", key)
		if rest := info.rest(); rest != nil {
			raw, err := marshalJSON(rest)
			if err != nil {
				return t, err
			}
			x.setSource("info", raw)
		}
	}
	switch {
	case exitStatus == "" && exitMsg != nil:
		// mini-swe-agent ends every run with an exit message whose extra
		// holds what it also copies into info; read it when info does not.
		if exitStatus, submission, err = miniExit(exitMsg, &t.Outcome); err != nil {
			return t, err
		}
		x.note("exit_status_source", "the exit message's extra: info has no exit_status")
		x.note("success_basis", `exit_status == "Submitted" and a non-blank submission; the source holds no test result`)
	case info != nil:
		x.note("success_basis", `exit_status == "Submitted" and a non-blank submission; the source holds no test result`)
	default:
		// Without info, mini-swe-agent's own rule tells a submission: the
		// sentinel command answered by a message that is not a command
		// result.
		n := len(t.Steps)
		if n > 0 && t.Steps[n-1].ActionType == ActionSubmit && lastObs != nil {
			if _, hasRC := returncodeOf(lastObs.content); !hasRC {
				exitStatus = "Submitted"
				submission = lastObs.content
				x.note("exit_status_inferred", "final submit command answered by its output: mini-swe-agent's Submitted exit")
			}
		}
		x.note("success_basis", `no info object: exit_status inferred from the final submit, success when "Submitted" with a non-blank submission`)
	}

	t.SchemaVersion = columnar.SchemaVersion
	if t.TrajectoryID, err = wholeFileID(rec); err != nil {
		return t, err
	}
	t.Task.ID = instanceID
	if t.Task.ID == "" {
		t.Task.ID = rec.stem
	}
	prompt := firstUser(msgs)
	if task, ok := miniTaskFromTemplate(lookupString(info, "config", "agent", "instance_template"), prompt); ok {
		t.Task.Description = task
	} else {
		t.Task.Description = miniTaskDescription(prompt)
	}
	t.Task.Domain = "swe"
	t.Agent.Name = "mini-swe-agent"
	t.Agent.Model = lookupString(info, "config", "model", "model_name")
	t.Outcome.ExitStatus = exitStatus
	t.Outcome.Success = exitStatus == "Submitted" && strings.TrimSpace(submission) != ""
	t.Solution.Code = submission
	t.Solution.Language = solutionLanguage(submission)
	t.CreatedAt = miniCreatedAt(msgs)
	t.Metadata = map[string]string{"source_format": string(MiniSWEAgent), "source_name": rec.stem}
	if t.Extra, err = x.build(); err != nil {
		return t, err
	}
	return t, nil
}

// miniExit reads an exit message's extra: the exit status, the submission
// and, into out, the error a failed run ended with.
func miniExit(m *chatMessage, out *columnar.Outcome) (exitStatus, submission string, err error) {
	ex, err := m.obj.object("extra")
	if err != nil || ex == nil {
		return "", "", err
	}
	if exitStatus, err = ex.str("exit_status"); err != nil {
		return "", "", err
	}
	if submission, err = ex.str("submission"); err != nil {
		return "", "", err
	}
	if out.ErrorInfo == "" {
		if out.ErrorInfo, _, err = ex.firstStr("traceback", "exception_str"); err != nil {
			return "", "", err
		}
	}
	return exitStatus, submission, nil
}

// miniAction is one command of an assistant message.
type miniAction struct {
	command    string
	toolCallID string
}

// miniActions returns an assistant message's actions, read from
// extra.actions (mini-swe-agent 2), from bash tool calls, or from the one
// bash block of its text, and its thought: the text before the first bash
// block for text actions, the whole text for tool calls, else the
// reasoning content. found is the number of bash blocks of a text action.
func miniActions(m *chatMessage) (acts []miniAction, thought string, found int, err error) {
	p := indexPath("messages", m.index)
	ex, err := m.obj.object("extra")
	if err != nil {
		return nil, "", 0, err
	}
	if ex != nil {
		list, _, err := ex.list("actions")
		if err != nil {
			return nil, "", 0, err
		}
		for i, raw := range list {
			ao, err := decodeObject(indexPath(childPath(p, "extra.actions"), i), raw)
			if err != nil {
				return nil, "", 0, err
			}
			var a miniAction
			if a.command, err = ao.str("command"); err != nil {
				return nil, "", 0, err
			}
			if a.toolCallID, err = ao.str("tool_call_id"); err != nil {
				return nil, "", 0, err
			}
			acts = append(acts, a)
		}
	}
	if len(acts) == 0 {
		for _, tc := range m.toolCalls {
			action, _, _ := classifyToolCall(tc.name, tc.args, tc.argsText)
			acts = append(acts, miniAction{command: action, toolCallID: tc.id})
		}
	}
	toolCalling := len(m.toolCalls) > 0
	for _, a := range acts {
		toolCalling = toolCalling || a.toolCallID != ""
	}
	thought = cleanThought(m.content)
	if !toolCalling {
		// The bash blocks of the text are the actions; the thought is
		// what comes before the first.
		blocks := miniBlockRE.FindAllStringSubmatchIndex(m.content, -1)
		found = len(blocks)
		if found >= 1 {
			thought = cleanThought(m.content[:blocks[0][0]])
		}
		if len(acts) == 0 && found == 1 {
			acts = []miniAction{{command: m.content[blocks[0][2]:blocks[0][3]]}}
		}
	}
	if thought == "" {
		thought = strings.TrimSpace(m.reasoning)
	}
	return acts, thought, found, nil
}

// miniAnswers finds the message answering each action of an assistant
// message among its replies, by the rules on convertMiniSWEAgent; an
// element is nil when nothing answers the action.
func miniAnswers(reps []chatMessage, acts []miniAction) []*chatMessage {
	out := make([]*chatMessage, len(acts))
	var exit *chatMessage
	for k := range reps {
		if reps[k].role == "exit" {
			exit = &reps[k]
		}
	}
	var unanswered []int // tool calls without a tool message
	n := 0               // text actions so far: the n-th takes the n-th reply
	for i, a := range acts {
		if a.toolCallID == "" {
			out[i] = pickReply(reps, "", n)
			n++
			continue
		}
		for k := range reps {
			if reps[k].role == "tool" && reps[k].toolCallID == a.toolCallID {
				out[i] = &reps[k]
				break
			}
		}
		if out[i] == nil {
			unanswered = append(unanswered, i)
		}
	}
	if exit != nil && len(unanswered) > 0 {
		target := unanswered[len(unanswered)-1]
		for _, i := range unanswered {
			if at, _ := classifyCommand(acts[i].command); at == ActionSubmit {
				target = i
				break
			}
		}
		out[target] = exit
	}
	return out
}

// pickReply finds the message answering action i of an assistant message:
// the tool message with its tool_call_id, else the i-th non-assistant
// reply.
func pickReply(reps []chatMessage, toolCallID string, i int) *chatMessage {
	if toolCallID != "" {
		for k := range reps {
			if reps[k].toolCallID == toolCallID {
				return &reps[k]
			}
		}
	}
	n := 0
	for k := range reps {
		if reps[k].role == "system" {
			continue
		}
		if n == i {
			return &reps[k]
		}
		n++
	}
	return nil
}

// miniRejectedTurn reports whether a user message is a format error that
// stands for a model turn of its own (mini-swe-agent 2 does not record the
// rejected response as an assistant message), and the thought of that
// turn, read from the response kept in extra.response when there is one.
//
// The marker is optional, so a message whose extra or interrupt_type has
// another shape is simply not a rejected turn; it stays in the source.
func miniRejectedTurn(m *chatMessage) (bool, string) {
	ex, err := m.obj.object("extra")
	if err != nil || ex == nil {
		return false, ""
	}
	if it, err := ex.str("interrupt_type"); err != nil || it != "FormatError" {
		return false, ""
	}
	resp, err := ex.object("response")
	if err != nil || resp == nil {
		// A response that is not an object (a repr) stays in the source.
		return true, ""
	}
	choices, _, err := resp.list("choices")
	if err != nil || len(choices) == 0 {
		return true, ""
	}
	c, err := decodeObject(indexPath(childPath(resp.path, "choices"), 0), choices[0])
	if err != nil {
		return true, ""
	}
	thought := cleanThought(lookupString(c, "message", "content"))
	if thought == "" {
		thought = strings.TrimSpace(lookupString(c, "message", "reasoning_content"))
	}
	return true, thought
}

// miniObs is a reply read as the observation of a step.
type miniObs struct {
	text    string // what the model saw, the standard template unwrapped
	raw     string // extra.raw_output, the untruncated command output
	hasRaw  bool
	rc      int
	rcKnown bool
	failed  bool
}

// miniObservation reads a reply: the observation the model saw (the
// content, unwrapped from the standard <returncode>/<output> template when
// it matches whole), the untruncated extra.raw_output when present, the
// return code when known, and whether the action failed.
func miniObservation(m *chatMessage) (miniObs, error) {
	o := miniObs{text: unwrapMiniObservation(m.content)}
	ex, err := m.obj.object("extra")
	if err != nil {
		return o, err
	}
	structured := false
	if ex != nil {
		if ex.has("raw_output") {
			if o.raw, err = ex.str("raw_output"); err != nil {
				return o, err
			}
			o.hasRaw = true
		}
		if f, ok, err := ex.number("returncode"); err != nil {
			return o, err
		} else if ok {
			o.rc, o.rcKnown, structured = int(f), true, true
		}
		if s, _ := ex.str("exception_info"); s != "" {
			o.failed = true
		}
		if s, _ := ex.str("interrupt_type"); s == "FormatError" {
			o.failed = true
		}
		if m.role == "exit" {
			if s, _ := ex.str("exit_status"); s != "" && s != "Submitted" {
				o.failed = true
			}
		}
	}
	if !structured {
		// Older runs: the return code and failure markers are read off
		// the text.
		o.rc, o.rcKnown = returncodeOf(m.content)
		if observationFailed(m.content) {
			o.failed = true
		}
	}
	if o.rcKnown && o.rc != 0 {
		o.failed = true
	}
	return o, nil
}

// miniTaskFromTemplate reads the task out of a prompt rendered from
// mini-swe-agent's instance_template (info.config.agent.instance_template):
// the text between the template's literal text around {{task}}. ok is
// false when the template has no {{task}}, when no literal text separates
// it from other template code, or when the prompt does not hold that text.
func miniTaskFromTemplate(tmpl, prompt string) (string, bool) {
	loc := taskVarRE.FindStringIndex(tmpl)
	if loc == nil {
		return "", false
	}
	before, after := tmpl[:loc[0]], tmpl[loc[1]:]
	cutBefore, cutAfter := false, false
	for _, tag := range []string{"}}", "%}", "#}"} {
		if i := strings.LastIndex(before, tag); i >= 0 {
			before, cutBefore = before[i+len(tag):], true
		}
	}
	for _, tag := range []string{"{{", "{%", "{#"} {
		if i := strings.Index(after, tag); i >= 0 {
			after, cutAfter = after[:i], true
		}
	}
	before, after = strings.TrimSpace(before), strings.TrimSpace(after)
	if before == "" && cutBefore || after == "" && cutAfter {
		// Only other template text borders the task: where it starts or
		// ends cannot be told.
		return "", false
	}
	rest := prompt
	if before != "" {
		i := strings.Index(rest, before)
		if i < 0 {
			return "", false
		}
		rest = rest[i+len(before):]
	}
	if after != "" {
		j := strings.Index(rest, after)
		if j < 0 {
			return "", false
		}
		rest = rest[:j]
	}
	return strings.TrimSpace(rest), true
}

// taskVarRE matches the {{task}} of an instance template, with Jinja's
// whitespace control.
var taskVarRE = regexp.MustCompile(`\{\{-?\s*task\s*-?\}\}`)

// miniTaskDescription reads the task out of mini-swe-agent's instance
// prompt: the <pr_description> element of the SWE-bench prompt, or the
// text after "Please solve this issue: " up to the workflow boilerplate;
// other prompts are kept whole.
func miniTaskDescription(prompt string) string {
	if _, after, ok := strings.Cut(prompt, "<pr_description>"); ok {
		if before, _, ok := strings.Cut(after, "</pr_description>"); ok {
			return strings.TrimSpace(before)
		}
	}
	if after, ok := strings.CutPrefix(prompt, "Please solve this issue: "); ok {
		if before, _, ok := strings.Cut(after, "\n\nYou can execute bash commands"); ok {
			return strings.TrimSpace(before)
		}
		return strings.TrimSpace(after)
	}
	return strings.TrimSpace(prompt)
}

// miniCreatedAt is the earliest extra.timestamp of the messages
// (mini-swe-agent 2 stamps observations), else the epoch.
func miniCreatedAt(msgs []chatMessage) time.Time {
	var first time.Time
	for _, m := range msgs {
		ex, err := m.obj.object("extra")
		if err != nil || ex == nil {
			continue
		}
		raw, ok := ex.raw("timestamp")
		if !ok {
			continue
		}
		ts, err := parseTimestamp("timestamp", raw)
		if err != nil {
			continue
		}
		if first.IsZero() || ts.Before(first) {
			first = ts
		}
	}
	if first.IsZero() {
		return epoch
	}
	return first
}
