package gemini

import (
	"bytes"
	"encoding/json"
	"strings"
	"time"

	"github.com/clawgate/clawgate/proxy/internal/wire"
)

// now is the clock for "created"; tests pin it so golden files are stable.
var now = time.Now

// generateContentResponse is the part of a GenerateContentResponse (or of one streamed fragment
// of it) that has an OpenAI meaning.
type generateContentResponse struct {
	Candidates     []candidate     `json:"candidates"`
	PromptFeedback *promptFeedback `json:"promptFeedback"`
	UsageMetadata  *usageMetadata  `json:"usageMetadata"`
	ModelVersion   string          `json:"modelVersion"`
	ResponseID     string          `json:"responseId"`
	Error          *apiError       `json:"error"`
}

type candidate struct {
	Content *struct {
		Parts []responsePart `json:"parts"`
	} `json:"content"`
	FinishReason string `json:"finishReason"`
	Index        int    `json:"index"`
}

// responsePart keeps text raw: it is already a valid JSON string, which the stream passes on
// without unescaping and escaping it again.
type responsePart struct {
	Text             json.RawMessage `json:"text"`
	Thought          bool            `json:"thought"`
	ThoughtSignature string          `json:"thoughtSignature"`
	FunctionCall     *struct {
		ID   string          `json:"id"`
		Name string          `json:"name"`
		Args json.RawMessage `json:"args"`
	} `json:"functionCall"`
}

type promptFeedback struct {
	BlockReason string `json:"blockReason"`
}

// usageMetadata is Gemini's token accounting. Streamed fragments carry running figures; the
// last one seen is the final one.
type usageMetadata struct {
	PromptTokenCount        int `json:"promptTokenCount"`
	CandidatesTokenCount    int `json:"candidatesTokenCount"`
	ThoughtsTokenCount      int `json:"thoughtsTokenCount"`
	CachedContentTokenCount int `json:"cachedContentTokenCount"`
	ToolUsePromptTokenCount int `json:"toolUsePromptTokenCount"`
	TotalTokenCount         int `json:"totalTokenCount"`
}

// chatUsage is OpenAI's usage object. Thinking is output the caller pays for, so
// completion_tokens counts it, and reasoning_tokens says how much of it there was.
type chatUsage struct {
	PromptTokens        int `json:"prompt_tokens"`
	CompletionTokens    int `json:"completion_tokens"`
	TotalTokens         int `json:"total_tokens"`
	PromptTokensDetails struct {
		CachedTokens int `json:"cached_tokens"`
	} `json:"prompt_tokens_details"`
	CompletionTokensDetails struct {
		ReasoningTokens int `json:"reasoning_tokens"`
	} `json:"completion_tokens_details"`
}

func (u *usageMetadata) chat() chatUsage {
	var c chatUsage
	if u == nil {
		return c
	}
	// Prompts for Gemini's own tools (search, code execution) are input the model read, and
	// totalTokenCount counts them; prompt_tokens does too, so that prompt + completion = total.
	c.PromptTokens = u.PromptTokenCount + u.ToolUsePromptTokenCount
	c.CompletionTokens = u.CandidatesTokenCount + u.ThoughtsTokenCount
	c.TotalTokens = u.TotalTokenCount
	if c.TotalTokens == 0 {
		c.TotalTokens = c.PromptTokens + c.CompletionTokens
	}
	c.PromptTokensDetails.CachedTokens = u.CachedContentTokenCount
	c.CompletionTokensDetails.ReasoningTokens = u.ThoughtsTokenCount
	return c
}

// finishReason maps Gemini's finishReason to OpenAI's. toolCalls says whether the answer holds
// function calls: Gemini ends those with STOP, OpenAI clients look for "tool_calls".
func finishReason(reason string, toolCalls bool) string {
	switch reason {
	case "MAX_TOKENS":
		return "length"
	case "SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII",
		"IMAGE_SAFETY", "IMAGE_PROHIBITED_CONTENT", "IMAGE_RECITATION":
		return "content_filter"
	}
	if toolCalls {
		return "tool_calls"
	}
	// STOP, OTHER, LANGUAGE, MALFORMED_FUNCTION_CALL and anything newer: the turn is over.
	return "stop"
}

// blockedMessage explains a prompt Gemini refused to answer at all.
func blockedMessage(reason string) string {
	return "Gemini blocked the prompt (blockReason: " + reason + ")."
}

type chatOutMessage struct {
	Role             string        `json:"role"`
	Content          *string       `json:"content"`
	Refusal          *string       `json:"refusal,omitempty"`
	ReasoningContent string        `json:"reasoning_content,omitempty"`
	ToolCalls        []toolCallOut `json:"tool_calls,omitempty"`
}

type toolCallOut struct {
	ID       string `json:"id"`
	Type     string `json:"type"`
	Function struct {
		Name      string `json:"name"`
		Arguments string `json:"arguments"`
	} `json:"function"`
	ProviderSpecificFields *providerFields `json:"provider_specific_fields,omitempty"`
}

// providerFields is LiteLLM's provider_specific_fields on a tool call.
type providerFields struct {
	ThoughtSignature string `json:"thought_signature,omitempty"`
}

var nullJSON = json.RawMessage("null")

// ToChatCompletion translates a Gemini GenerateContentResponse into an OpenAI chat.completion.
// model names the answer when the response has no modelVersion. An error object in the body
// becomes a *provider.Error; a body that is not JSON, a 502 *provider.Error.
func ToChatCompletion(resp []byte, model string) ([]byte, error) {
	var r generateContentResponse
	if err := json.Unmarshal(resp, &r); err != nil {
		return nil, wire.BadGateway("gemini: upstream sent a response that is not valid JSON: %v", err)
	}
	if r.Error != nil {
		return nil, objectError(r.Error)
	}
	if r.ModelVersion != "" {
		model = r.ModelVersion
	}
	id := r.ResponseID
	if id == "" {
		id = "chatcmpl-" + newID()
	}
	msg := chatOutMessage{Role: "assistant"}
	reason := "stop"
	switch {
	case len(r.Candidates) == 0 && r.PromptFeedback != nil && r.PromptFeedback.BlockReason != "":
		// The prompt itself was refused: no candidate, nothing generated.
		s := blockedMessage(r.PromptFeedback.BlockReason)
		msg.Refusal = &s
		reason = "content_filter"
	case len(r.Candidates) > 0:
		c := &r.Candidates[0]
		var text, reasoning strings.Builder
		if c.Content != nil {
			for _, p := range c.Content.Parts {
				switch {
				case p.FunctionCall != nil:
					msg.ToolCalls = append(msg.ToolCalls, newToolCall(p.FunctionCall.ID, p.FunctionCall.Name, p.FunctionCall.Args, p.ThoughtSignature))
				case p.Thought:
					reasoning.WriteString(jsonString(p.Text))
				default:
					text.WriteString(jsonString(p.Text))
				}
				// inlineData (generated images), executableCode and the like have no chat
				// completion form; a signature on a text part is not required back.
			}
		}
		if text.Len() > 0 || len(msg.ToolCalls) == 0 {
			s := text.String()
			msg.Content = &s
		}
		msg.ReasoningContent = reasoning.String()
		reason = finishReason(c.FinishReason, len(msg.ToolCalls) > 0)
	default:
		empty := ""
		msg.Content = &empty
	}
	out := chatCompletion{
		ID: id, Object: "chat.completion", Created: now().Unix(), Model: model,
		Choices: []chatChoice{{Message: msg, Logprobs: nullJSON, FinishReason: reason}},
		Usage:   r.UsageMetadata.chat(),
	}
	return marshal(out)
}

// newToolCall builds one OpenAI tool call from a functionCall part. The thought signature travels
// both in the id (clients keep ids, whatever else they drop) and in provider_specific_fields.
func newToolCall(callID, name string, args json.RawMessage, sig string) toolCallOut {
	tc := toolCallOut{ID: toolCallID(callID, sig), Type: "function"}
	tc.Function.Name = name
	tc.Function.Arguments = compactArgs(args)
	if sig != "" {
		tc.ProviderSpecificFields = &providerFields{ThoughtSignature: sig}
	}
	return tc
}

// compactArgs renders functionCall.args as OpenAI's arguments string; no args is "{}".
func compactArgs(args json.RawMessage) string {
	if wire.IsNull(args) {
		return "{}"
	}
	var buf bytes.Buffer
	if json.Compact(&buf, args) != nil {
		return "{}"
	}
	return buf.String()
}

// jsonString decodes a raw JSON string; anything else is "".
func jsonString(raw json.RawMessage) string {
	if !wire.IsString(raw) {
		return ""
	}
	var s string
	_ = json.Unmarshal(raw, &s)
	return s
}

// marshal and appendString are wire's, named here for the translation code and its tests.
var (
	marshal      = wire.Marshal
	appendString = wire.AppendString
)

// The chat.completion this package answers with: Gemini's own message and usage shapes.
type (
	chatCompletion = wire.Completion[chatOutMessage, chatUsage]
	chatChoice     = wire.Choice[chatOutMessage]
)
