package gemini

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/clawgate/clawgate/internal/fuzzgen"
	"github.com/clawgate/clawgate/internal/fuzzstat"
	"github.com/clawgate/clawgate/proxy/provider"
)

// FuzzReduceSchema holds the reducer to two promises on any schema: no panic, and output that is
// JSON without the keys Gemini rejects.
func FuzzReduceSchema(f *testing.F) {
	for _, s := range []string{
		`{"type":"object","properties":{"a":{"type":["string","null"]}},"required":["a"]}`,
		`{"$defs":{"N":{"type":"object","properties":{"c":{"$ref":"#/$defs/N"}}}},"$ref":"#/$defs/N"}`,
		`{"allOf":[{"$ref":"#"},{"properties":{"x":{"enum":[1,"a",null]}}}]}`,
		`{"anyOf":[{"type":"null"},{"items":[{"const":2}]}],"additionalProperties":false}`,
		`true`, `[]`, `{"type":[]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		// Mutated schemas are rarely JSON (96% were refused at the parse): bytes that are not
		// become a schema written by fuzzgen, so that most inputs reach the reducer.
		if !json.Valid(in) {
			in = []byte(fuzzgen.New(in).Schema(4))
		}
		out, err := reduceSchema(in, true)
		if !fuzzstat.Reach(err == nil) {
			return
		}
		if !json.Valid(out) {
			t.Fatalf("invalid JSON %s from %s", out, in)
		}
		var probe any
		if err := json.Unmarshal(out, &probe); err != nil {
			t.Fatal(err)
		}
		for _, bad := range []string{"$ref", "$defs", "definitions", "additionalProperties", "allOf", "oneOf", "const", "default", "title"} {
			if hasKey(probe, bad) {
				t.Fatalf("%s survives: %s from %s", bad, out, in)
			}
		}
	})
}

// hasKey reports whether a schema (not a properties map) holds key k anywhere.
func hasKey(v any, k string) bool {
	switch t := v.(type) {
	case map[string]any:
		for key, val := range t {
			if key == k {
				return true
			}
			if key == "properties" {
				if props, ok := val.(map[string]any); ok {
					for _, p := range props {
						if hasKey(p, k) {
							return true
						}
					}
				}
				continue
			}
			if key != "enum" && key != "required" && key != "propertyOrdering" && hasKey(val, k) {
				return true
			}
		}
	case []any:
		for _, e := range t {
			if hasKey(e, k) {
				return true
			}
		}
	}
	return false
}

// FuzzStream feeds arbitrary bytes to the stream translator: it must end (EOF or an error),
// never panic, and every chunk it yields must be JSON.
func FuzzStream(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.sse"))
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		s := streamOver(bytes.NewReader(in))
		defer s.Close()
		for i := 0; ; i++ {
			if i > len(in)+10 {
				t.Fatal("more chunks than input bytes")
			}
			p, err := s.Next()
			if err != nil {
				var pe *provider.Error
				if err != io.EOF && !errors.As(err, &pe) {
					t.Fatalf("error of type %T: %v", err, err)
				}
				return
			}
			if !json.Valid(p) {
				t.Fatalf("chunk is not JSON: %s", p)
			}
		}
	})
}
