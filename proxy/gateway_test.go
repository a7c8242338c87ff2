package proxy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/clawgate/clawgate/proxy/config"
)

const masterKey = "sk-master-test-0123456789"

// sink collects usage records.
type sink struct {
	mu   sync.Mutex
	recs []Usage
}

func (s *sink) Record(u Usage) { s.mu.Lock(); s.recs = append(s.recs, u); s.mu.Unlock() }

func (s *sink) all() []Usage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Usage(nil), s.recs...)
}

type gateway struct {
	t    *testing.T
	srv  *httptest.Server
	gw   *Server
	sink *sink
}

// newGateway starts the gateway on an httptest server with a config.yaml text; {{A}}, {{B}} are
// replaced by the upstreams' base URLs.
func newGateway(t *testing.T, yaml string, ups ...*upstream) *gateway {
	t.Helper()
	for i, u := range ups {
		yaml = strings.ReplaceAll(yaml, fmt.Sprintf("{{%c}}", 'A'+i), u.URL())
	}
	cfg, _, err := config.Parse([]byte(yaml), "config.yaml", func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	sk := &sink{}
	s, err := New(Options{Config: cfg, Usage: sk})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	hs := httptest.NewServer(s.Handler())
	t.Cleanup(hs.Close)
	return &gateway{t: t, srv: hs, gw: s, sink: sk}
}

func (g *gateway) do(method, path, body string, header ...string) *http.Response {
	g.t.Helper()
	req, err := http.NewRequest(method, g.srv.URL+path, strings.NewReader(body))
	if err != nil {
		g.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+masterKey)
	for i := 0; i+1 < len(header); i += 2 {
		if header[i+1] == "" {
			req.Header.Del(header[i])
			continue
		}
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		g.t.Fatal(err)
	}
	g.t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func (g *gateway) chat(body string, header ...string) *http.Response {
	g.t.Helper()
	return g.do("POST", "/v1/chat/completions", body, header...)
}

func readAll(t *testing.T, r io.Reader) []byte {
	t.Helper()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// errorOf decodes the error envelope and checks its shape.
func errorOf(t *testing.T, resp *http.Response) apiError {
	t.Helper()
	var env struct {
		Error *apiError `json:"error"`
	}
	b := readAll(t, resp.Body)
	if err := json.Unmarshal(b, &env); err != nil || env.Error == nil {
		t.Fatalf("not an error envelope: %s", b)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
	if env.Error.Code != fmt.Sprint(resp.StatusCode) && resp.StatusCode < 500 && env.Error.Code == "" {
		t.Errorf("code missing in %s", b)
	}
	return *env.Error
}

const oneModel = `
model_list:
  - model_name: gpt-4o-mini
    litellm_params: {model: openai/gpt-4o-mini, api_base: "{{A}}", api_key: sk-upstream}
    model_info: {id: dep-a}
general_settings: {master_key: ` + masterKey + `}
`

const simpleChat = `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}`

func TestPassThroughNonStreamed(t *testing.T) {
	up := newUpstream(t, reply{file: "chat_completion.json", header: map[string]string{"x-ratelimit-remaining-requests": "99"}})
	g := newGateway(t, oneModel, up)
	body := `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}],"temperature":0.2,"x_custom":{"keep":[1,2,{"a":null}]},"reasoning_effort":"low"}`
	resp := g.chat(body)
	got := readAll(t, resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, got)
	}
	if want := readTestdata(t, "chat_completion.json"); !bytes.Equal(got, want) {
		t.Errorf("response body changed on the way:\n got %s\nwant %s", got, want)
	}
	// The upstream got the same body, byte for byte, but for the model.
	want := strings.Replace(body, `"model":"gpt-4o-mini"`, `"model":"gpt-4o-mini"`, 1)
	if string(up.body(0)) != want {
		t.Errorf("upstream body = %s, want %s", up.body(0), want)
	}
	if a := up.headers[0].Get("Authorization"); a != "Bearer sk-upstream" {
		t.Errorf("upstream auth = %q", a)
	}
	h := resp.Header
	for k, v := range map[string]string{
		"x-litellm-model-id": "dep-a", "x-litellm-model-group": "gpt-4o-mini", "x-litellm-model-api-base": up.URL(),
		"x-litellm-attempted-retries": "0", "x-litellm-attempted-fallbacks": "0", "x-ratelimit-remaining-requests": "99",
	} {
		if h.Get(k) != v {
			t.Errorf("header %s = %q, want %q", k, h.Get(k), v)
		}
	}
	// 19 input tokens at $0.15/M + 10 output at $0.60/M = 2.85e-6 + 6e-6.
	if c := h.Get("x-litellm-response-cost"); c != "8.85e-06" {
		t.Errorf("x-litellm-response-cost = %q, want 8.85e-06", c)
	}
	for _, k := range []string{"x-litellm-call-id", "x-litellm-response-duration-ms", "x-litellm-overhead-duration-ms"} {
		if h.Get(k) == "" {
			t.Errorf("header %s missing", k)
		}
	}
	recs := g.sink.all()
	if len(recs) != 1 {
		t.Fatalf("usage records = %d, want 1", len(recs))
	}
	u := recs[0]
	if u.PromptTokens != 19 || u.CompletionTokens != 10 || !u.UsageKnown || u.RequestID != "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT" ||
		u.ModelID != "dep-a" || u.ModelGroup != "gpt-4o-mini" || u.Status != 200 || u.Stream {
		t.Errorf("usage = %+v", u)
	}
}

func TestModelRewrittenForWildcard(t *testing.T) {
	up := newUpstream(t).always(reply{file: "chat_completion.json"})
	g := newGateway(t, `
model_list:
  - model_name: "openai/*"
    litellm_params: {model: "openai/*", api_base: "{{A}}"}
  - model_name: "fast"
    litellm_params: {model: "openai/gpt-4o-mini", api_base: "{{A}}"}
general_settings: {master_key: `+masterKey+`}
`, up)
	for _, tc := range []struct{ asked, sent string }{
		{"openai/gpt-4.1", "gpt-4.1"},
		{"fast", "gpt-4o-mini"},
	} {
		n := up.calls()
		resp := g.chat(`{"messages":[{"role":"user","content":"x"}], "model" : "` + tc.asked + `", "n":1}`)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: status %d: %s", tc.asked, resp.StatusCode, readAll(t, resp.Body))
		}
		want := `{"messages":[{"role":"user","content":"x"}], "model" : "` + tc.sent + `", "n":1}`
		if got := string(up.body(n)); got != want {
			t.Errorf("%s: upstream body %s, want %s", tc.asked, got, want)
		}
		if g := resp.Header.Get("x-litellm-model-group"); g == "" {
			t.Errorf("no model group header")
		}
	}
}

// The gateway sets its headers by key directly, which only works for canonical keys.
func TestHeaderKeysCanonical(t *testing.T) {
	for _, k := range []string{hdrCallID, hdrModelID, hdrAPIBase, hdrGroup, hdrRetries, hdrFallbacks, hdrDuration, hdrOverhead, hdrCost} {
		if c := http.CanonicalHeaderKey(strings.ToLower(k)); c != k {
			t.Errorf("%q is not canonical (%q)", k, c)
		}
	}
}
