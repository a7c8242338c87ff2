package fakeupstream

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"
)

// TestReplayMatchesRecording renders each template with the recorded values and expects the
// recorded bytes back: the templates cut the payloads without changing anything else.
func TestReplayMatchesRecording(t *testing.T) {
	tm, err := loadTemplates()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		file   string
		render func(v *vals) []byte
	}{
		{"chat_completion.json", func(v *vals) []byte {
			v.text = tm.textContent
			return tm.completion.appendTo(nil, v)
		}},
		{"tool_call.json", func(v *vals) []byte {
			v.text = escape(tm.toolArgs)
			return tm.toolCompletion.appendTo(nil, v)
		}},
		{"chat_stream.sse", func(v *vals) []byte { return renderStream(&tm.text, v) }},
		{"tool_call_stream.sse", func(v *vals) []byte { return renderStream(&tm.tool, v) }},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			want, err := os.ReadFile("testdata/" + tt.file)
			if err != nil {
				t.Fatal(err)
			}
			got := tt.render(recordedVals(t, want))
			if !bytes.Equal(got, want) {
				t.Errorf("replay differs from recording\ngot:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}

func renderStream(s *streamSet, v *vals) []byte {
	b := s.first.appendTo(nil, v)
	for _, d := range s.deltas {
		v.text = d
		b = s.delta.appendTo(b, v)
	}
	b = s.finish.appendTo(b, v)
	if s.usage != nil {
		b = s.usage.appendTo(b, v)
	}
	return append(b, sseDone...)
}

// recordedVals pulls the recorded id, created, model, call id and tool name out of a payload.
func recordedVals(t *testing.T, raw []byte) *vals {
	t.Helper()
	find := func(m mark) []byte {
		f := m.re.FindSubmatch(raw)
		if f == nil {
			return nil
		}
		return f[1]
	}
	return &vals{id: find(markID), created: find(markCreated), model: find(markModel), callID: find(markCallID), name: find(markName)}
}

// chunk is a streamed chat.completion.chunk as a client decodes it; Usage distinguishes an
// absent field from "usage": null.
type chunk struct {
	ID      string `json:"id"`
	Object  string `json:"object"`
	Model   string `json:"model"`
	Created int64  `json:"created"`
	Choices []struct {
		Delta struct {
			Role      string  `json:"role"`
			Content   *string `json:"content"`
			ToolCalls []struct {
				Index    int    `json:"index"`
				ID       string `json:"id"`
				Type     string `json:"type"`
				Function struct {
					Name      string `json:"name"`
					Arguments string `json:"arguments"`
				} `json:"function"`
			} `json:"tool_calls"`
		} `json:"delta"`
		FinishReason *string `json:"finish_reason"`
	} `json:"choices"`
	Usage *json.RawMessage `json:"usage"` // nil when absent or null
}

// transcript is what a client assembles from one stream.
type transcript struct {
	chunks    []chunk
	text      string
	toolName  string
	toolID    string
	toolArgs  string
	finish    string
	usage     []json.RawMessage // usage chunks (choices: [])
	nullUsage int               // chunks carrying "usage": null
	done      bool
}

func readStream(t *testing.T, body io.Reader) transcript {
	t.Helper()
	var tr transcript
	sc := bufio.NewScanner(body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			continue
		}
		payload, ok := strings.CutPrefix(line, "data: ")
		if !ok {
			t.Fatalf("line without data prefix: %q", line)
		}
		if tr.done {
			t.Fatalf("data after [DONE]: %q", payload)
		}
		if payload == "[DONE]" {
			tr.done = true
			continue
		}
		var c chunk
		if err := json.Unmarshal([]byte(payload), &c); err != nil {
			t.Fatalf("chunk %q: %v", payload, err)
		}
		tr.chunks = append(tr.chunks, c)
		// encoding/json turns null into a nil pointer, so look at the wire for "usage":null.
		if strings.Contains(payload, `"usage":null`) {
			tr.nullUsage++
		}
		if len(c.Choices) == 0 {
			if c.Usage == nil {
				t.Fatalf("chunk without choices and without usage: %q", payload)
			}
			tr.usage = append(tr.usage, *c.Usage)
			continue
		}
		d := c.Choices[0].Delta
		if d.Content != nil {
			tr.text += *d.Content
		}
		for _, tc := range d.ToolCalls {
			if tc.ID != "" {
				tr.toolID = tc.ID
			}
			tr.toolName += tc.Function.Name
			tr.toolArgs += tc.Function.Arguments
		}
		if f := c.Choices[0].FinishReason; f != nil {
			if tr.finish != "" {
				t.Fatalf("second finish_reason %q", *f)
			}
			tr.finish = *f
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("read stream: %v", err)
	}
	return tr
}

const weatherTool = `{"type":"function","function":{"name":"get_weather","description":"Weather for a city","parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}}`

func post(t *testing.T, url string, header map[string]string, body string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func TestStream(t *testing.T) {
	srv := httptest.NewServer(New())
	defer srv.Close()
	tests := []struct {
		name       string
		path       string
		header     map[string]string
		body       string
		wantText   string
		wantTool   string
		wantArgs   string
		wantFinish string
		wantUsage  bool
	}{
		{
			name:       "text without usage",
			path:       "/v1/chat/completions",
			body:       `{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"hi"}]}`,
			wantText:   "Hello! How can I assist you today?",
			wantFinish: "stop",
		},
		{
			name:       "text with usage, path without /v1",
			path:       "/chat/completions",
			body:       `{"model":"gpt-4o-mini","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hi"}]}`,
			wantText:   "Hello! How can I assist you today?",
			wantFinish: "stop",
			wantUsage:  true,
		},
		{
			name:       "include_usage false",
			path:       "/v1/chat/completions",
			body:       `{"model":"gpt-4o-mini","stream":true,"stream_options":{"include_usage":false},"messages":[{"role":"user","content":"hi"}]}`,
			wantText:   "Hello! How can I assist you today?",
			wantFinish: "stop",
		},
		{
			name:       "tool call with recorded arguments",
			path:       "/v1/chat/completions",
			body:       `{"model":"gpt-4o-mini","stream":true,"stream_options":{"include_usage":true},"tools":[` + weatherTool + `],"tool_choice":"auto","messages":[{"role":"user","content":"Weather in Paris?"}]}`,
			wantTool:   "get_weather",
			wantArgs:   `{"city":"Paris"}`,
			wantFinish: "tool_calls",
			wantUsage:  true,
		},
		{
			name:       "tool call with generic arguments",
			path:       "/v1/chat/completions",
			body:       `{"model":"gpt-4o-mini","stream":true,"tools":[{"type":"function","function":{"name":"search_docs","parameters":{"type":"object","properties":{"query":{"type":"string"},"limit":{"type":"integer"},"exact":{"type":"boolean"}}}}}],"messages":[{"role":"user","content":"find it"}]}`,
			wantTool:   "search_docs",
			wantArgs:   `{"exact":true,"limit":1,"query":"Paris"}`,
			wantFinish: "tool_calls",
		},
		{
			name:       "tool result is quoted",
			path:       "/v1/chat/completions",
			body:       `{"model":"gpt-4o-mini","stream":true,"stream_options":{"include_usage":true},"tools":[` + weatherTool + `],"messages":[{"role":"user","content":"Weather?"},{"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]},{"role":"tool","tool_call_id":"call_1","content":"{\"temp_c\":18,\"sky\":\"<clear> & \\\"dry\\\"\"}"}]}`,
			wantText:   `The tool returned: {"temp_c":18,"sky":"<clear> & \"dry\""}`,
			wantFinish: "stop",
			wantUsage:  true,
		},
		{
			name:       "text mode answers text although tools are offered",
			path:       "/v1/chat/completions",
			header:     map[string]string{"x-fake-mode": "text"},
			body:       `{"model":"gpt-4o-mini","stream":true,"stream_options":{"include_usage":true},"tools":[` + weatherTool + `],"tool_choice":"auto","messages":[{"role":"user","content":"Weather in Paris?"}]}`,
			wantText:   "Hello! How can I assist you today?",
			wantFinish: "stop",
			wantUsage:  true,
		},
		{
			name:       "text mode still quotes a tool result",
			path:       "/v1/chat/completions",
			header:     map[string]string{"x-fake-mode": "text"},
			body:       `{"model":"m","stream":true,"tools":[` + weatherTool + `],"messages":[{"role":"tool","tool_call_id":"c","content":"18C"}]}`,
			wantText:   "The tool returned: 18C",
			wantFinish: "stop",
		},
		{
			name:       "tool result as text parts",
			path:       "/v1/chat/completions",
			body:       `{"model":"m","stream":true,"messages":[{"role":"tool","tool_call_id":"c","content":[{"type":"text","text":"sunny"},{"type":"text","text":" and warm"}]}]}`,
			wantText:   "The tool returned: sunny and warm",
			wantFinish: "stop",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := post(t, srv.URL+tt.path, tt.header, tt.body)
			if resp.StatusCode != http.StatusOK {
				b, _ := io.ReadAll(resp.Body)
				t.Fatalf("status %d: %s", resp.StatusCode, b)
			}
			if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
				t.Errorf("content-type %q", ct)
			}
			tr := readStream(t, resp.Body)
			if !tr.done {
				t.Error("no [DONE]")
			}
			if tr.text != tt.wantText {
				t.Errorf("text %q, want %q", tr.text, tt.wantText)
			}
			if tr.toolName != tt.wantTool || tr.toolArgs != tt.wantArgs {
				t.Errorf("tool %q(%s), want %q(%s)", tr.toolName, tr.toolArgs, tt.wantTool, tt.wantArgs)
			}
			if tt.wantTool != "" && !strings.HasPrefix(tr.toolID, "call_") {
				t.Errorf("tool call id %q", tr.toolID)
			}
			if tr.finish != tt.wantFinish {
				t.Errorf("finish_reason %q, want %q", tr.finish, tt.wantFinish)
			}
			for i, c := range tr.chunks {
				if c.ID != tr.chunks[0].ID || !strings.HasPrefix(c.ID, "chatcmpl-") {
					t.Errorf("chunk %d id %q, first %q", i, c.ID, tr.chunks[0].ID)
				}
				if c.Model != "gpt-4o-mini" && c.Model != "m" {
					t.Errorf("chunk %d model %q", i, c.Model)
				}
				if c.Object != "chat.completion.chunk" || time.Since(time.Unix(c.Created, 0)) > time.Minute {
					t.Errorf("chunk %d object %q created %d", i, c.Object, c.Created)
				}
			}
			// OpenAI sends one usage chunk, last, and "usage": null on every other chunk, only when asked.
			if tt.wantUsage {
				if len(tr.usage) != 1 || len(tr.chunks[len(tr.chunks)-1].Choices) != 0 {
					t.Errorf("want one final usage chunk, got %d", len(tr.usage))
				}
				if tr.nullUsage != len(tr.chunks)-1 {
					t.Errorf("%d of %d chunks have usage null", tr.nullUsage, len(tr.chunks)-1)
				}
				var u struct {
					TotalTokens int `json:"total_tokens"`
				}
				if err := json.Unmarshal(tr.usage[0], &u); err != nil || u.TotalTokens == 0 {
					t.Errorf("usage %s: %v", tr.usage[0], err)
				}
			} else if len(tr.usage) != 0 || tr.nullUsage != 0 {
				t.Errorf("usage not asked for, got %d usage chunks and %d usage:null", len(tr.usage), tr.nullUsage)
			}
		})
	}
}

func TestCompletion(t *testing.T) {
	srv := httptest.NewServer(New())
	defer srv.Close()
	tests := []struct {
		name       string
		header     map[string]string
		body       string
		wantText   string
		wantTool   string
		wantArgs   string
		wantFinish string
	}{
		{"text", nil, `{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}`, "Hello! How can I assist you today?", "", "", "stop"},
		{"tool call", nil, `{"model":"gpt-4o","tools":[` + weatherTool + `],"messages":[{"role":"user","content":"hi"}]}`, "", "get_weather", `{"city":"Paris"}`, "tool_calls"},
		{"tool call, no schema", nil, `{"model":"gpt-4o","tools":[{"type":"function","function":{"name":"now"}}],"messages":[{"role":"user","content":"hi"}]}`, "", "now", `{"city":"Paris"}`, "tool_calls"},
		{"tool result", nil, `{"model":"gpt-4o","tools":[` + weatherTool + `],"messages":[{"role":"tool","tool_call_id":"c","content":"18C"}]}`, "The tool returned: 18C", "", "", "stop"},
		{"text mode", map[string]string{"x-fake-mode": "text"}, `{"model":"gpt-4o","tools":[` + weatherTool + `],"messages":[{"role":"user","content":"hi"}]}`, "Hello! How can I assist you today?", "", "", "stop"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := post(t, srv.URL+"/v1/chat/completions", tt.header, tt.body)
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/json" {
				t.Fatalf("status %d %q: %s", resp.StatusCode, resp.Header.Get("Content-Type"), b)
			}
			if !strings.HasPrefix(resp.Header.Get("x-request-id"), "req_") {
				t.Errorf("x-request-id %q", resp.Header.Get("x-request-id"))
			}
			var cc struct {
				ID      string `json:"id"`
				Object  string `json:"object"`
				Model   string `json:"model"`
				Choices []struct {
					Message struct {
						Role      string  `json:"role"`
						Content   *string `json:"content"`
						ToolCalls []struct {
							ID       string `json:"id"`
							Function struct{ Name, Arguments string }
						} `json:"tool_calls"`
					} `json:"message"`
					FinishReason string `json:"finish_reason"`
				} `json:"choices"`
				Usage struct {
					PromptTokens     int `json:"prompt_tokens"`
					CompletionTokens int `json:"completion_tokens"`
					TotalTokens      int `json:"total_tokens"`
				} `json:"usage"`
			}
			if err := json.Unmarshal(b, &cc); err != nil {
				t.Fatalf("%v: %s", err, b)
			}
			if !strings.HasPrefix(cc.ID, "chatcmpl-") || cc.Object != "chat.completion" || cc.Model != "gpt-4o" {
				t.Errorf("id %q object %q model %q", cc.ID, cc.Object, cc.Model)
			}
			if len(cc.Choices) != 1 {
				t.Fatalf("choices: %s", b)
			}
			m := cc.Choices[0].Message
			var text string
			if m.Content != nil {
				text = *m.Content
			}
			if text != tt.wantText || cc.Choices[0].FinishReason != tt.wantFinish {
				t.Errorf("content %q finish %q, want %q %q", text, cc.Choices[0].FinishReason, tt.wantText, tt.wantFinish)
			}
			if tt.wantTool != "" {
				if len(m.ToolCalls) != 1 || m.ToolCalls[0].Function.Name != tt.wantTool || m.ToolCalls[0].Function.Arguments != tt.wantArgs || !strings.HasPrefix(m.ToolCalls[0].ID, "call_") {
					t.Errorf("tool_calls %+v", m.ToolCalls)
				}
			} else if len(m.ToolCalls) != 0 {
				t.Errorf("unexpected tool_calls %+v", m.ToolCalls)
			}
			if u := cc.Usage; u.PromptTokens+u.CompletionTokens != u.TotalTokens || u.TotalTokens == 0 {
				t.Errorf("usage %+v", u)
			}
		})
	}
}

func TestIDsAreFresh(t *testing.T) {
	srv := httptest.NewServer(New())
	defer srv.Close()
	seen := map[string]bool{}
	for range 5 {
		resp := post(t, srv.URL+"/v1/chat/completions", nil, `{"model":"m","messages":[{"role":"user","content":"hi"}]}`)
		var cc struct{ ID string }
		if err := json.NewDecoder(resp.Body).Decode(&cc); err != nil {
			t.Fatal(err)
		}
		if seen[cc.ID] {
			t.Fatalf("id %q repeated", cc.ID)
		}
		seen[cc.ID] = true
	}
	// Unless told to repeat one, as some servers do.
	for range 2 {
		resp := post(t, srv.URL+"/v1/chat/completions", map[string]string{"x-fake-id": "chatcmpl-same"}, `{"model":"m","stream":true,"messages":[{"role":"user","content":"hi"}]}`)
		b, _ := io.ReadAll(resp.Body)
		if n := strings.Count(string(b), `"id":"chatcmpl-same"`); n < 2 || strings.Count(string(b), `"id":`) != n {
			t.Fatalf("x-fake-id not used on every chunk: %s", b)
		}
	}
}

// errorEnvelope is OpenAI's error body.
type errorEnvelope struct {
	Error struct {
		Message string  `json:"message"`
		Type    string  `json:"type"`
		Param   *string `json:"param"`
		Code    *string `json:"code"`
	} `json:"error"`
}

func TestErrors(t *testing.T) {
	fake := New()
	fake.Key = "sk-upstream"
	srv := httptest.NewServer(fake)
	defer srv.Close()
	ok := `{"model":"m","messages":[{"role":"user","content":"hi"}]}`
	auth := "Bearer sk-upstream"
	tests := []struct {
		name       string
		path       string
		header     map[string]string
		body       string
		wantStatus int
		wantType   string
		wantCode   string
		wantRetry  string
	}{
		{"no key", "/v1/chat/completions", nil, ok, 401, "invalid_request_error", "", ""},
		{"wrong key", "/v1/chat/completions", map[string]string{"Authorization": "Bearer sk-wrong-key-123"}, ok, 401, "invalid_request_error", "invalid_api_key", ""},
		{"models wrong key", "/v1/models", map[string]string{"Authorization": "Bearer nope"}, "", 401, "invalid_request_error", "invalid_api_key", ""},
		{"429", "/v1/chat/completions", map[string]string{"Authorization": auth, "x-fake-status": "429"}, ok, 429, "requests", "rate_limit_exceeded", "1"},
		{"429 retry-after", "/chat/completions", map[string]string{"Authorization": auth, "x-fake-status": "429", "x-fake-retry-after": "7"}, ok, 429, "requests", "rate_limit_exceeded", "7"},
		{"500", "/v1/chat/completions", map[string]string{"Authorization": auth, "x-fake-status": "500"}, ok, 500, "server_error", "", ""},
		{"503", "/v1/chat/completions", map[string]string{"Authorization": auth, "x-fake-status": "503"}, ok, 503, "server_error", "", ""},
		{"400 context", "/v1/chat/completions", map[string]string{"Authorization": auth, "x-fake-status": "400"}, ok, 400, "invalid_request_error", "context_length_exceeded", ""},
		{"bad fault", "/v1/chat/completions", map[string]string{"Authorization": auth, "x-fake-status": "200"}, ok, 400, "invalid_request_error", "", ""},
		{"bad mode", "/v1/chat/completions", map[string]string{"Authorization": auth, "x-fake-mode": "tools"}, ok, 400, "invalid_request_error", "", ""},
		{"bad json", "/v1/chat/completions", map[string]string{"Authorization": auth}, `{"model":`, 400, "invalid_request_error", "", ""},
		{"no model", "/v1/chat/completions", map[string]string{"Authorization": auth}, `{"messages":[{"role":"user","content":"x"}]}`, 400, "invalid_request_error", "", ""},
		{"no messages", "/v1/chat/completions", map[string]string{"Authorization": auth}, `{"model":"m"}`, 400, "invalid_request_error", "missing_required_parameter", ""},
		{"unknown path", "/v1/images/generations", map[string]string{"Authorization": auth}, ok, 404, "invalid_request_error", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := post(t, srv.URL+tt.path, tt.header, tt.body)
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.wantStatus, b)
			}
			var env errorEnvelope
			if err := json.Unmarshal(b, &env); err != nil || env.Error.Message == "" {
				t.Fatalf("envelope %s: %v", b, err)
			}
			var code string
			if env.Error.Code != nil {
				code = *env.Error.Code
			}
			if env.Error.Type != tt.wantType || code != tt.wantCode {
				t.Errorf("type %q code %q, want %q %q", env.Error.Type, code, tt.wantType, tt.wantCode)
			}
			if got := resp.Header.Get("retry-after"); got != tt.wantRetry {
				t.Errorf("retry-after %q, want %q", got, tt.wantRetry)
			}
			if strings.Contains(string(b), "sk-wrong-key-123") {
				t.Errorf("key echoed unmasked: %s", b)
			}
		})
	}
}

func TestModels(t *testing.T) {
	fake := New()
	fake.Key = "k"
	srv := httptest.NewServer(fake)
	defer srv.Close()
	for _, path := range []string{"/v1/models", "/models"} {
		t.Run(path, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
			req.Header.Set("Authorization", "Bearer k")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var list struct {
				Object string `json:"object"`
				Data   []struct {
					ID     string `json:"id"`
					Object string `json:"object"`
				} `json:"data"`
			}
			if err := json.NewDecoder(resp.Body).Decode(&list); err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != 200 || list.Object != "list" || len(list.Data) == 0 || list.Data[0].ID != "gpt-4o-mini" || list.Data[0].Object != "model" {
				t.Errorf("status %d list %+v", resp.StatusCode, list)
			}
		})
	}
}

func TestRequestsAndLastRequest(t *testing.T) {
	fake := New()
	srv := httptest.NewServer(fake)
	defer srv.Close()
	if n := fake.Requests(); n != 0 {
		t.Fatalf("Requests() = %d before any", n)
	}
	post(t, srv.URL+"/v1/chat/completions", map[string]string{"x-fake-status": "500"}, `{"model":"a","messages":[]}`)
	body := `{"model":"b","messages":[{"role":"user","content":"hi"}]}`
	post(t, srv.URL+"/chat/completions", map[string]string{"X-Trace": "t1"}, body)
	// Models and inspection are not chat requests.
	resp, err := http.Get(srv.URL + "/v1/models")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if n := fake.Requests(); n != 2 {
		t.Errorf("Requests() = %d, want 2", n)
	}
	got, h := fake.LastRequest()
	if string(got) != body || h.Get("X-Trace") != "t1" {
		t.Errorf("LastRequest() = %s %v", got, h)
	}

	resp, err = http.Get(srv.URL + "/_fake/last")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var last struct {
		Requests int
		Header   http.Header
		Body     struct{ Model string }
	}
	if err := json.NewDecoder(resp.Body).Decode(&last); err != nil {
		t.Fatal(err)
	}
	if last.Requests != 2 || last.Body.Model != "b" || last.Header.Get("X-Trace") != "t1" {
		t.Errorf("/_fake/last = %+v", last)
	}
}

func TestAbortAfter(t *testing.T) {
	srv := httptest.NewServer(New())
	defer srv.Close()
	resp := post(t, srv.URL+"/v1/chat/completions", map[string]string{"x-fake-abort-after": "3"},
		`{"model":"m","stream":true,"messages":[{"role":"user","content":"hi"}]}`)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	b, err := io.ReadAll(resp.Body)
	if err == nil || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("read error %v, want unexpected EOF", err)
	}
	if n := strings.Count(string(b), "data: "); n != 3 || strings.Contains(string(b), "[DONE]") || strings.Contains(string(b), "finish_reason\":\"stop") {
		t.Errorf("got %d events before the break:\n%s", n, b)
	}
}

func TestDelay(t *testing.T) {
	fake := New()
	fake.Delay = 5 * time.Millisecond
	srv := httptest.NewServer(fake)
	defer srv.Close()
	start := time.Now()
	resp := post(t, srv.URL+"/v1/chat/completions", nil, `{"model":"m","stream":true,"messages":[{"role":"user","content":"hi"}]}`)
	tr := readStream(t, resp.Body)
	// Each of the chunks waits Delay first, so the stream cannot be faster than their sum.
	if min := time.Duration(len(tr.chunks)) * fake.Delay; time.Since(start) < min {
		t.Errorf("stream took %v, want at least %v", time.Since(start), min)
	}

	// A client that goes away stops the stream instead of leaving the handler sleeping.
	fake.Delay = time.Hour
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/v1/chat/completions",
		strings.NewReader(`{"model":"m","stream":true,"messages":[{"role":"user","content":"hi"}]}`))
	done := make(chan struct{})
	go func() {
		defer close(done)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	}()
	for fake.Requests() < 2 {
		time.Sleep(time.Millisecond) // poll: the request has no other signal of arrival
	}
	cancel()
	<-done
	srv.Close() // waits for handlers: would hang for an hour if the handler kept sleeping
}

func BenchmarkStream(b *testing.B) {
	fake := New()
	body := []byte(`{"model":"gpt-4o-mini","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hi"}]}`)
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodPost, "/v1/chat/completions", bytes.NewReader(body))
		fake.ServeHTTP(rec, req)
	}
}
