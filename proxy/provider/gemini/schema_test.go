package gemini

import (
	"strings"
	"testing"
)

func TestReduceSchema(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"plain object kept in order",
			`{"type":"object","properties":{"b":{"type":"string"},"a":{"type":"integer"}},"required":["b"]}`,
			`{"type":"object","properties":{"b":{"type":"string"},"a":{"type":"integer"}},"required":["b"]}`},
		{"JSON Schema keys Gemini rejects are dropped",
			`{"$schema":"http://json-schema.org/draft-07/schema#","$id":"x","type":"object","additionalProperties":false,"strict":true,"properties":{"q":{"type":"string","default":"x","examples":["y"],"readOnly":true,"$comment":"c"}},"patternProperties":{"^x":{}}}`,
			`{"type":"object","properties":{"q":{"type":"string"}}}`},
		{"nullable type array",
			`{"type":["string","null"],"description":"d"}`,
			`{"type":"string","description":"d","nullable":true}`},
		{"several types become anyOf",
			`{"type":["string","integer","array"],"items":{"type":"string"},"minimum":1}`,
			`{"anyOf":[{"type":"string"},{"type":"integer","minimum":1},{"type":"array","items":{"type":"string"}}]}`},
		{"anyOf with null collapses to one nullable branch",
			`{"anyOf":[{"type":"string","enum":["a","b"]},{"type":"null"}],"description":"outer"}`,
			`{"type":"string","enum":["a","b"],"description":"outer","nullable":true}`},
		{"anyOf kept when it has several branches",
			`{"anyOf":[{"type":"string"},{"type":"object","properties":{"x":{"type":"number"}}}]}`,
			`{"anyOf":[{"type":"string"},{"type":"object","properties":{"x":{"type":"number"}}}]}`},
		{"oneOf becomes anyOf",
			`{"oneOf":[{"type":"string"},{"type":"integer"}]}`,
			`{"anyOf":[{"type":"string"},{"type":"integer"}]}`},
		{"$ref inlined from $defs, sibling description wins",
			`{"type":"object","$defs":{"P":{"type":"object","description":"inner","properties":{"n":{"type":"string"}}}},"properties":{"p":{"$ref":"#/$defs/P","description":"outer"}}}`,
			`{"type":"object","properties":{"p":{"type":"object","description":"outer","properties":{"n":{"type":"string"}}}}}`},
		{"$ref from definitions, and a ref to a ref",
			`{"definitions":{"A":{"$ref":"#/definitions/B"},"B":{"type":"integer"}},"type":"object","properties":{"a":{"$ref":"#/definitions/A"}}}`,
			`{"type":"object","properties":{"a":{"type":"integer"}}}`},
		{"recursive $ref stops at a plain object",
			`{"$defs":{"Node":{"type":"object","properties":{"value":{"type":"string"},"children":{"type":"array","items":{"$ref":"#/$defs/Node"}}}}},"$ref":"#/$defs/Node"}`,
			`{"type":"object","properties":{"value":{"type":"string"},"children":{"type":"array","items":{"type":"object"}}}}`},
		{"allOf merged",
			`{"allOf":[{"type":"object","properties":{"a":{"type":"string"}},"required":["a"]},{"properties":{"b":{"type":"boolean"}},"required":["b"]}],"description":"both"}`,
			`{"type":"object","description":"both","properties":{"a":{"type":"string"},"b":{"type":"boolean"}},"required":["a","b"]}`},
		{"allOf with a $ref",
			`{"$defs":{"Base":{"type":"object","properties":{"id":{"type":"integer"}}}},"allOf":[{"$ref":"#/$defs/Base"},{"properties":{"name":{"type":"string"}}}]}`,
			`{"type":"object","properties":{"id":{"type":"integer"},"name":{"type":"string"}}}`},
		{"recursive allOf stops at a plain object",
			`{"$defs":{"Base":{"type":"object","properties":{"id":{"type":"string"}}},"Node":{"allOf":[{"$ref":"#/$defs/Base"},{"properties":{"child":{"$ref":"#/$defs/Node"},"peer":{"allOf":[{"$ref":"#/$defs/Node"}],"description":"p"}}}]}},"$ref":"#/$defs/Node"}`,
			`{"type":"object","properties":{"id":{"type":"string"},"child":{"type":"object"},"peer":{"type":"object","description":"p"}}}`},
		{"malformed required entries ignored",
			`{"type":"object","properties":{"a":{"type":"string"}},"allOf":[{"required":["a",["b"],{"c":1}]}],"required":[["x"],"a"]}`,
			`{"type":"object","properties":{"a":{"type":"string"}},"required":["a"]}`},
		{"formats Gemini does not know are dropped",
			`{"type":"object","properties":{"u":{"type":"string","format":"uri"},"t":{"type":"string","format":"date-time"},"i":{"type":"integer","format":"int64"},"f":{"type":"number","format":"int32"}}}`,
			`{"type":"object","properties":{"u":{"type":"string"},"t":{"type":"string","format":"date-time"},"i":{"type":"integer","format":"int64"},"f":{"type":"number"}}}`},
		{"const becomes enum",
			`{"const":"fixed"}`,
			`{"type":"string","enum":["fixed"]}`},
		{"number enum goes to the description",
			`{"type":"integer","enum":[1,2,3],"description":"Stars."}`,
			`{"type":"integer","description":"Stars. Allowed values: 1, 2, 3."}`},
		{"untyped number enum gets its type",
			`{"enum":[1,2.5]}`,
			`{"type":"number","description":"Allowed values: 1, 2.5."}`},
		{"enum with null",
			`{"type":"string","enum":["a",null]}`,
			`{"type":"string","nullable":true,"enum":["a"]}`},
		{"required filtered to real properties",
			`{"type":"object","properties":{"a":{"type":"string"}},"required":["a","ghost"]}`,
			`{"type":"object","properties":{"a":{"type":"string"}},"required":["a"]}`},
		{"empty properties dropped",
			`{"type":"object","properties":{},"required":["x"]}`,
			`{"type":"object"}`},
		{"array without items gets string items",
			`{"type":"array","maxItems":3}`,
			`{"type":"array","items":{"type":"string"},"maxItems":3}`},
		{"tuple items become anyOf",
			`{"type":"array","prefixItems":[{"type":"string"},{"type":"number"}]}`,
			`{"type":"array","items":{"anyOf":[{"type":"string"},{"type":"number"}]}}`},
		{"types inferred",
			`{"properties":{"a":{"items":{"type":"string"}},"b":{"description":"anything"},"c":true}}`,
			`{"type":"object","properties":{"a":{"type":"array","items":{"type":"string"}},"b":{"type":"string","description":"anything"},"c":{"type":"string"}}}`},
		{"upper-case types and title as description",
			`{"type":"OBJECT","title":"Thing","properties":{"n":{"type":"NUMBER","title":"N","description":"d"}}}`,
			`{"type":"object","description":"Thing","properties":{"n":{"type":"number","description":"d"}}}`},
		{"string limits kept, exclusive ones dropped",
			`{"type":"string","minLength":1,"maxLength":9,"pattern":"^[a-z]+$","exclusiveMinimum":0}`,
			`{"type":"string","minLength":1,"maxLength":9,"pattern":"^[a-z]+$"}`},
		{"HTML characters not escaped",
			`{"type":"string","description":"a < b & c > d"}`,
			`{"type":"string","description":"a < b & c > d"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := reduceSchema([]byte(tt.in), false)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("\n got %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestReduceSchemaOrdering(t *testing.T) {
	got, err := reduceSchema([]byte(`{"type":"object","properties":{"z":{"type":"string"},"a":{"type":"object","properties":{"y":{"type":"string"},"b":{"type":"string"}}}}}`), true)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"type":"object","properties":{"z":{"type":"string"},"a":{"type":"object","properties":{"y":{"type":"string"},"b":{"type":"string"}},"propertyOrdering":["y","b"]}},"propertyOrdering":["z","a"]}`
	if string(got) != want {
		t.Errorf("\n got %s\nwant %s", got, want)
	}
}

func TestReduceSchemaErrors(t *testing.T) {
	// A schema whose refs double at each level: inlined, it would have 2^30 nodes.
	var defs strings.Builder
	defs.WriteString(`{"$defs":{`)
	for i := 0; i < 30; i++ {
		if i > 0 {
			defs.WriteString(",")
		}
		next := `{"type":"string"}`
		if i < 29 {
			next = `{"$ref":"#/$defs/D` + itoa(i+1) + `"}`
		}
		defs.WriteString(`"D` + itoa(i) + `":{"type":"object","properties":{"l":` + next + `,"r":` + next + `}}`)
	}
	defs.WriteString(`},"$ref":"#/$defs/D0"}`)

	tests := []struct {
		name, in, want string
	}{
		{"not JSON", `{"type":`, "not valid JSON"},
		{"not an object", `[1]`, "must be a JSON object"},
		{"external ref", `{"$ref":"https://example.com/s.json"}`, "not local"},
		{"missing ref", `{"$ref":"#/$defs/Nope"}`, "not found"},
		{"bad type", `{"type":5}`, "type must be"},
		{"exponential refs", defs.String(), "too large"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := reduceSchema([]byte(tt.in), false)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want it to mention %q", err, tt.want)
			}
		})
	}
}

func TestReduceParameters(t *testing.T) {
	anyOf := `{"anyOf":[{"type":"object","properties":{"a":{"type":"string"}}},{"type":"object","properties":{"b":{"type":"string"}}}]}`
	tests := []struct{ in, want string }{
		{``, ``},
		{`null`, ``},
		{`{"type":"object","properties":{}}`, ``},
		{`{"type":"object","additionalProperties":false}`, ``},
		{`{"type":"object","properties":{"a":{"type":"boolean"}}}`, `{"type":"object","properties":{"a":{"type":"boolean"}}}`},
		{anyOf, anyOf},
	}
	for _, tt := range tests {
		got, err := reduceParameters([]byte(tt.in))
		if err != nil {
			t.Fatalf("%s: %v", tt.in, err)
		}
		if string(got) != tt.want {
			t.Errorf("%s:\n got %s\nwant %s", tt.in, got, tt.want)
		}
	}
}

func itoa(i int) string {
	if i < 10 {
		return string(rune('0' + i))
	}
	return itoa(i/10) + string(rune('0'+i%10))
}
