package proxy

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestMessagesAPIOverOpenAIRoute(t *testing.T) {
	up := newUpstream(t, reply{file: "chat_completion.json"}, reply{file: "stream_tool_call.sse"}, reply{status: 400, file: "error_400.json"})
	g := newGateway(t, oneModel, up)

	resp := g.do("POST", "/v1/messages", `{"model":"gpt-4o-mini","max_tokens":100,"system":"be brief","messages":[{"role":"user","content":"hi"}]}`,
		"Authorization", "", "x-api-key", masterKey, "anthropic-version", "2023-06-01")
	var msg struct {
		Type       string `json:"type"`
		Role       string `json:"role"`
		StopReason string `json:"stop_reason"`
		Content    []struct {
			Type, Text string
		} `json:"content"`
		Usage struct {
			InputTokens  int `json:"input_tokens"`
			OutputTokens int `json:"output_tokens"`
		} `json:"usage"`
	}
	b := readAll(t, resp.Body)
	if err := json.Unmarshal(b, &msg); err != nil || resp.StatusCode != 200 || msg.Type != "message" || msg.StopReason != "end_turn" ||
		len(msg.Content) != 1 || msg.Content[0].Text != "Hello! How can I assist you today?" || msg.Usage.InputTokens != 19 || msg.Usage.OutputTokens != 10 {
		t.Fatalf("%d %s", resp.StatusCode, b)
	}
	if !strings.Contains(string(up.body(0)), `"role":"system"`) {
		t.Errorf("upstream got %s", up.body(0))
	}

	resp = g.do("POST", "/v1/messages", `{"model":"gpt-4o-mini","max_tokens":100,"stream":true,"tools":[{"name":"get_weather","input_schema":{"type":"object"}}],"messages":[{"role":"user","content":"weather?"}]}`)
	sse := string(readAll(t, resp.Body))
	for _, want := range []string{"event: message_start", `"type":"tool_use"`, `"name":"get_weather"`, `"partial_json":"{\"loc"`, `"stop_reason":"tool_use"`, `"output_tokens":17`, "event: message_stop"} {
		if !strings.Contains(sse, want) {
			t.Errorf("stream lacks %s:\n%s", want, sse)
		}
	}
	if strings.Contains(sse, "data: [DONE]") || strings.Contains(sse, "chat.completion.chunk") {
		t.Errorf("OpenAI framing leaked into the Anthropic stream:\n%s", sse)
	}

	resp = g.do("POST", "/v1/messages", `{"model":"gpt-4o-mini","max_tokens":100,"messages":[{"role":"user","content":"hi"}]}`)
	var e struct {
		Type  string `json:"type"`
		Error struct{ Type, Message string }
	}
	b = readAll(t, resp.Body)
	if json.Unmarshal(b, &e) != nil || resp.StatusCode != 400 || e.Type != "error" || e.Error.Type != "invalid_request_error" || !strings.Contains(e.Error.Message, "temperature") {
		t.Errorf("error: %d %s", resp.StatusCode, b)
	}
	recs := g.sink.all()
	if len(recs) != 3 || recs[0].CallType != "anthropic_messages" {
		t.Errorf("usage = %+v", recs)
	}

	resp = g.do("POST", "/v1/messages", `{"model":"gpt-4o-mini","messages":"nope"}`)
	if b := readAll(t, resp.Body); resp.StatusCode != 400 || !strings.Contains(string(b), `"type":"error"`) {
		t.Errorf("bad body: %d %s", resp.StatusCode, b)
	}
	resp = g.do("POST", "/v1/messages/count_tokens", `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hello there"}]}`)
	if b := readAll(t, resp.Body); resp.StatusCode != 200 || !strings.Contains(string(b), `"input_tokens"`) {
		t.Errorf("count_tokens: %d %s", resp.StatusCode, b)
	}
}

// TestMessagesAuthErrorShape: the key is checked before the body is read, and the refusal keeps
// Anthropic's error shape, which the Anthropic SDKs parse.
func TestMessagesAuthErrorShape(t *testing.T) {
	g := newGateway(t, oneModel, newUpstream(t))
	for _, path := range []string{"/v1/messages", "/v1/messages/count_tokens"} {
		resp := g.do("POST", path, `{"model":"gpt-4o-mini","max_tokens":1,"messages":[{"role":"user","content":"hi"}]}`,
			"Authorization", "", "x-api-key", "sk-wrong")
		b := readAll(t, resp.Body)
		if resp.StatusCode != 401 || !strings.HasPrefix(string(b), `{"type":"error","error":{"type":"authentication_error"`) {
			t.Errorf("%s: %d %s", path, resp.StatusCode, b)
		}
	}
}
