// Package openai sends chat completions to OpenAI and to every server that speaks its API
// (Ollama, vLLM, LM Studio, OpenRouter, Groq, ...).
//
// The request body goes upstream exactly as the gateway built it and stream payloads come back
// undecoded: decoding and re-encoding every chunk is what makes a gateway cost several times the
// CPU of a plain reverse proxy, so this package does no JSON work on the success path.
package openai

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/clawgate/clawgate/proxy/provider"
	"github.com/clawgate/clawgate/proxy/provider/internal/httpx"
)

// maxBody caps a non-streamed answer; a chat.completion is kilobytes, this is a guard.
const maxBody = 64 << 20

// Options configure one deployment.
type Options struct {
	// APIBase is the URL "/chat/completions" is appended to, such as https://api.openai.com/v1 or
	// http://localhost:11434/v1. A trailing "/" is ignored.
	APIBase string
	// APIKey is sent as "Authorization: Bearer"; local servers need none, so empty sends nothing.
	APIKey string
	// Headers are litellm_params.extra_headers. They are set last, so they win over ours.
	Headers map[string]string
	// Timeout bounds a non-streamed call as a whole. For a stream it bounds the wait for the
	// response headers and then each silence between reads, so a long answer is never cut off
	// while tokens keep coming. Zero leaves timing to the caller's context.
	Timeout time.Duration
	// Client replaces the shared client built on Transport (tests, custom proxies).
	Client *http.Client
	// Token, when set, gives an OAuth2 access token each call sends as "Authorization: Bearer"
	// (Vertex AI's OpenAI-compatible endpoint), instead of APIKey.
	Token func(context.Context) (string, error)
}

// Provider calls one OpenAI-compatible deployment. It is safe for concurrent use.
type Provider struct {
	url     string
	authKey string // the header auth goes in: Authorization, or Azure's Api-Key
	auth    []string
	extra   []headerKV
	token   func(context.Context) (string, error)
	timeout time.Duration
	client  httpx.Doer
}

type headerKV struct {
	key   string
	value []string
}

var _ provider.Provider = (*Provider)(nil)

// Header values shared by all requests; net/http only reads them.
var (
	valJSON      = []string{"application/json"}
	valSSE       = []string{"text/event-stream"}
	valIdentity  = []string{"identity"}
	valUserAgent = []string{"clawgate"}
)

// New returns a provider for opts. An empty APIBase is reported by Chat, so that one bad
// deployment does not stop a config from loading.
func New(opts Options) *Provider {
	p := &Provider{timeout: opts.Timeout, authKey: "Authorization", token: opts.Token}
	if base := strings.TrimSpace(opts.APIBase); base != "" {
		// A query in api_base (?api-key=..., as some OpenAI-compatible servers take) stays after the path.
		base, query, _ := strings.Cut(base, "?")
		p.url = strings.TrimRight(base, "/") + "/chat/completions"
		if query != "" {
			p.url += "?" + query
		}
	}
	if opts.APIKey != "" {
		p.auth = []string{"Bearer " + opts.APIKey}
	}
	for k, v := range opts.Headers {
		p.extra = append(p.extra, headerKV{http.CanonicalHeaderKey(k), []string{v}})
	}
	p.client = httpx.Shared()
	if opts.Client != nil {
		p.client = opts.Client
	}
	return p
}

// Chat sends req to {APIBase}/chat/completions. See provider.Provider for the contract.
//
// A streamed call returns as soon as the response headers arrive; the caller must Close the
// Stream. Failures before that are *provider.Error, except the caller's own cancellation, which
// is returned wrapped so that errors.Is(err, context.Canceled) holds. Response.Header keeps only
// the request id, rate-limit and retry headers, and is nil when the upstream sent none of them.
func (p *Provider) Chat(ctx context.Context, req *provider.Request) (*provider.Response, error) {
	return p.send(ctx, p.url, req)
}

// send is Chat at url: chat completions, or another endpoint of the same API (endpoints.go).
func (p *Provider) send(ctx context.Context, url string, req *provider.Request) (*provider.Response, error) {
	if url == "" {
		return nil, &provider.Error{
			Status: http.StatusInternalServerError, Type: "api_error",
			Message: "openai: api_base is not set for this deployment",
		}
	}
	ctx, cancel := context.WithCancelCause(ctx)
	var timer *time.Timer
	if p.timeout > 0 {
		timer = time.AfterFunc(p.timeout, func() { cancel(errTimeout) })
	}
	// finish releases the call's context and timer on every path that does not hand them to a Stream.
	finish := func() {
		if timer != nil {
			timer.Stop()
		}
		cancel(nil)
	}

	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(req.Body))
	if err != nil {
		finish()
		return nil, &provider.Error{
			Status: http.StatusInternalServerError, Type: "api_error",
			Message: "openai: bad api_base: " + err.Error(), Err: err,
		}
	}
	hreq.Header = p.header(req)
	if p.token != nil {
		if err := httpx.Bearer(ctx, hreq.Header, p.token); err != nil {
			finish()
			return nil, err
		}
	}

	resp, err := p.client.Do(hreq)
	if err != nil {
		err = failure(ctx, "sending request", err)
		finish()
		return nil, err
	}

	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		e := statusError(resp)
		finish()
		return nil, e
	}
	ctype := httpx.MediaType(resp.Header.Get("Content-Type"))

	if !req.Stream {
		defer finish()
		defer resp.Body.Close()
		if ctype == "text/event-stream" {
			return nil, &provider.Error{
				Status: http.StatusBadGateway, Type: "api_error",
				Message: "upstream answered a non-streaming request with an event stream",
			}
		}
		body, err := httpx.ReadBody(resp, "", maxBody)
		if err != nil {
			return nil, failure(ctx, "reading response", err)
		}
		return &provider.Response{Header: passHeaders(resp.Header), Body: body}, nil
	}

	if ctype == "application/json" || strings.HasSuffix(ctype, "+json") || ctype == "text/html" {
		e := notStreamed(resp, ctype)
		resp.Body.Close()
		finish()
		return nil, e
	}
	if timer != nil {
		timer.Stop() // from here it times silences, in idleReader
	}
	return &provider.Response{
		Header: passHeaders(resp.Header),
		Stream: newStream(ctx, cancel, resp.Body, timer, p.timeout),
	}, nil
}

// header builds the upstream request headers: forwarded client headers first, then ours, then
// the deployment's extra headers, each layer overriding the one before.
func (p *Provider) header(req *provider.Request) http.Header {
	h := make(http.Header, len(req.Header)+len(p.extra)+5)
	for k, v := range req.Header {
		h[k] = v
	}
	h["Content-Type"] = valJSON
	h["User-Agent"] = valUserAgent
	if req.Stream {
		h["Accept"] = valSSE
		// A compressing upstream or proxy may hold back small chunks to fill its window.
		h["Accept-Encoding"] = valIdentity
	} else {
		h["Accept"] = valJSON
		delete(h, "Accept-Encoding") // let net/http negotiate gzip and decode it
	}
	delete(h, "Authorization")
	if p.auth != nil {
		h[p.authKey] = p.auth
	}
	for _, kv := range p.extra {
		h[kv.key] = kv.value
	}
	return h
}

// notStreamed reports a 2xx that ignored "stream": true. Some servers answer that way only for
// errors, so an error envelope in the body is surfaced.
func notStreamed(resp *http.Response, ctype string) *provider.Error {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	msg := "upstream answered a streaming request with " + ctype + " instead of text/event-stream"
	if e := streamError(bytes.TrimSpace(body), false); e != nil {
		msg += ": " + e.Message
	}
	return &provider.Error{Status: http.StatusBadGateway, Type: "api_error", Message: truncate(msg, maxMessage)}
}

// passHeaders keeps the upstream headers a client may want to see (request id, rate limits);
// framing and encoding headers belong to the gateway's own response.
func passHeaders(h http.Header) http.Header {
	var out http.Header
	for k, v := range h {
		if keepHeader(k) {
			if out == nil {
				out = make(http.Header, 8)
			}
			out[k] = v
		}
	}
	return out
}

func keepHeader(k string) bool {
	switch k {
	case "X-Request-Id", "Openai-Processing-Ms", "Openai-Version", "Retry-After", "Retry-After-Ms":
		return true
	}
	return strings.HasPrefix(k, "X-Ratelimit-")
}

// statusError reads a non-2xx answer into a *provider.Error and closes the body. Redirects are
// not followed (see sharedClient), so the error says where one pointed.
func statusError(resp *http.Response) *provider.Error {
	return httpx.StatusError(resp, "", "check api_base", httpError)
}
