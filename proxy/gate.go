package proxy

import (
	"context"
	"net/http"
	"time"
)

// Gate admits or refuses a request before it is routed: budgets, rpm/tpm limits, parallel
// request limits. The ledger implements it; with none, every request is admitted.
type Gate interface {
	// Admit reserves room for a request. worstCost is the most the request can cost (its prompt
	// estimate plus its max output at the dearest deployment's prices); estTokens its token estimate.
	// A refusal is an error that implements HTTPError.
	Admit(ctx context.Context, p *Principal, model string, worstCost float64, estTokens int64) (Admission, error)
}

// Admission is a request the gate let through. Done settles it with what really happened (the
// usage carries the real cost); it is called exactly once.
type Admission interface {
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

// writeHTTPError answers an error that implements HTTPError, or a 500.
func writeHTTPError(w http.ResponseWriter, err error) {
	if he, ok := err.(HTTPError); ok {
		status, typ, ra, details := he.HTTPStatus()
		WriteError(w, status, typ, he.Error(), ra, details)
		return
	}
	WriteError(w, http.StatusInternalServerError, typeServer, err.Error(), 0, nil)
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
