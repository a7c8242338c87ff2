package openclaw

import (
	"fmt"
	"strings"
)

// Use makes litellm/<model> OpenClaw's default model: agents.defaults.model.primary (a string
// form stays a string; fallbacks are kept). When modelPolicy.allow is non-empty and does not
// already admit it (exactly, by alias or by litellm/*), "litellm/*" is appended; so it is to a
// non-empty agents.defaults.models that OpenClaw has not migrated yet (its legacy allowlist).
func Use(d *Doc, model string) ([]string, error) {
	ref := litellmRef(model)
	if ref == ProviderID+"/" || strings.ContainsAny(ref, " \t\r\n") {
		return nil, fmt.Errorf("openclaw: use: bad model name %q", model)
	}
	var lines []string
	switch cur, ok := d.Get(primaryPath); cur.(type) {
	case string:
		ch, err := d.set(primaryPath, ref)
		if err != nil {
			return nil, err
		}
		if ch {
			lines = append(lines, fmt.Sprintf("set agents.defaults.model = %q (was %q)", ref, cur))
		}
	case map[string]any:
		old := at(cur, "primary")
		ch, err := d.set(append(cloneStrings(primaryPath), "primary"), ref)
		if err != nil {
			return nil, err
		}
		if ch {
			lines = append(lines, fmt.Sprintf("set agents.defaults.model.primary = %q (was %s)", ref, showValue(old)))
		}
	default:
		if ok && cur != nil {
			return nil, fmt.Errorf("openclaw: use: agents.defaults.model is neither a string nor an object")
		}
		if _, err := d.set(primaryPath, Object{{"primary", ref}}); err != nil {
			return nil, err
		}
		lines = append(lines, fmt.Sprintf("set agents.defaults.model = {primary: %q}", ref))
	}
	aliases, _ := d.Get(aliasesPath)
	aliasMap, _ := aliases.(map[string]any)
	if cur, _ := d.Get(allowPath); cur != nil {
		more, err := admit(d, allowPath, ref, aliasMap)
		if err != nil {
			return lines, err
		}
		lines = append(lines, more...)
	}
	// Before OpenClaw migrates it, agents.defaults.models is an allowlist too; its first write
	// copies the keys into modelPolicy.allow, so the wildcard lands there as well.
	if len(aliasMap) > 0 && !migrated(d) {
		if _, listed := aliasMap[ref]; !listed {
			if _, wild := aliasMap[wildcard]; !wild {
				if _, err := d.set(append(cloneStrings(aliasesPath), wildcard), Object{}); err != nil {
					return lines, err
				}
				lines = append(lines, fmt.Sprintf("added %q to agents.defaults.models (OpenClaw's older allowlist)", wildcard))
			}
		}
	}
	return lines, nil
}

// wildcard admits every model of the provider: one entry however often the model is switched.
const wildcard = ProviderID + "/*"

// admit makes the allowlist at path admit ref. A non-empty list that does not yet admit it gets
// "litellm/*" (OpenClaw's allowlists take provider wildcards), not one entry per model; an empty
// list already admits everything.
func admit(d *Doc, path []string, ref string, aliases map[string]any) ([]string, error) {
	cur, _ := d.Get(path)
	allow, ok := cur.([]any)
	if !ok {
		return nil, fmt.Errorf("openclaw: use: %s is not an array", pathString(path))
	}
	if len(allow) == 0 || allowed(stringList(allow), ref, aliases) {
		return nil, nil
	}
	if _, err := d.appendTo(path, wildcard); err != nil {
		return nil, err
	}
	return []string{fmt.Sprintf("added %q to %s", wildcard, pathString(path))}, nil
}

// migrated reports whether OpenClaw already moved the legacy allowlist into modelPolicy.allow.
func migrated(d *Doc) bool {
	v, _ := d.Get([]string{"meta", "migrations", "modelPolicyAllowlist"})
	b, _ := v.(bool)
	return b
}

// UseAgents is Use on the main file plus, for agents that pin their own model, either the same
// switch (AgentsAll, in the file that holds each one) or one line each saying which agent keeps
// which model (AgentsDefault). kept lists the agents left on another model.
func UseAgents(t *Tree, model string, scope AgentScope) (lines []string, kept []Agent, err error) {
	lines, err = Use(t.Doc, model)
	if err != nil {
		return lines, nil, err
	}
	ref := litellmRef(model)
	if scope == AgentsAll {
		more, err := switchAgents(t, ref)
		lines = append(lines, more...)
		if err != nil {
			return lines, nil, err
		}
	} else {
		lines = append(lines, pinnedReport(t, ref)...)
	}
	for _, a := range Agents(t) {
		if a.Model != ref {
			kept = append(kept, a)
		}
	}
	return lines, kept, nil
}

func litellmRef(model string) string {
	model = strings.TrimSpace(model)
	if strings.HasPrefix(model, ProviderID+"/") {
		return model
	}
	return ProviderID + "/" + model
}

// allowed reports whether an allowlist admits ref: exactly, through a provider wildcard, or by an
// alias that agents.defaults.models gives it.
func allowed(allow []string, ref string, aliases map[string]any) bool {
	alias, _ := at(aliases[ref], "alias").(string)
	for _, a := range allow {
		if a == ref || a == ProviderID+"/*" || a == "*" || (alias != "" && a == alias) {
			return true
		}
	}
	return false
}
