package messages

import (
	"errors"
	"net/http"

	"github.com/clawgate/clawgate/proxy/provider"
)

// errorEnvelope is Anthropic's error body: {"type":"error","error":{"type":...,"message":...}}.
type errorEnvelope struct {
	Type  string    `json:"type"`
	Error errorInfo `json:"error"`
}

type errorInfo struct {
	Type    string `json:"type"`
	Message string `json:"message"`
}

// anthropicTypes are the error types Anthropic documents; an upstream error already named with
// one of them (from the anthropic provider) keeps its name.
var anthropicTypes = map[string]bool{
	"invalid_request_error": true, "authentication_error": true, "billing_error": true,
	"permission_error": true, "not_found_error": true, "request_too_large": true,
	"rate_limit_error": true, "api_error": true, "timeout_error": true, "overloaded_error": true,
}

// ErrorType is Anthropic's error type for an HTTP status. 503 is reported as overloaded_error,
// which Anthropic's clients retry, as they do Anthropic's own 529.
func ErrorType(status int) string {
	switch status {
	case http.StatusBadRequest:
		return "invalid_request_error"
	case http.StatusUnauthorized:
		return "authentication_error"
	case http.StatusPaymentRequired:
		return "billing_error"
	case http.StatusForbidden:
		return "permission_error"
	case http.StatusNotFound:
		return "not_found_error"
	case http.StatusRequestEntityTooLarge:
		return "request_too_large"
	case http.StatusTooManyRequests:
		return "rate_limit_error"
	case http.StatusGatewayTimeout:
		return "timeout_error"
	case http.StatusServiceUnavailable, 529:
		return "overloaded_error"
	}
	if status >= 400 && status < 500 {
		return "invalid_request_error"
	}
	return "api_error"
}

// ErrorBody is Anthropic's error envelope for a non-streamed error with this status.
func ErrorBody(status int, message string) []byte {
	return errorJSON(ErrorType(status), message)
}

func errorJSON(typ, message string) []byte {
	if message == "" {
		message = "error"
	}
	b, _ := marshal(errorEnvelope{Type: "error", Error: errorInfo{Type: typ, Message: message}})
	return b
}

// describe names err in Anthropic's vocabulary: its type and message.
func describe(err error) (typ, message string) {
	var pe *provider.Error
	if !errors.As(err, &pe) {
		pe = provider.AsError(err)
	}
	message = pe.Message
	if message == "" {
		message = err.Error()
	}
	if anthropicTypes[pe.Type] {
		return pe.Type, message
	}
	status := pe.Status
	if status < 400 {
		status = http.StatusInternalServerError
	}
	return ErrorType(status), message
}

// ErrorFrom renders an upstream or translation error as the status and Anthropic error body to
// answer a non-streamed request with. A *provider.Error keeps its status; its type is kept when
// it is already one of Anthropic's (the anthropic provider's overloaded_error, for one).
func ErrorFrom(err error) (status int, body []byte) {
	pe := provider.AsError(err)
	status = pe.Status
	if status < 400 {
		status = http.StatusInternalServerError
	}
	typ, msg := describe(err)
	return status, errorJSON(typ, msg)
}
