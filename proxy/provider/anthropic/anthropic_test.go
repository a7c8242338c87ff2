package anthropic

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/clawgate/clawgate/proxy/provider"
)

// upstream is a fake Anthropic API that records the last request and answers with reply.
type upstream struct {
	*httptest.Server
	calls  atomic.Int32
	path   atomic.Value // string
	header atomic.Value // http.Header
	body   atomic.Value // []byte
}

func newUpstream(t *testing.T, reply http.HandlerFunc) *upstream {
	t.Helper()
	u := &upstream{}
	u.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u.calls.Add(1)
		b, _ := io.ReadAll(r.Body)
		u.path.Store(r.URL.Path)
		u.header.Store(r.Header.Clone())
		u.body.Store(b)
		reply(w, r)
	}))
	t.Cleanup(u.Close)
	return u
}

func (u *upstream) lastHeader() http.Header { h, _ := u.header.Load().(http.Header); return h }
func (u *upstream) lastBody() []byte        { b, _ := u.body.Load().([]byte); return b }
func (u *upstream) lastPath() string        { p, _ := u.path.Load().(string); return p }

func serveFile(t *testing.T, status int, ctype, path string, extra map[string]string) http.HandlerFunc {
	body := readFile(t, path)
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", ctype)
		for k, v := range extra {
			w.Header().Set(k, v)
		}
		w.WriteHeader(status)
		_, _ = w.Write(body)
	}
}

const chatBody = `{"model":"claude","messages":[{"role":"user","content":"Hello"}],"stream_options":{"include_usage":true}}`

func TestChatNonStreamed(t *testing.T) {
	up := newUpstream(t, serveFile(t, 200, "application/json", filepath.Join("testdata", "responses", "cache.json"), map[string]string{
		"Request-Id":                             "req_018EeWyXxfu5pfWkrYcMdjWG",
		"Anthropic-Ratelimit-Requests-Remaining": "49",
		"Anthropic-Ratelimit-Tokens-Limit":       "80000",
		"X-Internal":                             "not for clients",
	}))
	p := New(Options{
		APIBase: up.URL, APIKey: "sk-ant-test", MaxTokens: 64000,
		Headers: map[string]string{"anthropic-beta": "context-1m-2025-08-07", "X-Team": "blue"},
	})
	req := &provider.Request{
		Body: []byte(chatBody), Model: testModel,
		Header: http.Header{"Anthropic-Beta": {"fine-grained-tool-streaming-2025-05-14,context-1m-2025-08-07"}, "Authorization": {"Bearer gateway-key"}, "X-Trace": {"t1"}},
	}
	resp, err := p.Chat(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if up.lastPath() != "/v1/messages" {
		t.Errorf("path = %s", up.lastPath())
	}
	h := up.lastHeader()
	for k, want := range map[string]string{
		"X-Api-Key":         "sk-ant-test",
		"Anthropic-Version": "2023-06-01",
		"Anthropic-Beta":    "fine-grained-tool-streaming-2025-05-14,context-1m-2025-08-07",
		"Content-Type":      "application/json",
		"X-Team":            "blue",
		"X-Trace":           "t1",
		"Authorization":     "",
	} {
		if got := h.Get(k); got != want {
			t.Errorf("header %s = %q, want %q", k, got, want)
		}
	}
	var sent map[string]any
	if err := json.Unmarshal(up.lastBody(), &sent); err != nil {
		t.Fatal(err)
	}
	if sent["model"] != testModel || sent["max_tokens"] != float64(64000) || sent["stream"] != nil || sent["stream_options"] != nil {
		t.Errorf("sent body %s", up.lastBody())
	}
	var c completion
	if err := json.Unmarshal(resp.Body, &c); err != nil {
		t.Fatal(err)
	}
	if c.ID != "msg_01QC4g3HwBThD4BaNtBckFDJ" || c.Usage.PromptTokens != 19468 || c.Usage.CacheReadInputTokens != 18432 {
		t.Errorf("completion = %s", resp.Body)
	}
	if resp.Header.Get("Request-Id") == "" || resp.Header.Get("X-Ratelimit-Remaining-Requests") != "49" ||
		resp.Header.Get("X-Ratelimit-Limit-Tokens") != "80000" || resp.Header.Get("X-Internal") != "" {
		t.Errorf("passed headers = %v", resp.Header)
	}
}

func TestChatStreamed(t *testing.T) {
	up := newUpstream(t, serveFile(t, 200, "text/event-stream; charset=utf-8", filepath.Join("testdata", "tool_use.sse"), nil))
	p := New(Options{APIBase: up.URL + "/v1/", APIKey: "k"})
	body := `{"model":"claude","stream":true,"messages":[{"role":"user","content":"Weather?"}],"tools":[{"type":"function","function":{"name":"get_weather"}}],"max_tokens":100}`
	resp, err := p.Chat(context.Background(), &provider.Request{Body: []byte(body), Model: testModel, Stream: true})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Stream.Close()
	chunks, err := drain(t, resp.Stream)
	if err != io.EOF {
		t.Fatalf("stream ended with %v", err)
	}
	var want bytes.Buffer
	for _, c := range chunks {
		want.WriteString(c + "\n")
	}
	if got := readFile(t, filepath.Join("testdata", "tool_use.chunks.jsonl")); !bytes.Equal(want.Bytes(), got) {
		t.Errorf("chunks over HTTP differ from the golden file:\n%s", want.Bytes())
	}
	if up.lastPath() != "/v1/messages" {
		t.Errorf("path = %s (api_base ending in /v1)", up.lastPath())
	}
	if h := up.lastHeader(); h.Get("Accept") != "text/event-stream" {
		t.Errorf("accept = %q", h.Get("Accept"))
	}
	var sent MessagesRequest
	if err := json.Unmarshal(up.lastBody(), &sent); err != nil || !sent.Stream || sent.MaxTokens != 100 {
		t.Errorf("sent %s (%v)", up.lastBody(), err)
	}
	if err := resp.Stream.Close(); err != nil {
		t.Errorf("Close = %v", err)
	}
}

func TestChatErrors(t *testing.T) {
	errFile := func(name string) string { return filepath.Join("testdata", "errors", name) }
	tests := []struct {
		name      string
		status    int
		ctype     string
		file      string
		body      string
		header    map[string]string
		want      int
		typ       string
		msg       string
		retry     time.Duration
		retryable bool
	}{
		{name: "overloaded", status: 529, ctype: "application/json", file: errFile("overloaded_529.json"), header: map[string]string{"Retry-After": "3"},
			want: 529, typ: "overloaded_error", msg: "Overloaded", retry: 3 * time.Second, retryable: true},
		{name: "rate limited", status: 429, ctype: "application/json", file: errFile("rate_limit_429.json"), header: map[string]string{"Retry-After": "17"},
			want: 429, typ: "rate_limit_error", msg: "exceed the rate limit", retry: 17 * time.Second, retryable: true},
		{name: "invalid request", status: 400, ctype: "application/json", file: errFile("invalid_request_400.json"),
			want: 400, typ: "invalid_request_error", msg: "must start with a thinking block"},
		{name: "authentication", status: 401, ctype: "application/json", body: `{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}}`,
			want: 401, typ: "authentication_error", msg: "invalid x-api-key"},
		{name: "html from a proxy", status: 502, ctype: "text/html", body: "<html><head><title>502 Bad Gateway</title></head></html>",
			want: 502, msg: "HTML page: 502 Bad Gateway", retryable: true},
		{name: "empty 529", status: 529, ctype: "application/json", want: 529, msg: "Overloaded", retryable: true},
		{name: "retry-after date", status: 429, ctype: "application/json", body: `{}`, header: map[string]string{"Retry-After": time.Now().Add(time.Hour).UTC().Format(http.TimeFormat)},
			want: 429, msg: "{}", retry: time.Hour, retryable: true},
		{name: "redirect", status: 301, header: map[string]string{"Location": "https://elsewhere/"}, want: 502, typ: "api_error", msg: "redirected", retryable: true},
		{name: "json instead of stream", status: 200, ctype: "application/json", file: errFile("overloaded_529.json"), want: 502, msg: "instead of text/event-stream: Overloaded", retryable: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
				if tt.ctype != "" {
					w.Header().Set("Content-Type", tt.ctype)
				}
				for k, v := range tt.header {
					w.Header().Set(k, v)
				}
				w.WriteHeader(tt.status)
				if tt.file != "" {
					_, _ = w.Write(readFile(t, tt.file))
				} else {
					_, _ = io.WriteString(w, tt.body)
				}
			})
			p := New(Options{APIBase: up.URL})
			_, err := p.Chat(context.Background(), &provider.Request{Body: []byte(chatBody), Model: testModel, Stream: tt.status == 200})
			var pe *provider.Error
			if !errors.As(err, &pe) {
				t.Fatalf("err = %v", err)
			}
			if pe.Status != tt.want || (tt.typ != "" && pe.Type != tt.typ) || !strings.Contains(pe.Message, tt.msg) || pe.Retryable() != tt.retryable {
				t.Errorf("got status %d type %q message %q retryable %v", pe.Status, pe.Type, pe.Message, pe.Retryable())
			}
			if d := pe.RetryAfter - tt.retry; d < -2*time.Second || d > 0 {
				t.Errorf("RetryAfter = %v, want %v", pe.RetryAfter, tt.retry)
			}
		})
	}
}

func TestChatMidStreamError(t *testing.T) {
	up := newUpstream(t, serveFile(t, 200, "text/event-stream", filepath.Join("testdata", "error_midstream.sse"), nil))
	resp, err := New(Options{APIBase: up.URL}).Chat(context.Background(), &provider.Request{Body: []byte(chatBody), Model: testModel, Stream: true})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Stream.Close()
	chunks, err := drain(t, resp.Stream)
	var pe *provider.Error
	if !errors.As(err, &pe) || pe.Status != 529 || pe.Type != "overloaded_error" || len(chunks) != 2 {
		t.Errorf("after %d chunks: %v", len(chunks), err)
	}
}

func TestChatBadRequestStaysHome(t *testing.T) {
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(500) })
	_, err := New(Options{APIBase: up.URL}).Chat(context.Background(), &provider.Request{
		Body:  []byte(`{"messages":[{"role":"user","content":"x"},{"role":"assistant","tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":"{bad"}}]}]}`),
		Model: testModel,
	})
	var pe *provider.Error
	if !errors.As(err, &pe) || pe.Status != 400 || pe.Retryable() {
		t.Errorf("err = %v", err)
	}
	if up.calls.Load() != 0 {
		t.Error("an untranslatable request was sent upstream")
	}
}

func TestChatBetaForOneHourCache(t *testing.T) {
	up := newUpstream(t, serveFile(t, 200, "application/json", filepath.Join("testdata", "responses", "text.json"), nil))
	body := `{"messages":[{"role":"system","content":[{"type":"text","text":"big","cache_control":{"type":"ephemeral","ttl":"1h"}}]},{"role":"user","content":"hi"}]}`
	if _, err := New(Options{APIBase: up.URL, Version: "2024-01-01"}).Chat(context.Background(), &provider.Request{Body: []byte(body), Model: testModel}); err != nil {
		t.Fatal(err)
	}
	h := up.lastHeader()
	if h.Get("Anthropic-Beta") != betaExtendedCacheTTL || h.Get("Anthropic-Version") != "2024-01-01" || h.Get("X-Api-Key") != "" {
		t.Errorf("headers = %v", h)
	}
}

func TestChatTransportAndCancel(t *testing.T) {
	t.Run("connection refused", func(t *testing.T) {
		srv := httptest.NewServer(http.NotFoundHandler())
		url := srv.URL
		srv.Close()
		_, err := New(Options{APIBase: url}).Chat(context.Background(), &provider.Request{Body: []byte(chatBody), Model: testModel})
		var pe *provider.Error
		if !errors.As(err, &pe) || !pe.Transport || pe.Status != 502 || !pe.Retryable() {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("caller cancels mid-stream", func(t *testing.T) {
		release := make(chan struct{})
		up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/event-stream")
			_, _ = io.WriteString(w, "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"m\",\"model\":\"x\"}}\n\n")
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
			case <-release:
			}
		})
		defer close(release)
		ctx, cancel := context.WithCancel(context.Background())
		resp, err := New(Options{APIBase: up.URL}).Chat(ctx, &provider.Request{Body: []byte(chatBody), Model: testModel, Stream: true})
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Stream.Close()
		if _, err := resp.Stream.Next(); err != nil {
			t.Fatal(err)
		}
		cancel()
		_, err = resp.Stream.Next()
		if !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v, want context.Canceled", err)
		}
	})
}

func TestNewURL(t *testing.T) {
	for base, want := range map[string]string{
		"":                             "https://api.anthropic.com/v1/messages",
		"https://api.anthropic.com":    "https://api.anthropic.com/v1/messages",
		"https://api.anthropic.com/":   "https://api.anthropic.com/v1/messages",
		"https://api.anthropic.com/v1": "https://api.anthropic.com/v1/messages",
		"https://proxy.example/anthropic/v1/messages": "https://proxy.example/anthropic/v1/messages",
		"http://localhost:8080/prefix":                "http://localhost:8080/prefix/v1/messages",
	} {
		if got := New(Options{APIBase: base}).url; got != want {
			t.Errorf("APIBase %q gives %q, want %q", base, got, want)
		}
	}
}
