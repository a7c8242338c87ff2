package wire

import "encoding/json"

// Completion is OpenAI's chat.completion object. M is the provider's message shape and U its
// usage shape, which differ in the LiteLLM extensions each carries.
type Completion[M, U any] struct {
	ID      string      `json:"id"`
	Object  string      `json:"object"`
	Created int64       `json:"created"`
	Model   string      `json:"model"`
	Choices []Choice[M] `json:"choices"`
	Usage   U           `json:"usage"`
}

// Choice is one item of a chat.completion's choices.
type Choice[M any] struct {
	Index        int             `json:"index"`
	Message      M               `json:"message"`
	Logprobs     json.RawMessage `json:"logprobs"`
	FinishReason string          `json:"finish_reason"`
}

// Message is an assistant message with LiteLLM's reasoning_content and thinking_blocks, as the
// Claude providers (Anthropic, Bedrock) answer.
type Message struct {
	Role             string          `json:"role"`
	Content          *string         `json:"content"`
	ReasoningContent string          `json:"reasoning_content,omitempty"`
	ThinkingBlocks   []ThinkingBlock `json:"thinking_blocks,omitempty"`
	ToolCalls        []ToolCall      `json:"tool_calls,omitempty"`
}

// ThinkingBlock is LiteLLM's thinking_blocks item; clients send it back to keep thinking across
// turns.
type ThinkingBlock struct {
	Type      string  `json:"type"`
	Thinking  *string `json:"thinking,omitempty"`
	Signature string  `json:"signature,omitempty"`
	Data      string  `json:"data,omitempty"`
}

// ToolCall is one item of an assistant message's tool_calls.
type ToolCall struct {
	ID       string `json:"id"`
	Type     string `json:"type"`
	Function struct {
		Name      string `json:"name"`
		Arguments string `json:"arguments"`
	} `json:"function"`
}

// CacheUsage is OpenAI's usage object with LiteLLM's Anthropic cache fields. prompt_tokens
// counts every input token, cached or not, as OpenAI's does; the cache figures say how many
// were which.
type CacheUsage struct {
	PromptTokens        int `json:"prompt_tokens"`
	CompletionTokens    int `json:"completion_tokens"`
	TotalTokens         int `json:"total_tokens"`
	PromptTokensDetails struct {
		CachedTokens int `json:"cached_tokens"`
	} `json:"prompt_tokens_details"`
	CacheCreationInputTokens int `json:"cache_creation_input_tokens"`
	CacheReadInputTokens     int `json:"cache_read_input_tokens"`
}
