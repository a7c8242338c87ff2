package bedrock

import (
	"bytes"
	"encoding/json"
	"io"
	"strings"
	"testing"
)

// FuzzStream translates ConverseStream bodies made of well-formed frames with arbitrary event
// types and payloads (one "event\tpayload" per line: random bytes would only fail the CRCs): no
// panic, no endless loop, and every chunk handed to the client is JSON.
func FuzzStream(f *testing.F) {
	f.Add("messageStart\t{\"role\":\"assistant\"}\ncontentBlockDelta\t{\"delta\":{\"text\":\"hi\"},\"contentBlockIndex\":0}\n" +
		"contentBlockStop\t{\"contentBlockIndex\":0}\nmessageStop\t{\"stopReason\":\"end_turn\"}\nmetadata\t{\"usage\":{\"inputTokens\":1,\"outputTokens\":2,\"totalTokens\":3}}")
	f.Add("contentBlockStart\t{\"start\":{\"toolUse\":{\"toolUseId\":\"t\",\"name\":\"f\"}},\"contentBlockIndex\":3}\n" +
		"contentBlockDelta\t{\"delta\":{\"toolUse\":{\"input\":\"{\\\"a\\\"\"}},\"contentBlockIndex\":3}\nmessageStop\t{\"stopReason\":\"tool_use\"}")
	f.Add("contentBlockDelta\t{\"delta\":{\"reasoningContent\":{\"text\":\"x\",\"signature\":\"s\"}},\"contentBlockIndex\":0}\nmetadata\tnull")
	f.Fuzz(func(t *testing.T, script string) {
		var specs []frameSpec
		for _, line := range strings.Split(script, "\n") {
			ev, payload, _ := strings.Cut(line, "\t")
			if ev == "" || len(ev) > 64 {
				continue
			}
			specs = append(specs, frameSpec{Event: ev, Raw: &payload})
		}
		body := encodeFrames(t, specs)
		s := NewStream(io.NopCloser(bytes.NewReader(body)), "anthropic.claude-sonnet-4-5-20250929-v1:0")
		defer s.Close()
		for range 100000 {
			_ = s.Buffered()
			p, err := s.Next()
			if err != nil {
				return
			}
			if !json.Valid(p) {
				t.Fatalf("chunk %s from %q is not JSON", p, script)
			}
		}
		t.Fatalf("no end after 100000 chunks from %q", script)
	})
}
