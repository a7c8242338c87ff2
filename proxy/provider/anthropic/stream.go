package anthropic

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/clawgate/clawgate/proxy/internal/wire"
	"github.com/clawgate/clawgate/proxy/provider"
	"github.com/clawgate/clawgate/proxy/provider/internal/httpx"
)

// streamEvent is every Anthropic stream event in one shape. String values the translation copies
// into OpenAI chunks are kept raw: they are already valid JSON strings, so they are passed on
// without being unescaped and escaped again.
type streamEvent struct {
	Type    string `json:"type"`
	Message *struct {
		ID    string `json:"id"`
		Model string `json:"model"`
		Usage *usage `json:"usage"`
	} `json:"message"`
	Index        int `json:"index"`
	ContentBlock *struct {
		Type     string          `json:"type"`
		ID       string          `json:"id"`
		Name     string          `json:"name"`
		Input    json.RawMessage `json:"input"`
		Text     json.RawMessage `json:"text"`
		Thinking json.RawMessage `json:"thinking"`
		Data     json.RawMessage `json:"data"`
	} `json:"content_block"`
	Delta *struct {
		Type        string          `json:"type"`
		Text        json.RawMessage `json:"text"`
		PartialJSON json.RawMessage `json:"partial_json"`
		Thinking    json.RawMessage `json:"thinking"`
		Signature   json.RawMessage `json:"signature"`
		StopReason  *string         `json:"stop_reason"`
	} `json:"delta"`
	Usage *usage `json:"usage"`
}

// block is what the chunker remembers about one open content block.
type block struct {
	kind     string
	tool     int             // OpenAI tool_calls index, for tool_use blocks
	args     int             // bytes of arguments sent so far
	input    json.RawMessage // tool_use input given at block start
	thinking []byte          // thinking text so far, as the inside of a JSON string
}

// chunker turns Anthropic stream events into OpenAI chat.completion.chunk payloads. It does
// no I/O, so it can be driven by tests event by event.
type chunker struct {
	model    string // fallback when message_start names none
	blocks   map[int]*block
	tools    int
	usage    usage
	finished bool // a finish_reason chunk went out
	done     bool // message_stop seen

	wire.Chunks // the chunks produced and not yet handed out, and their shared head
}

func newChunker(model string) *chunker {
	return &chunker{model: model, blocks: make(map[int]*block)}
}

// event translates one event. name is the SSE event field; the payload's own "type" wins.
func (t *chunker) event(name, data []byte) error {
	var ev streamEvent
	if err := json.Unmarshal(data, &ev); err != nil {
		return &provider.Error{
			Status: http.StatusBadGateway, Type: "api_error",
			Message: httpx.Truncate("anthropic: upstream sent a stream event that is not valid JSON: "+err.Error(), httpx.MaxMessage),
			Err:     err,
		}
	}
	typ := ev.Type
	if typ == "" {
		typ = string(name)
	}
	switch typ {
	case "message_start":
		t.start(&ev)
	case "content_block_start":
		t.blockStart(&ev)
	case "content_block_delta":
		t.blockDelta(&ev)
	case "content_block_stop":
		t.blockStop(ev.Index)
	case "message_delta":
		t.begin()
		if ev.Usage != nil {
			t.usage.merge(ev.Usage)
		}
		if ev.Delta != nil && ev.Delta.StopReason != nil && !t.finished {
			t.finish(finishReason(*ev.Delta.StopReason))
		}
	case "message_stop":
		t.begin()
		if !t.finished {
			t.finish("stop")
		}
		t.Usage(t.usage.chat())
		t.done = true
	case "error":
		return eventError(data)
	}
	// ping and event types added after this was written carry nothing a chat completion can show.
	return nil
}

// eof ends a stream that stopped before message_stop. Once message_delta has given the final
// figures the usage chunk still goes out, so what was billed is recorded.
func (t *chunker) eof() error {
	if t.finished {
		t.Usage(t.usage.chat())
	}
	return &provider.Error{
		Status: http.StatusBadGateway, Type: "api_connection_error", Transport: true,
		Message: "anthropic: upstream closed the stream before message_stop", Err: io.ErrUnexpectedEOF,
	}
}

func (t *chunker) start(ev *streamEvent) {
	if t.Head != nil {
		return
	}
	id, model := "", t.model
	if m := ev.Message; m != nil {
		id = m.ID
		if m.Model != "" {
			model = m.Model
		}
		t.usage.merge(m.Usage)
	}
	t.setHead(id, model)
	t.Delta(`{"role":"assistant","content":""}`)
}

// begin makes sure the role chunk went out, for a stream that skipped message_start.
func (t *chunker) begin() {
	if t.Head == nil {
		t.setHead("", t.model)
		t.Delta(`{"role":"assistant","content":""}`)
	}
}

func (t *chunker) setHead(id, model string) {
	h := append([]byte(nil), `{"id":`...)
	h = appendString(h, id)
	h = append(h, `,"object":"chat.completion.chunk","created":`...)
	h = strconv.AppendInt(h, now().Unix(), 10)
	h = append(h, `,"model":`...)
	h = appendString(h, model)
	t.Head = h
}

func (t *chunker) blockStart(ev *streamEvent) {
	t.begin()
	cb := ev.ContentBlock
	if cb == nil {
		return
	}
	b := &block{kind: cb.Type}
	t.blocks[ev.Index] = b
	switch cb.Type {
	case "text":
		t.content(cb.Text)
	case "thinking":
		t.reasoning(b, cb.Thinking)
	case "redacted_thinking":
		if wire.IsString(cb.Data) {
			t.Delta(`{"thinking_blocks":[{"type":"redacted_thinking","data":`, cb.Data, `}]}`)
		}
	case "tool_use":
		b.tool = t.tools
		t.tools++
		b.input = cb.Input
		c := t.Open()
		c = append(c, `{"tool_calls":[{"index":`...)
		c = strconv.AppendInt(c, int64(b.tool), 10)
		c = append(c, `,"id":`...)
		c = appendString(c, cb.ID)
		c = append(c, `,"type":"function","function":{"name":`...)
		c = appendString(c, cb.Name)
		c = append(c, `,"arguments":""}}]}`...)
		t.Close(c)
	}
}

func (t *chunker) blockDelta(ev *streamEvent) {
	t.begin()
	d := ev.Delta
	if d == nil {
		return
	}
	b := t.blocks[ev.Index]
	switch d.Type {
	case "text_delta":
		t.content(d.Text)
	case "thinking_delta":
		if b == nil {
			b = &block{kind: "thinking"}
			t.blocks[ev.Index] = b
		}
		t.reasoning(b, d.Thinking)
	case "signature_delta":
		if !wire.IsString(d.Signature) {
			return
		}
		// The whole block, so that a client can echo thinking_blocks as they came.
		var th []byte
		if b != nil {
			th = b.thinking
		}
		c := t.Open()
		c = append(c, `{"thinking_blocks":[{"type":"thinking","thinking":"`...)
		c = append(c, th...)
		c = append(c, `","signature":`...)
		c = append(c, d.Signature...)
		c = append(c, `}]}`...)
		t.Close(c)
	case "input_json_delta":
		if b == nil || b.kind != "tool_use" || !wire.IsString(d.PartialJSON) || len(d.PartialJSON) <= 2 {
			return
		}
		b.args += len(d.PartialJSON) - 2
		t.ArgsDelta(b.tool, d.PartialJSON)
	}
	// citations_delta and newer delta types have no chat completion equivalent.
}

func (t *chunker) blockStop(index int) {
	b := t.blocks[index]
	if b == nil {
		return
	}
	delete(t.blocks, index)
	if b.kind != "tool_use" || b.args > 0 {
		return
	}
	// No input_json_delta came: send the input the block started with, or "{}", so that the
	// client always holds valid JSON arguments.
	args := "{}"
	if len(b.input) > 0 && !wire.IsNull(b.input) {
		args = compactArgs(b.input)
	}
	t.ArgsDelta(b.tool, appendString(nil, args))
}

// content sends a text fragment; raw is a JSON string.
func (t *chunker) content(raw json.RawMessage) {
	if wire.IsString(raw) && len(raw) > 2 {
		t.Delta(`{"content":`, raw, `}`)
	}
}

// reasoning sends a thinking fragment and keeps it for the signature's thinking_blocks chunk.
func (t *chunker) reasoning(b *block, raw json.RawMessage) {
	if !wire.IsString(raw) || len(raw) <= 2 {
		return
	}
	b.thinking = append(b.thinking, raw[1:len(raw)-1]...)
	t.Delta(`{"reasoning_content":`, raw, `}`)
}

const (
	// drainWait and maxDrain bound the read after message_stop that lets an HTTP/1.1 connection
	// go back to the pool: closing a body before its end costs the connection.
	drainWait = 50 * time.Millisecond
	maxDrain  = 64 << 10
)

// Stream reads Anthropic's event stream and yields OpenAI chat.completion.chunk payloads:
// a role chunk, content / reasoning_content / tool_calls deltas, a finish_reason chunk, and,
// after message_stop, a usage chunk with choices:[] (always; the gateway hides it from clients
// that did not ask). Next returns io.EOF after that.
//
// A stream cut before message_stop yields what it delivered and then a 502 *provider.Error
// wrapping io.ErrUnexpectedEOF; an error event, a *provider.Error with the status its type
// implies (overloaded_error is 529); an event that is not JSON, a 502 *provider.Error.
// Close may be called while Next is blocked; Next must not be called concurrently with itself.
type Stream struct {
	body   io.ReadCloser
	sse    *httpx.SSEReader
	t      *chunker
	ctx    context.Context
	cancel context.CancelCauseFunc

	err error // sticky end of the stream

	done      atomic.Bool // message_stop seen; Close may drain the body
	closed    atomic.Bool
	closeOnce sync.Once
	closeErr  error
}

// NewStream translates the Anthropic event stream in body (for another transport that carries
// the same events, such as Vertex AI's). model names the chunks when message_start names none.
// Close closes body.
func NewStream(body io.ReadCloser, model string) *Stream {
	ctx, cancel := context.WithCancelCause(context.Background())
	return newStream(ctx, cancel, body, model)
}

func newStream(ctx context.Context, cancel context.CancelCauseFunc, body io.ReadCloser, model string) *Stream {
	return &Stream{body: body, sse: httpx.NewSSEReader(body, ""), t: newChunker(model), ctx: ctx, cancel: cancel}
}

var _ provider.Stream = (*Stream)(nil)

// Next returns the next chunk payload, valid until the next call to Next or Close.
func (s *Stream) Next() ([]byte, error) {
	t := s.t
	for {
		if c, ok := t.Take(); ok {
			return c, nil
		}
		if s.err != nil {
			return nil, s.err
		}
		if s.closed.Load() {
			return nil, errStreamClosed
		}
		t.Reset()
		if t.done {
			s.err = io.EOF
			continue
		}
		name, data, err := s.sse.Next()
		switch {
		case err == io.EOF:
			s.err = t.eof()
		case err != nil:
			s.err = s.readError(err)
		default:
			if bytes.Equal(bytes.TrimSpace(data), []byte("[DONE]")) {
				continue // not Anthropic's, but harmless from a relay in between
			}
			if err := t.event(name, data); err != nil {
				s.err = err
			}
			if t.done {
				s.done.Store(true)
			}
		}
	}
}

func (s *Stream) readError(err error) error {
	if s.closed.Load() {
		return errStreamClosed
	}
	return failure(s.ctx, "reading stream", err)
}

// Close releases the connection and the call's context. It is idempotent.
func (s *Stream) Close() error {
	s.closeOnce.Do(func() {
		if s.done.Load() {
			// Read what follows message_stop (normally just the end of the body) so that the
			// connection is reused; a server that keeps the body open is cut off after drainWait.
			timer := time.AfterFunc(drainWait, func() { s.cancel(errStreamClosed) })
			_, _ = io.CopyN(io.Discard, s.sse.Rest(), maxDrain)
			timer.Stop()
		}
		s.closed.Store(true)
		s.closeErr = s.body.Close()
		s.cancel(errStreamClosed)
	})
	return s.closeErr
}

func (t *chunker) finish(reason string) {
	t.finished = true
	t.Finish(reason)
}
