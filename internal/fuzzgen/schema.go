package fuzzgen

// Schema writes a JSON schema of the shapes clients send as tool parameters and response
// formats: nested objects and arrays, unions, references and the keys some upstreams refuse.
func (g *Gen) Schema(depth int) string {
	s := g.TextOf
	sub := func() string {
		if depth <= 0 {
			return Obj("type", `"string"`)
		}
		return g.Schema(depth - 1)
	}
	return g.Fields(
		F("type", func() string {
			if g.Chance(4) {
				return Arr(g.List(2, s("string", "null", "integer"))...)
			}
			return Quote(g.Enum("object", "string", "array", "integer", "number", "boolean", "null"))
		}),
		F("properties", func() string {
			var kv []string
			for range g.N(3) {
				kv = append(kv, g.Text("a", "b", "$ref", "type"), sub())
			}
			return Obj(kv...)
		}),
		F("items", sub),
		F("required", func() string { return Arr(g.List(2, s("a", "b"))...) }),
		F("enum", func() string { return Arr(g.List(3, func() string { return g.Value(0) })...) }),
		F("anyOf", func() string { return Arr(g.List(2, sub)...) }),
		F("oneOf", func() string { return Arr(g.List(2, sub)...) }),
		F("allOf", func() string { return Arr(g.List(2, sub)...) }),
		F("$ref", s("#", "#/$defs/N", "#/definitions/N", "#/properties/a", "other.json")),
		F("$defs", func() string { return Obj("N", sub()) }),
		F("additionalProperties", func() string { return g.Pick("false", "true", "{}") }),
		F("description", s("d")), F("format", s("date-time", "enum")),
		F("const", func() string { return g.Value(0) }), F("default", func() string { return g.Value(1) }),
		F("title", s("t")), F("nullable", func() string { return "true" }),
		F("minimum", g.Number), F("maxItems", g.Number),
	)
}
