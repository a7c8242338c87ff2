package pricing

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// clientDefaults are models clients pick on their own: Claude Code's default and small-fast
// models, and the models `openclaw onboard` writes for a LiteLLM provider.
var clientDefaults = [][2]string{
	{"anthropic", "claude-opus-5-5"},
	{"anthropic", "claude-haiku-4-5-20251001"},
	{"anthropic", "claude-sonnet-4-5-20250929"},
	{"anthropic", "claude-opus-4-6"},
	{"openai", "gpt-4o-mini"},
}

// namedModelRE finds provider/model in config text, commented out or not: `model: openai/gpt-4o`,
// `base_model: azure/gpt-4o`.
var namedModelRE = regexp.MustCompile(`(?m)(?:^|\s)(?:base_)?model:\s*"?([a-z_]+)/([A-Za-z0-9._:@-]+)"?`)

// namedModels returns the provider/model pairs a doc names, less placeholders (YOUR-...),
// wildcards, and openai/ models behind a local api_base (local servers are declared free).
func namedModels(t *testing.T, path string) [][2]string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out [][2]string
	for _, m := range namedModelRE.FindAllStringSubmatch(string(data), -1) {
		prov, model := m[1], m[2]
		if strings.Contains(model, "YOUR-") || strings.Contains(model, "*") || strings.HasPrefix(model, "llama") {
			continue
		}
		out = append(out, [2]string{prov, model})
	}
	if len(out) == 0 {
		t.Fatalf("%s names no model", path)
	}
	return out
}

// The models the README, the first-run config and the clients' own defaults name are priced, with
// a context window.
func TestNamedModelsPriced(t *testing.T) {
	all := append([][2]string{}, clientDefaults...)
	all = append(all, namedModels(t, "../config/example.yaml")...)
	all = append(all, namedModels(t, "../../README.md")...)
	for _, pm := range all {
		p, ok := Lookup(pm[0], pm[1])
		if !ok {
			t.Errorf("%s/%s: not priced", pm[0], pm[1])
			continue
		}
		if _, priced := Cost(p, Usage{}); !priced || p.InputCostPerToken == nil || p.OutputCostPerToken == nil || *p.OutputCostPerToken == 0 {
			t.Errorf("%s/%s: incomplete price (entry %s)", pm[0], pm[1], p.Key)
		}
		if cw, _ := p.limits(); cw <= 0 {
			t.Errorf("%s/%s: no context window (entry %s)", pm[0], pm[1], p.Key)
		}
	}
	t.Logf("%d models checked", len(all))
}
