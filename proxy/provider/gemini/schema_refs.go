package gemini

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Gemini's schema has no references and no composition but anyOf: $ref is inlined and allOf is
// merged before a node is reduced. r.refs holds the references being expanded, so that a schema
// that refers to itself (a tree, a linked list) stops at a plain object instead of looping.

// expandRef inlines a local $ref, with the referring node's own keys (a description, mostly)
// laid over the target.
func (r *reducer) expandRef(in *object, refv any) (*object, error) {
	ref, ok := refv.(string)
	if !ok {
		return nil, fmt.Errorf("$ref must be a string")
	}
	if slices.Contains(r.refs, ref) {
		out := newObject()
		out.set("type", "object")
		if d, ok := in.vals["description"].(string); ok && d != "" {
			out.set("description", d)
		}
		return out, nil
	}
	merged, err := r.overlay(in, ref)
	if err != nil {
		return nil, err
	}
	r.refs = append(r.refs, ref)
	defer func() { r.refs = r.refs[:len(r.refs)-1] }()
	return r.reduce(merged) // a ref to a ref: merged has the next $ref, followed under the guard
}

// overlay is the schema ref names, with in's keys but $ref laid over it; the target's own $ref,
// if any, is kept for the caller to follow.
func (r *reducer) overlay(in *object, ref string) (*object, error) {
	target, err := r.resolve(ref)
	if err != nil {
		return nil, err
	}
	var merged *object
	switch t := target.(type) {
	case *object:
		merged = t.clone()
	case bool:
		merged = newObject()
	default:
		return nil, fmt.Errorf("$ref %q does not point at a schema", ref)
	}
	next, chained := merged.get("$ref")
	for _, k := range in.keys {
		if k != "$ref" {
			merged.set(k, in.vals[k])
		}
	}
	merged.del("$ref")
	if chained {
		merged.set("$ref", next)
	}
	return merged, nil
}

// resolve follows a local JSON pointer ("#", "#/$defs/X", "#/definitions/X", ...).
func (r *reducer) resolve(ref string) (any, error) {
	rest, ok := strings.CutPrefix(ref, "#")
	if !ok {
		return nil, fmt.Errorf("$ref %q is not local to the schema (only #/... references can be inlined)", ref)
	}
	cur := r.root
	if rest == "" {
		return cur, nil
	}
	if !strings.HasPrefix(rest, "/") {
		return nil, fmt.Errorf("$ref %q is not a JSON pointer", ref)
	}
	for _, tok := range strings.Split(rest[1:], "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		switch c := cur.(type) {
		case *object:
			next, ok := c.get(tok)
			if !ok {
				return nil, fmt.Errorf("$ref %q not found", ref)
			}
			cur = next
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(c) {
				return nil, fmt.Errorf("$ref %q not found", ref)
			}
			cur = c[i]
		default:
			return nil, fmt.Errorf("$ref %q not found", ref)
		}
	}
	return cur, nil
}

// mergeAllOf folds allOf's members into one schema: properties and required are united, other
// keys are taken from the node first, then from the members in order. A member that is a $ref
// is resolved first (a member that refers back into an open ref adds nothing); followed lists
// the refs resolved, for the caller's cycle guard.
func (r *reducer) mergeAllOf(in *object, all any) (merged *object, followed []string, err error) {
	list, ok := all.([]any)
	if !ok {
		return nil, nil, fmt.Errorf("allOf must be an array")
	}
	merged = in.clone()
	merged.del("allOf")
	for _, m := range list {
		mo, ok := m.(*object)
		for ok {
			refv, isRef := mo.get("$ref")
			if !isRef {
				break
			}
			ref, _ := refv.(string)
			if slices.Contains(r.refs, ref) || slices.Contains(followed, ref) {
				// A member that is its own ancestor: what it says about the object stops here.
				mergeKey(merged, "type", "object")
				ok = false
				break
			}
			if mo, err = r.overlay(mo, ref); err != nil {
				return nil, nil, err
			}
			followed = append(followed, ref)
		}
		if !ok {
			continue // true/false members, and cycles, add nothing Gemini can say
		}
		for _, k := range mo.keys {
			mergeKey(merged, k, mo.vals[k])
		}
	}
	return merged, followed, nil
}

func mergeKey(merged *object, k string, v any) {
	switch k {
	case "properties":
		props, _ := merged.vals["properties"].(*object)
		if props == nil {
			props = newObject()
		} else {
			props = props.clone()
		}
		if mp, ok := v.(*object); ok {
			for _, pk := range mp.keys {
				if !props.has(pk) {
					props.set(pk, mp.vals[pk])
				}
			}
		}
		merged.set("properties", props)
	case "required":
		have, _ := merged.vals["required"].([]any)
		req := slices.Clone(have)
		if list, ok := v.([]any); ok {
			for _, name := range list {
				if s, isString := name.(string); isString && !slices.Contains(req, any(s)) {
					req = append(req, s)
				}
			}
		}
		merged.set("required", req)
	default:
		if !merged.has(k) {
			merged.set(k, v)
		}
	}
}
