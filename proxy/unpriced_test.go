package proxy

import (
	"errors"
	"net/http"
	"strings"
	"testing"
)

const pricingRoutes = `
model_list:
  - model_name: known
    litellm_params: {model: openai/gpt-4o-mini, api_key: sk-x}
  - model_name: dated
    litellm_params: {model: anthropic/claude-sonnet-4-5-20250929, api_key: sk-x}
  - model_name: private
    litellm_params: {model: openai/my-private-model, api_base: "http://127.0.0.1:1/v1", api_key: sk-x}
  - model_name: local
    litellm_params: {model: ollama/llama3.1}
  - model_name: local-free
    litellm_params: {model: ollama/llama3.1}
    model_info: {input_cost_per_token: 0, output_cost_per_token: 0}
  - model_name: based
    litellm_params: {model: azure/prod-chat, api_base: "http://127.0.0.1:1", api_key: sk-x}
    model_info: {base_model: azure/gpt-4o}
  - model_name: "openai/*"
    litellm_params: {model: "openai/*", api_key: sk-x}
`

// A route without a price is named at load with the fix; priced, dated, declared-free,
// base_model-priced and wildcard routes are not.
func TestUnpricedRoutes(t *testing.T) {
	g := newGateway(t, pricingRoutes)
	got := g.gw.UnpricedRoutes()
	if len(got) != 2 || !strings.Contains(got[0], `route "local" (ollama/llama3.1)`) || !strings.Contains(got[1], `route "private" (openai/my-private-model)`) {
		t.Fatalf("warnings = %q", got)
	}
	for _, w := range got {
		if !strings.Contains(w, "model_info.input_cost_per_token") || !strings.Contains(w, "set both to 0 to declare it free") {
			t.Errorf("warning names no fix: %s", w)
		}
	}
}

// budgetGate says which keys have a budget; it admits everything.
type budgetGate struct {
	fakeGate
	budgeted map[string]bool
}

func (g *budgetGate) HasBudget(p *Principal) bool { return g.budgeted[p.KeyHash] }

func TestRefuseUnpriced(t *testing.T) {
	g := newGateway(t, pricingRoutes)
	g.gw.gate = &budgetGate{budgeted: map[string]bool{"capped": true}}
	deps := g.gw.state.Load().deps
	capped, open, master := &Principal{KeyHash: "capped"}, &Principal{KeyHash: "open"}, &Principal{Master: true}
	tests := []struct {
		name         string
		p            *Principal
		group, model string
		refused      bool
	}{
		{"budget on an unpriced route", capped, "private", "private", true},
		{"budget on an unpriced local model", capped, "local", "local", true},
		{"budget on a declared-free route", capped, "local-free", "local-free", false},
		{"budget on a priced route", capped, "known", "known", false},
		{"budget on a base_model route", capped, "based", "based", false},
		{"budget on a wildcard, priced model", capped, "openai/*", "openai/gpt-4o", false},
		{"budget on a wildcard, unknown model", capped, "openai/*", "openai/gpt-nobody", true},
		{"no budget", open, "private", "private", false},
		{"master key", master, "private", "private", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			model := tt.model
			if i := strings.Index(model, "/"); i >= 0 {
				model = model[i+1:]
			}
			err := g.gw.refuseUnpriced(tt.p, deps, tt.group, model)
			if (err != nil) != tt.refused {
				t.Fatalf("refused = %v (%v)", err != nil, err)
			}
			if err == nil {
				return
			}
			var he HTTPError
			if !errors.As(err, &he) {
				t.Fatalf("%T is not an HTTPError", err)
			}
			status, typ, _, details := he.HTTPStatus()
			if status != http.StatusBadRequest || typ != typeInvalidRequest || details["route"] != tt.group {
				t.Errorf("%d %s %v", status, typ, details)
			}
			if msg := err.Error(); !strings.Contains(msg, `"`+tt.group+`"`) || !strings.Contains(msg, "declare it free") {
				t.Errorf("message: %s", msg)
			}
		})
	}
	// A gate that cannot say whether a key has a budget refuses nothing.
	g.gw.gate = &fakeGate{}
	if err := g.gw.refuseUnpriced(capped, deps, "private", "private"); err != nil {
		t.Fatal(err)
	}
}
