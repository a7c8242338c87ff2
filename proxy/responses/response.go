package responses

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/clawgate/clawgate/proxy/internal/wire"
	"github.com/clawgate/clawgate/proxy/provider"
)

// object is a Responses API response object, in the order OpenAI writes its members.
type object struct {
	ID                 string            `json:"id"`
	Object             string            `json:"object"`
	CreatedAt          int64             `json:"created_at"`
	Status             string            `json:"status"`
	Error              json.RawMessage   `json:"error"`
	IncompleteDetails  json.RawMessage   `json:"incomplete_details"`
	Instructions       json.RawMessage   `json:"instructions"`
	MaxOutputTokens    *int              `json:"max_output_tokens"`
	Model              string            `json:"model"`
	Output             []json.RawMessage `json:"output"`
	ParallelToolCalls  bool              `json:"parallel_tool_calls"`
	PreviousResponseID *string           `json:"previous_response_id"`
	Reasoning          json.RawMessage   `json:"reasoning"`
	Store              bool              `json:"store"`
	Temperature        *float64          `json:"temperature"`
	Text               json.RawMessage   `json:"text"`
	ToolChoice         json.RawMessage   `json:"tool_choice"`
	Tools              []json.RawMessage `json:"tools"`
	TopP               *float64          `json:"top_p"`
	Truncation         string            `json:"truncation"`
	Usage              *Usage            `json:"usage"`
	User               *string           `json:"user"`
	Metadata           json.RawMessage   `json:"metadata"`
}

// Usage is the Responses usage object.
type Usage struct {
	InputTokens        int `json:"input_tokens"`
	InputTokensDetails struct {
		CachedTokens int `json:"cached_tokens"`
	} `json:"input_tokens_details"`
	OutputTokens        int `json:"output_tokens"`
	OutputTokensDetails struct {
		ReasoningTokens int `json:"reasoning_tokens"`
	} `json:"output_tokens_details"`
	TotalTokens int `json:"total_tokens"`
}

// chatUsage is the chat completion usage fields that have a Responses meaning (LiteLLM's
// cache_read_input_tokens included, which Claude routes report).
type chatUsage struct {
	PromptTokens        int `json:"prompt_tokens"`
	CompletionTokens    int `json:"completion_tokens"`
	PromptTokensDetails *struct {
		CachedTokens int `json:"cached_tokens"`
	} `json:"prompt_tokens_details"`
	CompletionTokensDetails *struct {
		ReasoningTokens int `json:"reasoning_tokens"`
	} `json:"completion_tokens_details"`
	CacheReadInputTokens int `json:"cache_read_input_tokens"`
}

func (c *chatUsage) usage() *Usage {
	u := &Usage{InputTokens: c.PromptTokens, OutputTokens: c.CompletionTokens, TotalTokens: c.PromptTokens + c.CompletionTokens}
	u.InputTokensDetails.CachedTokens = c.CacheReadInputTokens
	if d := c.PromptTokensDetails; d != nil && d.CachedTokens > u.InputTokensDetails.CachedTokens {
		u.InputTokensDetails.CachedTokens = d.CachedTokens
	}
	if d := c.CompletionTokensDetails; d != nil {
		u.OutputTokensDetails.ReasoningTokens = d.ReasoningTokens
	}
	return u
}

// answer collects one assistant turn, from a completion or from stream chunks, and renders it as
// Responses output items and as the chat message the stored conversation keeps.
type answer struct {
	respID    string
	model     string
	reasoning strings.Builder
	text      strings.Builder
	calls     []call
	finish    string
	usage     *Usage
	// thinking is the upstream's thinking_blocks (Claude routes), kept in the stored conversation
	// so a follow-up by previous_response_id sends them back as the provider requires.
	thinking json.RawMessage
	// namespaces is Info.Namespaces.
	namespaces map[string]string
}

type call struct {
	id, name string
	args     strings.Builder
}

func (a *answer) reasoningID() string { return "rs_" + strings.TrimPrefix(a.respID, "resp_") }
func (a *answer) messageID() string   { return "msg_" + strings.TrimPrefix(a.respID, "resp_") }
func (a *answer) callID(i int) string {
	return "fc_" + strings.TrimPrefix(a.respID, "resp_") + "_" + strconv.Itoa(i)
}

func (a *answer) reasoningItem(status string) json.RawMessage {
	summary := []map[string]string{}
	if a.reasoning.Len() > 0 && status == "completed" {
		summary = append(summary, map[string]string{"type": "summary_text", "text": a.reasoning.String()})
	}
	item := map[string]any{"type": "reasoning", "id": a.reasoningID(), "summary": summary}
	if len(a.thinking) > 0 && status == "completed" {
		// The provider's signed thinking, which it wants back beside a tool call's result: a
		// stateless client returns it in this item, and ToChat puts it back in the assistant turn.
		item["encrypted_content"] = base64.StdEncoding.EncodeToString(a.thinking)
	}
	b, _ := wire.Marshal(item)
	return b
}

func (a *answer) messageItem(status string) json.RawMessage {
	content := []map[string]any{}
	if status == "completed" {
		content = append(content, textPart(a.text.String()))
	}
	b, _ := wire.Marshal(map[string]any{"type": "message", "id": a.messageID(), "status": status, "role": "assistant", "content": content})
	return b
}

func textPart(text string) map[string]any {
	return map[string]any{"type": "output_text", "text": text, "annotations": []any{}, "logprobs": []any{}}
}

func (a *answer) callItem(i int, status string) json.RawMessage {
	c := &a.calls[i]
	args := c.args.String()
	if status != "completed" {
		args = ""
	}
	item := map[string]any{"type": "function_call", "id": a.callID(i), "call_id": c.id, "name": c.name,
		"arguments": args, "status": status}
	if ns := a.namespaces[c.name]; ns != "" {
		item["namespace"] = ns
	}
	b, _ := wire.Marshal(item)
	return b
}

// items are the output items, in the order the model produced them: reasoning, text, calls.
func (a *answer) items() []json.RawMessage {
	out := []json.RawMessage{}
	if a.reasoning.Len() > 0 || len(a.thinking) > 0 {
		out = append(out, a.reasoningItem("completed"))
	}
	if a.text.Len() > 0 {
		out = append(out, a.messageItem("completed"))
	}
	for i := range a.calls {
		out = append(out, a.callItem(i, "completed"))
	}
	return out
}

// assistant is the turn as a chat message, for the stored conversation.
func (a *answer) assistant() json.RawMessage {
	m := struct {
		Role           string          `json:"role"`
		Content        *string         `json:"content"`
		ToolCalls      []wire.ToolCall `json:"tool_calls,omitempty"`
		ThinkingBlocks json.RawMessage `json:"thinking_blocks,omitempty"`
	}{Role: "assistant", ThinkingBlocks: a.thinking}
	if a.text.Len() > 0 || len(a.calls) == 0 {
		s := a.text.String()
		m.Content = &s
	}
	for _, c := range a.calls {
		tc := wire.ToolCall{ID: c.id, Type: "function"}
		tc.Function.Name, tc.Function.Arguments = c.name, c.args.String()
		m.ToolCalls = append(m.ToolCalls, tc)
	}
	b, _ := wire.Marshal(m)
	return b
}

// status is the response's status and incomplete_details for the chat finish_reason.
func (a *answer) status() (string, json.RawMessage) {
	switch a.finish {
	case "length":
		return "incomplete", json.RawMessage(`{"reason":"max_output_tokens"}`)
	case "content_filter":
		return "incomplete", json.RawMessage(`{"reason":"content_filter"}`)
	}
	return "completed", json.RawMessage("null")
}

// object renders the response object with the request's settings echoed.
func (info *Info) object(status string, output []json.RawMessage, incomplete, errObj json.RawMessage, usage *Usage) []byte {
	r := info.Req
	o := object{ID: info.ID, Object: "response", CreatedAt: info.CreatedAt, Status: status, Error: errObj,
		IncompleteDetails: incomplete, Instructions: r.Instructions, MaxOutputTokens: r.MaxOutputTokens, Model: r.Model,
		Output: output, ParallelToolCalls: r.ParallelToolCalls == nil || *r.ParallelToolCalls,
		Reasoning: json.RawMessage(`{"effort":null,"summary":null}`), Store: r.Stored(), Temperature: r.Temperature,
		Text: json.RawMessage(`{"format":{"type":"text"}}`), ToolChoice: r.ToolChoice, Tools: r.Tools, TopP: r.TopP,
		Truncation: "disabled", Usage: usage, Metadata: r.Metadata}
	if wire.IsNull(o.Error) {
		o.Error = json.RawMessage("null")
	}
	if wire.IsNull(o.IncompleteDetails) {
		o.IncompleteDetails = json.RawMessage("null")
	}
	if wire.IsNull(o.Instructions) {
		o.Instructions = json.RawMessage("null")
	}
	if r.PreviousResponseID != "" {
		o.PreviousResponseID = &r.PreviousResponseID
	}
	if r.Reasoning != nil && r.Reasoning.Effort != "" {
		o.Reasoning, _ = wire.Marshal(map[string]any{"effort": r.Reasoning.Effort, "summary": nil})
	}
	if r.Text != nil && !wire.IsNull(r.Text.Format) {
		o.Text, _ = wire.Marshal(map[string]json.RawMessage{"format": compact(r.Text.Format)})
	}
	if wire.IsNull(o.ToolChoice) {
		o.ToolChoice = json.RawMessage(`"auto"`)
	}
	if o.Tools == nil {
		o.Tools = []json.RawMessage{}
	}
	if o.Output == nil {
		o.Output = []json.RawMessage{}
	}
	if r.User != "" {
		o.User = &r.User
	}
	if wire.IsNull(o.Metadata) {
		o.Metadata = json.RawMessage("{}")
	}
	b, _ := wire.Marshal(o)
	return b
}

// Result is a finished response: the object to answer with (and to keep, for GET), and the
// assistant turn as a chat message, which a follow-up's conversation continues from.
type Result struct {
	Response  []byte
	Output    []json.RawMessage
	Assistant json.RawMessage
}

// FromChatCompletion translates a chat.completion body into the response object.
func FromChatCompletion(body []byte, info Info) (Result, error) {
	var c struct {
		Model   string `json:"model"`
		Choices []struct {
			Message struct {
				Content          *string           `json:"content"`
				ReasoningContent string            `json:"reasoning_content"`
				ThinkingBlocks   json.RawMessage   `json:"thinking_blocks"`
				ToolCalls        []wire.ToolCall   `json:"tool_calls"`
				Refusal          *string           `json:"refusal"`
				Annotations      []json.RawMessage `json:"annotations"`
			} `json:"message"`
			FinishReason string `json:"finish_reason"`
		} `json:"choices"`
		Usage *chatUsage `json:"usage"`
	}
	if err := json.Unmarshal(body, &c); err != nil {
		return Result{}, &provider.Error{Status: http.StatusBadGateway, Type: "api_error", Message: "upstream answered with an unreadable chat completion: " + err.Error()}
	}
	a := &answer{respID: info.ID, model: c.Model, namespaces: info.Namespaces}
	if len(c.Choices) > 0 {
		ch := c.Choices[0]
		m := ch.Message
		a.reasoning.WriteString(m.ReasoningContent)
		if m.Content != nil {
			a.text.WriteString(*m.Content)
		} else if m.Refusal != nil {
			a.text.WriteString(*m.Refusal)
		}
		for _, tc := range m.ToolCalls {
			cl := call{id: tc.ID, name: tc.Function.Name}
			cl.args.WriteString(tc.Function.Arguments)
			a.calls = append(a.calls, cl)
		}
		if !wire.IsNull(m.ThinkingBlocks) {
			a.thinking = m.ThinkingBlocks
		}
		a.finish = ch.FinishReason
	}
	if c.Usage != nil {
		a.usage = c.Usage.usage()
	}
	status, incomplete := a.status()
	items := a.items()
	return Result{Response: info.object(status, items, incomplete, nil, a.usage), Output: items, Assistant: a.assistant()}, nil
}

// ErrorBody is OpenAI's error envelope, which the Responses API shares with chat completions.
func ErrorBody(e *provider.Error) []byte {
	typ := e.Type
	if typ == "" {
		typ = "invalid_request_error"
	}
	var param, code any
	if e.Param != "" {
		param = e.Param
	}
	if e.Code != "" {
		code = e.Code
	}
	b, _ := wire.Marshal(map[string]any{"error": map[string]any{"message": e.Message, "type": typ, "param": param, "code": code}})
	return b
}
