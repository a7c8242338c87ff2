// Package bedrock sends OpenAI chat completions to Amazon Bedrock's Converse and ConverseStream
// APIs.
//
// The translation is pure functions over plain types: FromChat (OpenAI request to Converse
// request), ToChatCompletion (Converse answer to chat.completion) and a stream translator
// (ConverseStream's AWS event stream frames to chat.completion.chunk payloads). Provider is the
// thin HTTP adapter around them: it signs with SigV4 through aws-sdk-go-v2 (or sends a Bedrock
// API key as a bearer token) and posts the JSON itself, so the request body is exactly ours.
package bedrock

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"

	"github.com/clawgate/clawgate/proxy/internal/wire"
	"github.com/clawgate/clawgate/proxy/provider"
	"github.com/clawgate/clawgate/proxy/provider/internal/httpx"
)

const (
	// eventStreamType is the media type of ConverseStream's answer.
	eventStreamType = "application/vnd.amazon.eventstream"
	// maxBody caps a non-streamed answer; a Converse answer is kilobytes, this is a guard.
	maxBody = 64 << 20
)

// Options configure one deployment. The credential fields are litellm_params' aws_* keys.
type Options struct {
	// Region is aws_region_name; empty takes the default chain's (AWS_REGION, the profile's).
	Region string
	// AccessKeyID, SecretAccessKey and SessionToken are static credentials. Empty uses the
	// default chain (environment, shared files with Profile, SSO, instance and container roles).
	AccessKeyID, SecretAccessKey, SessionToken string
	// Profile is aws_profile_name, a profile of the shared config and credentials files.
	Profile string
	// APIKey is a Bedrock API key, sent as "Authorization: Bearer" instead of a SigV4 signature.
	// Empty reads AWS_BEARER_TOKEN_BEDROCK, unless static keys or a profile are given.
	APIKey string
	// Endpoint overrides https://bedrock-runtime.{region}.amazonaws.com (a VPC endpoint, a test
	// server). "/model/{modelId}/converse" is appended to it.
	Endpoint string
	// Headers are litellm_params.extra_headers, set last (and signed).
	Headers map[string]string
	// MaxTokens is maxTokens for requests that set none: the model's output limit. 0 sends none.
	MaxTokens int
	// Client replaces the shared client built on openai.Transport (tests, custom proxies).
	Client *http.Client
}

// Provider calls one Bedrock deployment. It is safe for concurrent use.
type Provider struct {
	base      *url.URL
	auth      *auth
	extra     []headerKV
	maxTokens int
	client    httpx.Doer
}

type headerKV struct {
	key   string
	value []string
}

var _ provider.Provider = (*Provider)(nil)

// New returns a provider for o. It fails when no region or no way to authenticate can be found,
// or when a named profile does not exist; it reads the AWS configuration files but does not
// fetch credentials (that happens, cached, on the first call).
func New(ctx context.Context, o Options) (*Provider, error) {
	a, err := newAuth(ctx, &o, os.Getenv)
	if err != nil {
		return nil, err
	}
	endpoint := strings.TrimRight(strings.TrimSpace(o.Endpoint), "/")
	if endpoint == "" {
		endpoint = defaultEndpoint(a.region)
	}
	base, err := url.Parse(endpoint)
	if err != nil || base.Host == "" || (base.Scheme != "https" && base.Scheme != "http") {
		return nil, fmt.Errorf("bedrock: endpoint %q is not an http(s) URL", endpoint)
	}
	p := &Provider{base: base, auth: a, maxTokens: o.MaxTokens}
	for k, v := range o.Headers {
		p.extra = append(p.extra, headerKV{http.CanonicalHeaderKey(k), []string{v}})
	}
	p.client = httpx.Shared()
	if o.Client != nil {
		p.client = o.Client
	}
	return p, nil
}

// defaultEndpoint is Bedrock Runtime's public endpoint in region.
func defaultEndpoint(region string) string {
	domain := "amazonaws.com"
	if strings.HasPrefix(region, "cn-") {
		domain = "amazonaws.com.cn"
	}
	return "https://bedrock-runtime." + region + "." + domain
}

// modelID drops LiteLLM's route markers: bedrock/converse/<model> picks the Converse route, which
// is the only one this provider speaks, and bedrock/invoke/<model> is served by Converse too.
func modelID(model string) string {
	for _, p := range []string{"converse/", "invoke/"} {
		if rest, ok := strings.CutPrefix(model, p); ok {
			return rest
		}
	}
	return model
}

// endpointURL is {endpoint}/model/{modelId}/converse[-stream]. The model id is escaped as one
// path segment (":" and "/" of ARNs included), as AWS's SDKs do; SigV4 then signs that escaped
// path escaped once more, which is what Bedrock checks.
func (p *Provider) endpointURL(model string, stream bool) *url.URL {
	op := "/converse"
	if stream {
		op = "/converse-stream"
	}
	return p.opURL(model, op)
}

// opURL is {endpoint}/model/{modelId}{op}, escaped as endpointURL says.
func (p *Provider) opURL(model, op string) *url.URL {
	u := *p.base
	basePath := strings.TrimRight(u.Path, "/")
	baseRaw := strings.TrimRight(u.EscapedPath(), "/")
	u.Path = basePath + "/model/" + model + op
	u.RawPath = baseRaw + "/model/" + escapeSegment(model) + op
	return &u
}

// escapeSegment percent-encodes everything but RFC 3986's unreserved characters.
func escapeSegment(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9',
			c == '-', c == '_', c == '.', c == '~':
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&0xf])
		}
	}
	return b.String()
}

// Chat translates req, POSTs it to /model/{modelId}/converse (or /converse-stream) and
// translates the answer back. See provider.Provider for the contract. A request that cannot be
// translated is a 400 *provider.Error; a Bedrock error answer keeps its status, with the AWS
// error type (ThrottlingException, ValidationException, ...) as Type. The caller must Close a
// returned Stream.
func (p *Provider) Chat(ctx context.Context, req *provider.Request) (*provider.Response, error) {
	model := modelID(req.Model)
	if model == "" {
		return nil, badRequest("model", "no Bedrock model id")
	}
	cr, err := FromChat(req.Body, model, p.maxTokens)
	if err != nil {
		return nil, err
	}
	body, err := marshal(cr)
	if err != nil {
		return nil, &provider.Error{Status: http.StatusInternalServerError, Type: "api_error", Message: "bedrock: encoding request: " + err.Error(), Err: err}
	}

	ctx, cancel := context.WithCancelCause(ctx)
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, p.base.String(), bytes.NewReader(body))
	if err != nil {
		cancel(nil)
		return nil, &provider.Error{Status: http.StatusInternalServerError, Type: "api_error", Message: "bedrock: bad endpoint: " + err.Error(), Err: err}
	}
	hreq.URL = p.endpointURL(model, req.Stream)
	hreq.Header = p.header(req)
	if err := p.auth.sign(ctx, hreq, body); err != nil {
		cancel(nil)
		return nil, err
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
	id := newID()
	if rid := resp.Header.Get("X-Amzn-Requestid"); rid != "" {
		id = "chatcmpl-" + rid
	}
	ctype := httpx.MediaType(resp.Header.Get("Content-Type"))

	if !req.Stream {
		defer cancel(nil)
		defer resp.Body.Close()
		if ctype == eventStreamType {
			return nil, wire.BadGateway("bedrock: upstream answered a non-streaming request with an event stream")
		}
		raw, err := httpx.ReadBody(resp, "bedrock: ", maxBody)
		if err != nil {
			return nil, failure(ctx, "reading response", err)
		}
		out, err := toChatCompletion(raw, model, id)
		if err != nil {
			return nil, err
		}
		return &provider.Response{Header: passHeaders(resp.Header), Body: out}, nil
	}

	if ctype != eventStreamType {
		raw, _ := io.ReadAll(io.LimitReader(resp.Body, httpx.MaxErrorBody))
		resp.Body.Close()
		cancel(nil)
		e := httpError(http.StatusBadGateway, resp.Header, raw)
		e.Message = httpx.Truncate("bedrock: upstream answered a streaming request with "+ctype+" instead of "+eventStreamType+": "+e.Message, httpx.MaxMessage)
		return nil, e
	}
	return &provider.Response{
		Header: passHeaders(resp.Header),
		Stream: newStream(ctx, cancel, resp.Body, id, model),
	}, nil
}

// Client headers never forwarded: credentials for the gateway, the ones this provider owns, and
// anything SigV4 treats as its own.
var ownHeaders = map[string]bool{
	"Authorization": true, "X-Api-Key": true, "Content-Type": true, "Content-Length": true,
	"Accept": true, "Accept-Encoding": true, "Host": true, "Connection": true,
}

// header builds the upstream headers: forwarded client headers, then ours, then the
// deployment's extra headers. Signing comes after, over all of them.
func (p *Provider) header(req *provider.Request) http.Header {
	h := make(http.Header, len(req.Header)+len(p.extra)+6)
	for k, v := range req.Header {
		ck := http.CanonicalHeaderKey(k)
		if !ownHeaders[ck] && !strings.HasPrefix(ck, "X-Amz-") {
			h[ck] = v
		}
	}
	h["Content-Type"] = []string{"application/json"}
	h["User-Agent"] = []string{"clawgate"}
	if req.Stream {
		h["Accept"] = []string{eventStreamType}
		// A compressing proxy may hold back small frames to fill its window.
		h["Accept-Encoding"] = []string{"identity"}
	} else {
		h["Accept"] = []string{"application/json"}
	}
	for _, kv := range p.extra {
		h[kv.key] = kv.value
	}
	return h
}

// statusError reads a non-2xx answer into a *provider.Error and closes the body.
func statusError(resp *http.Response) *provider.Error {
	return httpx.StatusError(resp, "bedrock: ", "check the endpoint", httpError)
}

// passHeaders keeps the upstream headers a client may want: the request id and retry-after.
func passHeaders(h http.Header) http.Header {
	return httpx.KeepHeaders(h, "X-Amzn-Requestid", "Retry-After")
}
