package proxy

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// azureUpstream checks requests as Azure OpenAI would (deployment in the path, api-version in
// the query, the key in api-key) and answers streams with a transcript in Azure's shape.
type azureUpstream struct {
	srv  *httptest.Server
	mu   sync.Mutex
	seen []string // "METHOD path?query api-key authorization", one per call
	body []byte   // the last request body
}

func newAzureUpstream(t *testing.T) *azureUpstream {
	t.Helper()
	u := &azureUpstream{}
	u.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		u.mu.Lock()
		u.seen = append(u.seen, r.Method+" "+r.URL.RequestURI()+" "+r.Header.Get("api-key")+" "+r.Header.Get("Authorization"))
		u.body = b
		u.mu.Unlock()
		if !strings.Contains(string(b), `"stream":true`) {
			w.Header().Set("Content-Type", "application/json")
			w.Write(readTestdata(t, "chat_completion.json"))
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		for _, ev := range strings.SplitAfter(string(readTestdataDir(t, "azure", "stream_usage.sse")), "\n\n") {
			io.WriteString(w, ev)
			w.(http.Flusher).Flush()
		}
	}))
	t.Cleanup(u.srv.Close)
	return u
}

func TestAzureRoute(t *testing.T) {
	up := newAzureUpstream(t)
	g := newGateway(t, `
model_list:
  - model_name: gpt-4o
    litellm_params: {model: azure/prod-chat, api_base: "`+up.srv.URL+`/", api_key: az-key}
    model_info: {base_model: azure/gpt-4o}
  - model_name: gpt-4o-v1
    litellm_params: {model: azure/prod-chat, api_base: "`+up.srv.URL+`/openai/v1", api_key: az-key}
  - model_name: gpt-4o-aad
    litellm_params: {model: azure/prod-chat, api_base: "`+up.srv.URL+`", api_version: 2025-04-01-preview, azure_ad_token: aad-token}
general_settings: {master_key: `+masterKey+`}
`)
	resp := g.chat(`{"model":"gpt-4o","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hi"}]}`)
	cs := decodeStream(t, sseEvents(t, resp.Body))
	if got := up.seen[0]; got != "POST /openai/deployments/prod-chat/chat/completions?api-version=2024-10-21 az-key " {
		t.Errorf("upstream saw %q", got)
	}
	var sent struct {
		Model         string `json:"model"`
		StreamOptions struct {
			IncludeUsage bool `json:"include_usage"`
		} `json:"stream_options"`
	}
	if err := json.Unmarshal(up.body, &sent); err != nil || sent.Model != "prod-chat" || !sent.StreamOptions.IncludeUsage {
		t.Errorf("upstream body %s", up.body)
	}
	// Azure's opening chunk (no choices, no usage, empty id) is not passed on; the rest are.
	var text strings.Builder
	for _, c := range cs {
		if c.ID != "chatcmpl-AzUre1" {
			t.Errorf("chunk with id %q", c.ID)
		}
		for _, ch := range c.Choices {
			if ch.Delta.Content != nil {
				text.WriteString(*ch.Delta.Content)
			}
		}
	}
	if text.String() != "Hello there" || len(cs) != 5 {
		t.Errorf("text %q in %d chunks, want 5", text.String(), len(cs))
	}
	if fr := finishReasons(cs); len(fr) != 1 || fr[0] != "stop" {
		t.Errorf("finish reasons %v", fr)
	}
	if uc := usageChunks(cs); len(uc) != 1 || uc[0].Usage.PromptTokens != 9 || uc[0].Usage.CompletionTokens != 2 {
		t.Errorf("usage chunks %+v", uc)
	}
	recs := g.sink.all()
	if len(recs) != 1 || recs[0].ResponseID != "chatcmpl-AzUre1" || recs[0].Model != "prod-chat" || recs[0].Cost <= 0 {
		t.Fatalf("usage record %+v", recs)
	}

	// Clients mirroring the routes (OpenClaw's model list) see the priced model.
	if r := g.gw.Routes()[0]; r.Provider != "azure" || r.Model != "gpt-4o" {
		t.Errorf("route %+v, want azure gpt-4o (model_info.base_model)", r)
	}

	// Azure's v1 API: no deployment in the path, no api-version.
	g.chat(`{"model":"gpt-4o-v1","messages":[{"role":"user","content":"hi"}]}`).Body.Close()
	// An Entra ID (AAD) token instead of a key, and the deployment's own api-version.
	g.chat(`{"model":"gpt-4o-aad","messages":[{"role":"user","content":"hi"}]}`).Body.Close()
	want := []string{
		"POST /openai/v1/chat/completions az-key ",
		"POST /openai/deployments/prod-chat/chat/completions?api-version=2025-04-01-preview  Bearer aad-token",
	}
	for i, w := range want {
		if got := up.seen[i+1]; got != w {
			t.Errorf("call %d: upstream saw %q, want %q", i+2, got, w)
		}
	}
}

func TestAzureWithoutAPIBase(t *testing.T) {
	t.Setenv("AZURE_API_BASE", "")
	g := newGateway(t, `
model_list:
  - model_name: gpt-4o
    litellm_params: {model: azure/prod-chat, api_key: az-key}
general_settings: {master_key: `+masterKey+`}
`)
	resp := g.chat(`{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}`)
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusInternalServerError || !strings.Contains(string(b), "AZURE_API_BASE") {
		t.Errorf("status %d: %s", resp.StatusCode, b)
	}
}
