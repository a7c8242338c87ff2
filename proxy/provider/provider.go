// Package provider defines what the gateway needs from an upstream: one chat-completion call that
// speaks OpenAI's wire format on our side, whatever the upstream speaks on its side.
package provider

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// Provider sends one OpenAI chat completion request to one deployment.
//
// A non-streamed call returns Response.Body (an OpenAI chat.completion object). A streamed call
// returns Response.Stream, which yields the JSON payload of each OpenAI chat.completion.chunk.
// Errors before the first byte is returned are *Error so the router can decide to retry.
type Provider interface {
	Chat(ctx context.Context, req *Request) (*Response, error)
}

// Request is one upstream call.
type Request struct {
	// Body is the OpenAI chat completion request as the client sent it, with "model" already set
	// to the upstream model id and stream_options.include_usage forced on for streams.
	Body []byte
	// Model is the upstream model id (after the provider prefix and wildcard substitution).
	Model  string
	Stream bool
	// Header holds client headers worth forwarding (none by default).
	Header http.Header
}

// Response is the upstream's answer, already in OpenAI's format.
type Response struct {
	// Header holds upstream response headers worth passing on (x-request-id, ratelimit headers).
	Header http.Header
	// Body is the chat.completion JSON for a non-streamed call.
	Body []byte
	// Stream yields chunk payloads for a streamed call.
	Stream Stream
}

// Stream yields the payloads of an OpenAI SSE stream, one chat.completion.chunk JSON per call.
// Next returns io.EOF after the upstream's [DONE] (or a clean end), and any other error when the
// stream broke. The returned slice is valid only until the next call.
type Stream interface {
	Next() ([]byte, error)
	Close() error
}

// Buffered is implemented by streams that can tell whether more of the upstream's answer is
// already in memory. The gateway uses it to flush once per burst of events instead of once per
// event: a flush is a write to the client's socket, and that system call is most of a relay's cost.
type Buffered interface {
	Buffered() int
}

// Error is an upstream failure in OpenAI's error vocabulary.
type Error struct {
	// Status is the HTTP status to report (the upstream's, or 502/504 for transport failures).
	Status  int
	Message string
	Type    string
	Code    string
	Param   string
	// RetryAfter is the upstream's retry-after hint, if any.
	RetryAfter time.Duration
	// Transport is true for connection errors and timeouts (no HTTP answer at all).
	Transport bool
	Err       error
}

func (e *Error) Error() string {
	if e.Message != "" {
		return fmt.Sprintf("upstream %d: %s", e.Status, e.Message)
	}
	if e.Err != nil {
		return fmt.Sprintf("upstream %d: %v", e.Status, e.Err)
	}
	return fmt.Sprintf("upstream %d", e.Status)
}

func (e *Error) Unwrap() error { return e.Err }

// Retryable reports whether another attempt (same or another deployment) may succeed:
// 408, 409, 429, 5xx (529 included) and transport errors.
func (e *Error) Retryable() bool {
	if e.Transport {
		return true
	}
	switch {
	case e.Status == http.StatusRequestTimeout, e.Status == http.StatusConflict,
		e.Status == http.StatusTooManyRequests, e.Status >= 500:
		return true
	}
	return false
}

// AsError returns err as *Error, wrapping plain errors as a 502 transport failure.
func AsError(err error) *Error {
	var pe *Error
	if errors.As(err, &pe) {
		return pe
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return &Error{Status: http.StatusGatewayTimeout, Message: "upstream timed out", Type: "timeout", Transport: true, Err: err}
	}
	return &Error{Status: http.StatusBadGateway, Message: err.Error(), Type: "api_connection_error", Transport: true, Err: err}
}
