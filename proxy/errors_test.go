package proxy

import (
	"net/http"
	"strings"
	"testing"
)

func TestBadInput(t *testing.T) {
	up := newUpstream(t).always(reply{file: "chat_completion.json"})
	g := newGateway(t, strings.Replace(oneModel, "{master_key: ", "{max_request_size_mb: 0.001, master_key: ", 1), up)
	big := `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"` + strings.Repeat("x", 2000) + `"}]}`
	for _, tc := range []struct {
		name, body string
		status     int
		typ, msg   string
	}{
		{"malformed JSON", `{"model":"gpt-4o-mini","messages":[`, 400, typeInvalidRequest, "invalid JSON"},
		{"not an object", `["x"]`, 400, typeInvalidRequest, "expected a JSON object"},
		{"trailing junk", simpleChat + `{}`, 400, typeInvalidRequest, "after the top-level object"},
		{"empty body", ``, 400, typeInvalidRequest, "invalid JSON"},
		{"missing model", `{"messages":[{"role":"user","content":"hi"}]}`, 400, typeInvalidRequest, "model is required"},
		{"model not a string", `{"model":4,"messages":[{"role":"user","content":"hi"}]}`, 400, typeInvalidRequest, "model must be a string"},
		{"missing messages", `{"model":"gpt-4o-mini"}`, 400, typeInvalidRequest, "messages is required"},
		{"empty messages", `{"model":"gpt-4o-mini","messages":[]}`, 400, typeInvalidRequest, "messages is required"},
		{"unknown model", `{"model":"gpt-9","messages":[{"role":"user","content":"hi"}]}`, 400, typeInvalidRequest, "model=gpt-9. Call `/v1/models` to view available models for your key. Available models: gpt-4o-mini"},
		{"body over the limit", big, 413, typeInvalidRequest, "too large"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := g.chat(tc.body)
			e := errorOf(t, resp)
			if resp.StatusCode != tc.status || e.Type != tc.typ || !strings.Contains(e.Message, tc.msg) {
				t.Errorf("got %d %+v, want %d %s %q", resp.StatusCode, e, tc.status, tc.typ, tc.msg)
			}
			// The gateway keeps serving.
			if ok := g.chat(simpleChat); ok.StatusCode != 200 {
				t.Fatalf("gateway stopped serving after %s: %d", tc.name, ok.StatusCode)
			}
		})
	}
	if n := up.calls(); n != 10 {
		t.Errorf("upstream calls = %d, want only the 10 good ones", n)
	}
}

func TestAuth(t *testing.T) {
	up := newUpstream(t).always(reply{file: "chat_completion.json"})
	g := newGateway(t, oneModel, up)
	for _, tc := range []struct {
		name   string
		header []string
		status int
	}{
		{"bearer", []string{"Authorization", "Bearer " + masterKey}, 200},
		{"bearer lower case", []string{"Authorization", "bearer " + masterKey}, 200},
		{"x-litellm-api-key", []string{"Authorization", "", "x-litellm-api-key", masterKey}, 200},
		{"api-key", []string{"Authorization", "", "api-key", masterKey}, 200},
		{"x-api-key", []string{"Authorization", "", "x-api-key", masterKey}, 200},
		{"x-goog-api-key", []string{"Authorization", "", "x-goog-api-key", masterKey}, 200},
		{"no key", []string{"Authorization", ""}, 401},
		{"wrong key", []string{"Authorization", "Bearer sk-wrong-key-SECRETVALUE"}, 401},
		{"prefix of the key", []string{"Authorization", "Bearer " + masterKey[:10]}, 401},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := g.chat(simpleChat, tc.header...)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.status)
			}
			if tc.status != 401 {
				return
			}
			e := errorOf(t, resp)
			if e.Type != typeAuth || e.Code != "401" {
				t.Errorf("error = %+v", e)
			}
			if strings.Contains(e.Message, "SECRETVALUE") || strings.Contains(e.Message, HashKey("sk-wrong-key-SECRETVALUE")) {
				t.Errorf("the error echoes the key or its hash: %q", e.Message)
			}
		})
	}
	for _, path := range []string{"/v1/models", "/model/info"} {
		if resp := g.do("GET", path, "", "Authorization", ""); resp.StatusCode != 401 {
			t.Errorf("%s without a key: %d", path, resp.StatusCode)
		}
	}
	if resp := g.do("GET", "/health/liveliness", "", "Authorization", ""); resp.StatusCode != 200 {
		t.Errorf("liveliness must need no key: %d", resp.StatusCode)
	}
}

func TestNoMasterKeyMeansAuthOff(t *testing.T) {
	up := newUpstream(t).always(reply{file: "chat_completion.json"})
	g := newGateway(t, strings.Replace(oneModel, "general_settings: {master_key: "+masterKey+"}", "", 1), up)
	if resp := g.chat(simpleChat, "Authorization", "Bearer anything-openclaw-sends"); resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if g.gw.HasMasterKey() {
		t.Error("HasMasterKey with none configured")
	}
}

func TestUpstreamErrorsPassThrough(t *testing.T) {
	for _, tc := range []struct {
		name       string
		file       string
		status     int
		wantCalls  int
		wantType   string
		wantMsg    string
		retryAfter string
	}{
		{"400 is not retried", "error_400.json", 400, 1, "invalid_request_error", "Invalid value for 'temperature'", ""},
		{"429 retried then reported", "error_429.json", 429, 4, "requests", "Rate limit reached", "2"},
		{"500 retried then reported", "error_500.json", 500, 4, "server_error", "The server had an error", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			up := newUpstream(t).always(reply{status: tc.status, file: tc.file, header: map[string]string{"retry-after": "2"}})
			g := newGateway(t, oneModel+"router_settings: {num_retries: 3, allowed_fails: 100}\n", up)
			resp := g.chat(simpleChat)
			e := errorOf(t, resp)
			if resp.StatusCode != tc.status || e.Type != tc.wantType || !strings.Contains(e.Message, tc.wantMsg) {
				t.Errorf("got %d %+v", resp.StatusCode, e)
			}
			if up.calls() != tc.wantCalls {
				t.Errorf("upstream calls = %d, want %d", up.calls(), tc.wantCalls)
			}
			if got := resp.Header.Get("Retry-After"); got != tc.retryAfter {
				t.Errorf("retry-after = %q, want %q", got, tc.retryAfter)
			}
			if strings.Contains(e.Message, "sk-upstream") {
				t.Error("upstream key leaked")
			}
			recs := g.sink.all()
			if len(recs) != 1 || recs[0].Status != tc.status || recs[0].Error == "" {
				t.Errorf("usage = %+v", recs)
			}
		})
	}
}

func TestRetriesThenSuccess(t *testing.T) {
	up := newUpstream(t,
		reply{status: 500, file: "error_500.json"},
		reply{status: 429, file: "error_429.json"},
		reply{file: "chat_completion.json"})
	g := newGateway(t, oneModel+"router_settings: {num_retries: 3, allowed_fails: 100}\n", up)
	resp := g.chat(simpleChat)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, readAll(t, resp.Body))
	}
	if got := resp.Header.Get("x-litellm-attempted-retries"); got != "2" {
		t.Errorf("attempted retries = %q, want 2", got)
	}
}

func TestStreamRetriedBeforeFirstByte(t *testing.T) {
	up := newUpstream(t, reply{status: 503, file: "error_500.json"}, reply{file: "stream_usage.sse"})
	g := newGateway(t, oneModel+"router_settings: {num_retries: 1, allowed_fails: 100}\n", up)
	resp := g.chat(`{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"hi"}]}`)
	if resp.StatusCode != 200 || resp.Header.Get("x-litellm-attempted-retries") != "1" {
		t.Fatalf("status %d retries %q", resp.StatusCode, resp.Header.Get("x-litellm-attempted-retries"))
	}
	cs := decodeStream(t, sseEvents(t, resp.Body))
	if fr := finishReasons(cs); len(fr) != 1 || fr[0] != "stop" {
		t.Errorf("finish reasons %v", fr)
	}
}

const twoGroups = `
model_list:
  - model_name: primary
    litellm_params: {model: openai/gpt-4o, api_base: "{{A}}"}
    model_info: {id: dep-primary}
  - model_name: backup
    litellm_params: {model: openai/gpt-4o-mini, api_base: "{{B}}"}
    model_info: {id: dep-backup}
router_settings:
  num_retries: 1
  allowed_fails: 1
  cooldown_time: 60
  fallbacks: [{"primary": ["backup"]}]
general_settings: {master_key: ` + masterKey + `}
`

func TestFallbackAndCooldown(t *testing.T) {
	bad := newUpstream(t).always(reply{status: 500, file: "error_500.json"})
	good := newUpstream(t).always(reply{file: "chat_completion.json"})
	g := newGateway(t, twoGroups, bad, good)
	body := `{"model":"primary","messages":[{"role":"user","content":"hi"}]}`

	resp := g.chat(body)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, readAll(t, resp.Body))
	}
	h := resp.Header
	if h.Get("x-litellm-model-group") != "backup" || h.Get("x-litellm-attempted-fallbacks") != "1" || h.Get("x-litellm-model-id") != "dep-backup" {
		t.Errorf("headers: group %q fallbacks %q id %q", h.Get("x-litellm-model-group"), h.Get("x-litellm-attempted-fallbacks"), h.Get("x-litellm-model-id"))
	}
	if bad.calls() != 2 || good.calls() != 1 {
		t.Errorf("calls: primary %d (want 1+1 retry), backup %d", bad.calls(), good.calls())
	}
	if string(good.body(0)) != strings.Replace(body, `"primary"`, `"gpt-4o-mini"`, 1) {
		t.Errorf("fallback body = %s", good.body(0))
	}
	// primary has failed twice (> allowed_fails 1): it is cooling down, so the next request goes
	// straight to the fallback.
	resp = g.chat(body)
	if resp.StatusCode != 200 || bad.calls() != 2 || good.calls() != 2 {
		t.Errorf("during cooldown: status %d, primary calls %d, backup calls %d", resp.StatusCode, bad.calls(), good.calls())
	}
	// Without a fallback, a group that is all cooling down answers 429 with retry-after.
	resp = g.chat(`{"model":"primary","messages":[{"role":"user","content":"hi"}]}`)
	_ = resp
}

func TestAllCoolingDownIs429(t *testing.T) {
	bad := newUpstream(t).always(reply{status: 500, file: "error_500.json"})
	g := newGateway(t, oneModel+"router_settings: {num_retries: 0, allowed_fails: 0, cooldown_time: 30}\n", bad)
	if resp := g.chat(simpleChat); resp.StatusCode != 500 {
		t.Fatalf("first call: %d", resp.StatusCode)
	}
	resp := g.chat(simpleChat)
	e := errorOf(t, resp)
	if resp.StatusCode != http.StatusTooManyRequests || e.Type != typeRateLimit || !strings.Contains(e.Message, "cooling down") {
		t.Errorf("got %d %+v", resp.StatusCode, e)
	}
	if ra := resp.Header.Get("Retry-After"); ra == "" || ra == "0" {
		t.Errorf("retry-after = %q", ra)
	}
	if bad.calls() != 1 {
		t.Errorf("upstream called during cooldown: %d", bad.calls())
	}
}

func TestUpstreamDown(t *testing.T) {
	up := newUpstream(t)
	up.srv.Close() // connection refused
	g := newGateway(t, oneModel+"router_settings: {num_retries: 1}\n", up)
	resp := g.chat(simpleChat)
	e := errorOf(t, resp)
	if resp.StatusCode != http.StatusBadGateway || e.Message == "" {
		t.Errorf("got %d %+v", resp.StatusCode, e)
	}
	if resp.Header.Get("x-litellm-attempted-retries") != "1" {
		t.Errorf("connection errors must be retried")
	}
}

func TestUnsupportedProviderFallsBack(t *testing.T) {
	good := newUpstream(t).always(reply{file: "chat_completion.json"})
	g := newGateway(t, `
model_list:
  - model_name: claude
    litellm_params: {model: vertex_ai/gemini-2.5-pro}
  - model_name: mini
    litellm_params: {model: openai/gpt-4o-mini, api_base: "{{A}}"}
router_settings: {num_retries: 0, fallbacks: [{claude: [mini]}]}
`, good)
	resp := g.chat(`{"model":"claude","messages":[{"role":"user","content":"hi"}]}`)
	if resp.StatusCode != 200 || resp.Header.Get("x-litellm-model-group") != "mini" {
		t.Errorf("status %d group %q", resp.StatusCode, resp.Header.Get("x-litellm-model-group"))
	}
}

func TestBedrockWithoutRegionFailsItsCallsOnly(t *testing.T) {
	t.Setenv("AWS_REGION", "")
	t.Setenv("AWS_DEFAULT_REGION", "")
	t.Setenv("AWS_CONFIG_FILE", "/nonexistent")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
	good := newUpstream(t).always(reply{file: "chat_completion.json"})
	g := newGateway(t, `
model_list:
  - model_name: br
    litellm_params: {model: bedrock/anthropic.claude-3-haiku-20240307-v1:0}
  - model_name: mini
    litellm_params: {model: openai/gpt-4o-mini, api_base: "{{A}}"}
router_settings: {num_retries: 0}
`, good)
	resp := g.chat(`{"model":"br","messages":[{"role":"user","content":"hi"}]}`)
	if e := errorOf(t, resp); resp.StatusCode != 500 || !strings.Contains(e.Message, "bedrock deployment") {
		t.Errorf("got %d %+v", resp.StatusCode, e)
	}
	if resp := g.chat(`{"model":"mini","messages":[{"role":"user","content":"hi"}]}`); resp.StatusCode != 200 {
		t.Errorf("the other routes must keep working: %d", resp.StatusCode)
	}
}
