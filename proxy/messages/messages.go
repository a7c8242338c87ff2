// Package messages translates Anthropic's Messages API to and from OpenAI chat completions, so
// that an Anthropic client (Claude Code, the Anthropic SDKs) can use any route of the gateway:
// ToChat turns a /v1/messages body into a chat completion body, FromChatCompletion and
// StreamWriter turn the answer back into a Message or Anthropic's SSE events. No HTTP here.
package messages

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/clawgate/clawgate/proxy/provider"
)

// Info is what the caller needs to know about a translated request.
type Info struct {
	// Model is the model the client named; the gateway routes on it and echoes it back.
	Model     string
	Stream    bool
	MaxTokens int
	// User is metadata.user_id in full, even when it was too long to send upstream as "user".
	User string
	// Lowered is the max_tokens the client asked for when Options.MaxTokens lowered it, else 0.
	Lowered int

	// names maps tool names shortened for OpenAI's 64-character limit back to the client's.
	names map[string]string
}

// Options says what the upstream behind the chat completion body understands.
type Options struct {
	// Plain leaves out LiteLLM's Anthropic extensions (the top-level "thinking", "thinking_blocks"
	// on assistant turns, "cache_control" on parts, messages and tools) and sends text-only
	// content as a string. Set it for OpenAI-compatible upstreams: OpenAI rejects unknown fields,
	// and some servers (Groq's system messages) accept only string content. Leave it off for the
	// anthropic provider, which reads them: prompt caching and thinking then survive the trip.
	Plain bool
	// MaxTokens is the most output the upstream allows (0: unknown). A larger max_tokens is
	// lowered to it, and Info.Lowered says from what: Claude Code asks 32,000 of every model, and
	// a model whose limit is lower refuses the call rather than stopping short.
	MaxTokens int
}

// maxUser is the longest "user" OpenAI accepts; Claude Code's user_id is about 150 characters.
const maxUser = 64

// request is an Anthropic Messages request, as far as it has an OpenAI meaning. top_k,
// service_tier, container, mcp_servers and newer fields have none and are dropped.
type request struct {
	Model    string          `json:"model"`
	Messages []message       `json:"messages"`
	System   json.RawMessage `json:"system"`
	// MaxTokens is required by Anthropic; a missing one is left for the upstream's default.
	MaxTokens     *int     `json:"max_tokens"`
	StopSequences []string `json:"stop_sequences"`
	Stream        *bool    `json:"stream"`
	Temperature   *float64 `json:"temperature"`
	TopP          *float64 `json:"top_p"`
	Metadata      *struct {
		UserID string `json:"user_id"`
	} `json:"metadata"`
	Tools      []json.RawMessage `json:"tools"`
	ToolChoice json.RawMessage   `json:"tool_choice"`
	Thinking   json.RawMessage   `json:"thinking"`
}

type message struct {
	Role    string          `json:"role"`
	Content json.RawMessage `json:"content"`
}

// chatRequest is the OpenAI chat completion body ToChat writes.
type chatRequest struct {
	Model             string          `json:"model"`
	Messages          []chatMessage   `json:"messages"`
	MaxTokens         *int            `json:"max_tokens,omitempty"`
	Temperature       *float64        `json:"temperature,omitempty"`
	TopP              *float64        `json:"top_p,omitempty"`
	Stop              []string        `json:"stop,omitempty"`
	Stream            bool            `json:"stream,omitempty"`
	StreamOptions     *streamOptions  `json:"stream_options,omitempty"`
	Tools             []chatTool      `json:"tools,omitempty"`
	ToolChoice        any             `json:"tool_choice,omitempty"`
	ParallelToolCalls *bool           `json:"parallel_tool_calls,omitempty"`
	User              string          `json:"user,omitempty"`
	ReasoningEffort   string          `json:"reasoning_effort,omitempty"`
	Thinking          json.RawMessage `json:"thinking,omitempty"`
}

type streamOptions struct {
	IncludeUsage bool `json:"include_usage"`
}

// chatMessage is one OpenAI message. Content is raw so that it can be a string, an array of
// parts or null, as each role needs.
type chatMessage struct {
	Role           string          `json:"role"`
	Content        json.RawMessage `json:"content"`
	ToolCalls      []toolCall      `json:"tool_calls,omitempty"`
	ToolCallID     string          `json:"tool_call_id,omitempty"`
	ThinkingBlocks []thinkingBlock `json:"thinking_blocks,omitempty"`
	CacheControl   json.RawMessage `json:"cache_control,omitempty"`
}

type toolCall struct {
	ID       string       `json:"id"`
	Type     string       `json:"type"`
	Function functionCall `json:"function"`
}

type functionCall struct {
	Name      string `json:"name"`
	Arguments string `json:"arguments"`
}

// thinkingBlock is LiteLLM's thinking_blocks item, Anthropic's thinking block as it is.
type thinkingBlock struct {
	Type      string  `json:"type"`
	Thinking  *string `json:"thinking,omitempty"`
	Signature string  `json:"signature,omitempty"`
	Data      string  `json:"data,omitempty"`
}

// ToChat translates an Anthropic Messages request body into an OpenAI chat completion request
// body for the same model name. Errors are 400 *provider.Error with Anthropic-style messages
// (ErrorBody renders them).
func ToChat(body []byte, opts Options) (chat []byte, info Info, err error) {
	var in request
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, Info{}, badRequest("invalid JSON body: %v", err)
	}
	if in.Model == "" {
		return nil, Info{}, badRequest("model: Field required")
	}
	if len(in.Messages) == 0 {
		return nil, Info{}, badRequest("messages: at least one message is required")
	}
	t := &translator{plain: opts.Plain}
	out := chatRequest{Model: in.Model}
	info = Info{Model: in.Model}

	if out.Messages, err = t.system(in.System, "system"); err != nil {
		return nil, Info{}, err
	}
	for i := range in.Messages {
		msgs, err := t.message(&in.Messages[i], fmt.Sprintf("messages.%d", i))
		if err != nil {
			return nil, Info{}, err
		}
		out.Messages = append(out.Messages, msgs...)
	}
	if err := t.tools(&out, in.Tools, in.ToolChoice); err != nil {
		return nil, Info{}, err
	}

	if in.MaxTokens != nil {
		if *in.MaxTokens < 1 {
			return nil, Info{}, badRequest("max_tokens: must be at least 1, got %d", *in.MaxTokens)
		}
		if opts.MaxTokens > 0 && *in.MaxTokens > opts.MaxTokens {
			info.Lowered = *in.MaxTokens
			*in.MaxTokens = opts.MaxTokens
		}
		out.MaxTokens = in.MaxTokens
		info.MaxTokens = *in.MaxTokens
	}
	out.Temperature, out.TopP = in.Temperature, in.TopP
	for _, s := range in.StopSequences {
		if s != "" {
			out.Stop = append(out.Stop, s)
		}
	}
	if in.Stream != nil && *in.Stream {
		out.Stream, info.Stream = true, true
		out.StreamOptions = &streamOptions{IncludeUsage: true}
	}
	if m := in.Metadata; m != nil && m.UserID != "" {
		info.User = m.UserID
		if len(m.UserID) <= maxUser {
			out.User = m.UserID
		}
	}
	if err := t.thinking(&out, in.Thinking); err != nil {
		return nil, Info{}, err
	}
	info.names = t.names
	chat, err = marshal(out)
	if err != nil {
		return nil, Info{}, fmt.Errorf("messages: encoding chat request: %w", err)
	}
	return chat, info, nil
}

// translator carries what the request-wide translation needs to remember.
type translator struct {
	plain bool
	names map[string]string // shortened tool name -> the client's
}

// effort maps a thinking budget to OpenAI's reasoning_effort.
func effort(budget int) string {
	switch {
	case budget <= 1024:
		return "low"
	case budget <= 2048:
		return "medium"
	}
	return "high"
}

func (t *translator) thinking(out *chatRequest, raw json.RawMessage) error {
	if isNull(raw) {
		return nil
	}
	var th struct {
		Type         string `json:"type"`
		BudgetTokens int    `json:"budget_tokens"`
	}
	if err := json.Unmarshal(raw, &th); err != nil {
		return badRequest("thinking: must be an object like {\"type\":\"enabled\",\"budget_tokens\":2048}")
	}
	if th.Type == "enabled" {
		out.ReasoningEffort = effort(th.BudgetTokens)
	}
	if !t.plain {
		// The anthropic provider honours a native thinking field, budget and all.
		out.Thinking = compact(raw)
	}
	return nil
}

func badRequest(format string, args ...any) *provider.Error {
	return &provider.Error{
		Status: http.StatusBadRequest, Type: "invalid_request_error",
		Message: fmt.Sprintf(format, args...),
	}
}

// marshal is json.Marshal without HTML escaping, so "<" in a prompt stays "<" on the wire.
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

func isNull(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) == 0 || string(raw) == "null"
}

// compact returns raw without insignificant space (raw is known to be valid JSON).
func compact(raw json.RawMessage) json.RawMessage {
	var buf bytes.Buffer
	if json.Compact(&buf, raw) != nil {
		return raw
	}
	return buf.Bytes()
}
