package proxy

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestMessagesTranslatedClaudeCode: Claude Code's request on an OpenAI route is served, where its
// mid-conversation system message was a 400 and its max_tokens of 32,000 was refused upstream:
// the system message keeps its place, and max_tokens is lowered to gpt-4o's 16,384 and said so.
func TestMessagesTranslatedClaudeCode(t *testing.T) {
	up := newUpstream(t).always(reply{file: "stream_usage.sse"})
	g := newGateway(t, `
model_list:
  - model_name: claude-sonnet-4-5
    litellm_params: {model: openai/gpt-4o, api_base: "{{A}}", api_key: sk-up}
general_settings: {master_key: `+masterKey+`}
`, up)
	resp := postMessages(g, claudeTestdata(t, "claude_code_request.json"))
	b := readAll(t, resp.Body)
	if resp.StatusCode != 200 || !bytes.Contains(b, []byte("event: message_stop")) {
		t.Fatalf("%d %s", resp.StatusCode, b)
	}
	if got := resp.Header.Get("X-Clawgate-Max-Tokens-Lowered"); got != "32000->16384" {
		t.Errorf("lowered header %q", got)
	}
	var sent struct {
		MaxTokens int `json:"max_tokens"`
		Messages  []struct {
			Role    string          `json:"role"`
			Content json.RawMessage `json:"content"`
		} `json:"messages"`
	}
	if err := json.Unmarshal(up.body(0), &sent); err != nil {
		t.Fatal(err)
	}
	var roles []string
	for _, m := range sent.Messages {
		roles = append(roles, m.Role)
	}
	if sent.MaxTokens != 16384 || strings.Join(roles, ",") != "system,user,assistant,tool,system" ||
		!bytes.Contains(sent.Messages[4].Content, []byte("Plan mode is off")) {
		t.Errorf("upstream got max_tokens %d, roles %v: %s", sent.MaxTokens, roles, up.body(0))
	}
	if recs := g.sink.all(); len(recs) != 1 || !recs[0].UsageKnown || recs[0].CallType != "anthropic_messages" {
		t.Errorf("usage %+v", recs)
	}
}

// TestCountTokensFallsBack: count_tokens is never a 404. Routes without a counting upstream get
// the local estimate; so does a Claude route whose upstream cannot count (404, 5xx); an answer
// about the request itself (400) stands. Each estimate says so in a header.
func TestCountTokensFallsBack(t *testing.T) {
	status := 404
	var gotBeta string
	ant := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.ReadAll(r.Body)
		gotBeta = r.Header.Get("Anthropic-Beta")
		w.Header().Set("Content-Type", "application/json")
		if status == 200 {
			io.WriteString(w, `{"input_tokens":2095}`)
			return
		}
		w.WriteHeader(status)
		io.WriteString(w, `{"type":"error","error":{"type":"invalid_request_error","message":"messages.0: bad"}}`)
	}))
	defer ant.Close()
	up := newUpstream(t)
	g := newGateway(t, `
model_list:
  - model_name: gpt
    litellm_params: {model: openai/gpt-4o, api_base: "{{A}}", api_key: k}
  - model_name: claude
    litellm_params: {model: anthropic/claude-sonnet-4-5, api_base: "`+ant.URL+`", api_key: k}
general_settings: {master_key: `+masterKey+`}
`, up)
	count := func(model string) (int, string, string) {
		resp := g.do("POST", "/v1/messages/count_tokens?beta=true", `{"model":"`+model+`","messages":[{"role":"user","content":"hello there, count me"},{"role":"system","content":"a reminder"}]}`,
			"anthropic-beta", "token-counting-2024-11-01")
		return resp.StatusCode, strings.TrimSpace(string(readAll(t, resp.Body))), resp.Header.Get("X-Clawgate-Token-Count")
	}
	for _, tc := range []struct {
		model    string
		upstream int
		status   int
		how      string
	}{
		{"gpt", 0, 200, "estimate"},
		{"claude", 404, 200, "estimate"},
		{"claude", 503, 200, "estimate"},
		{"claude", 200, 200, ""},
		{"claude", 400, 400, ""},
	} {
		status = tc.upstream
		code, body, how := count(tc.model)
		if code != tc.status || how != tc.how {
			t.Errorf("%s with upstream %d: %d %s (%q)", tc.model, tc.upstream, code, body, how)
		}
		if tc.how == "estimate" && !strings.HasPrefix(body, `{"input_tokens":`) {
			t.Errorf("estimate %s", body)
		}
		if tc.upstream == 200 && body != `{"input_tokens":2095}` {
			t.Errorf("upstream count not passed on: %s", body)
		}
	}
	if gotBeta != "token-counting-2024-11-01" {
		t.Errorf("count_tokens upstream got anthropic-beta %q", gotBeta)
	}
	if up.calls() != 0 {
		t.Errorf("the OpenAI upstream was asked to count")
	}
}
