package proxy

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"
)

// apiError is the LiteLLM/OpenAI error envelope's inner object. LiteLLM sends code as a string
// (the HTTP status), and param as a string or null.
type apiError struct {
	Message string  `json:"message"`
	Type    string  `json:"type"`
	Param   *string `json:"param"`
	Code    string  `json:"code"`
	// Details carries structured extras (e.g. the models that exist); clients that don't know it ignore it.
	Details map[string]any `json:"details,omitempty"`
}

type envelope struct {
	Error apiError `json:"error"`
}

// Error types, as LiteLLM names them.
const (
	typeInvalidRequest = "invalid_request_error"
	typeAuth           = "auth_error"
	typeModelDenied    = "key_model_access_denied" // LiteLLM's type for a model outside the key's list
	typeRateLimit      = "rate_limit_error"
	typeServer         = "internal_server_error"
	typeNotFound       = "not_found_error"
)

func newAPIError(status int, typ, msg string) apiError {
	return apiError{Message: msg, Type: typ, Code: strconv.Itoa(status)}
}

func (e apiError) withParam(p string) apiError { e.Param = &p; return e }

// writeError writes the envelope with the status; retryAfter > 0 adds a retry-after header.
func writeError(w http.ResponseWriter, status int, e apiError, retryAfter time.Duration) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	if retryAfter > 0 {
		secs := int((retryAfter + time.Second - 1) / time.Second)
		h.Set("Retry-After", strconv.Itoa(secs))
	}
	w.WriteHeader(status)
	b, _ := json.Marshal(envelope{Error: e})
	b = append(b, '\n')
	_, _ = w.Write(b)
}

// errorEvent is the SSE payload for an error after the stream started.
func errorEvent(e apiError) []byte {
	b, _ := json.Marshal(envelope{Error: e})
	return b
}
