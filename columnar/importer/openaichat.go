package importer

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"

	"github.com/atlas-ai/atlas-learn/columnar"
)

// Column names read from an OpenAI-chat record, by meaning, in order of
// preference. Every other column is kept in extra.source.
var (
	chatIDKeys        = []string{"trajectory_id", "id"}
	chatInstanceKeys  = []string{"instance_id", "task_id"}
	chatModelKeys     = []string{"model", "model_name"}
	chatAgentKeys     = []string{"agent", "agent_name"}
	chatPatchKeys     = []string{"patch", "model_patch", "generated_patch", "submission", "solution"}
	chatTaskKeys      = []string{"problem_statement", "instruction", "task_description"}
	chatVerdictKeys   = []string{"resolved", "target", "success"}
	chatTimestampKeys = []string{"created_at", "timestamp"}
)

// convertOpenAIChat maps one OpenAI-chat JSONL record. Steps come from the
// assistant messages: one per tool call, observed by the tool message with
// its tool_call_id (a message with several calls gives several steps, its
// thought on the first). Calls written in the text as
// <function=name><parameter=p>...</parameter></function> (SWE-smith,
// swe-play) count as tool calls, the thought being the text before the
// first, each observed by the reply in its position. A message without
// calls is one step whose action is its last fenced code block (or
// <command> element) and whose observation is the text of the messages
// that follow it.
func convertOpenAIChat(rec record) (columnar.Trajectory, error) {
	var t columnar.Trajectory
	top, err := decodeObject("", rec.data)
	if err != nil {
		return t, err
	}
	x := newExtra(OpenAIChat)

	msgKey := "messages"
	if _, ok := top.fields["messages"]; !ok && top.has("trajectory") {
		msgKey = "trajectory" // nebius/SWE-agent-trajectories
	}
	raws, ok, err := top.list(msgKey)
	if err != nil {
		return t, err
	}
	if !ok {
		return t, fieldErrorf("messages", "missing")
	}
	msgs, err := parseMessages(msgKey, raws)
	if err != nil {
		return t, err
	}
	// The message list itself stays in extra.source: it also holds the
	// system prompt, the task prompt and any fields steps have no room for.

	str := func(keys []string) (string, error) {
		s, key, err := top.firstStr(keys...)
		if key != "" {
			top.consume(key)
		}
		return s, err
	}
	var tid string
	for _, k := range chatIDKeys {
		if top.has(k) {
			if tid, err = top.id(k); err != nil {
				return t, err
			}
			top.consume(k)
			break
		}
	}
	instanceID, err := str(chatInstanceKeys)
	if err != nil {
		return t, err
	}
	if t.Agent.Model, err = str(chatModelKeys); err != nil {
		return t, err
	}
	if t.Agent.Name, err = str(chatAgentKeys); err != nil {
		return t, err
	}
	if t.Outcome.ExitStatus, err = str([]string{"exit_status"}); err != nil {
		return t, err
	}
	if t.Outcome.ErrorInfo, err = str([]string{"error_info"}); err != nil {
		return t, err
	}
	if t.Solution.Code, err = str(chatPatchKeys); err != nil {
		return t, err
	}
	if t.Solution.Language, err = str([]string{"language"}); err != nil {
		return t, err
	}
	if t.Task.Description, err = str(chatTaskKeys); err != nil {
		return t, err
	}
	if t.Task.Domain, err = str([]string{"domain"}); err != nil {
		return t, err
	}

	verdictKey := ""
	for _, k := range chatVerdictKeys {
		if top.has(k) {
			if t.Outcome.Success, _, err = top.truth(k); err != nil {
				return t, err
			}
			verdictKey = k
			top.consume(k)
			break
		}
	}
	reward, hasReward, err := top.number("reward")
	if err != nil {
		return t, err
	}
	switch {
	case hasReward:
		t.Outcome.Reward = reward
		top.consume("reward")
	case verdictKey != "" && t.Outcome.Success:
		t.Outcome.Reward = 1
	}
	if verdictKey != "" {
		x.note("success_basis", "column "+verdictKey)
	} else {
		t.Outcome.Success = t.Outcome.ExitStatus == "submitted" && strings.TrimSpace(t.Solution.Code) != ""
		x.note("success_basis", `no verdict column: exit_status == "submitted" and a non-blank patch`)
	}

	t.CreatedAt = epoch
	for _, k := range chatTimestampKeys {
		if raw, ok := top.raw(k); ok {
			if t.CreatedAt, err = parseTimestamp(k, raw); err != nil {
				return t, err
			}
			top.consume(k)
			break
		}
	}

	for k := range msgs {
		m := &msgs[k]
		if m.role != "assistant" {
			continue
		}
		steps, fields, err := chatSteps(msgs, k)
		if err != nil {
			return t, err
		}
		for i := range steps {
			steps[i].Index = int32(len(t.Steps))
			t.Steps = append(t.Steps, steps[i])
			x.addStep(fields[i])
		}
	}
	x.addSource(top.rest())

	t.SchemaVersion = columnar.SchemaVersion
	t.TrajectoryID = tid
	if t.TrajectoryID == "" {
		base := instanceID
		if base == "" {
			base = rec.stem
		}
		sum := sha256.Sum256(rec.data)
		t.TrajectoryID = base + "-" + hex.EncodeToString(sum[:6])
	}
	t.Task.ID = instanceID
	if t.Task.ID == "" {
		t.Task.ID = t.TrajectoryID
	}
	if t.Task.Description == "" {
		t.Task.Description = strings.TrimSpace(firstUser(msgs))
	}
	if t.Task.Domain == "" {
		t.Task.Domain = "swe"
	}
	if t.Solution.Language == "" {
		t.Solution.Language = solutionLanguage(t.Solution.Code)
	}
	t.Metadata = map[string]string{"source_format": string(OpenAIChat), "source_name": rec.stem}
	if t.Extra, err = x.build(); err != nil {
		return t, err
	}
	return t, nil
}

// chatSteps maps assistant message msgs[k] to its steps and their extra
// fields.
func chatSteps(msgs []chatMessage, k int) ([]columnar.Step, []map[string]any, error) {
	m := &msgs[k]
	reps := replies(msgs, k)
	var steps []columnar.Step
	var fields []map[string]any
	calls, thought := m.toolCalls, cleanThought(m.content)
	textCalls, after := false, ""
	if len(calls) == 0 {
		// Calls written in the text (<function=name>...</function>) are
		// read as tool calls; the thought is the text before them.
		calls, thought, after, textCalls = textToolCalls(m.content)
	}
	if len(calls) > 0 {
		if thought == "" {
			thought = strings.TrimSpace(m.reasoning)
		}
		for i, tc := range calls {
			var st columnar.Step
			st.Action, st.ActionType, st.Code = classifyToolCall(tc.name, tc.args, tc.argsText)
			if i == 0 {
				st.Thought = thought
			}
			f := map[string]any{"message_index": m.index}
			if tc.id != "" {
				f["tool_call_id"] = tc.id
			}
			if textCalls {
				f["text_tool_call"] = true
				if after != "" && i == len(calls)-1 {
					f["text_after_call"] = after
				}
			}
			if obs := pickReply(reps, tc.id, i); obs != nil {
				f["observation_index"] = obs.index
				st.Observation = obs.content
				failed, err := chatFailed(obs)
				if err != nil {
					return nil, nil, err
				}
				st.IsError = failed
			}
			steps = append(steps, st)
			fields = append(fields, f)
		}
		return steps, fields, nil
	}

	var st columnar.Step
	thought, action, ok := splitTextAction(m.content)
	st.Thought = thought
	if st.Thought == "" {
		st.Thought = strings.TrimSpace(m.reasoning)
	}
	if ok {
		st.Action = action
		st.ActionType, st.Code = classifyCommand(action)
	}
	f := map[string]any{"message_index": m.index}
	var obs []string
	for i := range reps {
		r := &reps[i]
		if r.role == "system" {
			continue
		}
		if len(obs) == 0 {
			f["observation_index"] = r.index
		}
		obs = append(obs, r.content)
		failed, err := chatFailed(r)
		if err != nil {
			return nil, nil, err
		}
		st.IsError = st.IsError || failed
	}
	st.Observation = strings.Join(obs, "\n")
	return append(steps, st), append(fields, f), nil
}

// chatFailed reports whether an observation message says its action
// failed: an explicit is_error flag, or a failure marker in its text.
func chatFailed(m *chatMessage) (bool, error) {
	flag, ok, err := m.obj.truth("is_error")
	if err != nil {
		return false, err
	}
	if ok {
		return flag, nil
	}
	return observationFailed(m.content), nil
}
