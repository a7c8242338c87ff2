package wire

import (
	"encoding/json"
	"testing"
)

func TestChunks(t *testing.T) {
	var c Chunks
	c.Head = []byte(`{"id":"x"`)
	c.Delta(`{"content":`, json.RawMessage(`"hi"`), `}`)
	c.ArgsDelta(1, []byte(`"{}"`))
	c.Finish("stop")
	c.Usage(map[string]int{"total_tokens": 3})
	want := []string{
		`{"id":"x","choices":[{"index":0,"delta":{"content":"hi"},"finish_reason":null}]}`,
		`{"id":"x","choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"function":{"arguments":"{}"}}]},"finish_reason":null}]}`,
		`{"id":"x","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}`,
		`{"id":"x","choices":[],"usage":{"total_tokens":3}}`,
	}
	pending := 0
	for _, w := range want {
		pending += len(w)
	}
	for i, w := range want {
		if got := c.Pending(); got != pending {
			t.Errorf("before chunk %d: Pending = %d, want %d", i, got, pending)
		}
		got, ok := c.Take()
		if !ok || string(got) != w {
			t.Errorf("chunk %d = %s (%v), want %s", i, got, ok, w)
		}
		if !json.Valid(got) {
			t.Errorf("chunk %d is not JSON", i)
		}
		pending -= len(w)
	}
	if _, ok := c.Take(); ok || c.Pending() != 0 {
		t.Error("Take after the last chunk still gives one")
	}
	c.Reset()
	if len(c.Out) != 0 || len(c.Ends) != 0 {
		t.Error("Reset left chunks behind")
	}
}

func TestAppendString(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain", `"plain"`},
		{"a\"b\\c\n\r\t\x01<", `"a\"b\\c\n\r\t\u0001<"`},
		{"bad \xff utf8", `"bad \ufffd utf8"`},
	}
	for _, tt := range tests {
		if got := string(AppendString(nil, tt.in)); got != tt.want {
			t.Errorf("AppendString(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestToolArgs(t *testing.T) {
	tests := []struct {
		in, want string
		wantErr  bool
	}{
		{``, `{}`, false},
		{`null`, `{}`, false},
		{`""`, `{}`, false},
		{`"{\"a\": 1}"`, `{"a":1}`, false},
		{`{"a": 1}`, `{"a":1}`, false},
		{`"[1]"`, ``, true},
		{`"{nope"`, ``, true},
	}
	for _, tt := range tests {
		got, err := ToolArgs(json.RawMessage(tt.in))
		if (err != nil) != tt.wantErr || (!tt.wantErr && string(got) != tt.want) {
			t.Errorf("ToolArgs(%s) = %s, %v; want %s (error %v)", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestParseDataURL(t *testing.T) {
	tests := []struct {
		in, mt, data string
		wantErr      bool
	}{
		{"data:Image/PNG;base64,aGk=", "image/png", "aGk=", false},
		{"data:image/png,aGk=", "", "", true},
		{"data:;base64,aGk=", "", "", true},
		{"data:image/png;base64,%%%", "", "", true},
		{"https://x/y.png", "", "", true},
	}
	for _, tt := range tests {
		mt, data, err := ParseDataURL(tt.in)
		if (err != nil) != tt.wantErr || mt != tt.mt || data != tt.data {
			t.Errorf("ParseDataURL(%q) = %q, %q, %v", tt.in, mt, data, err)
		}
	}
}
