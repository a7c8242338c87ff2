package fakeupstream

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// azureFilterChunk opens every Azure OpenAI stream: no choices, empty id and model, and the
// prompt's content filter results (Azure's documented streaming shape).
const azureFilterChunk = `data: {"choices":[],"created":0,"id":"","model":"","object":"","prompt_filter_results":[{"prompt_index":0,"content_filter_results":{"hate":{"filtered":false,"severity":"safe"},"self_harm":{"filtered":false,"severity":"safe"},"sexual":{"filtered":false,"severity":"safe"},"violence":{"filtered":false,"severity":"safe"}}}]}` + "\n\n"

func azureError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"code": strconv.Itoa(status), "message": msg}})
}

// azure serves POST /openai/deployments/{name}/chat/completions?api-version=V as Azure OpenAI
// does: the key in api-key, the OpenAI format otherwise (answered by Next), streams opened by
// the content filter chunk.
func (n *Native) azure(w http.ResponseWriter, r *http.Request, body []byte) {
	if r.URL.Query().Get("api-version") == "" {
		azureError(w, http.StatusNotFound, "Resource not found")
		return
	}
	if n.Key != "" && r.Header.Get("api-key") != n.Key {
		azureError(w, http.StatusUnauthorized, "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource.")
		return
	}
	if n.Next == nil {
		azureError(w, http.StatusNotFound, "Resource not found")
		return
	}
	r2 := r.Clone(r.Context())
	r2.URL.Path, r2.URL.RawQuery, r2.RequestURI = "/v1/chat/completions", "", ""
	r2.Header.Del("api-key")
	if n.Key != "" {
		r2.Header.Set("Authorization", "Bearer "+n.Key)
	}
	r2.Body, r2.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
	n.Next.ServeHTTP(&azureWriter{ResponseWriter: w}, r2)
}

// azureWriter puts the filter chunk in front of a successful event stream.
type azureWriter struct {
	http.ResponseWriter
	status int
	opened bool
}

func (a *azureWriter) WriteHeader(status int) {
	a.status = status
	a.ResponseWriter.WriteHeader(status)
}

func (a *azureWriter) Write(p []byte) (int, error) {
	if !a.opened {
		a.opened = true
		if a.status == 0 {
			a.WriteHeader(http.StatusOK)
		}
		if a.status == http.StatusOK && strings.HasPrefix(a.Header().Get("Content-Type"), "text/event-stream") {
			if _, err := io.WriteString(a.ResponseWriter, azureFilterChunk); err != nil {
				return 0, err
			}
		}
	}
	return a.ResponseWriter.Write(p)
}

func (a *azureWriter) Flush() {
	if f, ok := a.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}
