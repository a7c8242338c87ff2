package responses

import (
	"encoding/json"
	"io"
	"strconv"

	"github.com/clawgate/clawgate/proxy/internal/wire"
	"github.com/clawgate/clawgate/proxy/provider"
)

// StreamWriter turns a chat.completion.chunk stream into the Responses API's events:
// response.created and response.in_progress first; per output item output_item.added, its
// deltas (reasoning_summary_text, output_text inside a content part, function_call_arguments) and
// output_item.done; then response.completed (or response.incomplete) with the usage, or
// response.failed when the stream broke. Every event carries its sequence_number.
type StreamWriter struct {
	w    io.Writer
	info Info
	a    answer
	seq  int
	err  error

	started bool
	// open is the item being streamed: "reasoning", "message", "call" or "".
	open     string
	openCall int
	indexes  []int             // the chat tool_calls index of each call
	thinking []json.RawMessage // thinking blocks seen, for the reasoning item and the stored turn
	output   []json.RawMessage // items done, in order
	result   Result
	closed   bool
}

// NewStreamWriter returns a writer of info's response to w.
func NewStreamWriter(w io.Writer, info Info) *StreamWriter {
	return &StreamWriter{w: w, info: info, a: answer{respID: info.ID, namespaces: info.Namespaces}}
}

type chunk struct {
	Model   string `json:"model"`
	Choices []struct {
		Delta struct {
			Content          *string `json:"content"`
			ReasoningContent *string `json:"reasoning_content"`
			Refusal          *string `json:"refusal"`
			// ThinkingBlocks carries each whole signed block once (Claude routes).
			ThinkingBlocks []json.RawMessage `json:"thinking_blocks"`
			ToolCalls      []struct {
				Index    int    `json:"index"`
				ID       string `json:"id"`
				Function struct {
					Name      string `json:"name"`
					Arguments string `json:"arguments"`
				} `json:"function"`
			} `json:"tool_calls"`
		} `json:"delta"`
		FinishReason *string `json:"finish_reason"`
	} `json:"choices"`
	Usage *chatUsage `json:"usage"`
}

// Start writes response.created and response.in_progress (once).
func (s *StreamWriter) Start() error {
	if s.started {
		return s.err
	}
	s.started = true
	resp := json.RawMessage(s.info.object("in_progress", nil, nil, nil, nil))
	s.event("response.created", "response", resp)
	s.event("response.in_progress", "response", resp)
	return s.err
}

// Chunk translates one chat.completion.chunk payload.
func (s *StreamWriter) Chunk(data []byte) error {
	if err := s.Start(); err != nil {
		return err
	}
	var c chunk
	if err := json.Unmarshal(data, &c); err != nil {
		return nil // not a chunk (a comment, a stray payload): nothing a Responses client can use
	}
	if c.Usage != nil {
		s.a.usage = c.Usage.usage()
	}
	if len(c.Choices) == 0 {
		return s.err
	}
	d := c.Choices[0].Delta
	if d.ReasoningContent != nil && *d.ReasoningContent != "" {
		if s.open != "reasoning" {
			s.closeOpen()
			s.open = "reasoning"
			s.event("response.output_item.added", "output_index", len(s.output), "item", s.a.reasoningItem("in_progress"))
			s.event("response.reasoning_summary_part.added", "item_id", s.a.reasoningID(), "output_index", len(s.output),
				"summary_index", 0, "part", json.RawMessage(`{"type":"summary_text","text":""}`))
		}
		s.a.reasoning.WriteString(*d.ReasoningContent)
		s.event("response.reasoning_summary_text.delta", "item_id", s.a.reasoningID(), "output_index", len(s.output),
			"summary_index", 0, "delta", *d.ReasoningContent)
	}
	s.thinking = append(s.thinking, d.ThinkingBlocks...)
	if len(d.ThinkingBlocks) > 0 && s.open != "reasoning" && s.a.reasoning.Len() == 0 {
		// Redacted thinking has no text: its item opens with the block.
		s.closeOpen()
		s.open = "reasoning"
		s.event("response.output_item.added", "output_index", len(s.output), "item", s.a.reasoningItem("in_progress"))
	}
	text := d.Content
	if text == nil {
		text = d.Refusal
	}
	if text != nil && *text != "" {
		if s.open != "message" {
			s.closeOpen()
			s.open = "message"
			s.event("response.output_item.added", "output_index", len(s.output), "item", s.a.messageItem("in_progress"))
			s.event("response.content_part.added", "item_id", s.a.messageID(), "output_index", len(s.output),
				"content_index", 0, "part", textPart(""))
		}
		s.a.text.WriteString(*text)
		s.event("response.output_text.delta", "item_id", s.a.messageID(), "output_index", len(s.output),
			"content_index", 0, "delta", *text, "logprobs", []any{})
	}
	for _, tc := range d.ToolCalls {
		// A call starts with its id (or name); later deltas of the same index carry arguments.
		if s.open != "call" || (tc.ID != "" && tc.ID != s.a.calls[s.openCall].id) || tc.Index != s.callIndex() {
			s.closeOpen()
			s.a.calls = append(s.a.calls, call{id: tc.ID, name: tc.Function.Name})
			s.open, s.openCall = "call", len(s.a.calls)-1
			s.indexes = append(s.indexes, tc.Index)
			s.event("response.output_item.added", "output_index", len(s.output), "item", s.a.callItem(s.openCall, "in_progress"))
		} else if tc.Function.Name != "" && s.a.calls[s.openCall].name == "" {
			s.a.calls[s.openCall].name = tc.Function.Name
		}
		if tc.Function.Arguments != "" {
			s.a.calls[s.openCall].args.WriteString(tc.Function.Arguments)
			s.event("response.function_call_arguments.delta", "item_id", s.a.callID(s.openCall), "output_index", len(s.output),
				"delta", tc.Function.Arguments)
		}
	}
	if f := c.Choices[0].FinishReason; f != nil && *f != "" {
		s.a.finish = *f
	}
	return s.err
}

func (s *StreamWriter) callIndex() int {
	if s.open != "call" {
		return -1
	}
	return s.indexes[s.openCall]
}

// closeOpen ends the item being streamed with its done events.
func (s *StreamWriter) closeOpen() {
	idx := len(s.output)
	var item json.RawMessage
	switch s.open {
	case "":
		return
	case "reasoning":
		if len(s.thinking) > 0 {
			s.a.thinking, _ = json.Marshal(s.thinking)
		}
		text := s.a.reasoning.String()
		if text == "" { // redacted thinking only: no summary part was opened
			item = s.a.reasoningItem("completed")
			break
		}
		s.event("response.reasoning_summary_text.done", "item_id", s.a.reasoningID(), "output_index", idx, "summary_index", 0, "text", text)
		s.event("response.reasoning_summary_part.done", "item_id", s.a.reasoningID(), "output_index", idx, "summary_index", 0,
			"part", map[string]string{"type": "summary_text", "text": text})
		item = s.a.reasoningItem("completed")
	case "message":
		text := s.a.text.String()
		s.event("response.output_text.done", "item_id", s.a.messageID(), "output_index", idx, "content_index", 0, "text", text, "logprobs", []any{})
		s.event("response.content_part.done", "item_id", s.a.messageID(), "output_index", idx, "content_index", 0, "part", textPart(text))
		item = s.a.messageItem("completed")
	case "call":
		c := &s.a.calls[s.openCall]
		s.event("response.function_call_arguments.done", "item_id", s.a.callID(s.openCall), "output_index", idx,
			"name", c.name, "arguments", c.args.String())
		item = s.a.callItem(s.openCall, "completed")
	}
	s.event("response.output_item.done", "output_index", idx, "item", item)
	s.output = append(s.output, item)
	s.open = ""
}

// Close ends the stream: the open item is finished and response.completed (or .incomplete) sent;
// with a non-nil err, response.failed carries the error instead.
func (s *StreamWriter) Close(err error) error {
	if s.closed {
		return s.err
	}
	s.closed = true
	_ = s.Start()
	s.closeOpen()
	if err != nil {
		pe := provider.AsError(err)
		code := pe.Code
		if code == "" {
			code = "server_error"
			if pe.Status == 429 {
				code = "rate_limit_exceeded"
			}
		}
		errObj, _ := wire.Marshal(map[string]string{"code": code, "message": pe.Message})
		resp := s.info.object("failed", s.output, nil, errObj, s.a.usage)
		s.result = Result{Response: resp, Output: s.output}
		s.event("response.failed", "response", json.RawMessage(resp))
		return s.err
	}
	if len(s.thinking) > 0 && s.a.thinking == nil { // blocks that came after the reasoning item closed
		s.a.thinking, _ = json.Marshal(s.thinking)
	}
	status, incomplete := s.a.status()
	resp := s.info.object(status, s.output, incomplete, nil, s.a.usage)
	s.result = Result{Response: resp, Output: s.output, Assistant: s.a.assistant()}
	name := "response.completed"
	if status == "incomplete" {
		name = "response.incomplete"
	}
	s.event(name, "response", json.RawMessage(resp))
	return s.err
}

// Result is the finished response, once Close has run; Assistant is nil for a failed one.
func (s *StreamWriter) Result() Result { return s.result }

// event writes one SSE event: its type, then the members given as name, value pairs, then its
// sequence number. Members are written in that order, as OpenAI does, so that goldens can compare bytes.
func (s *StreamWriter) event(typ string, kv ...any) {
	if s.err != nil {
		return
	}
	b := append([]byte("event: "), typ...)
	b = append(b, "\ndata: {\"type\":"...)
	b = wire.AppendString(b, typ)
	for i := 0; i+1 < len(kv); i += 2 {
		b = append(b, ',')
		b = wire.AppendString(b, kv[i].(string))
		b = append(b, ':')
		v, err := wire.Marshal(kv[i+1])
		if err != nil {
			s.err = err
			return
		}
		b = append(b, v...)
	}
	b = append(b, `,"sequence_number":`...)
	b = strconv.AppendInt(b, int64(s.seq), 10)
	b = append(b, "}\n\n"...)
	s.seq++
	_, s.err = s.w.Write(b)
}
