// Package responses translates OpenAI's Responses API to and from chat completions, so that a
// Responses client (the Vercel AI SDK's default provider, the OpenAI Agents SDK, Codex) can use any
// route of the gateway: ToChat turns a /v1/responses body (with the conversation of its
// previous_response_id) into a chat completion body, FromChatCompletion and StreamWriter turn the
// answer back into a response object or the Responses SSE events, and Store keeps stored
// conversations for a bounded time. No HTTP here.
package responses

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/clawgate/clawgate/proxy/internal/wire"
	"github.com/clawgate/clawgate/proxy/provider"
)

// Request is a Responses API request, as far as it has a chat completion meaning.
type Request struct {
	Model              string            `json:"model"`
	Input              json.RawMessage   `json:"input"`
	Instructions       json.RawMessage   `json:"instructions"`
	PreviousResponseID string            `json:"previous_response_id"`
	Store              *bool             `json:"store"`
	Stream             bool              `json:"stream"`
	MaxOutputTokens    *int              `json:"max_output_tokens"`
	Temperature        *float64          `json:"temperature"`
	TopP               *float64          `json:"top_p"`
	Tools              []json.RawMessage `json:"tools"`
	ToolChoice         json.RawMessage   `json:"tool_choice"`
	ParallelToolCalls  *bool             `json:"parallel_tool_calls"`
	Text               *struct {
		Format json.RawMessage `json:"format"`
	} `json:"text"`
	Reasoning *struct {
		Effort string `json:"effort"`
	} `json:"reasoning"`
	User       string          `json:"user"`
	Metadata   json.RawMessage `json:"metadata"`
	Background bool            `json:"background"`
	Truncation string          `json:"truncation"`

	// Plain, set by the caller, leaves out LiteLLM's thinking_blocks, which only the Claude
	// providers read: OpenAI-compatible servers refuse fields they do not know.
	Plain bool `json:"-"`
}

// Stored reports whether the response is to be kept: store defaults to true in the API.
func (r *Request) Stored() bool { return r.Store == nil || *r.Store }

// Parse reads a /v1/responses body. Errors are 400 *provider.Error.
func Parse(body []byte) (*Request, error) {
	var r Request
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, badRequest("", "invalid request body: %v", err)
	}
	if r.Model == "" {
		return nil, badRequest("model", "model is required: set \"model\" to one of the names GET /v1/models lists")
	}
	if wire.IsNull(r.Input) {
		return nil, badRequest("input", "input is required")
	}
	if r.Background {
		return nil, badRequest("background", "background responses are not supported by Clawgate on this route")
	}
	return &r, nil
}

// Info is what the caller needs to answer a translated request.
type Info struct {
	// ID is the response id minted for this request (resp_...).
	ID        string
	CreatedAt int64
	Req       *Request
	// Input is the request's input as items with ids, for GET .../input_items.
	Input []json.RawMessage
	// Namespaces maps the name of a function tool sent inside a namespace to the namespace, so
	// that a call to it names its namespace again.
	Namespaces map[string]string
	// History is the conversation in chat messages, this request's input included and the
	// instructions left out (they are not carried over to the next response).
	History []json.RawMessage
}

// chatRequest is the chat completion body ToChat writes.
type chatRequest struct {
	Model               string            `json:"model"`
	Messages            []json.RawMessage `json:"messages"`
	MaxCompletionTokens *int              `json:"max_completion_tokens,omitempty"`
	Temperature         *float64          `json:"temperature,omitempty"`
	TopP                *float64          `json:"top_p,omitempty"`
	Stream              bool              `json:"stream,omitempty"`
	StreamOptions       *struct {
		IncludeUsage bool `json:"include_usage"`
	} `json:"stream_options,omitempty"`
	Tools             []json.RawMessage `json:"tools,omitempty"`
	ToolChoice        json.RawMessage   `json:"tool_choice,omitempty"`
	ParallelToolCalls *bool             `json:"parallel_tool_calls,omitempty"`
	ResponseFormat    json.RawMessage   `json:"response_format,omitempty"`
	ReasoningEffort   string            `json:"reasoning_effort,omitempty"`
	User              string            `json:"user,omitempty"`
}

// Lookup finds an item a request refers to by id (item_reference), in the stored conversations.
type Lookup func(id string) (json.RawMessage, bool)

// ToChat translates a parsed request into a chat completion body. history is the stored
// conversation of previous_response_id (nil when there is none); lookup resolves item_reference
// items (nil resolves none). id and createdAt become the response's.
func ToChat(r *Request, history []json.RawMessage, lookup Lookup, id string, createdAt int64) ([]byte, Info, error) {
	info := Info{ID: id, CreatedAt: createdAt, Req: r}
	out := chatRequest{Model: r.Model, MaxCompletionTokens: r.MaxOutputTokens, Temperature: r.Temperature, TopP: r.TopP,
		Stream: r.Stream, ParallelToolCalls: r.ParallelToolCalls, User: r.User}
	if r.Stream {
		out.StreamOptions = &struct {
			IncludeUsage bool `json:"include_usage"`
		}{true}
	}
	if r.Reasoning != nil {
		out.ReasoningEffort = r.Reasoning.Effort
	}
	var err error
	info.Namespaces = map[string]string{}
	if out.Tools, err = tools(r.Tools, info.Namespaces, ""); err != nil {
		return nil, info, err
	}
	if out.ToolChoice, err = toolChoice(r.ToolChoice); err != nil {
		return nil, info, err
	}
	if r.Text != nil {
		if out.ResponseFormat, err = responseFormat(r.Text.Format); err != nil {
			return nil, info, err
		}
	}
	items, err := inputItems(r.Input, id)
	if err != nil {
		return nil, info, err
	}
	info.Input = items
	msgs, err := toMessages(items, lookup)
	if err != nil {
		return nil, info, err
	}
	info.History = append(append(make([]json.RawMessage, 0, len(history)+len(msgs)), history...), msgs...)
	if !wire.IsNull(r.Instructions) {
		var text string
		if json.Unmarshal(r.Instructions, &text) != nil {
			return nil, info, badRequest("instructions", "instructions must be a string")
		}
		if text != "" {
			out.Messages = append(out.Messages, textMessage("system", text))
		}
	}
	out.Messages = append(out.Messages, info.History...)
	if r.Plain {
		out.Messages = withoutThinking(out.Messages)
	}
	if len(out.Messages) == 0 {
		return nil, info, badRequest("input", "input must not be empty")
	}
	b, err := wire.Marshal(out)
	return b, info, err
}

// builtIn are the Responses tools that run at OpenAI, which no other upstream has.
var builtIn = map[string]bool{"web_search": true, "web_search_preview": true, "web_search_preview_2025_03_11": true,
	"file_search": true, "computer_use_preview": true, "computer_use": true, "code_interpreter": true,
	"image_generation": true, "mcp": true, "local_shell": true, "shell": true, "apply_patch": true}

// tools turns function tools into chat's; a namespace's function tools (a group Codex sends) join
// them under their own names, and namespaces records which group each came from.
func tools(in []json.RawMessage, namespaces map[string]string, ns string) ([]json.RawMessage, error) {
	var out []json.RawMessage
	for i, raw := range in {
		var t struct {
			Type        string            `json:"type"`
			Name        string            `json:"name"`
			Description string            `json:"description,omitempty"`
			Parameters  json.RawMessage   `json:"parameters,omitempty"`
			Strict      *bool             `json:"strict,omitempty"`
			Tools       []json.RawMessage `json:"tools"`
		}
		if err := json.Unmarshal(raw, &t); err != nil {
			return nil, badRequest(fmt.Sprintf("tools[%d]", i), "tools[%d] is not a tool object: %v", i, err)
		}
		switch {
		case t.Type == "namespace" && ns == "":
			inner, err := tools(t.Tools, namespaces, t.Name)
			if err != nil {
				return nil, err
			}
			out = append(out, inner...)
			continue
		case t.Type == "function":
			if ns != "" {
				namespaces[t.Name] = ns
			}
		case builtIn[t.Type] || strings.HasPrefix(t.Type, "web_search"):
			return nil, badRequest(fmt.Sprintf("tools[%d].type", i),
				"tools[%d]: the built-in tool %q runs only at OpenAI; this route is translated to chat completions, which support function tools only", i, t.Type)
		default:
			return nil, badRequest(fmt.Sprintf("tools[%d].type", i), "tools[%d]: tool type %q is not supported on this route (function tools only)", i, t.Type)
		}
		if t.Name == "" {
			return nil, badRequest(fmt.Sprintf("tools[%d].name", i), "tools[%d].name is required", i)
		}
		fn := struct {
			Name        string          `json:"name"`
			Description string          `json:"description,omitempty"`
			Parameters  json.RawMessage `json:"parameters,omitempty"`
			Strict      *bool           `json:"strict,omitempty"`
		}{t.Name, t.Description, t.Parameters, t.Strict}
		b, err := wire.Marshal(map[string]any{"type": "function", "function": fn})
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}

func toolChoice(raw json.RawMessage) (json.RawMessage, error) {
	if wire.IsNull(raw) {
		return nil, nil
	}
	if wire.IsString(raw) {
		switch string(raw) {
		case `"auto"`, `"none"`, `"required"`:
			return raw, nil
		}
		return nil, badRequest("tool_choice", "tool_choice %s is not one of auto, none, required", raw)
	}
	var c struct {
		Type string `json:"type"`
		Name string `json:"name"`
		Mode string `json:"mode"`
	}
	if json.Unmarshal(raw, &c) != nil {
		return nil, badRequest("tool_choice", "tool_choice must be a string or an object")
	}
	switch c.Type {
	case "function":
		return wire.Marshal(map[string]any{"type": "function", "function": map[string]string{"name": c.Name}})
	case "allowed_tools":
		// The narrower list has no chat equivalent; its mode does.
		if c.Mode == "required" {
			return json.RawMessage(`"required"`), nil
		}
		return json.RawMessage(`"auto"`), nil
	}
	return nil, badRequest("tool_choice", "tool_choice of type %q is not supported on this route (function tools only)", c.Type)
}

// responseFormat maps text.format to chat's response_format.
func responseFormat(raw json.RawMessage) (json.RawMessage, error) {
	if wire.IsNull(raw) {
		return nil, nil
	}
	var f struct {
		Type        string          `json:"type"`
		Name        string          `json:"name"`
		Description string          `json:"description,omitempty"`
		Schema      json.RawMessage `json:"schema"`
		Strict      *bool           `json:"strict,omitempty"`
	}
	if json.Unmarshal(raw, &f) != nil {
		return nil, badRequest("text.format", "text.format must be an object")
	}
	switch f.Type {
	case "text":
		return nil, nil
	case "json_object":
		return json.RawMessage(`{"type":"json_object"}`), nil
	case "json_schema":
		js := struct {
			Name        string          `json:"name"`
			Description string          `json:"description,omitempty"`
			Schema      json.RawMessage `json:"schema,omitempty"`
			Strict      *bool           `json:"strict,omitempty"`
		}{f.Name, f.Description, f.Schema, f.Strict}
		return wire.Marshal(map[string]any{"type": "json_schema", "json_schema": js})
	}
	return nil, badRequest("text.format.type", "text.format.type %q is not one of text, json_object, json_schema", f.Type)
}

func textMessage(role, text string) json.RawMessage {
	b := append([]byte(`{"role":`), wire.AppendString(nil, role)...)
	b = append(b, `,"content":`...)
	b = wire.AppendString(b, text)
	return append(b, '}')
}

// badRequest is a 400 in OpenAI's vocabulary, with the offending parameter.
func badRequest(param, format string, args ...any) *provider.Error {
	return &provider.Error{Status: http.StatusBadRequest, Type: "invalid_request_error", Param: param, Message: fmt.Sprintf(format, args...)}
}

// compact returns raw without insignificant space, so stored items stay small.
func compact(raw json.RawMessage) json.RawMessage {
	var buf bytes.Buffer
	if json.Compact(&buf, raw) != nil {
		return raw
	}
	return buf.Bytes()
}

// withoutThinking returns msgs with thinking_blocks removed (copies where there were any).
func withoutThinking(msgs []json.RawMessage) []json.RawMessage {
	out := make([]json.RawMessage, len(msgs))
	for i, m := range msgs {
		out[i] = m
		if !bytes.Contains(m, []byte(`"thinking_blocks"`)) {
			continue
		}
		var fields map[string]json.RawMessage
		if json.Unmarshal(m, &fields) == nil {
			delete(fields, "thinking_blocks")
			if b, err := wire.Marshal(fields); err == nil {
				out[i] = b
			}
		}
	}
	return out
}
