package gemini

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

// upstream is a fake Gemini API that records the last request and answers with reply.
type upstream struct {
	*httptest.Server
	calls  atomic.Int32
	uri    atomic.Value // string: path and query
	header atomic.Value // http.Header
	body   atomic.Value // []byte
}

func newUpstream(t *testing.T, reply http.HandlerFunc) *upstream {
	t.Helper()
	u := &upstream{}
	u.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u.calls.Add(1)
		b, _ := io.ReadAll(r.Body)
		u.uri.Store(r.URL.RequestURI())
		u.header.Store(r.Header.Clone())
		u.body.Store(b)
		reply(w, r)
	}))
	t.Cleanup(u.Close)
	return u
}

func (u *upstream) lastHeader() http.Header { h, _ := u.header.Load().(http.Header); return h }
func (u *upstream) lastBody() []byte        { b, _ := u.body.Load().([]byte); return b }
func (u *upstream) lastURI() string         { p, _ := u.uri.Load().(string); return p }

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

const chatBody = `{"model":"gemini","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Hello"}],"stream_options":{"include_usage":true},"max_tokens":50}`

func TestChatNonStreamed(t *testing.T) {
	up := newUpstream(t, serveFile(t, 200, "application/json; charset=UTF-8", filepath.Join("testdata", "responses", "cached.json"), map[string]string{
		"Server-Timing": "gfet4t7; dur=812",
		"X-Internal":    "not for clients",
	}))
	p := New(Options{APIBase: up.URL, APIKey: "AIza-test", Headers: map[string]string{"X-Team": "blue"}})
	req := &provider.Request{
		Body: []byte(chatBody), Model: testModel,
		Header: http.Header{"Authorization": {"Bearer gateway-key"}, "X-Goog-Api-Key": {"client-key"}, "X-Trace": {"t1"}},
	}
	resetIDs()
	resp, err := p.Chat(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if got := up.lastURI(); got != "/v1beta/models/gemini-2.5-flash:generateContent" {
		t.Errorf("uri = %s", got)
	}
	h := up.lastHeader()
	for k, want := range map[string]string{
		"X-Goog-Api-Key": "AIza-test",
		"Content-Type":   "application/json",
		"Accept":         "application/json",
		"X-Team":         "blue",
		"X-Trace":        "t1",
		"Authorization":  "",
	} {
		if got := h.Get(k); got != want {
			t.Errorf("header %s = %q, want %q", k, got, want)
		}
	}
	if strings.Contains(up.lastURI(), "key=") {
		t.Error("the API key travels in the URL")
	}
	var sent GenerateContentRequest
	if err := json.Unmarshal(up.lastBody(), &sent); err != nil {
		t.Fatal(err)
	}
	if sent.SystemInstruction == nil || len(sent.Contents) != 1 || *sent.GenerationConfig.MaxOutputTokens != 50 {
		t.Errorf("sent body %s", up.lastBody())
	}
	if bytes.Contains(up.lastBody(), []byte("stream")) || bytes.Contains(up.lastBody(), []byte(`"model"`)) {
		t.Errorf("sent body carries OpenAI-only fields: %s", up.lastBody())
	}
	golden(t, filepath.Join("testdata", "responses", "cached.openai.json"), indent(t, resp.Body))
	if resp.Header.Get("Server-Timing") == "" || resp.Header.Get("X-Internal") != "" {
		t.Errorf("passed headers = %v", resp.Header)
	}
}

func TestChatStreamed(t *testing.T) {
	up := newUpstream(t, serveFile(t, 200, "text/event-stream", filepath.Join("testdata", "parallel_tools.sse"), nil))
	p := New(Options{APIBase: up.URL + "/v1beta/", APIKey: "k"})
	body := `{"model":"g","stream":true,"messages":[{"role":"user","content":"Temperatures?"}],"tools":[{"type":"function","function":{"name":"get_current_temperature","parameters":{"type":"object","properties":{"location":{"type":"string"}}}}}]}`
	resetIDs()
	resp, err := p.Chat(context.Background(), &provider.Request{Body: []byte(body), Model: "gemini-3-pro-preview", Stream: true})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Stream.Close()
	chunks, err := drain(t, resp.Stream)
	if err != io.EOF {
		t.Fatalf("stream ended with %v", err)
	}
	var got bytes.Buffer
	for _, c := range chunks {
		got.WriteString(c + "\n")
	}
	if want := readFile(t, filepath.Join("testdata", "parallel_tools.chunks.jsonl")); !bytes.Equal(got.Bytes(), want) {
		t.Errorf("chunks over HTTP differ from the golden file:\n%s", got.Bytes())
	}
	if got := up.lastURI(); got != "/v1beta/models/gemini-3-pro-preview:streamGenerateContent?alt=sse" {
		t.Errorf("uri = %s (api_base ending in /v1beta/)", got)
	}
	if h := up.lastHeader(); h.Get("Accept") != "text/event-stream" || h.Get("X-Goog-Api-Key") != "k" {
		t.Errorf("headers = %v", h)
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
		stream    bool
		want      int
		typ       string
		code      string
		msg       string
		retry     time.Duration
		retryable bool
	}{
		{name: "rate limited, RetryInfo", status: 429, ctype: "application/json", file: errFile("rate_limit_429.json"),
			want: 429, typ: "RESOURCE_EXHAUSTED", msg: "You exceeded your current quota", retry: 34 * time.Second, retryable: true},
		{name: "retry-after wins over RetryInfo", status: 429, ctype: "application/json", file: errFile("rate_limit_429.json"), header: map[string]string{"Retry-After": "5"},
			want: 429, typ: "RESOURCE_EXHAUSTED", msg: "quota", retry: 5 * time.Second, retryable: true},
		{name: "invalid argument", status: 400, ctype: "application/json", file: errFile("invalid_argument_400.json"),
			want: 400, typ: "INVALID_ARGUMENT", msg: "missing a thought_signature"},
		{name: "bad API key", status: 400, ctype: "application/json", file: errFile("api_key_invalid_400.json"),
			want: 400, typ: "INVALID_ARGUMENT", code: "API_KEY_INVALID", msg: "API key not valid"},
		{name: "overloaded, envelope in an array", status: 503, ctype: "application/json", file: errFile("unavailable_503.json"), stream: true,
			want: 503, typ: "UNAVAILABLE", msg: "overloaded", retryable: true},
		{name: "permission denied", status: 403, ctype: "application/json", body: `{"error":{"code":403,"message":"Method doesn't allow unregistered callers.","status":"PERMISSION_DENIED"}}`,
			want: 403, typ: "PERMISSION_DENIED", msg: "unregistered callers"},
		{name: "model not found", status: 404, ctype: "application/json", body: `{"error":{"code":404,"message":"models/gemini-9 is not found for API version v1beta","status":"NOT_FOUND"}}`,
			want: 404, typ: "NOT_FOUND", msg: "not found"},
		{name: "html from a proxy", status: 502, ctype: "text/html", body: "<html><head><title>502 Bad Gateway</title></head></html>",
			want: 502, msg: "HTML page: 502 Bad Gateway", retryable: true},
		{name: "empty 500", status: 500, want: 500, msg: "Internal Server Error", retryable: true},
		{name: "redirect", status: 301, header: map[string]string{"Location": "https://elsewhere/"}, want: 502, typ: "api_error", msg: "redirected", retryable: true},
		{name: "json instead of stream", status: 200, ctype: "application/json", file: errFile("unavailable_503.json"), stream: true,
			want: 502, typ: "UNAVAILABLE", msg: "instead of text/event-stream: The model is overloaded", retryable: true},
		{name: "stream instead of json", status: 200, ctype: "text/event-stream", body: "data: {}\n\n", want: 502, msg: "with an event stream", retryable: true},
		{name: "error object with 200", status: 200, ctype: "application/json", body: `{"error":{"code":500,"message":"An internal error has occurred.","status":"INTERNAL"}}`,
			want: 500, typ: "INTERNAL", msg: "internal error", retryable: true},
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
			_, err := p.Chat(context.Background(), &provider.Request{Body: []byte(chatBody), Model: testModel, Stream: tt.stream})
			var pe *provider.Error
			if !errors.As(err, &pe) {
				t.Fatalf("err = %v", err)
			}
			if pe.Status != tt.want || (tt.typ != "" && pe.Type != tt.typ) || pe.Code != tt.code || !strings.Contains(pe.Message, tt.msg) || pe.Retryable() != tt.retryable {
				t.Errorf("got status %d type %q code %q message %q retryable %v", pe.Status, pe.Type, pe.Code, pe.Message, pe.Retryable())
			}
			if pe.RetryAfter != tt.retry {
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
	if !errors.As(err, &pe) || pe.Status != 503 || pe.Type != "UNAVAILABLE" || !pe.Retryable() || len(chunks) != 2 {
		t.Errorf("after %d chunks: %v", len(chunks), err)
	}
}

func TestChatBadRequestStaysHome(t *testing.T) {
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(500) })
	_, err := New(Options{APIBase: up.URL}).Chat(context.Background(), &provider.Request{
		Body:  []byte(`{"messages":[{"role":"user","content":"x"}],"n":3}`),
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
	t.Run("deadline", func(t *testing.T) {
		release := make(chan struct{})
		up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-release:
			}
		})
		defer close(release)
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		_, err := New(Options{APIBase: up.URL}).Chat(ctx, &provider.Request{Body: []byte(chatBody), Model: testModel})
		var pe *provider.Error
		if !errors.As(err, &pe) || pe.Status != http.StatusGatewayTimeout || !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("caller cancels mid-stream", func(t *testing.T) {
		release := make(chan struct{})
		up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/event-stream")
			_, _ = io.WriteString(w, "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"a\"}]}}]}\n\n")
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
		for range 2 { // the role chunk and "a"
			if _, err := resp.Stream.Next(); err != nil {
				t.Fatal(err)
			}
		}
		cancel()
		_, err = resp.Stream.Next()
		if !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v, want context.Canceled", err)
		}
	})
}

func TestNewURL(t *testing.T) {
	tests := []struct {
		base, model string
		stream      bool
		want        string
	}{
		{"", "gemini-2.5-flash", false, "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:generateContent"},
		{"", "gemini-2.5-flash", true, "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse"},
		{"https://generativelanguage.googleapis.com/", "models/gemini-2.5-pro", false, "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-pro:generateContent"},
		{"https://generativelanguage.googleapis.com/v1", "gemini-2.0-flash", false, "https://generativelanguage.googleapis.com/v1/models/gemini-2.0-flash:generateContent"},
		{"https://proxy.example/google/v1beta", "tunedModels/my-model-42", false, "https://proxy.example/google/v1beta/tunedModels/my-model-42:generateContent"},
		{"http://localhost:8080/prefix", "gemini-3-pro-preview", true, "http://localhost:8080/prefix/v1beta/models/gemini-3-pro-preview:streamGenerateContent?alt=sse"},
		{"http://localhost:8080/prefix", "we?ird model", false, "http://localhost:8080/prefix/v1beta/models/we%3Fird%20model:generateContent"},
	}
	for _, tt := range tests {
		if got := New(Options{APIBase: tt.base}).endpoint(tt.model, tt.stream); got != tt.want {
			t.Errorf("APIBase %q model %q gives %q, want %q", tt.base, tt.model, got, tt.want)
		}
	}
}
