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
// Each assistant message yields one step per action (normally one); its
// observation is the reply message that answers the action.
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
	var lastObs *chatMessage
	for k := range msgs {
		m := &msgs[k]
		if m.role != "assistant" {
			continue
		}
		acts, thought, found, err := miniActions(m)
		if err != nil {
			return t, err
		}
		reps := replies(msgs, k)
		if len(acts) == 0 {
			acts = []miniAction{{}} // a step without an action; its reply is the format error
		}
		for ai, a := range acts {
			st := columnar.Step{Index: int32(len(t.Steps)), Action: a.command}
			if ai == 0 {
				st.Thought = thought
			}
			st.ActionType, st.Code = classifyCommand(a.command)
			fields := map[string]any{"message_index": m.index}
			if found > 1 {
				fields["actions_found"] = found
			}
			obs := pickReply(reps, a.toolCallID, ai)
			if obs != nil {
				fields["observation_index"] = obs.index
				text, rc, rcKnown, failed, err := miniObservation(obs)
				if err != nil {
					return t, err
				}
				st.Observation = text
				st.IsError = failed
				if rcKnown {
					fields["returncode"] = rc
				}
			}
			lastObs = obs
			t.Steps = append(t.Steps, st)
			x.addStep(fields)
		}
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
		x.note("success_basis", `exit_status == "Submitted" and a non-blank submission; the source holds no test result`)
	} else {
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
	t.TrajectoryID = rec.stem
	t.Task.ID = instanceID
	if t.Task.ID == "" {
		t.Task.ID = rec.stem
	}
	t.Task.Description = miniTaskDescription(firstUser(msgs))
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

// miniAction is one command of an assistant message.
type miniAction struct {
	command    string
	toolCallID string
}

// miniActions returns an assistant message's actions, read from
// extra.actions (mini-swe-agent 2), from bash tool calls, or from the one
// bash block of its text, and its thought; found is the number of bash
// blocks in the text.
func miniActions(m *chatMessage) (acts []miniAction, thought string, found int, err error) {
	blocks := miniBlockRE.FindAllStringSubmatchIndex(m.content, -1)
	found = len(blocks)
	thought = cleanThought(m.content)
	if found >= 1 {
		thought = cleanThought(m.content[:blocks[0][0]])
	}
	if thought == "" {
		thought = strings.TrimSpace(m.reasoning)
	}
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
		if len(acts) > 0 {
			return acts, thought, found, nil
		}
	}
	for _, tc := range m.toolCalls {
		action, _, _ := classifyToolCall(tc.name, tc.args, tc.argsText)
		acts = append(acts, miniAction{command: action, toolCallID: tc.id})
	}
	if len(acts) > 0 {
		return acts, thought, found, nil
	}
	if found == 1 {
		cmd := m.content[blocks[0][2]:blocks[0][3]]
		return []miniAction{{command: cmd}}, thought, found, nil
	}
	return nil, thought, found, nil
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

// miniObservation reads a reply: the command output (extra.raw_output, or
// the <output> of the standard template, else the content as is), the
// return code when known, and whether the action failed.
func miniObservation(m *chatMessage) (text string, rc int, rcKnown, failed bool, err error) {
	text = unwrapMiniObservation(m.content)
	rc, rcKnown = returncodeOf(m.content)
	ex, err := m.obj.object("extra")
	if err != nil {
		return "", 0, false, false, err
	}
	if ex != nil {
		if ex.has("raw_output") {
			if text, err = ex.str("raw_output"); err != nil {
				return "", 0, false, false, err
			}
		}
		if f, ok, err := ex.number("returncode"); err != nil {
			return "", 0, false, false, err
		} else if ok {
			rc, rcKnown = int(f), true
		}
		if s, _ := ex.str("exception_info"); s != "" {
			failed = true
		}
		if s, _ := ex.str("interrupt_type"); s == "FormatError" {
			failed = true
		}
	}
	if rcKnown && rc != 0 || observationFailed(m.content) {
		failed = true
	}
	return text, rc, rcKnown, failed, nil
}

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
