package openai

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/clawgate/clawgate/proxy/provider"
	"github.com/clawgate/clawgate/proxy/provider/internal/testkit"
)

// streamOf builds a Stream over r as Chat would, without HTTP.
func streamOf(r io.Reader) *Stream {
	ctx, cancel := context.WithCancelCause(context.Background())
	return newStream(ctx, cancel, io.NopCloser(r), nil, 0)
}

// drainStream collects payloads until Next fails and returns that error.
func drainStream(t *testing.T, s *Stream) ([]string, error) {
	t.Helper()
	return testkit.Drain(t, s)
}

// endKind names how a stream ended, for table comparisons.
func endKind(err error) string {
	var pe *provider.Error
	switch {
	case err == io.EOF:
		return "eof"
	case errors.As(err, &pe) && errors.Is(err, io.ErrUnexpectedEOF) && pe.Transport && pe.Status == 502:
		return "unexpected"
	case errors.As(err, &pe) && pe.Transport:
		return "transport"
	case errors.As(err, &pe):
		return "error"
	}
	return "other: " + err.Error()
}

func TestStreamParsing(t *testing.T) {
	big := `{"choices":[{"delta":{"tool_calls":[{"index":0,"function":{"arguments":"` +
		strings.Repeat("x", 3<<20) + `"}}]}}]}`
	tests := []struct {
		name string
		in   string
		want []string
		end  string
	}{
		{"lf", "data: {\"a\":1}\n\ndata: {\"a\":2}\n\ndata: [DONE]\n\n", []string{`{"a":1}`, `{"a":2}`}, "eof"},
		{"crlf", "data: {\"a\":1}\r\n\r\ndata: {\"a\":2}\r\n\r\ndata: [DONE]\r\n\r\n", []string{`{"a":1}`, `{"a":2}`}, "eof"},
		{"no space after colon", "data:{\"a\":1}\n\ndata:[DONE]\n\n", []string{`{"a":1}`}, "eof"},
		{"only the first space is stripped", "data:  {\"a\":1}\n\ndata: [DONE]\n\n", []string{` {"a":1}`}, "eof"},
		{"comments", ": keepalive\n\n: OPENROUTER PROCESSING\n\ndata: {\"a\":1}\n: inside an event\n\ndata: [DONE]\n\n", []string{`{"a":1}`}, "eof"},
		{"event id retry ignored", "event: message\nid: 7\nretry: 3000\ndata: {\"a\":1}\n\nid: 8\n\ndata: [DONE]\n\n", []string{`{"a":1}`}, "eof"},
		{"unknown field and field without colon", "foo: bar\ndata\ndata: {\"a\":1}\n\ndata: [DONE]\n\n", []string{"\n{\"a\":1}"}, "eof"},
		{"multi-line data", "data: {\"a\":\ndata: 1}\n\ndata: [DONE]\n\n", []string{"{\"a\":\n1}"}, "eof"},
		{"multi-line data crlf", "data: x\r\ndata: y\r\ndata: z\r\n\r\ndata: [DONE]\r\n\r\n", []string{"x\ny\nz"}, "eof"},
		{"empty data skipped", "data:\n\ndata: \n\n\n\n\ndata: {\"a\":1}\n\ndata: [DONE]\n\n", []string{`{"a":1}`}, "eof"},
		{"bom", "\xEF\xBB\xBFdata: {\"a\":1}\n\ndata: [DONE]\n\n", []string{`{"a":1}`}, "eof"},
		{"done then more is ignored", "data: {\"a\":1}\n\ndata: [DONE]\n\ndata: {\"a\":2}\n\n", []string{`{"a":1}`}, "eof"},
		{"done without blank line", "data: {\"a\":1}\n\ndata: [DONE]\n", []string{`{"a":1}`}, "eof"},
		{"done without newline", "data: {\"a\":1}\n\ndata: [DONE]", []string{`{"a":1}`}, "eof"},
		{"done with crlf and no blank line", "data: {\"a\":1}\r\n\r\ndata: [DONE]\r\n", []string{`{"a":1}`}, "eof"},
		{"3 MiB line", "data: " + big + "\n\ndata: {\"a\":1}\n\ndata: [DONE]\n\n", []string{big, `{"a":1}`}, "eof"},
		{"3 MiB line crlf", "data: " + big + "\r\n\r\ndata: [DONE]\r\n\r\n", []string{big}, "eof"},
		{"ends on event boundary without done", "data: {\"a\":1}\n\n", []string{`{"a":1}`}, "unexpected"},
		{"ends after a complete line without blank line", "data: {\"a\":1}\n\ndata: {\"a\":2}\n", []string{`{"a":1}`, `{"a":2}`}, "unexpected"},
		{"ends mid-line", "data: {\"a\":1}\n\ndata: {\"a\":", []string{`{"a":1}`}, "unexpected"},
		{"ends mid-line of a second data line", "data: {\"a\":1}\n\ndata: x\ndata: {\"a\":", []string{`{"a":1}`, "x"}, "unexpected"},
		{"empty body", "", nil, "unexpected"},
		{"only comments", ": ping\n\n: ping\n\n", nil, "unexpected"},
		{"html instead of events", "<html><body>Bad gateway</body></html>\n", nil, "unexpected"},
		{"content mentioning error is data", "data: {\"choices\":[{\"delta\":{\"content\":\"an \\\"error\\\" and \\\"error\\\": x\"}}]}\n\ndata: [DONE]\n\n",
			[]string{`{"choices":[{"delta":{"content":"an \"error\" and \"error\": x"}}]}`}, "eof"},
		{"finish_reason error without error member is data", "data: {\"choices\":[{\"finish_reason\":\"error\"}],\"error\":null}\n\ndata: [DONE]\n\n",
			[]string{`{"choices":[{"finish_reason":"error"}],"error":null}`}, "eof"},
		{"error event mid-stream", "data: {\"a\":1}\n\ndata: {\"error\":{\"message\":\"boom\",\"type\":\"server_error\",\"param\":null,\"code\":null}}\n\ndata: [DONE]\n\n", []string{`{"a":1}`}, "error"},
	}
	readers := []struct {
		name string
		wrap func(io.Reader) io.Reader
	}{
		{"whole", func(r io.Reader) io.Reader { return r }},
		{"one byte", iotest.OneByteReader},
		{"half", iotest.HalfReader},
		{"data with EOF", iotest.DataErrReader},
	}
	for _, tt := range tests {
		for _, rd := range readers {
			if len(tt.in) > 1<<20 && rd.name == "one byte" {
				continue // same code path as "half", 3 MiB one byte at a time only costs time
			}
			t.Run(tt.name+"/"+rd.name, func(t *testing.T) {
				s := streamOf(rd.wrap(strings.NewReader(tt.in)))
				defer s.Close()
				got, err := drainStream(t, s)
				if len(got) != len(tt.want) {
					t.Fatalf("got %d payloads %.200q, want %d %.200q", len(got), got, len(tt.want), tt.want)
				}
				for i := range got {
					if got[i] != tt.want[i] {
						t.Errorf("payload %d = %.200q, want %.200q", i, got[i], tt.want[i])
					}
				}
				if k := endKind(err); k != tt.end {
					t.Errorf("ended with %v (%s), want %s", err, k, tt.end)
				}
				// The end is sticky.
				if _, err2 := s.Next(); endKind(err2) != endKind(err) {
					t.Errorf("second Next after end = %v, want %v", err2, err)
				}
			})
		}
	}
}

func TestStreamErrorEvents(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		status int
		msg    string
		typ    string
		code   string
	}{
		{"openai envelope", `data: {"error":{"message":"The server had an error","type":"server_error","param":null,"code":null}}` + "\n\n",
			500, "The server had an error", "server_error", ""},
		{"numeric code is the status", `data: {"error":{"message":"Rate limited upstream","code":429}}` + "\n\n",
			429, "Rate limited upstream", "", "429"},
		{"rate limit type", `data: {"error":{"message":"slow down","type":"rate_limit_error"}}` + "\n\n",
			429, "slow down", "rate_limit_error", ""},
		{"context length code", `data: {"error":{"message":"too long","type":"invalid_request_error","code":"context_length_exceeded"}}` + "\n\n",
			400, "too long", "invalid_request_error", "context_length_exceeded"},
		{"error as text", `data: {"error":"model crashed"}` + "\n\n", 500, "model crashed", "", ""},
		{"openrouter chunk with error beside choices",
			`data: {"id":"gen-1","object":"chat.completion.chunk","created":1,"model":"m","provider":"x","error":{"code":"server_error","message":"Provider disconnected"},"choices":[{"index":0,"delta":{"content":""},"finish_reason":"error"}]}` + "\n\n",
			500, "Provider disconnected", "", "server_error"},
		{"event error with envelope", "event: error\ndata: {\"error\":{\"message\":\"overloaded\",\"type\":\"overloaded_error\"}}\n\n",
			529, "overloaded", "overloaded_error", ""},
		{"event error with flat object", "event: error\ndata: {\"message\":\"bad things\",\"type\":\"BadRequestError\",\"code\":400}\n\n",
			400, "bad things", "BadRequestError", "400"},
		{"event error with text", "event: error\ndata: upstream exploded\n\n", 500, "upstream exploded", "", ""},
		{"error after some chunks", "data: {\"a\":1}\n\ndata: {\"error\":{\"message\":\"late\",\"code\":\"503\"}}\n\n", 503, "late", "", "503"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := streamOf(strings.NewReader(tt.in))
			defer s.Close()
			_, err := drainStream(t, s)
			var pe *provider.Error
			if !errors.As(err, &pe) {
				t.Fatalf("err = %v, want *provider.Error", err)
			}
			if pe.Status != tt.status || pe.Message != tt.msg || pe.Type != tt.typ || pe.Code != tt.code || pe.Transport {
				t.Errorf("got %+v, want status %d msg %q type %q code %q", pe, tt.status, tt.msg, tt.typ, tt.code)
			}
		})
	}
}

func TestStreamReadError(t *testing.T) {
	broken := errors.New("connection reset by peer")
	s := streamOf(io.MultiReader(strings.NewReader("data: {\"a\":1}\n\ndata: {\"a\""), iotest.ErrReader(broken)))
	got, err := drainStream(t, s)
	if len(got) != 1 {
		t.Fatalf("payloads = %q, want one", got)
	}
	var pe *provider.Error
	if !errors.As(err, &pe) || !pe.Transport || pe.Status != http.StatusBadGateway || !errors.Is(err, broken) {
		t.Fatalf("err = %#v, want a 502 transport error wrapping the read error", err)
	}
}

func TestStreamEventTooLarge(t *testing.T) {
	t.Run("one line", func(t *testing.T) {
		s := streamOf(io.MultiReader(strings.NewReader("data: "), endless('a')))
		_, err := s.Next()
		var pe *provider.Error
		if !errors.As(err, &pe) || pe.Status != http.StatusBadGateway || pe.Transport {
			t.Fatalf("err = %v, want a 502 non-transport error", err)
		}
	})
	t.Run("many lines", func(t *testing.T) {
		line := "data: " + strings.Repeat("b", 1<<20) + "\n"
		s := streamOf(io.MultiReader(repeatReader(line, 70)...))
		_, err := s.Next()
		var pe *provider.Error
		if !errors.As(err, &pe) || pe.Status != http.StatusBadGateway {
			t.Fatalf("err = %v, want a 502 error", err)
		}
	})
}

func endless(c byte) io.Reader { return &byteReader{c} }

type byteReader struct{ c byte }

func (b *byteReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = b.c
	}
	return len(p), nil
}

func repeatReader(s string, n int) []io.Reader {
	rs := make([]io.Reader, n)
	for i := range rs {
		rs[i] = strings.NewReader(s)
	}
	return rs
}

func TestStreamGoldenTranscripts(t *testing.T) {
	for _, name := range []string{"stream_text", "stream_tool_calls"} {
		t.Run(name, func(t *testing.T) {
			in, err := os.ReadFile("testdata/" + name + ".sse")
			if err != nil {
				t.Fatal(err)
			}
			want := goldenLines(t, "testdata/"+name+".golden")
			for _, crlf := range []bool{false, true} {
				src := in
				if crlf {
					src = bytes.ReplaceAll(in, []byte("\n"), []byte("\r\n"))
				}
				s := streamOf(iotest.HalfReader(bytes.NewReader(src)))
				got, err := drainStream(t, s)
				if err != io.EOF {
					t.Fatalf("crlf=%v: end = %v, want io.EOF", crlf, err)
				}
				if strings.Join(got, "\n") != strings.Join(want, "\n") {
					t.Errorf("crlf=%v: payloads differ from golden:\n got %q\nwant %q", crlf, got, want)
				}
				s.Close()
			}
		})
	}
}

func goldenLines(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
}

func TestStreamClose(t *testing.T) {
	t.Run("idempotent", func(t *testing.T) {
		closes := 0
		ctx, cancel := context.WithCancelCause(context.Background())
		s := newStream(ctx, cancel, closeCounter{strings.NewReader("data: [DONE]\n\n"), &closes}, nil, 0)
		if _, err := s.Next(); err != io.EOF {
			t.Fatalf("Next = %v", err)
		}
		for range 3 {
			if err := s.Close(); err != nil {
				t.Fatalf("Close = %v", err)
			}
		}
		if closes != 1 {
			t.Errorf("body closed %d times, want 1", closes)
		}
		if ctx.Err() == nil {
			t.Error("Close did not release the context")
		}
	})
	t.Run("next after close", func(t *testing.T) {
		s := streamOf(strings.NewReader("data: {\"a\":1}\n\n"))
		s.Close()
		if _, err := s.Next(); !errors.Is(err, errStreamClosed) {
			t.Errorf("Next after Close = %v, want errStreamClosed", err)
		}
		if n := s.Buffered(); n != 0 {
			t.Errorf("Buffered after Close = %d", n)
		}
	})
	t.Run("buffer reused only when free", func(t *testing.T) {
		// A closed stream's read buffer goes back to the pool; the next stream may get it, and
		// neither the closed stream nor the new one may see the other's bytes.
		a := streamOf(strings.NewReader("data: {\"a\":1}\n\ndata: {\"a\":2}\n\n"))
		if p, err := a.Next(); err != nil || string(p) != `{"a":1}` {
			t.Fatalf("a.Next = %q, %v", p, err)
		}
		a.Close()
		b := streamOf(strings.NewReader("data: {\"b\":1}\n\ndata: [DONE]\n\n"))
		if _, err := a.Next(); !errors.Is(err, errStreamClosed) {
			t.Errorf("a.Next after Close = %v", err)
		}
		got, err := drainStream(t, b)
		if err != io.EOF || strings.Join(got, " ") != `{"b":1}` {
			t.Errorf("b = %q, %v", got, err)
		}
		b.Close()

		// Close while a Next is blocked in a read: the reader stays with the stream.
		pr, pw := io.Pipe()
		c := streamOf(pr)
		done := make(chan error, 1)
		go func() { _, err := c.Next(); done <- err }()
		_, _ = pw.Write([]byte(": waiting\n"))
		c.Close()
		pw.CloseWithError(errors.New("gone"))
		if err := <-done; err == nil {
			t.Error("blocked Next returned no error after Close")
		}
		if c.r == nil {
			t.Error("the buffer of a stream closed mid-read went back to the pool")
		}
	})
}

type closeCounter struct {
	io.Reader
	n *int
}

func (c closeCounter) Close() error { *c.n++; return nil }

// BenchmarkStreamNext measures the SSE reader alone on a typical text-delta chunk; allocs/op must
// stay at 0 once the buffers have grown.
func BenchmarkStreamNext(b *testing.B) {
	in, err := os.ReadFile("testdata/stream_text.sse")
	if err != nil {
		b.Fatal(err)
	}
	event := bytes.SplitAfter(in, []byte("\n\n"))[3] // a content delta of ~250 bytes
	s := streamOf(&loopReader{event: event})
	b.SetBytes(int64(len(event)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := s.Next(); err != nil {
			b.Fatal(err)
		}
	}
}

// loopReader repeats one event forever, in reads of up to 4 KiB like a socket would give.
type loopReader struct {
	event []byte
	off   int
}

func (l *loopReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) && n < 4096 {
		c := copy(p[n:], l.event[l.off:])
		n += c
		l.off = (l.off + c) % len(l.event)
	}
	return n, nil
}
