package anthropic

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// FuzzStream translates arbitrary upstream bodies as Anthropic event streams: no panic, no endless
// loop, and every chunk handed to the client is JSON.
func FuzzStream(f *testing.F) {
	paths, _ := filepath.Glob(filepath.Join("testdata", "*.sse"))
	for _, p := range paths {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":7,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"{\"}}\n\n"))
	f.Fuzz(func(t *testing.T, body []byte) {
		s := NewStream(io.NopCloser(bytes.NewReader(body)), "claude-sonnet-4-5")
		defer s.Close()
		for range 100000 {
			p, err := s.Next()
			if err != nil {
				return
			}
			if !json.Valid(p) {
				t.Fatalf("chunk %s from %q is not JSON", p, body)
			}
		}
		t.Fatalf("no end after 100000 chunks from %q", body)
	})
}
