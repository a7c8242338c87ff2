package openclaw

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/clawgate/clawgate/proxy/pricing"
)

// Model is one entry of models.providers.litellm.models, as OpenClaw's schema names it.
type Model struct {
	ID            string
	Name          string
	Reasoning     bool
	Input         []string // "text", "image", ...; nil means ["text"]
	ContextWindow int
	MaxTokens     int
	Cost          *Cost // nil: leave the file's cost alone (new entries get none)
}

// Cost is USD per 1M tokens. CacheWrite is nil for providers that charge nothing extra to write
// their cache (OpenAI, Gemini's implicit cache): OpenClaw's cost.cacheWrite is optional, and a
// made-up price would overstate what a turn costs.
type Cost struct {
	Input, Output, CacheRead float64
	CacheWrite               *float64
}

// Route is one model the gateway serves: its public name, and the provider and upstream model
// behind it (for prices and limits).
type Route struct {
	Name, Provider, Model string
}

const (
	// MinContextWindow is the smallest contextWindow Sync writes. OpenClaw sizes its output
	// budget as contextWindow minus its first prompt (~15k tokens); a small window leaves it
	// max_completion_tokens: 1.
	MinContextWindow     = 32000
	defaultContextWindow = 128000
	defaultMaxTokens     = 16384
)

// ErrNotConnected is returned by Sync when the file has no litellm provider yet (run Connect).
var ErrNotConnected = errors.New("openclaw: no models.providers.litellm in the config; connect first")

// Sync makes models.providers.litellm.models mirror the gateway: entries the gateway no longer
// serves go, new ones are added, and existing ones (matched by id) get the gateway's reasoning,
// input, contextWindow, maxTokens and cost while keeping every field the user added (compat,
// params, a renamed name, ...). Context windows below MinContextWindow are raised to it.
func Sync(d *Doc, models []Model) ([]string, error) {
	return syncModels(d, models, nil)
}

// SyncRoutes is Sync(d, ModelsFor(routes)), except that an entry a wildcard route serves
// ("openai/*" serves "openai/gpt-4o") is kept rather than removed: the gateway still answers
// for it, and the user put it there.
func SyncRoutes(d *Doc, routes []Route) ([]string, error) {
	var patterns []string
	for _, r := range routes {
		if strings.Contains(r.Name, "*") {
			patterns = append(patterns, r.Name)
		}
	}
	served := func(id string) bool {
		for _, p := range patterns {
			if wildcardMatch(p, id) {
				return true
			}
		}
		return false
	}
	return syncModels(d, ModelsFor(routes), served)
}

// wildcardMatch matches s against a route pattern whose '*' stands for any run of characters.
func wildcardMatch(pattern, s string) bool {
	parts := strings.Split(pattern, "*")
	if !strings.HasPrefix(s, parts[0]) {
		return false
	}
	s = s[len(parts[0]):]
	for i, p := range parts[1:] {
		if i == len(parts)-2 {
			return strings.HasSuffix(s, p)
		}
		j := strings.Index(s, p)
		if j < 0 {
			return false
		}
		s = s[j+len(p):]
	}
	return s == ""
}

func syncModels(d *Doc, models []Model, served func(id string) bool) ([]string, error) {
	if v, _ := d.Get(providerPath); !isMap(v) {
		return nil, ErrNotConnected
	}
	models = cleanModels(models)
	var lines []string
	cur, ok := d.Get(modelsPath)
	if !ok {
		arr := []any{}
		ids := []string{}
		for _, m := range models {
			arr = append(arr, modelObject(m))
			ids = append(ids, m.ID)
		}
		if _, err := d.set(modelsPath, arr); err != nil {
			return nil, err
		}
		return []string{fmt.Sprintf("set models.providers.litellm.models: %s", listOrNone(ids))}, nil
	}
	arr, ok := cur.([]any)
	if !ok {
		return nil, fmt.Errorf("openclaw: sync: models.providers.litellm.models is not an array")
	}
	want := map[string]bool{}
	for _, m := range models {
		want[m.ID] = true
	}
	var removed []string
	for i := len(arr) - 1; i >= 0; i-- {
		id, ok := at(arr[i], "id").(string)
		if !ok || want[id] || (served != nil && served(id)) {
			continue // an entry without an id is the user's business
		}
		if _, err := d.del(append(cloneStrings(modelsPath), strconv.Itoa(i))); err != nil {
			return lines, err
		}
		removed = append([]string{id}, removed...)
	}
	if len(removed) > 0 {
		lines = append(lines, "removed from models.providers.litellm.models: "+strings.Join(removed, ", "))
	}
	var added []string
	for _, m := range models {
		idx := modelIndexes(d, m.ID)
		if len(idx) == 0 {
			if _, err := d.appendTo(modelsPath, modelObject(m)); err != nil {
				return lines, err
			}
			added = append(added, m.ID)
			continue
		}
		for _, i := range idx {
			fields, err := updateModel(d, append(cloneStrings(modelsPath), strconv.Itoa(i)), m)
			if err != nil {
				return lines, err
			}
			if len(fields) > 0 {
				lines = append(lines, fmt.Sprintf("updated model %s: %s", m.ID, strings.Join(fields, ", ")))
			}
		}
	}
	if len(added) > 0 {
		lines = append(lines, "added to models.providers.litellm.models: "+strings.Join(added, ", "))
	}
	return lines, nil
}

func listOrNone(ids []string) string {
	if len(ids) == 0 {
		return "[]"
	}
	return strings.Join(ids, ", ")
}

func cloneStrings(s []string) []string { return append([]string(nil), s...) }

// modelIndexes returns the positions of the entries with this id.
func modelIndexes(d *Doc, id string) []int {
	cur, _ := d.Get(modelsPath)
	arr, _ := cur.([]any)
	var out []int
	for i, e := range arr {
		if got, _ := at(e, "id").(string); got == id {
			out = append(out, i)
		}
	}
	return out
}

// updateModel writes the gateway's facts into one existing entry and names the fields changed.
func updateModel(d *Doc, p []string, m Model) ([]string, error) {
	var fields []string
	set := func(name string, path []string, v any) error {
		ch, err := d.set(append(cloneStrings(p), path...), v)
		if ch {
			fields = append(fields, name)
		}
		return err
	}
	cur, _ := d.Get(p)
	entry, ok := cur.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("openclaw: sync: %s is not an object", pathString(p))
	}
	// A name the user chose stays; an empty one, or the bare id an older sync wrote, becomes
	// the display name.
	if n, _ := entry["name"].(string); n == "" || (n == m.ID && m.Name != m.ID) {
		if err := set("name", []string{"name"}, m.Name); err != nil {
			return fields, err
		}
	}
	if err := set("reasoning", []string{"reasoning"}, m.Reasoning); err != nil {
		return fields, err
	}
	if err := set("input", []string{"input"}, m.Input); err != nil {
		return fields, err
	}
	if m.Cost != nil {
		if cost, isObj := entry["cost"].(map[string]any); isObj {
			for _, c := range costFields(*m.Cost) {
				if err := set("cost."+c.Key, []string{"cost", c.Key}, c.Value); err != nil {
					return fields, err
				}
			}
			if _, has := cost["cacheWrite"]; has && m.Cost.CacheWrite == nil {
				if _, err := d.del(append(cloneStrings(p), "cost", "cacheWrite")); err != nil {
					return fields, err
				}
				fields = append(fields, "cost.cacheWrite (removed: the provider has no cache-write price)")
			}
		} else if err := set("cost", []string{"cost"}, costFields(*m.Cost)); err != nil {
			return fields, err
		}
	}
	if err := set("contextWindow", []string{"contextWindow"}, m.ContextWindow); err != nil {
		return fields, err
	}
	if err := set("maxTokens", []string{"maxTokens"}, m.MaxTokens); err != nil {
		return fields, err
	}
	return fields, nil
}

func costFields(c Cost) Object {
	o := Object{{"input", c.Input}, {"output", c.Output}, {"cacheRead", c.CacheRead}}
	if c.CacheWrite != nil {
		o = append(o, Field{"cacheWrite", *c.CacheWrite})
	}
	return o
}

// modelObject is a new entry, in the order OpenClaw's onboarding writes one.
func modelObject(m Model) Object {
	o := Object{{"id", m.ID}, {"name", m.Name}, {"reasoning", m.Reasoning}, {"input", m.Input}}
	if m.Cost != nil {
		o = append(o, Field{"cost", costFields(*m.Cost)})
	}
	return append(o, Field{"contextWindow", m.ContextWindow}, Field{"maxTokens", m.MaxTokens})
}

// cleanModels drops entries without an id and repeated ids, and fills defaults.
func cleanModels(in []Model) []Model {
	seen := map[string]bool{}
	var out []Model
	for _, m := range in {
		if m.ID == "" || seen[m.ID] {
			continue
		}
		seen[m.ID] = true
		if m.Name == "" {
			m.Name = m.ID
		}
		if len(m.Input) == 0 {
			m.Input = []string{"text"}
		}
		if m.ContextWindow <= 0 {
			m.ContextWindow = defaultContextWindow
		}
		m.ContextWindow = max(m.ContextWindow, MinContextWindow)
		if m.MaxTokens <= 0 {
			m.MaxTokens = defaultMaxTokens
		}
		m.MaxTokens = min(m.MaxTokens, m.ContextWindow)
		out = append(out, m)
	}
	return out
}

// ModelsFor describes the gateway's routes for OpenClaw: context window and output limit, vision
// (input ["text","image"]), reasoning and prices from the price table, with 128000 / 16384 when
// the table does not know the model. Wildcard routes ("openai/*") cannot be listed and are skipped.
func ModelsFor(routes []Route) []Model {
	var out []Model
	seen := map[string]bool{}
	for _, r := range routes {
		if r.Name == "" || strings.Contains(r.Name, "*") || seen[r.Name] {
			continue
		}
		seen[r.Name] = true
		upstream := r.Model
		if upstream == "" {
			upstream = r.Name
		}
		m := Model{ID: r.Name, Name: r.Name, Input: []string{"text"}, ContextWindow: defaultContextWindow, MaxTokens: defaultMaxTokens}
		if cw, mo, _ := pricing.Info(r.Provider, upstream); cw > 0 || mo > 0 {
			if cw > 0 {
				m.ContextWindow = cw
			}
			if mo > 0 {
				m.MaxTokens = mo
			}
		}
		if p, ok := pricing.Lookup(r.Provider, upstream); ok {
			m.Name = displayName(r, p.Key)
			if p.SupportsVision != nil && *p.SupportsVision {
				m.Input = []string{"text", "image"}
			}
			m.Reasoning = p.SupportsReasoning != nil && *p.SupportsReasoning
			if p.InputCostPerToken != nil || p.OutputCostPerToken != nil {
				in := perMillion(p.InputCostPerToken, nil)
				m.Cost = &Cost{
					Input:     in,
					Output:    perMillion(p.OutputCostPerToken, nil),
					CacheRead: perMillion(p.CacheReadInputTokenCost, &in),
				}
				if p.CacheCreationInputTokenCost != nil {
					w := perMillion(p.CacheCreationInputTokenCost, nil)
					m.Cost.CacheWrite = &w
				}
			}
		}
		out = append(out, cleanModels([]Model{m})...)
	}
	return out
}

// displayName is what OpenClaw's model picker shows for a route: the route's name, and the model
// the price table knows behind it when the two differ ("fast (openai/gpt-4o-mini)").
func displayName(r Route, tableKey string) string {
	if tableKey == "" || tableKey == r.Name {
		return r.Name
	}
	behind := tableKey
	if r.Provider != "" && !strings.Contains(tableKey, "/") {
		behind = r.Provider + "/" + tableKey
	}
	if behind == r.Name {
		return r.Name
	}
	return r.Name + " (" + behind + ")"
}

// perMillion converts USD per token to USD per 1M tokens, rounded to clear float noise
// (3e-6 * 1e6 = 2.9999999999999996). A missing cache price bills at the input price, as the
// gateway's own cost formula does.
func perMillion(perToken *float64, fallback *float64) float64 {
	if perToken == nil {
		if fallback != nil {
			return *fallback
		}
		return 0
	}
	return math.Round(*perToken*1e6*1e6) / 1e6
}
