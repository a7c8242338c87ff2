package openclaw

// Agents that pin their own model: agents.entries.<id>.model (or the legacy agents.list[i].model)
// beats agents.defaults.model for that agent, so switching the default alone leaves them where
// they were. OpenClaw resolves a lone configured agent implicitly, so one pinned agent is enough
// for a switch of the default to change nothing at all.

import (
	"fmt"
	"path/filepath"
	"sort"
	"strconv"
)

// Agent is one configured agent and the model it will use.
type Agent struct {
	ID string
	// Model is the model its turns use: its own primary when it pins one, else the default.
	Model string
	// Pinned is true when the agent sets its own model.
	Pinned bool
	// File holds the agent's model setting (the main config or an $include file) and Path is
	// where in that file; both empty when the agent is not pinned.
	File string
	Path []string
	doc  *Doc
}

// Agents lists the configured agents (agents.entries, then the legacy agents.list), sorted by id,
// with the model each will use. With no agent configured OpenClaw runs its implicit "main" agent
// on the default model, which is reported as such.
func Agents(t *Tree) []Agent {
	v := t.Value()
	def := modelPrimary(at(v, primaryPath...))
	var out []Agent
	add := func(id string, entry any, path []string) {
		a := Agent{ID: id, Model: def}
		if m := modelPrimary(at(entry, "model")); m != "" {
			file, doc, inner := t.Owner(append(path, "model"))
			a.Model, a.Pinned, a.File, a.Path, a.doc = m, true, file, inner, doc
		}
		out = append(out, a)
	}
	if entries, ok := at(v, "agents", "entries").(map[string]any); ok {
		ids := make([]string, 0, len(entries))
		for id := range entries {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		for _, id := range ids {
			add(id, entries[id], []string{"agents", "entries", id})
		}
	}
	if list, ok := at(v, "agents", "list").([]any); ok {
		for i, e := range list {
			id, _ := at(e, "id").(string)
			if id == "" {
				id = "#" + strconv.Itoa(i)
			}
			add(id, e, []string{"agents", "list", strconv.Itoa(i)})
		}
	}
	if len(out) == 0 {
		out = append(out, Agent{ID: "main", Model: def})
	}
	return out
}

// modelPrimary is a model setting's primary: the string form, or {primary}.
func modelPrimary(v any) string {
	switch m := v.(type) {
	case string:
		return m
	case map[string]any:
		p, _ := m["primary"].(string)
		return p
	}
	return ""
}

// AgentScope says which agents `use` switches.
type AgentScope string

const (
	// AgentsDefault switches agents.defaults.model only; pinned agents keep their model and are
	// reported.
	AgentsDefault AgentScope = "default"
	// AgentsAll also switches every agent that pins its own model.
	AgentsAll AgentScope = "all"
)

// ParseAgentScope reads "default" or "all" ("" is default).
func ParseAgentScope(s string) (AgentScope, error) {
	switch AgentScope(s) {
	case "", AgentsDefault:
		return AgentsDefault, nil
	case AgentsAll:
		return AgentsAll, nil
	}
	return "", fmt.Errorf("openclaw: --agents must be %q or %q, not %q", AgentsAll, AgentsDefault, s)
}

// switchAgents points every pinned agent of t at ref (a string model stays a string, an object
// keeps its fallbacks), each in the file that holds it, and admits ref in an agent's own
// modelPolicy.allow when it has one.
func switchAgents(t *Tree, ref string) ([]string, error) {
	var lines []string
	for _, a := range Agents(t) {
		if !a.Pinned || a.Model == ref {
			continue
		}
		d := a.doc
		cur, _ := d.Get(a.Path)
		target := a.Path
		if _, isObj := cur.(map[string]any); isObj {
			target = append(cloneStrings(a.Path), "primary")
		}
		if _, err := d.set(target, ref); err != nil {
			return lines, err
		}
		lines = append(lines, fmt.Sprintf("set %s = %q for agent %s (was %q)%s", pathString(target), ref, a.ID, a.Model, inFile(t, a.File)))
		agentPath := a.Path[:len(a.Path)-1]
		allowPath := append(cloneStrings(agentPath), "modelPolicy", "allow")
		if cur, _ := d.Get(allowPath); cur != nil {
			more, err := admit(d, allowPath, ref, nil)
			if err != nil {
				return lines, err
			}
			lines = append(lines, more...)
		}
	}
	return lines, nil
}

// inFile says " in FILE" for an included file, nothing for the main config.
func inFile(t *Tree, file string) string {
	if file == "" || file == abs(t.Path) {
		return ""
	}
	return " in " + filepath.Base(file)
}

// pinnedReport says which agents keep another model than ref, one line each.
func pinnedReport(t *Tree, ref string) []string {
	var lines []string
	for _, a := range Agents(t) {
		if a.Pinned && a.Model != ref {
			lines = append(lines, fmt.Sprintf("agent %s keeps its own model %s (%s%s); `--agents all` switches it too", a.ID, a.Model, pathString(a.Path), inFile(t, a.File)))
		}
	}
	return lines
}
