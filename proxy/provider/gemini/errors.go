package gemini

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/clawgate/clawgate/proxy/provider"
)

const (
	// maxErrorBody is how much of an error answer is read; envelopes are small, HTML pages are not.
	maxErrorBody = 1 << 20
	// maxMessage keeps a runaway upstream message out of logs and envelopes.
	maxMessage = 1 << 10
	// maxRetryAfter clamps absurd hints.
	maxRetryAfter = 24 * time.Hour
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
	e.Message = truncate(e.Message, maxMessage)
	return e
}

// httpError builds the error for a non-2xx answer. The status is the HTTP one; the body is
// Google's envelope, the same wrapped in an array (as streamGenerateContent without alt=sse
// answers), an HTML page from a proxy, or plain text.
func httpError(status int, h http.Header, body []byte) *provider.Error {
	e := &provider.Error{Status: status}
	e.RetryAfter = retryAfter(h, time.Now())
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
		e.Message = htmlMessage(b)
	default:
		e.Message = string(b)
	}
	if e.Message == "" {
		e.Message = http.StatusText(status)
		if e.Message == "" {
			e.Message = "upstream error"
		}
	}
	e.Message = truncate(e.Message, maxMessage)
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
	if err != nil || f <= 0 {
		return 0
	}
	if f*float64(time.Second) > float64(maxRetryAfter) {
		return maxRetryAfter
	}
	return time.Duration(f * float64(time.Second))
}

// retryAfter reads retry-after: seconds or an HTTP date.
func retryAfter(h http.Header, now time.Time) time.Duration {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if f, err := strconv.ParseFloat(v, 64); err == nil {
		if f <= 0 {
			return 0
		}
		if f*float64(time.Second) > float64(maxRetryAfter) {
			return maxRetryAfter
		}
		return time.Duration(f * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return min(d, maxRetryAfter)
		}
	}
	return 0
}

// htmlMessage names an HTML error page (a proxy's 502, a captive portal) by its title.
func htmlMessage(b []byte) string {
	msg := "upstream answered with an HTML page"
	lower := bytes.ToLower(b)
	if i := bytes.Index(lower, []byte("<title>")); i >= 0 {
		rest := b[i+len("<title>"):]
		if j := bytes.Index(bytes.ToLower(rest), []byte("</title>")); j >= 0 {
			if title := strings.Join(strings.Fields(string(rest[:j])), " "); title != "" {
				msg += ": " + title
			}
		}
	}
	return msg
}

// truncate cuts s to at most n bytes on a rune boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	const ellipsis = "…"
	cut := n - len(ellipsis)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + ellipsis
}

// failure turns an HTTP client or body read error into what Chat and Next return: the caller's
// own cancellation passes through wrapped, timeouts become 504 and the rest a 502 transport error.
func failure(ctx context.Context, op string, err error) error {
	var pe *provider.Error
	if errors.As(err, &pe) {
		return err
	}
	if ctx.Err() != nil {
		cause := context.Cause(ctx)
		switch {
		case errors.Is(cause, errStreamClosed):
			return errStreamClosed
		case errors.Is(cause, context.DeadlineExceeded):
			return &provider.Error{
				Status: http.StatusGatewayTimeout, Message: "upstream timed out (" + op + ")",
				Type: "timeout", Transport: true, Err: cause,
			}
		case cause != nil && cause != ctx.Err():
			return fmt.Errorf("gemini: %s: %w: %w", op, ctx.Err(), cause)
		default:
			return fmt.Errorf("gemini: %s: %w", op, ctx.Err())
		}
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return &provider.Error{
			Status: http.StatusGatewayTimeout, Message: "upstream timed out (" + op + "): " + err.Error(),
			Type: "timeout", Transport: true, Err: err,
		}
	}
	return &provider.Error{
		Status: http.StatusBadGateway, Message: "upstream connection failed (" + op + "): " + err.Error(),
		Type: "api_connection_error", Transport: true, Err: err,
	}
}
