package openai

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/clawgate/clawgate/proxy/provider"
	"github.com/clawgate/clawgate/proxy/provider/internal/httpx"
)

func readFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// recorded is what the fake upstream saw.
type recorded struct {
	method, path string
	header       http.Header
	body         []byte
}

// upstream is an httptest server that records each request and replays one canned answer.
func upstream(t *testing.T, status int, header http.Header, body []byte) (*httptest.Server, chan recorded) {
	t.Helper()
	seen := make(chan recorded, 16)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		seen <- recorded{r.Method, r.URL.Path, r.Header.Clone(), b}
		for k, v := range header {
			w.Header()[k] = v
		}
		w.WriteHeader(status)
		w.Write(body)
	}))
	t.Cleanup(srv.Close)
	return srv, seen
}

// sseUpstream replays an SSE transcript in pieces of size bytes, flushing after each, so the
// client sees split reads at arbitrary points (mid-line, mid-CRLF).
func sseUpstream(t *testing.T, transcript []byte, size int) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "text/event-stream; charset=utf-8")
		w.Header().Set("X-Request-Id", "req_stream")
		w.WriteHeader(http.StatusOK)
		f := w.(http.Flusher)
		for len(transcript) > 0 {
			n := min(size, len(transcript))
			if _, err := w.Write(transcript[:n]); err != nil {
				return
			}
			f.Flush()
			transcript = transcript[n:]
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestChatForwardsRequest(t *testing.T) {
	reqBody := readFile(t, "request.json")
	completion := readFile(t, "chat_completion.json")
	respHeader := http.Header{
		"Content-Type":                   {"application/json"},
		"X-Request-Id":                   {"req_abc123"},
		"X-Ratelimit-Remaining-Requests": {"9999"},
		"Openai-Processing-Ms":           {"321"},
		"Set-Cookie":                     {"__cf_bm=secret"},
	}
	tests := []struct {
		name       string
		baseSuffix string
		key        string
		extra      map[string]string
		client     http.Header
		stream     bool
		wantAuth   string
		wantExtra  map[string]string
	}{
		{name: "key and v1 base", baseSuffix: "/v1", key: "sk-test", wantAuth: "Bearer sk-test"},
		{name: "trailing slash as users write it", baseSuffix: "/v1/", key: "sk-test", wantAuth: "Bearer sk-test"},
		{name: "no key sends no authorization", baseSuffix: "/v1",
			client: http.Header{"Authorization": {"Bearer sk-gateway-key"}}},
		{name: "extra headers", baseSuffix: "/api/v1", key: "sk-or",
			extra:     map[string]string{"HTTP-Referer": "https://clawgate.app", "x-title": "Clawgate"},
			wantAuth:  "Bearer sk-or",
			wantExtra: map[string]string{"Http-Referer": "https://clawgate.app", "X-Title": "Clawgate"}},
		{name: "extra header overrides authorization", baseSuffix: "/v1", key: "sk-test",
			extra:    map[string]string{"Authorization": "Bearer override"},
			wantAuth: "Bearer override"},
		{name: "client headers forwarded but not over ours", baseSuffix: "/v1", key: "sk-test",
			client:    http.Header{"X-Trace-Id": {"t-1"}, "Authorization": {"Bearer sk-gateway-key"}, "Content-Type": {"text/plain"}},
			wantAuth:  "Bearer sk-test",
			wantExtra: map[string]string{"X-Trace-Id": "t-1"}},
		{name: "stream", baseSuffix: "/v1", key: "sk-test", stream: true, wantAuth: "Bearer sk-test"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var srv *httptest.Server
			var seen chan recorded
			if tt.stream {
				seen = make(chan recorded, 1)
				transcript := readFile(t, "stream_text.sse")
				srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					b, _ := io.ReadAll(r.Body)
					seen <- recorded{r.Method, r.URL.Path, r.Header.Clone(), b}
					w.Header().Set("Content-Type", "text/event-stream")
					w.Header().Set("X-Request-Id", "req_abc123")
					w.Write(transcript)
				}))
				t.Cleanup(srv.Close)
			} else {
				srv, seen = upstream(t, http.StatusOK, respHeader, completion)
			}
			p := New(Options{APIBase: srv.URL + tt.baseSuffix, APIKey: tt.key, Headers: tt.extra})
			resp, err := p.Chat(context.Background(), &provider.Request{
				Body: reqBody, Model: "gpt-4o-mini", Stream: tt.stream, Header: tt.client,
			})
			if err != nil {
				t.Fatalf("Chat: %v", err)
			}
			got := <-seen

			wantPath := strings.TrimSuffix(tt.baseSuffix, "/") + "/chat/completions"
			if got.method != http.MethodPost || got.path != wantPath {
				t.Errorf("request = %s %s, want POST %s", got.method, got.path, wantPath)
			}
			if !bytes.Equal(got.body, reqBody) {
				t.Errorf("body was changed on the way:\n got %q\nwant %q", got.body, reqBody)
			}
			if a := got.header.Get("Authorization"); a != tt.wantAuth {
				t.Errorf("Authorization = %q, want %q", a, tt.wantAuth)
			}
			if ct := got.header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type = %q", ct)
			}
			for k, v := range tt.wantExtra {
				if g := got.header.Get(k); g != v {
					t.Errorf("header %s = %q, want %q", k, g, v)
				}
			}
			wantAccept := "application/json"
			if tt.stream {
				wantAccept = "text/event-stream"
				if ae := got.header.Get("Accept-Encoding"); ae != "identity" {
					t.Errorf("stream Accept-Encoding = %q, want identity", ae)
				}
			}
			if a := got.header.Get("Accept"); a != wantAccept {
				t.Errorf("Accept = %q, want %q", a, wantAccept)
			}

			if resp.Header.Get("X-Request-Id") != "req_abc123" {
				t.Errorf("response X-Request-Id not passed on: %v", resp.Header)
			}
			if tt.stream {
				defer resp.Stream.Close()
				payloads, err := drainStream(t, resp.Stream.(*Stream))
				if err != io.EOF {
					t.Fatalf("stream end = %v", err)
				}
				if want := goldenLines(t, "testdata/stream_text.golden"); strings.Join(payloads, "\n") != strings.Join(want, "\n") {
					t.Errorf("stream payloads differ from golden")
				}
				return
			}
			if !bytes.Equal(resp.Body, completion) {
				t.Errorf("response body changed:\n got %q\nwant %q", resp.Body, completion)
			}
			if resp.Stream != nil {
				t.Error("non-streamed call returned a Stream")
			}
			if resp.Header.Get("X-Ratelimit-Remaining-Requests") != "9999" || resp.Header.Get("Openai-Processing-Ms") != "321" {
				t.Errorf("rate-limit headers not passed on: %v", resp.Header)
			}
			for _, h := range []string{"Content-Type", "Content-Length", "Set-Cookie"} {
				if _, ok := resp.Header[h]; ok {
					t.Errorf("header %s passed on, want it dropped", h)
				}
			}
		})
	}
}

// chunk is the part of a chat.completion.chunk the transcript checks read.
type chunk struct {
	Object  string `json:"object"`
	Choices []struct {
		Delta struct {
			Content   *string `json:"content"`
			ToolCalls []struct {
				Index    int    `json:"index"`
				ID       string `json:"id"`
				Function struct {
					Name      string `json:"name"`
					Arguments string `json:"arguments"`
				} `json:"function"`
			} `json:"tool_calls"`
		} `json:"delta"`
		FinishReason *string `json:"finish_reason"`
	} `json:"choices"`
	Usage *struct {
		PromptTokens     int `json:"prompt_tokens"`
		CompletionTokens int `json:"completion_tokens"`
		TotalTokens      int `json:"total_tokens"`
	} `json:"usage"`
}

func TestChatStreamTranscripts(t *testing.T) {
	tests := []struct {
		file       string
		size       int // bytes per flushed write
		wantText   string
		wantTool   string
		wantArgs   string
		wantFinish string
		wantUsage  [3]int
	}{
		{file: "stream_text", size: 1 << 20, wantText: "Hello! How can I help you today?", wantFinish: "stop", wantUsage: [3]int{19, 9, 28}},
		{file: "stream_text", size: 7, wantText: "Hello! How can I help you today?", wantFinish: "stop", wantUsage: [3]int{19, 9, 28}},
		{file: "stream_tool_calls", size: 1 << 20, wantTool: "get_weather", wantArgs: `{"location":"Boston, MA","unit":"celsius"}`, wantFinish: "tool_calls", wantUsage: [3]int{82, 18, 100}},
		{file: "stream_tool_calls", size: 3, wantTool: "get_weather", wantArgs: `{"location":"Boston, MA","unit":"celsius"}`, wantFinish: "tool_calls", wantUsage: [3]int{82, 18, 100}},
	}
	for _, tt := range tests {
		t.Run(tt.file+"/"+itoa(tt.size), func(t *testing.T) {
			srv := sseUpstream(t, readFile(t, tt.file+".sse"), tt.size)
			resp, err := New(Options{APIBase: srv.URL}).Chat(context.Background(), &provider.Request{Body: []byte(`{}`), Stream: true})
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Stream.Close()
			var text, tool, args, finish strings.Builder
			var usage [3]int
			n := 0
			for {
				p, err := resp.Stream.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatalf("Next: %v", err)
				}
				n++
				var c chunk
				if err := json.Unmarshal(p, &c); err != nil {
					t.Fatalf("payload %d is not JSON: %v: %q", n, err, p)
				}
				if c.Object != "chat.completion.chunk" {
					t.Errorf("object = %q", c.Object)
				}
				for _, ch := range c.Choices {
					if ch.Delta.Content != nil {
						text.WriteString(*ch.Delta.Content)
					}
					for _, tc := range ch.Delta.ToolCalls {
						tool.WriteString(tc.Function.Name)
						args.WriteString(tc.Function.Arguments)
					}
					if ch.FinishReason != nil {
						finish.WriteString(*ch.FinishReason)
					}
				}
				if c.Usage != nil {
					if len(c.Choices) != 0 {
						t.Errorf("usage chunk has choices")
					}
					usage = [3]int{c.Usage.PromptTokens, c.Usage.CompletionTokens, c.Usage.TotalTokens}
				}
			}
			if text.String() != tt.wantText || tool.String() != tt.wantTool || args.String() != tt.wantArgs || finish.String() != tt.wantFinish {
				t.Errorf("assembled text %q tool %q args %q finish %q", text.String(), tool.String(), args.String(), finish.String())
			}
			if usage != tt.wantUsage {
				t.Errorf("usage = %v, want %v", usage, tt.wantUsage)
			}
			if want := len(goldenLines(t, "testdata/"+tt.file+".golden")); n != want {
				t.Errorf("%d payloads, want %d", n, want)
			}
		})
	}
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

func TestChatHTTPErrors(t *testing.T) {
	date := time.Now().Add(90 * time.Second).UTC().Format(http.TimeFormat)
	tests := []struct {
		name      string
		status    int
		header    http.Header
		body      []byte
		want      provider.Error
		retryMin  time.Duration
		retryMax  time.Duration
		retryable bool
	}{
		{name: "400 invalid value", status: 400, body: readFile(t, "error_400.json"),
			want: provider.Error{Status: 400, Message: "Invalid value for 'temperature': must be between 0 and 2.", Type: "invalid_request_error", Code: "invalid_value", Param: "temperature"}},
		{name: "401 bad key", status: 401, body: readFile(t, "error_401.json"),
			want: provider.Error{Status: 401, Message: "Incorrect API key provided: sk-proj-****************abcd. You can find your API key at https://platform.openai.com/account/api-keys.", Type: "invalid_request_error", Code: "invalid_api_key"}},
		{name: "429 with retry-after seconds", status: 429, header: http.Header{"Retry-After": {"20"}}, body: readFile(t, "error_429.json"),
			want:     provider.Error{Status: 429, Message: "Rate limit reached for gpt-4o-mini in organization org-Example on tokens per min (TPM): Limit 200000, Used 199000, Requested 2400. Please try again in 420ms.", Type: "tokens", Code: "rate_limit_exceeded"},
			retryMin: 20 * time.Second, retryMax: 20 * time.Second, retryable: true},
		{name: "429 retry-after-ms preferred", status: 429, header: http.Header{"Retry-After": {"1"}, "Retry-After-Ms": {"420"}}, body: readFile(t, "error_429.json"),
			want:     provider.Error{Status: 429, Message: "Rate limit reached for gpt-4o-mini in organization org-Example on tokens per min (TPM): Limit 200000, Used 199000, Requested 2400. Please try again in 420ms.", Type: "tokens", Code: "rate_limit_exceeded"},
			retryMin: 420 * time.Millisecond, retryMax: 420 * time.Millisecond, retryable: true},
		{name: "503 retry-after date", status: 503, header: http.Header{"Retry-After": {date}}, body: []byte("upstream overloaded\n"),
			want:     provider.Error{Status: 503, Message: "upstream overloaded"},
			retryMin: 80 * time.Second, retryMax: 91 * time.Second, retryable: true},
		{name: "500 server error", status: 500, body: readFile(t, "error_500.json"),
			want: provider.Error{Status: 500, Message: "The server had an error while processing your request. Sorry about that!", Type: "server_error"}, retryable: true},
		{name: "ollama error string", status: 404, header: http.Header{"Content-Type": {"application/json"}}, body: []byte(`{"error":"model \"llama9\" not found, try pulling it first"}`),
			want: provider.Error{Status: 404, Message: `model "llama9" not found, try pulling it first`}},
		{name: "vllm flat error", status: 400, body: []byte(`{"object":"error","message":"max_tokens is too large","type":"BadRequestError","param":null,"code":400}`),
			want: provider.Error{Status: 400, Message: "max_tokens is too large", Type: "BadRequestError", Code: "400"}},
		{name: "fastapi detail", status: 404, body: []byte(`{"detail":"Not Found"}`),
			want: provider.Error{Status: 404, Message: "Not Found"}},
		{name: "fastapi validation detail", status: 422, body: []byte(`{"detail":[{"loc":["body","messages"],"msg":"field required","type":"value_error.missing"}]}`),
			want: provider.Error{Status: 422, Message: `[{"loc":["body","messages"],"msg":"field required","type":"value_error.missing"}]`}},
		{name: "openrouter numeric code and raw metadata", status: 402, body: []byte(`{"error":{"code":402,"message":"Provider returned error","metadata":{"raw":"insufficient balance","provider_name":"X"}}}`),
			want: provider.Error{Status: 402, Message: "Provider returned error: insufficient balance", Code: "402"}},
		{name: "wrapped in an array", status: 400, body: []byte(`[{"error":{"code":400,"message":"Invalid JSON payload","status":"INVALID_ARGUMENT"}}]`),
			want: provider.Error{Status: 400, Message: "Invalid JSON payload", Code: "400"}},
		{name: "html page", status: 502, body: []byte("<html>\n<head><title>502 Bad Gateway</title></head><body>nginx</body></html>"),
			want: provider.Error{Status: 502, Message: "upstream answered with an HTML page: 502 Bad Gateway"}, retryable: true},
		{name: "empty body", status: 504,
			want: provider.Error{Status: 504, Message: "Gateway Timeout"}, retryable: true},
		{name: "unknown JSON", status: 418, body: []byte(`{"teapot":true}`),
			want: provider.Error{Status: 418, Message: `{"teapot":true}`}},
		{name: "529 overloaded", status: 529, body: []byte(`{"error":{"message":"Overloaded","type":"overloaded_error"}}`),
			want: provider.Error{Status: 529, Message: "Overloaded", Type: "overloaded_error"}, retryable: true},
	}
	for _, tt := range tests {
		for _, stream := range []bool{false, true} {
			name := tt.name
			if stream {
				name += "/stream"
			}
			t.Run(name, func(t *testing.T) {
				srv, _ := upstream(t, tt.status, tt.header, tt.body)
				resp, err := New(Options{APIBase: srv.URL, APIKey: "k"}).Chat(context.Background(), &provider.Request{Body: []byte(`{}`), Stream: stream})
				if resp != nil {
					t.Errorf("resp = %+v, want nil", resp)
				}
				var pe *provider.Error
				if !errors.As(err, &pe) {
					t.Fatalf("err = %v, want *provider.Error", err)
				}
				got := *pe
				got.RetryAfter, got.Err = 0, nil
				if got != tt.want {
					t.Errorf("got  %+v\nwant %+v", got, tt.want)
				}
				if pe.RetryAfter < tt.retryMin || pe.RetryAfter > tt.retryMax {
					t.Errorf("RetryAfter = %v, want in [%v, %v]", pe.RetryAfter, tt.retryMin, tt.retryMax)
				}
				if pe.Retryable() != tt.retryable {
					t.Errorf("Retryable = %v, want %v", pe.Retryable(), tt.retryable)
				}
			})
		}
	}
}

func TestChatLongErrorMessageTruncated(t *testing.T) {
	long := strings.Repeat("é", 5000) // 2-byte runes: a cut must not split one
	srv, _ := upstream(t, 400, nil, []byte(`{"error":{"message":"`+long+`"}}`))
	_, err := New(Options{APIBase: srv.URL}).Chat(context.Background(), &provider.Request{Body: []byte(`{}`)})
	var pe *provider.Error
	if !errors.As(err, &pe) {
		t.Fatal(err)
	}
	if len(pe.Message) > maxMessage || !strings.HasSuffix(pe.Message, "…") || !strings.HasPrefix(pe.Message, "éé") {
		t.Errorf("message not truncated cleanly: %d bytes, %q...", len(pe.Message), pe.Message[:10])
	}
	if !utf8Valid(pe.Message) {
		t.Error("truncated message is not valid UTF-8")
	}
}

func utf8Valid(s string) bool { return strings.ToValidUTF8(s, "\uFFFD") == s }

func TestChatRedirectIsReported(t *testing.T) {
	srv, _ := upstream(t, http.StatusMovedPermanently, http.Header{"Location": {"https://api.example.com/v1/chat/completions"}}, nil)
	_, err := New(Options{APIBase: srv.URL}).Chat(context.Background(), &provider.Request{Body: []byte(`{}`)})
	var pe *provider.Error
	if !errors.As(err, &pe) || pe.Status != http.StatusBadGateway || !strings.Contains(pe.Message, "https://api.example.com/v1/chat/completions") {
		t.Fatalf("err = %v, want a 502 naming the redirect target", err)
	}
}

func TestChatUnstreamedAnswers(t *testing.T) {
	tests := []struct {
		name    string
		stream  bool
		ctype   string
		body    string
		wantMsg string
	}{
		{"json to a stream", true, "application/json", string(readFile(t, "chat_completion.json")), "instead of text/event-stream"},
		{"json error envelope with 200", true, "application/json; charset=utf-8", `{"error":{"message":"model is loading"}}`, "model is loading"},
		{"html to a stream", true, "text/html", "<html><title>Login</title></html>", "text/html instead of text/event-stream"},
		{"event stream to a plain call", false, "text/event-stream", "data: [DONE]\n\n", "non-streaming request with an event stream"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, _ := upstream(t, http.StatusOK, http.Header{"Content-Type": {tt.ctype}}, []byte(tt.body))
			_, err := New(Options{APIBase: srv.URL}).Chat(context.Background(), &provider.Request{Body: []byte(`{}`), Stream: tt.stream})
			var pe *provider.Error
			if !errors.As(err, &pe) || pe.Status != http.StatusBadGateway || !strings.Contains(pe.Message, tt.wantMsg) {
				t.Fatalf("err = %v, want 502 containing %q", err, tt.wantMsg)
			}
		})
	}
}

func TestChatOversizedBody(t *testing.T) {
	t.Run("declared", func(t *testing.T) {
		srv := rawServer(t, func(c net.Conn) {
			io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 70000000\r\n\r\n{")
		})
		_, err := New(Options{APIBase: srv}).Chat(context.Background(), &provider.Request{Body: []byte(`{}`)})
		var pe *provider.Error
		if !errors.As(err, &pe) || pe.Status != http.StatusBadGateway || pe.Transport || !strings.Contains(pe.Message, "64 MiB") {
			t.Fatalf("err = %v, want 502 too large", err)
		}
	})
	t.Run("chunked", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			io.CopyN(w, endless(' '), maxBody+10)
		}))
		defer srv.Close()
		_, err := New(Options{APIBase: srv.URL}).Chat(context.Background(), &provider.Request{Body: []byte(`{}`)})
		var pe *provider.Error
		if !errors.As(err, &pe) || pe.Status != http.StatusBadGateway || pe.Transport || !strings.Contains(pe.Message, "64 MiB") {
			t.Fatalf("err = %v, want 502 too large", err)
		}
	})
}

// rawServer accepts connections and hands each, after reading the request head, to serve.
func rawServer(t *testing.T, serve func(net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				req, err := http.ReadRequest(bufio.NewReader(c))
				if err != nil {
					return
				}
				io.Copy(io.Discard, req.Body)
				serve(c)
			}()
		}
	}()
	return "http://" + ln.Addr().String()
}

func TestChatTransportErrors(t *testing.T) {
	closed := httptest.NewServer(http.NotFoundHandler())
	closedURL := closed.URL
	closed.Close()

	tests := []struct {
		name   string
		base   string
		stream bool
	}{
		{"connection refused", closedURL, false},
		{"connection refused stream", closedURL, true},
		{"closed before answering", rawServer(t, func(net.Conn) {}), false},
		{"garbage instead of HTTP", rawServer(t, func(c net.Conn) { io.WriteString(c, "SSH-2.0-OpenSSH\r\n\r\n") }), false},
		{"body cut short", rawServer(t, func(c net.Conn) {
			io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"id\":")
		}), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(Options{APIBase: tt.base}).Chat(context.Background(), &provider.Request{Body: []byte(`{}`), Stream: tt.stream})
			var pe *provider.Error
			if !errors.As(err, &pe) || !pe.Transport || pe.Status != http.StatusBadGateway || pe.Type != "api_connection_error" || pe.Err == nil {
				t.Fatalf("err = %#v, want a 502 transport error", err)
			}
			if !pe.Retryable() {
				t.Error("transport error not retryable")
			}
		})
	}
}

func TestChatStreamBrokenConnection(t *testing.T) {
	// Chunked SSE cut off mid-body: the events before the cut arrive, then a 502 transport error.
	base := rawServer(t, func(c net.Conn) {
		ev := "data: {\"a\":1}\n\n"
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n")
		io.WriteString(c, hex(len(ev))+"\r\n"+ev+"\r\n")
		io.WriteString(c, "20\r\ndata: {\"a\"")
	})
	resp, err := New(Options{APIBase: base}).Chat(context.Background(), &provider.Request{Body: []byte(`{}`), Stream: true})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Stream.Close()
	got, err := drainStream(t, resp.Stream.(*Stream))
	if len(got) != 1 || got[0] != `{"a":1}` {
		t.Errorf("payloads = %q", got)
	}
	var pe *provider.Error
	if !errors.As(err, &pe) || !pe.Transport || pe.Status != http.StatusBadGateway {
		t.Fatalf("err = %#v, want 502 transport", err)
	}
}

func hex(n int) string {
	const digits = "0123456789abcdef"
	s := ""
	for ; n > 0; n /= 16 {
		s = string(digits[n%16]) + s
	}
	return s
}

// blockingUpstream answers nothing until the request's context ends (or the test does); started
// receives once per request that reached it.
func blockingUpstream(t *testing.T, stream bool) (*httptest.Server, chan struct{}) {
	t.Helper()
	started := make(chan struct{}, 4)
	stop := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		if stream {
			w.Header().Set("Content-Type", "text/event-stream")
			io.WriteString(w, "data: {\"a\":1}\n\n")
			w.(http.Flusher).Flush()
		}
		started <- struct{}{}
		select {
		case <-r.Context().Done():
		case <-stop:
		}
	}))
	t.Cleanup(func() { close(stop); srv.Close() })
	return srv, started
}

func TestChatTimeouts(t *testing.T) {
	t.Run("caller deadline", func(t *testing.T) {
		srv, _ := blockingUpstream(t, false)
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		_, err := New(Options{APIBase: srv.URL}).Chat(ctx, &provider.Request{Body: []byte(`{}`)})
		assertTimeout(t, err)
	})
	t.Run("options timeout", func(t *testing.T) {
		srv, _ := blockingUpstream(t, false)
		_, err := New(Options{APIBase: srv.URL, Timeout: 50 * time.Millisecond}).Chat(context.Background(), &provider.Request{Body: []byte(`{}`)})
		assertTimeout(t, err)
	})
	t.Run("options timeout before stream headers", func(t *testing.T) {
		srv, _ := blockingUpstream(t, false)
		_, err := New(Options{APIBase: srv.URL, Timeout: 50 * time.Millisecond}).Chat(context.Background(), &provider.Request{Body: []byte(`{}`), Stream: true})
		assertTimeout(t, err)
	})
	t.Run("stream silence", func(t *testing.T) {
		srv, _ := blockingUpstream(t, true)
		resp, err := New(Options{APIBase: srv.URL, Timeout: 100 * time.Millisecond}).Chat(context.Background(), &provider.Request{Body: []byte(`{}`), Stream: true})
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Stream.Close()
		if p, err := resp.Stream.Next(); err != nil || string(p) != `{"a":1}` {
			t.Fatalf("first Next = %q, %v", p, err)
		}
		_, err = resp.Stream.Next()
		assertTimeout(t, err)
	})
	t.Run("stream longer than timeout keeps going", func(t *testing.T) {
		// Events every 100ms for 1.2s with a 600ms timeout: the timeout bounds silence, not length.
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/event-stream")
			for range 12 {
				io.WriteString(w, "data: {\"a\":1}\n\n")
				w.(http.Flusher).Flush()
				time.Sleep(100 * time.Millisecond)
			}
			io.WriteString(w, "data: [DONE]\n\n")
		}))
		defer srv.Close()
		resp, err := New(Options{APIBase: srv.URL, Timeout: 600 * time.Millisecond}).Chat(context.Background(), &provider.Request{Body: []byte(`{}`), Stream: true})
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Stream.Close()
		got, err := drainStream(t, resp.Stream.(*Stream))
		if err != io.EOF || len(got) != 12 {
			t.Fatalf("got %d payloads, end %v; want 12 and io.EOF", len(got), err)
		}
	})
}

func assertTimeout(t *testing.T, err error) {
	t.Helper()
	var pe *provider.Error
	if !errors.As(err, &pe) || pe.Status != http.StatusGatewayTimeout || !pe.Transport || pe.Type != "timeout" {
		t.Fatalf("err = %#v, want a 504 transport timeout", err)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("errors.Is(err, DeadlineExceeded) = false for %v", err)
	}
}

func TestChatCancel(t *testing.T) {
	t.Run("before headers", func(t *testing.T) {
		srv, started := blockingUpstream(t, false)
		ctx, cancel := context.WithCancel(context.Background())
		go func() { <-started; cancel() }()
		_, err := New(Options{APIBase: srv.URL}).Chat(ctx, &provider.Request{Body: []byte(`{}`)})
		assertCanceled(t, err)
	})
	t.Run("caller's cause kept", func(t *testing.T) {
		srv, started := blockingUpstream(t, false)
		gone := errors.New("client went away")
		ctx, cancel := context.WithCancelCause(context.Background())
		go func() { <-started; cancel(gone) }()
		_, err := New(Options{APIBase: srv.URL}).Chat(ctx, &provider.Request{Body: []byte(`{}`)})
		assertCanceled(t, err)
		if !errors.Is(err, gone) {
			t.Errorf("err = %v, want the caller's cause kept", err)
		}
	})
	t.Run("mid-stream", func(t *testing.T) {
		srv, _ := blockingUpstream(t, true)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		resp, err := New(Options{APIBase: srv.URL, Timeout: time.Minute}).Chat(ctx, &provider.Request{Body: []byte(`{}`), Stream: true})
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Stream.Close()
		if _, err := resp.Stream.Next(); err != nil {
			t.Fatal(err)
		}
		cancel()
		_, err = resp.Stream.Next()
		assertCanceled(t, err)
	})
}

func assertCanceled(t *testing.T, err error) {
	t.Helper()
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	var pe *provider.Error
	if errors.As(err, &pe) {
		t.Errorf("client cancellation reported as upstream failure %+v", pe)
	}
}

func TestStreamCloseAbortsNext(t *testing.T) {
	srv, _ := blockingUpstream(t, true)
	// A timeout makes the idle timer part of the race being checked.
	resp, err := New(Options{APIBase: srv.URL, Timeout: time.Minute}).Chat(context.Background(), &provider.Request{Body: []byte(`{}`), Stream: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := resp.Stream.Next(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := resp.Stream.Next()
		done <- err
	}()
	if err := resp.Stream.Close(); err != nil {
		t.Errorf("Close = %v", err)
	}
	select {
	case err := <-done:
		if err == nil || err == io.EOF {
			t.Errorf("blocked Next after Close = %v, want an error", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not abort a blocked Next")
	}
	if err := resp.Stream.Close(); err != nil {
		t.Errorf("second Close = %v", err)
	}
}

// TestConnectionReuse checks that finished calls give their connection back: a stream closed
// after [DONE] and a read non-streamed answer must not cost a new connection each.
func TestConnectionReuse(t *testing.T) {
	transcript := readFile(t, "stream_text.sse")
	completion := readFile(t, "chat_completion.json")
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		if strings.Contains(r.Header.Get("Accept"), "event-stream") {
			// Flushed event by event like a real server, so the end of the chunked body arrives
			// after [DONE] rather than in the same read.
			w.Header().Set("Content-Type", "text/event-stream")
			for _, ev := range bytes.SplitAfter(transcript, []byte("\n\n")) {
				w.Write(ev)
				w.(http.Flusher).Flush()
			}
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(completion)
	}))
	var conns atomic.Int32
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()

	p := New(Options{APIBase: srv.URL})
	for i := range 6 {
		stream := i%2 == 0
		resp, err := p.Chat(context.Background(), &provider.Request{Body: []byte(`{}`), Stream: stream})
		if err != nil {
			t.Fatal(err)
		}
		if stream {
			if _, err := drainStream(t, resp.Stream.(*Stream)); err != io.EOF {
				t.Fatal(err)
			}
			resp.Stream.Close()
		}
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("%d connections for 6 sequential calls, want 1", n)
	}
}

func TestChatWithoutAPIBase(t *testing.T) {
	_, err := New(Options{}).Chat(context.Background(), &provider.Request{Body: []byte(`{}`)})
	var pe *provider.Error
	if !errors.As(err, &pe) || !strings.Contains(pe.Message, "api_base") {
		t.Fatalf("err = %v, want an error naming api_base", err)
	}
}

func TestChatUsesGivenClient(t *testing.T) {
	srv, _ := upstream(t, http.StatusOK, http.Header{"Content-Type": {"application/json"}}, []byte(`{}`))
	var used atomic.Bool
	client := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		used.Store(true)
		return http.DefaultTransport.RoundTrip(r)
	})}
	if _, err := New(Options{APIBase: srv.URL, Client: client}).Chat(context.Background(), &provider.Request{Body: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	if !used.Load() {
		t.Error("Options.Client was not used")
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestTransport(t *testing.T) {
	tr := Transport()
	if tr != Transport() {
		t.Error("Transport is not shared")
	}
	if tr.MaxIdleConnsPerHost < 64 || tr.MaxIdleConns < tr.MaxIdleConnsPerHost {
		t.Errorf("idle pool too small: %d total, %d per host", tr.MaxIdleConns, tr.MaxIdleConnsPerHost)
	}
	if tr.ResponseHeaderTimeout != 0 {
		t.Error("ResponseHeaderTimeout set; slow models would be cut off")
	}
	if !tr.ForceAttemptHTTP2 || tr.IdleConnTimeout != 90*time.Second || tr.TLSHandshakeTimeout == 0 {
		t.Errorf("transport not tuned: %+v", tr)
	}
	if New(Options{APIBase: "http://x"}).client != httpx.Shared() {
		t.Error("providers do not share the transport")
	}
}
