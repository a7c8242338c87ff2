package config

import (
	"net/url"
	"strings"

	"go.yaml.in/yaml/v3"
)

// apiBase reads an api_base and refuses one that is not an http(s) URL with a host. Without the
// check "localhost:11434/v1" (the scheme left out) loads, and every call to it fails with an
// internal error that does not point at the config.
func (p *parser) apiBase(v *yaml.Node, path string) (string, bool, error) {
	s, ok, err := p.text(v, path)
	if err != nil || s == "" {
		return s, ok, err
	}
	u, perr := url.Parse(s)
	switch {
	case perr == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "":
		return s, ok, nil
	case !strings.Contains(s, "://"):
		// The value is not echoed when it may hold a password or a key ("user:pass@host", "?key=").
		if strings.ContainsAny(s, "@?") {
			return "", false, p.errorf(v, path, "needs a scheme: write it as http://... or https://...")
		}
		return "", false, p.errorf(v, path, "%q needs a scheme: write http://%s (or https://)", s, s)
	}
	return "", false, p.errorf(v, path, "is not an http:// or https:// URL with a host name")
}
