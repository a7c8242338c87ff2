package httpx

import (
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/clawgate/clawgate/proxy/provider"
)

func TestSSEReader(t *testing.T) {
	body := "\xEF\xBB\xBF: comment\r\nevent: a\r\ndata: 1\r\ndata:2\r\n\r\n\ndata: {\"x\"}\n\ndata: cut"
	s := NewSSEReader(strings.NewReader(body), "p: ")
	want := []struct{ event, data string }{{"a", "1\n2"}, {"", `{"x"}`}}
	for i, w := range want {
		ev, data, err := s.Next()
		if err != nil || string(ev) != w.event || string(data) != w.data {
			t.Fatalf("event %d = %q %q %v, want %q %q", i, ev, data, err, w.event, w.data)
		}
	}
	if _, _, err := s.Next(); err != io.EOF {
		t.Errorf("after a cut-off last line: %v, want io.EOF", err)
	}
}

func TestSSEReaderTooLong(t *testing.T) {
	s := NewSSEReader(io.MultiReader(strings.NewReader("data: "), strings.NewReader(strings.Repeat("x", maxEvent+1))), "p: ")
	_, _, err := s.Next()
	var pe *provider.Error
	if !errors.As(err, &pe) || !strings.HasPrefix(pe.Message, "p: ") || pe.Status != 502 {
		t.Errorf("Next = %v, want a 502 starting with the prefix", err)
	}
}
