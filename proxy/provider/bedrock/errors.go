package bedrock

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
	// maxErrorBody is how much of an error answer is read; AWS error bodies are small, HTML
	// pages from a proxy in between are not.
	maxErrorBody = 1 << 20
	// maxMessage keeps a runaway upstream message out of logs and envelopes.
	maxMessage = 1 << 10
	// maxRetryAfter clamps absurd hints.
	maxRetryAfter = 24 * time.Hour
)

// errStreamClosed is what Next returns after Close.
var errStreamClosed = errors.New("bedrock: stream closed")

// exceptionStatus is the HTTP status Bedrock documents for each exception. A mid-stream exception
// frame has no status of its own, so this is how it gets one. Keys are lower camel case, as the
// stream's :exception-type header spells them; x-amzn-errortype's upper camel case is folded.
// modelStreamErrorException is documented as 424, which no client retries; it is reported as
// 500 because Bedrock's own advice for it is to retry.
var exceptionStatus = map[string]int{
	"validationException":           http.StatusBadRequest,
	"accessDeniedException":         http.StatusForbidden,
	"resourceNotFoundException":     http.StatusNotFound,
	"modelTimeoutException":         http.StatusRequestTimeout,
	"throttlingException":           http.StatusTooManyRequests,
	"modelNotReadyException":        http.StatusTooManyRequests,
	"serviceQuotaExceededException": http.StatusBadRequest,
	"internalServerException":       http.StatusInternalServerError,
	"modelStreamErrorException":     http.StatusInternalServerError,
	"modelErrorException":           424,
	"serviceUnavailableException":   http.StatusServiceUnavailable,
}

// errorType reduces an AWS error type to its name: x-amzn-errortype may carry a namespace
// ("ValidationException:http://internal.amazon.com/coral/com.amazon.bedrock/") and __type a
// prefix ("com.amazon.coral.service#ThrottlingException").
func errorType(t string) string {
	t = strings.TrimSpace(t)
	if i := strings.IndexByte(t, ':'); i >= 0 {
		t = t[:i]
	}
	if i := strings.LastIndexByte(t, '#'); i >= 0 {
		t = t[i+1:]
	}
	return t
}

// lowerFirst folds ThrottlingException to throttlingException for exceptionStatus.
func lowerFirst(s string) string {
	if s == "" || s[0] < 'A' || s[0] > 'Z' {
		return s
	}
	return string(s[0]+'a'-'A') + s[1:]
}

// awsError is the JSON body of an AWS error answer and of an exception frame's payload.
type awsError struct {
	Message  string `json:"message"`
	MessageU string `json:"Message"`
	Type     string `json:"__type"`
}

func (e *awsError) message() string {
	if e.Message != "" {
		return e.Message
	}
	return e.MessageU
}

// httpError builds the error for a non-2xx answer: the status as given, the type from
// x-amzn-errortype (or the body's __type), the message from the body.
func httpError(status int, h http.Header, body []byte) *provider.Error {
	e := &provider.Error{Status: status, Type: errorType(h.Get("X-Amzn-Errortype"))}
	b := bytes.TrimSpace(body)
	var ae awsError
	switch {
	case len(b) == 0:
	case b[0] == '{' && json.Unmarshal(b, &ae) == nil:
		e.Message = ae.message()
		if e.Type == "" {
			e.Type = errorType(ae.Type)
		}
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
	e.Message = truncate("bedrock: "+e.Message, maxMessage)
	e.RetryAfter = retryAfter(h, now())
	return e
}

// exceptionError turns an exception frame into a *provider.Error with the status its type implies.
func exceptionError(typ string, payload []byte) *provider.Error {
	typ = errorType(typ)
	e := &provider.Error{Status: http.StatusInternalServerError, Type: typ}
	if e.Type == "" {
		e.Type = "api_error"
	}
	if s, ok := exceptionStatus[lowerFirst(typ)]; ok {
		e.Status = s
	}
	var ae awsError
	if json.Unmarshal(payload, &ae) == nil {
		e.Message = ae.message()
	}
	if e.Message == "" {
		e.Message = "upstream sent " + e.Type + " mid-stream"
	}
	e.Message = truncate("bedrock: "+e.Message, maxMessage)
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

// retryAfter reads retry-after: seconds or an HTTP date.
func retryAfter(h http.Header, t time.Time) time.Duration {
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
	if at, err := http.ParseTime(v); err == nil {
		if d := at.Sub(t); d > 0 {
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
			return fmt.Errorf("bedrock: %s: %w: %w", op, ctx.Err(), cause)
		default:
			return fmt.Errorf("bedrock: %s: %w", op, ctx.Err())
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
