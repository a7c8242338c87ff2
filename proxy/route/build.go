package route

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"

	"github.com/clawgate/clawgate/proxy/config"
	"github.com/clawgate/clawgate/proxy/provider"
)

// Factory makes the provider for one deployment. providerName is the prefix of
// litellm_params.model ("openai"), and model is the rest (may hold '*'). For a bare wildcard such
// as model: "*" the provider is decided per request: providerName is "" and the Provider gets
// the client's model in Request.Model (InferProvider helps).
type Factory func(d config.Deployment, providerName, model string) (provider.Provider, error)

// Build makes one Deployment per model_list entry, in file order.
func Build(cfg *config.Config, f Factory) ([]*Deployment, error) {
	deps := make([]*Deployment, 0, len(cfg.ModelList))
	used := map[string]int{} // id -> index of the entry that took it
	// Explicit ids are reserved first so a generated one can never take them.
	for i, e := range cfg.ModelList {
		if e.Info.ID == "" {
			continue
		}
		if j, dup := used[e.Info.ID]; dup {
			return nil, fmt.Errorf("%s: model_info.id %q is also used by the entry at %s; ids must be unique",
				where(cfg, i), e.Info.ID, where(cfg, j))
		}
		used[e.Info.ID] = i
	}
	for i, e := range cfg.ModelList {
		if e.ModelName == "" {
			return nil, fmt.Errorf("%s: model_list entry has no model_name", where(cfg, i))
		}
		if e.Params.Model == "" {
			return nil, fmt.Errorf("%s: model_list entry %q has no litellm_params.model", where(cfg, i), e.ModelName)
		}
		prov, model, ok := splitModel(e.Params.Model)
		switch {
		case !ok && isPattern(e.Params.Model):
			prov = "" // a bare wildcard: the provider follows the requested model
		case !ok:
			return nil, fmt.Errorf("%s: model_list entry %q: cannot tell the provider of litellm_params.model %q; write provider/model, e.g. \"openai/%s\"",
				where(cfg, i), e.ModelName, e.Params.Model, e.Params.Model)
		case prov == "" || model == "":
			return nil, fmt.Errorf("%s: model_list entry %q: litellm_params.model %q must be provider/model, e.g. \"openai/gpt-4o\"",
				where(cfg, i), e.ModelName, e.Params.Model)
		}
		for _, key := range []string{"weight", "rpm", "order"} {
			if v, set := e.Params.Extra[key]; set {
				if _, ok := paramNumber(e.Params.Extra, key); !ok {
					return nil, fmt.Errorf("%s: model_list entry %q: litellm_params.%s must be a non-negative number, got %v",
						where(cfg, i), e.ModelName, key, v)
				}
			}
		}
		id := e.Info.ID
		if id == "" {
			id = uniqueID(used, hashID(e), i)
		}
		p, err := f(e, prov, model)
		if err != nil {
			return nil, fmt.Errorf("%s: model_list entry %q: %w", where(cfg, i), e.ModelName, err)
		}
		if p == nil {
			return nil, fmt.Errorf("%s: model_list entry %q: %w", where(cfg, i), e.ModelName, errors.New("no provider for it"))
		}
		deps = append(deps, &Deployment{
			ID:           id,
			Group:        e.ModelName,
			ProviderName: prov,
			Model:        model,
			APIBase:      ShownBase(e.Params.APIBase),
			Config:       e,
			Provider:     p,
		})
	}
	return deps, nil
}

// hashID is the id of an entry without model_info.id: stable across restarts and edits elsewhere
// in the file, and free of secrets since it ends up in headers and logs.
func hashID(e config.Deployment) string {
	h := sha256.New()
	for _, s := range []string{e.ModelName, e.Params.Model, e.Params.APIBase} {
		h.Write([]byte(s))
		h.Write([]byte{0}) // keeps ("ab","c") and ("a","bc") apart
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// uniqueID returns id, or id-2, id-3, ... when identical entries repeat.
func uniqueID(used map[string]int, id string, i int) string {
	out := id
	for n := 2; ; n++ {
		if _, taken := used[out]; !taken {
			used[out] = i
			return out
		}
		out = id + "-" + strconv.Itoa(n)
	}
}

// where names entry i for error messages: "config.yaml:12", "line 12", or "model_list[3]".
func where(cfg *config.Config, i int) string {
	line := cfg.ModelList[i].Line
	switch {
	case line <= 0:
		return "model_list[" + strconv.Itoa(i) + "]"
	case cfg.Path != "":
		return cfg.Path + ":" + strconv.Itoa(line)
	}
	return "line " + strconv.Itoa(line)
}
