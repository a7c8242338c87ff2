package gemini

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/clawgate/clawgate/proxy/internal/wire"
	"github.com/clawgate/clawgate/proxy/provider"
	"github.com/clawgate/clawgate/proxy/provider/internal/httpx"
)

// chunker turns streamed GenerateContentResponse fragments into OpenAI chat.completion.chunk
// payloads. It does no I/O, so tests can drive it event by event.
//
// Gemini streams differently from OpenAI: every event is a whole response holding the new text
// (or whole function calls) and running usage, and the stream ends with the body, without a
// terminator. So the finish_reason goes out with the event that carries finishReason, and the
// usage chunk, from the last usageMetadata, once the body has ended.
type chunker struct {
	model    string // fallback when the stream names no modelVersion
	tools    int    // tool calls sent so far; the next one's index
	usage    *usageMetadata
	finished bool // a finish_reason chunk went out

	wire.Chunks // the chunks produced and not yet handed out, and their shared head
}

func newChunker(model string) *chunker { return &chunker{model: model} }

// event translates one SSE event's data.
func (t *chunker) event(data []byte) error {
	var ev generateContentResponse
	if err := json.Unmarshal(data, &ev); err != nil {
		return &provider.Error{
			Status: http.StatusBadGateway, Type: "api_error",
			Message: httpx.Truncate("gemini: upstream sent a stream event that is not valid JSON: "+err.Error(), httpx.MaxMessage),
			Err:     err,
		}
	}
	if ev.Error != nil {
		return objectError(ev.Error)
	}
	t.begin(ev.ResponseID, ev.ModelVersion)
	if ev.UsageMetadata != nil {
		t.usage = ev.UsageMetadata
	}
	if t.finished {
		return nil // a late fragment may still bring usage; content after the finish has no place
	}
	if len(ev.Candidates) == 0 {
		if pf := ev.PromptFeedback; pf != nil && pf.BlockReason != "" {
			c := t.Open()
			c = append(c, `{"refusal":`...)
			c = appendString(c, blockedMessage(pf.BlockReason))
			c = append(c, '}')
			t.Close(c)
			t.finish("content_filter")
		}
		return nil
	}
	cand := &ev.Candidates[0]
	if cand.Content != nil {
		for i := range cand.Content.Parts {
			t.part(&cand.Content.Parts[i])
		}
	}
	if cand.FinishReason != "" && cand.FinishReason != "FINISH_REASON_UNSPECIFIED" {
		t.finish(finishReason(cand.FinishReason, t.tools > 0))
	}
	return nil
}

func (t *chunker) part(p *responsePart) {
	switch {
	case p.FunctionCall != nil:
		// Gemini sends each function call whole, so one delta carries it all.
		fc := p.FunctionCall
		c := t.Open()
		c = append(c, `{"tool_calls":[{"index":`...)
		c = strconv.AppendInt(c, int64(t.tools), 10)
		c = append(c, `,"id":`...)
		c = appendString(c, toolCallID(fc.ID, p.ThoughtSignature))
		c = append(c, `,"type":"function","function":{"name":`...)
		c = appendString(c, fc.Name)
		c = append(c, `,"arguments":`...)
		c = appendString(c, compactArgs(fc.Args))
		c = append(c, '}')
		if p.ThoughtSignature != "" {
			c = append(c, `,"provider_specific_fields":{"thought_signature":`...)
			c = appendString(c, p.ThoughtSignature)
			c = append(c, '}')
		}
		c = append(c, `}]}`...)
		t.Close(c)
		t.tools++
	case !wire.IsString(p.Text) || len(p.Text) <= 2:
		// No text: an empty part that only carries a signature, or a kind with no chat form.
	case p.Thought:
		t.Delta(`{"reasoning_content":`, p.Text, `}`)
	default:
		t.Delta(`{"content":`, p.Text, `}`)
	}
}

// begin sends the role chunk before anything else.
func (t *chunker) begin(id, model string) {
	if t.Head != nil {
		return
	}
	if id == "" {
		id = "chatcmpl-" + newID()
	}
	if model == "" {
		model = t.model
	}
	h := append([]byte(nil), `{"id":`...)
	h = appendString(h, id)
	h = append(h, `,"object":"chat.completion.chunk","created":`...)
	h = strconv.AppendInt(h, now().Unix(), 10)
	h = append(h, `,"model":`...)
	h = appendString(h, model)
	t.Head = h
	t.Delta(`{"role":"assistant","content":""}`)
}

// eof ends the stream at the end of the body: after a finish, with the usage chunk; before one,
// with a 502 wrapping io.ErrUnexpectedEOF (a cut connection; Gemini has no end marker to miss).
func (t *chunker) eof() error {
	if t.finished {
		t.Usage(t.usage.chat())
		return io.EOF
	}
	return &provider.Error{
		Status: http.StatusBadGateway, Type: "api_connection_error", Transport: true,
		Message: "gemini: upstream closed the stream before a finishReason", Err: io.ErrUnexpectedEOF,
	}
}

// Stream reads Gemini's SSE stream and yields OpenAI chat.completion.chunk payloads: a role
// chunk, content / reasoning_content / refusal / tool_calls deltas, a finish_reason chunk and,
// when the body ends, a usage chunk with choices:[] (always; the gateway hides it from clients
// that did not ask). Next returns io.EOF after that.
//
// A stream that ends before a finishReason yields what it delivered and then a 502
// *provider.Error wrapping io.ErrUnexpectedEOF; an error object in the stream, a *provider.Error
// with its code as status; an event that is not JSON, a 502 *provider.Error.
// Close may be called while Next is blocked; Next must not be called concurrently with itself.
type Stream struct {
	body   io.ReadCloser
	sse    *httpx.SSEReader
	t      *chunker
	ctx    context.Context
	cancel context.CancelCauseFunc

	err error // sticky end of the stream

	closed    atomic.Bool
	closeOnce sync.Once
	closeErr  error
}

// NewStream translates the Gemini SSE stream in body (for another transport that carries the
// same events, such as Vertex AI's). model names the chunks when the stream names no
// modelVersion. Close closes body.
func NewStream(body io.ReadCloser, model string) *Stream {
	ctx, cancel := context.WithCancelCause(context.Background())
	return newStream(ctx, cancel, body, model)
}

func newStream(ctx context.Context, cancel context.CancelCauseFunc, body io.ReadCloser, model string) *Stream {
	return &Stream{body: body, sse: httpx.NewSSEReader(body, "gemini: "), t: newChunker(model), ctx: ctx, cancel: cancel}
}

var (
	_ provider.Stream   = (*Stream)(nil)
	_ provider.Buffered = (*Stream)(nil)
)

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
		_, data, err := s.sse.Next()
		switch {
		case err == io.EOF:
			s.err = t.eof()
		case err != nil:
			s.err = s.readError(err)
		default:
			if bytes.Equal(bytes.TrimSpace(data), []byte("[DONE]")) {
				continue // not Gemini's, but harmless from a relay in between
			}
			if err := t.event(data); err != nil {
				s.err = err
			}
		}
	}
}

// Buffered reports how many bytes of the upstream's answer are in memory and not yet returned by
// Next: translated chunks waiting their turn, and raw bytes read ahead. The gateway flushes to
// its client only when this is 0, so chunks that come from one burst leave together.
func (s *Stream) Buffered() int {
	return s.sse.Buffered() + s.t.Pending()
}

func (s *Stream) readError(err error) error {
	if s.closed.Load() {
		return errStreamClosed
	}
	return failure(s.ctx, "reading stream", err)
}

// Close releases the connection and the call's context. It is idempotent. Gemini's stream ends
// with its body, so a stream read to the end has left the connection reusable already.
func (s *Stream) Close() error {
	s.closeOnce.Do(func() {
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
