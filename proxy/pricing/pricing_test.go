package pricing

import (
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

func mustLookup(t *testing.T, provider, model string) Price {
	t.Helper()
	p, ok := Lookup(provider, model)
	if !ok {
		t.Fatalf("Lookup(%q, %q): not found", provider, model)
	}
	return p
}

func approx(a, b float64) bool { return math.Abs(a-b) <= 1e-12+1e-9*math.Abs(b) }

func TestCost(t *testing.T) {
	tests := []struct {
		name            string
		provider, model string
		u               Usage
		want            float64
	}{
		{
			// 1000 × $3/MTok + 500 × $15/MTok = 0.003 + 0.0075
			name: "sonnet 4.5 plain", provider: "anthropic", model: "claude-sonnet-4-5",
			u: Usage{PromptTokens: 1000, CompletionTokens: 500}, want: 0.0105,
		},
		{
			// uncached (10000 − 6000 − 2000) × 3e-6 = 0.006
			// cache read 6000 × 0.30e-6 = 0.0018
			// cache write 2000 × 3.75e-6 = 0.0075
			// completion 1000 (400 of them reasoning) × 15e-6 = 0.015
			name: "sonnet 4.5 cache read and write, reasoning inside completion", provider: "anthropic", model: "claude-sonnet-4-5-20250929",
			u:    Usage{PromptTokens: 10000, CacheReadTokens: 6000, CacheWriteTokens: 2000, CompletionTokens: 1000, ReasoningTokens: 400},
			want: 0.0303,
		},
		{
			// 250000 > 200000: the whole request at the long-context tier.
			// uncached 200000 × 6e-6 = 1.2; cache read 50000 × 0.6e-6 = 0.03; 2000 × 22.5e-6 = 0.045
			name: "sonnet 4.5 over 200k, tier includes cache", provider: "anthropic", model: "claude-sonnet-4-5",
			u: Usage{PromptTokens: 250000, CacheReadTokens: 50000, CompletionTokens: 2000}, want: 1.275,
		},
		{
			// Exactly 200000 is not above 200000: base rates. 200000 × 3e-6
			name: "sonnet 4.5 at the threshold", provider: "anthropic", model: "claude-sonnet-4-5",
			u: Usage{PromptTokens: 200000}, want: 0.6,
		},
		{
			// No tier on 4.6 (1M GA at standard prices): 500000 × 3e-6 + 1000 × 15e-6 = 1.5 + 0.015
			name: "sonnet 4.6 has no long-context premium", provider: "anthropic", model: "claude-sonnet-4-6",
			u: Usage{PromptTokens: 500000, CompletionTokens: 1000}, want: 1.515,
		},
		{
			// 300000 × 2.5e-6 = 0.75; 1000 (600 thinking) × 15e-6 = 0.015
			name: "gemini 2.5 pro over 200k", provider: "gemini", model: "gemini-2.5-pro",
			u: Usage{PromptTokens: 300000, CompletionTokens: 1000, ReasoningTokens: 600}, want: 0.765,
		},
		{
			// 976 × 0.15e-6 = 0.0001464; 1024 × 0.075e-6 = 0.0000768; 100 × 0.6e-6 = 0.00006
			name: "gpt-4o-mini cached input", provider: "openai", model: "gpt-4o-mini",
			u: Usage{PromptTokens: 2000, CacheReadTokens: 1024, CompletionTokens: 100}, want: 0.0002832,
		},
		{
			// 1000 × 2e-6 = 0.002; 5000 (4500 reasoning) × 8e-6 = 0.04
			name: "o3 reasoning billed as output", provider: "openai", model: "o3",
			u: Usage{PromptTokens: 1000, CompletionTokens: 5000, ReasoningTokens: 4500}, want: 0.042,
		},
		{
			// 300000 > 272000: uncached 200000 × 5e-6 = 1.0; 100000 × 0.5e-6 = 0.05; 1000 × 22.5e-6 = 0.0225
			name: "gpt-5.4 over 272k", provider: "openai", model: "gpt-5.4",
			u: Usage{PromptTokens: 300000, CacheReadTokens: 100000, CompletionTokens: 1000}, want: 1.0725,
		},
		{
			// Regional endpoint, 10% over global: 1000 × 3.3e-6 + 1000 × 16.5e-6 = 0.0033 + 0.0165
			name: "bedrock regional premium", provider: "bedrock", model: "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
			u: Usage{PromptTokens: 1000, CompletionTokens: 1000}, want: 0.0198,
		},
		{
			// Global endpoint at list price: 0.003 + 0.015
			name: "bedrock global", provider: "bedrock", model: "global.anthropic.claude-sonnet-4-5-20250929-v1:0",
			u: Usage{PromptTokens: 1000, CompletionTokens: 1000}, want: 0.018,
		},
		{
			// No published cached-input price: cache reads bill at the input price. 1000 × 0.8e-6
			name: "nova cache read falls back to input", provider: "bedrock", model: "amazon.nova-pro-v1:0",
			u: Usage{PromptTokens: 1000, CacheReadTokens: 1000}, want: 0.0008,
		},
		{
			// Cache counts larger than the prompt (Anthropic-style counts passed by mistake):
			// uncached clamps to 0; 300 × 0.1e-6 + 200 × 1.25e-6 = 0.00003 + 0.00025
			name: "cache beyond prompt clamps", provider: "anthropic", model: "claude-haiku-4-5",
			u: Usage{PromptTokens: 100, CacheReadTokens: 300, CacheWriteTokens: 200}, want: 0.00028,
		},
		{
			name: "negative counts are zero", provider: "openai", model: "gpt-4o",
			u: Usage{PromptTokens: -5, CompletionTokens: -1, ReasoningTokens: -3}, want: 0,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := mustLookup(t, tt.provider, tt.model)
			got, priced := Cost(p, tt.u)
			if !priced {
				t.Fatal("priced = false")
			}
			if !approx(got, tt.want) {
				t.Fatalf("Cost = %.10f, want %.10f", got, tt.want)
			}
		})
	}
}

func TestCostUnpriced(t *testing.T) {
	if _, ok := Lookup("openai", "gpt-9-ultra"); ok {
		t.Fatal("an unknown model was found")
	}
	usd, priced := Cost(Price{}, Usage{PromptTokens: 1000, CompletionTokens: 1000})
	if priced || usd != 0 {
		t.Fatalf("Cost of no price = %v, %v; want 0, false", usd, priced)
	}
	if MaxCost(Price{}, 1000, 1000) != 0 {
		t.Fatal("MaxCost of no price is not 0")
	}
	// A free model is priced, at 0, which is not the same as unpriced.
	free := Price{}.With(map[string]any{"input_cost_per_token": 0, "output_cost_per_token": 0})
	if usd, priced := Cost(free, Usage{PromptTokens: 10}); !priced || usd != 0 {
		t.Fatalf("free model = %v, %v", usd, priced)
	}
}

func TestOverrides(t *testing.T) {
	base := mustLookup(t, "openai", "gpt-4o")
	p := base.With(map[string]any{
		"input_cost_per_token":                   "1e-6", // YAML may give strings
		"output_cost_per_token":                  2e-6,
		"output_cost_per_reasoning_token":        4e-6,
		"input_cost_per_token_above_128k_tokens": 1e-5,
		"max_output_tokens":                      int64(1000),
		"cache_read_input_token_cost":            nil,     // ignored
		"id":                                     "dep-1", // not a cost-map field: ignored
		"max_input_tokens":                       "lots",  // wrong type: ignored
		"supports_vision":                        "false",
	})
	// 1000 cached of 3000: uncached 2000 × 1e-6 = 0.002; cache read keeps gpt-4o's 1.25e-6
	// (LiteLLM's inheritance): 1000 × 1.25e-6 = 0.00125; completion 100 of which 60 reasoning:
	// 40 × 2e-6 + 60 × 4e-6 = 0.00008 + 0.00024
	got, _ := Cost(p, Usage{PromptTokens: 3000, CacheReadTokens: 1000, CompletionTokens: 100, ReasoningTokens: 60})
	if want := 0.00357; !approx(got, want) {
		t.Fatalf("Cost = %.10f, want %.10f", got, want)
	}
	// Over the new 128k tier: input 130000 × 1e-5 = 1.3; output has no tier price, base 2e-6:
	// 10 × 2e-6 = 0.00002
	got, _ = Cost(p, Usage{PromptTokens: 130000, CompletionTokens: 10})
	if want := 1.30002; !approx(got, want) {
		t.Fatalf("tier Cost = %.10f, want %.10f", got, want)
	}
	if *p.MaxOutputTokens != 1000 || *p.MaxInputTokens != 128000 || *p.SupportsVision {
		t.Fatalf("limits %v %v vision %v", *p.MaxOutputTokens, *p.MaxInputTokens, *p.SupportsVision)
	}
	// The table is untouched.
	again := mustLookup(t, "openai", "gpt-4o")
	if *again.InputCostPerToken != 2.5e-6 || len(again.Tiers) != 0 || *again.MaxOutputTokens != 16384 {
		t.Fatalf("override leaked into the table: %+v", again.Fields())
	}
	// A custom model with only input/output prices: cache tokens bill at the input price.
	custom := Price{}.With(map[string]any{"input_cost_per_token": 1e-6, "output_cost_per_token": 3e-6})
	// (1000 − 400 − 100) × 1e-6 + 400 × 1e-6 + 100 × 1e-6 = 0.001; + 10 × 3e-6 = 0.00003
	if got, _ := Cost(custom, Usage{PromptTokens: 1000, CacheReadTokens: 400, CacheWriteTokens: 100, CompletionTokens: 10}); !approx(got, 0.00103) {
		t.Fatalf("custom Cost = %.10f", got)
	}
}

func TestFieldsRoundTrip(t *testing.T) {
	for _, k := range Models() {
		p := mustLookup(t, "", k)
		q := Price{}.With(p.Fields())
		q.Key, q.Source, q.Origin = p.Key, p.Source, p.Origin
		if !reflect.DeepEqual(p, q) {
			t.Fatalf("%s: Fields round trip differs:\n%+v\n%+v", k, p.Fields(), q.Fields())
		}
	}
}

// Aliases: dated and undated ids, Bedrock region prefixes and versions, Vertex @-versions,
// prefixed names and ARNs all find the entry the most exact name has.
func TestLookupForms(t *testing.T) {
	tests := []struct{ provider, model, key string }{
		{"", "claude-opus-4-6", "claude-opus-4-6"},
		{"anthropic", "claude-sonnet-4-5-20250929", "claude-sonnet-4-5"}, // dated → undated
		{"anthropic", "claude-opus-4-5-20251101", "claude-opus-4-5"},
		{"anthropic", "claude-opus-4-20250514", "claude-opus-4-20250514"}, // its own entry
		{"", "anthropic/claude-3-7-sonnet-latest", "claude-3-7-sonnet-latest"},
		{"anthropic", "claude-opus-5-5", "claude-opus-5-5"}, // Claude Code's default
		{"openai", "gpt-4o-2024-08-06", "gpt-4o-2024-08-06"},
		{"openai", "gpt-4o-2024-05-13", "gpt-4o-2024-05-13"},
		{"openai", "gpt-4o-2099-01-01", "gpt-4o"}, // an unknown snapshot falls back to the family
		{"", "openai/o3-mini-2025-01-31", "o3-mini-2025-01-31"},
		{"gemini", "gemini-2.5-pro", "gemini/gemini-2.5-pro"},
		{"", "gemini/gemini-2.5-flash-lite", "gemini/gemini-2.5-flash-lite"},
		{"vertex_ai", "gemini-2.5-flash", "vertex_ai/gemini-2.5-flash"},
		{"vertex_ai", "gemini-2.0-flash@001", "vertex_ai/gemini-2.0-flash"},
		{"vertex_ai", "claude-sonnet-4-5@20250929", "vertex_ai/claude-sonnet-4-5"},
		{"", "gemini-2.0-flash", "gemini/gemini-2.0-flash"},
		{"bedrock", "anthropic.claude-sonnet-4-5-20250929-v1:0", "anthropic.claude-sonnet-4-5-20250929-v1:0"},
		{"bedrock", "us.anthropic.claude-sonnet-4-5-20250929-v1:0", "us.anthropic.claude-sonnet-4-5-20250929-v1:0"},
		{"bedrock", "au.anthropic.claude-sonnet-4-5-20250929-v1:0", "au.anthropic.claude-sonnet-4-5-20250929"},
		{"bedrock", "global.anthropic.claude-opus-4-6-v1", "global.anthropic.claude-opus-4-6-v1"},
		{"bedrock", "converse/eu.anthropic.claude-haiku-4-5-20251001-v1:0", "eu.anthropic.claude-haiku-4-5-20251001-v1:0"},
		{"", "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-opus-4-6-v1", "us.anthropic.claude-opus-4-6-v1"},
		{"bedrock", "us.amazon.nova-pro-v1:0", "amazon.nova-pro-v1:0"},
		{"bedrock", "global.anthropic.claude-sonnet-5-v1:0", "global.anthropic.claude-sonnet-5-v1:0"},
		{"bedrock", "claude-opus-4-7", "bedrock/claude-opus-4-7"}, // Bedrock's price, not Anthropic's
		{"azure", "gpt-4o", "azure/gpt-4o"},
		{"azure", "gpt-4o-mini-2024-07-18", "azure/gpt-4o-mini-2024-07-18"},
		{"openrouter", "anthropic/claude-sonnet-4.5", "openrouter/anthropic/claude-sonnet-4.5"},
		{"groq", "llama-3.3-70b-versatile", "groq/llama-3.3-70b-versatile"},
		{"xai", "grok-4", "xai/grok-4"},
		{"mistral", "mistral-large-latest", "mistral/mistral-large-latest"},
		{"fireworks_ai", "accounts/fireworks/models/deepseek-v3p2", "fireworks_ai/accounts/fireworks/models/deepseek-v3p2"},
	}
	for _, tt := range tests {
		t.Run(tt.provider+"|"+tt.model, func(t *testing.T) {
			p := mustLookup(t, tt.provider, tt.model)
			if p.Key != tt.key {
				t.Fatalf("found %q, want %q", p.Key, tt.key)
			}
			if p.Origin != OriginEmbedded {
				t.Fatalf("origin %q", p.Origin)
			}
		})
	}
	// Local servers have no list price, whatever the model is called.
	for _, prov := range []string{"ollama", "ollama_chat", "lm_studio", "hosted_vllm"} {
		for _, m := range []string{"gpt-4o", "mistral-small", "llama3.1", "deepseek-chat"} {
			if p, ok := Lookup(prov, m); ok {
				t.Errorf("Lookup(%s, %s) found %q", prov, m, p.Key)
			}
		}
	}
	for _, m := range []string{"", "  ", "gpt-9", "us.anthropic.claude-opus-9-v1:0", "anthropic.titan-text"} {
		if p, ok := Lookup("bedrock", m); ok {
			t.Errorf("Lookup(%q) found %q", m, p.Key)
		}
	}
}

func TestMaxCost(t *testing.T) {
	p := mustLookup(t, "anthropic", "claude-sonnet-4-5")
	// Every prompt token at the dearest input-side price (5-minute cache write, 3.75e-6) and the
	// model's 64000 output tokens at 15e-6: 1000 × 3.75e-6 + 64000 × 15e-6 = 0.00375 + 0.96
	if got := MaxCost(p, 1000, 0); !approx(got, 0.96375) {
		t.Fatalf("MaxCost default output = %v", got)
	}
	// 0.00375 + 1000 × 15e-6 = 0.01875
	if got := MaxCost(p, 1000, 1000); !approx(got, 0.01875) {
		t.Fatalf("MaxCost = %v", got)
	}
	// Over 200k the tier prices apply: 210000 × 7.5e-6 + 100 × 22.5e-6 = 1.575 + 0.00225
	if got := MaxCost(p, 210000, 100); !approx(got, 1.57725) {
		t.Fatalf("MaxCost over tier = %v", got)
	}
	// A reasoning price above the output price is what each output token may cost:
	// 100 × 1e-6 + 10 × 5e-6 = 0.0001 + 0.00005
	r := Price{}.With(map[string]any{"input_cost_per_token": 1e-6, "output_cost_per_token": 2e-6, "output_cost_per_reasoning_token": 5e-6})
	if got := MaxCost(r, 100, 10); !approx(got, 0.00015) {
		t.Fatalf("MaxCost with a dearer reasoning price = %v, want 0.00015", got)
	}
}

// TestMaxCostBoundsCost: for every model, any usage within the reserved prompt and output costs
// no more than MaxCost, so a reservation settles down, never up, when the estimate holds.
func TestMaxCostBoundsCost(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, k := range Models() {
		p := mustLookup(t, "", k)
		for i := 0; i < 200; i++ {
			prompt := rng.IntN(400000)
			maxOut := rng.IntN(100000)
			read := rng.IntN(prompt + 1)
			write := rng.IntN(prompt - read + 1)
			comp := rng.IntN(maxOut + 1)
			u := Usage{PromptTokens: rng.IntN(prompt + 1), CacheReadTokens: read, CacheWriteTokens: write, CompletionTokens: comp, ReasoningTokens: rng.IntN(comp + 1)}
			if u.PromptTokens < read+write {
				u.PromptTokens = read + write
			}
			c, _ := Cost(p, u)
			if m := MaxCost(p, prompt, maxOut); c > m+1e-12 {
				t.Fatalf("%s: Cost %+v = %v > MaxCost(%d, %d) = %v", k, u, c, prompt, maxOut, m)
			}
		}
	}
}

func TestInfo(t *testing.T) {
	tests := []struct {
		provider, model string
		ctx, out        int
		ok              bool
	}{
		{"anthropic", "claude-opus-4-6", 1000000, 128000, true},
		{"anthropic", "claude-haiku-4-5-20251001", 200000, 64000, true},
		{"openai", "gpt-4o", 128000, 16384, true},
		{"gemini", "gemini-2.5-pro", 1048576, 65536, true},
		{"openai", "gpt-5.5", 1000000, 0, false}, // context from genai-prices; no source states its max output
		{"openai", "nope", 0, 0, false},
	}
	for _, tt := range tests {
		ctx, out, ok := Info(tt.provider, tt.model)
		if ctx != tt.ctx || out != tt.out || ok != tt.ok {
			t.Errorf("Info(%s, %s) = %d, %d, %v; want %d, %d, %v", tt.provider, tt.model, ctx, out, ok, tt.ctx, tt.out, tt.ok)
		}
	}
}

// TestTable holds the embedded table to its rules.
// Every chat entry has input and output prices and a context window; every embedding entry an
// input price; and the prices are per token (a per-MTok value slipped in would be 1e6 too high).
func TestTable(t *testing.T) {
	keys := Models()
	chat := 0
	for _, k := range keys {
		p := mustLookup(t, "", k)
		if p.Key != k {
			t.Errorf("%s: looked up as %q", k, p.Key)
		}
		if p.LiteLLMProvider == "" || p.Source == "" {
			t.Errorf("%s: provider %q source %q", k, p.LiteLLMProvider, p.Source)
		}
		if p.InputCostPerToken == nil {
			t.Errorf("%s: no input price", k)
			continue
		}
		if *p.InputCostPerToken > 1e-3 {
			t.Errorf("%s: input price per token implausibly high (per-MTok value entered?)", k)
		}
		switch p.Mode {
		case "embedding":
			continue
		case "chat":
			chat++
		default:
			t.Errorf("%s: mode %q", k, p.Mode)
			continue
		}
		if p.OutputCostPerToken == nil || *p.OutputCostPerToken > 1e-2 {
			t.Errorf("%s: output price missing or implausible", k)
		}
		if ctx, out := p.limits(); ctx <= 0 {
			t.Errorf("%s: no context window", k)
		} else if out > ctx {
			t.Errorf("%s: max output %d above the context window %d", k, out, ctx)
		}
		for _, tr := range p.Tiers {
			if tr.InputCostPerToken != nil && *tr.InputCostPerToken < *p.InputCostPerToken {
				t.Errorf("%s: tier above %d lowers the input price", k, tr.Above)
			}
		}
	}
	if chat < 1500 {
		t.Errorf("%d chat models, want at least 1500", chat)
	}
	t.Logf("%d entries, %d chat models", len(keys), chat)
}

// The generator lists, per provider prefix Clawgate serves, every model its sources price; each is
// found under that prefix. What the sources list but could not be priced (no context window) is
// named in _meta.skipped, with the reason.
func TestCoverage(t *testing.T) {
	m := EmbeddedMeta()
	if len(m.Sources) < 2 || m.Date == "" || m.Sources[0].Package != "@pydantic/genai-prices" || m.Sources[0].Version == "" {
		t.Fatalf("meta %+v", m)
	}
	served := []string{"openai", "anthropic", "gemini", "vertex_ai", "bedrock", "azure", "groq", "openrouter",
		"deepseek", "xai", "mistral", "together_ai", "fireworks_ai", "perplexity"}
	for _, prefix := range served {
		ids := m.SourceModels[prefix]
		if len(ids) == 0 {
			t.Errorf("%s: no models listed", prefix)
		}
		for _, id := range ids {
			p, ok := Lookup(prefix, id)
			if !ok {
				t.Errorf("%s/%s: listed by the source, not in the table", prefix, id)
				continue
			}
			// Found under this provider's own entry, not another host's price for the name.
			if p.Key != id && p.Key != prefix+"/"+id {
				t.Errorf("%s/%s: priced by entry %q", prefix, id, p.Key)
			}
		}
	}
	for _, s := range m.Skipped {
		if !strings.HasSuffix(s, ": no context window in either source") {
			t.Errorf("skipped without the known reason: %s", s)
		}
	}
}

func TestParseTableRejects(t *testing.T) {
	for name, data := range map[string]string{
		"not json":       `{`,
		"unknown field":  `{"m": {"input_cost_per_tokens": 1e-6}}`,
		"negative":       `{"m": {"input_cost_per_token": -1e-6}}`,
		"string bool":    `{"m": {"supports_vision": 3}}`,
		"fractional max": `{"m": {"max_tokens": 1.5}}`,
		"bad provider":   `{"m": {"litellm_provider": 4}}`,
	} {
		if _, err := parseTable([]byte(data), true); err == nil {
			t.Errorf("%s: parsed", name)
		}
	}
	tb, err := parseTable([]byte(`{"x/m": {"input_cost_per_token": "2e-6", "output_cost_per_token": 1, "input_cost_per_token_above_1000_tokens": 3e-6}}`), true)
	if err != nil {
		t.Fatal(err)
	}
	if p := tb.byKey["x/m"]; len(p.Tiers) != 1 || p.Tiers[0].Above != 1000 || tb.bySuffix["m"] != "x/m" {
		t.Fatalf("parsed %+v", p)
	}
}

// Facts the generator must carry through from its sources, per 1M tokens: the full price where a
// source lists a time-of-day discount, Bedrock's regional premium, and long-context tiers.
func TestSourceFacts(t *testing.T) {
	tests := []struct {
		provider, model string
		input, output   float64
		tierAbove       int // 0: no tier expected
		tierInput       float64
	}{
		{"deepseek", "deepseek-chat", 0.27, 1.10, 0, 0}, // not the off-peak 0.135
		{"bedrock", "global.anthropic.claude-sonnet-4-5-20250929-v1:0", 3, 15, 0, 0},
		{"bedrock", "us.anthropic.claude-sonnet-4-5-20250929-v1:0", 3.3, 16.5, 0, 0}, // regional: +10%
		{"anthropic", "claude-opus-5-5", 4, 20, 0, 0},
		{"openai", "gpt-4", 30, 60, 0, 0},
		{"openai", "gpt-3.5-turbo", 0.5, 1.5, 0, 0},
		{"gemini", "gemini-2.5-pro", 1.25, 10, 200000, 2.5},
	}
	for _, tt := range tests {
		t.Run(tt.provider+"/"+tt.model, func(t *testing.T) {
			p := mustLookup(t, tt.provider, tt.model)
			if !approx(*p.InputCostPerToken*1e6, tt.input) || !approx(*p.OutputCostPerToken*1e6, tt.output) {
				t.Errorf("%s: $%g/$%g per MTok, want $%g/$%g", p.Key, *p.InputCostPerToken*1e6, *p.OutputCostPerToken*1e6, tt.input, tt.output)
			}
			if tt.tierAbove > 0 && (len(p.Tiers) != 1 || p.Tiers[0].Above != tt.tierAbove || !approx(*p.Tiers[0].InputCostPerToken*1e6, tt.tierInput)) {
				t.Errorf("%s: tiers %+v", p.Key, p.Tiers)
			}
		})
	}
}
