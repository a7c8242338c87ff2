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

// TestVertexRoute sends a streamed call to a vertex_ai/ Gemini deployment: the gateway trades the
// credentials for a token at their token_uri once, and calls Vertex's URL with it.
func TestVertexRoute(t *testing.T) {
	transcript, err := os.ReadFile("provider/gemini/testdata/tool_call.sse")
	if err != nil {
		t.Fatal(err)
	}
	var tokens atomic.Int32
	var gotPath, gotAuth string
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
		io.ReadAll(r.Body)
		gotPath, gotAuth = r.URL.Path+"?"+r.URL.RawQuery, r.Header.Get("Authorization")
		w.Header().Set("Content-Type", "text/event-stream")
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
    litellm_params: {model: vertex_ai/claude-sonnet-4-5, vertex_project: p, vertex_credentials: '`+creds+`'}
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

	for model, want := range map[string]string{
		"claude-vertex": "501 vertex_ai/ for models other than Gemini",
		"no-project":    "500 vertex_project",
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
