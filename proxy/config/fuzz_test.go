package config

import (
	"strings"
	"testing"

	"github.com/clawgate/clawgate/internal/fuzzgen"
	"github.com/clawgate/clawgate/internal/fuzzstat"
)

// FuzzParse holds the promise that no bytes crash the parser or make it spin, and that it returns
// either a config or an error. The seeds are small on purpose: Go minimizes every input that
// finds new coverage, and each step of that is a whole Parse (a broken file costs a binary search
// of decodes in problemLine), so a seed of a few KiB stalled the fuzzer for minutes.
// full.yaml and the example are parsed by the table tests; FuzzParseModels covers the sections.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"model_list:\n  - model_name: a\n    litellm_params: {model: openai/b, api_key: os.environ/A}\n",
		"x: &c {rpm: 1}\nmodel_list: [{model_name: a, litellm_params: {<<: *c, model: b}}]\n",
		"router_settings:\n  fallbacks: [{a: [b]}]\n  timeout: 1.5\n  num_retries: \"2\"\n",
		"general_settings: {master_key: sk-1}\nlitellm_settings: {request_timeout: 3}\n",
		"model_list:\n- model_name: a\n  litellm_params:\n    model: b\n   bad: indent\n",
		"a: [1, 2\nb: 3\n",
		"--- {}\n--- {}\n",
		"router_settings: &a\n  <<: *a\n",
		billionLaughs(4) + "litellm_settings: {x: *a4}\n",
		"model_list: [{model_name: a, litellm_params: {model: b, <<: [{x: 1}]}}]",
		"\xff\xfe\x00a",
	} {
		f.Add([]byte(s))
	}
	env := envMap(map[string]string{"A": "1", "OPENAI_API_KEY": "k"})
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, _, err := Parse(data, "f.yaml", env)
		fuzzstat.Reach(err == nil)
		if (cfg == nil) == (err == nil) {
			t.Fatalf("cfg %v with err %v", cfg, err)
		}
	})
}

// FuzzParseModels writes config files from the fuzzer's bytes (see configGen): every section
// Clawgate reads, with known keys and values mostly and anything now and then, so that most
// inputs parse as YAML and reach the model_list, credential and settings handling. A file that
// parses keeps every deployment, in order, under the name it was given.
func FuzzParseModels(f *testing.F) {
	for _, s := range []string{"", "\x01\x01\x01\x01\x01\x01\x01", "\x03\x01\x05\x01\x02\x07\x01\x01\x03\x01\x02", "\xff\x10\x22\x33\x44\x55\x66\x77\x88\x99"} {
		f.Add([]byte(s))
	}
	env := envMap(map[string]string{"A": "1", "OPENAI_API_KEY": "k"})
	f.Fuzz(func(t *testing.T, data []byte) {
		doc, names, damaged := configGen(fuzzgen.New(data))
		cfg, _, err := Parse([]byte(doc), "f.yaml", env)
		if !fuzzstat.Reach(err == nil) {
			if cfg != nil {
				t.Fatalf("cfg %v with err %v", cfg, err)
			}
			return
		}
		if damaged {
			return
		}
		if len(cfg.ModelList) != len(names) {
			t.Fatalf("%d deployments written, %d parsed\n%s", len(names), len(cfg.ModelList), doc)
		}
		for i, name := range names {
			if !strings.HasPrefix(name, envPrefix) && cfg.ModelList[i].ModelName != name {
				t.Fatalf("deployment %d: model_name %q written, %q parsed\n%s", i, name, cfg.ModelList[i].ModelName, doc)
			}
		}
	})
}

// configGen writes a config.yaml: sections in block style, their contents in flow style (JSON is
// YAML), now and then an anchor and a merge key. It returns the file and the model_name of each
// deployment, as YAML reads it back, unless the file was damaged on purpose.
func configGen(g *fuzzgen.Gen) (doc string, names []string, damaged bool) {
	var b strings.Builder
	word := func(words ...string) func() string {
		return func() string { return scalar(g, g.Text(words...)) }
	}
	num := func() string { return g.Pick(g.Number(), fuzzgen.Quote(g.Number()), "null") }
	env := func() string {
		return g.Pick("os.environ/A", "os.environ/OPENAI_API_KEY", "os.environ/UNSET", "os.environ/ ")
	}
	anchor := g.Chance(4)
	if anchor {
		b.WriteString("x-common: &c " + g.Fields(fuzzgen.F("rpm", num), fuzzgen.F("timeout", num), fuzzgen.F("api_base", word("http://h", ""))) + "\n")
	}
	sections := []struct {
		key  string
		make func() string
	}{
		{"environment_variables", func() string {
			return g.Fields(fuzzgen.F("A", word("2", "")), fuzzgen.F("B", word("x", "os.environ/A")))
		}},
		{"credential_list", func() string {
			return fuzzgen.Arr(g.List(2, func() string {
				// The name goes first (Fields may drop a field): a credential without one is an error.
				values := g.Fields(fuzzgen.F("api_key", env), fuzzgen.F("api_base", word("https://e.example/v1")), fuzzgen.F("api_version", word("2024-10-21")))
				rest := g.Fields(fuzzgen.F("credential_info", func() string { return g.Value(2) }))
				return prepend("credential_name: "+word("c1", "c2")()+", credential_values: "+values, rest)
			})...)
		}},
		{"router_settings", func() string { return routerGen(g, "timeout", word, num) }},
		{"litellm_settings", func() string {
			return routerGen(g, "request_timeout", word, num)
		}},
		{"general_settings", func() string {
			return g.Fields(fuzzgen.F("master_key", word("sk-1", "os.environ/A")), fuzzgen.F("max_request_size_mb", num),
				fuzzgen.F("store_prompts_in_spend_logs", word("true", "false")), fuzzgen.F("maximum_spend_logs_retention_period", word("30d", "1h", "x")),
				fuzzgen.F("database_url", word("postgres://x")))
		}},
	}
	for _, s := range sections {
		if g.Chance(3) {
			b.WriteString(s.key + ": " + s.make() + "\n")
		}
	}
	if g.Chance(8) {
		b.WriteString("model_list: " + g.Pick("null", "{}", "[1]", "x") + "\n")
		names = nil
	} else {
		b.WriteString("model_list:\n")
		for range 1 + g.N(3) {
			name := g.Text("gpt-4o", "claude-*", "m", "4", "os.environ/A")
			names = append(names, name)
			params := g.Fields(
				fuzzgen.F("api_base", word("https://api.example/v1", "http://127.0.0.1:1", "no-scheme.example")),
				fuzzgen.F("api_key", func() string { return g.Pick(env(), word("sk-x")()) }),
				fuzzgen.F("timeout", num), fuzzgen.F("rpm", num), fuzzgen.F("tpm", num), fuzzgen.F("weight", num),
				fuzzgen.F("input_cost_per_token", num), fuzzgen.F("output_cost_per_token", num),
				fuzzgen.F("litellm_credential_name", word("c1", "c2")),
				fuzzgen.F("extra_headers", func() string {
					return g.Fields(fuzzgen.F("X-A", word("1", "os.environ/A")), fuzzgen.F("X-B", word("v")))
				}),
			)
			// model goes first (Fields may drop it): without one the deployment is an error.
			model := scalar(g, g.Text("openai/gpt-4o", "anthropic/claude-sonnet-4-5", "gemini/*", "bedrock/x", "azure/d", ""))
			params = prepend("model: "+model, params)
			if anchor && g.Bool() {
				params = prepend("<<: *c", params)
			}
			b.WriteString("  - model_name: " + scalar(g, name) + "\n")
			b.WriteString("    litellm_params: " + params + "\n")
			if g.Bool() {
				b.WriteString("    model_info: " + g.Fields(fuzzgen.F("id", word("i1", "")), fuzzgen.F("input_cost_per_token", num),
					fuzzgen.F("output_cost_per_token", num), fuzzgen.F("max_input_tokens", num), fuzzgen.F("max_output_tokens", num),
					fuzzgen.F("mode", word("chat"))) + "\n")
			}
			if g.Chance(4) {
				b.WriteString("    rpm: " + num() + "\n")
			}
		}
	}
	for i, n := range names {
		names[i] = fuzzgen.Decoded(n)
	}
	doc, damaged = g.Damage(b.String())
	if damaged {
		names = nil // no promise about what a broken file holds
	}
	return doc, names, damaged
}

// routerGen writes router_settings or litellm_settings (which name the timeout differently).
func routerGen(g *fuzzgen.Gen, timeout string, word func(...string) func() string, num func() string) string {
	return g.Fields(
		fuzzgen.F("fallbacks", func() string {
			return fuzzgen.Arr(g.List(2, func() string {
				return fuzzgen.Obj(g.Text("gpt-4o", "m"), fuzzgen.Arr(g.List(2, word("claude-*", "m", "gpt-4o"))...))
			})...)
		}),
		fuzzgen.F(timeout, num), fuzzgen.F("num_retries", num), fuzzgen.F("allowed_fails", num),
		fuzzgen.F("cooldown_time", num), fuzzgen.F("retry_after", num),
		fuzzgen.F("routing_strategy", word("simple-shuffle")), fuzzgen.F("num_retry", num),
	)
}

// prepend puts the members kv first in the flow mapping obj.
func prepend(kv, obj string) string {
	if obj == "{}" {
		return "{" + kv + "}"
	}
	return "{" + kv + ", " + obj[1:]
}

// scalar writes s as a YAML flow scalar: plain when that reads back as the same string, else quoted.
func scalar(g *fuzzgen.Gen, s string) string {
	if s != "" && g.Bool() && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r == '-' || r == '_' || r == '/' || r == '.' || r == '*')
	}) < 0 && s[0] != '*' && s != "null" && s != "true" && s != "false" {
		return s
	}
	return fuzzgen.Quote(s)
}
