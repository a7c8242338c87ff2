package config

import (
	"go.yaml.in/yaml/v3"
)

func (p *parser) modelList(sec entry) ([]Deployment, error) {
	n, err := p.deref(sec.v, sec.path)
	if err != nil {
		return nil, err
	}
	if isNull(n) {
		return nil, nil
	}
	if n.Kind != yaml.SequenceNode {
		return nil, p.errorf(sec.v, sec.path, "want a list of deployments, got %s", describe(n))
	}
	out := make([]Deployment, 0, len(n.Content))
	for i, item := range n.Content {
		d, err := p.deployment(item, index(sec.path, i))
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

func (p *parser) deployment(v *yaml.Node, path string) (Deployment, error) {
	d := Deployment{Line: v.Line}
	n, err := p.deref(v, path)
	if err != nil {
		return d, err
	}
	if n.Kind != yaml.MappingNode {
		return d, p.errorf(v, path, "want a mapping with model_name and litellm_params, got %s", describe(n))
	}
	es, err := p.entries(n, path)
	if err != nil {
		return d, err
	}
	var haveName, haveParams bool
	var costs paramCosts
	var limits []entry // tpm/rpm written beside litellm_params, which LiteLLM also reads
	for _, e := range es {
		switch e.key {
		case "model_name":
			s, ok, err := p.text(e.v, e.path)
			if err != nil {
				return d, err
			}
			if !ok || s == "" {
				return d, p.errorf(e.k, e.path, "required")
			}
			d.ModelName, haveName = s, true
		case "litellm_params":
			if d.Params, costs, err = p.params(e); err != nil {
				return d, err
			}
			haveParams = true
		case "model_info":
			if d.Info, err = p.info(e); err != nil {
				return d, err
			}
		case "tpm", "rpm":
			limits = append(limits, e)
		default:
			p.warn(e.k, e.path, "unknown key %s (ignored)", e.path)
		}
	}
	if !haveName {
		return d, p.errorf(v, join(path, "model_name"), "required")
	}
	if !haveParams {
		return d, p.errorf(v, join(path, "litellm_params"), "required")
	}
	for _, e := range limits {
		if _, ok := d.Params.Extra[e.key]; ok {
			continue
		}
		x, err := p.value(e.v, e.path)
		if err != nil {
			return d, err
		}
		if d.Params.Extra == nil {
			d.Params.Extra = map[string]any{}
		}
		d.Params.Extra[e.key] = x
	}
	if d.Info.InputCostPerToken == nil {
		d.Info.InputCostPerToken = costs.input
	}
	if d.Info.OutputCostPerToken == nil {
		d.Info.OutputCostPerToken = costs.output
	}
	return d, nil
}

// paramCosts are prices given in litellm_params, which LiteLLM accepts as well as in model_info.
type paramCosts struct{ input, output *float64 }

func (p *parser) params(sec entry) (Params, paramCosts, error) {
	var out Params
	var costs paramCosts
	n, err := p.deref(sec.v, sec.path)
	if err != nil {
		return out, costs, err
	}
	if n.Kind != yaml.MappingNode {
		return out, costs, p.errorf(sec.v, sec.path, "want a mapping with at least model, got %s", describe(n))
	}
	es, err := p.entries(n, sec.path)
	if err != nil {
		return out, costs, err
	}
	for _, e := range es {
		switch e.key {
		case "model":
			if out.Model, _, err = p.text(e.v, e.path); err != nil {
				return out, costs, err
			}
		case "api_base":
			if out.APIBase, _, err = p.apiBase(e.v, e.path); err != nil {
				return out, costs, err
			}
		case "api_key":
			if out.APIKey, out.APIKeyEnv, _, err = p.textEnv(e.v, e.path, true); err != nil {
				return out, costs, err
			}
		case "timeout":
			if out.Timeout, _, err = p.seconds(e.v, e.path); err != nil {
				return out, costs, err
			}
		case "extra_headers":
			if out.ExtraHeaders, err = p.headers(e); err != nil {
				return out, costs, err
			}
		default:
			x, err := p.value(e.v, e.path)
			if err != nil {
				return out, costs, err
			}
			if out.Extra == nil {
				out.Extra = map[string]any{}
			}
			out.Extra[e.key] = x
			var dst **float64
			switch e.key {
			case "input_cost_per_token":
				dst = &costs.input
			case "output_cost_per_token":
				dst = &costs.output
			default:
				continue
			}
			f, ok, err := p.number(e.v, e.path)
			if err != nil {
				return out, costs, err
			}
			if ok {
				*dst = &f
			}
		}
	}
	if out.Model == "" {
		return out, costs, p.errorf(sec.k, join(sec.path, "model"), "required")
	}
	return out, costs, nil
}

func (p *parser) headers(sec entry) (map[string]string, error) {
	es, err := p.mapping(sec.v, sec.path)
	if err != nil || len(es) == 0 {
		return nil, err
	}
	h := make(map[string]string, len(es))
	for _, e := range es {
		if e.key == "" {
			return nil, p.errorf(e.k, e.path, "empty header name")
		}
		s, ok, err := p.text(e.v, e.path)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, p.errorf(e.k, e.path, "want a header value, got nothing")
		}
		h[e.key] = s
	}
	return h, nil
}

func (p *parser) info(sec entry) (ModelInfo, error) {
	var out ModelInfo
	es, err := p.mapping(sec.v, sec.path)
	if err != nil {
		return out, err
	}
	for _, e := range es {
		switch e.key {
		case "id":
			if out.ID, _, err = p.text(e.v, e.path); err != nil {
				return out, err
			}
		case "input_cost_per_token", "output_cost_per_token":
			f, ok, err := p.number(e.v, e.path)
			if err != nil {
				return out, err
			}
			if !ok {
				continue
			}
			if e.key == "input_cost_per_token" {
				out.InputCostPerToken = &f
			} else {
				out.OutputCostPerToken = &f
			}
		case "max_input_tokens", "max_output_tokens":
			i, ok, err := p.integer(e.v, e.path)
			if err != nil {
				return out, err
			}
			if !ok {
				continue
			}
			if e.key == "max_input_tokens" {
				out.MaxInputTokens = &i
			} else {
				out.MaxOutputTokens = &i
			}
		default:
			x, err := p.value(e.v, e.path)
			if err != nil {
				return out, err
			}
			if out.Extra == nil {
				out.Extra = map[string]any{}
			}
			out.Extra[e.key] = x
		}
	}
	return out, nil
}

// credential is one credential_list entry; deployments name it with litellm_credential_name.
type credential struct {
	apiKey, apiKeyEnv, apiBase string
	hasKey, hasBase            bool
	extra                      map[string]any
}

func (p *parser) credentials(sec entry) (map[string]credential, error) {
	n, err := p.deref(sec.v, sec.path)
	if err != nil {
		return nil, err
	}
	if isNull(n) {
		return nil, nil
	}
	if n.Kind != yaml.SequenceNode {
		return nil, p.errorf(sec.v, sec.path, "want a list of credentials, got %s", describe(n))
	}
	out := map[string]credential{}
	for i, item := range n.Content {
		path := index(sec.path, i)
		m, err := p.deref(item, path)
		if err != nil {
			return nil, err
		}
		if m.Kind != yaml.MappingNode {
			return nil, p.errorf(item, path, "want a mapping with credential_name and credential_values, got %s", describe(m))
		}
		es, err := p.entries(m, path)
		if err != nil {
			return nil, err
		}
		var name string
		var c credential
		for _, e := range es {
			switch e.key {
			case "credential_name":
				if name, _, err = p.text(e.v, e.path); err != nil {
					return nil, err
				}
			case "credential_values":
				vs, err := p.mapping(e.v, e.path)
				if err != nil {
					return nil, err
				}
				for _, ve := range vs {
					switch ve.key {
					case "api_key":
						c.apiKey, c.apiKeyEnv, c.hasKey, err = p.textEnv(ve.v, ve.path, true)
					case "api_base":
						c.apiBase, c.hasBase, err = p.apiBase(ve.v, ve.path)
					default:
						var x any
						if x, err = p.value(ve.v, ve.path); err == nil {
							if c.extra == nil {
								c.extra = map[string]any{}
							}
							c.extra[ve.key] = x
						}
					}
					if err != nil {
						return nil, err
					}
				}
			case "credential_info":
				// Metadata for LiteLLM's UI (custom_llm_provider, description); checked, not used.
				if _, err := p.value(e.v, e.path); err != nil {
					return nil, err
				}
			default:
				p.warn(e.k, e.path, "unknown key %s (ignored)", e.path)
			}
		}
		if name == "" {
			return nil, p.errorf(item, join(path, "credential_name"), "required")
		}
		out[name] = c
	}
	return out, nil
}

// applyCredentials fills what a deployment's litellm_credential_name provides; values written on
// the deployment itself win.
func (p *parser) applyCredentials(ds []Deployment, creds map[string]credential) {
	for i := range ds {
		d := &ds[i]
		name, ok := d.Params.Extra["litellm_credential_name"].(string)
		if !ok || name == "" {
			continue
		}
		c, ok := creds[name]
		if !ok {
			path := index("model_list", i) + ".litellm_params.litellm_credential_name"
			p.warn(&yaml.Node{Line: d.Line}, path, "%s: no credential named %q in credential_list (ignored)", path, name)
			continue
		}
		if c.hasKey && d.Params.APIKey == "" && d.Params.APIKeyEnv == "" {
			d.Params.APIKey, d.Params.APIKeyEnv = c.apiKey, c.apiKeyEnv
		}
		if c.hasBase && d.Params.APIBase == "" {
			d.Params.APIBase = c.apiBase
		}
		for k, v := range c.extra {
			if _, ok := d.Params.Extra[k]; !ok {
				d.Params.Extra[k] = v
			}
		}
	}
}
