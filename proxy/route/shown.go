package route

import (
	"net/url"
	"strings"
)

// ShownBase is api_base as it may leave the process: in response headers, /model/info, the tray,
// spend rows and error messages. Users put credentials in api_base (https://user:pass@host,
// ?key=..., ?api-key=...), so the userinfo, the query and the fragment are dropped; the real URL
// is still what the provider calls. A base that does not parse is cut at the first '?' or '#' and
// its userinfo dropped by hand (also when it has no "scheme://", as "user:pass@host" parses as an
// opaque URL), since a parse failure must not decide whether a secret is shown.
func ShownBase(base string) string {
	if u, err := url.Parse(base); err == nil && u.Host != "" && u.Opaque == "" {
		u.User, u.RawQuery, u.ForceQuery, u.Fragment, u.RawFragment = nil, "", false, "", ""
		return u.String()
	}
	if i := strings.IndexAny(base, "?#"); i >= 0 {
		base = base[:i]
	}
	rest, scheme := base, ""
	if i := strings.Index(base, "://"); i >= 0 {
		scheme, rest = base[:i+3], base[i+3:]
	}
	host, path := rest, ""
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		host, path = rest[:i], rest[i:]
	}
	if i := strings.LastIndexByte(host, '@'); i >= 0 {
		host = host[i+1:]
	}
	return scheme + host + path
}
