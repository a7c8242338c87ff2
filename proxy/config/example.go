package config

import (
	_ "embed"
	"slices"
)

//go:embed example.yaml
var example []byte

// ExampleYAML returns the commented config.yaml written on first run. It parses with no error, and
// with no warning once OPENAI_API_KEY is set.
func ExampleYAML() []byte { return slices.Clone(example) }
