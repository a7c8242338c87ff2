package gemini

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/clawgate/clawgate/proxy/internal/wire"
)

// Gemini's Schema is a subset of OpenAPI 3.0, not JSON Schema: it rejects requests carrying keys
// it does not know ($schema, additionalProperties, strict, $ref, ...), wants one type per node
// (nullable instead of ["x","null"]), string enums only, and only a few formats. reduceSchema
// rewrites a tool's JSON Schema into that subset, keeping as much meaning as it can.

const (
	// maxSchemaNodes bounds the output: inlining $refs can multiply a schema's size.
	maxSchemaNodes = 10000
)

// formats Gemini accepts per type; any other format makes AI Studio answer 400.
var allowedFormats = map[string]map[string]bool{
	"string":  {"enum": true, "date-time": true},
	"number":  {"float": true, "double": true},
	"integer": {"int32": true, "int64": true},
}

var knownTypes = map[string]bool{
	"string": true, "number": true, "integer": true, "boolean": true, "array": true, "object": true,
}

// Numeric constraints kept as they are, per type.
var (
	objectLimits = []string{"minProperties", "maxProperties"}
	arrayLimits  = []string{"minItems", "maxItems"}
	stringLimits = []string{"minLength", "maxLength"}
	numberLimits = []string{"minimum", "maximum"}
)

type reducer struct {
	root     any
	refs     []string // $refs being expanded, to stop cycles
	nodes    int
	ordering bool // add propertyOrdering (structured output follows it)
}

var errTooBig = errors.New("schema is too large once its $refs are inlined")

// reduceSchema rewrites the JSON Schema raw into Gemini's subset. ordering adds propertyOrdering
// to objects, which responseSchema uses to order the answer's keys.
func reduceSchema(raw json.RawMessage, ordering bool) (json.RawMessage, error) {
	v, err := decodeOrdered(raw)
	if err != nil {
		return nil, fmt.Errorf("not valid JSON: %w", err)
	}
	r := &reducer{root: v, ordering: ordering}
	out, err := r.reduce(v)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	encodeOrdered(&buf, out)
	return buf.Bytes(), nil
}

// reduceParameters reduces a function's parameters. A function that takes no arguments gets no
// parameters at all: Gemini rejects an OBJECT whose properties are empty.
func reduceParameters(raw json.RawMessage) (json.RawMessage, error) {
	if wire.IsNull(raw) {
		return nil, nil
	}
	out, err := reduceSchema(raw, false)
	if err != nil {
		return nil, err
	}
	var probe struct {
		Type       string          `json:"type"`
		Properties json.RawMessage `json:"properties"`
		AnyOf      json.RawMessage `json:"anyOf"`
	}
	_ = json.Unmarshal(out, &probe)
	if probe.Type == "object" && probe.Properties == nil && probe.AnyOf == nil {
		return nil, nil
	}
	return out, nil
}

func (r *reducer) reduce(v any) (*object, error) {
	r.nodes++
	if r.nodes > maxSchemaNodes {
		return nil, errTooBig
	}
	in, ok := v.(*object)
	if !ok {
		if _, isBool := v.(bool); isBool {
			// true (anything) and false (nothing) have no Gemini form; an untyped node is the closest.
			in = newObject()
		} else {
			return nil, fmt.Errorf("a schema must be a JSON object, got %s", kindOf(v))
		}
	}

	if ref, ok := in.get("$ref"); ok {
		return r.expandRef(in, ref)
	}
	if all, ok := in.get("allOf"); ok {
		merged, followed, err := r.mergeAllOf(in, all)
		if err != nil {
			return nil, err
		}
		// The refs the members named stay open while the merge is reduced, so that a member
		// pointing back at an ancestor ends in a plain object, as a direct $ref does.
		r.refs = append(r.refs, followed...)
		defer func(n int) { r.refs = r.refs[:n] }(len(r.refs) - len(followed))
		return r.reduce(merged)
	}

	out := newObject()
	nullable := in.vals["nullable"] == true

	// Types: one per node; "null" becomes nullable, several become anyOf.
	types, null, err := typeList(in)
	if err != nil {
		return nil, err
	}
	nullable = nullable || null
	var alts []*object
	if len(types) > 1 {
		for _, t := range types {
			alt, err := r.reduce(typeSlice(in, t))
			if err != nil {
				return nil, err
			}
			alts = append(alts, alt)
		}
		types = nil
	}

	// anyOf / oneOf: both become anyOf, which Gemini accepts; a null branch becomes nullable.
	for _, key := range []string{"anyOf", "oneOf"} {
		list, ok := in.vals[key].([]any)
		if !ok {
			continue
		}
		for _, m := range list {
			if isNullSchema(m) {
				nullable = true
				continue
			}
			alt, err := r.reduce(m)
			if err != nil {
				return nil, err
			}
			alts = append(alts, alt)
		}
	}

	desc, _ := in.vals["description"].(string)
	if desc == "" {
		desc, _ = in.vals["title"].(string) // Gemini's schema has no title worth keeping apart
	}

	if len(alts) > 0 && len(types) == 0 {
		if len(alts) == 1 {
			// One branch left: the node is that branch, with the outer description if it has one.
			out = alts[0]
		} else {
			list := make([]any, len(alts))
			for i, a := range alts {
				list[i] = a
			}
			out.set("anyOf", list)
		}
		if desc != "" {
			out.set("description", desc)
		}
		if nullable {
			out.set("nullable", true)
		}
		return out, nil
	}

	enum, enumNull, others := enumValues(in)
	nullable = nullable || enumNull
	typ := ""
	if len(types) == 1 {
		typ = types[0]
	}
	if typ == "" {
		typ = inferType(in, enum, others)
	}
	out.set("type", typ)
	if f, ok := in.vals["format"].(string); ok && allowedFormats[typ][f] {
		out.set("format", f)
	}
	if typ != "string" || len(others) > 0 {
		// Gemini takes enums of strings on string nodes only; any other enum is listed in the
		// description instead, so that the model still knows the allowed values.
		if all := append(anyStrings(enum), others...); len(all) > 0 {
			if desc != "" {
				desc += " "
			}
			desc += "Allowed values: " + strings.Join(all, ", ") + "."
		}
		enum = nil
	}
	if desc != "" {
		out.set("description", desc)
	}
	if nullable {
		out.set("nullable", true)
	}
	if len(enum) > 0 {
		out.set("enum", enum)
	}

	switch typ {
	case "object":
		if err := r.objectFields(in, out); err != nil {
			return nil, err
		}
		copyNumbers(in, out, objectLimits)
	case "array":
		items, err := r.items(in)
		if err != nil {
			return nil, err
		}
		out.set("items", items)
		copyNumbers(in, out, arrayLimits)
	case "string":
		copyNumbers(in, out, stringLimits)
		if p, ok := in.vals["pattern"].(string); ok && p != "" {
			out.set("pattern", p)
		}
	case "number", "integer":
		copyNumbers(in, out, numberLimits)
	}
	return out, nil
}

func (r *reducer) objectFields(in, out *object) error {
	props, _ := in.vals["properties"].(*object)
	if props == nil || len(props.keys) == 0 {
		return nil // an object without properties: Gemini rejects "properties": {}
	}
	reduced := newObject()
	for _, k := range props.keys {
		p, err := r.reduce(props.vals[k])
		if err != nil {
			return fmt.Errorf("properties.%s: %w", k, err)
		}
		reduced.set(k, p)
	}
	out.set("properties", reduced)
	if list, ok := in.vals["required"].([]any); ok {
		var req []any
		for _, name := range list {
			if s, ok := name.(string); ok && reduced.has(s) {
				req = append(req, s) // Gemini rejects required names that are not properties
			}
		}
		if len(req) > 0 {
			out.set("required", req)
		}
	}
	if r.ordering && len(reduced.keys) > 1 {
		order := make([]any, len(reduced.keys))
		for i, k := range reduced.keys {
			order[i] = k
		}
		out.set("propertyOrdering", order)
	}
	return nil
}

// items gives an array its one item schema: Gemini rejects an ARRAY without items, and has no
// tuples (several item schemas become anyOf).
func (r *reducer) items(in *object) (*object, error) {
	v, ok := in.get("items")
	if !ok || v == true {
		if pre, ok := in.vals["prefixItems"].([]any); ok && len(pre) > 0 {
			v = pre
		} else {
			s := newObject()
			s.set("type", "string")
			return s, nil
		}
	}
	if list, ok := v.([]any); ok {
		if len(list) == 0 {
			s := newObject()
			s.set("type", "string")
			return s, nil
		}
		if len(list) == 1 {
			v = list[0]
		} else {
			alts := newObject()
			alts.set("anyOf", list)
			v = alts
		}
	}
	out, err := r.reduce(v)
	if err != nil {
		return nil, fmt.Errorf("items: %w", err)
	}
	return out, nil
}

// typeList reads "type" (a string or an array of strings), lower-cased, and reports "null"
// apart. Types Gemini does not know ("any", ...) are left out, leaving the node untyped.
func typeList(in *object) (types []string, null bool, err error) {
	v, ok := in.get("type")
	if !ok || v == nil {
		return nil, false, nil
	}
	var raw []any
	switch t := v.(type) {
	case string:
		raw = []any{t}
	case []any:
		raw = t
	default:
		return nil, false, fmt.Errorf("type must be a string or an array of strings")
	}
	for _, e := range raw {
		s, ok := e.(string)
		if !ok {
			return nil, false, fmt.Errorf("type must be a string or an array of strings")
		}
		s = strings.ToLower(s)
		if s == "null" {
			null = true
			continue
		}
		if !knownTypes[s] || slices.Contains(types, s) {
			continue
		}
		types = append(types, s)
	}
	return types, null, nil
}

// inferType names the type of an untyped node from what it holds.
func inferType(in *object, enum []any, others []string) string {
	switch {
	case in.has("properties"):
		return "object"
	case in.has("items") || in.has("prefixItems"):
		return "array"
	case len(others) > 0 && len(enum) == 0:
		// An enum of numbers or booleans: the type they share.
		kind := ""
		for _, o := range others {
			k := "string"
			switch {
			case o == "true" || o == "false":
				k = "boolean"
			case o[0] == '-' || (o[0] >= '0' && o[0] <= '9'):
				k = "integer"
				if strings.ContainsAny(o, ".eE") {
					k = "number"
				}
			}
			switch {
			case kind == "" || kind == k:
				kind = k
			case (kind == "integer" && k == "number") || (kind == "number" && k == "integer"):
				kind = "number"
			default:
				return "string"
			}
		}
		return kind
	}
	// Nothing to infer from (an "any" value): Gemini needs a type, and a string can carry
	// whatever the model wants to give.
	return "string"
}

// typeSlice is the part of a multi-typed node that applies to type t.
func typeSlice(in *object, t string) *object {
	s := newObject()
	s.set("type", t)
	var keys []string
	switch t {
	case "object":
		keys = append([]string{"properties", "required"}, objectLimits...)
	case "array":
		keys = append([]string{"items", "prefixItems"}, arrayLimits...)
	case "string":
		keys = append([]string{"enum", "const", "format", "pattern"}, stringLimits...)
	case "number", "integer":
		keys = append([]string{"format"}, numberLimits...)
	}
	for _, k := range keys {
		if v, ok := in.get(k); ok {
			s.set(k, v)
		}
	}
	return s
}

// enumValues reads enum (or const): string values, whether null is allowed, and the other
// values as JSON text.
func enumValues(in *object) (enum []any, null bool, others []string) {
	var list []any
	if v, ok := in.vals["enum"].([]any); ok {
		list = v
	} else if c, ok := in.get("const"); ok {
		list = []any{c}
	}
	for _, e := range list {
		switch t := e.(type) {
		case nil:
			null = true
		case string:
			enum = append(enum, t)
		default:
			var buf bytes.Buffer
			encodeOrdered(&buf, t)
			others = append(others, buf.String())
		}
	}
	return enum, null, others
}

func anyStrings(list []any) []string {
	out := make([]string, 0, len(list))
	for _, e := range list {
		if s, ok := e.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

func copyNumbers(in, out *object, keys []string) {
	for _, k := range keys {
		if n, ok := in.vals[k].(json.Number); ok {
			out.set(k, n)
		}
	}
}

// isNullSchema reports whether m is {"type":"null"} (possibly with a description).
func isNullSchema(m any) bool {
	o, ok := m.(*object)
	if !ok {
		return false
	}
	t, ok := o.vals["type"].(string)
	return ok && strings.EqualFold(t, "null")
}

func kindOf(v any) string {
	switch v.(type) {
	case []any:
		return "an array"
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%T", v)
}
