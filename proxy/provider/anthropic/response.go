package anthropic

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"time"
	"unicode/utf8"

	"github.com/clawgate/clawgate/proxy/provider"
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

// chatUsage is OpenAI's usage object with LiteLLM's Anthropic cache fields. prompt_tokens counts
// every input token, cached or not, as OpenAI's does; the cache figures say how many were which.
type chatUsage struct {
	PromptTokens        int `json:"prompt_tokens"`
	CompletionTokens    int `json:"completion_tokens"`
	TotalTokens         int `json:"total_tokens"`
	PromptTokensDetails struct {
		CachedTokens int `json:"cached_tokens"`
	} `json:"prompt_tokens_details"`
	CacheCreationInputTokens int `json:"cache_creation_input_tokens"`
	CacheReadInputTokens     int `json:"cache_read_input_tokens"`
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

type chatCompletion struct {
	ID      string       `json:"id"`
	Object  string       `json:"object"`
	Created int64        `json:"created"`
	Model   string       `json:"model"`
	Choices []chatChoice `json:"choices"`
	Usage   chatUsage    `json:"usage"`
}

type chatChoice struct {
	Index        int             `json:"index"`
	Message      chatOutMessage  `json:"message"`
	Logprobs     json.RawMessage `json:"logprobs"`
	FinishReason string          `json:"finish_reason"`
}

type chatOutMessage struct {
	Role             string        `json:"role"`
	Content          *string       `json:"content"`
	ReasoningContent string        `json:"reasoning_content,omitempty"`
	ThinkingBlocks   []thinkingOut `json:"thinking_blocks,omitempty"`
	ToolCalls        []toolCallOut `json:"tool_calls,omitempty"`
}

// thinkingOut is LiteLLM's thinking_blocks item; clients send it back to keep thinking across turns.
type thinkingOut struct {
	Type      string  `json:"type"`
	Thinking  *string `json:"thinking,omitempty"`
	Signature string  `json:"signature,omitempty"`
	Data      string  `json:"data,omitempty"`
}

type toolCallOut struct {
	ID       string `json:"id"`
	Type     string `json:"type"`
	Function struct {
		Name      string `json:"name"`
		Arguments string `json:"arguments"`
	} `json:"function"`
}

var nullJSON = json.RawMessage("null")

// ToChatCompletion translates an Anthropic Messages response into an OpenAI chat.completion.
// model is used only when the response names none. An error object in the body becomes a
// *provider.Error; a body that is not a Message, a 502 *provider.Error.
func ToChatCompletion(resp []byte, model string) ([]byte, error) {
	var m messagesResponse
	if err := json.Unmarshal(resp, &m); err != nil {
		return nil, badGateway("anthropic: upstream sent a response that is not valid JSON: %v", err)
	}
	if m.Type == "error" || m.Error != nil {
		return nil, eventError(resp)
	}
	if m.Type != "message" {
		return nil, badGateway("anthropic: upstream sent %q instead of a message", m.Type)
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
	if isNull(input) {
		return "{}"
	}
	var buf bytes.Buffer
	if json.Compact(&buf, input) != nil {
		return "{}"
	}
	return buf.String()
}

func badGateway(format string, args ...any) *provider.Error {
	return &provider.Error{Status: http.StatusBadGateway, Type: "api_error", Message: fmt.Sprintf(format, args...)}
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

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
