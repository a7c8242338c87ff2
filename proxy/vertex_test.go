package proxy

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
)

// TestVertexRoute sends streamed calls to vertex_ai/ Gemini and Claude deployments: the gateway
// trades the credentials for a token at their token_uri once, and calls Vertex's URLs with it.
func TestVertexRoute(t *testing.T) {
	transcript, err := os.ReadFile("provider/gemini/testdata/tool_call.sse")
	if err != nil {
		t.Fatal(err)
	}
	claude, err := os.ReadFile("provider/anthropic/testdata/tool_use.sse")
	if err != nil {
		t.Fatal(err)
	}
	var tokens atomic.Int32
	var gotPath, gotAuth, gotBody string
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/token" {
			r.ParseForm()
			if r.PostForm.Get("grant_type") != "refresh_token" || r.PostForm.Get("refresh_token") != "1//rt" {
				http.Error(w, `{"error":"invalid_grant"}`, 400)
				return
			}
			tokens.Add(1)
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"access_token":"ya29.vertex","expires_in":3599,"token_type":"Bearer"}`)
			return
		}
		b, _ := io.ReadAll(r.Body)
		gotPath, gotAuth, gotBody = r.URL.Path+"?"+r.URL.RawQuery, r.Header.Get("Authorization"), string(b)
		w.Header().Set("Content-Type", "text/event-stream")
		if strings.HasSuffix(r.URL.Path, "/endpoints/openapi/chat/completions") {
			w.Header().Set("Content-Type", "application/json")
			w.Write(readTestdata(t, "chat_completion.json"))
			return
		}
		if strings.Contains(r.URL.Path, "/publishers/anthropic/") {
			w.Write(claude)
			return
		}
		w.Write(transcript)
	}))
	defer up.Close()
	t.Setenv("VERTEXAI_PROJECT", "") // the no-project route must find none
	t.Setenv("GOOGLE_CLOUD_PROJECT", "")
	creds := `{"type":"authorized_user","client_id":"c","client_secret":"s","refresh_token":"1//rt","token_uri":"` + up.URL + `/token"}`
	g := newGateway(t, `
model_list:
  - model_name: gem
    litellm_params:
      model: vertex_ai/gemini-2.5-flash
      api_base: "`+up.URL+`"
      vertex_project: my-proj
      vertex_location: europe-west4
      vertex_credentials: '`+creds+`'
  - model_name: claude-vertex
    litellm_params: {model: "vertex_ai/claude-sonnet-4-5@20250929", api_base: "`+up.URL+`", vertex_project: p, vertex_location: global, vertex_credentials: '`+creds+`'}
  - model_name: llama-vertex
    litellm_params: {model: vertex_ai/meta/llama-4-maverick-17b-128e-instruct-maas, api_base: "`+up.URL+`", vertex_project: p, vertex_credentials: '`+creds+`'}
  - model_name: bison
    litellm_params: {model: vertex_ai/text-bison, vertex_project: p, vertex_credentials: '`+creds+`'}
  - model_name: bad-creds
    litellm_params: {model: vertex_ai/gemini-2.5-flash, api_base: "`+up.URL+`", vertex_project: p, vertex_credentials: '`+strings.Replace(creds, "1//rt", "1//revoked", 1)+`'}
  - model_name: no-project
    litellm_params: {model: vertex_ai/gemini-2.5-flash, vertex_credentials: '`+creds+`'}
general_settings: {master_key: `+masterKey+`}
`)
	for range 2 {
		resp := g.chat(`{"model":"gem","stream":true,"stream_options":{"include_usage":true},"tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}],"messages":[{"role":"user","content":"weather?"}]}`)
		cs := decodeStream(t, sseEvents(t, resp.Body))
		if fr := finishReasons(cs); len(fr) != 1 || fr[0] != "tool_calls" {
			t.Errorf("finish reasons %v", fr)
		}
	}
	if want := "/v1/projects/my-proj/locations/europe-west4/publishers/google/models/gemini-2.5-flash:streamGenerateContent?alt=sse"; gotPath != want || gotAuth != "Bearer ya29.vertex" {
		t.Errorf("upstream got %s, auth %q", gotPath, gotAuth)
	}
	if n := tokens.Load(); n != 1 {
		t.Errorf("%d token requests for two calls, want 1 (cached)", n)
	}
	if recs := g.sink.all(); len(recs) != 2 || recs[0].Provider != "vertex_ai" || !recs[0].UsageKnown {
		t.Errorf("usage records %+v", recs)
	}

	// Claude on Vertex: Anthropic's format at :streamRawPredict, the version in the body, no model.
	resp := g.chat(`{"model":"claude-vertex","stream":true,"stream_options":{"include_usage":true},"tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object"}}}],"messages":[{"role":"user","content":"weather in SF?"}]}`)
	cs := decodeStream(t, sseEvents(t, resp.Body))
	if want := "/v1/projects/p/locations/global/publishers/anthropic/models/claude-sonnet-4-5@20250929:streamRawPredict?"; gotPath != want || gotAuth != "Bearer ya29.vertex" ||
		!strings.Contains(gotBody, `"anthropic_version":"vertex-2023-10-16"`) || strings.Contains(gotBody, `"model"`) {
		t.Errorf("upstream got %s, auth %q, body %s", gotPath, gotAuth, gotBody)
	}
	if fr := finishReasons(cs); len(fr) != 1 || fr[0] != "tool_calls" {
		t.Errorf("claude finish reasons %v", fr)
	}
	if recs := g.sink.all(); len(recs) != 3 || recs[2].Provider != "vertex_ai" || recs[2].Cost <= 0 {
		t.Errorf("claude usage %+v", recs[len(recs)-1])
	}

	// A partner model (Llama): Vertex's OpenAI-compatible endpoint, the publisher's id as the model.
	resp = g.chat(`{"model":"llama-vertex","messages":[{"role":"user","content":"hi"}]}`)
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if want := "/v1/projects/p/locations/us-central1/endpoints/openapi/chat/completions?"; resp.StatusCode != 200 || gotPath != want ||
		gotAuth != "Bearer ya29.vertex" || !strings.Contains(gotBody, `"model":"meta/llama-4-maverick-17b-128e-instruct-maas"`) {
		t.Errorf("llama: %d, upstream got %s, auth %q, body %s", resp.StatusCode, gotPath, gotAuth, gotBody)
	}

	for model, want := range map[string]string{
		"bison":      "501 vertex_ai/text-bison",
		"no-project": "500 vertex_project",
		"bad-creds":  "401 getting an access token: token endpoint",
	} {
		resp := g.chat(`{"model":"` + model + `","messages":[{"role":"user","content":"hi"}]}`)
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		status, text, _ := strings.Cut(want, " ")
		if resp.Status[:3] != status || !strings.Contains(string(b), text) {
			t.Errorf("%s: %s %s", model, resp.Status, b)
		}
	}
}
