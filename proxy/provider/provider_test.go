package provider

import (
	"context"
	"errors"
	"fmt"
	"io"
	"testing"
	"time"
)

// Retryable decides whether the router tries again (same or another deployment): rate limits,
// timeouts, conflicts, server errors and transport failures are worth it; the caller's own
// mistakes are not.
func TestRetryable(t *testing.T) {
	for _, c := range []struct {
		err  Error
		want bool
	}{
		{Error{Status: 400}, false},
		{Error{Status: 401}, false},
		{Error{Status: 403}, false},
		{Error{Status: 404}, false},
		{Error{Status: 408}, true},
		{Error{Status: 409}, true},
		{Error{Status: 413}, false},
		{Error{Status: 422}, false},
		{Error{Status: 429}, true},
		{Error{Status: 499}, false},
		{Error{Status: 500}, true},
		{Error{Status: 502}, true},
		{Error{Status: 503}, true},
		{Error{Status: 529}, true}, // Anthropic's "overloaded"
		{Error{Status: 400, Transport: true}, true},
	} {
		if got := c.err.Retryable(); got != c.want {
			t.Errorf("status %d transport %v: Retryable = %v, want %v", c.err.Status, c.err.Transport, got, c.want)
		}
	}
}

func TestErrorText(t *testing.T) {
	cause := errors.New("connection refused")
	for _, c := range []struct {
		err  *Error
		want string
	}{
		{&Error{Status: 429, Message: "Rate limit reached", Err: cause}, "upstream 429: Rate limit reached"},
		{&Error{Status: 502, Err: cause}, "upstream 502: connection refused"},
		{&Error{Status: 500}, "upstream 500"},
	} {
		if got := c.err.Error(); got != c.want {
			t.Errorf("Error() = %q, want %q", got, c.want)
		}
	}
	if !errors.Is(&Error{Status: 502, Err: cause}, cause) {
		t.Error("an Error does not unwrap to its cause")
	}
}

// AsError keeps an upstream's *Error however deeply it is wrapped, turns a deadline into a 504
// timeout and anything else into a 502 transport failure, each still unwrapping to the cause.
func TestAsError(t *testing.T) {
	upstream := &Error{Status: 429, Message: "slow down", Type: "rate_limit_error", RetryAfter: 2 * time.Second}
	if got := AsError(fmt.Errorf("attempt 2: %w", upstream)); got != upstream {
		t.Errorf("a wrapped *Error came back as %+v", got)
	}

	deadline := fmt.Errorf("reading the answer: %w", context.DeadlineExceeded)
	got := AsError(deadline)
	if got.Status != 504 || got.Type != "timeout" || !got.Transport || !got.Retryable() || !errors.Is(got, context.DeadlineExceeded) {
		t.Errorf("a deadline became %+v", got)
	}

	broke := fmt.Errorf("dial tcp 127.0.0.1:1: %w", io.ErrUnexpectedEOF)
	got = AsError(broke)
	if got.Status != 502 || got.Type != "api_connection_error" || !got.Transport || got.Message != broke.Error() ||
		!errors.Is(got, io.ErrUnexpectedEOF) {
		t.Errorf("a transport failure became %+v", got)
	}
}
