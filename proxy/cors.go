package proxy

import (
	"net/http"
	"slices"
	"strings"
)

// CORS is closed unless config.yaml opens it: general_settings.cors_allow_origins lists the web
// origins whose pages may call the gateway from a browser (a web UI of the user's own, a
// notebook). It is honoured only with a master key, where a page still needs a key to do anything:
// without one every caller is master, and guard.go refuses every page whatever this list says.
// Keys travel in headers, never cookies, so no Allow-Credentials is sent.

// corsMaxAge is how long a browser may cache a preflight's answer, in seconds.
const corsMaxAge = "600"

// allowedOrigin is the Access-Control-Allow-Origin to send for origin ("" when it is not allowed).
func allowedOrigin(allow []string, origin string) string {
	if origin == "" || len(allow) == 0 {
		return ""
	}
	if slices.Contains(allow, "*") {
		return "*"
	}
	if slices.Contains(allow, strings.ToLower(origin)) {
		return origin
	}
	return ""
}

// cors adds the CORS headers for an allowed origin and answers its preflight. It reports whether
// the request was a preflight it answered.
func cors(w http.ResponseWriter, r *http.Request, allow []string) bool {
	ao := allowedOrigin(allow, r.Header.Get("Origin"))
	if ao == "" {
		return false
	}
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", ao)
	h.Add("Vary", "Origin")
	h.Set("Access-Control-Expose-Headers", "*") // the x-litellm-* and retry headers, for scripts
	if r.Method != http.MethodOptions || r.Header.Get("Access-Control-Request-Method") == "" {
		return false
	}
	h.Set("Access-Control-Allow-Methods", "GET, POST, DELETE, OPTIONS")
	// Authorization is never covered by a "*", so the headers asked for are granted by name: a key
	// is still needed for anything but the health checks.
	if rh := r.Header.Get("Access-Control-Request-Headers"); rh != "" {
		h.Set("Access-Control-Allow-Headers", rh)
	}
	h.Set("Access-Control-Max-Age", corsMaxAge)
	w.WriteHeader(http.StatusNoContent)
	return true
}
