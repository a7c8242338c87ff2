package openai

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/clawgate/clawgate/proxy/provider"
)

const (
	// sseBufSize fits every ordinary chunk; longer lines spill into Stream.line.
	sseBufSize = 16 << 10
	// maxEvent bounds one event's data (a whole tool call's arguments can arrive in one line).
	maxEvent = 64 << 20
	// drainWait and maxDrain bound the read after [DONE] that lets an HTTP/1.1 connection go back
	// to the pool: closing a body before its end costs the connection.
	drainWait = 50 * time.Millisecond
	maxDrain  = 64 << 10
)

var (
	doneMarker = []byte("[DONE]")
	utf8BOM    = []byte("\xEF\xBB\xBF")
	errorKey   = []byte(`"error"`)
)

// Stream reads an OpenAI server-sent event stream and yields each event's data, undecoded.
//
// It follows the SSE rules that matter for chat completions: "data:" with or without the space,
// several data lines joined with "\n", comments (": keepalive") and event/id/retry fields skipped,
// LF or CRLF line ends, lines of any length up to 64 MiB. A lone CR as a line end is not supported.
//
// Next and Close may be called from different goroutines (Close aborts a blocked Next), but Next
// must not be called concurrently with itself.
type Stream struct {
	// mu is held by Next while it runs, so that Close can tell whether the read buffer is free to
	// go back to the pool (Close may also run while a Next is blocked, which then keeps it).
	mu     sync.Mutex
	body   io.ReadCloser
	r      *bufio.Reader // from readers; nil once returned
	idle   idleReader
	ctx    context.Context
	cancel context.CancelCauseFunc
	timer  *time.Timer

	line     []byte // a line longer than the buffer, reassembled; reused
	data     []byte // the current event's data; reused
	nData    int    // data lines in the current event
	errEvent bool   // the current event is "event: error"
	started  bool
	err      error // sticky result once the stream has ended

	done      atomic.Bool
	closed    atomic.Bool
	closeOnce sync.Once
	closeErr  error
}

// newStream reads body until [DONE]. cancel ends the call's context; timer, when not nil, is the
// call's timeout timer, re-armed around each read so that it bounds silence, not total length.
func newStream(ctx context.Context, cancel context.CancelCauseFunc, body io.ReadCloser, timer *time.Timer, idle time.Duration) *Stream {
	s := &Stream{body: body, ctx: ctx, cancel: cancel, timer: timer}
	var src io.Reader = body
	if timer != nil {
		s.idle = idleReader{r: body, t: timer, d: idle}
		src = &s.idle
	}
	s.r = readers.Get().(*bufio.Reader)
	s.r.Reset(src)
	return s
}

// readers recycles the streams' 16 KiB read buffers: allocating one per request was over a third
// of the gateway's allocated bytes on a streaming load, and so much of its garbage collection.
var readers = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, sseBufSize) }}

// Next returns the data of the next event: one chat.completion.chunk JSON. The slice is valid
// only until the next call to Next or Close.
//
// It returns io.EOF after "data: [DONE]". A stream that ends without [DONE] yields what it
// delivered in full and then a 502 *provider.Error (Transport) wrapping io.ErrUnexpectedEOF.
// An error event ({"error":{...}} or "event: error") becomes a *provider.Error, read failures a
// 502 (or 504 on timeout) *provider.Error, and the caller's cancellation an error wrapping
// context.Canceled. Events with empty data are skipped.
func (s *Stream) Next() ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return nil, s.err
	}
	if s.closed.Load() || s.r == nil {
		return nil, errStreamClosed
	}
	p, err := s.next()
	if err != nil {
		s.err = err
	}
	return p, err
}

func (s *Stream) next() ([]byte, error) {
	if !s.started {
		s.started = true
		// A read error here is met again by the first ReadSlice.
		if b, _ := s.r.Peek(len(utf8BOM)); bytes.Equal(b, utf8BOM) {
			_, _ = s.r.Discard(len(utf8BOM))
		}
	}
	s.resetEvent()
	for {
		line, rerr := s.readLine()
		if rerr == io.EOF {
			return s.atEOF(line)
		}
		if rerr != nil {
			return nil, s.readError(rerr)
		}
		line = trimEOL(line)
		if len(line) > 0 {
			if err := s.field(line); err != nil {
				return nil, err
			}
			continue
		}
		// A blank line ends the event.
		if s.nData == 0 || len(s.data) == 0 {
			s.resetEvent()
			continue
		}
		return s.dispatch()
	}
}

// atEOF ends the stream at the end of the body. partial is a last line without its newline.
func (s *Stream) atEOF(partial []byte) ([]byte, error) {
	if partial = trimEOL(partial); len(partial) > 0 { // a lone "\r" is no line at all
		// Servers that close right after "data: [DONE]" without a newline are done, but any other
		// cut-off line may be cut-off JSON, so it is dropped.
		keep, keepN := len(s.data), s.nData
		if s.field(partial) == nil && isDone(s.data) {
			s.done.Store(true)
			return nil, io.EOF
		}
		s.data, s.nData = s.data[:keep], keepN
	}
	unexpected := &provider.Error{
		Status: http.StatusBadGateway, Message: "upstream closed the stream before [DONE]",
		Type: "api_connection_error", Transport: true, Err: io.ErrUnexpectedEOF,
	}
	if s.nData > 0 && len(s.data) > 0 {
		// Complete lines without the closing blank line: hand the event over, fail on the next call.
		p, err := s.dispatch()
		if err == nil {
			s.err = unexpected
		}
		return p, err
	}
	return nil, unexpected
}

func (s *Stream) dispatch() ([]byte, error) {
	p := s.data
	if isDone(p) {
		s.done.Store(true)
		return nil, io.EOF
	}
	// bytes.Contains keeps the common case free of JSON decoding; only chunks that mention
	// "error" as a whole JSON string are looked at closely.
	if s.errEvent || bytes.Contains(p, errorKey) {
		if e := streamError(p, s.errEvent); e != nil {
			return nil, e
		}
	}
	return p, nil
}

func (s *Stream) resetEvent() {
	s.data = s.data[:0]
	s.nData = 0
	s.errEvent = false
}

// field applies one non-blank line to the current event.
func (s *Stream) field(line []byte) error {
	if line[0] == ':' {
		return nil // comment, e.g. ": keepalive" or OpenRouter's ": OPENROUTER PROCESSING"
	}
	name, value := line, []byte(nil)
	if i := bytes.IndexByte(line, ':'); i >= 0 {
		name, value = line[:i], line[i+1:]
		if len(value) > 0 && value[0] == ' ' {
			value = value[1:]
		}
	}
	switch string(name) {
	case "data":
		if len(s.data)+len(value)+1 > maxEvent {
			return tooLong()
		}
		if s.nData > 0 {
			s.data = append(s.data, '\n')
		}
		s.data = append(s.data, value...)
		s.nData++
	case "event":
		s.errEvent = string(value) == "error"
	}
	// id, retry and unknown fields mean nothing for a one-shot completion stream.
	return nil
}

// readLine returns the next line with its "\n". The fast path returns bufio's own buffer; a
// longer line is reassembled in s.line. At the end of the body it returns what is left and io.EOF.
func (s *Stream) readLine() ([]byte, error) {
	b, err := s.r.ReadSlice('\n')
	if err != bufio.ErrBufferFull {
		return b, err
	}
	s.line = append(s.line[:0], b...)
	for {
		b, err = s.r.ReadSlice('\n')
		if len(s.line)+len(b) > maxEvent {
			return nil, tooLong()
		}
		s.line = append(s.line, b...)
		if err != bufio.ErrBufferFull {
			return s.line, err
		}
	}
}

func (s *Stream) readError(err error) error {
	if s.closed.Load() {
		return errStreamClosed
	}
	return failure(s.ctx, "reading stream", err)
}

func tooLong() error {
	return &provider.Error{
		Status: http.StatusBadGateway, Message: "upstream sent an SSE event larger than 64 MiB",
		Type: "api_error",
	}
}

func trimEOL(line []byte) []byte {
	if n := len(line); n > 0 && line[n-1] == '\n' {
		line = line[:n-1]
	}
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return line
}

func isDone(p []byte) bool {
	return len(p) >= len(doneMarker) && len(p) < 32 && bytes.Equal(bytes.TrimSpace(p), doneMarker)
}

// Close releases the connection and the call's context. It is idempotent and may be called while
// Next is blocked, which then returns an error.
func (s *Stream) Close() error {
	s.closeOnce.Do(func() {
		// When no Next is running, none will touch the buffer again: drain it and give it back.
		free := s.mu.TryLock()
		if free && s.done.Load() {
			s.drain()
		}
		s.closed.Store(true)
		if s.timer != nil {
			s.timer.Stop()
		}
		s.closeErr = s.body.Close()
		s.cancel(errStreamClosed)
		if free {
			r := s.r
			s.r = nil
			s.mu.Unlock()
			r.Reset(nil)
			readers.Put(r)
		}
	})
	return s.closeErr
}

// drain reads what follows [DONE] (normally just the end of the chunked body) so that the
// connection is reused; a server that keeps the response open is cut off after drainWait.
func (s *Stream) drain() {
	t := time.AfterFunc(drainWait, func() { s.cancel(errStreamClosed) })
	_, _ = io.CopyN(io.Discard, s.r, maxDrain)
	t.Stop()
}

// idleReader arms the timeout timer only while a read is waiting, so the timer measures the
// upstream's silence and not the time the gateway spends writing to a slow client.
type idleReader struct {
	r io.Reader
	t *time.Timer
	d time.Duration
}

func (ir *idleReader) Read(p []byte) (int, error) {
	ir.t.Reset(ir.d)
	n, err := ir.r.Read(p)
	ir.t.Stop()
	return n, err
}

// Buffered reports how many bytes of the upstream's answer are already in memory, not yet
// returned by Next. The gateway flushes to its client only when this is 0, so events that arrive
// together leave together, as a plain reverse proxy would send them.
func (s *Stream) Buffered() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.r == nil {
		return 0
	}
	return s.r.Buffered()
}
