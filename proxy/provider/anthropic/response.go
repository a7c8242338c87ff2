package anthropic

import (
	"bytes"
	"encoding/json"
	"time"

	"github.com/clawgate/clawgate/proxy/internal/wire"
)

// now is the clock for "created"; tests pin it so golden files are stable.
var now = time.Now

// usage is Anthropic's usage object. Fields are pointers so that a message_delta can override
// only the figures it carries.
type usage struct {
	InputTokens              *int `json:"input_tokens"`
	OutputTokens             *int `json:"output_tokens"`
	CacheCreationInputTokens *int `json:"cache_creation_input_tokens"`
	CacheReadInputTokens     *int `json:"cache_read_input_tokens"`
}

// merge takes every figure o has. Anthropic's counts are cumulative, so later ones win.
func (u *usage) merge(o *usage) {
	if o == nil {
		return
	}
	if o.InputTokens != nil {
		u.InputTokens = o.InputTokens
	}
	if o.OutputTokens != nil {
		u.OutputTokens = o.OutputTokens
	}
	if o.CacheCreationInputTokens != nil {
		u.CacheCreationInputTokens = o.CacheCreationInputTokens
	}
	if o.CacheReadInputTokens != nil {
		u.CacheReadInputTokens = o.CacheReadInputTokens
	}
}

func (u *usage) chat() chatUsage {
	val := func(p *int) int {
		if p == nil {
			return 0
		}
		return *p
	}
	in, out := val(u.InputTokens), val(u.OutputTokens)
	write, read := val(u.CacheCreationInputTokens), val(u.CacheReadInputTokens)
	c := chatUsage{
		PromptTokens:             in + read + write,
		CompletionTokens:         out,
		CacheCreationInputTokens: write,
		CacheReadInputTokens:     read,
	}
	c.TotalTokens = c.PromptTokens + c.CompletionTokens
	c.PromptTokensDetails.CachedTokens = read
	return c
}

// finishReason maps Anthropic's stop_reason to OpenAI's finish_reason.
func finishReason(stop string) string {
	switch stop {
	case "max_tokens", "model_context_window_exceeded":
		return "length"
	case "tool_use":
		return "tool_calls"
	case "refusal":
		return "content_filter"
	}
	// end_turn, stop_sequence, pause_turn and anything newer: the turn ended normally.
	return "stop"
}

// messagesResponse is the part of Anthropic's Message object that has an OpenAI meaning.
type messagesResponse struct {
	ID         string          `json:"id"`
	Type       string          `json:"type"`
	Model      string          `json:"model"`
	Content    []responseBlock `json:"content"`
	StopReason string          `json:"stop_reason"`
	Usage      usage           `json:"usage"`
	Error      *apiError       `json:"error"`
}

type responseBlock struct {
	Type      string          `json:"type"`
	Text      string          `json:"text"`
	ID        string          `json:"id"`
	Name      string          `json:"name"`
	Input     json.RawMessage `json:"input"`
	Thinking  string          `json:"thinking"`
	Signature string          `json:"signature"`
	Data      string          `json:"data"`
}

var nullJSON = json.RawMessage("null")

// ToChatCompletion translates an Anthropic Messages response into an OpenAI chat.completion.
// model is used only when the response names none. An error object in the body becomes a
// *provider.Error; a body that is not a Message, a 502 *provider.Error.
func ToChatCompletion(resp []byte, model string) ([]byte, error) {
	var m messagesResponse
	if err := json.Unmarshal(resp, &m); err != nil {
		return nil, wire.BadGateway("anthropic: upstream sent a response that is not valid JSON: %v", err)
	}
	if m.Type == "error" || m.Error != nil {
		return nil, eventError(resp)
	}
	if m.Type != "message" {
		return nil, wire.BadGateway("anthropic: upstream sent %q instead of a message", m.Type)
	}
	if m.Model != "" {
		model = m.Model
	}
	var (
		text, reasoning bytes.Buffer
		msg             = chatOutMessage{Role: "assistant"}
	)
	for _, b := range m.Content {
		switch b.Type {
		case "text":
			text.WriteString(b.Text)
		case "thinking":
			reasoning.WriteString(b.Thinking)
			th := b.Thinking
			msg.ThinkingBlocks = append(msg.ThinkingBlocks, thinkingOut{Type: "thinking", Thinking: &th, Signature: b.Signature})
		case "redacted_thinking":
			msg.ThinkingBlocks = append(msg.ThinkingBlocks, thinkingOut{Type: "redacted_thinking", Data: b.Data})
		case "tool_use":
			tc := toolCallOut{ID: b.ID, Type: "function"}
			tc.Function.Name = b.Name
			tc.Function.Arguments = compactArgs(b.Input)
			msg.ToolCalls = append(msg.ToolCalls, tc)
		}
		// Server tool blocks (server_tool_use, web_search_tool_result, ...) have no OpenAI form.
	}
	if text.Len() > 0 || len(msg.ToolCalls) == 0 {
		s := text.String()
		msg.Content = &s
	}
	msg.ReasoningContent = reasoning.String()
	out := chatCompletion{
		ID: m.ID, Object: "chat.completion", Created: now().Unix(), Model: model,
		Choices: []chatChoice{{Message: msg, Logprobs: nullJSON, FinishReason: finishReason(m.StopReason)}},
		Usage:   m.Usage.chat(),
	}
	return marshal(out)
}

// compactArgs renders a tool input as OpenAI's arguments string; no input is "{}".
func compactArgs(input json.RawMessage) string {
	if wire.IsNull(input) {
		return "{}"
	}
	var buf bytes.Buffer
	if json.Compact(&buf, input) != nil {
		return "{}"
	}
	return buf.String()
}

// marshal and appendString are wire's, named here for the translation code and its tests.
var (
	marshal      = wire.Marshal
	appendString = wire.AppendString
)

// The chat.completion this package answers with: wire's Claude-shaped message and cache usage.
type (
	chatCompletion = wire.Completion[chatOutMessage, chatUsage]
	chatChoice     = wire.Choice[chatOutMessage]
	chatOutMessage = wire.Message
	thinkingOut    = wire.ThinkingBlock
	toolCallOut    = wire.ToolCall
	chatUsage      = wire.CacheUsage
)
