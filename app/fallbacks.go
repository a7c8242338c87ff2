package app

import (
	"errors"
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"
)

// The Routes tab reorders router_settings.fallbacks: the groups tried, in order, once a model's own
// deployments are exhausted. A move swaps two names where they are written, so the file's quoting,
// comments and layout (flow lists or block lists) stay as they were.

// FallbackChain is one model's fallbacks as written in config.yaml.
type FallbackChain struct {
	Group string
	To    []string
}

// fallbackLists are the model groups of router_settings.fallbacks with their lists' nodes, in
// file order; a list written as a single name has a scalar node.
func (f *configFile) fallbackLists() (groups []string, lists []*yaml.Node) {
	_, rs := value(f.top(), "router_settings")
	_, fb := value(rs, "fallbacks")
	if fb == nil {
		return nil, nil
	}
	take := func(m *yaml.Node) {
		if m.Kind != yaml.MappingNode {
			return
		}
		for i := 0; i+1 < len(m.Content); i += 2 {
			groups, lists = append(groups, m.Content[i].Value), append(lists, m.Content[i+1])
		}
	}
	switch fb.Kind {
	case yaml.MappingNode:
		take(fb)
	case yaml.SequenceNode:
		for _, it := range fb.Content {
			take(it)
		}
	}
	return groups, lists
}

// Fallbacks reads router_settings.fallbacks from config.yaml, with the file's version (hand it back
// to MoveFallback). It reads the file: call it off the UI goroutine.
func (a *App) Fallbacks() ([]FallbackChain, ConfigVersion, error) {
	if a.opts.ConfigPath == "" {
		return nil, "", errors.New("this gateway runs without a config file (--model)")
	}
	f, err := readConfigFile(a.opts.ConfigPath)
	if err != nil {
		return nil, "", err
	}
	groups, lists := f.fallbackLists()
	out := make([]FallbackChain, 0, len(groups))
	for i, g := range groups {
		c := FallbackChain{Group: g}
		switch n := lists[i]; n.Kind {
		case yaml.ScalarNode:
			c.To = []string{n.Value}
		case yaml.SequenceNode:
			for _, it := range n.Content {
				c.To = append(c.To, it.Value)
			}
		}
		out = append(out, c)
	}
	return out, versionOf(f.raw), nil
}

// MoveFallback moves fallback at of chain (the chain's place in Fallbacks) one step up (delta -1)
// or down (+1), through the careful config edit, and puts it in force. It writes the file: call it
// off the UI goroutine.
func (a *App) MoveFallback(ver ConfigVersion, chain, at, delta int) (ConfigVersion, error) {
	if delta != -1 && delta != 1 {
		return ver, fmt.Errorf("a fallback moves one place at a time, not %d", delta)
	}
	return a.editFile(ver, func(f *configFile) ([]byte, error) {
		_, lists := f.fallbackLists()
		if chain < 0 || chain >= len(lists) || lists[chain].Kind != yaml.SequenceNode {
			return nil, errors.New("no such fallback list (the file changed? reload it)")
		}
		seq := lists[chain].Content
		to := at + delta
		if at < 0 || at >= len(seq) || to < 0 || to >= len(seq) {
			return nil, fmt.Errorf("cannot move fallback %d by %d in a list of %d", at+1, delta, len(seq))
		}
		return f.swapScalars(seq[at], seq[to])
	})
}

// swapScalars exchanges the written text of two scalars; a scalar it cannot measure on its line (a
// multi-line one) makes it re-encode the file from the tree instead.
func (f *configFile) swapScalars(x, y *yaml.Node) ([]byte, error) {
	xs, xe, okx := f.scalarSpan(x)
	ys, ye, oky := f.scalarSpan(y)
	if !okx || !oky {
		x.Value, y.Value = y.Value, x.Value
		x.Style, y.Style = y.Style, x.Style
		return f.whole()
	}
	if x.Line > y.Line || x.Line == y.Line && x.Column > y.Column {
		x, y, xs, xe, ys, ye = y, x, ys, ye, xs, xe
	}
	lx, ly := f.lines[x.Line-1], f.lines[y.Line-1]
	tx, ty := lx[xs:xe], ly[ys:ye]
	out := append([]string(nil), f.lines...)
	if x.Line == y.Line {
		out[x.Line-1] = lx[:xs] + ty + lx[xe:ys] + tx + lx[ye:]
	} else {
		out[x.Line-1] = lx[:xs] + ty + lx[xe:]
		out[y.Line-1] = ly[:ys] + tx + ly[ye:]
	}
	return []byte(strings.Join(out, "\n")), nil
}

// scalarSpan is where a one-line scalar's text is on its line (byte offsets), quotes included.
func (f *configFile) scalarSpan(n *yaml.Node) (start, end int, ok bool) {
	if n.Kind != yaml.ScalarNode || n.Line < 1 || n.Line > len(f.lines) {
		return 0, 0, false
	}
	line := f.lines[n.Line-1]
	// Column counts characters; the names here are plain ASCII in practice, check it.
	start = n.Column - 1
	if start < 0 || start >= len(line) || strings.ContainsFunc(line[:start], func(r rune) bool { return r > 127 }) {
		return 0, 0, false
	}
	rest := line[start:]
	switch n.Style {
	case yaml.DoubleQuotedStyle:
		for i := 1; i < len(rest); i++ {
			switch rest[i] {
			case '\\':
				i++
			case '"':
				return start, start + i + 1, true
			}
		}
	case yaml.SingleQuotedStyle:
		for i := 1; i < len(rest); i++ {
			if rest[i] == '\'' {
				if i+1 < len(rest) && rest[i+1] == '\'' {
					i++
					continue
				}
				return start, start + i + 1, true
			}
		}
	case 0:
		if strings.HasPrefix(rest, n.Value) {
			return start, start + len(n.Value), true
		}
	}
	return 0, 0, false
}
