package proxy

import (
	"net/http"
	"strings"
	"time"
)

// Version is reported by /health/readiness and the x-litellm-version header; main sets it.
var Version = "dev"

// handleLiveliness answers LiteLLM's liveness probe: the JSON string "I'm alive!", or a 503 once
// the gateway is leaving (Leave), so a load balancer checking either probe stops sending requests
// while this process still answers the ones it has.
func (s *Server) handleLiveliness(w http.ResponseWriter, r *http.Request) {
	if s.leaving.Load() {
		writeJSON(w, http.StatusServiceUnavailable, "shutting down")
		return
	}
	writeJSON(w, http.StatusOK, "I'm alive!")
}

// Leave makes /health/readiness and /health/liveliness answer 503 "shutting down" while the server
// goes on serving: a load balancer that checks them takes this replica out of its rotation before Shutdown closes
// the listener, so a rolling restart drops no request. It cannot be undone.
func (s *Server) Leave() { s.leaving.Store(true) }

// handleReadiness answers LiteLLM's readiness probe.
func (s *Server) handleReadiness(w http.ResponseWriter, r *http.Request) {
	st := s.state.Load()
	db, status, code := "Not connected", "connected", http.StatusOK
	var reason any
	if s.leaving.Load() {
		status, code, reason = "shutting down", http.StatusServiceUnavailable, "this gateway is shutting down"
	} else if d, ok := s.keys.(Database); ok {
		// A database that answers but cannot take the spend logs (a full disk) is not ready:
		// usage would go unrecorded, so the probe fails and says why.
		if err := d.PingDB(r.Context()); err != nil {
			status, code, reason = "unhealthy", http.StatusServiceUnavailable, err.Error()
		} else {
			db = "connected"
		}
	}
	writeJSON(w, code, map[string]any{
		"status":            status,
		"error":             reason,
		"db":                db,
		"cache":             nil,
		"litellm_version":   Version,
		"success_callbacks": []string{},
		"models":            len(st.router.Groups()),
		"last_updated":      st.loadedAt.UTC().Format(time.RFC3339Nano),
	})
}

func (s *Server) handleNotFound(w http.ResponseWriter, r *http.Request) {
	p := strings.TrimPrefix(r.URL.Path, "/v1")
	switch p {
	case "/chat/completions", "/messages", "/messages/count_tokens", "/embeddings", "/completions":
		w.Header().Set("Allow", "POST")
		writeError(w, http.StatusMethodNotAllowed, newAPIError(http.StatusMethodNotAllowed, typeInvalidRequest,
			r.Method+" is not allowed on "+r.URL.Path+": use POST"), 0)
		return
	}
	writeError(w, http.StatusNotFound, newAPIError(http.StatusNotFound, typeNotFound,
		"Route not found: "+r.Method+" "+r.URL.Path+". Clawgate serves "+routeList()+" (the model routes also without /v1)."), 0)
}
