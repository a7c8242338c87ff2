package anthropic

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/clawgate/clawgate/proxy/provider"
	"github.com/clawgate/clawgate/proxy/provider/internal/httpx"
)

// errStreamClosed is what Next returns after Close.
var errStreamClosed = errors.New("anthropic: stream closed")

// envelope is Anthropic's error body: {"type":"error","error":{"type":...,"message":...}}.
type envelope struct {
	Type  string    `json:"type"`
	Error *apiError `json:"error"`
}

type apiError struct {
	Type    string `json:"type"`
	Message string `json:"message"`
}

// typeStatus is the HTTP status Anthropic documents for each error type. A mid-stream error
// event has no status of its own, so this is how it gets one.
var typeStatus = map[string]int{
	"invalid_request_error": http.StatusBadRequest,
	"authentication_error":  http.StatusUnauthorized,
	"billing_error":         http.StatusPaymentRequired,
	"permission_error":      http.StatusForbidden,
	"not_found_error":       http.StatusNotFound,
	"request_too_large":     http.StatusRequestEntityTooLarge,
	"rate_limit_error":      http.StatusTooManyRequests,
	"api_error":             http.StatusInternalServerError,
	"timeout_error":         http.StatusGatewayTimeout,
	"overloaded_error":      529,
}

// httpError builds the error for a non-2xx answer. Type is Anthropic's error type when the body
// has one (overloaded_error, rate_limit_error, ...), so logs name the real cause.
func httpError(status int, h http.Header, body []byte) *provider.Error {
	e := &provider.Error{Status: status}
	b := bytes.TrimSpace(body)
	var env envelope
	switch {
	case len(b) == 0:
	case b[0] == '{' && json.Unmarshal(b, &env) == nil && env.Error != nil:
		e.Type, e.Message = env.Error.Type, env.Error.Message
	case b[0] == '<':
		e.Message = httpx.HTMLMessage(b)
	default:
		e.Message = string(b)
	}
	if e.Message == "" {
		e.Message = http.StatusText(status)
		if status == 529 {
			e.Message = "Overloaded"
		}
		if e.Message == "" {
			e.Message = "upstream error"
		}
	}
	e.Message = httpx.Truncate(e.Message, httpx.MaxMessage)
	e.RetryAfter = httpx.RetryAfter(h, time.Now())
	return e
}

// eventError turns an "event: error" payload into a *provider.Error with the status its type implies.
func eventError(data []byte) *provider.Error {
	e := &provider.Error{Status: http.StatusInternalServerError, Type: "api_error"}
	var env envelope
	if json.Unmarshal(data, &env) == nil && env.Error != nil {
		if env.Error.Type != "" {
			e.Type = env.Error.Type
		}
		e.Message = env.Error.Message
	}
	if s, ok := typeStatus[e.Type]; ok {
		e.Status = s
	}
	if e.Message == "" {
		e.Message = "upstream sent an error event"
	}
	e.Message = httpx.Truncate(e.Message, httpx.MaxMessage)
	return e
}

// failure turns an HTTP client or body read error into what Chat and Next return.
func failure(ctx context.Context, op string, err error) error {
	return httpx.Failure(ctx, "anthropic", op, err, errStreamClosed)
}
