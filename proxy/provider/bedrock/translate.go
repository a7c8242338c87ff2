package bedrock

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/clawgate/clawgate/proxy/internal/wire"
	"github.com/clawgate/clawgate/proxy/provider"
)

// fallbackMaxTokens is maxTokens when thinking is on and neither the request nor the deployment
// sets a limit: Claude needs maxTokens above the thinking budget, and Bedrock's own default is
// model-specific and unknown here.
const fallbackMaxTokens = 4096

// minBudget is the smallest thinking budget Claude accepts.
const minBudget = 1024

// effortBudgets maps OpenAI's reasoning_effort to a Claude thinking budget, with the figures
// the anthropic package uses (LiteLLM's, raised to Claude's minimum of 1024).
var effortBudgets = map[string]int{
	"minimal": minBudget,
	"low":     1024,
	"medium":  2048,
	"high":    4096,
	"xhigh":   8192,
	"max":     16384,
}

// placeholderUser opens a conversation that would otherwise start with an assistant turn:
// Converse rejects that, and a one-character user turn changes the model's answer the least.
const placeholderUser = "."

// emptyToolResult stands in for a tool result with no text: Bedrock rejects blank text.
const emptyToolResult = "(empty)"

// chatRequest is the part of an OpenAI chat completion request that has a Converse meaning.
// Everything else (seed, penalties, logprobs, user, parallel_tool_calls) has none and is dropped.
type chatRequest struct {
	Messages            []chatMessage     `json:"messages"`
	Tools               []json.RawMessage `json:"tools"`
	ToolChoice          json.RawMessage   `json:"tool_choice"`
	Stop                json.RawMessage   `json:"stop"`
	MaxTokens           *int              `json:"max_tokens"`
	MaxCompletionTokens *int              `json:"max_completion_tokens"`
	Temperature         *float64          `json:"temperature"`
	TopP                *float64          `json:"top_p"`
	TopK                *int              `json:"top_k"`
	N                   *int              `json:"n"`
	ReasoningEffort     string            `json:"reasoning_effort"`
	Thinking            json.RawMessage   `json:"thinking"`
}

type chatMessage struct {
	Role       string          `json:"role"`
	Content    json.RawMessage `json:"content"`
	ToolCalls  []chatToolCall  `json:"tool_calls"`
	ToolCallID string          `json:"tool_call_id"`
	// ThinkingBlocks is LiteLLM's field for Claude reasoning, echoed back by the client.
	ThinkingBlocks []chatPart `json:"thinking_blocks"`
	// CacheControl on a whole message (LiteLLM accepts it) puts a cache point after it.
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

// chatPart is one content part. The thinking fields let a client echo reasoning as parts.
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
	Filename string `json:"filename"`
}

// FromChat translates an OpenAI chat completion request body into a Converse request for model
// (a model id, inference profile id or ARN: it decides whether Claude-only fields are sent).
// defaultMaxTokens is maxTokens when the body sets none (pass the model's output limit; 0 sends
// none and lets Bedrock decide). Errors are 400 *provider.Error.
func FromChat(body []byte, model string, defaultMaxTokens int) (*ConverseRequest, error) {
	var in chatRequest
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, badRequest("", "invalid chat completion request: %v", err)
	}
	if in.N != nil && *in.N > 1 {
		return nil, badRequest("n", "n=%d is not supported by Bedrock Converse; ask for one choice", *in.N)
	}
	t := &translator{out: &ConverseRequest{}, claude: isClaude(model), model: model}
	if err := t.messages(in.Messages); err != nil {
		return nil, err
	}
	if err := t.tools(in.Tools, in.ToolChoice); err != nil {
		return nil, err
	}
	if err := t.sampling(&in, defaultMaxTokens); err != nil {
		return nil, err
	}
	return t.out, nil
}

type translator struct {
	out    *ConverseRequest
	model  string
	claude bool
	// historyTools names the tools the history's toolUse blocks call, in order of first use.
	historyTools []string
	// toolBlocks is true when the history holds toolUse or toolResult blocks: Bedrock then
	// wants a toolConfig even on a turn that offers no tools.
	toolBlocks bool
	documents  int // documents so far, for their default names
}

// isClaude reports whether model is an Anthropic model on Bedrock: a foundation model id
// (anthropic.claude-...), a cross-region profile (us./eu./apac./global.anthropic...) or an ARN
// that names one. An application inference profile ARN names no model and counts as not Claude.
func isClaude(model string) bool {
	m := strings.ToLower(model)
	return strings.Contains(m, "anthropic.") || strings.Contains(m, "claude")
}

// supportsToolChoice reports whether Converse accepts toolChoice for model. Bedrock documents
// it for Claude, Nova and Mistral Large; other models reject the field even as {"auto":{}}.
func supportsToolChoice(model string) bool {
	m := strings.ToLower(model)
	return isClaude(m) || strings.Contains(m, "nova") || strings.Contains(m, "mistral-large")
}

func badRequest(param, format string, args ...any) *provider.Error {
	return &provider.Error{
		Status: http.StatusBadRequest, Type: "invalid_request_error", Param: param,
		Message: "bedrock: " + fmt.Sprintf(format, args...),
	}
}

// messages fills System and Messages: system turns are lifted out, tool results become user
// turns, consecutive turns of one role are merged, and a conversation that would start with the
// assistant gets a placeholder user turn first, because Converse requires all three.
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
			if err := t.system(m, where); err != nil {
				return err
			}
			continue
		case "user":
			role = "user"
			if wire.IsNull(m.Content) {
				return badRequest(where, "%s: a user message needs content", where)
			}
			blocks, err = t.content(m.Content, where, kindUser)
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
		if !wire.IsNull(m.CacheControl) {
			blocks = addCachePoint(blocks)
		}
		if !hasContent(blocks) {
			continue // Converse rejects empty turns; an empty assistant turn says nothing anyway
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
	if t.out.Messages[0].Role != "user" {
		first := Message{Role: "user", Content: []Block{{Text: placeholderUser}}}
		t.out.Messages = append([]Message{first}, t.out.Messages...)
	}
	for i := range t.out.Messages {
		if t.out.Messages[i].Role == "user" {
			toolResultsFirst(t.out.Messages[i].Content)
		}
	}
	return nil
}

// hasContent reports whether blocks hold more than cache points.
func hasContent(blocks []Block) bool {
	for _, b := range blocks {
		if b.CachePoint == nil {
			return true
		}
	}
	return false
}

// addCachePoint appends a cache point unless blocks are empty or already end with one.
func addCachePoint(blocks []Block) []Block {
	if n := len(blocks); n == 0 || blocks[n-1].CachePoint != nil {
		return blocks
	}
	return append(blocks, Block{CachePoint: defaultCachePoint})
}

// toolResultsFirst moves toolResult blocks (with the cache points right after them) ahead of
// the other blocks of a user turn, keeping their order: Claude wants the results first, and a
// merged "user, then tool" history would have them last.
func toolResultsFirst(blocks []Block) {
	var results, rest []Block
	inResult := false
	for _, b := range blocks {
		switch {
		case b.ToolResult != nil:
			inResult = true
			results = append(results, b)
		case b.CachePoint != nil && inResult:
			results = append(results, b)
		default:
			inResult = false
			rest = append(rest, b)
		}
	}
	if len(results) == 0 || len(rest) == 0 {
		return
	}
	copy(blocks, results)
	copy(blocks[len(results):], rest)
}

// system lifts a system (or developer) message into the top-level system blocks.
func (t *translator) system(m *chatMessage, where string) error {
	if wire.IsNull(m.Content) {
		return nil
	}
	blocks, err := t.content(m.Content, where, kindSystem)
	if err != nil {
		return err
	}
	if !wire.IsNull(m.CacheControl) {
		blocks = addCachePoint(blocks)
	}
	for _, b := range blocks {
		t.out.System = append(t.out.System, SystemBlock{Text: b.Text, CachePoint: b.CachePoint})
	}
	return nil
}

// assistant translates an assistant turn: reasoning first (Claude requires a turn that calls
// tools with thinking on to start with its reasoning), then text, then toolUse blocks.
func (t *translator) assistant(m *chatMessage, where string) ([]Block, error) {
	var blocks []Block
	for i := range m.ThinkingBlocks {
		if b, ok := reasoningBlock(&m.ThinkingBlocks[i]); ok {
			blocks = append(blocks, b)
		}
	}
	content, err := t.content(m.Content, where, kindAssistant)
	if err != nil {
		return nil, err
	}
	for _, b := range content {
		if b.ReasoningContent != nil {
			blocks = append(blocks, b)
		}
	}
	for _, b := range content {
		if b.ReasoningContent == nil {
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
		blocks = append(blocks, Block{ToolUse: &ToolUse{ToolUseID: tc.ID, Name: tc.Function.Name, Input: input}})
		t.toolBlocks = true
		t.useTool(tc.Function.Name)
	}
	return blocks, nil
}

func (t *translator) useTool(name string) {
	for _, have := range t.historyTools {
		if have == name {
			return
		}
	}
	t.historyTools = append(t.historyTools, name)
}

// toolResult translates a role "tool" message into a toolResult block. OpenAI tool results are
// strings (or text and image parts), so the content is text, never Converse's json member: a
// JSON string stays text, which every model accepts. OpenAI has no error flag, so no status.
func (t *translator) toolResult(m *chatMessage, where string) ([]Block, error) {
	if m.ToolCallID == "" {
		return nil, badRequest(where, "%s: a tool message needs tool_call_id", where)
	}
	t.toolBlocks = true
	content, err := t.content(m.Content, where, kindTool)
	if err != nil {
		return nil, err
	}
	res := &ToolResult{ToolUseID: m.ToolCallID}
	cached := false
	for _, b := range content {
		switch {
		case b.Image != nil:
			res.Content = append(res.Content, ToolResultContent{Image: b.Image})
		case b.CachePoint != nil:
			cached = true // a cache point cannot sit inside a result; it goes right after it
		default:
			res.Content = append(res.Content, ToolResultContent{Text: b.Text})
		}
	}
	if len(res.Content) == 0 {
		res.Content = []ToolResultContent{{Text: emptyToolResult}}
	}
	blocks := []Block{{ToolResult: res}}
	if cached {
		blocks = addCachePoint(blocks)
	}
	return blocks, nil
}

func (t *translator) stop(raw json.RawMessage) ([]string, error) {
	raw = bytes.TrimSpace(raw)
	if wire.IsNull(raw) {
		return nil, nil
	}
	var list []string
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, badRequest("stop", "stop: %v", err)
		}
		list = []string{s}
	} else if err := json.Unmarshal(raw, &list); err != nil {
		return nil, badRequest("stop", "stop must be a string or an array of strings")
	}
	var out []string
	for _, s := range list {
		if s != "" {
			out = append(out, s)
		}
	}
	return out, nil
}

// claudeFields is additionalModelRequestFields for Claude: the thinking configuration and
// top_k, which Converse's inferenceConfig does not carry.
type claudeFields struct {
	Thinking json.RawMessage `json:"thinking,omitempty"`
	TopK     *int            `json:"top_k,omitempty"`
}

type thinkingConfig struct {
	Type         string `json:"type"`
	BudgetTokens int    `json:"budget_tokens,omitempty"`
}

// sampling sets inferenceConfig and, for Claude, thinking and top_k, which depend on each
// other: thinking needs budget_tokens < maxTokens and rules out a temperature other than 1,
// top_p below 0.95 and top_k. reasoning_effort means nothing to the other models here and is
// dropped for them.
func (t *translator) sampling(in *chatRequest, defaultMaxTokens int) error {
	stops, err := t.stop(in.Stop)
	if err != nil {
		return err
	}
	maxTokens := 0
	switch {
	case in.MaxCompletionTokens != nil:
		maxTokens = *in.MaxCompletionTokens
	case in.MaxTokens != nil:
		maxTokens = *in.MaxTokens
	}
	if (in.MaxCompletionTokens != nil || in.MaxTokens != nil) && maxTokens < 1 {
		return badRequest("max_tokens", "max_tokens must be at least 1, got %d", maxTokens)
	}
	if maxTokens == 0 && defaultMaxTokens > 0 {
		maxTokens = defaultMaxTokens
	}

	var extra claudeFields
	budget := 0
	if t.claude {
		switch {
		case !wire.IsNull(in.Thinking):
			var th thinkingConfig
			if err := json.Unmarshal(in.Thinking, &th); err != nil {
				return badRequest("thinking", "thinking: %v", err)
			}
			extra.Thinking = in.Thinking
			if th.Type == "enabled" {
				budget = th.BudgetTokens
			}
		case in.ReasoningEffort != "" && in.ReasoningEffort != "none":
			b, ok := effortBudgets[in.ReasoningEffort]
			if !ok {
				return badRequest("reasoning_effort", "unknown reasoning_effort %q (use minimal, low, medium or high)", in.ReasoningEffort)
			}
			budget = b
			extra.Thinking, _ = json.Marshal(thinkingConfig{Type: "enabled", BudgetTokens: b})
		}
		if extra.Thinking != nil && !t.thinkingContinues() {
			// The turn resumes a tool call whose reasoning the client did not send back; Claude
			// would reject the request, so this one turn goes without thinking (as LiteLLM does).
			extra.Thinking, budget = nil, 0
		}
	}
	thinking := extra.Thinking != nil && !isDisabled(extra.Thinking)

	if budget > 0 {
		if maxTokens == 0 {
			maxTokens = fallbackMaxTokens
		}
		if maxTokens <= budget {
			// Thinking counts against maxTokens; keep what the client wanted for the answer.
			raised := budget + maxTokens
			if defaultMaxTokens > budget && raised > defaultMaxTokens {
				raised = defaultMaxTokens
			}
			maxTokens = raised
		}
	}

	ic := &InferenceConfig{Temperature: in.Temperature, TopP: in.TopP, StopSequences: stops}
	if maxTokens > 0 {
		ic.MaxTokens = &maxTokens
	}
	if t.claude && in.TopK != nil {
		extra.TopK = in.TopK
	}
	if thinking {
		if in.Temperature != nil && *in.Temperature != 1 {
			ic.Temperature = nil
		}
		if in.TopP != nil && *in.TopP < 0.95 {
			ic.TopP = nil
		}
		extra.TopK = nil
	}
	if ic.MaxTokens != nil || ic.Temperature != nil || ic.TopP != nil || len(ic.StopSequences) > 0 {
		t.out.InferenceConfig = ic
	}
	if extra.Thinking != nil || extra.TopK != nil {
		raw, err := marshal(extra)
		if err != nil {
			return badRequest("", "encoding additionalModelRequestFields: %v", err)
		}
		t.out.AdditionalModelRequestFields = raw
	}
	return nil
}

// thinkingContinues reports whether the request may keep thinking on: when the last turn carries
// tool results, the assistant turn that called the tools must start with its reasoning.
func (t *translator) thinkingContinues() bool {
	msgs := t.out.Messages
	n := len(msgs)
	if n < 2 || msgs[n-1].Role != "user" || !hasToolResult(msgs[n-1].Content) {
		return true
	}
	prev := msgs[n-2].Content
	return len(prev) > 0 && prev[0].ReasoningContent != nil
}

func hasToolResult(blocks []Block) bool {
	for _, b := range blocks {
		if b.ToolResult != nil {
			return true
		}
	}
	return false
}

func isDisabled(raw json.RawMessage) bool {
	var th thinkingConfig
	return json.Unmarshal(raw, &th) == nil && th.Type == "disabled"
}
