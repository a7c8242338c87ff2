package gemini

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
	// maxEvent bounds one event (an inline image or a large function call comes in one event).
	maxEvent = 64 << 20
)

var utf8BOM = []byte("\xEF\xBB\xBF")

// sseReader splits streamGenerateContent?alt=sse into the data of each event. Google sends one
// "data:" line per event, ended by a blank line (CRLF line ends); the reader also takes LF,
// comments, other fields (ignored) and several data lines joined by "\n", as SSE allows.
type sseReader struct {
	r       *bufio.Reader
	started bool
	line    []byte // a line longer than the buffer, reassembled
	data    []byte
	nData   int
}

func newSSEReader(r io.Reader) *sseReader {
	return &sseReader{r: bufio.NewReaderSize(r, sseBufSize)}
}

// next returns the next event's data, valid until the following call, or io.EOF at the end of
// the body. Complete lines of an event not yet closed by a blank line still make an event at the
// end of the body, but a last line without its newline is dropped: it may be cut-off JSON.
func (s *sseReader) next() ([]byte, error) {
	if !s.started {
		s.started = true
		if b, _ := s.r.Peek(len(utf8BOM)); bytes.Equal(b, utf8BOM) {
			_, _ = s.r.Discard(len(utf8BOM))
		}
	}
	s.data, s.nData = s.data[:0], 0
	for {
		line, err := s.readLine()
		if err != nil && err != io.EOF {
			return nil, err
		}
		complete := err == nil
		line = trimEOL(line)
		if complete && len(line) > 0 {
			if err := s.field(line); err != nil {
				return nil, err
			}
			continue
		}
		if s.nData > 0 {
			// A blank line, or the end of the body after complete lines: hand the event over
			// (after EOF the next call meets EOF again).
			return s.data, nil
		}
		if err == io.EOF {
			return nil, io.EOF
		}
	}
}

func (s *sseReader) field(line []byte) error {
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
	if string(name) != "data" {
		return nil // event, id, retry: Gemini's events are told apart by their JSON
	}
	if len(s.data)+len(value)+1 > maxEvent {
		return errTooLong()
	}
	if s.nData > 0 {
		s.data = append(s.data, '\n')
	}
	s.data = append(s.data, value...)
	s.nData++
	return nil
}

// readLine returns the next line with its "\n", or what is left of the body and io.EOF (a line
// without its "\n", or nothing).
func (s *sseReader) readLine() ([]byte, error) {
	b, err := s.r.ReadSlice('\n')
	if err != bufio.ErrBufferFull {
		return b, err
	}
	s.line = append(s.line[:0], b...)
	for {
		b, err = s.r.ReadSlice('\n')
		if len(s.line)+len(b) > maxEvent {
			return nil, errTooLong()
		}
		s.line = append(s.line, b...)
		if err != bufio.ErrBufferFull {
			return s.line, err
		}
	}
}

func errTooLong() error {
	return &provider.Error{
		Status: http.StatusBadGateway, Type: "api_error",
		Message: "gemini: upstream sent an SSE event larger than 64 MiB",
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
