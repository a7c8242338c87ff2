package config

import (
	"fmt"
	"strconv"

	"go.yaml.in/yaml/v3"
)

// aliasBudget caps how many nodes alias expansion may add while walking the file. Real configs
// reuse small anchors (a litellm_params block, a header map); an alias bomb needs millions.
const aliasBudget = 100_000

// envPrefix marks a value read from the environment, as in LiteLLM.
const envPrefix = "os.environ/"

// parser walks a yaml.Node tree itself, rather than decoding into structs, so that every error and
// warning can name its line and key path.
type parser struct {
	file     string
	env      func(string) (string, bool)
	vars     map[string]string // environment_variables, layered over env
	warnings []Warning
	warned   map[Warning]bool
	sizes    map[*yaml.Node]int // subtree sizes with aliases expanded; -1 while being counted
	spent    int
}

func newParser(file string, env func(string) (string, bool)) *parser {
	if env == nil {
		env = func(string) (string, bool) { return "", false }
	}
	return &parser{
		file:   file,
		env:    env,
		vars:   map[string]string{},
		warned: map[Warning]bool{},
		sizes:  map[*yaml.Node]int{},
	}
}

func (p *parser) errorf(n *yaml.Node, path, format string, args ...any) error {
	line := 0
	if n != nil {
		line = n.Line
	}
	return &Error{File: p.file, Line: line, Key: path, Message: fmt.Sprintf(format, args...)}
}

// warn records a warning once: a mapping may be walked twice (litellm_settings is read for its typed
// keys and again whole), and the user should see each problem once.
func (p *parser) warn(n *yaml.Node, path, format string, args ...any) {
	w := Warning{File: p.file, Line: n.Line, Key: path, Message: fmt.Sprintf(format, args...)}
	if p.warned[w] {
		return
	}
	p.warned[w] = true
	p.warnings = append(p.warnings, w)
}

func (p *parser) lookup(name string) (string, bool) {
	if v, ok := p.vars[name]; ok {
		return v, true
	}
	return p.env(name)
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func index(path string, i int) string { return fmt.Sprintf("%s[%d]", path, i) }

// describe names what a node holds, for "want X, got Y" messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.ShortTag() == "!!null" {
			return "nothing"
		}
		return strconv.Quote(n.Value)
	}
	return "something else"
}

func isNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" }

// size counts the nodes under n with aliases expanded, memoised so that a bomb of nested aliases
// costs one pass over the file. It fails on an anchor that contains an alias to itself.
func (p *parser) size(n *yaml.Node) (int, error) {
	if s, ok := p.sizes[n]; ok {
		if s < 0 {
			return 0, fmt.Errorf("cycle")
		}
		return s, nil
	}
	p.sizes[n] = -1
	s := 1
	children := n.Content
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		children = []*yaml.Node{n.Alias}
	}
	for _, c := range children {
		cs, err := p.size(c)
		if err != nil {
			return 0, err
		}
		s += cs
		if s > aliasBudget {
			s = aliasBudget + 1 // saturate: the exact size of a bomb does not matter
			break
		}
	}
	p.sizes[n] = s
	return s, nil
}

// deref follows an alias to its anchor, charging the expansion to the alias budget.
func (p *parser) deref(n *yaml.Node, path string) (*yaml.Node, error) {
	for n.Kind == yaml.AliasNode {
		if n.Alias == nil {
			return nil, p.errorf(n, path, "unknown anchor %q", n.Value)
		}
		s, err := p.size(n.Alias)
		if err != nil {
			return nil, p.errorf(n, path, "anchor %q contains an alias to itself", n.Value)
		}
		p.spent += s
		if p.spent > aliasBudget {
			return nil, p.errorf(n, path, "aliases expand to more than %d values (an alias bomb?)", aliasBudget)
		}
		n = n.Alias
	}
	return n, nil
}

// entry is one key of a mapping after merge keys (<<) are applied.
type entry struct {
	key  string
	k, v *yaml.Node // v may be an alias
	path string
}

// entries lists a mapping's keys in file order. Merge keys (<<: *anchor) are expanded with YAML's
// rule: keys written in the mapping win over merged ones, and earlier merge sources win over later.
// A key written twice is a warning and the later value wins, as with PyYAML in LiteLLM.
func (p *parser) entries(n *yaml.Node, path string) ([]entry, error) {
	if n.Kind != yaml.MappingNode {
		return nil, p.errorf(n, path, "want a mapping, got %s", describe(n))
	}
	type kv struct{ k, v *yaml.Node }
	var own, merges []kv
	explicit := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, err := p.deref(n.Content[i], path)
		if err != nil {
			return nil, err
		}
		if k.Kind != yaml.ScalarNode {
			return nil, p.errorf(k, path, "keys must be plain strings, got %s", describe(k))
		}
		if k.ShortTag() == "!!merge" {
			merges = append(merges, kv{k, n.Content[i+1]})
			continue
		}
		own = append(own, kv{k, n.Content[i+1]})
		explicit[k.Value] = true
	}

	var out []entry
	at := map[string]int{}
	for _, m := range merges {
		src, err := p.deref(m.v, path)
		if err != nil {
			return nil, err
		}
		srcs := []*yaml.Node{src}
		if src.Kind == yaml.SequenceNode {
			srcs = src.Content
		}
		for _, s := range srcs {
			s, err := p.deref(s, path)
			if err != nil {
				return nil, err
			}
			if s.Kind != yaml.MappingNode {
				return nil, p.errorf(m.k, path, "<< must merge a mapping or a list of mappings, got %s", describe(s))
			}
			es, err := p.entries(s, path)
			if err != nil {
				return nil, err
			}
			for _, e := range es {
				if _, seen := at[e.key]; seen || explicit[e.key] {
					continue
				}
				at[e.key] = len(out)
				out = append(out, e)
			}
		}
	}
	for _, o := range own {
		e := entry{key: o.k.Value, k: o.k, v: o.v, path: join(path, o.k.Value)}
		if i, seen := at[e.key]; seen {
			// Only a key written twice gets here: merged keys never shadow written ones.
			p.warn(e.k, e.path, "duplicate key %s (first at line %d); the later value wins", e.path, out[i].k.Line)
			out[i].v, out[i].k = e.v, e.k
			continue
		}
		at[e.key] = len(out)
		out = append(out, e)
	}
	return out, nil
}

// mapping derefs v and returns its entries; a null value is an empty mapping.
func (p *parser) mapping(v *yaml.Node, path string) ([]entry, error) {
	n, err := p.deref(v, path)
	if err != nil {
		return nil, err
	}
	if isNull(n) {
		return nil, nil
	}
	if n.Kind != yaml.MappingNode {
		return nil, p.errorf(v, path, "want a mapping, got %s", describe(n))
	}
	return p.entries(n, path)
}
