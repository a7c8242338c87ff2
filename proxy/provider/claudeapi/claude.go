// Package claudeapi sends Anthropic Messages requests to Claude as the client wrote them: to
// Anthropic's API with only the model changed, to Claude on Vertex AI (rawPredict and
// streamRawPredict) and on Bedrock (InvokeModel and InvokeModelWithResponseStream) in the
// envelope each documents. Nothing is translated, so every field the client sends reaches the
// model (context_management, metadata, defer_loading on tools, thinking, cache_control) and the
// answer comes back as Anthropic wrote it.
//
// Each deployment type wraps the chat provider of the same deployment, so a route keeps serving
// chat completions through that provider; the gateway uses Messages where the client spoke
// Anthropic's API.
package claudeapi

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/clawgate/clawgate/proxy/provider"
	"github.com/clawgate/clawgate/proxy/provider/anthropic"
	"github.com/clawgate/clawgate/proxy/provider/internal/gcp"
	"github.com/clawgate/clawgate/proxy/provider/internal/httpx"
)

// maxBody caps a non-streamed answer, as the chat providers do.
const maxBody = 64 << 20

// Request is one Messages call.
type Request struct {
	// Body is the client's Messages request, as it came.
	Body []byte
	// Model is the upstream model id the body's model is replaced with.
	Model  string
	Stream bool
	// Header holds the client's anthropic-version and anthropic-beta.
	Header http.Header
}

// Response is the upstream's answer in Anthropic's format.
type Response struct {
	// Header holds upstream headers worth passing on (request id, rate limits, retry-after).
	Header http.Header
	// Body is the Message JSON of a non-streamed call.
	Body []byte
	// Stream yields the events of a streamed call.
	Stream Stream
}

// Stream yields a Messages stream's events: the event's name (its data's "type") and its JSON
// data, valid until the next call. Next returns io.EOF at the stream's clean end.
type Stream interface {
	Next() (event, data []byte, err error)
	Close() error
}

// Sender sends Messages requests to one deployment.
type Sender interface {
	Messages(ctx context.Context, req *Request) (*Response, error)
}

// Options configure a deployment on Anthropic's API or on Vertex AI.
type Options struct {
	// APIBase, APIKey and Headers are as for anthropic.Options.
	APIBase, APIKey string
	Headers         map[string]string
	// Client replaces the shared client (tests).
	Client httpx.Doer
}

// Anthropic is a Claude deployment on Anthropic's API, or on Vertex AI: chat completions go to
// the embedded provider, Messages pass through.
type Anthropic struct {
	provider.Provider
	url    string // .../v1/messages, or Vertex's models prefix
	vertex bool
	token  func(context.Context) (string, error)
	key    string
	extra  http.Header
	client httpx.Doer
}

// Wrap gives p, the chat provider of an Anthropic API deployment, a Messages pass-through
// configured by o.
func Wrap(p provider.Provider, o Options) *Anthropic {
	base := strings.TrimRight(strings.TrimSpace(o.APIBase), "/")
	if base == "" {
		base = anthropic.DefaultAPIBase
	}
	a := &Anthropic{Provider: p, key: o.APIKey, extra: headers(o.Headers), client: o.Client}
	switch {
	case strings.HasSuffix(base, "/v1/messages"):
		a.url = base
	case strings.HasSuffix(base, "/v1"):
		a.url = base + "/messages"
	default:
		a.url = base + "/v1/messages"
	}
	if a.client == nil {
		a.client = httpx.Shared()
	}
	return a
}

// VertexOptions configure Claude on Vertex AI, as anthropic.VertexOptions.
type VertexOptions struct {
	Project, Location, Credentials, APIBase string
	Headers                                 map[string]string
	Client                                  httpx.Doer
}

// WrapVertex gives p, the chat provider of a Claude deployment on Vertex AI, a Messages
// pass-through to .../publishers/anthropic/models/{model}:rawPredict (or :streamRawPredict).
func WrapVertex(p provider.Provider, o VertexOptions) (*Anthropic, error) {
	client := o.Client
	if client == nil {
		client = httpx.Shared()
	}
	prefix, ts, err := gcp.Vertex(o.Project, o.Location, o.Credentials, o.APIBase, client)
	if err != nil {
		return nil, err
	}
	return &Anthropic{Provider: p, url: prefix + "/publishers/anthropic/models", vertex: true, token: ts.Token,
		extra: headers(o.Headers), client: client}, nil
}

func headers(m map[string]string) http.Header {
	h := make(http.Header, len(m))
	for k, v := range m {
		h.Set(k, v)
	}
	return h
}

// Messages sends req. The body goes out as the client wrote it but for the model (on Vertex,
// the model moves to the URL and anthropic_version into the body); anthropic-version and
// anthropic-beta are the client's, with the deployment's betas added. An error answer is a
// *provider.Error with the upstream's status, type and message. The caller must Close a Stream.
func (a *Anthropic) Messages(ctx context.Context, req *Request) (*Response, error) {
	target := a.url
	var body []byte
	var err error
	if a.vertex {
		method := ":rawPredict"
		if req.Stream {
			method = ":streamRawPredict"
		}
		target += "/" + url.PathEscape(req.Model) + method
		body, err = ForVertex(req.Body)
	} else {
		body, err = ForAnthropic(req.Body, req.Model)
	}
	if err != nil {
		return nil, badRequest("invalid JSON body: " + err.Error())
	}
	resp, err := a.send(ctx, target, body, req)
	if err != nil {
		return nil, err
	}
	return answer(ctx, resp, "claude", req.Stream, "text/event-stream", func(body io.ReadCloser) Stream {
		return &sseStream{body: body, r: httpx.NewSSEReader(body, "claude: ")}
	})
}

// answer reads a 2xx answer: the whole body for a call that does not stream, else a Stream made
// by open over a body of the media type want (anything else is a 502). name prefixes errors.
func answer(ctx context.Context, resp *http.Response, name string, stream bool, want string, open func(io.ReadCloser) Stream) (*Response, error) {
	out := &Response{Header: passHeaders(resp.Header)}
	if !stream {
		defer resp.Body.Close()
		var err error
		out.Body, err = httpx.ReadBody(resp, name+": ", maxBody)
		if err != nil {
			return nil, httpx.Failure(ctx, name, "reading response", err, nil)
		}
		return out, nil
	}
	if ctype := httpx.MediaType(resp.Header.Get("Content-Type")); ctype != want {
		resp.Body.Close()
		return nil, &provider.Error{Status: http.StatusBadGateway, Type: "api_error",
			Message: name + ": upstream answered a streaming request with " + ctype + " instead of " + want}
	}
	out.Stream = open(resp.Body)
	return out, nil
}

// CountMessages asks the upstream to count a Messages request's input tokens: Anthropic's
// /v1/messages/count_tokens, or Vertex AI's count-tokens:rawPredict, with the client's
// anthropic-* headers (a body using beta features is counted only with them). The answer,
// {"input_tokens":N}, is returned as it came.
func (a *Anthropic) CountMessages(ctx context.Context, req *Request) ([]byte, error) {
	target := a.url + "/count_tokens"
	body, err := ForAnthropic(req.Body, req.Model)
	if err == nil && a.vertex {
		target = a.url + "/count-tokens:rawPredict"
		body, err = Splice(body, Edit{"anthropic_version", quote(VertexVersion)})
	}
	if err != nil {
		return nil, badRequest("invalid JSON body: " + err.Error())
	}
	resp, err := a.send(ctx, target, body, &Request{Header: req.Header})
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	out, err := httpx.ReadBody(resp, "claude: ", 1<<20)
	if err != nil {
		return nil, httpx.Failure(ctx, "claude", "reading response", err, nil)
	}
	return out, nil
}

// send posts body to target with the headers described at Messages and returns a 2xx answer.
func (a *Anthropic) send(ctx context.Context, target string, body []byte, req *Request) (*http.Response, error) {
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return nil, &provider.Error{Status: http.StatusInternalServerError, Type: "api_error", Message: "claude: bad api_base: " + err.Error(), Err: err}
	}
	h := hreq.Header
	h["Content-Type"] = []string{"application/json"}
	h["User-Agent"] = []string{"clawgate"}
	if !a.vertex {
		h["Anthropic-Version"] = []string{firstNonEmpty(req.Header.Get("Anthropic-Version"), anthropic.DefaultVersion)}
	}
	if a.key != "" {
		h["X-Api-Key"] = []string{a.key}
	}
	for k, v := range a.extra {
		if k != "Anthropic-Beta" {
			h[k] = v
		}
	}
	if betas := Betas(req.Header, a.extra); len(betas) > 0 {
		h["Anthropic-Beta"] = []string{strings.Join(betas, ",")}
	}
	if req.Stream {
		h["Accept"] = []string{"text/event-stream"}
		h["Accept-Encoding"] = []string{"identity"} // a compressing proxy may hold small events back
	}
	if a.token != nil {
		if err := httpx.Bearer(ctx, h, a.token); err != nil {
			return nil, err
		}
	}
	resp, err := a.client.Do(hreq)
	if err != nil {
		return nil, httpx.Failure(ctx, "claude", "sending request", err, nil)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, httpx.StatusError(resp, "claude: ", "check api_base", decodeError)
	}
	return resp, nil
}

// Betas is the anthropic-beta features of the client's headers and then the deployment's, each once.
func Betas(client, deployment http.Header) []string {
	var out []string
	for _, h := range []http.Header{client, deployment} {
		for _, v := range h.Values("Anthropic-Beta") {
			for item := range strings.SplitSeq(v, ",") {
				item = strings.TrimSpace(item)
				if item != "" && !contains(out, item) {
					out = append(out, item)
				}
			}
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func firstNonEmpty(v ...string) string {
	for _, s := range v {
		if s != "" {
			return s
		}
	}
	return ""
}

// sseStream reads Anthropic's server-sent events (Vertex's streamRawPredict sends the same).
type sseStream struct {
	body io.ReadCloser
	r    *httpx.SSEReader
}

func (s *sseStream) Next() ([]byte, []byte, error) {
	for {
		ev, data, err := s.r.Next()
		if err != nil {
			if err == io.EOF {
				return nil, nil, io.EOF
			}
			return nil, nil, provider.AsError(err)
		}
		if len(data) == 0 {
			continue // a comment or a keep-alive
		}
		if len(ev) == 0 {
			ev = eventType(data)
		}
		return ev, data, nil
	}
}

// Buffered says whether more events are in memory, so the gateway can flush once per burst.
func (s *sseStream) Buffered() int { return s.r.Buffered() }

func (s *sseStream) Close() error { return s.body.Close() }

// eventType reads an event's "type", its SSE name.
func eventType(data []byte) []byte {
	var t struct {
		Type string `json:"type"`
	}
	_ = json.Unmarshal(data, &t)
	return []byte(t.Type)
}

// passHeaders keeps the upstream headers a client may want: request ids, rate limits, retry-after.
func passHeaders(h http.Header) http.Header {
	out := make(http.Header, 8)
	for k, v := range h {
		if k == "Request-Id" || k == "Retry-After" || k == "X-Amzn-Requestid" || strings.HasPrefix(k, "Anthropic-Ratelimit-") {
			out[k] = v
		}
	}
	return out
}

// decodeError reads an error answer: Anthropic's {"type":"error","error":{...}}, or a cloud
// platform's {"message":...} (with Bedrock's error type in a header).
func decodeError(status int, h http.Header, body []byte) *provider.Error {
	e := &provider.Error{Status: status, RetryAfter: httpx.RetryAfter(h, time.Now())}
	var env struct {
		Error *struct {
			Type    string `json:"type"`
			Message string `json:"message"`
		} `json:"error"`
		Message string `json:"message"`
	}
	b := bytes.TrimSpace(body)
	switch {
	case len(b) > 0 && b[0] == '{' && json.Unmarshal(b, &env) == nil && env.Error != nil:
		e.Type, e.Message = env.Error.Type, env.Error.Message
	case len(b) > 0 && b[0] == '{' && env.Message != "":
		e.Message = env.Message
		e.Type, _, _ = strings.Cut(h.Get("X-Amzn-Errortype"), ":")
	case len(b) > 0 && b[0] == '<':
		e.Message = httpx.HTMLMessage(b)
	default:
		e.Message = string(b)
	}
	if e.Message == "" {
		e.Message = http.StatusText(status)
	}
	e.Message = httpx.Truncate(e.Message, httpx.MaxMessage)
	return e
}

func badRequest(msg string) *provider.Error {
	return &provider.Error{Status: http.StatusBadRequest, Type: "invalid_request_error", Message: msg}
}
