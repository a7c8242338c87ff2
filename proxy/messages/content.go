package messages

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// block is an Anthropic content block; one struct covers every kind ToChat reads.
type block struct {
	Type         string          `json:"type"`
	Text         *string         `json:"text"`
	Source       *source         `json:"source"`
	Title        string          `json:"title"`
	ID           string          `json:"id"`
	Name         string          `json:"name"`
	Input        json.RawMessage `json:"input"`
	ToolUseID    string          `json:"tool_use_id"`
	Content      json.RawMessage `json:"content"` // tool_result: a string or blocks
	IsError      bool            `json:"is_error"`
	Thinking     *string         `json:"thinking"`
	Signature    string          `json:"signature"`
	Data         string          `json:"data"`
	CacheControl json.RawMessage `json:"cache_control"`
}

// source is where an image or document comes from.
type source struct {
	Type      string          `json:"type"` // base64, url, text, content, file
	MediaType string          `json:"media_type"`
	Data      string          `json:"data"`
	URL       string          `json:"url"`
	Content   json.RawMessage `json:"content"`
}

// part is an OpenAI content part; cache_control beside the part is LiteLLM's convention.
type part struct {
	Type         string          `json:"type"`
	Text         *string         `json:"text,omitempty"`
	ImageURL     *imageURL       `json:"image_url,omitempty"`
	File         *filePart       `json:"file,omitempty"`
	CacheControl json.RawMessage `json:"cache_control,omitempty"`
}

type imageURL struct {
	URL string `json:"url"`
}

type filePart struct {
	Filename string `json:"filename,omitempty"`
	FileData string `json:"file_data"`
}

func textPart(s string, cc json.RawMessage) part {
	return part{Type: "text", Text: &s, CacheControl: cc}
}

// blocks reads content that is a string or an array of blocks. A string is one text block.
func blocks(raw json.RawMessage, where string) ([]block, error) {
	raw = bytes.TrimSpace(raw)
	if isNull(raw) {
		return nil, badRequest("%s: Field required", where)
	}
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, badRequest("%s: %v", where, err)
		}
		return []block{{Type: "text", Text: &s}}, nil
	}
	var bs []block
	if err := json.Unmarshal(raw, &bs); err != nil {
		return nil, badRequest("%s: must be a string or an array of content blocks: %v", where, err)
	}
	return bs, nil
}

// system turns the top-level system prompt (a string or text blocks) into one system message.
func (t *translator) system(raw json.RawMessage, where string) ([]chatMessage, error) {
	if isNull(raw) {
		return nil, nil
	}
	bs, err := blocks(raw, where)
	if err != nil {
		return nil, err
	}
	var parts []part
	for i, b := range bs {
		if b.Type != "text" {
			return nil, badRequest("%s.%d.type: the system prompt may hold only text blocks, not %q", where, i, b.Type)
		}
		if b.Text != nil && *b.Text != "" {
			parts = append(parts, textPart(*b.Text, t.cache(b.CacheControl)))
		}
	}
	if len(parts) == 0 {
		return nil, nil
	}
	return []chatMessage{{Role: "system", Content: t.content(parts, "\n\n")}}, nil
}

// message translates one Anthropic turn into one or more OpenAI messages.
func (t *translator) message(m *message, where string) ([]chatMessage, error) {
	bs, err := blocks(m.Content, where+".content")
	if err != nil {
		return nil, err
	}
	switch m.Role {
	case "system":
		// A mid-conversation system message (Claude Code sends them, with the
		// mid-conversation-system beta): a system message at the same place in the chat, which
		// OpenAI takes anywhere and the other providers fold into their system instruction.
		return t.system(m.Content, where+".content")
	case "user":
		return t.user(bs, where)
	case "assistant":
		msg, err := t.assistant(bs, where)
		if err != nil {
			return nil, err
		}
		return []chatMessage{msg}, nil
	}
	return nil, badRequest("%s.role: Input should be 'user', 'assistant' or 'system', got %q", where, m.Role)
}

// user translates a user turn: each tool_result becomes a role "tool" message (OpenAI wants them
// right after the assistant's tool calls, and Anthropic puts them first in the turn), and the
// rest, with any images the tool results held, one user message after them.
func (t *translator) user(bs []block, where string) ([]chatMessage, error) {
	var (
		out   []chatMessage
		parts []part // the tool results' images first, then the turn's own content
		own   []part
	)
	for i := range bs {
		b := &bs[i]
		bw := fmt.Sprintf("%s.content.%d", where, i)
		switch b.Type {
		case "tool_result":
			msg, images, err := t.toolResult(b, bw)
			if err != nil {
				return nil, err
			}
			out = append(out, msg)
			parts = append(parts, images...)
		case "thinking", "redacted_thinking", "tool_use":
			return nil, badRequest("%s.type: %s blocks belong in assistant turns", bw, b.Type)
		default:
			p, ok, err := t.part(b, bw)
			if err != nil {
				return nil, err
			}
			if ok {
				own = append(own, p)
			}
		}
	}
	parts = append(parts, own...)
	if len(parts) > 0 || len(out) == 0 {
		out = append(out, chatMessage{Role: "user", Content: t.content(parts, "\n\n")})
	}
	return out, nil
}

// part translates a text, image or document block; ok is false for empty text.
func (t *translator) part(b *block, where string) (p part, ok bool, err error) {
	cc := t.cache(b.CacheControl)
	switch b.Type {
	case "text":
		if b.Text == nil || *b.Text == "" {
			return part{}, false, nil
		}
		return textPart(*b.Text, cc), true, nil
	case "image":
		url, err := imageSource(b.Source, where)
		if err != nil {
			return part{}, false, err
		}
		return part{Type: "image_url", ImageURL: &imageURL{URL: url}, CacheControl: cc}, true, nil
	case "document":
		return t.document(b, cc, where)
	case "":
		return part{}, false, badRequest("%s.type: Field required", where)
	}
	return part{}, false, badRequest("%s.type: content block type %q is not supported on this route", where, b.Type)
}

// toolResult translates a tool_result block into a role "tool" message. OpenAI's tool messages
// hold text only, so images come back separately for the user message that follows.
func (t *translator) toolResult(b *block, where string) (chatMessage, []part, error) {
	if b.ToolUseID == "" {
		return chatMessage{}, nil, badRequest("%s.tool_use_id: Field required", where)
	}
	var texts, images []part
	if !isNull(b.Content) {
		inner, err := blocks(b.Content, where+".content")
		if err != nil {
			return chatMessage{}, nil, err
		}
		for j := range inner {
			ib := &inner[j]
			iw := fmt.Sprintf("%s.content.%d", where, j)
			if ib.Type != "text" && ib.Type != "image" && ib.Type != "document" {
				return chatMessage{}, nil, badRequest("%s.type: a tool result may hold text, images and documents, not %q", iw, ib.Type)
			}
			p, ok, err := t.part(ib, iw)
			if err != nil {
				return chatMessage{}, nil, err
			}
			switch {
			case !ok:
			case p.Type == "text":
				texts = append(texts, p)
			default:
				images = append(images, p)
			}
		}
	}
	if b.IsError {
		// OpenAI has no error flag on tool results; the model reads it in the text instead.
		if len(texts) == 0 {
			texts = []part{textPart("Error", nil)}
		} else {
			s := "Error: " + *texts[0].Text
			texts[0].Text = &s
		}
	}
	msg := chatMessage{Role: "tool", ToolCallID: b.ToolUseID, Content: t.content(texts, "\n\n")}
	if len(texts) == 0 {
		msg.Content = json.RawMessage(`""`)
	}
	// On the message, LiteLLM's convention puts it on the tool_result block itself.
	msg.CacheControl = t.cache(b.CacheControl)
	return msg, images, nil
}

// assistant translates an assistant turn. OpenAI holds one text, then tool calls: interleaved
// text and tool_use blocks keep their order within each kind.
func (t *translator) assistant(bs []block, where string) (chatMessage, error) {
	msg := chatMessage{Role: "assistant"}
	var (
		parts   []part
		lastUse json.RawMessage // cache_control of the last tool_use block
	)
	for i := range bs {
		b := &bs[i]
		bw := fmt.Sprintf("%s.content.%d", where, i)
		switch b.Type {
		case "text":
			if b.Text != nil && *b.Text != "" {
				parts = append(parts, textPart(*b.Text, t.cache(b.CacheControl)))
			}
		case "thinking":
			if b.Thinking == nil {
				return chatMessage{}, badRequest("%s.thinking: Field required", bw)
			}
			if !t.plain {
				th := *b.Thinking
				msg.ThinkingBlocks = append(msg.ThinkingBlocks, thinkingBlock{Type: "thinking", Thinking: &th, Signature: b.Signature})
			}
		case "redacted_thinking":
			if !t.plain {
				msg.ThinkingBlocks = append(msg.ThinkingBlocks, thinkingBlock{Type: "redacted_thinking", Data: b.Data})
			}
		case "tool_use":
			if b.ID == "" || b.Name == "" {
				return chatMessage{}, badRequest("%s: a tool_use block needs an id and a name", bw)
			}
			args, err := arguments(b.Input, bw)
			if err != nil {
				return chatMessage{}, err
			}
			msg.ToolCalls = append(msg.ToolCalls, toolCall{
				ID: b.ID, Type: "function", Function: functionCall{Name: t.name(b.Name), Arguments: args},
			})
			lastUse = t.cache(b.CacheControl)
		case "server_tool_use", "web_search_tool_result", "web_fetch_tool_result", "code_execution_tool_result",
			"bash_code_execution_tool_result", "text_editor_code_execution_tool_result", "mcp_tool_use", "mcp_tool_result",
			"container_upload":
			// Anthropic ran these itself; another provider can neither see nor continue them.
		case "image", "document", "tool_result":
			return chatMessage{}, badRequest("%s.type: %s blocks belong in user turns", bw, b.Type)
		default:
			return chatMessage{}, badRequest("%s.type: content block type %q is not supported on this route", bw, b.Type)
		}
	}
	switch {
	case len(parts) > 0:
		msg.Content = t.content(parts, "\n\n")
	case len(msg.ToolCalls) > 0:
		msg.Content = json.RawMessage("null")
	default:
		msg.Content = json.RawMessage(`""`)
	}
	// A message-level cache_control lands on the turn's last block, which is its last tool_use
	// when there is one (LiteLLM's convention).
	if len(msg.ToolCalls) > 0 {
		msg.CacheControl = lastUse
	}
	return msg, nil
}

// arguments renders a tool_use input as OpenAI's arguments string.
func arguments(input json.RawMessage, where string) (string, error) {
	if isNull(input) {
		return "{}", nil
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, input); err != nil {
		return "", badRequest("%s.input: %v", where, err)
	}
	if buf.Len() == 0 || buf.Bytes()[0] != '{' {
		return "", badRequest("%s.input: must be an object", where)
	}
	return buf.String(), nil
}

// content renders parts as an OpenAI content value: a string when that loses nothing (one text
// part without cache_control, or text only in plain mode, joined by sep), else an array.
func (t *translator) content(parts []part, sep string) json.RawMessage {
	textOnly := true
	for _, p := range parts {
		if p.Type != "text" {
			textOnly = false
		}
	}
	if textOnly && (t.plain || (len(parts) == 1 && parts[0].CacheControl == nil)) {
		texts := make([]string, len(parts))
		for i, p := range parts {
			texts[i] = *p.Text
		}
		b, _ := marshal(strings.Join(texts, sep))
		return b
	}
	b, _ := marshal(parts)
	return b
}

// cache returns cache_control for the output, or nothing in plain mode.
func (t *translator) cache(raw json.RawMessage) json.RawMessage {
	if t.plain || isNull(raw) {
		return nil
	}
	return compact(raw)
}
