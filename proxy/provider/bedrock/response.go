package bedrock

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"time"

	"github.com/clawgate/clawgate/proxy/internal/wire"
	"github.com/clawgate/clawgate/proxy/provider/internal/httpx"
)

var (
	// now is the clock for "created" and for signing; tests pin it so golden files are stable.
	now = time.Now
	// newID names a completion when the upstream gives no request id (Converse answers carry
	// no id of their own); tests pin it.
	newID = func() string {
		var b [12]byte
		_, _ = rand.Read(b[:])
		return "chatcmpl-" + hex.EncodeToString(b[:])
	}
)

// usage is Converse's TokenUsage. inputTokens excludes the tokens read from or written to the
// prompt cache, which Bedrock counts apart.
type usage struct {
	InputTokens           int `json:"inputTokens"`
	OutputTokens          int `json:"outputTokens"`
	TotalTokens           int `json:"totalTokens"`
	CacheReadInputTokens  int `json:"cacheReadInputTokens"`
	CacheWriteInputTokens int `json:"cacheWriteInputTokens"`
}

func (u *usage) chat() chatUsage {
	c := chatUsage{
		PromptTokens:             u.InputTokens + u.CacheReadInputTokens + u.CacheWriteInputTokens,
		CompletionTokens:         u.OutputTokens,
		CacheCreationInputTokens: u.CacheWriteInputTokens,
		CacheReadInputTokens:     u.CacheReadInputTokens,
	}
	c.TotalTokens = c.PromptTokens + c.CompletionTokens
	c.PromptTokensDetails.CachedTokens = u.CacheReadInputTokens
	return c
}

// finishReason maps Converse's stopReason to OpenAI's finish_reason.
func finishReason(stop string) string {
	switch stop {
	case "max_tokens", "model_context_window_exceeded":
		return "length"
	case "tool_use":
		return "tool_calls"
	case "guardrail_intervened", "content_filtered":
		return "content_filter"
	}
	// end_turn, stop_sequence, malformed_* and anything newer: the turn ended.
	return "stop"
}

// converseResponse is the part of a Converse answer that has an OpenAI meaning.
type converseResponse struct {
	Output struct {
		Message *struct {
			Role    string          `json:"role"`
			Content []responseBlock `json:"content"`
		} `json:"message"`
	} `json:"output"`
	StopReason string `json:"stopReason"`
	Usage      usage  `json:"usage"`
}

type responseBlock struct {
	Text    *string `json:"text"`
	ToolUse *struct {
		ToolUseID string          `json:"toolUseId"`
		Name      string          `json:"name"`
		Input     json.RawMessage `json:"input"`
	} `json:"toolUse"`
	ReasoningContent *struct {
		ReasoningText *struct {
			Text      string `json:"text"`
			Signature string `json:"signature"`
		} `json:"reasoningText"`
		RedactedContent string `json:"redactedContent"`
	} `json:"reasoningContent"`
}

var nullJSON = json.RawMessage("null")

// ToChatCompletion translates a Converse response body into an OpenAI chat.completion for model
// (Converse answers do not name the model). A body that is not a Converse answer is a 502
// *provider.Error.
func ToChatCompletion(resp []byte, model string) ([]byte, error) {
	return toChatCompletion(resp, model, newID())
}

func toChatCompletion(resp []byte, model, id string) ([]byte, error) {
	var r converseResponse
	if err := json.Unmarshal(resp, &r); err != nil {
		return nil, wire.BadGateway("bedrock: upstream sent a response that is not valid JSON: %v", err)
	}
	if r.Output.Message == nil {
		return nil, wire.BadGateway("bedrock: upstream sent a response without output.message: %s", httpx.Truncate(string(resp), 200))
	}
	var (
		text, reasoning bytes.Buffer
		msg             = chatOutMessage{Role: "assistant"}
	)
	for _, b := range r.Output.Message.Content {
		switch {
		case b.Text != nil:
			text.WriteString(*b.Text)
		case b.ReasoningContent != nil && b.ReasoningContent.ReasoningText != nil:
			rt := b.ReasoningContent.ReasoningText
			reasoning.WriteString(rt.Text)
			th := rt.Text
			msg.ThinkingBlocks = append(msg.ThinkingBlocks, thinkingOut{Type: "thinking", Thinking: &th, Signature: rt.Signature})
		case b.ReasoningContent != nil && b.ReasoningContent.RedactedContent != "":
			msg.ThinkingBlocks = append(msg.ThinkingBlocks, thinkingOut{Type: "redacted_thinking", Data: b.ReasoningContent.RedactedContent})
		case b.ToolUse != nil:
			tc := toolCallOut{ID: b.ToolUse.ToolUseID, Type: "function"}
			tc.Function.Name = b.ToolUse.Name
			tc.Function.Arguments = compactArgs(b.ToolUse.Input)
			msg.ToolCalls = append(msg.ToolCalls, tc)
		}
		// Images, citations and guard content have no chat completion form.
	}
	if text.Len() > 0 || len(msg.ToolCalls) == 0 {
		s := text.String()
		msg.Content = &s
	}
	msg.ReasoningContent = reasoning.String()
	out := chatCompletion{
		ID: id, Object: "chat.completion", Created: now().Unix(), Model: model,
		Choices: []chatChoice{{Message: msg, Logprobs: nullJSON, FinishReason: finishReason(r.StopReason)}},
		Usage:   r.Usage.chat(),
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

// The chat.completion this package answers with: wire's Claude-shaped message and cache usage.
type (
	chatCompletion = wire.Completion[chatOutMessage, chatUsage]
	chatChoice     = wire.Choice[chatOutMessage]
	chatOutMessage = wire.Message
	thinkingOut    = wire.ThinkingBlock
	toolCallOut    = wire.ToolCall
	chatUsage      = wire.CacheUsage
)
