package proxy

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
)

// keySource is a KeySource over a fixed set of virtual keys.
type keySource map[string]*Principal

func (k keySource) Authenticate(_ context.Context, key string) (*Principal, error) {
	if p, ok := k[key]; ok {
		return p, nil
	}
	return nil, ErrInvalidKey
}

// keyModelsConfig has an exact group and two wildcard groups; every request reaches one upstream.
const keyModelsConfig = `
model_list:
  - model_name: fast
    litellm_params: {model: openai/gpt-4o-mini, api_base: "{{A}}", api_key: sk-upstream}
  - model_name: "openai/*"
    litellm_params: {model: "openai/*", api_base: "{{A}}", api_key: sk-upstream}
  - model_name: "anthropic/*"
    litellm_params: {model: "openai/*", api_base: "{{A}}", api_key: sk-upstream}
general_settings: {master_key: ` + masterKey + `}
`

// newKeyGateway serves keyModelsConfig with virtual keys named after what they may call.
func newKeyGateway(t *testing.T, up *upstream) *httptest.Server {
	t.Helper()
	keys := keySource{
		"sk-fast":      {KeyHash: "h-fast", Models: []string{"fast"}},
		"sk-openai":    {KeyHash: "h-openai", Models: []string{"openai/*"}},
		"sk-gpt4o":     {KeyHash: "h-gpt4o", Models: []string{"openai/gpt-4o"}},
		"sk-any":       {KeyHash: "h-any", Models: []string{"*"}},
		"sk-all-proxy": {KeyHash: "h-all-proxy", Models: []string{"all-proxy-models"}},
		"sk-unlimited": {KeyHash: "h-unlimited"},
	}
	return newGatewayWith(t, keyModelsConfig, Options{Keys: keys}, up).srv
}

// TestKeyModelsRefuseOtherModels: a key's models list decides what it may call, before anything
// reaches an upstream: exact names, "provider/*" patterns (which allow only what they match),
// "*", "all-proxy-models", and no list at all.
func TestKeyModelsRefuseOtherModels(t *testing.T) {
	tests := []struct {
		key, model string
		allowed    bool
	}{
		{"sk-fast", "fast", true},
		{"sk-fast", "openai/gpt-4o", false},
		{"sk-fast", "anthropic/claude-haiku-4-5", false},
		{"sk-openai", "openai/gpt-4o", true},
		{"sk-openai", "openai/o3", true},
		{"sk-openai", "anthropic/claude-haiku-4-5", false},
		{"sk-openai", "fast", false},
		{"sk-gpt4o", "openai/gpt-4o", true},
		{"sk-gpt4o", "openai/gpt-4o-mini", false},
		{"sk-any", "anthropic/claude-haiku-4-5", true},
		{"sk-all-proxy", "fast", true},
		{"sk-unlimited", "anthropic/claude-haiku-4-5", true},
	}
	up := newUpstream(t).always(reply{file: "chat_completion.json"})
	hs := newKeyGateway(t, up)
	g := &gateway{t: t, srv: hs}
	for _, tt := range tests {
		t.Run(tt.key+"/"+tt.model, func(t *testing.T) {
			g.t = t
			before := up.calls()
			resp := g.chat(`{"model":"`+tt.model+`","messages":[{"role":"user","content":"hi"}]}`, "Authorization", "Bearer "+tt.key)
			if tt.allowed {
				if resp.StatusCode != 200 || up.calls() != before+1 {
					t.Fatalf("status %d, upstream calls %d; want 200 and one call: %s", resp.StatusCode, up.calls()-before, readAll(t, resp.Body))
				}
				return
			}
			e := errorOf(t, resp)
			if resp.StatusCode != 403 || e.Type != typeModelDenied || e.Param == nil || *e.Param != "model" ||
				!strings.Contains(e.Message, "key not allowed to access model") || !strings.Contains(e.Message, tt.model) {
				t.Errorf("status %d, error %+v; want 403 naming the model", resp.StatusCode, e)
			}
			if n := up.calls() - before; n != 0 {
				t.Errorf("a refused request reached the upstream %d times", n)
			}
		})
	}
}

// TestKeyModelsListAndInfo: /v1/models lists only what the key may call, and /v1/models/{id}
// does not show a model the key may not use.
func TestKeyModelsListAndInfo(t *testing.T) {
	hs := newKeyGateway(t, newUpstream(t))
	g := &gateway{t: t, srv: hs}
	tests := []struct {
		key  string
		want []string
	}{
		{"sk-fast", []string{"fast"}},
		{"sk-openai", []string{"openai/*"}},
		{"sk-unlimited", []string{"fast", "openai/*", "anthropic/*"}},
		{masterKey, []string{"fast", "openai/*", "anthropic/*"}},
	}
	for _, tt := range tests {
		resp := g.do("GET", "/v1/models", "", "Authorization", "Bearer "+tt.key)
		var list struct {
			Data []modelObject `json:"data"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&list); err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, m := range list.Data {
			ids = append(ids, m.ID)
		}
		if !slices.Equal(ids, tt.want) {
			t.Errorf("%s: /v1/models = %v, want %v", tt.key, ids, tt.want)
		}
	}
	if resp := g.do("GET", "/v1/models/fast", "", "Authorization", "Bearer sk-fast"); resp.StatusCode != 200 {
		t.Errorf("/v1/models/fast for its key: %d", resp.StatusCode)
	}
	if resp := g.do("GET", "/v1/models/fast", "", "Authorization", "Bearer sk-openai"); resp.StatusCode != 404 {
		t.Errorf("/v1/models/fast for a key limited to openai/*: %d, want 404", resp.StatusCode)
	}
}
