package config

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse holds the promise that no input crashes the parser, and that it returns either a
// config or an error. `go test` runs the seeds; `go test -fuzz FuzzParse` explores.
func FuzzParse(f *testing.F) {
	for _, name := range []string{"full.yaml"} {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add(ExampleYAML())
	f.Add([]byte(billionLaughs(4) + "litellm_settings: {x: *a4}\n"))
	f.Add([]byte("router_settings: &a\n  <<: *a\n"))
	f.Add([]byte("model_list: [{model_name: a, litellm_params: {model: b, <<: [{x: 1}]}}]"))
	env := envMap(map[string]string{"A": "1", "OPENAI_API_KEY": "k"})
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, _, err := Parse(data, "f.yaml", env)
		if (cfg == nil) == (err == nil) {
			t.Fatalf("cfg %v with err %v", cfg, err)
		}
	})
}
