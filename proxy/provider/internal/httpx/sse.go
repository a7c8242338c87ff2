package httpx

import (
	"bufio"
	"bytes"
	"io"
	"net/http"

	"github.com/clawgate/clawgate/proxy/provider"
)

const (
	// sseBufSize fits every ordinary event; longer lines are reassembled.
	sseBufSize = 16 << 10
	// maxEvent bounds one event (a whole tool input may come in one delta).
	maxEvent = 64 << 20
)

var utf8BOM = []byte("\xEF\xBB\xBF")

// SSEReader splits a server-sent event stream into events: "event:" and "data:" fields (with or
// without the space; id and retry are ignored), comments, LF or CRLF line ends, several data
// lines joined by "\n", and lines of any length up to maxEvent.
type SSEReader struct {
	prefix  string // starts the too-large error's message: the provider's "name: ", or ""
	r       *bufio.Reader
	started bool
	line    []byte // a line longer than the buffer, reassembled
	data    []byte
	nData   int
	event   []byte
}

// NewSSEReader reads events from r; prefix starts the message of the error for an event larger
// than 64 MiB.
func NewSSEReader(r io.Reader, prefix string) *SSEReader {
	return &SSEReader{prefix: prefix, r: bufio.NewReaderSize(r, sseBufSize)}
}

// Buffered is how many bytes have been read from the body and not yet handed out.
func (s *SSEReader) Buffered() int { return s.r.Buffered() }

// Rest reads what is left of the body, buffered bytes first.
func (s *SSEReader) Rest() io.Reader { return s.r }

// Next returns the next event's name and data, valid until the following call. At the end of the
// body it returns io.EOF; complete lines of an event not yet closed by a blank line still count as
// an event, but a last line without its newline is dropped, since it may be cut-off JSON.
func (s *SSEReader) Next() (event, data []byte, err error) {
	if !s.started {
		s.started = true
		if b, _ := s.r.Peek(len(utf8BOM)); bytes.Equal(b, utf8BOM) {
			_, _ = s.r.Discard(len(utf8BOM))
		}
	}
	s.data, s.nData, s.event = s.data[:0], 0, s.event[:0]
	for {
		line, rerr := s.readLine()
		if rerr != nil && rerr != io.EOF {
			return nil, nil, rerr
		}
		complete := rerr == nil // after EOF the line, if any, may be cut off mid-way
		line = trimEOL(line)
		if complete && len(line) > 0 {
			if err := s.field(line); err != nil {
				return nil, nil, err
			}
			continue
		}
		if s.nData > 0 {
			// A blank line, or the end of the body after complete lines: hand the event over
			// (after EOF the next call meets EOF again).
			return s.event, s.data, nil
		}
		if rerr == io.EOF {
			return nil, nil, io.EOF
		}
		s.event = s.event[:0] // a blank line with no data ends nothing
	}
}

func (s *SSEReader) field(line []byte) error {
	if line[0] == ':' {
		return nil // comment
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
			return s.errTooLong()
		}
		if s.nData > 0 {
			s.data = append(s.data, '\n')
		}
		s.data = append(s.data, value...)
		s.nData++
	case "event":
		s.event = append(s.event[:0], value...)
	}
	return nil
}

// readLine returns the next line with its "\n"; at the end of the body, what is left and io.EOF.
func (s *SSEReader) readLine() ([]byte, error) {
	b, err := s.r.ReadSlice('\n')
	if err != bufio.ErrBufferFull {
		return b, err
	}
	s.line = append(s.line[:0], b...)
	for {
		b, err = s.r.ReadSlice('\n')
		if len(s.line)+len(b) > maxEvent {
			return nil, s.errTooLong()
		}
		s.line = append(s.line, b...)
		if err != bufio.ErrBufferFull {
			return s.line, err
		}
	}
}

func (s *SSEReader) errTooLong() error {
	return &provider.Error{
		Status: http.StatusBadGateway, Type: "api_error",
		Message: s.prefix + "upstream sent an SSE event larger than 64 MiB",
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
