package openclaw

import (
	"fmt"
	"strings"
)

// Use makes litellm/<model> OpenClaw's default model: agents.defaults.model.primary (a string
// form stays a string; fallbacks are kept). When modelPolicy.allow is non-empty and does not
// already admit it (exactly, by alias or by litellm/*), it is appended; when agents.defaults.models
// lists models, it is added there too (OpenClaw's legacy allowlist, which a first write by OpenClaw
// migrates into modelPolicy.allow).
func Use(d *Doc, model string) ([]string, error) {
	model = strings.TrimSpace(model)
	ref := model
	if !strings.HasPrefix(ref, ProviderID+"/") {
		ref = ProviderID + "/" + ref
	}
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
		allow, ok := cur.([]any)
		if !ok {
			return lines, fmt.Errorf("openclaw: use: agents.defaults.modelPolicy.allow is not an array")
		}
		if len(allow) > 0 && !allowed(stringList(allow), ref, aliasMap) {
			if _, err := d.appendTo(allowPath, ref); err != nil {
				return lines, err
			}
			lines = append(lines, fmt.Sprintf("added %q to agents.defaults.modelPolicy.allow", ref))
		}
	}
	if len(aliasMap) > 0 {
		if _, listed := aliasMap[ref]; !listed {
			if _, err := d.set(append(cloneStrings(aliasesPath), ref), Object{}); err != nil {
				return lines, err
			}
			lines = append(lines, fmt.Sprintf("added %q to agents.defaults.models", ref))
		}
	}
	return lines, nil
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
