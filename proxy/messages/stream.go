package messages

import (
	"github.com/clawgate/clawgate/proxy/internal/wire"

	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strconv"
	"strings"
)

// chunk is the part of an OpenAI chat.completion.chunk the writer reads. Strings that are copied
// into events stay raw: they are valid JSON strings already, so they pass without being
// unescaped and escaped again.
type chunk struct {
	ID      string `json:"id"`
	Choices []struct {
		Delta struct {
			Content          json.RawMessage `json:"content"`
			ReasoningContent json.RawMessage `json:"reasoning_content"`
			Reasoning        json.RawMessage `json:"reasoning"`
			Refusal          json.RawMessage `json:"refusal"`
			ThinkingBlocks   []thinkingBlock `json:"thinking_blocks"`
			ToolCalls        []struct {
				Index    *int   `json:"index"`
				ID       string `json:"id"`
				Function struct {
					Name      string          `json:"name"`
					Arguments json.RawMessage `json:"arguments"`
				} `json:"function"`
			} `json:"tool_calls"`
		} `json:"delta"`
		FinishReason *string `json:"finish_reason"`
	} `json:"choices"`
	Usage *chatUsage      `json:"usage"`
	Error json.RawMessage `json:"error"`
}

// Kinds of content block the writer may have open.
const (
	noBlock = iota
	textBlock
	thinkingKind
	toolBlock
)

// toolState is one tool call of the upstream's, by its OpenAI index.
type toolState struct {
	block int    // Anthropic content block index
	id    string // the tool call id, to tell a new call from more of the same one
}

// errWriterClosed is what Chunk returns after Close.
var errWriterClosed = errors.New("messages: stream writer closed")

// StreamWriter turns an OpenAI chat completion stream into Anthropic's Messages stream:
// message_start and ping once, content_block_start/delta/stop for text (text_delta), reasoning
// (thinking_delta, then signature_delta when thinking_blocks carry Anthropic's signature) and
// each tool call (input_json_delta with the argument fragments as they come), and at Close
// message_delta (stop_reason and usage) and message_stop, or an error event.
//
// Each call writes its events with one Write; the caller flushes. A StreamWriter is not safe for
// concurrent use.
type StreamWriter struct {
	w    io.Writer
	info Info
	buf  []byte
	err  error // sticky write error

	started, closed bool
	next            int // index of the next content block
	open            int // kind of the open block (noBlock when none)
	openIndex       int
	thinking        []byte // text of the open thinking block, to spot a repeat in thinking_blocks

	tools       map[int]*toolState
	lastTool    int
	calledTools bool
	refused     bool
	finish      string
	usage       *chatUsage
}

// NewStreamWriter writes to w the events for the request that info describes (its model is
// echoed, its shortened tool names restored).
func NewStreamWriter(w io.Writer, info Info) *StreamWriter {
	return &StreamWriter{w: w, info: info, tools: make(map[int]*toolState)}
}

// Chunk translates one chat.completion.chunk payload. It returns the write error, if any, or a
// 502 *provider.Error for a payload that is not a chunk; in both cases the caller should stop
// (Close with the error, for the client to see it when it still can).
func (s *StreamWriter) Chunk(payload []byte) error {
	if s.err != nil {
		return s.err
	}
	if s.closed {
		return errWriterClosed
	}
	var c chunk
	if err := json.Unmarshal(payload, &c); err != nil {
		return badGateway("upstream sent a stream chunk that is not valid JSON: %v", err)
	}
	if !isNull(c.Error) {
		return badGateway("upstream sent an error in the stream: %.200s", c.Error)
	}
	if !s.started {
		s.start(c.ID, c.Usage)
	}
	if c.Usage != nil {
		s.usage = c.Usage
	}
	if len(c.Choices) > 0 {
		ch := &c.Choices[0] // Anthropic has no n; the request never asks for more than one
		d := &ch.Delta
		reasoning := d.ReasoningContent
		if !nonEmptyString(reasoning) {
			reasoning = d.Reasoning
		}
		if nonEmptyString(reasoning) {
			s.reasoning(reasoning)
		}
		for i := range d.ThinkingBlocks {
			s.thinkingBlock(&d.ThinkingBlocks[i], nonEmptyString(reasoning))
		}
		if nonEmptyString(d.Content) {
			s.text(d.Content)
		}
		if nonEmptyString(d.Refusal) {
			s.refused = true
			s.text(d.Refusal)
		}
		for i := range d.ToolCalls {
			tc := &d.ToolCalls[i]
			s.toolCall(tc.Index, tc.ID, tc.Function.Name, tc.Function.Arguments)
		}
		if ch.FinishReason != nil && *ch.FinishReason != "" {
			s.finish = *ch.FinishReason
		}
	}
	return s.flush()
}

// Close ends the stream. With err nil it closes the open block and sends message_delta, with
// the stop reason and the usage the upstream reported, and message_stop. With an error it sends
// Anthropic's error event instead (the type from the error's status, or the Anthropic type it
// already has), which Anthropic's clients raise as an API error. Close is idempotent.
func (s *StreamWriter) Close(err error) error {
	if s.closed || s.err != nil {
		return s.err
	}
	s.closed = true
	if err != nil {
		typ, msg := describe(err)
		s.event("error", errorJSON(typ, msg))
		return s.flush()
	}
	if !s.started {
		s.start("", nil)
	}
	s.closeOpen()
	reason := stopReason(s.finish, s.calledTools)
	if s.refused && reason == "end_turn" {
		reason = "refusal"
	}
	u, _ := marshal(s.usage.anthropic())
	b := append(s.begin("message_delta"), `{"type":"message_delta","delta":{"stop_reason":`...)
	b = wire.AppendString(b, reason)
	b = append(b, `,"stop_sequence":null},"usage":`...)
	b = append(b, u...)
	s.end(append(b, '}'))
	s.event("message_stop", []byte(`{"type":"message_stop"}`))
	return s.flush()
}

func (s *StreamWriter) start(id string, u *chatUsage) {
	s.started = true
	msg := messageOut{
		ID: messageID(id), Type: "message", Role: "assistant", Model: s.info.Model,
		Content: []blockOut{}, Usage: u.anthropic(),
	}
	m, _ := marshal(msg)
	// stop_reason is null until message_delta; messageOut has it as a string for responses.
	m = bytes.Replace(m, []byte(`"stop_reason":""`), []byte(`"stop_reason":null`), 1)
	b := append(s.begin("message_start"), `{"type":"message_start","message":`...)
	b = append(b, m...)
	s.end(append(b, '}'))
	s.event("ping", []byte(`{"type":"ping"}`))
}

func (s *StreamWriter) text(raw json.RawMessage) {
	if s.open != textBlock {
		s.startBlock(textBlock, `{"type":"text","text":""}`)
	}
	s.delta(s.openIndex, `{"type":"text_delta","text":`, raw)
}

func (s *StreamWriter) reasoning(raw json.RawMessage) {
	if s.open != thinkingKind {
		s.startBlock(thinkingKind, `{"type":"thinking","thinking":"","signature":""}`)
	}
	var text string
	if json.Unmarshal(raw, &text) == nil {
		s.thinking = append(s.thinking, text...)
	}
	s.delta(s.openIndex, `{"type":"thinking_delta","thinking":`, raw)
}

// thinkingBlock handles a thinking_blocks item. The anthropic provider sends the whole block
// with its signature once the thinking streamed as reasoning_content; LiteLLM sends fragments
// beside reasoning_content and the signature last. Either way the text goes out once, and the
// signature ends the block as Anthropic's own stream does.
func (s *StreamWriter) thinkingBlock(tb *thinkingBlock, streamed bool) {
	switch tb.Type {
	case "thinking":
		text := ""
		if tb.Thinking != nil {
			text = *tb.Thinking
		}
		if text != "" && !streamed {
			// Only what reasoning_content has not shown yet.
			if s.open == thinkingKind && strings.HasPrefix(text, string(s.thinking)) {
				text = text[len(s.thinking):]
			}
			if text != "" {
				s.reasoning(wire.AppendString(nil, text))
			}
		}
		if tb.Signature == "" {
			return
		}
		if s.open != thinkingKind {
			s.startBlock(thinkingKind, `{"type":"thinking","thinking":"","signature":""}`)
		}
		s.delta(s.openIndex, `{"type":"signature_delta","signature":`, wire.AppendString(nil, tb.Signature))
		s.closeOpen()
	case "redacted_thinking":
		if tb.Data == "" {
			return
		}
		b := wire.AppendString([]byte(`{"type":"redacted_thinking","data":`), tb.Data)
		s.startBlock(thinkingKind, string(append(b, '}')))
		s.closeOpen()
	}
}

// toolCall handles one tool_calls delta. A call is known by its index; a server that sends
// every call as index 0 (or with none) is followed by the call id instead.
func (s *StreamWriter) toolCall(index *int, id, name string, args json.RawMessage) {
	key := s.lastTool
	if index != nil {
		key = *index
	}
	ts := s.tools[key]
	if ts != nil && id != "" && id != ts.id {
		if index == nil {
			key = len(s.tools)
		}
		ts = nil
	}
	if ts == nil {
		if id == "" {
			id = "toolu_" + randomHex(12)
		}
		s.closeOpen()
		ts = &toolState{block: s.next, id: id}
		s.tools[key] = ts
		b := wire.AppendString([]byte(`{"type":"tool_use","id":`), id)
		b = append(b, `,"name":`...)
		b = wire.AppendString(b, s.info.original(name))
		s.startBlock(toolBlock, string(append(b, `,"input":{}}`...)))
		s.calledTools = true
	}
	s.lastTool = key
	if !isNull(args) && args[0] != '"' {
		// Some servers send the arguments object itself rather than a string.
		args = wire.AppendString(nil, string(compact(args)))
	}
	if !nonEmptyString(args) {
		return
	}
	// A fragment for a call whose block was closed (servers that interleave parallel calls)
	// still goes to that block's index, where Anthropic's clients collect it.
	s.delta(ts.block, `{"type":"input_json_delta","partial_json":`, args)
}

func (s *StreamWriter) startBlock(kind int, contentBlock string) {
	s.closeOpen()
	s.open, s.openIndex = kind, s.next
	s.next++
	b := append(s.begin("content_block_start"), `{"type":"content_block_start","index":`...)
	b = strconv.AppendInt(b, int64(s.openIndex), 10)
	b = append(b, `,"content_block":`...)
	b = append(b, contentBlock...)
	s.end(append(b, '}'))
}

func (s *StreamWriter) closeOpen() {
	if s.open == noBlock {
		return
	}
	b := append(s.begin("content_block_stop"), `{"type":"content_block_stop","index":`...)
	b = strconv.AppendInt(b, int64(s.openIndex), 10)
	s.end(append(b, '}'))
	s.open = noBlock
	s.thinking = s.thinking[:0]
}

// delta writes a content_block_delta whose delta is head, value and a closing brace.
func (s *StreamWriter) delta(index int, head string, value []byte) {
	b := append(s.begin("content_block_delta"), `{"type":"content_block_delta","index":`...)
	b = strconv.AppendInt(b, int64(index), 10)
	b = append(b, `,"delta":`...)
	b = append(b, head...)
	b = append(b, value...)
	s.end(append(b, '}', '}'))
}

// begin starts an event in buf and returns buf to append its data to; end finishes it.
func (s *StreamWriter) begin(name string) []byte {
	b := append(s.buf, "event: "...)
	b = append(b, name...)
	return append(b, "\ndata: "...)
}

func (s *StreamWriter) end(b []byte) { s.buf = append(b, '\n', '\n') }

func (s *StreamWriter) event(name string, payload []byte) {
	s.end(append(s.begin(name), payload...))
}

func (s *StreamWriter) flush() error {
	if len(s.buf) == 0 {
		return nil
	}
	_, err := s.w.Write(s.buf)
	s.buf = s.buf[:0]
	if err != nil {
		s.err = err
	}
	return err
}

func nonEmptyString(raw json.RawMessage) bool {
	return len(raw) > 2 && raw[0] == '"' && raw[len(raw)-1] == '"'
}
