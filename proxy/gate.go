package proxy

import (
	"context"
	"net/http"
	"time"
)

// Gate admits or refuses a request before it is routed: budgets, rpm/tpm limits, parallel
// request limits. The ledger implements it; with none, every request is admitted.
type Gate interface {
	// Admit reserves room for a request. expectedCost is what the request is expected to cost
	// (its input plus the output its deployments have been returning, at the dearest of its
	// group's deployments until one is picked); estTokens its expected tokens. It is an estimate,
	// not a bound: a request is refused only when what is spent and held has reached a limit.
	// A refusal is an error that implements HTTPError.
	Admit(ctx context.Context, p *Principal, model string, expectedCost float64, estTokens int64) (Admission, error)
}

// Admission is a request the gate let through. Done settles it with what really happened (the
// usage carries the real cost); it is called exactly once.
type Admission interface {
	// Reprice changes the reservation to the expected cost on the deployment about to be
	// called (a retry on another deployment, a fallback into a dearer group).
	Reprice(expectedCost float64)
	Done(u *Usage)
}

// HTTPError is an error that knows how the gateway should answer it.
type HTTPError interface {
	error
	// HTTPStatus returns the status, LiteLLM's error type, the retry-after (0 for none) and
	// structured details for the envelope (may be nil).
	HTTPStatus() (status int, typ string, retryAfter time.Duration, details map[string]any)
}

// Admin serves the LiteLLM management API (/key/*, /spend/*, /global/*, ...). The gateway has
// authenticated the caller; the implementation decides what the principal may do.
type Admin interface {
	ServeAdmin(w http.ResponseWriter, r *http.Request, p *Principal)
}

// WriteError writes LiteLLM's error envelope; Admin implementations use it so every error the
// gateway sends has one shape.
func WriteError(w http.ResponseWriter, status int, typ, msg string, retryAfter time.Duration, details map[string]any) {
	e := newAPIError(status, typ, msg)
	e.Details = details
	writeError(w, status, e, retryAfter)
}

// finalError is an HTTPError after which a retry cannot succeed soon (a spent budget).
type finalError interface {
	ShouldRetry() bool
}

// writeHTTPError answers an error that implements HTTPError, or a 500. An error that says it is
// final gets x-should-retry: false, which the OpenAI and Anthropic SDKs (and Claude Code) obey
// over their own retry rules. It returns what it answered.
func writeHTTPError(w http.ResponseWriter, err error) (status int, typ, msg string) {
	he, ok := err.(HTTPError)
	if !ok {
		WriteError(w, http.StatusInternalServerError, typeServer, err.Error(), 0, nil)
		return http.StatusInternalServerError, typeServer, err.Error()
	}
	status, typ, ra, details := he.HTTPStatus()
	if f, ok := err.(finalError); ok && !f.ShouldRetry() {
		w.Header().Set("X-Should-Retry", "false")
	}
	WriteError(w, status, typ, he.Error(), ra, details)
	return status, typ, he.Error()
}

// refuse answers a request refused before it was routed (budget, rate limit, model not allowed)
// and logs it as a failure, so that refusals show in /spend/logs like any failed call.
func (s *Server) refuse(w http.ResponseWriter, err error, u *Usage) {
	u.Status, u.Refusal, u.Error = writeHTTPError(w, err)
	s.record(u)
}

// handleAdmin routes the management API to the Admin, after authentication.
func (s *Server) handleAdmin(w http.ResponseWriter, r *http.Request) {
	st := s.state.Load()
	p, err := s.authenticate(r, st)
	if err != nil {
		s.writeAuthError(w, err)
		return
	}
	if s.admin == nil {
		WriteError(w, http.StatusNotImplemented, typeServer, "the management API needs the ledger (spend and keys), which this gateway runs without", 0, nil)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
	s.admin.ServeAdmin(w, r, p)
}
