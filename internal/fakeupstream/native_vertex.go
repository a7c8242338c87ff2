package fakeupstream

import (
	"encoding/json"
	"net/http"
	"strings"
)

// vertexToken is the access token the fake's token endpoint hands out and its Vertex paths require.
const vertexToken = "ya29.fake-vertex-token"

// vertexTokenEndpoint answers POST /token as Google's OAuth2 endpoint does for a refresh-token or JWT grant.
func (n *Native) vertexTokenEndpoint(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil || r.Method != http.MethodPost {
		http.Error(w, `{"error":"invalid_request"}`, http.StatusBadRequest)
		return
	}
	switch r.PostForm.Get("grant_type") {
	case "refresh_token", "urn:ietf:params:oauth:grant-type:jwt-bearer":
	default:
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(`{"error":"unsupported_grant_type"}`))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"access_token": vertexToken, "expires_in": 3599, "token_type": "Bearer"})
}

// vertex serves Vertex AI's publisher paths,
//
//	POST /v1/projects/{p}/locations/{l}/publishers/google/models/{model}:{generateContent|streamGenerateContent}
//	POST /v1/projects/{p}/locations/{l}/publishers/anthropic/models/{model}:{rawPredict|streamRawPredict}
//
// by checking what Vertex checks (the bearer token; for Claude, anthropic_version in the body and
// no model) and answering as the Gemini and Anthropic fakes do.
func (n *Native) vertex(w http.ResponseWriter, r *http.Request, body []byte) {
	if r.Header.Get("Authorization") != "Bearer "+vertexToken {
		geminiError(w, http.StatusUnauthorized, "Request had invalid authentication credentials. Expected OAuth 2 access token.")
		return
	}
	_, rest, _ := strings.Cut(r.URL.Path, "/publishers/")
	publisher, model, _ := strings.Cut(rest, "/models/")
	r2 := r.Clone(r.Context())
	r2.Header.Del("Authorization")
	switch publisher {
	case "google":
		r2.URL.Path = "/v1beta/models/" + model
		r2.Header.Set("x-goog-api-key", n.Key)
		n.gemini(w, r2, body)
	case "anthropic":
		name, method, _ := strings.Cut(model, ":")
		var m map[string]json.RawMessage
		if json.Unmarshal(body, &m) != nil {
			anthropicError(w, http.StatusBadRequest, "the request body is not a JSON object")
			return
		}
		if string(m["anthropic_version"]) != `"vertex-2023-10-16"` {
			anthropicError(w, http.StatusBadRequest, "anthropic_version: vertex-2023-10-16 is required in the body")
			return
		}
		if _, ok := m["model"]; ok {
			anthropicError(w, http.StatusBadRequest, "model: Extra inputs are not permitted (the URL names the model)")
			return
		}
		delete(m, "anthropic_version")
		m["model"], _ = json.Marshal(name)
		if method == "streamRawPredict" {
			m["stream"] = json.RawMessage("true")
		}
		body, _ = json.Marshal(m)
		r2.Header.Set("x-api-key", n.Key)
		r2.Header.Set("anthropic-version", "2023-06-01")
		n.anthropic(w, r2, body)
	default:
		geminiError(w, http.StatusNotFound, "unknown publisher "+publisher)
	}
}
