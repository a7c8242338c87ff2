package messages

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/clawgate/clawgate/proxy/provider/anthropic"
)

// seed adds every file under testdata/dir to f's corpus.
func seed(f *testing.F, dir string, add func([]byte)) {
	paths, _ := filepath.Glob(filepath.Join("testdata", dir, "*"))
	for _, p := range paths {
		if b, err := os.ReadFile(p); err == nil {
			add(b)
		}
	}
}

// FuzzToChat sends arbitrary client bodies through /v1/messages' translation, and what it makes
// on through the anthropic provider's (the path of an anthropic route): no panic, and what comes
// out of a successful translation is JSON.
func FuzzToChat(f *testing.F) {
	seed(f, "requests", func(b []byte) { f.Add(b, false); f.Add(b, true) })
	f.Add([]byte(`{"model":"m","max_tokens":5,"messages":[{"role":"user","content":[{"type":"image","source":{"type":"base64","media_type":"image/png","data":""}}]}]}`), false)
	f.Fuzz(func(t *testing.T, body []byte, plain bool) {
		_, _ = CountTokens(body)
		chat, _, err := ToChat(body, Options{Plain: plain})
		if err != nil {
			return
		}
		if !json.Valid(chat) {
			t.Fatalf("ToChat(%s) = %s: not JSON", body, chat)
		}
		_, _ = anthropic.FromChat(chat, "claude-sonnet-4-5", 1024)
	})
}

// FuzzFromChatCompletion turns arbitrary upstream answers into Anthropic messages: no panic, and
// a successful one is JSON.
func FuzzFromChatCompletion(f *testing.F) {
	seed(f, "responses", func(b []byte) { f.Add(b) })
	f.Add([]byte(`{"choices":[{"message":{"tool_calls":[{"id":"","function":{"name":"","arguments":"{"}}]},"finish_reason":"tool_calls"}]}`))
	f.Fuzz(func(t *testing.T, resp []byte) {
		out, err := FromChatCompletion(resp, Info{Model: "m"})
		if err == nil && !json.Valid(out) {
			t.Fatalf("FromChatCompletion(%s) = %s: not JSON", resp, out)
		}
	})
}
