package bedrock

import "encoding/json"

// ConverseRequest is the body of POST /model/{modelId}/converse and /converse-stream, as the
// Bedrock Runtime API documents it. The model id travels in the path, not in the body.
type ConverseRequest struct {
	Messages                     []Message        `json:"messages"`
	System                       []SystemBlock    `json:"system,omitempty"`
	InferenceConfig              *InferenceConfig `json:"inferenceConfig,omitempty"`
	ToolConfig                   *ToolConfig      `json:"toolConfig,omitempty"`
	AdditionalModelRequestFields json.RawMessage  `json:"additionalModelRequestFields,omitempty"`
}

// Message is one turn; Converse wants a conversation that starts with a user turn and alternates.
type Message struct {
	Role    string  `json:"role"`
	Content []Block `json:"content"`
}

// Block is a ContentBlock, a union: exactly one field is set. The translation never builds an
// empty text, so omitempty on Text cannot drop a block's only member.
type Block struct {
	Text             string            `json:"text,omitempty"`
	Image            *Image            `json:"image,omitempty"`
	Document         *Document         `json:"document,omitempty"`
	ToolUse          *ToolUse          `json:"toolUse,omitempty"`
	ToolResult       *ToolResult       `json:"toolResult,omitempty"`
	ReasoningContent *ReasoningContent `json:"reasoningContent,omitempty"`
	CachePoint       *CachePoint       `json:"cachePoint,omitempty"`
}

// SystemBlock is a SystemContentBlock: text, or a cache point after the text it closes.
type SystemBlock struct {
	Text       string      `json:"text,omitempty"`
	CachePoint *CachePoint `json:"cachePoint,omitempty"`
}

// CachePoint marks the end of a prompt prefix Bedrock may cache; "default" is the only type.
type CachePoint struct {
	Type string `json:"type"`
}

var defaultCachePoint = &CachePoint{Type: "default"}

// Image is an ImageBlock with inline bytes (base64 in JSON). Format is png, jpeg, gif or webp.
type Image struct {
	Format string     `json:"format"`
	Source BlobSource `json:"source"`
}

// Document is a DocumentBlock with inline bytes. Name is required by Bedrock and shown to the model.
type Document struct {
	Format string     `json:"format"`
	Name   string     `json:"name"`
	Source BlobSource `json:"source"`
}

// BlobSource carries base64 bytes; Bedrock's other source (an S3 location) is not used.
type BlobSource struct {
	Bytes string `json:"bytes"`
}

// ToolUse is an assistant's tool call; Input is a JSON object.
type ToolUse struct {
	ToolUseID string          `json:"toolUseId"`
	Name      string          `json:"name"`
	Input     json.RawMessage `json:"input"`
}

// ToolResult answers a ToolUse in the next user turn.
type ToolResult struct {
	ToolUseID string              `json:"toolUseId"`
	Content   []ToolResultContent `json:"content"`
	Status    string              `json:"status,omitempty"` // "success" or "error"
}

// ToolResultContent is a union: text, json or image.
type ToolResultContent struct {
	Text  string          `json:"text,omitempty"`
	JSON  json.RawMessage `json:"json,omitempty"`
	Image *Image          `json:"image,omitempty"`
}

// ReasoningContent is a model's reasoning, echoed back in later turns: either the text with its
// signature, or the provider-encrypted redacted content (base64).
type ReasoningContent struct {
	ReasoningText   *ReasoningText `json:"reasoningText,omitempty"`
	RedactedContent string         `json:"redactedContent,omitempty"`
}

// ReasoningText is the readable reasoning and the signature that proves it is the model's own.
type ReasoningText struct {
	Text      string `json:"text"`
	Signature string `json:"signature,omitempty"`
}

// InferenceConfig holds the sampling parameters Converse knows for every model.
type InferenceConfig struct {
	MaxTokens     *int     `json:"maxTokens,omitempty"`
	Temperature   *float64 `json:"temperature,omitempty"`
	TopP          *float64 `json:"topP,omitempty"`
	StopSequences []string `json:"stopSequences,omitempty"`
}

// ToolConfig lists the tools and, optionally, how the model must choose among them.
type ToolConfig struct {
	Tools      []Tool      `json:"tools"`
	ToolChoice *ToolChoice `json:"toolChoice,omitempty"`
}

// Tool is a union: a tool specification, or a cache point after the tools it closes.
type Tool struct {
	ToolSpec   *ToolSpec   `json:"toolSpec,omitempty"`
	CachePoint *CachePoint `json:"cachePoint,omitempty"`
}

// ToolSpec describes one function the model may call.
type ToolSpec struct {
	Name        string      `json:"name"`
	Description string      `json:"description,omitempty"`
	InputSchema InputSchema `json:"inputSchema"`
}

// InputSchema wraps a JSON Schema.
type InputSchema struct {
	JSON json.RawMessage `json:"json"`
}

// ToolChoice is a union: {"auto":{}}, {"any":{}} or {"tool":{"name":...}}.
type ToolChoice struct {
	Auto *struct{}    `json:"auto,omitempty"`
	Any  *struct{}    `json:"any,omitempty"`
	Tool *NamedChoice `json:"tool,omitempty"`
}

// NamedChoice forces one tool.
type NamedChoice struct {
	Name string `json:"name"`
}
