package bedrock

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/clawgate/clawgate/proxy/provider"
	"github.com/clawgate/clawgate/proxy/provider/internal/httpx"
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
	e.Message = httpx.Truncate("bedrock: "+e.Message, httpx.MaxMessage)
	e.RetryAfter = httpx.RetryAfter(h, now())
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
	e.Message = httpx.Truncate("bedrock: "+e.Message, httpx.MaxMessage)
	return e
}

// failure turns an HTTP client or body read error into what Chat and Next return.
func failure(ctx context.Context, op string, err error) error {
	return httpx.Failure(ctx, "bedrock", op, err, errStreamClosed)
}
