package fakeupstream

import (
	"encoding/json"
	"net/http"
	"strconv"
)

// fault answers x-fake-status with the error OpenAI sends for that status.
func fault(w http.ResponseWriter, r *http.Request, status string) {
	code, err := strconv.Atoi(status)
	if err != nil || code < 400 || code > 599 {
		writeError(w, http.StatusBadRequest, "x-fake-status: want a status from 400 to 599", "invalid_request_error", "", "")
		return
	}
	switch code {
	case http.StatusBadRequest:
		writeError(w, code, "This model's maximum context length is 128000 tokens. However, your messages resulted in 130112 tokens. Please reduce the length of the messages.", "invalid_request_error", "messages", "context_length_exceeded")
	case http.StatusUnauthorized:
		writeError(w, code, "Incorrect API key provided: sk-***. You can find your API key at https://platform.openai.com/account/api-keys.", "invalid_request_error", "", "invalid_api_key")
	case http.StatusNotFound:
		writeError(w, code, "The model does not exist or you do not have access to it.", "invalid_request_error", "", "model_not_found")
	case http.StatusTooManyRequests:
		after := r.Header.Get("x-fake-retry-after")
		if after == "" {
			after = "1"
		}
		h := w.Header()
		h.Set("retry-after", after)
		h.Set("x-ratelimit-limit-requests", "500")
		h.Set("x-ratelimit-remaining-requests", "0")
		h.Set("x-ratelimit-reset-requests", after+"s")
		writeError(w, code, "Rate limit reached for gpt-4o-mini in organization org-fake on requests per min (RPM): Limit 500, Used 500, Requested 1. Please try again in "+after+"s. Visit https://platform.openai.com/account/rate-limits to learn more.", "requests", "", "rate_limit_exceeded")
	case http.StatusServiceUnavailable:
		writeError(w, code, "The engine is currently overloaded, please try again later.", "server_error", "", "")
	default:
		if code >= 500 {
			writeError(w, code, "The server had an error while processing your request. Sorry about that!", "server_error", "", "")
			return
		}
		writeError(w, code, http.StatusText(code), "invalid_request_error", "", "")
	}
}

// writeError writes OpenAI's error envelope; empty param and code are JSON null, as OpenAI sends them.
func writeError(w http.ResponseWriter, status int, message, typ, param, code string) {
	null := func(s string) *string {
		if s == "" {
			return nil
		}
		return &s
	}
	type detail struct {
		Message string  `json:"message"`
		Type    string  `json:"type"`
		Param   *string `json:"param"`
		Code    *string `json:"code"`
	}
	b, _ := json.Marshal(struct {
		Error detail `json:"error"`
	}{detail{message, typ, null(param), null(code)}}) // plain strings always marshal
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}
