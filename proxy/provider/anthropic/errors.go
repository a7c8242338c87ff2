package anthropic

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
		e.Message = htmlMessage(b)
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
	e.Message = truncate(e.Message, maxMessage)
	e.RetryAfter = retryAfter(h, time.Now())
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
	e.Message = truncate(e.Message, maxMessage)
	return e
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

// retryAfter reads retry-after: seconds (Anthropic's form) or an HTTP date.
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
			return fmt.Errorf("anthropic: %s: %w: %w", op, ctx.Err(), cause)
		default:
			return fmt.Errorf("anthropic: %s: %w", op, ctx.Err())
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
