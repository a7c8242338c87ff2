package messages

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/clawgate/clawgate/proxy/provider"
)

// completion is the part of an OpenAI chat.completion that has an Anthropic meaning.
type completion struct {
	ID      string `json:"id"`
	Choices []struct {
		Message struct {
			Content          json.RawMessage `json:"content"`
			ReasoningContent string          `json:"reasoning_content"`
			Reasoning        string          `json:"reasoning"` // OpenRouter's, vLLM's and Ollama's name
			ThinkingBlocks   []thinkingBlock `json:"thinking_blocks"`
			ToolCalls        []struct {
				ID       string `json:"id"`
				Function struct {
					Name      string          `json:"name"`
					Arguments json.RawMessage `json:"arguments"`
				} `json:"function"`
			} `json:"tool_calls"`
			Refusal string `json:"refusal"`
		} `json:"message"`
		FinishReason string `json:"finish_reason"`
	} `json:"choices"`
	Usage *chatUsage      `json:"usage"`
	Error json.RawMessage `json:"error"`
}

// chatUsage is OpenAI's usage object with LiteLLM's Anthropic cache fields.
type chatUsage struct {
	PromptTokens        int `json:"prompt_tokens"`
	CompletionTokens    int `json:"completion_tokens"`
	PromptTokensDetails *struct {
		CachedTokens int `json:"cached_tokens"`
	} `json:"prompt_tokens_details"`
	CacheCreationInputTokens int `json:"cache_creation_input_tokens"`
	CacheReadInputTokens     int `json:"cache_read_input_tokens"`
}

// usage is Anthropic's usage object. input_tokens counts only the tokens that were neither read
// from nor written to the cache, where OpenAI's prompt_tokens counts them all.
type usage struct {
	InputTokens              int `json:"input_tokens"`
	CacheCreationInputTokens int `json:"cache_creation_input_tokens"`
	CacheReadInputTokens     int `json:"cache_read_input_tokens"`
	OutputTokens             int `json:"output_tokens"`
}

func (c *chatUsage) anthropic() usage {
	if c == nil {
		return usage{}
	}
	read := c.CacheReadInputTokens
	if d := c.PromptTokensDetails; d != nil && d.CachedTokens > read {
		read = d.CachedTokens
	}
	write := c.CacheCreationInputTokens
	return usage{
		InputTokens:              max(c.PromptTokens-read-write, 0),
		CacheCreationInputTokens: write,
		CacheReadInputTokens:     read,
		OutputTokens:             c.CompletionTokens,
	}
}

// stopReason maps OpenAI's finish_reason to Anthropic's stop_reason. A turn that called tools
// ends with tool_use whatever the upstream said (some say "stop"): Anthropic's clients run the
// tools only on tool_use. OpenAI does not tell a stop sequence from a natural end, so
// stop_sequence is never reported.
func stopReason(finish string, calledTools bool) string {
	switch finish {
	case "length":
		return "max_tokens"
	case "content_filter":
		return "refusal"
	}
	if calledTools {
		return "tool_use"
	}
	return "end_turn"
}

// messageOut is Anthropic's Message object.
type messageOut struct {
	ID           string     `json:"id"`
	Type         string     `json:"type"`
	Role         string     `json:"role"`
	Model        string     `json:"model"`
	Content      []blockOut `json:"content"`
	StopReason   string     `json:"stop_reason"`
	StopSequence *string    `json:"stop_sequence"`
	Usage        usage      `json:"usage"`
}

// blockOut is a response content block: text, thinking, redacted_thinking or tool_use, each
// written with exactly its own fields.
type blockOut struct {
	Type      string          `json:"type"`
	Text      *string         `json:"text,omitempty"`
	Thinking  *string         `json:"thinking,omitempty"`
	Signature *string         `json:"signature,omitempty"`
	Data      string          `json:"data,omitempty"`
	ID        string          `json:"id,omitempty"`
	Name      string          `json:"name,omitempty"`
	Input     json.RawMessage `json:"input,omitempty"`
}

// FromChatCompletion translates an OpenAI chat.completion into an Anthropic Message for the
// request that info describes (its model is echoed, its shortened tool names restored). A body
// that is not a chat completion gives a 502 *provider.Error.
func FromChatCompletion(resp []byte, info Info) ([]byte, error) {
	var c completion
	if err := json.Unmarshal(resp, &c); err != nil {
		return nil, badGateway("upstream sent a response that is not valid JSON: %v", err)
	}
	if !isNull(c.Error) {
		return nil, badGateway("upstream sent an error instead of a completion: %.200s", c.Error)
	}
	out := messageOut{
		ID: messageID(c.ID), Type: "message", Role: "assistant", Model: info.Model,
		Content: []blockOut{}, Usage: c.Usage.anthropic(),
	}
	if len(c.Choices) == 0 {
		out.StopReason = "end_turn"
		return marshal(out)
	}
	ch := &c.Choices[0]
	m := &ch.Message
	for _, tb := range m.ThinkingBlocks {
		switch tb.Type {
		case "thinking":
			th, sig := "", tb.Signature
			if tb.Thinking != nil {
				th = *tb.Thinking
			}
			out.Content = append(out.Content, blockOut{Type: "thinking", Thinking: &th, Signature: &sig})
		case "redacted_thinking":
			out.Content = append(out.Content, blockOut{Type: "redacted_thinking", Data: tb.Data})
		}
	}
	if len(out.Content) == 0 {
		// Reasoning without Anthropic's signature (DeepSeek, OpenRouter, vLLM): shown as thinking;
		// an Anthropic upstream would reject it if sent back, but other providers ignore it.
		reasoning := m.ReasoningContent
		if reasoning == "" {
			reasoning = m.Reasoning
		}
		if reasoning != "" {
			sig := ""
			out.Content = append(out.Content, blockOut{Type: "thinking", Thinking: &reasoning, Signature: &sig})
		}
	}
	if text := contentText(m.Content); text != "" {
		out.Content = append(out.Content, blockOut{Type: "text", Text: &text})
	}
	if m.Refusal != "" {
		refusal := m.Refusal
		out.Content = append(out.Content, blockOut{Type: "text", Text: &refusal})
	}
	for _, tc := range m.ToolCalls {
		id := tc.ID
		if id == "" {
			id = "toolu_" + randomHex(12)
		}
		out.Content = append(out.Content, blockOut{
			Type: "tool_use", ID: id, Name: info.original(tc.Function.Name), Input: toolInput(tc.Function.Arguments),
		})
	}
	out.StopReason = stopReason(ch.FinishReason, len(m.ToolCalls) > 0)
	if m.Refusal != "" && ch.FinishReason != "length" {
		out.StopReason = "refusal"
	}
	return marshal(out)
}

// contentText reads message content: a string, or (from some servers) an array of text parts.
func contentText(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if isNull(raw) {
		return ""
	}
	var s string
	if raw[0] == '"' {
		_ = json.Unmarshal(raw, &s)
		return s
	}
	var parts []struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}
	if json.Unmarshal(raw, &parts) != nil {
		return ""
	}
	var b strings.Builder
	for _, p := range parts {
		if p.Type == "text" || p.Type == "output_text" {
			b.WriteString(p.Text)
		}
	}
	return b.String()
}

// messageID makes an Anthropic-looking message id from the upstream's completion id, so that
// logs on both sides can be matched; an upstream id that already is one is kept.
func messageID(id string) string {
	switch {
	case strings.HasPrefix(id, "msg_"):
		return id
	case id == "":
		return "msg_" + randomHex(12)
	}
	return "msg_" + strings.TrimPrefix(id, "chatcmpl-")
}

// randomHex is a variable so that tests can pin generated ids.
var randomHex = func(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func badGateway(format string, args ...any) *provider.Error {
	return &provider.Error{Status: http.StatusBadGateway, Type: "api_error", Message: fmt.Sprintf(format, args...)}
}
