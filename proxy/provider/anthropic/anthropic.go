// Package anthropic sends OpenAI chat completions to Anthropic's Messages API.
//
// The translation is pure functions over plain types: FromChat (OpenAI request to Messages
// request), ToChatCompletion (Message to chat.completion) and a stream translator (Messages
// events to chat.completion.chunk payloads). Provider is the thin HTTP adapter around them.
package anthropic

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/clawgate/clawgate/proxy/internal/wire"
	"github.com/clawgate/clawgate/proxy/provider"
	"github.com/clawgate/clawgate/proxy/provider/internal/gcp"
	"github.com/clawgate/clawgate/proxy/provider/internal/httpx"
)

const (
	// DefaultAPIBase is Anthropic's API; "/v1/messages" is appended.
	DefaultAPIBase = "https://api.anthropic.com"
	// DefaultVersion is the anthropic-version header value the translation is written against.
	DefaultVersion = "2023-06-01"
	// maxBody caps a non-streamed answer; a Message is kilobytes, this is a guard.
	maxBody = 64 << 20
)

// Options configure one deployment.
type Options struct {
	// APIBase defaults to https://api.anthropic.com. "/v1/messages" is appended; a base that
	// already ends in "/v1" or "/v1/messages" is taken as it is.
	APIBase string
	// APIKey is sent as x-api-key; empty sends none (a proxy in between may add it).
	APIKey string
	// Headers are litellm_params.extra_headers, set last so they win over ours, except
	// anthropic-beta, whose features are added to the ones the request needs.
	Headers map[string]string
	// Version is the anthropic-version header, default "2023-06-01".
	Version string
	// MaxTokens is max_tokens for requests that set none: the model's output limit. 0 means 4096.
	MaxTokens int
	// Client replaces the shared client built on openai.Transport (tests, custom proxies).
	Client *http.Client
}

// Provider calls one Anthropic deployment. It is safe for concurrent use.
type Provider struct {
	url       string
	vertex    string // Vertex AI: the URL up to the model, which each call appends with its method
	token     func(context.Context) (string, error)
	key       []string
	version   []string
	extra     []headerKV
	betas     []string
	maxTokens int
	client    httpx.Doer
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
	p := &Provider{maxTokens: o.MaxTokens, version: []string{DefaultVersion}}
	switch {
	case strings.HasSuffix(base, "/v1/messages"):
		p.url = base
	case strings.HasSuffix(base, "/v1"):
		p.url = base + "/messages"
	default:
		p.url = base + "/v1/messages"
	}
	if o.APIKey != "" {
		p.key = []string{o.APIKey}
	}
	if o.Version != "" {
		p.version = []string{o.Version}
	}
	for k, v := range o.Headers {
		k = http.CanonicalHeaderKey(k)
		if k == "Anthropic-Beta" {
			p.betas = splitList(p.betas, v)
			continue
		}
		p.extra = append(p.extra, headerKV{k, []string{v}})
	}
	p.client = httpx.Shared()
	if o.Client != nil {
		p.client = o.Client
	}
	return p
}

// VertexVersion is the anthropic_version Vertex AI takes in the body.
const VertexVersion = "vertex-2023-10-16"

// VertexOptions configure a Claude model on Vertex AI (LiteLLM's vertex_ai/claude-*).
type VertexOptions struct {
	// Project, Location, Credentials and APIBase are vertex_project, vertex_location,
	// vertex_credentials (JSON or a path) and api_base; see gcp.Vertex for their fallbacks.
	Project, Location, Credentials, APIBase string
	Headers                                 map[string]string
	MaxTokens                               int
}

// NewVertex returns a provider for Claude on Vertex AI: Anthropic's Messages format, sent to
// .../publishers/anthropic/models/{model}:rawPredict (or :streamRawPredict) with an OAuth2 token.
func NewVertex(o VertexOptions) (*Provider, error) {
	prefix, ts, err := gcp.Vertex(o.Project, o.Location, o.Credentials, o.APIBase, httpx.Shared())
	if err != nil {
		return nil, err
	}
	p := New(Options{Headers: o.Headers, MaxTokens: o.MaxTokens})
	p.vertex, p.token = prefix+"/publishers/anthropic/models", ts.Token
	return p, nil
}

// Chat translates req, POSTs it to {APIBase}/v1/messages and translates the answer back.
// See provider.Provider for the contract. A request that cannot be translated is a 400
// *provider.Error; an Anthropic error answer keeps its status (529 for overloaded_error), its
// error type as Type and retry-after as RetryAfter. The caller must Close a returned Stream.
func (p *Provider) Chat(ctx context.Context, req *provider.Request) (*provider.Response, error) {
	mr, err := FromChat(req.Body, req.Model, p.maxTokens)
	if err != nil {
		return nil, err
	}
	mr.Stream = req.Stream
	target := p.url
	if p.vertex != "" {
		// Vertex names the model in the URL and the API version in the body.
		method := ":rawPredict"
		if req.Stream {
			method = ":streamRawPredict"
		}
		target = p.vertex + "/" + url.PathEscape(mr.Model) + method
		mr.Model, mr.AnthropicVersion = "", VertexVersion
	}
	body, err := marshal(mr)
	if err != nil {
		return nil, &provider.Error{Status: http.StatusInternalServerError, Type: "api_error", Message: "anthropic: encoding request: " + err.Error(), Err: err}
	}

	ctx, cancel := context.WithCancelCause(ctx)
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		cancel(nil)
		return nil, &provider.Error{
			Status: http.StatusInternalServerError, Type: "api_error",
			Message: "anthropic: bad api_base: " + err.Error(), Err: err,
		}
	}
	hreq.Header = p.header(req, mr.Betas)
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
			return nil, wire.BadGateway("anthropic: upstream answered a non-streaming request with an event stream")
		}
		raw, err := httpx.ReadBody(resp, "anthropic: ", maxBody)
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
		e.Status = http.StatusBadGateway
		e.Message = httpx.Truncate("anthropic: upstream answered a streaming request with "+ctype+" instead of text/event-stream: "+e.Message, httpx.MaxMessage)
		return nil, e
	}
	return &provider.Response{
		Header: passHeaders(resp.Header),
		Stream: newStream(ctx, cancel, resp.Body, req.Model),
	}, nil
}

// Client headers never forwarded: credentials for the gateway, and the ones this provider owns.
var ownHeaders = map[string]bool{
	"Authorization": true, "X-Api-Key": true, "Anthropic-Version": true, "Anthropic-Beta": true,
	"Content-Type": true, "Content-Length": true, "Accept": true, "Accept-Encoding": true,
	"Host": true, "Connection": true,
}

// header builds the upstream headers: forwarded client headers, then ours, then the
// deployment's extra headers. anthropic-beta is the union of the client's, the deployment's and
// what the request needs.
func (p *Provider) header(req *provider.Request, need []string) http.Header {
	h := make(http.Header, len(req.Header)+len(p.extra)+8)
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
	h["Anthropic-Version"] = p.version
	if p.key != nil {
		h["X-Api-Key"] = p.key
	}
	var betas []string
	for _, v := range req.Header.Values("Anthropic-Beta") {
		betas = splitList(betas, v)
	}
	betas = splitList(betas, strings.Join(p.betas, ","))
	betas = splitList(betas, strings.Join(need, ","))
	if len(betas) > 0 {
		h["Anthropic-Beta"] = []string{strings.Join(betas, ",")}
	}
	for _, kv := range p.extra {
		h[kv.key] = kv.value
	}
	return h
}

// splitList appends the comma-separated items of v to list, skipping duplicates and blanks.
func splitList(list []string, v string) []string {
	for item := range strings.SplitSeq(v, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		dup := false
		for _, have := range list {
			if have == item {
				dup = true
				break
			}
		}
		if !dup {
			list = append(list, item)
		}
	}
	return list
}

// rateLimitAliases gives Anthropic's rate-limit headers the x-ratelimit-* names OpenAI clients
// (and LiteLLM's) read.
var rateLimitAliases = map[string]string{
	"Anthropic-Ratelimit-Requests-Limit":     "X-Ratelimit-Limit-Requests",
	"Anthropic-Ratelimit-Requests-Remaining": "X-Ratelimit-Remaining-Requests",
	"Anthropic-Ratelimit-Tokens-Limit":       "X-Ratelimit-Limit-Tokens",
	"Anthropic-Ratelimit-Tokens-Remaining":   "X-Ratelimit-Remaining-Tokens",
}

// passHeaders keeps the upstream headers a client may want (request id, rate limits).
func passHeaders(h http.Header) http.Header {
	var out http.Header
	set := func(k string, v []string) {
		if out == nil {
			out = make(http.Header, 8)
		}
		out[k] = v
	}
	for k, v := range h {
		switch {
		case k == "Request-Id", k == "Retry-After":
			set(k, v)
		case strings.HasPrefix(k, "Anthropic-Ratelimit-"):
			set(k, v)
			if alias, ok := rateLimitAliases[k]; ok {
				set(alias, v)
			}
		}
	}
	return out
}

// statusError reads a non-2xx answer into a *provider.Error and closes the body.
func statusError(resp *http.Response) *provider.Error {
	return httpx.StatusError(resp, "anthropic: ", "check api_base", httpError)
}
