package wire

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
)

func TestParseEmbeddingInput(t *testing.T) {
	tests := []struct {
		in     string
		texts  int
		tokens int
		err    string
	}{
		{`"hello"`, 1, 0, ""},
		{`["a","b","c"]`, 3, 0, ""},
		{`[1,2,3]`, 0, 1, ""},
		{`[[1,2],[3]]`, 0, 2, ""},
		{`""`, 0, 0, "empty string"},
		{`[]`, 0, 0, "empty list"},
		{`["a",""]`, 0, 0, "input[1]"},
		{`["a",[1]]`, 0, 0, "mixes"},
		{`[[]]`, 0, 0, "input[0]"},
		{`{"a":1}`, 0, 0, "must be a string"},
		{`null`, 0, 0, "required"},
		{`[` + strings.Repeat(`"x",`, MaxEmbeddingInputs) + `"x"]`, 0, 0, "at most 2048"},
	}
	for _, tt := range tests {
		got, err := ParseEmbeddingInput(json.RawMessage(tt.in))
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%.40s: err %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || len(got.Texts) != tt.texts || len(got.Tokens) != tt.tokens {
			t.Errorf("%s: %+v %v", tt.in, got, err)
		}
	}
}

// TestConvertEmbedding: float to base64 and back gives the float32 values, and a value already
// in the asked format is returned untouched.
func TestConvertEmbedding(t *testing.T) {
	floats := json.RawMessage(`[0.0023064255,-0.009327292,1,0]`)
	b64, err := ConvertEmbedding(floats, "base64")
	if err != nil || !IsString(b64) {
		t.Fatalf("%s %v", b64, err)
	}
	// OpenAI's documented encoding: little-endian float32s; 1.0 is 0x3f800000.
	var s string
	_ = json.Unmarshal(b64, &s)
	raw, _ := base64.StdEncoding.DecodeString(s)
	if len(raw) != 16 || !bytes.Equal(raw[8:], []byte{0, 0, 0x80, 0x3f, 0, 0, 0, 0}) {
		t.Errorf("base64 %q: %x, want 1.0 and 0.0 as little-endian float32 at the end", s, raw)
	}
	back, err := ConvertEmbedding(b64, "float")
	if err != nil || string(back) != `[0.0023064255,-0.009327292,1,0]` {
		t.Errorf("back %s %v", back, err)
	}
	if same, _ := ConvertEmbedding(floats, ""); string(same) != string(floats) {
		t.Errorf("float to float changed: %s", same)
	}
	if same, _ := ConvertEmbedding(b64, "base64"); string(same) != string(b64) {
		t.Errorf("base64 to base64 changed: %s", same)
	}
	for _, bad := range []string{`"not base64!"`, `"AAA="`, `{"a":1}`} {
		if _, err := ConvertEmbedding(json.RawMessage(bad), map[bool]string{true: "float", false: "base64"}[IsString(json.RawMessage(bad))]); err == nil {
			t.Errorf("%s converted without an error", bad)
		}
	}
}
