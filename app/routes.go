package app

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/clawgate/clawgate/app/keychain"
)

// RouteSpec is one model_list entry as the Routes form edits it. Keys of the entry the form does
// not own (rpm, model_info, headers, ...) are kept as they are on save.
type RouteSpec struct {
	Name   string // model_name: what clients ask for
	Preset string // a Presets id
	// Model is the upstream model after the prefix (for Azure, the deployment's name).
	Model      string
	APIBase    string
	Region     string // Bedrock: aws_region_name
	Project    string // Vertex AI: vertex_project
	Location   string // Vertex AI: vertex_location
	APIVersion string // Azure: api_version
	// KeyRef is api_key as written: "keychain/NAME", "os.environ/VAR", or "" (the preset's
	// variable, or no key).
	KeyRef string
}

// form-owned litellm_params keys, in the order they are written.
const (
	pModel      = "model"
	pAPIBase    = "api_base"
	pAPIKey     = "api_key"
	pRegion     = "aws_region_name"
	pProject    = "vertex_project"
	pLocation   = "vertex_location"
	pAPIVersion = "api_version"
)

// RouteProblems are what is wrong with a RouteSpec, by field ("name", "model", "api_base",
// "region", "project", "api_version", "key"); empty when it can be saved.
type RouteProblems map[string]string

// CheckRoute says what is wrong with r as entry index of routes (index -1: a new entry). A name
// another entry has is refused for a new route or a rename: several entries under one name are
// a load-balancing group, made on purpose in the file, not by a typo in a form.
func CheckRoute(r RouteSpec, routes []RouteSpec, index int) RouteProblems {
	out := RouteProblems{}
	p, ok := PresetByID(r.Preset)
	if !ok {
		out["preset"] = "choose a provider"
	}
	name := strings.TrimSpace(r.Name)
	switch {
	case name == "":
		out["name"] = "a route needs the name clients ask for (e.g. gpt-4o)"
	case strings.ContainsAny(name, " \t"):
		out["name"] = "no spaces in a model name"
	default:
		renamed := index < 0 || index >= len(routes) || routes[index].Name != name
		for i, o := range routes {
			if i != index && o.Name == name && renamed {
				out["name"] = fmt.Sprintf("another route is already called %q", name)
				break
			}
		}
	}
	if strings.TrimSpace(r.Model) == "" {
		out["model"] = "choose or type the upstream model"
		if p.ModelIsDeployment {
			out["model"] = "type the deployment's name"
		}
	}
	base := strings.TrimSpace(r.APIBase)
	if base == "" && p.NeedsBase {
		out["api_base"] = "this provider needs the server's URL"
	}
	if base != "" {
		if u, err := url.Parse(base); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			out["api_base"] = "not a URL: want http(s)://host[:port][/path]"
		}
	}
	if p.Region && strings.TrimSpace(r.Region) == "" {
		out["region"] = "Bedrock needs an AWS region (e.g. us-east-1)"
	}
	if p.Project && strings.TrimSpace(r.Project) == "" {
		out["project"] = "Vertex AI needs the Google Cloud project"
	}
	if ref := r.KeyRef; ref != "" {
		switch {
		case strings.HasPrefix(ref, keychain.RefPrefix):
			if n := strings.TrimPrefix(ref, keychain.RefPrefix); !keyNameRE(n) {
				out["key"] = "a keychain name is letters, digits, '.', '_' or '-'"
			}
		case strings.HasPrefix(ref, "os.environ/"):
			if n := strings.TrimPrefix(ref, "os.environ/"); !envNameRE(n) {
				out["key"] = "an environment variable is letters, digits and '_'"
			}
		default:
			out["key"] = "store the key in the keychain or name an environment variable"
		}
	}
	return out
}

func keyNameRE(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}

func envNameRE(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || i > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// Routes reads config.yaml's model_list as the Routes form shows it, with the file's version
// (hand it back to SaveRoute or DeleteRoute). It reads the file: call it off the UI goroutine.
func (a *App) Routes() ([]RouteSpec, ConfigVersion, error) {
	if a.opts.ConfigPath == "" {
		return nil, "", errors.New("this gateway runs without a config file (--model)")
	}
	f, err := readConfigFile(a.opts.ConfigPath)
	if err != nil {
		return nil, "", err
	}
	items, _ := f.items()
	out := make([]RouteSpec, 0, len(items))
	for _, it := range items {
		out = append(out, specOf(it))
	}
	return out, versionOf(f.raw), nil
}

// items are model_list's entries (nil when there is none) and the sequence node.
func (f *configFile) items() ([]*yaml.Node, *yaml.Node) {
	_, seq := value(f.top(), "model_list")
	if seq == nil || seq.Kind != yaml.SequenceNode {
		return nil, seq
	}
	return seq.Content, seq
}

func scalar(m *yaml.Node, key string) string {
	_, v := value(m, key)
	if v == nil || v.Kind != yaml.ScalarNode || v.ShortTag() == "!!null" {
		return ""
	}
	return v.Value
}

// specOf reads an entry into the form's fields.
func specOf(item *yaml.Node) RouteSpec {
	_, params := value(item, "litellm_params")
	model := scalar(params, pModel)
	prefix, rest, _ := strings.Cut(model, "/")
	if rest == "" {
		prefix, rest = "", model
	}
	base := scalar(params, pAPIBase)
	r := RouteSpec{Name: scalar(item, "model_name"), Preset: presetFor(prefix, base), Model: rest,
		APIBase: base, Region: scalar(params, pRegion), Project: scalar(params, pProject),
		Location: scalar(params, pLocation), APIVersion: scalar(params, pAPIVersion), KeyRef: scalar(params, pAPIKey)}
	if p, ok := PresetByID(r.Preset); ok && r.APIBase == "" {
		r.APIBase = p.APIBase
	}
	return r
}

// setScalar sets key in mapping m to v (removing it when v is ""), keeping the key's place, its
// comments and its quoting.
func setScalar(m *yaml.Node, key, v string) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value != key {
			continue
		}
		if v == "" {
			m.Content = append(m.Content[:i], m.Content[i+2:]...)
			return
		}
		n := m.Content[i+1]
		if n.Kind != yaml.ScalarNode || n.Value != v {
			style := n.Style &^ (yaml.LiteralStyle | yaml.FoldedStyle)
			*n = yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: v, Style: style, LineComment: n.LineComment,
				Line: n.Line, Column: n.Column}
		}
		return
	}
	if v != "" {
		m.Content = append(m.Content,
			&yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: key},
			&yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: v})
	}
}

// mapping returns the mapping under key in m, adding an empty one when absent.
func mappingAt(m *yaml.Node, key string) *yaml.Node {
	_, v := value(m, key)
	if v != nil && v.Kind == yaml.MappingNode {
		return v
	}
	n := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	if v != nil {
		*v = *n
		return v
	}
	m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: key}, n)
	return n
}

// applySpec writes r's fields into an entry node, keeping every other key.
func applySpec(item *yaml.Node, r RouteSpec) {
	p, _ := PresetByID(r.Preset)
	setScalar(item, "model_name", strings.TrimSpace(r.Name))
	params := mappingAt(item, "litellm_params")
	setScalar(params, pModel, p.Prefix+"/"+strings.TrimSpace(r.Model))
	base := strings.TrimRight(strings.TrimSpace(r.APIBase), "/")
	if base == strings.TrimRight(p.APIBase, "/") && !p.NeedsBase {
		base = "" // the default: not written, so the file says only what differs
	}
	setScalar(params, pAPIBase, base)
	setScalar(params, pAPIKey, strings.TrimSpace(r.KeyRef))
	clear := func(on bool, v string) string {
		if !on {
			return ""
		}
		return strings.TrimSpace(v)
	}
	setScalar(params, pRegion, clear(p.Region, r.Region))
	setScalar(params, pProject, clear(p.Project, r.Project))
	setScalar(params, pLocation, clear(p.Project, r.Location))
	setScalar(params, pAPIVersion, clear(p.APIVersion, r.APIVersion))
}

// SaveRoute writes r as model_list entry index (-1 adds it at the end) of the config version ver,
// and puts it in force. A non-empty secret is first stored in the keychain under r.KeyRef's name
// (keychain/NAME). It writes files and the keychain: call it off the UI goroutine.
func (a *App) SaveRoute(ver ConfigVersion, index int, r RouteSpec, secret string) (ConfigVersion, error) {
	routes, now, err := a.Routes()
	if err != nil {
		return "", err
	}
	if now != ver {
		return now, ErrConfigChanged
	}
	if probs := CheckRoute(r, routes, index); len(probs) > 0 {
		return now, problemsError(probs)
	}
	if secret != "" {
		if err := a.storeRouteKey(r.KeyRef, secret); err != nil {
			return now, err
		}
	}
	return a.editFile(ver, func(f *configFile) ([]byte, error) {
		items, _ := f.items()
		if index >= len(items) {
			return nil, fmt.Errorf("route %d is gone from the file", index)
		}
		if index < 0 {
			item := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
			applySpec(item, r)
			return f.appendItem(item)
		}
		return f.replaceItem(index, func(item *yaml.Node) { applySpec(item, r) })
	})
}

// storeRouteKey puts a provider key in the keychain under the name ref gives.
func (a *App) storeRouteKey(ref, secret string) error {
	name, ok := strings.CutPrefix(ref, keychain.RefPrefix)
	if !ok {
		return errors.New("a typed key is stored in the keychain: choose a keychain name for it")
	}
	if a.secrets == nil {
		return errors.New("no keychain on this machine: set the key in an environment variable instead")
	}
	if err := a.secrets.Set(name, secret); err != nil {
		return fmt.Errorf("store the key in the keychain: %w", err)
	}
	return nil
}

// DuplicateRoute copies entry index, every key of it, to the end under name.
func (a *App) DuplicateRoute(ver ConfigVersion, index int, name string) (ConfigVersion, error) {
	routes, now, err := a.Routes()
	if err != nil {
		return "", err
	}
	if now != ver {
		return now, ErrConfigChanged
	}
	if index < 0 || index >= len(routes) {
		return now, fmt.Errorf("route %d is gone from the file", index)
	}
	r := routes[index]
	r.Name = name
	if probs := CheckRoute(r, routes, -1); len(probs) > 0 {
		return now, problemsError(probs)
	}
	return a.editFile(ver, func(f *configFile) ([]byte, error) {
		items, _ := f.items()
		item := copyNode(items[index])
		item.HeadComment, item.FootComment = "", ""
		setScalar(item, "model_name", name)
		return f.appendItem(item)
	})
}

// DeleteRoute removes entry index from model_list.
func (a *App) DeleteRoute(ver ConfigVersion, index int) (ConfigVersion, error) {
	return a.editFile(ver, func(f *configFile) ([]byte, error) {
		items, _ := f.items()
		if index < 0 || index >= len(items) {
			return nil, fmt.Errorf("route %d is gone from the file", index)
		}
		return f.removeItem(index)
	})
}

// NewRouteName is a name for a copy of route name that no route has yet.
func NewRouteName(name string, routes []RouteSpec) string {
	taken := map[string]bool{}
	for _, r := range routes {
		taken[r.Name] = true
	}
	for i := 1; ; i++ {
		n := name + "-copy"
		if i > 1 {
			n = fmt.Sprintf("%s-copy%d", name, i)
		}
		if !taken[n] {
			return n
		}
	}
}

func problemsError(p RouteProblems) error {
	var parts []string
	for _, k := range []string{"preset", "name", "model", "api_base", "region", "project", "key"} {
		if m, ok := p[k]; ok {
			parts = append(parts, k+": "+m)
		}
	}
	return errors.New(strings.Join(parts, "; "))
}

func copyNode(n *yaml.Node) *yaml.Node {
	c := *n
	c.Content = make([]*yaml.Node, len(n.Content))
	for i, k := range n.Content {
		c.Content[i] = copyNode(k)
	}
	return &c
}
