package importer

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/atlas-ai/atlas-learn/columnar"
)

// ATIF is Harbor's Agent Trajectory Interchange Format, ATIF-v1.x, as
// specified by RFC 0001 "Agent Trajectory Interchange Format (ATIF)
// Specification" of the Harbor project
// (https://github.com/laude-institute/harbor/blob/main/docs/rfcs/0001-trajectory-format.md,
// documented at https://harborframework.com/docs/trajectory-format). This
// build follows ATIF-v1.4, the version it writes (ATIFVersion); it reads
// every "ATIF-v1.x" document, since the minor versions only add optional
// fields, which are kept in extra like any other unmapped field.
//
// A file holds one document (Harbor's trajectory.json, pretty-printed or
// not), or several one after another, or JSON lines of documents (the
// spec defines the document only; linesOrDocument reads all three). The
// rules are on convertATIF; ExportATIF writes the format.
const ATIF Format = "atif"

// ATIFVersion is the ATIF schema_version this build writes.
const ATIFVersion = "ATIF-v1.4"

// atifVersionPrefix starts the schema_version of every document read.
const atifVersionPrefix = "ATIF-v1"

// atifExt is the key, in the root "extra" and in a step's "extra", under
// which ExportATIF keeps the fields of the canonical schema that ATIF has
// no place for, so that importing an exported file gives them back.
const atifExt = "atlas"

// atifStepExt is one exported step's atlas extension.
type atifStepExt struct {
	ActionType string  `json:"action_type,omitempty"`
	Code       string  `json:"code,omitempty"`
	IsError    bool    `json:"is_error"`
	Reward     float64 `json:"reward"`
}

// atifRootExt is an exported trajectory's atlas extension.
type atifRootExt struct {
	TrajectoryID string            `json:"trajectory_id"`
	Task         columnar.Task     `json:"task"`
	Outcome      columnar.Outcome  `json:"outcome"`
	Solution     columnar.Solution `json:"solution"`
	CreatedAt    time.Time         `json:"created_at"`
	Metadata     map[string]string `json:"metadata,omitempty"`
}

// convertATIF maps one ATIF document.
//
// Required: schema_version starting with "ATIF-v1", session_id (the run id,
// which becomes trajectory_id as ids.go asks of a source that carries
// one), an agent object and a steps list whose elements are objects with
// a source of "system", "user" or "agent". A document missing one of them,
// or holding a value of the wrong kind, is a bad record naming the field.
//
// Task: the description is the message of the first "user" step; the id is
// session_id. Agent: agent.name, and agent.model_name, else the first
// agent step's model_name.
//
// Steps: each "agent" step gives one step per tool call, in order (a step
// without tool calls gives one step holding only its thought). The thought
// is the step's reasoning_content and message, joined by a blank line when
// both are there; like the other importers, it goes on the first of the
// steps made from that ATIF step. The
// action is the tool call, mapped like an OpenAI tool call (a bash tool is
// its command, classified like any shell command; an editor call is an
// edit or a view; other calls are "function_name {arguments}"). The
// observation is the content of the observation result whose
// source_call_id is the call's tool_call_id, else the next result without
// a source_call_id; results of a step without tool calls are joined. A
// subagent_trajectory_ref without content reads "subagent trajectory
// SESSION_ID". is_error is the result's "is_error" (not in ATIF-v1.4 but
// written by some tools) or its extra.is_error, else the text markers the
// other formats use ("ERROR:", a non-zero exit code, ...). System steps and
// later user steps give no step.
//
// Outcome: ATIF records none (Harbor keeps the verifier's reward beside
// the trajectory, in the trial's result.json; pass it with --results where
// it is a SWE-bench report). The heuristic: the root extra's "success",
// else "resolved" (a boolean, or a number where non-zero is true) is the
// verdict, "reward" the reward (success, without a verdict, when it is
// above 0) and "exit_status" the exit status; without any, success is
// false. extra.notes.success_basis says which rule applied.
//
// created_at is the first step's timestamp, else the Unix epoch.
//
// Extra: the whole steps list is kept verbatim in extra.source.steps (with
// its metrics, logprobs, token ids, per-step model names and system and
// user steps), and so are agent (its fields other than name and
// model_name), notes, final_metrics, extra and any other field;
// extra.steps[i] holds step i's step_id and tool_call_id.
//
// A document written by ExportATIF carries the rest of the canonical
// schema in extension fields under the key "atlas": the root extra's holds
// the task, outcome, solution, created_at and metadata, a step's extra the
// action type, code, is_error and reward of its single tool call. They
// replace what the rules above would infer (the action is then the call's
// arguments.action verbatim), and are not kept in extra.
func convertATIF(rec record) (columnar.Trajectory, error) {
	var t columnar.Trajectory
	x := newExtra(ATIF)
	top, err := decodeObject("", rec.data)
	if err != nil {
		return t, err
	}
	if !top.has("schema_version") {
		return t, fieldErrorf("schema_version", "missing (an ATIF document starts with schema_version \"ATIF-v1.x\")")
	}
	version, err := top.str("schema_version")
	if err != nil {
		return t, err
	}
	if !strings.HasPrefix(version, atifVersionPrefix) {
		return t, fieldErrorf("schema_version", "%q is not an ATIF-v1.x version", version)
	}
	if !top.has("session_id") {
		return t, fieldErrorf("session_id", "missing")
	}
	if t.TrajectoryID, err = top.id("session_id"); err != nil {
		return t, err
	}
	if strings.TrimSpace(t.TrajectoryID) == "" {
		return t, fieldErrorf("session_id", "empty")
	}
	agent, err := top.object("agent")
	if err != nil {
		return t, err
	}
	if agent == nil {
		return t, fieldErrorf("agent", "missing")
	}
	if t.Agent.Name, err = agent.str("name"); err != nil {
		return t, err
	}
	if t.Agent.Model, err = agent.str("model_name"); err != nil {
		return t, err
	}
	agent.consume("name", "model_name")
	if rest := agent.rest(); rest != nil {
		raw, err := marshalJSON(rest)
		if err != nil {
			return t, fmt.Errorf("encode agent: %w", err)
		}
		x.setSource("agent", raw)
	}
	top.consume("schema_version", "session_id", "agent")
	x.setSource("schema_version", top.fields["schema_version"])

	raws, ok, err := top.list("steps")
	if err != nil {
		return t, err
	}
	if !ok {
		return t, fieldErrorf("steps", "missing")
	}

	// The root extra: the atlas extension, and the outcome heuristic.
	var rootExt *atifRootExt
	rootExtra, err := top.object("extra")
	if err != nil {
		return t, err
	}
	if rootExtra != nil {
		if raw, ok := rootExtra.raw(atifExt); ok {
			rootExt = &atifRootExt{}
			if err := json.Unmarshal(raw, rootExt); err != nil {
				return t, fieldErrorf("extra."+atifExt, "%w", err)
			}
			rootExtra.consume(atifExt)
			top.consume("extra")
			if rest := rootExtra.rest(); rest != nil {
				raw, err := marshalJSON(rest)
				if err != nil {
					return t, fmt.Errorf("encode extra: %w", err)
				}
				x.setSource("extra", raw)
			}
		}
	}

	description, descFound := "", false
	t.CreatedAt = epoch
	for i, raw := range raws {
		p := indexPath("steps", i)
		so, err := decodeObject(p, raw)
		if err != nil {
			return t, err
		}
		source, err := so.str("source")
		if err != nil {
			return t, err
		}
		stepID, err := so.id("step_id")
		if err != nil {
			return t, err
		}
		message, err := flattenContent(childPath(p, "message"), so.fields["message"])
		if err != nil {
			return t, err
		}
		if i == 0 {
			if ts, ok := so.raw("timestamp"); ok {
				if t.CreatedAt, err = parseTimestamp(childPath(p, "timestamp"), ts); err != nil {
					return t, err
				}
			}
		}
		switch source {
		case "system":
			continue
		case "user":
			if !descFound {
				description, descFound = message, true
			}
			continue
		case "agent":
		case "":
			return t, fieldErrorf(childPath(p, "source"), "missing (want system, user or agent)")
		default:
			return t, fieldErrorf(childPath(p, "source"), "%q is not system, user or agent", source)
		}
		if t.Agent.Model == "" {
			if t.Agent.Model, err = so.str("model_name"); err != nil {
				return t, err
			}
		}
		steps, fields, err := atifAgentStep(so, p, message)
		if err != nil {
			return t, err
		}
		for k, st := range steps {
			st.Index = int32(len(t.Steps))
			t.Steps = append(t.Steps, st)
			f := fields[k]
			if stepID != "" {
				f["step_id"] = json.RawMessage(so.fields["step_id"])
			}
			x.addStep(f)
		}
	}
	x.setSource("steps", top.fields["steps"])
	top.consume("steps")

	t.SchemaVersion = columnar.SchemaVersion
	t.Task.ID = t.TrajectoryID
	t.Task.Description = strings.TrimSpace(description)
	if rootExt != nil {
		t.Task = rootExt.Task
		t.Outcome = rootExt.Outcome
		t.Solution = rootExt.Solution
		if !rootExt.CreatedAt.IsZero() {
			t.CreatedAt = rootExt.CreatedAt.UTC().Truncate(time.Millisecond)
		}
		x.note("success_basis", "extra."+atifExt+".outcome (written by atlas-learn export)")
	} else if err := atifOutcome(rootExtra, &t, x); err != nil {
		return t, err
	}
	t.Metadata = map[string]string{}
	if rootExt != nil {
		for k, v := range rootExt.Metadata {
			t.Metadata[k] = v
		}
	}
	t.Metadata["source_format"] = string(ATIF)
	t.Metadata["source_name"] = rec.stem
	x.addSource(top.rest())
	if t.Extra, err = x.build(); err != nil {
		return t, err
	}
	return t, nil
}

// atifOutcome applies convertATIF's outcome heuristic to the root extra.
func atifOutcome(extra *object, t *columnar.Trajectory, x *extraBuilder) error {
	if extra == nil {
		x.note("success_basis", "ATIF records no outcome and the document has no extra.success, extra.resolved or extra.reward: success false")
		return nil
	}
	var err error
	if t.Outcome.ExitStatus, err = extra.str("exit_status"); err != nil {
		return err
	}
	reward, hasReward, err := extra.number("reward")
	if err != nil {
		return err
	}
	t.Outcome.Reward = reward
	for _, k := range []string{"success", "resolved"} {
		v, ok, err := extra.truth(k)
		if err != nil {
			return err
		}
		if ok {
			t.Outcome.Success = v
			if !hasReward && v {
				t.Outcome.Reward = 1
			}
			x.note("success_basis", "extra."+k)
			return nil
		}
	}
	if hasReward {
		t.Outcome.Success = reward > 0
		x.note("success_basis", "extra.reward above 0")
		return nil
	}
	x.note("success_basis", "ATIF records no outcome and the document has no extra.success, extra.resolved or extra.reward: success false")
	return nil
}

// atifAgentStep maps one agent step to its steps (one per tool call) and
// their extra.steps fields.
func atifAgentStep(so *object, p, message string) ([]columnar.Step, []map[string]any, error) {
	reasoning, err := so.str("reasoning_content")
	if err != nil {
		return nil, nil, err
	}
	var parts []string
	for _, s := range []string{reasoning, message} {
		if s = strings.TrimSpace(s); s != "" {
			parts = append(parts, s)
		}
	}
	thought := strings.Join(parts, "\n\n")

	var ext *atifStepExt
	stepExtra, err := so.object("extra")
	if err != nil {
		return nil, nil, err
	}
	if stepExtra != nil {
		if raw, ok := stepExtra.raw(atifExt); ok {
			ext = &atifStepExt{}
			if err := json.Unmarshal(raw, ext); err != nil {
				return nil, nil, fieldErrorf(childPath(childPath(p, "extra"), atifExt), "%w", err)
			}
		}
	}

	if ext != nil && strings.TrimSpace(reasoning) == "" {
		thought = message // written by ExportATIF: the thought verbatim
	}

	calls, _, err := so.list("tool_calls")
	if err != nil {
		return nil, nil, err
	}
	results, err := atifResults(so, p)
	if err != nil {
		return nil, nil, err
	}
	used := make([]bool, len(results))
	if len(calls) == 0 {
		st := columnar.Step{Thought: thought}
		var texts []string
		for i, r := range results {
			used[i] = true
			texts = append(texts, r.text)
			st.IsError = st.IsError || r.isError
		}
		st.Observation = strings.Join(texts, "\n")
		if ext != nil {
			st.ActionType, st.Code, st.IsError, st.Reward = ext.ActionType, ext.Code, ext.IsError, ext.Reward
		}
		return []columnar.Step{st}, []map[string]any{{}}, nil
	}
	steps := make([]columnar.Step, 0, len(calls))
	fields := make([]map[string]any, 0, len(calls))
	for j, raw := range calls {
		cp := indexPath(childPath(p, "tool_calls"), j)
		co, err := decodeObject(cp, raw)
		if err != nil {
			return nil, nil, err
		}
		id, err := co.id("tool_call_id")
		if err != nil {
			return nil, nil, err
		}
		if !co.has("function_name") {
			return nil, nil, fieldErrorf(childPath(cp, "function_name"), "missing")
		}
		name, err := co.str("function_name")
		if err != nil {
			return nil, nil, err
		}
		argsText := "{}"
		var args map[string]json.RawMessage
		if a, ok := co.raw("arguments"); ok {
			if jsonKind(a) != "object" {
				return nil, nil, fieldErrorf(childPath(cp, "arguments"), "expected an object, got %s", jsonKind(a))
			}
			var buf bytes.Buffer
			if err := json.Compact(&buf, a); err != nil {
				return nil, nil, fieldErrorf(childPath(cp, "arguments"), "%w", err)
			}
			argsText = buf.String()
			if err := json.Unmarshal(a, &args); err != nil {
				return nil, nil, fieldErrorf(childPath(cp, "arguments"), "%w", err)
			}
		}
		st := columnar.Step{}
		if j == 0 {
			st.Thought = thought
		}
		st.Action, st.ActionType, st.Code = classifyToolCall(name, args, argsText)
		f := map[string]any{"function_name": name}
		if id != "" {
			f["tool_call_id"] = id
		}
		if r := pickResult(results, used, id); r != nil {
			st.Observation, st.IsError = r.text, r.isError
		}
		if ext != nil && len(calls) == 1 {
			if raw, ok := args["action"]; ok && jsonKind(raw) == "string" {
				_ = json.Unmarshal(raw, &st.Action)
			}
			st.ActionType, st.Code, st.IsError, st.Reward = ext.ActionType, ext.Code, ext.IsError, ext.Reward
		}
		steps = append(steps, st)
		fields = append(fields, f)
	}
	return steps, fields, nil
}

// atifResult is one decoded observation result.
type atifResult struct {
	callID  string
	text    string
	isError bool
}

// atifResults decodes a step's observation.results.
func atifResults(so *object, p string) ([]atifResult, error) {
	obs, err := so.object("observation")
	if err != nil || obs == nil {
		return nil, err
	}
	raws, _, err := obs.list("results")
	if err != nil {
		return nil, err
	}
	out := make([]atifResult, 0, len(raws))
	for i, raw := range raws {
		rp := indexPath(childPath(childPath(p, "observation"), "results"), i)
		ro, err := decodeObject(rp, raw)
		if err != nil {
			return nil, err
		}
		var r atifResult
		if r.callID, err = ro.id("source_call_id"); err != nil {
			return nil, err
		}
		if r.text, err = flattenContent(childPath(rp, "content"), ro.fields["content"]); err != nil {
			return nil, err
		}
		if r.text == "" && ro.has("subagent_trajectory_ref") {
			refs, _, err := ro.list("subagent_trajectory_ref")
			if err != nil {
				return nil, err
			}
			var ids []string
			for k, ref := range refs {
				rf, err := decodeObject(indexPath(childPath(rp, "subagent_trajectory_ref"), k), ref)
				if err != nil {
					return nil, err
				}
				if id, err := rf.id("session_id"); err != nil {
					return nil, err
				} else if id != "" {
					ids = append(ids, "subagent trajectory "+id)
				}
			}
			r.text = strings.Join(ids, "\n")
		}
		flag, ok, err := ro.truth("is_error")
		if err != nil {
			return nil, err
		}
		if !ok {
			if rx, err := ro.object("extra"); err != nil {
				return nil, err
			} else if rx != nil {
				if flag, ok, err = rx.truth("is_error"); err != nil {
					return nil, err
				}
			}
		}
		if ok {
			r.isError = flag
		} else {
			r.isError = observationFailed(r.text)
		}
		out = append(out, r)
	}
	return out, nil
}

// pickResult returns the unused result answering the call id, else the
// first unused result without a call id.
func pickResult(results []atifResult, used []bool, id string) *atifResult {
	if id != "" {
		for i := range results {
			if !used[i] && results[i].callID == id {
				used[i] = true
				return &results[i]
			}
		}
	}
	for i := range results {
		if !used[i] && results[i].callID == "" {
			used[i] = true
			return &results[i]
		}
	}
	return nil
}
