package proxy

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws/protocol/eventstream"
)

func claudeTestdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("provider/claudeapi/testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// recorder is a fake Claude upstream (Anthropic's API, Vertex AI or Bedrock) that answers with
// recorded payloads and keeps what it was sent.
type recorder struct {
	mu      sync.Mutex
	paths   []string
	bodies  [][]byte
	headers []http.Header
}

func (rc *recorder) keep(r *http.Request) []byte {
	b, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.paths, rc.bodies, rc.headers = append(rc.paths, r.URL.EscapedPath()), append(rc.bodies, b), append(rc.headers, r.Header.Clone())
	return b
}

func (rc *recorder) last() (string, []byte, http.Header) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	n := len(rc.paths) - 1
	return rc.paths[n], rc.bodies[n], rc.headers[n]
}

// bedrockStream frames a recorded Anthropic SSE transcript as InvokeModelWithResponseStream
// sends it: one chunk event per Anthropic event, its JSON base64-encoded in {"bytes":...}.
func bedrockStream(t *testing.T, transcript []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	enc := eventstream.NewEncoder()
	for _, ev := range strings.Split(strings.TrimSpace(string(transcript)), "\n\n") {
		_, data, _ := strings.Cut(ev, "data: ")
		payload, _ := json.Marshal(map[string]string{"bytes": base64.StdEncoding.EncodeToString([]byte(data))})
		msg := eventstream.Message{Payload: payload}
		msg.Headers.Set(":event-type", eventstream.StringValue("chunk"))
		msg.Headers.Set(":content-type", eventstream.StringValue("application/json"))
		msg.Headers.Set(":message-type", eventstream.StringValue("event"))
		if err := enc.Encode(&buf, msg); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

// claudeUpstream serves all three platforms from recorded payloads: Vertex's token endpoint,
// Anthropic's /v1/messages and Vertex's rawPredict (SSE or a Message), and Bedrock's invoke
// (an AWS event stream or a Message).
func claudeUpstream(t *testing.T) (*httptest.Server, *recorder) {
	t.Helper()
	transcript, message := claudeTestdata(t, "stream_cache.sse"), claudeTestdata(t, "message_cache.json")
	rc := &recorder{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/token" {
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"access_token":"ya29.vertex","expires_in":3599,"token_type":"Bearer"}`)
			return
		}
		rc.keep(r)
		p := r.URL.Path
		switch {
		case strings.HasSuffix(p, "/invoke-with-response-stream"):
			w.Header().Set("Content-Type", "application/vnd.amazon.eventstream")
			w.Write(bedrockStream(t, transcript))
		case strings.HasSuffix(p, "/invoke"), strings.HasSuffix(p, ":rawPredict"):
			w.Header().Set("Content-Type", "application/json")
			w.Write(message)
		default:
			var head struct{ Stream bool }
			_ = json.Unmarshal(rc.bodies[len(rc.bodies)-1], &head)
			if !head.Stream {
				w.Header().Set("Content-Type", "application/json")
				w.Write(message)
				return
			}
			w.Header().Set("Content-Type", "text/event-stream")
			w.Header().Set("Request-Id", "req_up")
			w.Write(transcript)
		}
	}))
	t.Cleanup(srv.Close)
	return srv, rc
}

func claudeRoutes(up string) string {
	creds := `{"type":"authorized_user","client_id":"c","client_secret":"s","refresh_token":"1//rt","token_uri":"` + up + `/token"}`
	return `
model_list:
  - model_name: claude-sonnet-4-5
    litellm_params: {model: anthropic/claude-sonnet-4-5-20250929, api_base: "` + up + `", api_key: sk-ant-dep}
  - model_name: claude-bedrock
    litellm_params: {model: bedrock/us.anthropic.claude-sonnet-4-5-20250929-v1:0, api_base: "` + up + `", aws_access_key_id: AKIDEXAMPLE, aws_secret_access_key: secret, aws_region_name: us-east-1}
  - model_name: claude-vertex
    litellm_params: {model: "vertex_ai/claude-sonnet-4-5@20250929", api_base: "` + up + `", vertex_project: p, vertex_location: global, vertex_credentials: '` + creds + `'}
general_settings: {master_key: ` + masterKey + `}
`
}

// postMessages sends a Messages body as Claude Code does (its betas and API version).
func postMessages(g *gateway, body []byte) *http.Response {
	return g.do("POST", "/v1/messages?beta=true", string(body), "anthropic-version", "2023-06-01",
		"anthropic-beta", "claude-code-20250219,interleaved-thinking-2025-05-14,context-management-2025-06-27")
}

// TestMessagesPassThrough: on Claude routes a /v1/messages call goes upstream byte for byte but
// for what each platform's envelope changes (the model, and on Bedrock and Vertex the version and
// betas in the body), with the client's anthropic-* headers; the answer comes back as the upstream
// wrote it; and the usage, cache reads and writes included, is metered from it.
func TestMessagesPassThrough(t *testing.T) {
	up, rc := claudeUpstream(t)
	g := newGateway(t, claudeRoutes(up.URL))
	in := claudeTestdata(t, "claude_code_request.json")
	transcript, message := claudeTestdata(t, "stream_cache.sse"), claudeTestdata(t, "message_cache.json")
	nonStream := bytes.Replace(in, []byte(`"stream": true`), []byte(`"stream": false`), 1)
	members := func(b []byte) map[string]json.RawMessage {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("%v: %s", err, b)
		}
		return m
	}
	tests := []struct {
		name, model string
		stream      bool
		path        string
		// check looks at the body the upstream got, given the one the client sent.
		check func(t *testing.T, sent, got []byte, h http.Header)
	}{
		{"anthropic stream", "claude-sonnet-4-5", true, "/v1/messages", func(t *testing.T, sent, got []byte, h http.Header) {
			if want := bytes.Replace(sent, []byte(`"model": "claude-sonnet-4-5"`), []byte(`"model": "claude-sonnet-4-5-20250929"`), 1); !bytes.Equal(got, want) {
				t.Errorf("body differs beyond the model:\n%s", got)
			}
			if h.Get("X-Api-Key") != "sk-ant-dep" || h.Get("Anthropic-Version") != "2023-06-01" ||
				h.Get("Anthropic-Beta") != "claude-code-20250219,interleaved-thinking-2025-05-14,context-management-2025-06-27" || h.Get("Authorization") != "" {
				t.Errorf("headers %v", h)
			}
		}},
		{"anthropic", "claude-sonnet-4-5", false, "/v1/messages", func(t *testing.T, sent, got []byte, h http.Header) {
			if want := bytes.Replace(sent, []byte(`"model": "claude-sonnet-4-5"`), []byte(`"model": "claude-sonnet-4-5-20250929"`), 1); !bytes.Equal(got, want) {
				t.Errorf("body differs beyond the model:\n%s", got)
			}
		}},
		{"bedrock stream", "claude-bedrock", true, "/model/us.anthropic.claude-sonnet-4-5-20250929-v1%3A0/invoke-with-response-stream", func(t *testing.T, sent, got []byte, h http.Header) {
			m, o := members(got), members(sent)
			if string(m["anthropic_version"]) != `"bedrock-2023-05-31"` || m["model"] != nil || m["stream"] != nil ||
				string(m["anthropic_beta"]) != `["claude-code-20250219","interleaved-thinking-2025-05-14","context-management-2025-06-27"]` {
				t.Errorf("envelope %s", got)
			}
			for k, v := range o {
				if k != "model" && k != "stream" && !bytes.Equal(m[k], v) {
					t.Errorf("%s changed: %s", k, m[k])
				}
			}
			if !strings.HasPrefix(h.Get("Authorization"), "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/") {
				t.Errorf("not signed: %v", h)
			}
		}},
		{"bedrock", "claude-bedrock", false, "/model/us.anthropic.claude-sonnet-4-5-20250929-v1%3A0/invoke", nil},
		{"vertex stream", "claude-vertex", true, "/v1/projects/p/locations/global/publishers/anthropic/models/claude-sonnet-4-5@20250929:streamRawPredict", func(t *testing.T, sent, got []byte, h http.Header) {
			m, o := members(got), members(sent)
			if string(m["anthropic_version"]) != `"vertex-2023-10-16"` || m["model"] != nil || string(m["stream"]) != "true" {
				t.Errorf("envelope %s", got)
			}
			for k, v := range o {
				if k != "model" && !bytes.Equal(m[k], v) {
					t.Errorf("%s changed: %s", k, m[k])
				}
			}
			if h.Get("Authorization") != "Bearer ya29.vertex" || h.Get("Anthropic-Beta") == "" {
				t.Errorf("headers %v", h)
			}
		}},
		{"vertex", "claude-vertex", false, "/v1/projects/p/locations/global/publishers/anthropic/models/claude-sonnet-4-5@20250929:rawPredict", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sent := in
			if !tt.stream {
				sent = nonStream
			}
			sent = bytes.Replace(sent, []byte(`"model": "claude-sonnet-4-5"`), []byte(`"model": "`+tt.model+`"`), 1)
			n := len(g.sink.all())
			resp := postMessages(g, sent)
			got := readAll(t, resp.Body)
			want := message
			if tt.stream {
				want = transcript
			}
			if resp.StatusCode != 200 || !bytes.Equal(got, want) {
				t.Fatalf("%d: the client got\n%s\nwant the upstream's answer as it was", resp.StatusCode, got)
			}
			path, body, h := rc.last()
			if path != tt.path {
				t.Errorf("upstream path %s, want %s", path, tt.path)
			}
			if tt.check != nil {
				tt.check(t, sent, body, h)
			}
			recs := g.sink.all()
			if len(recs) != n+1 {
				t.Fatalf("%d usage records", len(recs)-n)
			}
			u := recs[n]
			if u.PromptTokens != 12+1024+18432 || u.CompletionTokens != 42 || u.CachedTokens != 18432 || u.CacheCreationTokens != 1024 ||
				u.Status != 200 || u.CallType != "anthropic_messages" || !(u.Cost > 0) || u.ResponseID != "msg_01QC4g3HwBThD4BaNtBckFDJ" {
				t.Errorf("usage %+v", u)
			}
			if resp.Header.Get("X-Litellm-Model-Group") != tt.model || resp.Header.Get("X-Litellm-Call-Id") != u.CallID {
				t.Errorf("headers %v", resp.Header)
			}
		})
	}
}

// TestMessagesPassThroughLimits: the key's model list, retries and fallbacks hold on the
// pass-through as on chat, and refusals come in Anthropic's error shape.
func TestMessagesPassThroughLimits(t *testing.T) {
	good, _ := claudeUpstream(t)
	var failed int
	var mu sync.Mutex
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		failed++
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(529)
		io.WriteString(w, `{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`)
	}))
	defer bad.Close()
	g := newGateway(t, `
model_list:
  - model_name: claude-a
    litellm_params: {model: anthropic/claude-sonnet-4-5, api_base: "`+bad.URL+`", api_key: k}
  - model_name: claude-b
    litellm_params: {model: anthropic/claude-haiku-4-5, api_base: "`+good.URL+`", api_key: k}
  - model_name: claude-c
    litellm_params: {model: anthropic/claude-haiku-4-5, api_base: "`+bad.URL+`", api_key: k}
router_settings: {num_retries: 0, fallbacks: [{claude-a: [claude-b]}]}
general_settings: {master_key: `+masterKey+`}
`)
	resp := postMessages(g, []byte(`{"model":"claude-a","max_tokens":10,"messages":[{"role":"user","content":"hi"}]}`))
	if b := readAll(t, resp.Body); resp.StatusCode != 200 || !bytes.Equal(b, claudeTestdata(t, "message_cache.json")) || resp.Header.Get("X-Litellm-Attempted-Fallbacks") != "1" {
		t.Errorf("fallback: %d %s %v", resp.StatusCode, b, resp.Header)
	}
	resp = postMessages(g, []byte(`{"model":"claude-c","max_tokens":10,"messages":[{"role":"user","content":"hi"}]}`))
	var e struct {
		Type  string `json:"type"`
		Error struct{ Type, Message string }
	}
	if b := readAll(t, resp.Body); resp.StatusCode != 529 || json.Unmarshal(b, &e) != nil || e.Type != "error" || !strings.Contains(e.Error.Message, "Overloaded") {
		t.Errorf("upstream error: %d %s", resp.StatusCode, b)
	}
	if recs := g.sink.all(); len(recs) != 2 || recs[1].Status != 529 {
		t.Errorf("records %+v", recs)
	}
}

// TestMessagesPassThroughHangUp: a client that hangs up mid-stream is metered for the whole
// call, as the upstream reported it, not for what it read: the gateway reads on for the usage.
func TestMessagesPassThroughHangUp(t *testing.T) {
	transcript := claudeTestdata(t, "stream_cache.sse")
	for _, k := range []int{1, 2, 4} {
		up, gate, done := gatedSSE(t, transcript)
		g := newGateway(t, `
model_list:
  - model_name: claude
    litellm_params: {model: anthropic/claude-sonnet-4-5, api_base: "`+up.URL+`", api_key: k}
general_settings: {master_key: `+masterKey+`}
`)
		noticed := make(chan struct{})
		g.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			context.AfterFunc(r.Context(), func() { close(noticed) })
			g.gw.Handler().ServeHTTP(w, r)
		}))
		t.Cleanup(g.srv.Close)
		resp := postMessages(g, []byte(`{"model":"claude","stream":true,"max_tokens":100,"messages":[{"role":"user","content":"hi"}]}`))
		br := bufio.NewReader(resp.Body)
		for i := range k { // each upstream event is one client event here: release one per event read
			if i > 0 {
				gate <- struct{}{}
			}
			if line, err := br.ReadString('\n'); err != nil || !strings.HasPrefix(line, "event: ") {
				t.Fatalf("event %d: %q %v", i, line, err)
			}
			br.ReadString('\n')
			br.ReadString('\n')
		}
		resp.Body.Close()
		<-noticed
	release:
		for {
			select {
			case gate <- struct{}{}:
			case <-done:
				break release
			}
		}
		u := waitRecord(t, g)
		if u.Status != 499 || u.PromptTokens != 12+1024+18432 || u.CompletionTokens != 42 || u.CachedTokens != 18432 || !(u.Cost > 0) ||
			!strings.Contains(u.Error, "read to its end") {
			t.Errorf("hung up after %d events: %+v", k, u)
		}
	}
}

// TestMessagesPassThroughBudget: the pass-through reserves before the call, settles with the
// Messages usage, and a spent budget refuses it, in Anthropic's error shape, without calling out.
func TestMessagesPassThroughBudget(t *testing.T) {
	up, rc := claudeUpstream(t)
	gate := &fakeGate{}
	g := newGatewayWith(t, claudeRoutes(up.URL), Options{Gate: gate})
	body := []byte(`{"model":"claude-sonnet-4-5","max_tokens":1000,"messages":[{"role":"user","content":"hi"}]}`)
	if resp := postMessages(g, body); resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, readAll(t, resp.Body))
	}
	gate.mu.Lock()
	if len(gate.expected) != 1 || !(gate.expected[0] > 0) || len(gate.repriced) != 1 {
		t.Errorf("reserved %v, repriced %v", gate.expected, gate.repriced)
	}
	if len(gate.settled) != 1 || gate.settled[0].PromptTokens != 12+1024+18432 || gate.settled[0].CacheCreationTokens != 1024 || !(gate.settled[0].Cost > 0) {
		t.Errorf("settled %+v", gate.settled)
	}
	gate.refuse = true
	gate.mu.Unlock()
	resp := postMessages(g, body)
	var e struct {
		Type  string `json:"type"`
		Error struct{ Type, Message string }
	}
	if b := readAll(t, resp.Body); resp.StatusCode != 429 || json.Unmarshal(b, &e) != nil || e.Type != "error" || e.Error.Message == "" {
		t.Errorf("refusal: %d %s", resp.StatusCode, b)
	}
	if n := len(rc.paths); n != 1 {
		t.Errorf("a refused call reached the upstream (%d calls)", n)
	}
}

// TestMessagesPassThroughUpstreamErrorEvent: Anthropic's own error event mid-stream reaches the
// client as it was sent, and the usage record says the call broke.
func TestMessagesPassThroughUpstreamErrorEvent(t *testing.T) {
	transcript := claudeTestdata(t, "stream_error_midstream.sse")
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "text/event-stream")
		w.Write(transcript)
	}))
	defer up.Close()
	g := newGateway(t, `
model_list:
  - model_name: claude
    litellm_params: {model: anthropic/claude-sonnet-4-5, api_base: "`+up.URL+`", api_key: k}
general_settings: {master_key: `+masterKey+`}
`)
	resp := postMessages(g, []byte(`{"model":"claude","stream":true,"max_tokens":10,"messages":[{"role":"user","content":"hi"}]}`))
	if b := readAll(t, resp.Body); !bytes.Equal(b, transcript) {
		t.Errorf("the client got\n%s", b)
	}
	if u := waitRecord(t, g); !strings.Contains(u.Error, "overloaded") || u.Status != 200 {
		t.Errorf("usage %+v", u)
	}
}
