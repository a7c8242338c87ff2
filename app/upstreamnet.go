package app

import (
	"fmt"
	"os"
	"strings"
	"sync"

	"github.com/clawgate/clawgate/proxy/config"
	"github.com/clawgate/clawgate/proxy/provider/upstream"
)

// How the gateway reaches providers, for an app started from a desktop menu (no shell, so no
// HTTPS_PROXY) or behind a company's TLS inspection: Clawgate additions to general_settings.
const (
	// proxyKey is an HTTP(S) or SOCKS5 proxy URL for every upstream call ("" = the environment's).
	proxyKey = "clawgate_https_proxy"
	// caKey is a PEM file of extra certificate authorities trusted beside the system's.
	caKey = "clawgate_ca_file"
)

// upstreamNet is the proxy and CA file of cfg, the file's certificates read and checked.
func upstreamNet(cfg *config.Config) (proxy string, caPEM []byte, err error) {
	proxy, _ = cfg.General.Extra[proxyKey].(string)
	if proxy = strings.TrimSpace(proxy); proxy != "" {
		if err := upstream.CheckProxyURL(proxy); err != nil {
			return "", nil, fmt.Errorf("general_settings.%s: %w", proxyKey, err)
		}
	}
	file, _ := cfg.General.Extra[caKey].(string)
	if file = strings.TrimSpace(file); file != "" {
		if caPEM, err = readCAFile(file); err != nil {
			return "", nil, fmt.Errorf("general_settings.%s: %w", caKey, err)
		}
	}
	return proxy, caPEM, nil
}

// readCAFile reads a PEM file of certificates, refusing one without any.
func readCAFile(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if !strings.Contains(string(b), "-----BEGIN CERTIFICATE-----") {
		return nil, fmt.Errorf("%s holds no PEM certificate", path)
	}
	return b, nil
}

var (
	netMu   sync.Mutex
	netLast string // what Configure was last given, so a reload that changes nothing keeps the pool
)

// applyUpstreamNet puts cfg's proxy and CAs in force for every provider (process-wide).
func applyUpstreamNet(cfg *config.Config) error {
	proxy, ca, err := upstreamNet(cfg)
	if err != nil {
		return err
	}
	netMu.Lock()
	defer netMu.Unlock()
	key := proxy + "\x00" + string(ca)
	if key == netLast {
		return nil
	}
	if err := upstream.Configure(proxy, ca); err != nil {
		return err
	}
	netLast = key
	return nil
}
