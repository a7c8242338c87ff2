package openai

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/clawgate/clawgate/proxy/provider/internal/httpx"
)

// Transport returns the tuned transport every provider shares when Options.Client is nil.
//
// The defaults of net/http keep only 2 idle connections per host; at 16 concurrent requests to one
// upstream that cost 25-30% of throughput in new connections, so the idle pool is large here.
// There is no ResponseHeaderTimeout: a model may think for minutes before its first byte, and the
// router bounds each call through its context instead.
func Transport() *http.Transport { return sharedTransport() }

var sharedTransport = sync.OnceValue(func() *http.Transport {
	dialer := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}
	return &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           dialer.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          512,
		MaxIdleConnsPerHost:   256,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: 1 * time.Second,
	}
})

// sharedClient does not follow redirects: net/http turns a redirected POST into a GET, which an
// API answers with a confusing 404 or 405. Reporting the redirect points the user at api_base.
var sharedClient = sync.OnceValue(func() *http.Client {
	return &http.Client{
		Transport: Transport(),
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
})

var (
	// errTimeout is the cause set when Options.Timeout expires; it wraps DeadlineExceeded so that
	// callers can test for a timeout the usual way.
	errTimeout = fmt.Errorf("openai: upstream timeout: %w", context.DeadlineExceeded)
	// errStreamClosed is returned by Next after Close.
	errStreamClosed = errors.New("openai: stream closed")
)

// failure turns an error from the HTTP client or a body read into what Chat and Next return:
// the client's own cancellation passes through (wrapped), timeouts become 504 and everything
// else a 502 transport failure. ctx is the call's context, whose cause tells the cases apart.
func failure(ctx context.Context, op string, err error) error {
	return httpx.Failure(ctx, "openai", op, err, errStreamClosed)
}
