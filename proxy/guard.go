package proxy

import (
	"mime"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Without a master key any caller is master, so the gateway must answer only this machine's
// programs, never a web page open in its browser. A page can send a "simple" cross-site request
// (a form post: text/plain, no preflight) and, through DNS rebinding (a name of the attacker's
// that resolves to 127.0.0.1), even read the answers. So, on every route:
//   - the client must be on loopback;
//   - Host must be the listener's own name or address (localhost, 127.0.0.1, [::1], with its
//     port), which a rebound name is not;
//   - an Origin, if sent, must be the gateway's own, and Sec-Fetch-Site must not say cross-site;
//   - every request but GET/HEAD/OPTIONS must say Content-Type: application/json, which a page
//     cannot send without a CORS preflight, and the gateway grants none.
//
// With a master key these checks are off, as in the gateways people run behind reverse proxies:
// a page cannot know the key, so a rebinding or cross-site request gets 401 everywhere but
// /health; and a Host check would break the TLS proxies (Caddy, Traefik) that pass the public
// Host through to a gateway on loopback.

// refuseWeb answers a request the no-master-key mode does not serve and reports whether it did.
// Requests that did not come through a listener (in-process calls) pass.
func refuseWeb(w http.ResponseWriter, r *http.Request) bool {
	local, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
	if !ok {
		return false
	}
	status, msg := webRefusal(r, local)
	if status == 0 {
		return false
	}
	writeError(w, status, newAPIError(status, typeAuth, msg+" (this gateway has no master key; with one set, keys are what protect it)"), 0)
	return true
}

// webRefusal is why r is refused (status 0: it is not).
func webRefusal(r *http.Request, local net.Addr) (int, string) {
	if h, _, err := net.SplitHostPort(r.RemoteAddr); err != nil || !isLoopbackHost(h) {
		return http.StatusForbidden, "only this machine may call this gateway"
	}
	port := "80"
	if tcp, ok := local.(*net.TCPAddr); ok {
		port = strconv.Itoa(tcp.Port)
	}
	if !ownHost(r.Host, port, local) {
		return http.StatusForbidden, "Host " + strconv.Quote(r.Host) + " is not this gateway's address: call it as localhost:" + port +
			", 127.0.0.1:" + port + " or [::1]:" + port
	}
	if o := r.Header.Get("Origin"); o != "" {
		u, err := url.Parse(o)
		if err != nil || u.Scheme != "http" || !ownHost(u.Host, port, local) {
			return http.StatusForbidden, "requests from web pages are refused (Origin " + strconv.Quote(o) + ")"
		}
	}
	if s := r.Header.Get("Sec-Fetch-Site"); s != "" && s != "same-origin" && s != "none" {
		return http.StatusForbidden, "requests from web pages are refused (Sec-Fetch-Site: " + s + ")"
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
	default:
		if !isJSON(r.Header.Get("Content-Type")) {
			return http.StatusUnsupportedMediaType, "send the body with Content-Type: application/json"
		}
	}
	return 0, ""
}

// ownHost reports whether host (a Host header or an Origin's host) names this listener: a loopback
// name or the listener's own address, with its port (a missing port means 80).
func ownHost(host, port string, local net.Addr) bool {
	h, p, err := net.SplitHostPort(host)
	if err != nil {
		h, p = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]"), "80"
	}
	if p != port {
		return false
	}
	if tcp, ok := local.(*net.TCPAddr); ok && tcp.IP.String() == h {
		return true
	}
	return strings.EqualFold(h, "localhost") || h == "127.0.0.1" || h == "::1"
}

// isLoopbackHost reports whether h is a loopback name or address.
func isLoopbackHost(h string) bool {
	if strings.EqualFold(h, "localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// isJSON reports whether a Content-Type is JSON (application/json, or a +json type).
func isJSON(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && (mt == "application/json" || strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json"))
}
