package proxy

import (
	"context"
	"strings"
	"testing"
)

// modelListKeys is a KeySource with one virtual key limited to some models.
type modelListKeys struct {
	key    string
	models []string
}

func (k modelListKeys) Authenticate(_ context.Context, key string) (*Principal, error) {
	if key != k.key {
		return nil, ErrInvalidKey
	}
	return &Principal{KeyHash: HashKey(key), KeyAlias: "scoped", Models: k.models}, nil
}

// newKeyedGateway is newGateway with a KeySource.
func newKeyedGateway(t *testing.T, yaml string, keys KeySource, ups ...*upstream) *gateway {
	t.Helper()
	return newGatewayWith(t, yaml, Options{Keys: keys}, ups...)
}

const failThenExpensive = `
model_list:
  - model_name: a-fail
    litellm_params: {model: openai/gpt-4o-mini, api_base: "{{A}}"}
  - model_name: expensive
    litellm_params: {model: openai/o1, api_base: "{{B}}"}
router_settings:
  num_retries: 0
  fallbacks: [{"a-fail": ["expensive"]}]
general_settings: {master_key: ` + masterKey + `}
`

// TestFallbackHonoursKeyModels: a key limited to a-fail is never served by a-fail's fallback
// group, which it may not use; the error says the fallback was skipped and why. The master key
// (no model list) still falls back, so the fallback is really configured.
func TestFallbackHonoursKeyModels(t *testing.T) {
	const scoped = "sk-scoped-0123456789"
	for _, stream := range []bool{false, true} {
		name := "non-streamed"
		body := `{"model":"a-fail","messages":[{"role":"user","content":"hi"}]}`
		if stream {
			name = "streamed"
			body = `{"model":"a-fail","stream":true,"messages":[{"role":"user","content":"hi"}]}`
		}
		t.Run(name, func(t *testing.T) {
			fail := newUpstream(t).always(reply{status: 500, file: "error_500.json"})
			file := "chat_completion.json"
			if stream {
				file = "stream_usage.sse"
			}
			exp := newUpstream(t).always(reply{file: file})
			g := newKeyedGateway(t, failThenExpensive, modelListKeys{key: scoped, models: []string{"a-fail"}}, fail, exp)

			resp := g.chat(body, "Authorization", "Bearer "+scoped)
			if resp.StatusCode == 200 || exp.calls() != 0 {
				t.Fatalf("a key limited to a-fail was served by its fallback: status %d, expensive calls %d", resp.StatusCode, exp.calls())
			}
			e := errorOf(t, resp)
			if resp.StatusCode != 500 || !strings.Contains(e.Message, "expensive") || !strings.Contains(e.Message, "key's models") {
				t.Errorf("status %d, message %q: want the upstream's 500 saying the fallback expensive was skipped for the key's models", resp.StatusCode, e.Message)
			}

			resp = g.chat(body)
			if resp.StatusCode != 200 || exp.calls() != 1 || resp.Header.Get("x-litellm-model-group") != "expensive" {
				t.Fatalf("master key: status %d, expensive calls %d", resp.StatusCode, exp.calls())
			}
			readAll(t, resp.Body)
		})
	}
}

// aliasKeys is a KeySource whose one key has model aliases and a model list.
type aliasKeys struct{ key string }

func (k aliasKeys) Authenticate(_ context.Context, key string) (*Principal, error) {
	if key != k.key {
		return nil, ErrInvalidKey
	}
	return &Principal{KeyHash: HashKey(key), Models: []string{"a-fail"},
		Aliases: map[string]string{"fast": "a-fail", "pricey": "expensive"}}, nil
}

// A key's alias routes to its group, and the key's model list is checked against that group,
// on the Chat Completions and the Messages API alike; a refusal has LiteLLM's type.
func TestKeyAliasesAndModelAccess(t *testing.T) {
	const key = "sk-aliased-0123456789"
	a := newUpstream(t).always(reply{file: "chat_completion.json"})
	b := newUpstream(t).always(reply{file: "chat_completion.json"})
	g := newKeyedGateway(t, failThenExpensive, aliasKeys{key: key}, a, b)
	auth := []string{"Authorization", "Bearer " + key}

	resp := g.chat(`{"model":"fast","messages":[{"role":"user","content":"hi"}]}`, auth...)
	readAll(t, resp.Body)
	if resp.StatusCode != 200 || resp.Header.Get("x-litellm-model-group") != "a-fail" || a.calls() != 1 {
		t.Fatalf("model=fast: status %d group %q, a-fail calls %d", resp.StatusCode, resp.Header.Get("x-litellm-model-group"), a.calls())
	}
	for _, model := range []string{"pricey", "expensive"} {
		resp = g.chat(`{"model":"`+model+`","messages":[{"role":"user","content":"hi"}]}`, auth...)
		if e := errorOf(t, resp); resp.StatusCode != 403 || e.Type != "key_model_access_denied" {
			t.Errorf("model=%s: status %d type %q", model, resp.StatusCode, e.Type)
		}
	}
	msg := `{"model":"pricey","max_tokens":10,"messages":[{"role":"user","content":"hi"}]}`
	resp = g.do("POST", "/v1/messages", msg, auth...)
	if body := readAll(t, resp.Body); resp.StatusCode != 403 || b.calls() != 0 {
		t.Errorf("Messages API, model=pricey: status %d, expensive calls %d: %s", resp.StatusCode, b.calls(), body)
	}
	resp = g.do("POST", "/v1/messages", strings.Replace(msg, "pricey", "fast", 1), auth...)
	if body := readAll(t, resp.Body); resp.StatusCode != 200 || a.calls() != 2 {
		t.Errorf("Messages API, model=fast: status %d: %s", resp.StatusCode, body)
	}
}
