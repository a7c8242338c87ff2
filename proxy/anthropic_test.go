package proxy

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
)

// TestAnthropicRoute sends an OpenAI streamed call to an anthropic/ deployment whose upstream
// replays a recorded Messages SSE transcript: the client gets OpenAI chunks, the usage sink the
// Anthropic usage, and the upstream an Anthropic request with x-api-key.
func TestAnthropicRoute(t *testing.T) {
	transcript, err := os.ReadFile("provider/anthropic/testdata/tool_use.sse")
	if err != nil {
		t.Fatal(err)
	}
	var gotPath, gotKey, gotBody string
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		gotPath, gotKey, gotBody = r.URL.Path, r.Header.Get("x-api-key"), string(b)
		w.Header().Set("Content-Type", "text/event-stream")
		w.Write(transcript)
	}))
	defer up.Close()
	g := newGateway(t, `
model_list:
  - model_name: claude
    litellm_params: {model: anthropic/claude-sonnet-4-5, api_base: "`+up.URL+`", api_key: sk-ant-test}
general_settings: {master_key: `+masterKey+`}
`)
	resp := g.chat(`{"model":"claude","stream":true,"tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object"}}}],"messages":[{"role":"system","content":"be brief"},{"role":"user","content":"weather in SF?"}]}`)
	cs := decodeStream(t, sseEvents(t, resp.Body))
	if gotPath != "/v1/messages" || gotKey != "sk-ant-test" || !strings.Contains(gotBody, `"system"`) || !strings.Contains(gotBody, `"input_schema"`) ||
		!strings.Contains(gotBody, `"model":"claude-sonnet-4-5"`) {
		t.Errorf("upstream got %s %q %s", gotPath, gotKey, gotBody)
	}
	if fr := finishReasons(cs); len(fr) != 1 || fr[0] != "tool_calls" {
		t.Errorf("finish reasons %v", fr)
	}
	if len(usageChunks(cs)) != 0 {
		t.Error("usage chunk shown to a client that did not ask")
	}
	recs := g.sink.all()
	if len(recs) != 1 || recs[0].PromptTokens != 472 || recs[0].CompletionTokens != 89 || recs[0].Provider != "anthropic" {
		t.Errorf("usage = %+v", recs)
	}
}

// TestGeminiRoute does the same through a gemini/ deployment and Google's SSE format.
func TestGeminiRoute(t *testing.T) {
	transcript, err := os.ReadFile("provider/gemini/testdata/tool_call.sse")
	if err != nil {
		t.Fatal(err)
	}
	var gotPath, gotKey string
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.ReadAll(r.Body)
		gotPath, gotKey = r.URL.Path+"?"+r.URL.RawQuery, r.Header.Get("x-goog-api-key")
		w.Header().Set("Content-Type", "text/event-stream")
		w.Write(transcript)
	}))
	defer up.Close()
	g := newGateway(t, `
model_list:
  - model_name: gem
    litellm_params: {model: gemini/gemini-2.5-flash, api_base: "`+up.URL+`", api_key: g-key}
general_settings: {master_key: `+masterKey+`}
`)
	resp := g.chat(`{"model":"gem","stream":true,"stream_options":{"include_usage":true},"tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}],"messages":[{"role":"user","content":"weather?"}]}`)
	cs := decodeStream(t, sseEvents(t, resp.Body))
	if gotPath != "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse" || gotKey != "g-key" {
		t.Errorf("upstream got %s key %q", gotPath, gotKey)
	}
	if fr := finishReasons(cs); len(fr) != 1 || fr[0] != "tool_calls" {
		t.Errorf("finish reasons %v", fr)
	}
	if uc := usageChunks(cs); len(uc) != 1 || uc[0].Usage.PromptTokens == 0 {
		t.Errorf("usage chunks %+v", uc)
	}
	if recs := g.sink.all(); len(recs) != 1 || recs[0].Provider != "gemini" || !recs[0].UsageKnown {
		t.Errorf("usage = %+v", recs)
	}
}

// TestCountTokensAnthropicRoute: an anthropic route's count_tokens asks Anthropic, with the
// deployment's model and key.
func TestCountTokensAnthropicRoute(t *testing.T) {
	var gotPath, gotKey, gotBody string
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		gotPath, gotKey, gotBody = r.URL.Path, r.Header.Get("x-api-key"), string(b)
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"input_tokens":2095}`))
	}))
	defer up.Close()
	g := newGateway(t, `
model_list:
  - model_name: claude
    litellm_params: {model: anthropic/claude-sonnet-4-5, api_base: "`+up.URL+`", api_key: sk-ant-test}
general_settings: {master_key: `+masterKey+`}
`)
	resp := g.do("POST", "/v1/messages/count_tokens", `{"model":"claude","messages":[{"role":"user","content":"hello"}]}`)
	b := readAll(t, resp.Body)
	if resp.StatusCode != 200 || strings.TrimSpace(string(b)) != `{"input_tokens":2095}` {
		t.Fatalf("%d %s", resp.StatusCode, b)
	}
	if gotPath != "/v1/messages/count_tokens" || gotKey != "sk-ant-test" || !strings.Contains(gotBody, `"model":"claude-sonnet-4-5"`) {
		t.Errorf("upstream got %s %q %s", gotPath, gotKey, gotBody)
	}
}
