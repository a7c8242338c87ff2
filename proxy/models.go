package proxy

import (
	"encoding/json"
	"net/http"
	"sort"
	"strings"

	"github.com/clawgate/clawgate/proxy/route"
)

type modelObject struct {
	ID      string `json:"id"`
	Object  string `json:"object"`
	Created int64  `json:"created"`
	OwnedBy string `json:"owned_by"`
}

// handleModels serves GET /v1/models: the model groups the caller's key may use.
func (s *Server) handleModels(w http.ResponseWriter, r *http.Request) {
	st := s.state.Load()
	p, err := s.authenticate(r, st)
	if err != nil {
		s.writeAuthError(w, err)
		return
	}
	data := []modelObject{}
	for _, g := range st.router.Groups() {
		if !modelAllowed(p.Models, g, g) {
			continue
		}
		data = append(data, modelObject{ID: g, Object: "model", Created: st.loadedAt.Unix(), OwnedBy: ownerOf(st, g)})
	}
	writeJSON(w, http.StatusOK, map[string]any{"object": "list", "data": data})
}

// handleModel serves GET /v1/models/{model}.
func (s *Server) handleModel(w http.ResponseWriter, r *http.Request) {
	st := s.state.Load()
	p, err := s.authenticate(r, st)
	if err != nil {
		s.writeAuthError(w, err)
		return
	}
	id := r.PathValue("model")
	for _, g := range st.router.Groups() {
		if g == id && modelAllowed(p.Models, g, g) {
			writeJSON(w, http.StatusOK, modelObject{ID: g, Object: "model", Created: st.loadedAt.Unix(), OwnedBy: ownerOf(st, g)})
			return
		}
	}
	writeError(w, http.StatusNotFound, newAPIError(http.StatusNotFound, typeNotFound, "The model '"+id+"' does not exist. Call /v1/models to list the models served.").withParam("model"), 0)
}

func ownerOf(st *state, group string) string {
	for _, d := range st.deps {
		if d.Group == group {
			return d.ProviderName
		}
	}
	return "openai"
}

// handleModelInfo serves GET /model/info: every deployment with its secrets stripped.
func (s *Server) handleModelInfo(w http.ResponseWriter, r *http.Request) {
	st := s.state.Load()
	p, err := s.authenticate(r, st)
	if err != nil {
		s.writeAuthError(w, err)
		return
	}
	want := r.URL.Query().Get("litellm_model_id")
	data := []map[string]any{}
	for _, d := range st.deps {
		if want != "" && d.ID != want {
			continue
		}
		if !modelAllowed(p.Models, d.Group, d.Group) {
			continue
		}
		data = append(data, modelInfo(d))
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": data})
}

func modelInfo(d *route.Deployment) map[string]any {
	c := d.Config
	params := map[string]any{}
	for k, v := range c.Params.Extra {
		if isSecretName(k) {
			continue
		}
		params[k] = v
	}
	params["model"] = c.Params.Model
	if c.Params.APIBase != "" {
		params["api_base"] = route.ShownBase(c.Params.APIBase)
	}
	if c.Params.Timeout > 0 {
		params["timeout"] = c.Params.Timeout.Seconds()
	}
	if len(c.Params.ExtraHeaders) > 0 {
		// Header values often carry credentials: show the names only.
		names := make([]string, 0, len(c.Params.ExtraHeaders))
		for k := range c.Params.ExtraHeaders {
			names = append(names, k)
		}
		sort.Strings(names)
		params["extra_headers"] = names
	}
	info := map[string]any{}
	for k, v := range c.Info.Extra {
		info[k] = v
	}
	info["id"] = d.ID
	info["db_model"] = false
	info["litellm_provider"] = d.ProviderName
	if _, ok := info["mode"]; !ok {
		info["mode"] = "chat"
	}
	if v := c.Info.InputCostPerToken; v != nil {
		info["input_cost_per_token"] = *v
	}
	if v := c.Info.OutputCostPerToken; v != nil {
		info["output_cost_per_token"] = *v
	}
	if v := c.Info.MaxInputTokens; v != nil {
		info["max_input_tokens"] = *v
	}
	if v := c.Info.MaxOutputTokens; v != nil {
		info["max_output_tokens"] = *v
		info["max_tokens"] = *v
	}
	return map[string]any{"model_name": d.Group, "litellm_params": params, "model_info": info}
}

// isSecretName reports whether a litellm_params key holds a credential.
func isSecretName(k string) bool {
	k = strings.ToLower(k)
	for _, s := range []string{"key", "secret", "token", "password", "credential"} {
		if strings.Contains(k, s) {
			return true
		}
	}
	return false
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		writeError(w, http.StatusInternalServerError, newAPIError(http.StatusInternalServerError, typeServer, "could not encode the response"), 0)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}
