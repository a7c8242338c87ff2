package gemini

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/clawgate/clawgate/proxy/provider"
	"github.com/clawgate/clawgate/proxy/provider/internal/httpx"
)

// errStreamClosed is what Next returns after Close.
var errStreamClosed = errors.New("gemini: stream closed")

// apiError is Google's error object: {"code":429,"message":"...","status":"RESOURCE_EXHAUSTED",
// "details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"34s"}, ...]}.
type apiError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	Status  string `json:"status"`
	Details []struct {
		Type       string `json:"@type"`
		RetryDelay string `json:"retryDelay"`
		Reason     string `json:"reason"`
	} `json:"details"`
}

type envelope struct {
	Error *apiError `json:"error"`
}

// statusCodes is the HTTP status of each google.rpc.Code name; an error object inside a stream
// has only its code (usually) and its name to go by.
var statusCodes = map[string]int{
	"INVALID_ARGUMENT":    http.StatusBadRequest,
	"FAILED_PRECONDITION": http.StatusBadRequest,
	"OUT_OF_RANGE":        http.StatusBadRequest,
	"UNAUTHENTICATED":     http.StatusUnauthorized,
	"PERMISSION_DENIED":   http.StatusForbidden,
	"NOT_FOUND":           http.StatusNotFound,
	"ALREADY_EXISTS":      http.StatusConflict,
	"ABORTED":             http.StatusConflict,
	"RESOURCE_EXHAUSTED":  http.StatusTooManyRequests,
	"CANCELLED":           499,
	"UNKNOWN":             http.StatusInternalServerError,
	"INTERNAL":            http.StatusInternalServerError,
	"DATA_LOSS":           http.StatusInternalServerError,
	"UNIMPLEMENTED":       http.StatusNotImplemented,
	"UNAVAILABLE":         http.StatusServiceUnavailable,
	"DEADLINE_EXCEEDED":   http.StatusGatewayTimeout,
}

// fill copies Google's error object into e: Type is the status name (RESOURCE_EXHAUSTED, ...),
// Code the ErrorInfo reason (API_KEY_INVALID, ...) when there is one, and RetryAfter RetryInfo's
// retryDelay.
func (a *apiError) fill(e *provider.Error) {
	e.Message = a.Message
	if a.Status != "" {
		e.Type = a.Status
	}
	for _, d := range a.Details {
		switch {
		case strings.HasSuffix(d.Type, "google.rpc.RetryInfo"):
			if e.RetryAfter == 0 {
				e.RetryAfter = protoDuration(d.RetryDelay)
			}
		case strings.HasSuffix(d.Type, "google.rpc.ErrorInfo") && d.Reason != "":
			e.Code = d.Reason
		}
	}
}

// objectError turns an error object found in a 200 body or inside a stream into a *provider.Error.
func objectError(a *apiError) *provider.Error {
	e := &provider.Error{Status: http.StatusInternalServerError, Type: "api_error"}
	a.fill(e)
	switch {
	case a.Code >= 400 && a.Code <= 599:
		e.Status = a.Code
	case statusCodes[a.Status] != 0:
		e.Status = statusCodes[a.Status]
	}
	if e.Message == "" {
		e.Message = "upstream sent an error"
	}
	e.Message = httpx.Truncate(e.Message, httpx.MaxMessage)
	return e
}

// httpError builds the error for a non-2xx answer. The status is the HTTP one; the body is
// Google's envelope, the same wrapped in an array (as streamGenerateContent without alt=sse
// answers), an HTML page from a proxy, or plain text.
func httpError(status int, h http.Header, body []byte) *provider.Error {
	e := &provider.Error{Status: status}
	e.RetryAfter = httpx.RetryAfter(h, time.Now())
	b := bytes.TrimSpace(body)
	var env envelope
	var list []envelope
	switch {
	case len(b) == 0:
	case b[0] == '{' && json.Unmarshal(b, &env) == nil && env.Error != nil:
		env.Error.fill(e)
	case b[0] == '[' && json.Unmarshal(b, &list) == nil && len(list) > 0 && list[0].Error != nil:
		list[0].Error.fill(e)
	case b[0] == '<':
		e.Message = httpx.HTMLMessage(b)
	default:
		e.Message = string(b)
	}
	if e.Message == "" {
		e.Message = http.StatusText(status)
		if e.Message == "" {
			e.Message = "upstream error"
		}
	}
	e.Message = httpx.Truncate(e.Message, httpx.MaxMessage)
	return e
}

// protoDuration reads a google.protobuf.Duration in its JSON form: seconds with an "s" ("34s",
// "1.5s").
func protoDuration(v string) time.Duration {
	s, ok := strings.CutSuffix(strings.TrimSpace(v), "s")
	if !ok {
		return 0
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0
	}
	return httpx.Seconds(f)
}

// failure turns an HTTP client or body read error into what Chat and Next return.
func failure(ctx context.Context, op string, err error) error {
	return httpx.Failure(ctx, "gemini", op, err, errStreamClosed)
}
