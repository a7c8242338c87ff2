package proxy

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
)

// TestSetUsage reads OpenAI usage objects, every figure different from the others so that a swap
// or a dropped field shows. Objects with a figure the scanner does not take (null, a float) go to
// the decoder, which must read the same fields.
func TestSetUsage(t *testing.T) {
	type figures struct{ prompt, completion, cached, written, reasoning int }
	tests := []struct {
		name string
		raw  string
		want figures
	}{
		{"openai", `{"prompt_tokens":1500,"completion_tokens":650,"total_tokens":2150,"prompt_tokens_details":{"cached_tokens":1024,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":448}}`,
			figures{1500, 650, 1024, 0, 448}},
		{"litellm anthropic fields", `{"prompt_tokens":900,"completion_tokens":70,"cache_creation_input_tokens":300,"cache_read_input_tokens":500,"prompt_tokens_details":{"cached_tokens":500}}`,
			figures{900, 70, 500, 300, 0}},
		{"cache read only in litellm's field", `{"prompt_tokens":900,"completion_tokens":70,"cache_read_input_tokens":500}`,
			figures{900, 70, 500, 0, 0}},
		{"decoder: a null figure", `{"prompt_tokens":1500,"completion_tokens":650,"prompt_tokens_details":{"cached_tokens":1024},"completion_tokens_details":{"reasoning_tokens":448},"cache_creation_input_tokens":null}`,
			figures{1500, 650, 1024, 0, 448}},
		{"decoder: litellm fields beside a null", `{"prompt_tokens":900,"completion_tokens":70,"cache_creation_input_tokens":300,"cache_read_input_tokens":500,"completion_tokens_details":{"reasoning_tokens":null}}`,
			figures{900, 70, 500, 300, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var u Usage
			u.setUsage(json.RawMessage(tt.raw))
			got := figures{u.PromptTokens, u.CompletionTokens, u.CachedTokens, u.CacheCreationTokens, u.ReasoningTokens}
			if !u.UsageKnown || got != tt.want {
				t.Errorf("known %v, %+v; want %+v", u.UsageKnown, got, tt.want)
			}
		})
	}
	for _, raw := range []string{"", "null"} {
		var u Usage
		u.setUsage(json.RawMessage(raw))
		if u.UsageKnown {
			t.Errorf("%q: usage known", raw)
		}
	}
}

// reasoningModel is a group whose client name differs from its upstream model, priced by
// model_info with a reasoning price above the output price, so that a request billed without its
// reasoning or cache tokens, or by the wrong model's price, costs something else.
const reasoningModel = `
model_list:
  - model_name: thinker
    litellm_params: {model: openai/o3, api_base: "{{A}}", api_key: sk-upstream}
    model_info:
      id: dep-o3
      input_cost_per_token: 2.0e-6
      output_cost_per_token: 8.0e-6
      cache_read_input_token_cost: 0.5e-6
      output_cost_per_reasoning_token: 12.0e-6
general_settings: {master_key: ` + masterKey + `}
`

// The recorded usage (testdata/openai/*reasoning*): 1500 prompt tokens, 1024 of them cached, and
// 650 completion tokens, 448 of them reasoning:
// (1500-1024) × 2e-6 + 1024 × 0.5e-6 + (650-448) × 8e-6 + 448 × 12e-6
// = 0.000952 + 0.000512 + 0.001616 + 0.005376
const reasoningCost = 0.008456

func checkReasoningUsage(t *testing.T, g *gateway, stream bool) {
	t.Helper()
	// A non-streamed body can reach the client before the handler records its usage; Close waits
	// for the handler to return.
	g.srv.Close()
	recs := g.sink.all()
	if len(recs) != 1 {
		t.Fatalf("%d usage records", len(recs))
	}
	u := recs[0]
	if u.ModelGroup != "thinker" || u.Model != "o3" || u.Stream != stream {
		t.Errorf("group %q, model %q, stream %v; want thinker, o3, %v", u.ModelGroup, u.Model, u.Stream, stream)
	}
	if u.PromptTokens != 1500 || u.CompletionTokens != 650 || u.CachedTokens != 1024 || u.ReasoningTokens != 448 {
		t.Errorf("tokens: prompt %d completion %d cached %d reasoning %d; want 1500 650 1024 448",
			u.PromptTokens, u.CompletionTokens, u.CachedTokens, u.ReasoningTokens)
	}
	if !u.Priced || math.Abs(u.Cost-reasoningCost) > 1e-12 {
		t.Errorf("cost %v (priced %v), want %v", u.Cost, u.Priced, reasoningCost)
	}
}

func TestCostCountsReasoningAndCache(t *testing.T) {
	const msgs = `"messages":[{"role":"user","content":"What is six times seven?"}]`
	t.Run("non-streamed", func(t *testing.T) {
		up := newUpstream(t, reply{file: "chat_completion_reasoning.json"})
		g := newGateway(t, reasoningModel, up)
		resp := g.chat(`{"model":"thinker",` + msgs + `}`)
		readAll(t, resp.Body)
		if resp.StatusCode != 200 || resp.Header.Get(hdrCost) != "0.008456" {
			t.Errorf("status %d, %s %q; want 200, 0.008456", resp.StatusCode, hdrCost, resp.Header.Get(hdrCost))
		}
		if m := upstreamModelOf(t, up.body(0)); m != "o3" {
			t.Errorf("upstream got model %q, want o3", m)
		}
		checkReasoningUsage(t, g, false)
	})
	t.Run("streamed, usage asked", func(t *testing.T) {
		up := newUpstream(t, reply{file: "stream_reasoning.sse"})
		g := newGateway(t, reasoningModel, up)
		resp := g.chat(`{"model":"thinker","stream":true,"stream_options":{"include_usage":true},` + msgs + `}`)
		events := sseEvents(t, resp.Body)
		if len(events) < 2 || events[len(events)-1] != "[DONE]" {
			t.Fatalf("events %q", events)
		}
		var last struct {
			Usage struct {
				Cost float64 `json:"cost"`
			} `json:"usage"`
		}
		if err := json.Unmarshal([]byte(events[len(events)-2]), &last); err != nil || math.Abs(last.Usage.Cost-reasoningCost) > 1e-12 {
			t.Errorf("usage chunk %s: cost %v, want %v (%v)", events[len(events)-2], last.Usage.Cost, reasoningCost, err)
		}
		checkReasoningUsage(t, g, true)
	})
	t.Run("streamed, usage not asked", func(t *testing.T) {
		up := newUpstream(t, reply{file: "stream_reasoning.sse"})
		g := newGateway(t, reasoningModel, up)
		resp := g.chat(`{"model":"thinker","stream":true,` + msgs + `}`)
		events := sseEvents(t, resp.Body)
		for _, e := range events {
			if strings.Contains(e, `"usage":{`) {
				t.Errorf("a client that did not ask for usage got it: %s", e)
			}
		}
		checkReasoningUsage(t, g, true)
	})
}

func upstreamModelOf(t *testing.T, body []byte) string {
	t.Helper()
	var b struct {
		Model string `json:"model"`
	}
	if err := json.Unmarshal(body, &b); err != nil {
		t.Fatalf("upstream body %s: %v", body, err)
	}
	return b.Model
}
