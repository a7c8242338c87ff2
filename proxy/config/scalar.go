package config

import (
	"math"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// expand resolves an os.environ/VAR string. A missing variable is an error unless lenient, when it
// becomes "" and a warning: api_key is checked at call time, so a user who has not set
// OPENAI_API_KEY yet can still start. It returns the variable name when s was a reference.
func (p *parser) expand(n *yaml.Node, path, s string, lenient bool) (string, string, error) {
	if !strings.HasPrefix(s, envPrefix) {
		return s, "", nil
	}
	name := strings.TrimSpace(s[len(envPrefix):])
	if name == "" || strings.ContainsAny(name, " \t\r\n") {
		return "", "", p.errorf(n, path, "%q is not a valid environment reference (want os.environ/NAME)", s)
	}
	if v, ok := p.lookup(name); ok {
		return v, name, nil
	}
	if lenient {
		p.warn(n, path, "%s: environment variable %s is not set; calls that need it will fail until it is", path, name)
		return "", name, nil
	}
	return "", "", p.errorf(n, path, "environment variable %s is not set (referenced as %s)", name, s)
}

// scalar derefs v and checks it is a scalar; it returns nil for null, which callers read as absent.
func (p *parser) scalar(v *yaml.Node, path, want string) (*yaml.Node, error) {
	n, err := p.deref(v, path)
	if err != nil {
		return nil, err
	}
	if n.Kind != yaml.ScalarNode {
		return nil, p.errorf(v, path, "want %s, got %s", want, describe(n))
	}
	if isNull(n) {
		return nil, nil
	}
	return n, nil
}

// text reads a string value. Numbers and booleans are taken as written (model_name: 4 is "4").
func (p *parser) text(v *yaml.Node, path string) (string, bool, error) {
	s, _, ok, err := p.textEnv(v, path, false)
	return s, ok, err
}

// textEnv is text that also reports the variable of an os.environ reference.
func (p *parser) textEnv(v *yaml.Node, path string, lenient bool) (string, string, bool, error) {
	n, err := p.scalar(v, path, "a string")
	if err != nil || n == nil {
		return "", "", false, err
	}
	if n.ShortTag() != "!!str" {
		return n.Value, "", true, nil
	}
	s, name, err := p.expand(n, path, n.Value, lenient)
	return s, name, true, err
}

// numberText returns the text a number is read from, with os.environ references resolved, or
// reports a non-scalar.
func (p *parser) numberText(v *yaml.Node, path, want string) (*yaml.Node, string, error) {
	n, err := p.scalar(v, path, want)
	if err != nil || n == nil {
		return nil, "", err
	}
	switch n.ShortTag() {
	case "!!int", "!!float":
		return n, n.Value, nil
	case "!!str":
		s, _, err := p.expand(n, path, n.Value, false)
		return n, strings.TrimSpace(s), err
	}
	return nil, "", p.errorf(v, path, "want %s, got %s", want, describe(n))
}

// integer reads a non-negative integer; "3" and 3.0 are accepted, as LiteLLM's int() would.
func (p *parser) integer(v *yaml.Node, path string) (int, bool, error) {
	n, s, err := p.numberText(v, path, "an integer")
	if err != nil || n == nil {
		return 0, false, err
	}
	var i int
	switch n.ShortTag() {
	case "!!int":
		if err := n.Decode(&i); err != nil {
			return 0, false, p.errorf(v, path, "want an integer, got %q", s)
		}
	default:
		i64, err := strconv.ParseInt(s, 10, 0)
		if err != nil {
			f, ferr := strconv.ParseFloat(s, 64)
			if ferr != nil || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
				return 0, false, p.errorf(v, path, "want an integer, got %q", s)
			}
			i64 = int64(f)
		}
		i = int(i64)
	}
	if i < 0 {
		return 0, false, p.errorf(v, path, "must not be negative, got %d", i)
	}
	return i, true, nil
}

// number reads a non-negative finite number.
func (p *parser) number(v *yaml.Node, path string) (float64, bool, error) {
	n, s, err := p.numberText(v, path, "a number")
	if err != nil || n == nil {
		return 0, false, err
	}
	var f float64
	if n.ShortTag() == "!!str" {
		f, err = strconv.ParseFloat(s, 64)
	} else {
		err = n.Decode(&f)
	}
	if err != nil {
		return 0, false, p.errorf(v, path, "want a number, got %q", s)
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false, p.errorf(v, path, "want a finite number, got %q", s)
	}
	if f < 0 {
		return 0, false, p.errorf(v, path, "must not be negative, got %q", s)
	}
	return f, true, nil
}

// seconds reads a duration written as a number of seconds (600, 0.5, "30"), as LiteLLM does.
func (p *parser) seconds(v *yaml.Node, path string) (time.Duration, bool, error) {
	f, ok, err := p.number(v, path)
	if err != nil || !ok {
		return 0, ok, err
	}
	if f*float64(time.Second) >= math.MaxInt64 {
		return 0, false, p.errorf(v, path, "%v seconds is too long", f)
	}
	return time.Duration(f * float64(time.Second)), true, nil
}

// value converts any node into plain Go values (map[string]any, []any, string, int, float64, bool,
// nil) for the Extra maps, resolving os.environ references in every string.
func (p *parser) value(v *yaml.Node, path string) (any, error) {
	n, err := p.deref(v, path)
	if err != nil {
		return nil, err
	}
	switch n.Kind {
	case yaml.MappingNode:
		es, err := p.entries(n, path)
		if err != nil {
			return nil, err
		}
		m := make(map[string]any, len(es))
		for _, e := range es {
			if m[e.key], err = p.value(e.v, e.path); err != nil {
				return nil, err
			}
		}
		return m, nil
	case yaml.SequenceNode:
		l := make([]any, len(n.Content))
		for i, c := range n.Content {
			if l[i], err = p.value(c, index(path, i)); err != nil {
				return nil, err
			}
		}
		return l, nil
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!null":
			return nil, nil
		case "!!bool", "!!int", "!!float":
			var x any
			if err := n.Decode(&x); err != nil {
				return nil, p.errorf(n, path, "cannot read %q: %v", n.Value, err)
			}
			return x, nil
		}
		// Strings, and timestamps kept as written: api_version: 2024-10-21 is a string to providers.
		lenient := strings.HasSuffix(path, ".api_key") || path == "api_key"
		s, _, err := p.expand(n, path, n.Value, lenient)
		return s, err
	}
	return nil, p.errorf(n, path, "unsupported YAML node")
}
