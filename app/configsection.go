package app

import (
	"strings"

	"go.yaml.in/yaml/v3"
)

// setSectionValue sets key under a top-level section (general_settings, litellm_settings) to the
// YAML text val, or removes the key when val is "". It rewrites one line: the value where it is
// written (the key's comment kept), a new line after the section's last one, or a new section at
// the end of the file. A layout it cannot splice (a flow mapping, a value over several lines)
// re-encodes the file from its tree.
func (f *configFile) setSectionValue(section, key, val string) ([]byte, error) {
	k, sec := value(f.top(), section)
	if k == nil || sec == nil || sec.Kind != yaml.MappingNode || len(sec.Content) == 0 {
		if val == "" {
			return f.raw, nil
		}
		if k != nil && (sec == nil || sec.ShortTag() == "!!null" || sec.Kind == yaml.MappingNode) && k.Line == lastLine(k) {
			// "general_settings:" with nothing under it, or "general_settings: {}".
			out := append([]string(nil), f.lines...)
			out[k.Line-1] = out[k.Line-1][:k.Column-1] + section + ":"
			out = append(out[:k.Line], append([]string{"  " + key + ": " + val}, out[k.Line:]...)...)
			return []byte(strings.Join(out, "\n")), nil
		}
		if k != nil {
			return f.treeSet(section, key, val)
		}
		text := strings.TrimRight(string(f.raw), "\n")
		if text != "" {
			text += "\n\n"
		}
		return []byte(text + section + ":\n  " + key + ": " + val + "\n"), nil
	}
	if sec.Style&yaml.FlowStyle != 0 {
		return f.treeSet(section, key, val)
	}
	ik, iv := value(sec, key)
	if ik == nil {
		if val == "" {
			return f.raw, nil
		}
		first := sec.Content[0]
		indent := strings.Repeat(" ", first.Column-1)
		at := lastLine(sec)
		out := append([]string(nil), f.lines[:at]...)
		out = append(out, indent+key+": "+val)
		out = append(out, f.lines[at:]...)
		return []byte(strings.Join(out, "\n")), nil
	}
	if iv.Kind != yaml.ScalarNode || iv.Line != ik.Line {
		return f.treeSet(section, key, val)
	}
	if val == "" {
		out := append([]string(nil), f.lines[:ik.Line-1]...)
		return []byte(strings.Join(append(out, f.lines[ik.Line:]...), "\n")), nil
	}
	s, e, ok := f.scalarSpan(iv)
	if !ok {
		return f.treeSet(section, key, val)
	}
	line := f.lines[iv.Line-1]
	out := append([]string(nil), f.lines...)
	out[iv.Line-1] = line[:s] + val + line[e:]
	return []byte(strings.Join(out, "\n")), nil
}

// treeSet is setSectionValue through the node tree (comments kept, layout not).
func (f *configFile) treeSet(section, key, val string) ([]byte, error) {
	sec := mappingAt(f.top(), section)
	if val == "" {
		setScalar(sec, key, "")
		return f.whole()
	}
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(val), &n); err != nil || len(n.Content) == 0 {
		return nil, err
	}
	for i := 0; i+1 < len(sec.Content); i += 2 {
		if sec.Content[i].Value == key {
			sec.Content[i+1] = n.Content[0]
			return f.whole()
		}
	}
	sec.Content = append(sec.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: key}, n.Content[0])
	return f.whole()
}

// yamlString is s as a YAML scalar: plain when that reads back as the same string, else quoted.
func yamlString(s string) string {
	out, _ := yaml.Marshal(s)
	return strings.TrimSpace(string(out))
}
