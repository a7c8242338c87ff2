package httpx

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// Configure sets how every provider reaches its upstream: through proxyURL ("" = the
// HTTPS_PROXY/HTTP_PROXY/NO_PROXY environment, which an app started from a desktop menu does not
// have), trusting the system's certificate authorities plus those in caPEM (a company's TLS
// inspection proxy, say). The new transport serves the next request; the old one's idle
// connections are closed, requests under way finish on it.
func Configure(proxyURL string, caPEM []byte) error {
	proxy := http.ProxyFromEnvironment
	if proxyURL = strings.TrimSpace(proxyURL); proxyURL != "" {
		u, err := ParseProxyURL(proxyURL)
		if err != nil {
			return err
		}
		proxy = notLoopback(http.ProxyURL(u))
	}
	var tlsConf *tls.Config
	if len(caPEM) > 0 {
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(caPEM) {
			return errors.New("no PEM certificate found in the extra CA certificates")
		}
		tlsConf = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	old := current.Swap(newTransport(proxy, tlsConf))
	if old != nil {
		old.CloseIdleConnections()
	}
	return nil
}

// notLoopback sends calls to this machine (a local model server, a team gateway's tests) direct,
// as the environment's proxy settings do: a proxy elsewhere cannot reach them.
func notLoopback(proxy func(*http.Request) (*url.URL, error)) func(*http.Request) (*url.URL, error) {
	return func(r *http.Request) (*url.URL, error) {
		h := r.URL.Hostname()
		if ip := net.ParseIP(h); h == "localhost" || strings.HasSuffix(h, ".localhost") || ip != nil && ip.IsLoopback() {
			return nil, nil
		}
		return proxy(r)
	}
}

// ParseProxyURL checks an upstream proxy's URL: http, https or socks5, with a host.
func ParseProxyURL(s string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("the proxy must be a URL such as http://proxy.example:3128, not %q", s)
	}
	switch u.Scheme {
	case "http", "https", "socks5", "socks5h":
		return u, nil
	}
	return nil, fmt.Errorf("the proxy's scheme must be http, https or socks5, not %q", u.Scheme)
}
