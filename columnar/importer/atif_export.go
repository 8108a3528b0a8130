package importer

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/atlas-ai/atlas-learn/columnar"
)

// The ATIF-v1.4 objects ExportATIF writes. Field order is the spec's;
// maps (arguments, extra) are encoded with sorted keys, so the same
// trajectory always gives the same bytes.
type (
	atifDoc struct {
		SchemaVersion string        `json:"schema_version"`
		SessionID     string        `json:"session_id"`
		Agent         atifAgent     `json:"agent"`
		Steps         []atifStep    `json:"steps"`
		Notes         string        `json:"notes,omitempty"`
		FinalMetrics  *atifFinal    `json:"final_metrics,omitempty"`
		Extra         atifRootExtra `json:"extra"`
	}
	atifAgent struct {
		Name      string `json:"name"`
		Version   string `json:"version"`
		ModelName string `json:"model_name,omitempty"`
	}
	atifStep struct {
		StepID      int              `json:"step_id"`
		Timestamp   string           `json:"timestamp,omitempty"`
		Source      string           `json:"source"`
		Message     string           `json:"message"`
		ToolCalls   []atifToolCall   `json:"tool_calls,omitempty"`
		Observation *atifObservation `json:"observation,omitempty"`
		Extra       *atifStepExtra   `json:"extra,omitempty"`
	}
	atifToolCall struct {
		ToolCallID   string            `json:"tool_call_id"`
		FunctionName string            `json:"function_name"`
		Arguments    map[string]string `json:"arguments"`
	}
	atifObservation struct {
		Results []atifObsResult `json:"results"`
	}
	atifObsResult struct {
		SourceCallID string `json:"source_call_id,omitempty"`
		Content      string `json:"content"`
	}
	atifFinal struct {
		TotalSteps int `json:"total_steps"`
	}
	atifRootExtra struct {
		Atlas atifRootExt `json:"atlas"`
	}
	atifStepExtra struct {
		Atlas atifStepExt `json:"atlas"`
	}
)

// atifUnknownVersion is agent.version (required by ATIF) for a trajectory,
// which records no agent version.
const atifUnknownVersion = "unknown"

// ExportATIF writes t as one ATIF-v1.4 document (ATIFVersion), indented,
// ending with a newline.
//
// session_id is trajectory_id. agent.name and agent.model_name are the
// agent's name and model; agent.version, which ATIF requires and the
// canonical schema does not record, is "unknown" (or, for a trajectory
// imported from ATIF, the version its extra.source.agent kept). The first step is a
// "user" step whose message is the task description (timestamped with
// created_at when it is known). Each canonical step is one "agent" step:
// message is the thought; a step with an action holds one tool call,
// tool_call_id "call_N" (N the step index), function_name the action type
// (or "action" when it has none) and arguments {"action": the action
// text}, and an observation with one result answering it; a step without
// an action holds only its observation (a result without source_call_id),
// if any. final_metrics.total_steps is the number of steps.
//
// What ATIF has no field for goes into "atlas" extensions, which ATIF's
// extra objects allow and which convertATIF reads back: the root extra
// holds trajectory_id, the task (id, domain, input), the outcome, the
// solution, created_at and metadata; each agent step's extra holds its
// action type, code, is_error and reward. The trajectory's own extra (the
// source record of an imported trajectory) is not written.
func ExportATIF(t columnar.Trajectory) ([]byte, error) {
	doc := atifDoc{
		SchemaVersion: ATIFVersion,
		SessionID:     t.TrajectoryID,
		Agent:         atifAgent{Name: t.Agent.Name, Version: atifUnknownVersion, ModelName: t.Agent.Model},
		FinalMetrics:  &atifFinal{TotalSteps: len(t.Steps) + 1},
		Extra: atifRootExtra{Atlas: atifRootExt{
			TrajectoryID: t.TrajectoryID,
			Task:         t.Task,
			Outcome:      t.Outcome,
			Solution:     t.Solution,
			CreatedAt:    t.CreatedAt.UTC(),
			Metadata:     t.Metadata,
		}},
	}
	extra, err := t.ExpandExtra()
	if err != nil {
		extra = t.Extra // a broken reference: no version from it
	}
	if v := atifSourceVersion(extra); v != "" {
		doc.Agent.Version = v
	}
	user := atifStep{StepID: 1, Source: "user", Message: t.Task.Description}
	if !t.CreatedAt.IsZero() && t.CreatedAt.After(epoch) {
		user.Timestamp = t.CreatedAt.UTC().Format(time.RFC3339Nano)
	}
	doc.Steps = append(doc.Steps, user)
	for i, s := range t.Steps {
		st := atifStep{StepID: len(doc.Steps) + 1, Source: "agent", Message: s.Thought,
			Extra: &atifStepExtra{Atlas: atifStepExt{ActionType: s.ActionType, Code: s.Code, IsError: s.IsError, Reward: s.Reward}}}
		if s.Action != "" {
			id := "call_" + strconv.Itoa(i)
			name := s.ActionType
			if name == "" {
				name = "action"
			}
			st.ToolCalls = []atifToolCall{{ToolCallID: id, FunctionName: name, Arguments: map[string]string{"action": s.Action}}}
			st.Observation = &atifObservation{Results: []atifObsResult{{SourceCallID: id, Content: s.Observation}}}
		} else if s.Observation != "" {
			st.Observation = &atifObservation{Results: []atifObsResult{{Content: s.Observation}}}
		}
		doc.Steps = append(doc.Steps, st)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return nil, fmt.Errorf("encode ATIF document of %s: %w", t.TrajectoryID, err)
	}
	return buf.Bytes(), nil
}

// atifSourceVersion is the agent version kept in the extra of a trajectory
// imported from ATIF, or "".
func atifSourceVersion(extra json.RawMessage) string {
	var x struct {
		SourceFormat string `json:"source_format"`
		Source       struct {
			Agent struct {
				Version json.RawMessage `json:"version"`
			} `json:"agent"`
		} `json:"source"`
	}
	if json.Unmarshal(extra, &x) != nil || x.SourceFormat != string(ATIF) {
		return ""
	}
	var v string
	if json.Unmarshal(x.Source.Agent.Version, &v) != nil {
		return ""
	}
	return v
}
