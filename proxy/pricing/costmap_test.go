package pricing

import (
	"strings"
	"testing"
)

// A map in LiteLLM's published shape: its sample_spec, fields Clawgate does not use (objects,
// lists, strings), image models priced per image, and a value of the wrong type.
const litellmShaped = `{
  "sample_spec": {"input_cost_per_token": 0.0, "max_tokens": "LEGACY parameter", "supported_regions": ["global"]},
  "1024-x-1024/dall-e-2": {"input_cost_per_pixel": 1.9e-08, "litellm_provider": "openai", "mode": "image_generation", "output_cost_per_pixel": 0.0},
  "aiml/flux/schnell": {"litellm_provider": "aiml", "metadata": {"notes": "x"}, "mode": "image_generation", "output_cost_per_image": 0.004, "supported_endpoints": ["/v1/images/generations"]},
  "amazon.nova-2-lite-v1:0": {"cache_read_input_token_cost": 7.5e-08, "input_cost_per_token": 3e-07, "input_cost_per_image_token": 3e-07,
    "litellm_provider": "bedrock_converse", "max_input_tokens": 1000000, "max_output_tokens": 64000, "max_tokens": 64000, "mode": "chat",
    "output_cost_per_token": 2.5e-06, "supports_pdf_input": true, "supports_reasoning": true},
  "gemini/gemini-9-pro": {"input_cost_per_token": 2e-06, "input_cost_per_token_above_200k_tokens": 4e-06, "output_cost_per_token": 1.2e-05,
    "output_cost_per_token_above_200k_tokens": 1.8e-05, "litellm_provider": "gemini", "mode": "chat", "max_input_tokens": "1M", "source": "https://example.com"},
  "ollama/llama9": {"input_cost_per_token": 0.0, "output_cost_per_token": 0.0, "litellm_provider": "ollama", "mode": "chat"}
}`

func TestParseCostMap(t *testing.T) {
	c, err := ParseCostMap([]byte(litellmShaped), "https://example.com/map.json")
	if err != nil {
		t.Fatal(err)
	}
	if c.Len() != 3 {
		t.Errorf("%d priced models, want 3 (nova, gemini-9-pro, ollama)", c.Len())
	}
	SetCostMap(c)
	t.Cleanup(func() { SetCostMap(nil) })
	if CurrentCostMap() != c {
		t.Fatal("map not in force")
	}
	nova := mustLookup(t, "bedrock", "amazon.nova-2-lite-v1:0")
	if nova.Origin != "https://example.com/map.json" || *nova.InputCostPerToken != 3e-7 || *nova.MaxOutputTokens != 64000 {
		t.Errorf("nova: %+v", nova)
	}
	g := mustLookup(t, "vertex_ai", "gemini-9-pro")
	if len(g.Tiers) != 1 || g.Tiers[0].Above != 200000 || *g.Tiers[0].OutputCostPerToken != 1.8e-5 || g.MaxInputTokens != nil {
		t.Errorf("gemini-9-pro: %+v (a bad max_input_tokens is skipped, the rest kept)", g)
	}
	// A map declares a local model free; that is a price.
	if p, ok := Lookup("ollama", "llama9"); !ok || *p.InputCostPerToken != 0 {
		t.Errorf("ollama/llama9: ok=%v", ok)
	}
	// The embedded table answers what the map lacks, and keeps its more exact names: its regional
	// Bedrock price over the map's in-region one, a dated snapshot over a family.
	if p := mustLookup(t, "bedrock", "us.amazon.nova-2-lite-v1:0"); p.Origin != OriginEmbedded || p.Key != "us.amazon.nova-2-lite" {
		t.Errorf("us.amazon.nova-2-lite-v1:0: %q from %q", p.Key, p.Origin)
	}
	if p := mustLookup(t, "openai", "gpt-4o-2024-05-13"); p.Origin != OriginEmbedded {
		t.Errorf("gpt-4o-2024-05-13 from %q", p.Origin)
	}
	for name, bad := range map[string]string{
		"not json":        "<html>502</html>",
		"a list":          `[1, 2]`,
		"nothing priced":  `{"sample_spec": {}, "x/img": {"output_cost_per_image": 0.1}}`,
		"truncated":       litellmShaped[:len(litellmShaped)/2],
		"entries not obj": `{"a": 1, "b": "x"}`,
	} {
		if _, err := ParseCostMap([]byte(bad), "u"); err == nil {
			t.Errorf("%s: parsed", name)
		} else if name == "nothing priced" && !strings.Contains(err.Error(), "no model") {
			t.Errorf("%s: %v", name, err)
		}
	}
}
