// Package upstream sets how every provider reaches the network: an HTTPS proxy and extra
// certificate authorities (general_settings.clawgate_https_proxy and clawgate_ca_file, applied by
// app with each config).
package upstream

import (
	"net/http"

	"github.com/clawgate/clawgate/proxy/provider/internal/httpx"
)

// Configure makes every provider's next request go through proxyURL ("" = the environment's
// HTTPS_PROXY) trusting the system's CAs plus caPEM's.
func Configure(proxyURL string, caPEM []byte) error { return httpx.Configure(proxyURL, caPEM) }

// CheckProxyURL says what is wrong with an upstream proxy's URL (nil when usable).
func CheckProxyURL(s string) error {
	_, err := httpx.ParseProxyURL(s)
	return err
}

// Transport is the transport in force (Configure's proxy and CAs), for the app's own calls that
// should reach the network as providers do (a team gateway behind the company's CA). Take it per
// call: Configure replaces it.
func Transport() http.RoundTripper { return httpx.Transport() }
