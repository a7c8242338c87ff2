package app

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"net/url"
	"slices"
	"strconv"

	"go.yaml.in/yaml/v3"

	"github.com/clawgate/clawgate/proxy/config"
	"github.com/clawgate/clawgate/proxy/route"
)

// A model served by several deployments (an OpenAI key and an OpenRouter one behind "gpt-4o", say)
// lets the user choose which of them serves it now. The choice is the deployments' priority, written
// as LiteLLM's litellm_params.order: 1 for the chosen one, 2, 3, ... for the others in the order they
// had, so they stay behind it as fallbacks (the router honours order, see proxy/route/order.go).
// OpenClaw's config is not touched: it still asks for the same model name.

// Backend is one deployment of a group served by several.
type Backend struct {
	// Index is the entry's place in model_list (what UseBackend takes).
	Index int
	// Label tells the deployments apart: litellm_params.model, and the API base's host when set.
	Label string
	// Order is litellm_params.order, 0 when unset.
	Order int
}

// BackendGroup is a model name with more than one deployment, in config order.
type BackendGroup struct {
	Group    string
	Backends []Backend
	// Current is the place in Backends of the one that serves now (the single one with the lowest
	// order), -1 when several share the lowest order and requests are spread over them.
	Current int
}

// backendsOf lists the groups of cfg with more than one deployment (wildcard groups included).
func backendsOf(cfg *config.Config) []BackendGroup {
	if cfg == nil {
		return nil
	}
	var out []BackendGroup
	at := map[string]int{}
	for i, e := range cfg.ModelList {
		j, ok := at[e.ModelName]
		if !ok {
			j = len(out)
			at[e.ModelName] = j
			out = append(out, BackendGroup{Group: e.ModelName})
		}
		out[j].Backends = append(out[j].Backends, Backend{Index: i, Label: backendLabel(e.Params.Model, e.Params.APIBase),
			Order: orderOf(e.Params.Extra["order"])})
	}
	multi := out[:0]
	for _, g := range out {
		if len(g.Backends) > 1 {
			g.Current = currentBackend(g.Backends)
			multi = append(multi, g)
		}
	}
	return multi
}

func backendLabel(model, base string) string {
	if base == "" {
		return model
	}
	host := route.ShownBase(base)
	if u, err := url.Parse(host); err == nil && u.Host != "" {
		host = u.Host
	}
	return model + " @ " + host
}

// orderOf reads an order value as the router does (a number, or a numeric string from
// os.environ/); 0 when unset or not a non-negative number.
func orderOf(v any) int {
	switch x := v.(type) {
	case int:
		return max(x, 0)
	case int64:
		return int(max(x, 0))
	case uint64:
		return int(min(x, math.MaxInt32))
	case float64:
		if x >= 0 && x < math.MaxInt32 {
			return int(x)
		}
	case string:
		if n, err := strconv.Atoi(x); err == nil && n >= 0 {
			return n
		}
	}
	return 0
}

// rank is a backend's tier as the router sorts it: an unset order comes after every set one.
func rank(b Backend) int {
	if b.Order == 0 {
		return math.MaxInt
	}
	return b.Order
}

func currentBackend(bs []Backend) int {
	best, n, at := math.MaxInt, 0, -1
	for i, b := range bs {
		switch r := rank(b); {
		case r < best:
			best, n, at = r, 1, i
		case r == best:
			n++
		}
	}
	if n != 1 {
		return -1
	}
	return at
}

// Backends lists the groups of the config in force that have several deployments.
func (a *App) Backends() []BackendGroup {
	a.mu.Lock()
	defer a.mu.Unlock()
	return cloneBackends(a.status.Backends)
}

func cloneBackends(gs []BackendGroup) []BackendGroup {
	out := slices.Clone(gs)
	for i := range out {
		out[i].Backends = slices.Clone(out[i].Backends)
	}
	return out
}

// UseBackend makes model_list entry index the deployment that serves its group now: it writes
// order 1 on it and 2, 3, ... on the group's other entries, in the priority they had, through the
// careful config edit (re-read, validate, back up, atomic write, applied at once). Nothing else in
// the file changes. It writes the file: call it off the UI goroutine.
func (a *App) UseBackend(index int) error {
	_, err := a.editFile("", func(f *configFile) ([]byte, error) {
		items, _ := f.items()
		if index < 0 || index >= len(items) {
			return nil, fmt.Errorf("model_list has no entry %d (the file changed? reload it)", index)
		}
		group := scalar(items[index], "model_name")
		var members []Backend
		for i, it := range items {
			if scalar(it, "model_name") != group {
				continue
			}
			_, params := value(it, "litellm_params")
			var n int
			if params != nil {
				_, ov := value(params, "order")
				if ov != nil {
					var v any
					_ = ov.Decode(&v)
					n = orderOf(v)
				}
			}
			members = append(members, Backend{Index: i, Order: n})
		}
		if len(members) < 2 {
			return nil, errors.New(group + " has one deployment: there is no backend to choose")
		}
		slices.SortStableFunc(members, func(x, y Backend) int {
			switch {
			case x.Index == index:
				return -1
			case y.Index == index:
				return 1
			}
			return cmp.Compare(rank(x), rank(y))
		})
		cur := f
		for n, m := range members {
			out, err := cur.replaceItem(m.Index, func(item *yaml.Node) {
				setInt(mappingAt(item, "litellm_params"), "order", n+1)
			})
			if err != nil {
				return nil, err
			}
			if cur, err = parseConfigFile(out); err != nil {
				return nil, err
			}
		}
		return cur.raw, nil
	})
	return err
}

// setInt sets key in mapping m to the integer v, keeping the key's place and comments.
func setInt(m *yaml.Node, key string, v int) {
	s := strconv.Itoa(v)
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			n := m.Content[i+1]
			if n.Kind != yaml.ScalarNode || n.Value != s || n.ShortTag() != "!!int" {
				*n = yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: s, LineComment: n.LineComment, Line: n.Line, Column: n.Column}
			}
			return
		}
	}
	m.Content = append(m.Content,
		&yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: key},
		&yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: s})
}
