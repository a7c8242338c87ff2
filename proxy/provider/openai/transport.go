package openai

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/clawgate/clawgate/proxy/provider/internal/httpx"
)

// Transport returns the tuned transport every provider shares when Options.Client is nil.
func Transport() *http.Transport { return httpx.Transport() }

var (
	// errTimeout is the cause set when Options.Timeout expires; it wraps DeadlineExceeded so that
	// callers can test for a timeout the usual way.
	errTimeout = fmt.Errorf("openai: upstream timeout: %w", context.DeadlineExceeded)
	// errStreamClosed is returned by Next after Close.
	errStreamClosed = errors.New("openai: stream closed")
)

// failure turns an error from the HTTP client or a body read into what Chat and Next return:
// the client's own cancellation passes through (wrapped), timeouts become 504 and everything
// else a 502 transport failure. ctx is the call's context, whose cause tells the cases apart.
func failure(ctx context.Context, op string, err error) error {
	return httpx.Failure(ctx, "openai", op, err, errStreamClosed)
}
