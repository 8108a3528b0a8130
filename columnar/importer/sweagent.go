package importer

import (
	"encoding/json"
	"regexp"
	"strings"

	"github.com/atlas-ai/atlas-learn/columnar"
)

// sweFooterRE matches the state footer SWE-agent appends to observations
// in its history ("(Open file: ...)\n(Current directory: ...)\nbash-$");
// the trajectory list stores observations without it.
var sweFooterRE = regexp.MustCompile(`\r?\n?\(Open file: [^\n]*\)\r?\n\(Current directory: [^\n]*\)\r?\n?bash-\$\s*$`)

// convertSWEAgent maps a SWE-agent .traj file. Steps come from the
// "trajectory" list when it has entries, else from the assistant messages
// of "history" (demonstrations excluded), each paired with the next
// message's content as observation.
func convertSWEAgent(rec record) (columnar.Trajectory, error) {
	var t columnar.Trajectory
	top, err := decodeObject("", rec.data)
	if err != nil {
		return t, err
	}
	x := newExtra(SWEAgent)

	trajRaw, _, err := top.list("trajectory")
	if err != nil {
		return t, err
	}
	histRaw, hasHist, err := top.list("history")
	if err != nil {
		return t, err
	}
	if len(trajRaw) == 0 && !hasHist {
		return t, fieldErrorf("trajectory", "missing, and there is no history to read steps from")
	}
	top.consume("trajectory") // history, info and replay_config stay in extra.source, reduced or whole

	history, err := parseSWEHistory(histRaw)
	if err != nil {
		return t, err
	}

	info, err := top.object("info")
	if err != nil {
		return t, err
	}
	var exitStatus, submission string
	if info != nil {
		if exitStatus, err = info.str("exit_status"); err != nil {
			return t, err
		}
		if submission, err = info.str("submission"); err != nil {
			return t, err
		}
		info.consume("exit_status", "submission")
		top.consume("info")
		if rest := info.rest(); rest != nil {
			raw, err := marshalJSON(rest)
			if err != nil {
				return t, err
			}
			x.setSource("info", raw)
		}
	}

	replay, err := sweReplayConfig(top)
	if err != nil {
		return t, err
	}

	if len(trajRaw) > 0 {
		for i, raw := range trajRaw {
			st, fields, err := sweTrajectoryStep(indexPath("trajectory", i), raw)
			if err != nil {
				return t, err
			}
			st.Index = int32(i)
			t.Steps = append(t.Steps, st)
			x.addStep(fields)
		}
	} else {
		for _, st := range sweHistorySteps(history) {
			st.step.Index = int32(len(t.Steps))
			t.Steps = append(t.Steps, st.step)
			x.addStep(map[string]any{"history_index": st.index})
		}
	}
	x.addSource(top.rest())

	firstPrompt := ""
	for _, m := range history {
		if m.role == "user" && !m.demo {
			firstPrompt = m.content
			break
		}
	}
	t.SchemaVersion = columnar.SchemaVersion
	if t.TrajectoryID, err = wholeFileID(rec); err != nil {
		return t, err
	}
	t.Task.ID = lookupString(replay, "problem_statement", "id")
	if t.Task.ID == "" {
		t.Task.ID = rec.stem
	}
	t.Task.Description = lookupString(replay, "problem_statement", "text")
	if t.Task.Description == "" {
		t.Task.Description = sweTaskDescription(firstPrompt)
	}
	t.Task.Domain = "swe"
	if strings.Contains(firstPrompt, "CTF challenge") || strings.HasPrefix(strings.ToLower(rec.stem), "ctf") {
		t.Task.Domain = "ctf"
	}
	t.Agent.Name = "swe-agent"
	t.Agent.Model = lookupString(replay, "agent", "model", "name")
	if t.Agent.Model == "" {
		t.Agent.Model = lookupString(replay, "agent", "model", "model_name")
	}

	t.Outcome.ExitStatus = exitStatus
	switch {
	case info == nil:
		x.note("success_basis", "no info object: exit status unknown, success false")
		if n := len(t.Steps); n > 0 && t.Steps[n-1].ActionType == ActionSubmit && solutionLanguage(t.Steps[n-1].Observation) == "diff" {
			submission = t.Steps[n-1].Observation
			x.note("solution_source", "observation of the final submit step")
		}
	default:
		t.Outcome.Success = exitStatus == "submitted" && strings.TrimSpace(submission) != ""
		x.note("success_basis", `exit_status == "submitted" and a non-blank submission; the source holds no test result`)
	}
	t.Solution.Code = submission
	t.Solution.Language = solutionLanguage(submission)
	t.CreatedAt = epoch
	t.Metadata = map[string]string{"source_format": string(SWEAgent), "source_name": rec.stem}
	if t.Extra, err = x.build(); err != nil {
		return t, err
	}
	return t, nil
}

// sweReplayConfig returns the run's replay_config, an object that SWE-agent
// writes either inline or as a JSON string; nil when absent or unreadable
// as an object. It is kept in extra.source as written.
func sweReplayConfig(top *object) (*object, error) {
	raw, ok := top.raw("replay_config")
	if !ok {
		return nil, nil
	}
	switch jsonKind(raw) {
	case "object":
		return decodeObject("replay_config", raw)
	case "string":
		s, err := top.str("replay_config")
		if err != nil {
			return nil, err
		}
		if o, err := decodeObject("replay_config", json.RawMessage(s)); err == nil {
			return o, nil
		}
		return nil, nil // free text: kept in extra, nothing to read from it
	}
	return nil, fieldErrorf("replay_config", "expected an object or a JSON string, got %s", jsonKind(raw))
}

// sweTrajectoryStep maps one entry of the trajectory list; fields holds
// its unmapped fields (response, state, execution_time, messages, ...).
func sweTrajectoryStep(path string, raw json.RawMessage) (columnar.Step, map[string]any, error) {
	var st columnar.Step
	o, err := decodeObject(path, raw)
	if err != nil {
		return st, nil, err
	}
	if st.Action, err = o.str("action"); err != nil {
		return st, nil, err
	}
	if st.Observation, err = o.str("observation"); err != nil {
		return st, nil, err
	}
	if st.Thought, err = o.str("thought"); err != nil {
		return st, nil, err
	}
	o.consume("action", "observation", "thought")
	st.ActionType, st.Code = classifyCommand(st.Action)
	st.IsError = observationFailed(st.Observation)
	var fields map[string]any
	if rest := o.rest(); rest != nil {
		fields = make(map[string]any, len(rest))
		for k, v := range rest {
			fields[k] = v
		}
	}
	return st, fields, nil
}

// sweMessage is one message of a SWE-agent history.
type sweMessage struct {
	chatMessage
	demo      bool
	thought   string
	action    string
	hasAction bool
}

// parseSWEHistory decodes the history list, with SWE-agent's thought,
// action and is_demo fields.
func parseSWEHistory(raws []json.RawMessage) ([]sweMessage, error) {
	msgs, err := parseMessages("history", raws)
	if err != nil {
		return nil, err
	}
	out := make([]sweMessage, len(msgs))
	for i, m := range msgs {
		sm := sweMessage{chatMessage: m}
		if sm.demo, _, err = m.obj.truth("is_demo"); err != nil {
			return nil, err
		}
		if sm.thought, err = m.obj.str("thought"); err != nil {
			return nil, err
		}
		sm.hasAction = m.obj.has("action")
		if sm.action, err = m.obj.str("action"); err != nil {
			return nil, err
		}
		out[i] = sm
	}
	return out, nil
}

// historyStep is a step read from the history, with the index of its
// assistant message.
type historyStep struct {
	index int
	step  columnar.Step
}

// sweHistorySteps makes a step of each non-demo assistant message that
// carries an action.
func sweHistorySteps(history []sweMessage) []historyStep {
	var out []historyStep
	for k, m := range history {
		if m.role != "assistant" || m.demo || !m.hasAction {
			continue
		}
		st := columnar.Step{Thought: m.thought, Action: m.action}
		if st.Thought == "" && m.action == "" {
			st.Thought = m.content
		}
		for _, r := range history[k+1:] {
			if r.role == "assistant" {
				break
			}
			if !r.demo && (r.role == "user" || r.role == "tool") {
				st.Observation = sweFooterRE.ReplaceAllString(r.content, "")
				break
			}
		}
		st.ActionType, st.Code = classifyCommand(st.Action)
		st.IsError = observationFailed(st.Observation)
		out = append(out, historyStep{index: k, step: st})
	}
	return out
}

// sweTaskDescription reads the task out of SWE-agent's instance prompt:
// the issue text between "ISSUE:" and "INSTRUCTIONS:", or for other
// prompts (CTF challenges) everything before "INSTRUCTIONS:".
func sweTaskDescription(prompt string) string {
	s := prompt
	if _, after, ok := strings.Cut(s, "ISSUE:\n"); ok {
		s = after
	}
	if before, _, ok := strings.Cut(s, "INSTRUCTIONS:"); ok {
		s = before
	}
	return strings.TrimSpace(s)
}
