package openai

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"testing/iotest"
)

// FuzzStream feeds arbitrary bodies to the SSE reader, whole and a byte at a time, with the read
// buffers going back to the pool between runs: it must never panic or loop, every event it hands
// out must be non-empty, the two feeds must agree, and a closed stream must stay closed.
func FuzzStream(f *testing.F) {
	f.Add([]byte("data: {\"a\":1}\n\ndata: [DONE]\n\n"))
	f.Add([]byte("\xEF\xBB\xBFdata:{}\r\n\r\n: keepalive\n\nevent: error\ndata: {\"error\":{\"message\":\"x\"}}\n\n"))
	f.Add([]byte("data: a\ndata: b\n\ndata: [DONE]"))
	f.Add([]byte("id: 1\nretry: 5\ndata: {\"error\":\"quota\"}\n\n"))
	f.Fuzz(func(t *testing.T, body []byte) {
		read := func(r io.Reader) ([]string, error) {
			s := streamOf(r)
			defer s.Close()
			var got []string
			for range 10000 {
				p, err := s.Next()
				if err != nil {
					return got, err
				}
				if len(p) == 0 {
					t.Fatalf("empty event from %q", body)
				}
				got = append(got, string(p))
			}
			t.Fatalf("no end after 10000 events from %q", body)
			return nil, nil
		}
		whole, err1 := read(bytes.NewReader(body))
		bytewise, err2 := read(iotest.OneByteReader(bytes.NewReader(body)))
		if len(whole) != len(bytewise) || (err1 == io.EOF) != (err2 == io.EOF) {
			t.Fatalf("whole %q (%v), byte by byte %q (%v), from %q", whole, err1, bytewise, err2, body)
		}
		for i := range whole {
			if whole[i] != bytewise[i] {
				t.Fatalf("event %d: %q vs %q", i, whole[i], bytewise[i])
			}
		}
		s := streamOf(bytes.NewReader(body))
		s.Close()
		if _, err := s.Next(); !errors.Is(err, errStreamClosed) {
			t.Fatalf("Next after Close: %v", err)
		}
	})
}
