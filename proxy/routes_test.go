package proxy

import (
	"testing"
)

func TestRouteStates(t *testing.T) {
	up := newUpstream(t, reply{file: "error_500.json", status: 500})
	g := newGateway(t, `
model_list:
  - model_name: mini
    litellm_params: {model: openai/gpt-4o-mini, api_base: "{{A}}", api_key: sk-up}
    model_info: {id: dep-mini}
  - model_name: house
    litellm_params: {model: openai/house-model, api_base: "{{A}}"}
    model_info: {input_cost_per_token: 0.000002}
  - model_name: "anthropic/*"
    litellm_params: {model: "anthropic/*"}
router_settings: {allowed_fails: 0, cooldown_time: 30, num_retries: 0}
general_settings: {master_key: `+masterKey+`}
`, up)
	g.chat(`{"model":"mini","messages":[{"role":"user","content":"hi"}]}`).Body.Close()

	rs := g.gw.RouteStates()
	if len(rs) != 3 {
		t.Fatalf("%d routes: %+v", len(rs), rs)
	}
	mini, house, wild := rs[0], rs[1], rs[2]
	if mini.Name != "mini" || mini.ID != "dep-mini" || mini.Provider != "openai" || mini.Model != "gpt-4o-mini" || mini.APIBase != up.URL() ||
		mini.InputPerMTok == nil || *mini.InputPerMTok != 0.15 || *mini.OutputPerMTok != 0.6 || mini.ContextWindow != 128000 {
		t.Errorf("mini: %+v", mini)
	}
	// The failed call counts, and with allowed_fails 0 it benched the deployment.
	if mini.RecentFailures != 1 || mini.CoolingUntil.IsZero() {
		t.Errorf("mini health: %d failures, cooling until %v", mini.RecentFailures, mini.CoolingUntil)
	}
	if house.InputPerMTok == nil || *house.InputPerMTok != 2 || house.OutputPerMTok != nil || house.RecentFailures != 0 {
		t.Errorf("house: %+v", house)
	}
	if wild.Name != "anthropic/*" || wild.InputPerMTok != nil || wild.APIBase != "https://api.anthropic.com" {
		t.Errorf("wildcard: %+v", wild)
	}
}
