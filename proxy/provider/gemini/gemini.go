// Package gemini sends OpenAI chat completions to Google AI Studio's Gemini API
// (generateContent and streamGenerateContent?alt=sse).
//
// The translation is pure functions over plain types: FromChat (OpenAI request to
// GenerateContentRequest), ToChatCompletion (GenerateContentResponse to chat.completion) and a
// stream translator (SSE fragments to chat.completion.chunk payloads). Provider is the thin HTTP
// adapter around them.
package gemini

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/clawgate/clawgate/proxy/internal/wire"
	"github.com/clawgate/clawgate/proxy/provider"
	"github.com/clawgate/clawgate/proxy/provider/internal/httpx"
)

const (
	// DefaultAPIBase is Google AI Studio's API; "/v1beta/models/{model}:..." is appended.
	DefaultAPIBase = "https://generativelanguage.googleapis.com"
	// maxBody caps a non-streamed answer; a response is kilobytes (megabytes with images).
	maxBody = 64 << 20
)

// Options configure one deployment.
type Options struct {
	// APIBase defaults to https://generativelanguage.googleapis.com. "/v1beta/models/..." is
	// appended; a base that already ends in a version ("/v1beta", "/v1") keeps it.
	APIBase string
	// APIKey is sent as x-goog-api-key; empty sends none (a proxy in between may add it).
	APIKey string
	// Headers are litellm_params.extra_headers, set last so they win over ours.
	Headers map[string]string
	// Client replaces the shared client built on openai.Transport (tests, custom proxies).
	Client *http.Client
	// Prefix, when set, is the URL up to "/models/{model}:..." used as is, instead of APIBase
	// with a version: Vertex AI's https://LOCATION-aiplatform.googleapis.com/v1/projects/P/
	// locations/L/publishers/google.
	Prefix string
	// Token, when set, gives the OAuth2 access token each call sends as "Authorization: Bearer"
	// (Vertex AI) instead of an API key.
	Token func(context.Context) (string, error)
}

// Provider calls one Gemini deployment. It is safe for concurrent use.
type Provider struct {
	base   string // up to and including the API version
	key    []string
	token  func(context.Context) (string, error)
	extra  []headerKV
	client httpx.Doer
	vertex bool // Vertex AI: embeddings go to predict (embed.go)
}

type headerKV struct {
	key   string
	value []string
}

var _ provider.Provider = (*Provider)(nil)

// New returns a provider for o.
func New(o Options) *Provider {
	base := strings.TrimRight(strings.TrimSpace(o.APIBase), "/")
	if base == "" {
		base = DefaultAPIBase
	}
	if i := strings.LastIndex(base, "/"); i < 0 || !isVersion(base[i+1:]) {
		base += "/v1beta"
	}
	if o.Prefix != "" {
		base = strings.TrimRight(o.Prefix, "/")
	}
	p := &Provider{base: base, token: o.Token}
	if o.APIKey != "" {
		p.key = []string{o.APIKey}
	}
	for k, v := range o.Headers {
		p.extra = append(p.extra, headerKV{http.CanonicalHeaderKey(k), []string{v}})
	}
	p.client = httpx.Shared()
	if o.Client != nil {
		p.client = o.Client
	}
	return p
}

// isVersion reports whether a path segment names an API version: v1, v1beta, v1alpha, v2...
func isVersion(seg string) bool {
	return len(seg) >= 2 && seg[0] == 'v' && seg[1] >= '0' && seg[1] <= '9'
}

// endpoint is the method URL for model: models/{model}:generateContent, or the streaming method with
// alt=sse. A model id that already names its collection (tunedModels/x) keeps it.
func (p *Provider) endpoint(model string, stream bool) string {
	if stream {
		return p.methodURL(model, "streamGenerateContent") + "?alt=sse"
	}
	return p.methodURL(model, "generateContent")
}

// methodURL is the URL of one of model's methods (generateContent, embedContent, predict, ...).
func (p *Provider) methodURL(model, method string) string {
	name := strings.TrimPrefix(model, "/")
	if !strings.Contains(name, "/") {
		name = "models/" + url.PathEscape(name)
	}
	return p.base + "/" + name + ":" + method
}

// Chat translates req, POSTs it to Gemini and translates the answer back. See provider.Provider
// for the contract. A request that cannot be translated is a 400 *provider.Error; a Gemini error
// answer keeps its HTTP status, with Google's status name (RESOURCE_EXHAUSTED, ...) as Type and
// retry-after or RetryInfo as RetryAfter. The caller must Close a returned Stream.
func (p *Provider) Chat(ctx context.Context, req *provider.Request) (*provider.Response, error) {
	gr, err := FromChat(req.Body, req.Model)
	if err != nil {
		return nil, err
	}
	body, err := marshal(gr)
	if err != nil {
		return nil, &provider.Error{Status: http.StatusInternalServerError, Type: "api_error", Message: "gemini: encoding request: " + err.Error(), Err: err}
	}

	ctx, cancel := context.WithCancelCause(ctx)
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, p.endpoint(req.Model, req.Stream), bytes.NewReader(body))
	if err != nil {
		cancel(nil)
		return nil, &provider.Error{
			Status: http.StatusInternalServerError, Type: "api_error",
			Message: "gemini: bad api_base: " + err.Error(), Err: err,
		}
	}
	hreq.Header = p.header(req)
	if p.token != nil {
		if err := httpx.Bearer(ctx, hreq.Header, p.token); err != nil {
			cancel(nil)
			return nil, err
		}
	}

	resp, err := p.client.Do(hreq)
	if err != nil {
		err = failure(ctx, "sending request", err)
		cancel(nil)
		return nil, err
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		e := statusError(resp)
		cancel(nil)
		return nil, e
	}
	ctype := httpx.MediaType(resp.Header.Get("Content-Type"))

	if !req.Stream {
		defer cancel(nil)
		defer resp.Body.Close()
		if ctype == "text/event-stream" {
			return nil, wire.BadGateway("gemini: upstream answered a non-streaming request with an event stream")
		}
		raw, err := httpx.ReadBody(resp, "gemini: ", maxBody)
		if err != nil {
			return nil, failure(ctx, "reading response", err)
		}
		out, err := ToChatCompletion(raw, req.Model)
		if err != nil {
			return nil, err
		}
		return &provider.Response{Header: passHeaders(resp.Header), Body: out}, nil
	}

	if ctype != "text/event-stream" && ctype != "" {
		raw, _ := io.ReadAll(io.LimitReader(resp.Body, httpx.MaxErrorBody))
		resp.Body.Close()
		cancel(nil)
		e := httpError(http.StatusBadGateway, nil, raw)
		e.Message = httpx.Truncate("gemini: upstream answered a streaming request with "+ctype+" instead of text/event-stream: "+e.Message, httpx.MaxMessage)
		return nil, e
	}
	return &provider.Response{
		Header: passHeaders(resp.Header),
		Stream: newStream(ctx, cancel, resp.Body, req.Model),
	}, nil
}

// Client headers never forwarded: credentials for the gateway, and the ones this provider owns.
var ownHeaders = map[string]bool{
	"Authorization": true, "X-Api-Key": true, "X-Goog-Api-Key": true, "Content-Type": true,
	"Content-Length": true, "Accept": true, "Accept-Encoding": true, "Host": true, "Connection": true,
}

// header builds the upstream headers: forwarded client headers, then ours, then the
// deployment's extra headers.
func (p *Provider) header(req *provider.Request) http.Header {
	h := make(http.Header, len(req.Header)+len(p.extra)+6)
	for k, v := range req.Header {
		if !ownHeaders[http.CanonicalHeaderKey(k)] {
			h[k] = v
		}
	}
	h["Content-Type"] = []string{"application/json"}
	h["User-Agent"] = []string{"clawgate"}
	if req.Stream {
		h["Accept"] = []string{"text/event-stream"}
		// A compressing proxy may hold back small events to fill its window.
		h["Accept-Encoding"] = []string{"identity"}
	} else {
		h["Accept"] = []string{"application/json"}
	}
	if p.key != nil {
		h["X-Goog-Api-Key"] = p.key
	}
	for _, kv := range p.extra {
		h[kv.key] = kv.value
	}
	return h
}

// statusError reads a non-2xx answer into a *provider.Error and closes the body.
func statusError(resp *http.Response) *provider.Error {
	return httpx.StatusError(resp, "gemini: ", "check api_base", httpError)
}

// passHeaders keeps the upstream headers a client may want. Google sends little of use: no
// request id and no rate-limit headers, only server timing.
func passHeaders(h http.Header) http.Header {
	return httpx.KeepHeaders(h, "Server-Timing", "Retry-After")
}
