package anthropic

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/clawgate/clawgate/proxy/internal/wire"
	"github.com/clawgate/clawgate/proxy/provider"
)

// fallbackMaxTokens is sent when neither the request nor the deployment says how many tokens to
// generate: Anthropic requires max_tokens, and LiteLLM uses the same default.
const fallbackMaxTokens = 4096

// minBudget is the smallest thinking budget Anthropic accepts.
const minBudget = 1024

// effortBudgets maps OpenAI's reasoning_effort to a thinking budget (LiteLLM's figures, raised
// to Anthropic's minimum of 1024 where they are lower).
var effortBudgets = map[string]int{
	"minimal": minBudget, // LiteLLM says 128, which Anthropic rejects
	"low":     1024,
	"medium":  2048,
	"high":    4096,
	"xhigh":   8192,
	"max":     16384,
}

// chatRequest is the part of an OpenAI chat completion request that has an Anthropic meaning.
// Everything else (seed, penalties, logprobs, stream_options) has none and is dropped.
type chatRequest struct {
	Messages            []chatMessage     `json:"messages"`
	Tools               []json.RawMessage `json:"tools"`
	ToolChoice          json.RawMessage   `json:"tool_choice"`
	ParallelToolCalls   *bool             `json:"parallel_tool_calls"`
	Stop                json.RawMessage   `json:"stop"`
	MaxTokens           *int              `json:"max_tokens"`
	MaxCompletionTokens *int              `json:"max_completion_tokens"`
	Temperature         *float64          `json:"temperature"`
	TopP                *float64          `json:"top_p"`
	TopK                *int              `json:"top_k"`
	N                   *int              `json:"n"`
	User                string            `json:"user"`
	ReasoningEffort     string            `json:"reasoning_effort"`
	Thinking            json.RawMessage   `json:"thinking"`
}

type chatMessage struct {
	Role       string          `json:"role"`
	Content    json.RawMessage `json:"content"`
	ToolCalls  []chatToolCall  `json:"tool_calls"`
	ToolCallID string          `json:"tool_call_id"`
	// ThinkingBlocks is LiteLLM's field for Anthropic thinking, echoed back by the client.
	ThinkingBlocks []chatPart `json:"thinking_blocks"`
	// ReasoningDetails is OpenRouter's equivalent: reasoning.text items carry a signature.
	ReasoningDetails []reasoningDetail `json:"reasoning_details"`
	// CacheControl on a whole message (LiteLLM accepts it) applies to its last block.
	CacheControl json.RawMessage `json:"cache_control"`
}

type chatToolCall struct {
	ID       string `json:"id"`
	Type     string `json:"type"`
	Function struct {
		Name string `json:"name"`
		// Arguments is a JSON string per OpenAI; some clients send the object itself.
		Arguments json.RawMessage `json:"arguments"`
	} `json:"function"`
}

// chatPart is one content part. Thinking fields let a client echo Anthropic blocks as parts.
type chatPart struct {
	Type         string          `json:"type"`
	Text         string          `json:"text"`
	ImageURL     json.RawMessage `json:"image_url"`
	File         *chatFile       `json:"file"`
	Thinking     *string         `json:"thinking"`
	Signature    string          `json:"signature"`
	Data         string          `json:"data"`
	CacheControl json.RawMessage `json:"cache_control"`
}

type chatFile struct {
	FileData string `json:"file_data"`
	FileID   string `json:"file_id"`
}

type reasoningDetail struct {
	Type      string `json:"type"`
	Text      string `json:"text"`
	Signature string `json:"signature"`
	Data      string `json:"data"`
}

// FromChat translates an OpenAI chat completion request body into an Anthropic Messages request
// for model. defaultMaxTokens is used when the body sets no max_tokens (pass the model's output
// limit; 0 means 4096). Stream is left false: the caller sets it. Errors are 400 *provider.Error.
func FromChat(body []byte, model string, defaultMaxTokens int) (*MessagesRequest, error) {
	var in chatRequest
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, badRequest("", "invalid chat completion request: %v", err)
	}
	if in.N != nil && *in.N > 1 {
		return nil, badRequest("n", "n=%d is not supported by Anthropic models; ask for one choice", *in.N)
	}
	t := &translator{out: &MessagesRequest{Model: model}}
	if err := t.messages(in.Messages); err != nil {
		return nil, err
	}
	if err := t.tools(in.Tools, in.ToolChoice, in.ParallelToolCalls); err != nil {
		return nil, err
	}
	if err := t.stop(in.Stop); err != nil {
		return nil, err
	}
	if in.User != "" {
		t.out.Metadata = &Metadata{UserID: in.User}
	}
	if err := t.sampling(&in, defaultMaxTokens); err != nil {
		return nil, err
	}
	if t.ttl1h {
		t.out.Betas = append(t.out.Betas, betaExtendedCacheTTL)
	}
	return t.out, nil
}

// betaExtendedCacheTTL enables cache_control {"ttl":"1h"} on API versions that still gate it.
const betaExtendedCacheTTL = "extended-cache-ttl-2025-04-11"

type translator struct {
	out   *MessagesRequest
	ttl1h bool // some cache_control asks for the one-hour TTL
}

func badRequest(param, format string, args ...any) *provider.Error {
	return &provider.Error{
		Status: http.StatusBadRequest, Type: "invalid_request_error", Param: param,
		Message: "anthropic: " + fmt.Sprintf(format, args...),
	}
}

// messages fills System and Messages: system turns are lifted out, tool results become user
// turns, and consecutive turns of one role are merged because Anthropic requires alternation.
func (t *translator) messages(msgs []chatMessage) error {
	if len(msgs) == 0 {
		return badRequest("messages", "messages must not be empty")
	}
	for i := range msgs {
		m := &msgs[i]
		where := fmt.Sprintf("messages[%d]", i)
		var (
			role   string
			blocks []Block
			err    error
		)
		switch m.Role {
		case "system", "developer":
			blocks, err = t.systemBlocks(m, where)
			if err != nil {
				return err
			}
			t.out.System = append(t.out.System, blocks...)
			continue
		case "user":
			role = "user"
			if wire.IsNull(m.Content) {
				return badRequest(where, "%s: a user message needs content", where)
			}
			blocks, err = t.content(m.Content, where, false)
		case "assistant":
			role = "assistant"
			blocks, err = t.assistant(m, where)
		case "tool":
			role = "user"
			blocks, err = t.toolResult(m, where)
		case "function":
			return badRequest(where, "%s: role \"function\" is not supported; send tool results with role \"tool\"", where)
		default:
			return badRequest(where, "%s: unknown role %q", where, m.Role)
		}
		if err != nil {
			return err
		}
		if err := t.messageCache(m, blocks, where); err != nil {
			return err
		}
		if len(blocks) == 0 {
			continue // Anthropic rejects empty turns; an empty assistant turn says nothing anyway
		}
		if n := len(t.out.Messages); n > 0 && t.out.Messages[n-1].Role == role {
			last := &t.out.Messages[n-1]
			last.Content = append(last.Content, blocks...)
			continue
		}
		t.out.Messages = append(t.out.Messages, Message{Role: role, Content: blocks})
	}
	if len(t.out.Messages) == 0 {
		return badRequest("messages", "messages must contain a user or assistant message besides system messages")
	}
	for i := range t.out.Messages {
		if t.out.Messages[i].Role == "user" {
			toolResultsFirst(t.out.Messages[i].Content)
		}
	}
	return nil
}

// toolResultsFirst moves tool_result blocks ahead of other blocks in a user turn, keeping their
// order: Anthropic wants the results first, and a merged "tool, then user" history has them there
// already, but "user, then tool" does not.
func toolResultsFirst(blocks []Block) {
	var results, rest []Block
	for _, b := range blocks {
		if b.Type == "tool_result" {
			results = append(results, b)
		} else {
			rest = append(rest, b)
		}
	}
	if len(results) == 0 || len(rest) == 0 {
		return
	}
	copy(blocks, results)
	copy(blocks[len(results):], rest)
}

func (t *translator) systemBlocks(m *chatMessage, where string) ([]Block, error) {
	if wire.IsNull(m.Content) {
		return nil, nil
	}
	blocks, err := t.content(m.Content, where, false)
	if err != nil {
		return nil, err
	}
	for _, b := range blocks {
		if b.Type != "text" {
			return nil, badRequest(where, "%s: a system message may hold only text, not %s", where, b.Type)
		}
	}
	if err := t.messageCache(m, blocks, where); err != nil {
		return nil, err
	}
	return blocks, nil
}

// messageCache applies a message-level cache_control to the message's last block.
func (t *translator) messageCache(m *chatMessage, blocks []Block, where string) error {
	if wire.IsNull(m.CacheControl) || len(blocks) == 0 {
		return nil
	}
	cc, err := t.cacheControl(m.CacheControl, where)
	if err != nil {
		return err
	}
	blocks[len(blocks)-1].CacheControl = cc
	return nil
}

// cacheControl validates a cache_control object and notes when it needs a beta.
func (t *translator) cacheControl(raw json.RawMessage, where string) (json.RawMessage, error) {
	if wire.IsNull(raw) {
		return nil, nil
	}
	var cc struct {
		TTL string `json:"ttl"`
	}
	if err := json.Unmarshal(raw, &cc); err != nil {
		return nil, badRequest(where, "%s: cache_control must be an object like {\"type\":\"ephemeral\"}", where)
	}
	if cc.TTL == "1h" {
		t.ttl1h = true
	}
	return raw, nil
}

// assistant translates an assistant turn: thinking first (Anthropic requires a turn to start
// with its thinking when thinking is on), then text, then tool_use blocks.
func (t *translator) assistant(m *chatMessage, where string) ([]Block, error) {
	var blocks []Block
	for i := range m.ThinkingBlocks {
		if b, ok := thinkingBlock(&m.ThinkingBlocks[i]); ok {
			blocks = append(blocks, b)
		}
	}
	if len(blocks) == 0 {
		for _, d := range m.ReasoningDetails {
			switch {
			case d.Type == "reasoning.text" && d.Signature != "":
				th := d.Text
				blocks = append(blocks, Block{Type: "thinking", Thinking: &th, Signature: d.Signature})
			case d.Type == "reasoning.encrypted" && d.Data != "":
				blocks = append(blocks, Block{Type: "redacted_thinking", Data: d.Data})
			}
		}
	}
	content, err := t.content(m.Content, where, true)
	if err != nil {
		return nil, err
	}
	// Thinking parts inside content go first too, before any text.
	for _, b := range content {
		if b.Type == "thinking" || b.Type == "redacted_thinking" {
			blocks = append(blocks, b)
		}
	}
	for _, b := range content {
		if b.Type != "thinking" && b.Type != "redacted_thinking" {
			blocks = append(blocks, b)
		}
	}
	for j := range m.ToolCalls {
		tc := &m.ToolCalls[j]
		tw := fmt.Sprintf("%s.tool_calls[%d]", where, j)
		if tc.Type != "" && tc.Type != "function" {
			return nil, badRequest(where, "%s: tool call type %q is not supported", tw, tc.Type)
		}
		if tc.ID == "" || tc.Function.Name == "" {
			return nil, badRequest(where, "%s: a tool call needs an id and a function name", tw)
		}
		input, err := wire.ToolArgs(tc.Function.Arguments)
		if err != nil {
			return nil, badRequest(where, "%s.function.arguments: %v", tw, err)
		}
		blocks = append(blocks, Block{Type: "tool_use", ID: tc.ID, Name: tc.Function.Name, Input: input})
	}
	return blocks, nil
}

// toolResult translates a role "tool" message into a tool_result block.
func (t *translator) toolResult(m *chatMessage, where string) ([]Block, error) {
	if m.ToolCallID == "" {
		return nil, badRequest(where, "%s: a tool message needs tool_call_id", where)
	}
	content, err := t.content(m.Content, where, false)
	if err != nil {
		return nil, err
	}
	for _, b := range content {
		if b.Type != "text" && b.Type != "image" {
			return nil, badRequest(where, "%s: a tool result may hold text and images, not %s", where, b.Type)
		}
	}
	// A message-level cache_control is applied by the caller to this block itself.
	return []Block{{Type: "tool_result", ToolUseID: m.ToolCallID, Content: content}}, nil
}

func (t *translator) stop(raw json.RawMessage) error {
	raw = bytes.TrimSpace(raw)
	if wire.IsNull(raw) {
		return nil
	}
	var list []string
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return badRequest("stop", "stop: %v", err)
		}
		list = []string{s}
	} else if err := json.Unmarshal(raw, &list); err != nil {
		return badRequest("stop", "stop must be a string or an array of strings")
	}
	for _, s := range list {
		if s != "" {
			t.out.StopSequences = append(t.out.StopSequences, s)
		}
	}
	return nil
}

// sampling sets max_tokens, thinking and the sampling parameters, which depend on each other:
// thinking needs budget_tokens < max_tokens and rules out temperature other than 1 and top_k.
func (t *translator) sampling(in *chatRequest, defaultMaxTokens int) error {
	maxTokens := defaultMaxTokens
	explicit := false
	switch {
	case in.MaxCompletionTokens != nil:
		maxTokens, explicit = *in.MaxCompletionTokens, true
	case in.MaxTokens != nil:
		maxTokens, explicit = *in.MaxTokens, true
	}
	if explicit && maxTokens < 1 {
		return badRequest("max_tokens", "max_tokens must be at least 1, got %d", maxTokens)
	}
	if maxTokens <= 0 {
		maxTokens = fallbackMaxTokens
	}

	budget := 0
	switch {
	case !wire.IsNull(in.Thinking):
		var th Thinking
		if err := json.Unmarshal(in.Thinking, &th); err != nil {
			return badRequest("thinking", "thinking: %v", err)
		}
		t.out.Thinking = in.Thinking
		if th.Type == "enabled" {
			budget = th.BudgetTokens
		}
	case in.ReasoningEffort != "" && in.ReasoningEffort != "none":
		b, ok := effortBudgets[in.ReasoningEffort]
		if !ok {
			return badRequest("reasoning_effort", "unknown reasoning_effort %q (use minimal, low, medium or high)", in.ReasoningEffort)
		}
		budget = b
		t.out.Thinking, _ = json.Marshal(Thinking{Type: "enabled", BudgetTokens: b})
	}
	if t.out.Thinking != nil && !t.thinkingContinues() {
		// The turn resumes a tool call whose thinking the client did not send back; Anthropic
		// would reject the request, so this one turn goes without thinking (as LiteLLM does).
		t.out.Thinking, budget = nil, 0
	}
	thinking := t.out.Thinking != nil && !isDisabled(t.out.Thinking)

	if budget > 0 && maxTokens <= budget {
		// Thinking counts against max_tokens; keep what the client wanted for the answer.
		raised := budget + maxTokens
		if defaultMaxTokens > budget && raised > defaultMaxTokens {
			raised = defaultMaxTokens
		}
		maxTokens = raised
	}
	t.out.MaxTokens = maxTokens

	t.out.Temperature, t.out.TopP, t.out.TopK = in.Temperature, in.TopP, in.TopK
	if thinking {
		if in.Temperature != nil && *in.Temperature != 1 {
			t.out.Temperature = nil
		}
		if in.TopP != nil && *in.TopP < 0.95 {
			t.out.TopP = nil
		}
		t.out.TopK = nil
	}
	return nil
}

// thinkingContinues reports whether the request may keep thinking on: when the last turn carries
// tool results, the assistant turn that called the tools must start with its thinking block.
func (t *translator) thinkingContinues() bool {
	msgs := t.out.Messages
	n := len(msgs)
	if n < 2 || msgs[n-1].Role != "user" || !hasToolResult(msgs[n-1].Content) {
		return true
	}
	prev := msgs[n-2].Content
	return len(prev) > 0 && (prev[0].Type == "thinking" || prev[0].Type == "redacted_thinking")
}

func hasToolResult(blocks []Block) bool {
	for _, b := range blocks {
		if b.Type == "tool_result" {
			return true
		}
	}
	return false
}

func isDisabled(raw json.RawMessage) bool {
	var th Thinking
	return json.Unmarshal(raw, &th) == nil && th.Type == "disabled"
}
