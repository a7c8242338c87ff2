package proxy

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/clawgate/clawgate/internal/fakeupstream"
	"github.com/clawgate/clawgate/proxy/config"
)

// FuzzChat sends arbitrary bodies to /v1/chat/completions in front of the fake upstream: never a
// 500 or a panic; an error is the JSON envelope; a stream ends with [DONE].
func FuzzChat(f *testing.F) {
	up := httptest.NewServer(fakeupstream.New())
	defer up.Close()
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
	h := s.Handler()
	f.Add([]byte(`{"model":"m","messages":[{"role":"user","content":"hi"}]}`))
	f.Add([]byte(`{"model":"m","stream":true,"stream_options":{"include_usage":false,"x":1},"messages":[{"role":"user","content":"hi"}],"tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object"}}}]}`))
	f.Add([]byte(`{"model":"m","stream":true,"messages":[{"role":"tool","content":null}],"max_tokens":-1,"n":3}`))
	f.Add([]byte(`{"model":"nope","messages":[1]}`))
	f.Add([]byte(`{"model":"m","messages":[{}],"user":{"a":1}}  `))
	f.Fuzz(func(t *testing.T, body []byte) {
		req := httptest.NewRequest(http.MethodPost, "/v1/chat/completions", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+masterKey)
		req.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		out := w.Body.Bytes()
		switch {
		case w.Code == http.StatusInternalServerError:
			t.Fatalf("500 for %s: %s", body, out)
		case strings.HasPrefix(w.Header().Get("Content-Type"), "text/event-stream"):
			if !bytes.HasSuffix(out, []byte("data: [DONE]\n\n")) {
				t.Fatalf("stream for %s does not end with [DONE]: %q", body, out)
			}
		case !json.Valid(out):
			t.Fatalf("%d for %s is not JSON: %s", w.Code, body, out)
		}
	})
}
