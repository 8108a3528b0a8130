package importer

import (
	"encoding/json"
	"regexp"
	"strings"
)

// Text tool calls. Agents prompted without native function calling (the
// OpenHands non-function-calling converter, used for SWE-smith and
// swe-play trajectories) write their calls in the message text:
//
//	<function=execute_bash>
//	<parameter=command>ls -la</parameter>
//	</function>
//
// A model often stops at the stop sequence before the closing </function>,
// so a call may run to the end of the text, and its last parameter may lack
// its closing tag too.

var (
	textCallRE  = regexp.MustCompile(`(?s)<function=([^>\s]+)>(.*?)(?:</function>|\z)`)
	textParamRE = regexp.MustCompile(`(?s)<parameter=([^>\s]+)>(.*?)(?:</parameter>|\z)`)
)

// textToolCalls reads the <function=...> calls written in an assistant
// message's text. The thought is the text before the first call (cleaned
// as other thoughts are); after is the non-blank text after the last call,
// which belongs to no column. A parameter's value is kept as written but
// for the line breaks around it, which the format puts there; its
// indentation is code and stays. ok is false when the text holds no call.
func textToolCalls(content string) (calls []toolCall, thought, after string, ok bool) {
	ms := textCallRE.FindAllStringSubmatchIndex(content, -1)
	if ms == nil {
		return nil, "", "", false
	}
	for _, m := range ms {
		tc := toolCall{name: content[m[2]:m[3]], args: map[string]json.RawMessage{}}
		args := map[string]string{}
		for _, p := range textParamRE.FindAllStringSubmatch(content[m[4]:m[5]], -1) {
			args[p[1]] = trimLineBreaks(p[2])
		}
		for k, v := range args {
			raw, err := marshalJSON(v)
			if err != nil {
				continue
			}
			tc.args[k] = raw
		}
		text, err := marshalJSON(args)
		if err == nil && len(args) > 0 {
			tc.argsText = string(text)
		}
		calls = append(calls, tc)
	}
	thought = cleanThought(content[:ms[0][0]])
	after = strings.TrimSpace(content[ms[len(ms)-1][1]:])
	return calls, thought, after, true
}

// trimLineBreaks drops one line break (\n or \r\n) at each end of s.
func trimLineBreaks(s string) string {
	s = strings.TrimPrefix(s, "\r\n")
	s = strings.TrimPrefix(s, "\n")
	if strings.HasSuffix(s, "\r\n") {
		return s[:len(s)-2]
	}
	return strings.TrimSuffix(s, "\n")
}
