package proxy

import (
	"net/http"
	"strings"
)

// servedRoute is one route GET /routes lists and the 404 names.
type servedRoute struct {
	Method, Path, Name string
}

// servedRoutes are the routes clients call, without their aliases (each is also served without
// /v1, and under /openai). A test checks that each is really served.
var servedRoutes = []servedRoute{
	{"POST", "/v1/chat/completions", "chat_completion"},
	{"POST", "/v1/completions", "completion"},
	{"POST", "/v1/embeddings", "embeddings"},
	{"POST", "/v1/messages", "anthropic_messages"},
	{"POST", "/v1/messages/count_tokens", "count_tokens"},
	{"GET", "/v1/models", "model_list"},
	{"GET", "/model/info", "model_info"},
	{"GET", "/model_group/info", "model_group_info"},
	{"GET", "/health", "health_endpoint"},
	{"GET", "/health/liveliness", "health_liveliness"},
	{"GET", "/health/readiness", "health_readiness"},
	{"GET", "/routes", "get_routes"},
	{"POST", "/key/generate", "generate_key_fn"},
	{"GET", "/key/info", "info_key_fn"},
	{"GET", "/spend/logs", "view_spend_logs"},
	{"GET", "/global/spend/report", "get_global_spend_report"},
}

// handleRoutes serves GET /routes, as LiteLLM lists its routes: {"routes": [{path, methods, name}]}.
func (s *Server) handleRoutes(w http.ResponseWriter, r *http.Request) {
	if _, err := s.authenticate(r, s.state.Load()); err != nil {
		s.writeAuthError(w, err)
		return
	}
	out := make([]map[string]any, len(servedRoutes))
	for i, rt := range servedRoutes {
		out[i] = map[string]any{"path": rt.Path, "methods": []string{rt.Method}, "name": rt.Name}
	}
	writeJSON(w, http.StatusOK, map[string]any{"routes": out})
}

// routeList is the served routes in words, for the 404.
func routeList() string {
	var b strings.Builder
	for i, rt := range servedRoutes {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(rt.Method + " " + rt.Path)
	}
	return b.String()
}

// handleModelGroupInfo serves GET /model_group/info (?model_group= for one): each model group the
// key may use, with its providers, mode, limits and prices, in LiteLLM's shape.
func (s *Server) handleModelGroupInfo(w http.ResponseWriter, r *http.Request) {
	st := s.state.Load()
	p, err := s.authenticate(r, st)
	if err != nil {
		s.writeAuthError(w, err)
		return
	}
	want := r.URL.Query().Get("model_group")
	data := []map[string]any{}
	for _, g := range st.router.Groups() {
		if (want != "" && g != want) || !modelAllowed(p.Models, g, g) {
			continue
		}
		info := map[string]any{"model_group": g, "providers": []string{}, "mode": "chat",
			"max_input_tokens": nil, "max_output_tokens": nil, "input_cost_per_token": nil, "output_cost_per_token": nil,
			"tpm": nil, "rpm": nil, "supports_vision": false, "supports_function_calling": false,
			"supports_reasoning": false, "supports_prompt_caching": false, "configurable_clientside_auth_params": nil}
		var providers []string
		var tpm, rpm float64
		priced := false
		for _, d := range st.deps {
			if d.Group != g {
				continue
			}
			if !containsString(providers, d.ProviderName) {
				providers = append(providers, d.ProviderName)
			}
			tpm += number(d.Config.Params.Extra["tpm"])
			rpm += number(d.Config.Params.Extra["rpm"])
			if priced || strings.Contains(d.Model, "*") {
				continue
			}
			priced = true // the group's first deployment speaks for it, as in LiteLLM
			pr := priceFor(d, d.Model)
			if v := pr.InputCostPerToken; v != nil {
				info["input_cost_per_token"] = *v
			}
			if v := pr.OutputCostPerToken; v != nil {
				info["output_cost_per_token"] = *v
			}
			if v := pr.MaxInputTokens; v != nil {
				info["max_input_tokens"] = *v
			}
			if v := pr.MaxOutputTokens; v != nil {
				info["max_output_tokens"] = *v
			}
			is := func(b *bool) bool { return b != nil && *b }
			info["supports_vision"], info["supports_function_calling"] = is(pr.SupportsVision), is(pr.SupportsFunctionCalling)
			info["supports_reasoning"], info["supports_prompt_caching"] = is(pr.SupportsReasoning), is(pr.SupportsPromptCaching)
			mode, _ := d.Config.Info.Extra["mode"].(string)
			if mode == "" {
				mode = pr.Mode
			}
			if mode != "" {
				info["mode"] = mode
			}
		}
		info["providers"] = providers
		if tpm > 0 {
			info["tpm"] = tpm
		}
		if rpm > 0 {
			info["rpm"] = rpm
		}
		data = append(data, info)
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": data})
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func number(v any) float64 {
	switch n := v.(type) {
	case int:
		return float64(n)
	case int64:
		return float64(n)
	case float64:
		return n
	}
	return 0
}
