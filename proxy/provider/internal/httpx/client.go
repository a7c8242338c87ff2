package httpx

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/clawgate/clawgate/proxy/provider"
)

// Doer sends one request: an *http.Client a caller supplies, or Shared.
type Doer interface {
	Do(*http.Request) (*http.Response, error)
}

// Shared is how every provider sends when its options name no client: the shared transport,
// redirects not followed (net/http turns a redirected POST into a GET, which an API answers with a
// confusing 404 or 405; reporting the redirect points the user at api_base).
//
// It calls the transport directly: with no redirects, cookie jar or client timeout, http.Client
// only adds its per-request header copier and URL clones, a measurable share of a proxied call.
var Shared = sync.OnceValue(func() Doer { return direct{} })

// direct sends through the transport in force at each call, so Configure reaches every provider.
type direct struct{}

func (d direct) Do(req *http.Request) (*http.Response, error) {
	resp, err := Transport().RoundTrip(req)
	if err != nil {
		// The same shape as http.Client's errors: `Post "https://host/path": dial tcp: ...`.
		m := req.Method
		return nil, &url.Error{Op: m[:1] + strings.ToLower(m[1:]), URL: shownURL(req.URL), Err: err}
	}
	return resp, nil
}

// Transport returns the tuned transport every provider shares.
//
// The defaults of net/http keep only 2 idle connections per host; at 16 concurrent requests to one
// upstream that cost 25-30% of throughput in new connections, so the idle pool is large here.
// There is no ResponseHeaderTimeout: a model may think for minutes before its first byte, and the
// router bounds each call through its context instead.
func Transport() *http.Transport {
	if t := current.Load(); t != nil {
		return t
	}
	current.CompareAndSwap(nil, newTransport(http.ProxyFromEnvironment, nil))
	return current.Load()
}

// current is the transport in force; Configure replaces it.
var current atomic.Pointer[http.Transport]

func newTransport(proxy func(*http.Request) (*url.URL, error), tlsConf *tls.Config) *http.Transport {
	dialer := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}
	return &http.Transport{
		Proxy:                 proxy,
		TLSClientConfig:       tlsConf,
		DialContext:           dialer.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          512,
		MaxIdleConnsPerHost:   256,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: 1 * time.Second,
	}
}

// Bearer sets "Authorization: Bearer" from token (Vertex AI's OAuth2 access token). A failure to
// get one is a 401 *provider.Error naming it.
func Bearer(ctx context.Context, h http.Header, token func(context.Context) (string, error)) error {
	tok, err := token(ctx)
	if err != nil {
		return &provider.Error{Status: http.StatusUnauthorized, Type: "authentication_error",
			Message: "vertex_ai: getting an access token: " + err.Error(), Err: err}
	}
	h["Authorization"] = []string{"Bearer " + tok}
	return nil
}
