package fakeupstream

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws/protocol/eventstream"
)

const weatherSchema = `{"type":"object","properties":{"city":{"type":"string"},"days":{"type":"integer"}},"required":["city","days"]}`

// nativeCase is one request to one native API and what must come back.
type nativeCase struct {
	name   string
	path   string
	header map[string]string
	body   string
	// wantTool is the tool name called, empty for a text answer; wantText is a substring of
	// the answer's text.
	wantTool, wantText string
}

func nativeCases() []nativeCase {
	anth := map[string]string{"x-api-key": "k", "anthropic-version": "2023-06-01"}
	goog := map[string]string{"x-goog-api-key": "k"}
	aws := map[string]string{"Authorization": "AWS4-HMAC-SHA256 Credential=AKID/20250101/us-east-1/bedrock/aws4_request, SignedHeaders=host, Signature=0"}
	anthTools := `"tools":[{"name":"get_weather","input_schema":` + weatherSchema + `}]`
	gemTools := `"tools":[{"functionDeclarations":[{"name":"get_weather","parameters":` + weatherSchema + `}]}]`
	brTools := `"toolConfig":{"tools":[{"toolSpec":{"name":"get_weather","inputSchema":{"json":` + weatherSchema + `}}}]}`
	var out []nativeCase
	for _, stream := range []bool{false, true} {
		s := "json"
		anthStream, gemPath, brOp := "", ":generateContent", "/converse"
		if stream {
			s, anthStream, gemPath, brOp = "stream", `"stream":true,`, ":streamGenerateContent?alt=sse", "/converse-stream"
		}
		out = append(out,
			nativeCase{"anthropic/tool/" + s, "/v1/messages", anth,
				`{"model":"claude-sonnet-4-5",` + anthStream + `"max_tokens":100,` + anthTools + `,"messages":[{"role":"user","content":"weather?"}]}`,
				"get_weather", ""},
			nativeCase{"anthropic/result/" + s, "/v1/messages", anth,
				`{"model":"claude-sonnet-4-5",` + anthStream + `"max_tokens":100,` + anthTools + `,"messages":[{"role":"user","content":"weather?"},{"role":"assistant","content":[{"type":"tool_use","id":"t1","name":"get_weather","input":{}}]},{"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","content":"Sunny, 21 °C"}]}]}`,
				"", "The tool returned: Sunny, 21 °C"},
			nativeCase{"anthropic/text/" + s, "/v1/messages", anth,
				`{"model":"claude-sonnet-4-5",` + anthStream + `"max_tokens":100,"messages":[{"role":"user","content":"hi"}]}`,
				"", "How can I help?"},
			nativeCase{"gemini/tool/" + s, "/v1beta/models/gemini-2.5-flash" + gemPath, goog,
				`{"contents":[{"role":"user","parts":[{"text":"weather?"}]}],` + gemTools + `}`,
				"get_weather", ""},
			nativeCase{"gemini/result/" + s, "/v1beta/models/gemini-2.5-flash" + gemPath, goog,
				`{"contents":[{"role":"user","parts":[{"text":"weather?"}]},{"role":"model","parts":[{"functionCall":{"name":"get_weather","args":{}}}]},{"role":"user","parts":[{"functionResponse":{"name":"get_weather","response":{"content":"Sunny, 21 °C"}}}]}],` + gemTools + `}`,
				"", "The tool returned: Sunny, 21 °C"},
			nativeCase{"gemini/text/" + s, "/v1beta/models/gemini-2.5-flash" + gemPath, goog,
				`{"contents":[{"role":"user","parts":[{"text":"hi"}]}]}`,
				"", "examples <not> rules."},
			nativeCase{"bedrock/tool/" + s, "/model/anthropic.claude-3-haiku-20240307-v1:0" + brOp, aws,
				`{"messages":[{"role":"user","content":[{"text":"weather?"}]}],` + brTools + `}`,
				"get_weather", ""},
			nativeCase{"bedrock/result/" + s, "/model/anthropic.claude-3-haiku-20240307-v1:0" + brOp, aws,
				`{"messages":[{"role":"user","content":[{"text":"weather?"}]},{"role":"assistant","content":[{"toolUse":{"toolUseId":"t1","name":"get_weather","input":{}}}]},{"role":"user","content":[{"toolResult":{"toolUseId":"t1","content":[{"text":"Sunny, 21 °C"}]}}]}],` + brTools + `}`,
				"", "The tool returned: Sunny, 21 °C"},
			nativeCase{"bedrock/text/" + s, "/model/anthropic.claude-3-haiku-20240307-v1:0" + brOp, aws,
				`{"messages":[{"role":"user","content":[{"text":"hi"}]}]}`,
				"", "stay intact."},
		)
	}
	return out
}

// result is an answer reduced to what the cases check.
type result struct {
	tool, text string
	args       json.RawMessage
	stop       string
}

func TestNative(t *testing.T) {
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) })
	srv := httptest.NewServer(NewNative(next))
	defer srv.Close()
	for _, tc := range nativeCases() {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, srv.URL+tc.path, strings.NewReader(tc.body))
			for k, v := range tc.header {
				req.Header.Set(k, v)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d: %s", resp.StatusCode, body)
			}
			got := decodeNative(t, tc.name, resp.Header.Get("Content-Type"), body)
			if got.tool != tc.wantTool {
				t.Fatalf("tool %q, want %q (%+v)", got.tool, tc.wantTool, got)
			}
			if tc.wantTool != "" {
				var args struct {
					City string `json:"city"`
					Days int    `json:"days"`
				}
				if err := json.Unmarshal(got.args, &args); err != nil || args.City == "" || args.Days == 0 {
					t.Fatalf("arguments %s do not fit the schema (%v)", got.args, err)
				}
			}
			if !strings.Contains(got.text, tc.wantText) {
				t.Fatalf("text %q lacks %q", got.text, tc.wantText)
			}
			wantStop := map[bool]string{true: "tool", false: "stop"}[tc.wantTool != ""]
			if got.stop != wantStop {
				t.Fatalf("stop %q, want %q", got.stop, wantStop)
			}
		})
	}
	t.Run("other paths go to next", func(t *testing.T) {
		resp, err := http.Post(srv.URL+"/v1/chat/completions", "application/json", strings.NewReader("{}"))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusTeapot {
			t.Fatalf("status %d, want next's 418", resp.StatusCode)
		}
	})
	t.Run("missing credentials", func(t *testing.T) {
		for _, path := range []string{"/v1/messages", "/v1beta/models/g:generateContent", "/model/m/converse"} {
			resp, err := http.Post(srv.URL+path, "application/json", strings.NewReader(`{"model":"m","max_tokens":1,"messages":[{"role":"user","content":"x"}],"contents":[{"parts":[{"text":"x"}]}]}`))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusUnauthorized && resp.StatusCode != http.StatusForbidden {
				t.Fatalf("%s: status %d, want 401/403", path, resp.StatusCode)
			}
		}
	})
}

// decodeNative reads any of the nine answer shapes into a result; stop is "tool" or "stop".
func decodeNative(t *testing.T, name, ctype string, body []byte) result {
	t.Helper()
	var r result
	provider, _, _ := strings.Cut(name, "/")
	stopOf := func(s string) string {
		switch s {
		case "tool_use":
			return "tool"
		case "end_turn", "STOP":
			return "stop"
		}
		return "?" + s
	}
	switch {
	case provider == "anthropic" && strings.HasPrefix(ctype, "text/event-stream"):
		var args strings.Builder
		for _, ev := range nativeSSEData(t, body) {
			var e struct {
				Type         string `json:"type"`
				ContentBlock struct {
					Type, Name string
				} `json:"content_block"`
				Delta struct {
					Type        string `json:"type"`
					Text        string `json:"text"`
					PartialJSON string `json:"partial_json"`
					StopReason  string `json:"stop_reason"`
				} `json:"delta"`
			}
			mustJSON(t, ev, &e)
			switch {
			case e.Type == "content_block_start" && e.ContentBlock.Type == "tool_use":
				r.tool = e.ContentBlock.Name
			case e.Delta.Type == "text_delta":
				r.text += e.Delta.Text
			case e.Delta.Type == "input_json_delta":
				args.WriteString(e.Delta.PartialJSON)
			case e.Type == "message_delta":
				r.stop = stopOf(e.Delta.StopReason)
			}
		}
		r.args = json.RawMessage(args.String())
	case provider == "anthropic":
		var m struct {
			Content []struct {
				Type, Text, Name string
				Input            json.RawMessage
			}
			StopReason string `json:"stop_reason"`
		}
		mustJSON(t, body, &m)
		for _, c := range m.Content {
			r.text += c.Text
			if c.Type == "tool_use" {
				r.tool, r.args = c.Name, c.Input
			}
		}
		r.stop = stopOf(m.StopReason)
	case provider == "gemini":
		chunks := [][]byte{body}
		if strings.HasPrefix(ctype, "text/event-stream") {
			chunks = nativeSSEData(t, body)
		}
		for _, ch := range chunks {
			var g struct {
				Candidates []struct {
					Content struct {
						Parts []struct {
							Text         string
							FunctionCall *struct {
								Name string
								Args json.RawMessage
							}
						}
					}
					FinishReason string
				}
			}
			mustJSON(t, ch, &g)
			for _, p := range g.Candidates[0].Content.Parts {
				r.text += p.Text
				if p.FunctionCall != nil {
					r.tool, r.args = p.FunctionCall.Name, p.FunctionCall.Args
				}
			}
			if fr := g.Candidates[0].FinishReason; fr != "" {
				r.stop = stopOf(fr)
			}
		}
		if r.tool != "" && r.stop == "stop" {
			r.stop = "tool" // Gemini says STOP after a function call
		}
	case ctype == "application/vnd.amazon.eventstream":
		dec := eventstream.NewDecoder()
		rd := bytes.NewReader(body)
		var args strings.Builder
		for rd.Len() > 0 {
			m, err := dec.Decode(rd, nil)
			if err != nil {
				t.Fatalf("event stream: %v", err)
			}
			var p struct {
				Start struct{ ToolUse struct{ Name string } }
				Delta struct {
					Text    *string
					ToolUse *struct{ Input string }
				}
				StopReason string
			}
			mustJSON(t, m.Payload, &p)
			r.tool += p.Start.ToolUse.Name
			if p.Delta.Text != nil {
				r.text += *p.Delta.Text
			}
			if p.Delta.ToolUse != nil {
				args.WriteString(p.Delta.ToolUse.Input)
			}
			if p.StopReason != "" {
				r.stop = stopOf(p.StopReason)
			}
		}
		r.args = json.RawMessage(args.String())
	default:
		var b struct {
			Output struct {
				Message struct {
					Content []struct {
						Text    string
						ToolUse *struct {
							Name  string
							Input json.RawMessage
						}
					}
				}
			}
			StopReason string
		}
		mustJSON(t, body, &b)
		for _, c := range b.Output.Message.Content {
			r.text += c.Text
			if c.ToolUse != nil {
				r.tool, r.args = c.ToolUse.Name, c.ToolUse.Input
			}
		}
		r.stop = stopOf(b.StopReason)
	}
	return r
}

func nativeSSEData(t *testing.T, body []byte) [][]byte {
	t.Helper()
	var out [][]byte
	sc := bufio.NewScanner(bytes.NewReader(body))
	for sc.Scan() {
		if d, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
			out = append(out, []byte(d))
		}
	}
	if len(out) == 0 {
		t.Fatalf("no SSE data in %q", body)
	}
	return out
}

func mustJSON(t *testing.T, b []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%v in %s", err, b)
	}
}

func TestSplitN(t *testing.T) {
	for _, tc := range []struct {
		s string
		n int
	}{{"", 3}, {"ab", 4}, {"hello world", 3}, {"°C°C°C", 4}, {"x", 1}} {
		parts := splitN(tc.s, tc.n)
		if len(parts) != tc.n || strings.Join(parts, "") != tc.s {
			t.Errorf("splitN(%q, %d) = %q", tc.s, tc.n, parts)
		}
		for _, p := range parts {
			if !json.Valid([]byte(`"`+p+`"`)) && p != "" {
				t.Errorf("splitN(%q, %d) cut a character: %q", tc.s, tc.n, parts)
			}
		}
	}
}

func TestNativeAzure(t *testing.T) {
	fake := New()
	fake.Key = "k"
	n := NewNative(fake)
	n.Key = "k"
	srv := httptest.NewServer(n)
	defer srv.Close()
	post := func(path, key, body string) (*http.Response, []byte) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, srv.URL+path, strings.NewReader(body))
		req.Header.Set("api-key", key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, b
	}
	const path = "/openai/deployments/prod-chat/chat/completions?api-version=2024-10-21"
	chat := `{"model":"prod-chat","messages":[{"role":"user","content":"hi"}]`

	if resp, b := post("/openai/deployments/prod-chat/chat/completions", "k", chat+"}"); resp.StatusCode != 404 || !strings.Contains(string(b), `"code":"404"`) {
		t.Errorf("no api-version: %d %s", resp.StatusCode, b)
	}
	if resp, b := post(path, "wrong", chat+"}"); resp.StatusCode != 401 || !strings.Contains(string(b), "Access denied") {
		t.Errorf("wrong key: %d %s", resp.StatusCode, b)
	}
	if resp, b := post(path, "k", chat+"}"); resp.StatusCode != 200 || !strings.Contains(string(b), `"chat.completion"`) {
		t.Errorf("completion: %d %s", resp.StatusCode, b)
	}
	resp, b := post(path, "k", chat+`,"stream":true,"stream_options":{"include_usage":true}}`)
	events := strings.Split(strings.TrimSuffix(string(b), "\n\n"), "\n\n")
	if resp.StatusCode != 200 || len(events) < 4 || events[0] != strings.TrimSuffix(azureFilterChunk, "\n\n") ||
		!strings.Contains(events[1], `"chat.completion.chunk"`) || events[len(events)-1] != "data: [DONE]" {
		t.Errorf("stream: %d %q", resp.StatusCode, events)
	}
	if got := n.Requests(); got != 4 {
		t.Errorf("%d native requests recorded, want 4", got)
	}
}

func TestNativeVertex(t *testing.T) {
	n := NewNative(nil)
	n.Key = "k"
	srv := httptest.NewServer(n)
	defer srv.Close()
	resp, err := http.PostForm(srv.URL+"/token", map[string][]string{"grant_type": {"refresh_token"}, "refresh_token": {"x"}})
	if err != nil {
		t.Fatal(err)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()
	if tok.AccessToken != vertexToken {
		t.Fatalf("token %q", tok.AccessToken)
	}
	post := func(path, auth, body string) (int, string) {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+path, strings.NewReader(body))
		req.Header.Set("Authorization", auth)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	const base = "/v1/projects/p/locations/us-central1/publishers/"
	gem := `{"contents":[{"role":"user","parts":[{"text":"hi"}]}]}`
	claude := `{"anthropic_version":"vertex-2023-10-16","max_tokens":100,"messages":[{"role":"user","content":"hi"}]}`
	tests := []struct {
		name, path, auth, body string
		status                 int
		want                   string
	}{
		{"gemini", base + "google/models/gemini-2.5-flash:generateContent", "Bearer " + vertexToken, gem, 200, `"candidates"`},
		{"gemini without token", base + "google/models/gemini-2.5-flash:generateContent", "", gem, 401, "OAuth 2"},
		{"claude streamed", base + "anthropic/models/claude-sonnet-4-5@20250929:streamRawPredict", "Bearer " + vertexToken, claude, 200, "event: message_start"},
		{"claude with a model in the body", base + "anthropic/models/claude-sonnet-4-5:rawPredict", "Bearer " + vertexToken,
			strings.Replace(claude, "{", `{"model":"x",`, 1), 400, "Extra inputs"},
		{"claude without the version", base + "anthropic/models/claude-sonnet-4-5:rawPredict", "Bearer " + vertexToken,
			`{"max_tokens":100,"messages":[{"role":"user","content":"hi"}]}`, 400, "vertex-2023-10-16"},
	}
	for _, tt := range tests {
		if status, body := post(tt.path, tt.auth, tt.body); status != tt.status || !strings.Contains(body, tt.want) {
			t.Errorf("%s: %d %.300s", tt.name, status, body)
		}
	}
}
