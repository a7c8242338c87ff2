package proxy

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/clawgate/clawgate/internal/fakeupstream"
	"github.com/clawgate/clawgate/internal/fuzzgen"
	"github.com/clawgate/clawgate/internal/fuzzstat"
	"github.com/clawgate/clawgate/proxy/config"
)

// fuzzGateway is a gateway with one model, m, in front of the fake upstream.
func fuzzGateway(f *testing.F) http.Handler {
	up := httptest.NewServer(fakeupstream.New())
	f.Cleanup(up.Close)
	cfg, _, err := config.Parse([]byte(`
model_list:
  - model_name: m
    litellm_params: {model: openai/gpt-4o-mini, api_base: "`+up.URL+`/v1", api_key: k}
general_settings: {master_key: `+masterKey+`}
`), "config.yaml", func(string) (string, bool) { return "", false })
	if err != nil {
		f.Fatal(err)
	}
	s, err := New(Options{Config: cfg, Usage: &sink{}})
	if err != nil {
		f.Fatal(err)
	}
	return s.Handler()
}

// FuzzChat sends chat bodies to /v1/chat/completions in front of the fake upstream: never a 500
// or a panic; an error is the JSON envelope; a stream ends with [DONE]. The bodies are written
// from the fuzzer's bytes (fuzzgen.ChatBody), mostly for the model m that the gateway serves, so
// that most of them go all the way upstream and back; now and then one is cut short or garbled.
func FuzzChat(f *testing.F) {
	h := fuzzGateway(f)
	for _, s := range []string{"", "\x01\x01\x01\x01\x02\x01\x01\x01", "\x05\x01\x03\x01\x01\x07\x03\x01\x01\x01\x01\x01\x01\x01\x01\x01"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		body := []byte(fuzzgen.New(data).ChatBody("m", "m", "m", "nope"))
		w, out := post(t, h, "/v1/chat/completions", body, "Authorization", "Bearer "+masterKey)
		fuzzstat.Reach(w.Code == http.StatusOK)
		switch {
		case strings.HasPrefix(w.Header().Get("Content-Type"), "text/event-stream"):
			if !bytes.HasSuffix(out, []byte("data: [DONE]\n\n")) {
				t.Fatalf("stream for %s does not end with [DONE]: %q", body, out)
			}
		case !json.Valid(out):
			t.Fatalf("%d for %s is not JSON: %s", w.Code, body, out)
		}
	})
}

// FuzzMessagesAPI does the same through /v1/messages, Anthropic's API in front of the chat
// handler: never a 500 or a panic; errors in Anthropic's envelope; a stream ends with message_stop
// or an error event. The bodies come from fuzzgen.MessagesBody.
func FuzzMessagesAPI(f *testing.F) {
	h := fuzzGateway(f)
	for _, s := range []string{"", "\x03\x03\x01\x01\x01", "\x04\x00\x02\x01\x01\x01\x01\x03\x01\x01\x01\x01\x01"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		body := []byte(fuzzgen.New(data).MessagesBody("m", "m", "m", "nope"))
		w, out := post(t, h, "/v1/messages", body, "x-api-key", masterKey, "anthropic-version", "2023-06-01")
		fuzzstat.Reach(w.Code == http.StatusOK)
		switch {
		case strings.HasPrefix(w.Header().Get("Content-Type"), "text/event-stream"):
			if !bytes.Contains(out, []byte("event: message_stop")) && !bytes.Contains(out, []byte("event: error")) {
				t.Fatalf("stream for %s ends with neither message_stop nor an error: %q", body, out)
			}
		case !json.Valid(out):
			t.Fatalf("%d for %s is not JSON: %s", w.Code, body, out)
		}
	})
}

// post sends body to path with the header pairs given and fails on a 500.
func post(t *testing.T, h http.Handler, path string, body []byte, header ...string) (*httptest.ResponseRecorder, []byte) {
	req := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	if w.Code == http.StatusInternalServerError {
		t.Fatalf("500 for %s to %s: %s", body, path, w.Body.Bytes())
	}
	return w, w.Body.Bytes()
}
