package messages

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/clawgate/clawgate/internal/fuzzgen"
	"github.com/clawgate/clawgate/internal/fuzzstat"
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

// FuzzToChat sends client bodies through /v1/messages' translation, and what it makes on through
// the anthropic provider's (the path of an anthropic route): no panic, and what comes out of a
// successful translation is JSON. fuzzgen.MessagesBody writes the body from the fuzzer's bytes: fed the
// recorded requests as bytes, 98.5% of the mutants stopped at json.Unmarshal (the golden tests
// run the recorded requests themselves).
func FuzzToChat(f *testing.F) {
	for _, s := range []string{"", "\x03\x03\x01\x01\x01", "\x04\x00\x02\x01\x01\x01\x01\x03\x01\x01\x01\x01\x01", "\x05\x02\x01\x01\x00\x01\x01\x01\x03\x01\x01"} {
		f.Add([]byte(s), false)
		f.Add([]byte(s), true)
	}
	f.Fuzz(func(t *testing.T, data []byte, plain bool) {
		body := []byte(fuzzgen.New(data).MessagesBody("claude-sonnet-4-5", "m", ""))
		_, _ = CountTokens(body)
		chat, _, err := ToChat(body, Options{Plain: plain})
		if !fuzzstat.Reach(err == nil) {
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
		if fuzzstat.Reach(err == nil) && !json.Valid(out) {
			t.Fatalf("FromChatCompletion(%s) = %s: not JSON", resp, out)
		}
	})
}
