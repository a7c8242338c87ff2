package bedrock

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/protocol/eventstream"

	"github.com/clawgate/clawgate/proxy/provider"
	"github.com/clawgate/clawgate/proxy/provider/internal/httpx"
)

const (
	// readBufSize holds a few ordinary frames, so that Buffered can see a burst.
	readBufSize = 64 << 10
	// preludeLen is an event stream frame's total length and headers length (before their CRC);
	// minFrame is a frame with no headers and no payload.
	preludeLen = 8
	minFrame   = 16
	// maxFrame bounds one frame. The format allows 16 MiB of payload and 128 KiB of headers;
	// the SDK's decoder trusts the prelude's lengths, so they are checked before it reads.
	maxFrame = 16<<20 + 128<<10 + minFrame
	// drainWait and maxDrain bound the read after the metadata event that lets an HTTP/1.1
	// connection go back to the pool: closing a body before its end costs the connection.
	drainWait = 50 * time.Millisecond
	maxDrain  = 64 << 10
)

// Stream reads a ConverseStream answer (AWS event stream frames, decoded and CRC-checked by the
// SDK's eventstream package) and yields OpenAI chat.completion.chunk payloads: a role chunk,
// content / reasoning_content / tool_calls deltas, a finish_reason chunk at messageStop and,
// at the metadata event, a usage chunk with choices:[] (always; the gateway hides it from
// clients that did not ask). Next returns io.EOF after that.
//
// A body that ends before the metadata event yields what it delivered and then a 502
// *provider.Error wrapping io.ErrUnexpectedEOF; an exception frame, a *provider.Error with the
// status Bedrock documents for it (throttlingException 429, serviceUnavailableException 503,
// validationException 400, modelStreamErrorException 500); a frame that fails its checksum or
// an event that is not JSON, a 502 *provider.Error. Close may be called while Next is blocked;
// Next and Buffered must not be called concurrently with each other.
type Stream struct {
	body    io.ReadCloser
	r       *bufio.Reader
	dec     *eventstream.Decoder
	payload []byte // the decoder's payload buffer, reused frame after frame
	t       *chunker
	ctx     context.Context
	cancel  context.CancelCauseFunc

	err error // sticky end of the stream

	done      atomic.Bool // metadata seen; Close may drain the body
	closed    atomic.Bool
	closeOnce sync.Once
	closeErr  error
}

var (
	_ provider.Stream   = (*Stream)(nil)
	_ provider.Buffered = (*Stream)(nil)
)

// NewStream translates the ConverseStream event stream in body. model names the chunks (the
// events do not). Close closes body.
func NewStream(body io.ReadCloser, model string) *Stream {
	ctx, cancel := context.WithCancelCause(context.Background())
	return newStream(ctx, cancel, body, newID(), model)
}

func newStream(ctx context.Context, cancel context.CancelCauseFunc, body io.ReadCloser, id, model string) *Stream {
	return &Stream{
		body: body, r: bufio.NewReaderSize(body, readBufSize), dec: eventstream.NewDecoder(),
		t: newChunker(id, model), ctx: ctx, cancel: cancel,
	}
}

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
		s.step()
	}
}

// Buffered reports how many bytes of chunks are ready without waiting for the upstream: it
// translates the frames that are already complete in memory (a frame may yield no chunk, such as
// a text block's contentBlockStop, so buffered bytes alone would not say). The gateway flushes
// to its client only when this is 0, so events that arrived together leave together, and none
// waits on an upstream read. Chunks are appended after the one Next returned last, so that one
// stays valid.
func (s *Stream) Buffered() int {
	t := s.t
	for t.Pending() == 0 && s.err == nil && !s.closed.Load() && (t.done || s.frameBuffered()) {
		s.step()
	}
	if n := t.Pending(); n > 0 {
		return n
	}
	if s.err != nil {
		return 1 // Next returns at once
	}
	return 0
}

// frameBuffered reports whether the next frame is wholly in memory, or known bad from its
// prelude, so that step will not block.
func (s *Stream) frameBuffered() bool {
	n := s.r.Buffered()
	if n < preludeLen {
		return false
	}
	b, _ := s.r.Peek(preludeLen)
	total := binary.BigEndian.Uint32(b)
	return !validLens(b) || n >= int(total)
}

func validLens(prelude []byte) bool {
	total := binary.BigEndian.Uint32(prelude)
	headers := binary.BigEndian.Uint32(prelude[4:])
	return total >= minFrame && total <= maxFrame && headers <= total-minFrame
}

// step reads one frame and translates it, appending chunks to t.Out or setting s.err.
func (s *Stream) step() {
	t := s.t
	if t.done {
		s.err = io.EOF
		return
	}
	msg, err := s.frame()
	if err != nil {
		s.err = err
		return
	}
	s.payload = msg.Payload[:0]
	switch headerString(msg.Headers, ":message-type") {
	case "event", "":
		if err := t.event(headerString(msg.Headers, ":event-type"), msg.Payload); err != nil {
			s.err = err
		}
	case "exception":
		s.err = exceptionError(headerString(msg.Headers, ":exception-type"), msg.Payload)
	case "error":
		code := headerString(msg.Headers, ":error-code")
		e := exceptionError(code, nil)
		if m := headerString(msg.Headers, ":error-message"); m != "" {
			e.Message = httpx.Truncate("bedrock: "+m, httpx.MaxMessage)
		}
		s.err = e
	}
	// Other message types carry nothing for the client.
	if t.done {
		s.done.Store(true)
	}
}

// frame decodes the next frame. A body that ends between frames ends the stream (cleanly only
// after the metadata event); one that ends inside a frame is truncated.
func (s *Stream) frame() (eventstream.Message, error) {
	b, err := s.r.Peek(preludeLen)
	switch {
	case len(b) == 0 && err == io.EOF:
		return eventstream.Message{}, s.t.eof()
	case err == io.EOF:
		return eventstream.Message{}, truncated()
	case err != nil:
		return eventstream.Message{}, s.readError(err)
	}
	if !validLens(b) {
		return eventstream.Message{}, &provider.Error{
			Status: http.StatusBadGateway, Type: "api_error",
			Message: "bedrock: upstream sent an event stream frame with an invalid length (" +
				strconv.FormatUint(uint64(binary.BigEndian.Uint32(b)), 10) + " bytes)",
		}
	}
	msg, err := s.dec.Decode(s.r, s.payload)
	if err == nil {
		return msg, nil
	}
	var crc eventstream.ChecksumError
	switch {
	case errors.As(err, &crc):
		return msg, &provider.Error{
			Status: http.StatusBadGateway, Type: "api_error",
			Message: "bedrock: upstream sent an event stream frame that fails its CRC check", Err: err,
		}
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return msg, truncated()
	}
	var le eventstream.LengthError
	if errors.As(err, &le) {
		return msg, &provider.Error{Status: http.StatusBadGateway, Type: "api_error", Message: "bedrock: " + err.Error(), Err: err}
	}
	return msg, s.readError(err)
}

func truncated() error {
	return &provider.Error{
		Status: http.StatusBadGateway, Type: "api_connection_error", Transport: true,
		Message: "bedrock: upstream closed the event stream in the middle of a frame", Err: io.ErrUnexpectedEOF,
	}
}

func headerString(h eventstream.Headers, name string) string {
	if v, ok := h.Get(name).(eventstream.StringValue); ok {
		return string(v)
	}
	return ""
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
		var bodyOnce sync.Once
		closeBody := func() { bodyOnce.Do(func() { s.closeErr = s.body.Close() }) }
		if s.done.Load() {
			// Read what follows the metadata event (normally just the end of the body) so that
			// the connection is reused; a server that keeps the body open is cut off after
			// drainWait (closing the body too, for a body that is not an HTTP response's).
			timer := time.AfterFunc(drainWait, func() {
				s.cancel(errStreamClosed)
				closeBody()
			})
			_, _ = io.CopyN(io.Discard, s.r, maxDrain)
			timer.Stop()
		}
		s.closed.Store(true)
		closeBody()
		s.cancel(errStreamClosed)
	})
	return s.closeErr
}
