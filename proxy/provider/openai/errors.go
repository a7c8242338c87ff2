package openai

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/clawgate/clawgate/proxy/provider"
	"github.com/clawgate/clawgate/proxy/provider/internal/httpx"
)

const (
	// maxErrorBody is how much of an error answer is read; envelopes are small, HTML pages are not.
	maxErrorBody = 1 << 20
	// maxMessage keeps a runaway upstream message out of logs and envelopes.
	maxMessage = 1 << 10
	// maxRetryAfter clamps absurd hints so the arithmetic cannot overflow.
	maxRetryAfter = 24 * time.Hour
)

// errorObject is OpenAI's {"error":{...}} object. Fields are raw because servers disagree on their
// types: code is a string at OpenAI, a number at OpenRouter and vLLM, often null.
type errorObject struct {
	Message  json.RawMessage `json:"message"`
	Type     json.RawMessage `json:"type"`
	Code     json.RawMessage `json:"code"`
	Param    json.RawMessage `json:"param"`
	Metadata *struct {
		// Raw is OpenRouter's copy of the provider's own error, which says more than its message.
		Raw json.RawMessage `json:"raw"`
	} `json:"metadata"`
}

// errorBody is every error shape seen from OpenAI-compatible servers: OpenAI's envelope, Ollama's
// {"error":"text"}, FastAPI's {"detail":...}, and vLLM's flat {"object":"error","message":...}.
type errorBody struct {
	Error  json.RawMessage `json:"error"`
	Detail json.RawMessage `json:"detail"`
	errorObject
}

// httpError builds the error for a non-2xx answer from its status, headers and (capped) body.
// Type is left empty when the upstream gives none, so that the gateway picks its own default.
func httpError(status int, h http.Header, body []byte) *provider.Error {
	e := &provider.Error{Status: status}
	fillError(e, body)
	if e.Message == "" {
		e.Message = http.StatusText(status)
		if e.Message == "" {
			e.Message = "upstream error"
		}
	}
	e.Message = truncate(e.Message, maxMessage)
	e.RetryAfter = retryAfter(h, time.Now())
	return e
}

// fillError sets Message, Type, Code and Param from an error body of any shape.
func fillError(e *provider.Error, body []byte) {
	b := bytes.TrimSpace(body)
	if len(b) == 0 {
		return
	}
	switch b[0] {
	case '[':
		// Some servers (Google's compatibility layer among them) wrap the envelope in an array.
		var arr []json.RawMessage
		if json.Unmarshal(b, &arr) == nil {
			if len(arr) > 0 {
				fillError(e, arr[0])
			}
			return
		}
	case '{':
		var v errorBody
		if json.Unmarshal(b, &v) == nil && fillFromBody(e, &v) {
			return
		}
	case '"':
		var s string
		if json.Unmarshal(b, &s) == nil {
			e.Message = s
			return
		}
	case '<':
		e.Message = httpx.HTMLMessage(b)
		return
	}
	e.Message = string(b)
}

// fillFromBody reports false when the object has none of the known fields; the caller then uses
// the whole body as the message.
func fillFromBody(e *provider.Error, v *errorBody) bool {
	switch {
	case present(v.Error):
		if v.Error[0] == '{' {
			var o errorObject
			if json.Unmarshal(v.Error, &o) == nil {
				fillFromObject(e, &o)
				return true
			}
		}
		e.Message = scalar(v.Error)
		return true
	case present(v.Message):
		fillFromObject(e, &v.errorObject)
		return true
	case present(v.Detail):
		e.Message = scalar(v.Detail)
		return true
	}
	return false
}

func fillFromObject(e *provider.Error, o *errorObject) {
	e.Message = scalar(o.Message)
	e.Type = scalar(o.Type)
	e.Code = scalar(o.Code)
	e.Param = scalar(o.Param)
	if o.Metadata != nil {
		if raw := scalar(o.Metadata.Raw); raw != "" && raw != e.Message {
			if e.Message == "" {
				e.Message = raw
			} else {
				e.Message += ": " + raw
			}
		}
	}
}

func present(raw json.RawMessage) bool {
	return len(raw) > 0 && string(raw) != "null"
}

// scalar renders a JSON value as text: strings unquoted, null empty, anything else compact JSON.
func scalar(raw json.RawMessage) string {
	if !present(raw) {
		return ""
	}
	if raw[0] == '"' {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return s
		}
	}
	var buf bytes.Buffer
	if json.Compact(&buf, raw) == nil {
		return buf.String()
	}
	return string(raw)
}

// retryAfter reads retry-after-ms (OpenAI's precise hint, preferred) or retry-after, which is
// either seconds or an HTTP date.
func retryAfter(h http.Header, now time.Time) time.Duration {
	if v := h.Get("Retry-After-Ms"); v != "" {
		if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil && f >= 0 {
			return clampDuration(f * float64(time.Millisecond))
		}
	}
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if f, err := strconv.ParseFloat(v, 64); err == nil {
		if f >= 0 {
			return clampDuration(f * float64(time.Second))
		}
		return 0
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return min(d, maxRetryAfter)
		}
	}
	return 0
}

func clampDuration(ns float64) time.Duration {
	if ns > float64(maxRetryAfter) {
		return maxRetryAfter
	}
	return time.Duration(ns)
}

// streamError turns an error event received after a 2xx into a *provider.Error, or returns nil
// when the payload is an ordinary chunk that merely mentions "error". explicit is true for an
// "event: error" SSE event, whose data is an error whatever its shape.
func streamError(payload []byte, explicit bool) *provider.Error {
	e := &provider.Error{}
	if explicit {
		fillError(e, payload)
	} else {
		// A chunk is an error when it carries a top-level "error" member: OpenAI's
		// data: {"error":{...}}, or OpenRouter's chunk with "error" beside its choices.
		var v struct {
			Error json.RawMessage `json:"error"`
		}
		if json.Unmarshal(payload, &v) != nil || !present(v.Error) {
			return nil
		}
		fillFromBody(e, &errorBody{Error: v.Error})
	}
	if e.Message == "" {
		e.Message = "upstream sent an error event"
	}
	e.Message = truncate(e.Message, maxMessage)
	e.Status = streamStatus(e.Code, e.Type)
	return e
}

// streamStatus picks the status of a mid-stream error, which has none of its own: a numeric code
// when it is an HTTP status (OpenRouter, vLLM), else a guess from the type and code, else 500.
func streamStatus(code, typ string) int {
	if n, err := strconv.Atoi(code); err == nil && n >= 400 && n <= 599 {
		return n
	}
	s := strings.ToLower(typ + " " + code)
	switch {
	case strings.Contains(s, "rate_limit"), strings.Contains(s, "quota"):
		return http.StatusTooManyRequests
	case strings.Contains(s, "overloaded"):
		return 529
	case strings.Contains(s, "timeout"):
		return http.StatusGatewayTimeout
	case strings.Contains(s, "context_length"), strings.Contains(s, "invalid_request"):
		return http.StatusBadRequest
	case strings.Contains(s, "authentication"), strings.Contains(s, "invalid_api_key"):
		return http.StatusUnauthorized
	case strings.Contains(s, "permission"):
		return http.StatusForbidden
	case strings.Contains(s, "not_found"):
		return http.StatusNotFound
	}
	return http.StatusInternalServerError
}

// truncate cuts s to at most n bytes on a rune boundary.
func truncate(s string, n int) string { return httpx.Truncate(s, n) }
