package config

import (
	"net/url"
	"strings"

	"go.yaml.in/yaml/v3"
)

// origins reads general_settings.cors_allow_origins: a list of web origins, each exactly what a
// browser sends in Origin (scheme://host[:port], no path), or "*" for any. A typo here would open
// the gateway to a page the user did not mean, or quietly fail to open it, so anything else is an
// error rather than a warning.
func (p *parser) origins(v *yaml.Node, path string) ([]string, error) {
	return p.texts(v, path, "origins such as https://app.example.com", func(it *yaml.Node, ipath, s string, _ bool) (string, error) {
		if s == "*" {
			return s, nil
		}
		u, err := url.Parse(s)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
			(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
			return "", p.errorf(it, ipath, "%q is not a web origin: want scheme://host[:port] (e.g. https://app.example.com) or \"*\"", s)
		}
		return strings.ToLower(u.Scheme + "://" + u.Host), nil
	})
}
