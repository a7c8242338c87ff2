package proxy

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// responsesUpstream serves the Responses API from recordings, keeping what it was sent.
type responsesUpstream struct {
	srv    *httptest.Server
	mu     sync.Mutex
	paths  []string
	bodies [][]byte
}

func newResponsesUpstream(t *testing.T) *responsesUpstream {
	u := &responsesUpstream{}
	u.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		u.mu.Lock()
		u.paths, u.bodies = append(u.paths, r.URL.Path), append(u.bodies, b)
		u.mu.Unlock()
		switch r.Method {
		case http.MethodGet:
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write(readTestdata(t, "responses.json"))
			return
		case http.MethodDelete:
			_, _ = w.Write([]byte(`{"id":"` + strings.TrimPrefix(r.URL.Path[strings.LastIndex(r.URL.Path, "/"):], "/") + `","object":"response","deleted":true}`))
			return
		}
		if bytes.Contains(b, []byte(`"stream":true`)) {
			w.Header().Set("Content-Type", "text/event-stream")
			_, _ = w.Write(readTestdata(t, "responses_stream.sse"))
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(readTestdata(t, "responses.json"))
	}))
	t.Cleanup(u.srv.Close)
	return u
}

const nativeRoutes = `
model_list:
  - model_name: fast
    litellm_params: {model: openai/gpt-4.1, api_base: "{{UP}}/v1", api_key: sk-upstream}
  - model_name: az
    litellm_params: {model: azure/prod-dep, api_base: "{{UP}}", api_key: sk-upstream}
    model_info: {base_model: azure/gpt-4o}
general_settings: {master_key: ` + masterKey + `}
`

// TestResponsesPassThrough: on OpenAI and Azure routes the body goes to the deployment's
// /responses endpoint with only the model changed (a built-in tool included), the answer comes
// back as sent, byte for byte, and the call is metered from the Responses usage shape.
func TestResponsesPassThrough(t *testing.T) {
	for _, tt := range []struct{ route, path, model string }{
		{"fast", "/v1/responses", "gpt-4.1"},
		{"az", "/openai/v1/responses", "prod-dep"},
	} {
		t.Run(tt.route, func(t *testing.T) {
			up := newResponsesUpstream(t)
			g := newGateway(t, strings.ReplaceAll(nativeRoutes, "{{UP}}", up.srv.URL))
			sent := `{"model":"` + tt.route + `","input":"hi","tools":[{"type":"web_search_preview"}],"include":["reasoning.encrypted_content"]}`
			resp := g.do("POST", "/v1/responses", sent)
			got := readAll(t, resp.Body)
			if resp.StatusCode != 200 || !bytes.Equal(got, readTestdata(t, "responses.json")) {
				t.Fatalf("status %d, body not the upstream's: %s", resp.StatusCode, got)
			}
			want := strings.Replace(sent, `"model":"`+tt.route+`"`, `"model":"`+tt.model+`"`, 1)
			if up.paths[0] != tt.path || string(up.bodies[0]) != want {
				t.Errorf("upstream got %s %s, want %s %s", up.paths[0], up.bodies[0], tt.path, want)
			}
			recs := g.sink.all()
			if len(recs) != 1 {
				t.Fatalf("%d usage records", len(recs))
			}
			r := recs[0]
			if r.CallType != "aresponses" || r.PromptTokens != 36 || r.CompletionTokens != 87 || r.CachedTokens != 12 || r.ReasoningTokens != 20 ||
				r.ResponseID != "resp_67ccd2bed1ec8190b14f964abc0542670bb6a6b452d3795b" || r.Model != tt.model || string(r.RequestBody) != sent {
				t.Errorf("usage record: %+v", r)
			}

			// OpenAI keeps it: GET and DELETE go to the deployment that made it, for its key only.
			const id = "resp_67ccd2bed1ec8190b14f964abc0542670bb6a6b452d3795b"
			if resp := g.do("GET", "/v1/responses/"+id, ""); resp.StatusCode != 200 || !bytes.Equal(readAll(t, resp.Body), readTestdata(t, "responses.json")) {
				t.Errorf("GET of a kept response: %d", resp.StatusCode)
			}
			if resp := g.do("DELETE", "/v1/responses/"+id, ""); resp.StatusCode != 200 || !strings.Contains(string(readAll(t, resp.Body)), `"deleted":true`) {
				t.Errorf("DELETE of a kept response: %d", resp.StatusCode)
			}
			if got := strings.Join(up.paths[1:3], " "); got != tt.path+"/"+id+" "+tt.path+"/"+id {
				t.Errorf("GET and DELETE reached %s", got)
			}
			if resp := g.do("GET", "/v1/responses/"+id, ""); resp.StatusCode != 404 {
				t.Errorf("GET after DELETE: %d", resp.StatusCode)
			}
			up.paths, up.bodies = up.paths[:1], up.bodies[:1]

			resp = g.do("POST", "/responses", `{"model":"`+tt.route+`","input":"hi","stream":true}`)
			got = readAll(t, resp.Body)
			if resp.StatusCode != 200 || !bytes.Equal(got, readTestdata(t, "responses_stream.sse")) {
				t.Errorf("stream not relayed as sent (status %d):\n%s", resp.StatusCode, got)
			}
			if strings.Contains(string(up.bodies[1]), "stream_options") {
				t.Errorf("stream_options added to a Responses body: %s", up.bodies[1])
			}
			recs = g.sink.all()
			if r := recs[len(recs)-1]; len(recs) != 2 || r.PromptTokens != 37 || r.CompletionTokens != 11 || !r.Stream || r.Error != "" ||
				r.ResponseID != "resp_67c9fdcecf488190bdd9a0409de3a1ec07b8b0ad4e5eb654" {
				t.Errorf("stream usage record: %+v", r)
			}
		})
	}
}

// TestResponsesPassThroughRefusals: a key's model list and the budget gate hold on the
// pass-through as on chat, before anything reaches the upstream.
func TestResponsesPassThroughRefusals(t *testing.T) {
	const scoped = "sk-scoped-0123456789"
	up := newResponsesUpstream(t)
	gate := &fakeGate{refuse: true}
	g := newGatewayWith(t, strings.ReplaceAll(nativeRoutes, "{{UP}}", up.srv.URL), Options{Gate: gate, Keys: modelListKeys{key: scoped, models: []string{"az"}}})
	resp := g.do("POST", "/v1/responses", `{"model":"fast","input":"hi"}`, "Authorization", "Bearer "+scoped)
	if e := errorOf(t, resp); resp.StatusCode != 403 || e.Type != typeModelDenied {
		t.Errorf("key model limit: %d %+v", resp.StatusCode, e)
	}
	resp = g.do("POST", "/v1/responses", `{"model":"fast","input":"hi","stream":true}`)
	if e := errorOf(t, resp); resp.StatusCode != 429 || e.Type != "budget_exceeded" {
		t.Errorf("budget: %d %+v", resp.StatusCode, e)
	}
	if len(up.paths) != 0 {
		t.Errorf("refused requests reached the upstream: %v", up.paths)
	}
}

// TestResponsesPassThroughHangUp: a client that leaves a passed-through stream is metered from
// the usage in the stream's last event, as on chat.
func TestResponsesPassThroughHangUp(t *testing.T) {
	transcript := readTestdata(t, "responses_stream.sse")
	events := bytes.Count(transcript, []byte("\ndata: "))
	for _, k := range []int{0, 1, 4, 8, events} {
		rec := hangUpResponses(t, nativeRoutes, "fast", transcript, k, true)
		// A client that read the terminal event got the whole answer, even if it left before the
		// upstream's body ended: a success, not a cut stream.
		if k == events && (rec.Status != http.StatusOK || rec.Error != "") {
			t.Errorf("client left after the last event: status %d, error %q", rec.Status, rec.Error)
		}
		if rec.PromptTokens != 37 || rec.CompletionTokens != 11 || rec.CallType != "aresponses" {
			t.Errorf("hung up after %d events: metered %d+%d tokens (%s)", k, rec.PromptTokens, rec.CompletionTokens, rec.Error)
		}
	}
}

// TestResponsesPassThroughFallback: a pass-through whose OpenAI deployment fails may fall back
// to another OpenAI route, but not to a route that cannot take a Responses body: that attempt is
// refused with a 400 that says why, and never reaches that route's upstream.
func TestResponsesPassThroughFallback(t *testing.T) {
	failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = w.Write([]byte(`{"error":{"message":"boom","type":"server_error"}}`))
	}))
	t.Cleanup(failing.Close)
	good := newResponsesUpstream(t)
	chat := newUpstream(t).always(reply{file: "chat_completion.json"})
	yaml := `
model_list:
  - model_name: fast
    litellm_params: {model: openai/gpt-4.1, api_base: "` + failing.URL + `/v1", api_key: k}
  - model_name: backup
    litellm_params: {model: openai/gpt-4.1-mini, api_base: "` + good.srv.URL + `/v1", api_key: k}
  - model_name: local
    litellm_params: {model: hosted_vllm/llama, api_base: "{{A}}"}
router_settings:
  num_retries: 0
  fallbacks: [{"fast": ["backup"]}]
general_settings: {master_key: ` + masterKey + `}
`
	g := newGateway(t, yaml, chat)
	resp := g.do("POST", "/v1/responses", `{"model":"fast","input":"hi"}`)
	if body := readAll(t, resp.Body); resp.StatusCode != 200 || len(good.paths) != 1 || good.paths[0] != "/v1/responses" {
		t.Fatalf("fallback to another OpenAI route: %d %s, upstream saw %v", resp.StatusCode, body, good.paths)
	}

	g = newGateway(t, strings.Replace(yaml, `{"fast": ["backup"]}`, `{"fast": ["local"]}`, 1), chat)
	resp = g.do("POST", "/v1/responses", `{"model":"fast","input":"hi"}`)
	e := errorOf(t, resp)
	if resp.StatusCode != 400 || !strings.Contains(e.Message, "cannot serve a Responses API request") {
		t.Errorf("fallback to a chat-only route: %d %+v", resp.StatusCode, e)
	}
	if chat.calls() != 0 {
		t.Errorf("the chat-only route was sent a Responses body")
	}
}
