package responses

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/clawgate/clawgate/proxy/internal/wire"
)

// inputItems turns input (a string, or a list of items) into items, each with an id, as
// GET /v1/responses/{id}/input_items lists them.
func inputItems(raw json.RawMessage, respID string) ([]json.RawMessage, error) {
	var list []json.RawMessage
	if wire.IsString(raw) {
		var text string
		_ = json.Unmarshal(raw, &text)
		b, _ := wire.Marshal(map[string]any{"type": "message", "role": "user",
			"content": []map[string]string{{"type": "input_text", "text": text}}})
		list = []json.RawMessage{b}
	} else if err := json.Unmarshal(raw, &list); err != nil {
		return nil, badRequest("input", "input must be a string or a list of items")
	}
	out := make([]json.RawMessage, 0, len(list))
	for i, it := range list {
		var m map[string]json.RawMessage
		if json.Unmarshal(it, &m) != nil || m == nil {
			return nil, badRequest(fmt.Sprintf("input[%d]", i), "input[%d] must be an object", i)
		}
		if _, ok := m["type"]; !ok {
			m["type"] = json.RawMessage(`"message"`) // the easy input message form
		}
		if wire.IsNull(m["id"]) {
			m["id"], _ = json.Marshal(itemPrefix(m["type"]) + strings.TrimPrefix(respID, "resp_") + "_" + strconv.Itoa(i))
		}
		b, err := wire.Marshal(m)
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}

func itemPrefix(typ json.RawMessage) string {
	switch string(typ) {
	case `"function_call"`:
		return "fc_"
	case `"function_call_output"`:
		return "fco_"
	case `"reasoning"`:
		return "rs_"
	}
	return "msg_"
}

// item is every input item shape ToChat reads.
type item struct {
	Type      string          `json:"type"`
	ID        string          `json:"id"`
	Role      string          `json:"role"`
	Content   json.RawMessage `json:"content"`
	CallID    string          `json:"call_id"`
	Name      string          `json:"name"`
	Arguments string          `json:"arguments"`
	Output    json.RawMessage `json:"output"`
	// EncryptedContent is a reasoning item's.
	EncryptedContent string `json:"encrypted_content"`
}

type chatMessage struct {
	Role       string          `json:"role"`
	Content    json.RawMessage `json:"content"`
	ToolCalls  []wire.ToolCall `json:"tool_calls,omitempty"`
	ToolCallID string          `json:"tool_call_id,omitempty"`
	// ThinkingBlocks is LiteLLM's field for Claude's signed thinking, which the Claude providers
	// send back; it comes from a reasoning item's encrypted_content (see answer.reasoningItem).
	ThinkingBlocks json.RawMessage `json:"thinking_blocks,omitempty"`
}

// toMessages turns input items into chat messages. Consecutive function calls join the assistant
// message before them, as chat completions carry them; a reasoning item's signed thinking joins
// the assistant turn after it, and its summary, which has no chat form, is left out.
func toMessages(items []json.RawMessage, lookup Lookup) ([]json.RawMessage, error) {
	var msgs []*chatMessage
	var thinking json.RawMessage // from a reasoning item, for the assistant turn that follows it
	assistant := func(m *chatMessage) *chatMessage {
		if thinking != nil {
			m.ThinkingBlocks, thinking = thinking, nil
		}
		return m
	}
	for i, raw := range items {
		var it item
		if err := json.Unmarshal(raw, &it); err != nil {
			return nil, badRequest(fmt.Sprintf("input[%d]", i), "input[%d]: %v", i, err)
		}
		if it.Type == "item_reference" {
			ref, ok := json.RawMessage(nil), false
			if lookup != nil {
				ref, ok = lookup(it.ID)
			}
			if !ok {
				return nil, badRequest(fmt.Sprintf("input[%d].id", i), "input[%d]: item %q is not stored here (item references need store: true and a response made through this gateway, within its retention)", i, it.ID)
			}
			it = item{}
			if err := json.Unmarshal(ref, &it); err != nil {
				return nil, err
			}
		}
		switch it.Type {
		case "message":
			m, err := message(it, i)
			if err != nil {
				return nil, err
			}
			if m.Role == "assistant" {
				m = assistant(m)
			}
			msgs = append(msgs, m)
		case "function_call":
			tc := wire.ToolCall{ID: it.CallID, Type: "function"}
			tc.Function.Name, tc.Function.Arguments = it.Name, it.Arguments
			if tc.Function.Arguments == "" {
				tc.Function.Arguments = "{}"
			}
			if n := len(msgs); n > 0 && msgs[n-1].Role == "assistant" {
				msgs[n-1].ToolCalls = append(msgs[n-1].ToolCalls, tc)
			} else {
				msgs = append(msgs, assistant(&chatMessage{Role: "assistant", Content: json.RawMessage("null"), ToolCalls: []wire.ToolCall{tc}}))
			}
		case "function_call_output":
			content, err := outputContent(it.Output, i)
			if err != nil {
				return nil, err
			}
			msgs = append(msgs, &chatMessage{Role: "tool", ToolCallID: it.CallID, Content: content})
		case "reasoning":
			// Only the gateway's own encrypted_content (signed thinking blocks) has a chat form;
			// summaries, and OpenAI's encrypted reasoning, are left out.
			if b, err := base64.StdEncoding.DecodeString(it.EncryptedContent); err == nil && json.Valid(b) && len(b) > 0 && b[0] == '[' {
				thinking = b
			}
		default:
			return nil, badRequest(fmt.Sprintf("input[%d].type", i), "input[%d]: item type %q is not supported on this route (messages, function calls and their outputs only)", i, it.Type)
		}
	}
	out := make([]json.RawMessage, len(msgs))
	for i, m := range msgs {
		b, err := wire.Marshal(m)
		if err != nil {
			return nil, err
		}
		out[i] = b
	}
	return out, nil
}

func message(it item, i int) (*chatMessage, error) {
	role := it.Role
	switch role {
	case "user", "assistant", "system":
	case "developer":
		role = "system" // every upstream reads system; not every one reads developer
	default:
		return nil, badRequest(fmt.Sprintf("input[%d].role", i), "input[%d].role %q is not one of user, assistant, system, developer", i, it.Role)
	}
	if wire.IsString(it.Content) {
		return &chatMessage{Role: role, Content: it.Content}, nil
	}
	var parts []struct {
		Type     string          `json:"type"`
		Text     string          `json:"text"`
		Refusal  string          `json:"refusal"`
		ImageURL json.RawMessage `json:"image_url"`
		Detail   string          `json:"detail"`
	}
	if err := json.Unmarshal(it.Content, &parts); err != nil {
		return nil, badRequest(fmt.Sprintf("input[%d].content", i), "input[%d].content must be a string or a list of parts", i)
	}
	type imageURL struct {
		URL    string `json:"url"`
		Detail string `json:"detail,omitempty"`
	}
	type chatPart struct {
		Type     string    `json:"type"`
		Text     string    `json:"text,omitempty"`
		ImageURL *imageURL `json:"image_url,omitempty"`
	}
	var out []chatPart
	text, onlyText := "", true
	for j, p := range parts {
		switch p.Type {
		case "input_text", "output_text", "text":
			out = append(out, chatPart{Type: "text", Text: p.Text})
			text += p.Text
		case "refusal":
			out = append(out, chatPart{Type: "text", Text: p.Refusal})
			text += p.Refusal
		case "input_image":
			var u string
			if json.Unmarshal(p.ImageURL, &u) != nil || u == "" {
				return nil, badRequest(fmt.Sprintf("input[%d].content[%d].image_url", i, j), "input[%d].content[%d]: input_image needs an image_url (file_id is not supported on this route)", i, j)
			}
			detail := p.Detail
			if detail == "auto" {
				detail = ""
			}
			out = append(out, chatPart{Type: "image_url", ImageURL: &imageURL{URL: u, Detail: detail}})
			onlyText = false
		default:
			return nil, badRequest(fmt.Sprintf("input[%d].content[%d].type", i, j), "input[%d].content[%d]: part type %q is not supported on this route", i, j, p.Type)
		}
	}
	// Text alone goes as a string: some upstreams take only strings for system and assistant turns.
	if onlyText {
		return &chatMessage{Role: role, Content: wire.AppendString(nil, text)}, nil
	}
	b, err := wire.Marshal(out)
	return &chatMessage{Role: role, Content: b}, err
}

// outputContent is a function call's output as a tool message's content: a string, or the text
// of its parts (chat tool messages take text only).
func outputContent(raw json.RawMessage, i int) (json.RawMessage, error) {
	if wire.IsString(raw) {
		return raw, nil
	}
	var parts []struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}
	if json.Unmarshal(raw, &parts) != nil {
		return nil, badRequest(fmt.Sprintf("input[%d].output", i), "input[%d].output must be a string or a list of parts", i)
	}
	var text strings.Builder
	for j, p := range parts {
		if p.Type != "input_text" && p.Type != "output_text" {
			return nil, badRequest(fmt.Sprintf("input[%d].output[%d]", i, j), "input[%d].output[%d]: only text outputs are supported on this route, got %q", i, j, p.Type)
		}
		text.WriteString(p.Text)
	}
	return wire.AppendString(nil, text.String()), nil
}
