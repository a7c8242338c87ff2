package anthropic

import "encoding/json"

// MessagesRequest is the body of POST /v1/messages, as Anthropic documents it.
type MessagesRequest struct {
	Model         string          `json:"model,omitempty"` // empty on Vertex AI, where the URL names it
	Messages      []Message       `json:"messages"`
	System        []Block         `json:"system,omitempty"`
	MaxTokens     int             `json:"max_tokens"`
	Metadata      *Metadata       `json:"metadata,omitempty"`
	StopSequences []string        `json:"stop_sequences,omitempty"`
	Stream        bool            `json:"stream,omitempty"`
	Temperature   *float64        `json:"temperature,omitempty"`
	TopP          *float64        `json:"top_p,omitempty"`
	TopK          *int            `json:"top_k,omitempty"`
	Tools         []Tool          `json:"tools,omitempty"`
	ToolChoice    *ToolChoice     `json:"tool_choice,omitempty"`
	Thinking      json.RawMessage `json:"thinking,omitempty"`
	// AnthropicVersion is Vertex AI's body field for the API version (vertex-2023-10-16).
	AnthropicVersion string `json:"anthropic_version,omitempty"`

	// Betas names anthropic-beta features the body relies on. It travels as a header, not in the body.
	Betas []string `json:"-"`
}

// Message is one turn; Anthropic requires user and assistant turns to alternate.
type Message struct {
	Role    string  `json:"role"`
	Content []Block `json:"content"`
}

// Block is a content block. Anthropic's blocks are a union keyed by Type; one struct with
// omitempty fields serialises each kind with exactly its own fields, because the translation
// never builds empty text or empty ids.
//
//	text:              type, text, cache_control
//	image, document:   type, source, cache_control
//	tool_use:          type, id, name, input, cache_control
//	tool_result:       type, tool_use_id, content, is_error, cache_control
//	thinking:          type, thinking, signature
//	redacted_thinking: type, data
type Block struct {
	Type         string          `json:"type"`
	Text         string          `json:"text,omitempty"`
	Source       *Source         `json:"source,omitempty"`
	ID           string          `json:"id,omitempty"`
	Name         string          `json:"name,omitempty"`
	Input        json.RawMessage `json:"input,omitempty"`
	ToolUseID    string          `json:"tool_use_id,omitempty"`
	Content      []Block         `json:"content,omitempty"`
	IsError      bool            `json:"is_error,omitempty"`
	Thinking     *string         `json:"thinking,omitempty"`
	Signature    string          `json:"signature,omitempty"`
	Data         string          `json:"data,omitempty"`
	CacheControl json.RawMessage `json:"cache_control,omitempty"`
}

// Source is where an image or document comes from: inline base64 data or a URL.
type Source struct {
	Type      string `json:"type"` // "base64" or "url"
	MediaType string `json:"media_type,omitempty"`
	Data      string `json:"data,omitempty"`
	URL       string `json:"url,omitempty"`
}

// Tool is a client tool. A tool that is not an OpenAI function (one of Anthropic's own server
// tools, sent natively by the client) is kept verbatim in Raw.
type Tool struct {
	Name         string          `json:"name"`
	Description  string          `json:"description,omitempty"`
	InputSchema  json.RawMessage `json:"input_schema"`
	CacheControl json.RawMessage `json:"cache_control,omitempty"`

	Raw json.RawMessage `json:"-"`
}

// MarshalJSON writes Raw when it is set.
func (t Tool) MarshalJSON() ([]byte, error) {
	if len(t.Raw) > 0 {
		return t.Raw, nil
	}
	type plain Tool // without the method
	return marshal(plain(t))
}

// ToolChoice is {"type":"auto"|"any"|"tool"|"none"}, with name for "tool".
type ToolChoice struct {
	Type                   string `json:"type"`
	Name                   string `json:"name,omitempty"`
	DisableParallelToolUse bool   `json:"disable_parallel_tool_use,omitempty"`
}

// Metadata identifies the end user to Anthropic (abuse detection), never for billing.
type Metadata struct {
	UserID string `json:"user_id,omitempty"`
}

// Thinking is the request's extended thinking configuration.
type Thinking struct {
	Type         string `json:"type"`
	BudgetTokens int    `json:"budget_tokens,omitempty"`
}
