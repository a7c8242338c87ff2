package gemini

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/clawgate/clawgate/proxy/internal/wire"
	"github.com/clawgate/clawgate/proxy/provider"
)

// chatRequest is the part of an OpenAI chat completion request that has a Gemini meaning.
// Everything else (user, penalties, logprobs, stream_options, parallel_tool_calls) has none and is
// dropped. safety_settings and cached_content are LiteLLM's Gemini parameters.
type chatRequest struct {
	Messages            []chatMessage     `json:"messages"`
	Tools               []json.RawMessage `json:"tools"`
	ToolChoice          json.RawMessage   `json:"tool_choice"`
	Stop                json.RawMessage   `json:"stop"`
	MaxTokens           *int              `json:"max_tokens"`
	MaxCompletionTokens *int              `json:"max_completion_tokens"`
	Temperature         *float64          `json:"temperature"`
	TopP                *float64          `json:"top_p"`
	TopK                *int              `json:"top_k"`
	N                   *int              `json:"n"`
	Seed                *int64            `json:"seed"`
	ResponseFormat      json.RawMessage   `json:"response_format"`
	ReasoningEffort     string            `json:"reasoning_effort"`
	Thinking            json.RawMessage   `json:"thinking"`
	SafetySettings      json.RawMessage   `json:"safety_settings"`
	CachedContent       string            `json:"cached_content"`
}

type chatMessage struct {
	Role       string          `json:"role"`
	Content    json.RawMessage `json:"content"`
	Name       string          `json:"name"`
	ToolCalls  []chatToolCall  `json:"tool_calls"`
	ToolCallID string          `json:"tool_call_id"`
}

type chatToolCall struct {
	ID       string `json:"id"`
	Type     string `json:"type"`
	Function struct {
		Name string `json:"name"`
		// Arguments is a JSON string per OpenAI; some clients send the object itself.
		Arguments              json.RawMessage `json:"arguments"`
		ProviderSpecificFields *providerFields `json:"provider_specific_fields"`
	} `json:"function"`
	ProviderSpecificFields *providerFields `json:"provider_specific_fields"`
}

// FromChat translates an OpenAI chat completion request body into a Gemini GenerateContentRequest
// for model (the upstream model id, which decides how reasoning_effort and thought signatures are
// sent). Errors are 400 *provider.Error.
func FromChat(body []byte, model string) (*GenerateContentRequest, error) {
	var in chatRequest
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, badRequest("", "invalid chat completion request: %v", err)
	}
	t := &translator{out: &GenerateContentRequest{}, fam: modelFamily(model), calls: make(map[string]string)}
	if err := t.messages(in.Messages); err != nil {
		return nil, err
	}
	if err := t.tools(in.Tools, in.ToolChoice); err != nil {
		return nil, err
	}
	if err := t.generation(&in); err != nil {
		return nil, err
	}
	if !wire.IsNull(in.SafetySettings) {
		t.out.SafetySettings = in.SafetySettings
	}
	t.out.CachedContent = in.CachedContent
	return t.out, nil
}

type translator struct {
	out *GenerateContentRequest
	fam family
	// calls maps each earlier tool call id (as sent, and without its signature) to the function's
	// name: a functionResponse must name its function, an OpenAI tool message only has the id.
	calls map[string]string
}

func badRequest(param, format string, args ...any) *provider.Error {
	return &provider.Error{
		Status: http.StatusBadRequest, Type: "invalid_request_error", Param: param,
		Message: "gemini: " + fmt.Sprintf(format, args...),
	}
}

// messages fills SystemInstruction and Contents: system turns are lifted out, assistant turns
// become "model" turns, tool results become functionResponse parts in user turns, and
// consecutive turns of one role are merged.
func (t *translator) messages(msgs []chatMessage) error {
	if len(msgs) == 0 {
		return badRequest("messages", "messages must not be empty")
	}
	for i := range msgs {
		m := &msgs[i]
		where := fmt.Sprintf("messages[%d]", i)
		var (
			role  string
			parts []Part
			err   error
		)
		switch m.Role {
		case "system", "developer":
			if err := t.system(m, where); err != nil {
				return err
			}
			continue
		case "user":
			role = "user"
			if wire.IsNull(m.Content) {
				return badRequest(where, "%s: a user message needs content", where)
			}
			parts, err = t.content(m.Content, where, role)
		case "assistant":
			role = "model"
			parts, err = t.assistant(m, where)
		case "tool":
			role = "user"
			parts, err = t.toolResult(m, where)
		case "function":
			return badRequest(where, "%s: role \"function\" is not supported; send tool results with role \"tool\"", where)
		default:
			return badRequest(where, "%s: unknown role %q", where, m.Role)
		}
		if err != nil {
			return err
		}
		if len(parts) == 0 {
			continue // Gemini rejects a turn without parts
		}
		if n := len(t.out.Contents); n > 0 && t.out.Contents[n-1].Role == role {
			last := &t.out.Contents[n-1]
			last.Parts = append(last.Parts, parts...)
			continue
		}
		t.out.Contents = append(t.out.Contents, Content{Role: role, Parts: parts})
	}
	if len(t.out.Contents) == 0 {
		return badRequest("messages", "messages must contain a user or assistant message besides system messages")
	}
	for i := range t.out.Contents {
		c := &t.out.Contents[i]
		if c.Role == "user" {
			responsesFirst(c.Parts)
		} else if t.fam.signsCalls() {
			signFirstCall(c.Parts)
		}
	}
	return nil
}

// responsesFirst moves functionResponse parts ahead of the rest of a user turn, keeping their
// order: Gemini matches them to the calls of the model turn before, and a "user, then tool"
// history would otherwise put text first.
func responsesFirst(parts []Part) {
	var responses, rest []Part
	for _, p := range parts {
		if p.FunctionResponse != nil {
			responses = append(responses, p)
		} else {
			rest = append(rest, p)
		}
	}
	if len(responses) == 0 || len(rest) == 0 {
		return
	}
	copy(parts, responses)
	copy(parts[len(responses):], rest)
}

// signFirstCall gives the first functionCall of a model turn the documented "skip" signature when
// the client sent it back without one (history from another model, or a client that dropped the
// id): Gemini 3 rejects the whole request otherwise. Only the first call of a turn is signed, so
// the others of a parallel batch need nothing.
func signFirstCall(parts []Part) {
	for i := range parts {
		if parts[i].FunctionCall != nil {
			if parts[i].ThoughtSignature == "" {
				parts[i].ThoughtSignature = skipSignature
			}
			return
		}
	}
}

func (t *translator) system(m *chatMessage, where string) error {
	parts, err := t.content(m.Content, where, "system")
	if err != nil {
		return err
	}
	if len(parts) == 0 {
		return nil
	}
	if t.out.SystemInstruction == nil {
		t.out.SystemInstruction = &Content{}
	}
	t.out.SystemInstruction.Parts = append(t.out.SystemInstruction.Parts, parts...)
	return nil
}

// assistant translates an assistant turn: its text, then a functionCall part per tool call, each
// with the thought signature recovered from provider_specific_fields or from the id.
func (t *translator) assistant(m *chatMessage, where string) ([]Part, error) {
	parts, err := t.content(m.Content, where, "model")
	if err != nil {
		return nil, err
	}
	for j := range m.ToolCalls {
		tc := &m.ToolCalls[j]
		tw := fmt.Sprintf("%s.tool_calls[%d]", where, j)
		if tc.Type != "" && tc.Type != "function" {
			return nil, badRequest(where, "%s: tool call type %q is not supported", tw, tc.Type)
		}
		if tc.ID == "" || tc.Function.Name == "" {
			return nil, badRequest(where, "%s: a tool call needs an id and a function name", tw)
		}
		args, err := wire.ToolArgs(tc.Function.Arguments)
		if err != nil {
			return nil, badRequest(where, "%s.function.arguments: %v", tw, err)
		}
		base, sig := splitToolCallID(tc.ID)
		switch {
		case tc.ProviderSpecificFields != nil && tc.ProviderSpecificFields.ThoughtSignature != "":
			sig = tc.ProviderSpecificFields.ThoughtSignature
		case tc.Function.ProviderSpecificFields != nil && tc.Function.ProviderSpecificFields.ThoughtSignature != "":
			sig = tc.Function.ProviderSpecificFields.ThoughtSignature
		}
		t.calls[tc.ID] = tc.Function.Name
		t.calls[base] = tc.Function.Name
		parts = append(parts, Part{
			FunctionCall:     &FunctionCall{Name: tc.Function.Name, Args: args},
			ThoughtSignature: sig,
		})
	}
	return parts, nil
}

// toolResult translates a role "tool" message into a functionResponse part. The response is the
// tool's output itself when that is a JSON object, else {"content": <the output as text>}. Images
// in the result follow as parts of their own.
func (t *translator) toolResult(m *chatMessage, where string) ([]Part, error) {
	if m.ToolCallID == "" {
		return nil, badRequest(where, "%s: a tool message needs tool_call_id", where)
	}
	name := t.calls[m.ToolCallID]
	if name == "" {
		base, _ := splitToolCallID(m.ToolCallID)
		name = t.calls[base]
	}
	if name == "" {
		name = m.Name
	}
	if name == "" {
		return nil, badRequest(where, "%s: tool_call_id %q matches no earlier assistant tool call, and Gemini needs the function's name", where, m.ToolCallID)
	}
	parts, err := t.content(m.Content, where, "tool")
	if err != nil {
		return nil, err
	}
	var text strings.Builder
	var media []Part
	for _, p := range parts {
		if p.InlineData != nil || p.FileData != nil {
			media = append(media, p)
			continue
		}
		text.WriteString(p.Text)
	}
	out := text.String()
	var response json.RawMessage
	if trimmed := bytes.TrimSpace([]byte(out)); len(trimmed) > 0 && trimmed[0] == '{' && json.Valid(trimmed) {
		var buf bytes.Buffer
		_ = json.Compact(&buf, trimmed)
		response = buf.Bytes()
	} else {
		response = append(append([]byte(`{"content":`), appendString(nil, out)...), '}')
	}
	result := []Part{{FunctionResponse: &FunctionResponse{Name: name, Response: response}}}
	return append(result, media...), nil
}
