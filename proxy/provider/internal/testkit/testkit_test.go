package testkit

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/clawgate/clawgate/proxy/provider"
)

// stream yields its payloads, then end.
type stream struct {
	payloads []string
	end      error
}

func (s *stream) Next() ([]byte, error) {
	if len(s.payloads) == 0 {
		return nil, s.end
	}
	p := s.payloads[0]
	s.payloads = s.payloads[1:]
	return []byte(p), nil
}

func (s *stream) Close() error { return nil }

func TestDrain(t *testing.T) {
	broke := &provider.Error{Status: 502, Transport: true, Err: io.ErrUnexpectedEOF}
	got, err := Drain(t, &stream{payloads: []string{`{"a":1}`, `{"b":2}`}, end: broke})
	if !slices.Equal(got, []string{`{"a":1}`, `{"b":2}`}) || err != broke {
		t.Errorf("Drain = %q, %v", got, err)
	}
}

// EndKind tells a clean end from a broken stream and from an upstream's error event.
func TestEndKind(t *testing.T) {
	for _, c := range []struct {
		err  error
		want string
	}{
		{io.EOF, "eof"},
		{nil, "nil"},
		{&provider.Error{Status: 502, Transport: true, Err: io.ErrUnexpectedEOF}, "unexpected"},
		{fmt.Errorf("relay: %w", &provider.Error{Status: 502, Transport: true, Err: io.ErrUnexpectedEOF}), "unexpected"},
		// Not a transport break: an error the upstream sent, or one with another status.
		{&provider.Error{Status: 502, Err: io.ErrUnexpectedEOF, Type: "api_error"}, "error api_error"},
		{&provider.Error{Status: 504, Transport: true, Err: io.ErrUnexpectedEOF, Type: "timeout"}, "error timeout"},
		{&provider.Error{Status: 529, Type: "overloaded_error"}, "error overloaded_error"},
		{errors.New("boom"), "other: boom"},
		{fmt.Errorf("wrapped: %w", io.EOF), "other: wrapped: EOF"}, // EOF must come bare, as Stream promises
	} {
		if got := EndKind(c.err); got != c.want {
			t.Errorf("EndKind(%v) = %q, want %q", c.err, got, c.want)
		}
	}
}

// Golden writes the file with update set, and then a comparison with the same bytes passes.
func TestGoldenUpdateThenCompare(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.json")
	got := Indent(t, []byte(`{"b":[1,2],"a":"x"}`))
	if want := "{\n  \"b\": [\n    1,\n    2\n  ],\n  \"a\": \"x\"\n}\n"; string(got) != want {
		t.Fatalf("Indent = %q, want %q", got, want)
	}
	Golden(t, path, got, true)
	if b := ReadFile(t, path); string(b) != string(got) {
		t.Fatalf("update wrote %q", b)
	}
	Golden(t, path, got, false)
}

func TestNames(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"b.sse", "a.sse", "a.json", "c.sse.txt"} {
		if err := os.WriteFile(filepath.Join(dir, f), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if got := Names(t, dir, ".sse"); !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("Names = %q, want [a b]", got)
	}
}
