package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func ptr[T any](v T) *T { return &v }

// envMap is the env lookup tests pass instead of os.LookupEnv.
func envMap(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func warningStrings(ws []Warning) []string {
	out := make([]string, len(ws))
	for i, w := range ws {
		out[i] = w.String()
	}
	return out
}

func readFixture(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

var fullEnv = map[string]string{
	"OPENAI_API_KEY":        "sk-openai",
	"AZURE_API_KEY":         "az-key",
	"ANTHROPIC_API_KEY":     "sk-ant",
	"AWS_ACCESS_KEY_ID":     "AKIA",
	"AWS_SECRET_ACCESS_KEY": "secret",
	"TRACE_ID":              "trace-1",
	"TAG":                   "team-a",
	"REDIS_PASSWORD":        "redis-pw",
	"LITELLM_MASTER_KEY":    "sk-master",
	// environment_variables in the file wins over the process environment, as in LiteLLM.
	"REGION": "us-east-1",
}

func TestParseFull(t *testing.T) {
	cfg, warnings, err := Parse(readFixture(t, "full.yaml"), "full.yaml", envMap(fullEnv))
	if err != nil {
		t.Fatal(err)
	}
	want := &Config{
		ModelList: []Deployment{
			{
				ModelName: "gpt-4o",
				Line:      21,
				Params: Params{
					Model:     "openai/gpt-4o",
					APIKey:    "sk-openai",
					APIKeyEnv: "OPENAI_API_KEY",
					Timeout:   30 * time.Second, // from the merged anchor
					ExtraHeaders: map[string]string{
						"OpenAI-Organization": "org-123",
						"X-Trace":             "trace-1",
					},
					Extra: map[string]any{"rpm": 60, "tpm": 100000},
				},
				Info: ModelInfo{
					ID:                 "openai-gpt-4o",
					InputCostPerToken:  ptr(2.5e-06),
					OutputCostPerToken: ptr(1.0e-05),
					MaxInputTokens:     ptr(128000),
					MaxOutputTokens:    ptr(16384),
					Extra: map[string]any{
						"mode":          "chat",
						"base_model":    "gpt-4o-2024-08-06",
						"access_groups": []any{"beta-models"},
					},
				},
			},
			{
				ModelName: "gpt-4o",
				Line:      38,
				Params: Params{
					Model:     "azure/gpt-4o-eu",
					APIBase:   "https://eu.example.openai.azure.com/", // credential, from environment_variables
					APIKey:    "az-key",
					APIKeyEnv: "AZURE_API_KEY",
					Timeout:   45 * time.Second,
					Extra: map[string]any{
						"litellm_credential_name": "azure_eu",
						"api_version":             "2024-10-21",
						"weight":                  2,
						"input_cost_per_token":    3.0e-06,
						"rpm":                     10, // written beside litellm_params
					},
				},
				Info: ModelInfo{
					ID:                 "azure-gpt-4o",
					InputCostPerToken:  ptr(3.0e-06), // copied from litellm_params
					OutputCostPerToken: ptr(1.2e-05),
				},
			},
			{
				ModelName: "claude-sonnet",
				Line:      49,
				Params: Params{
					Model:     "anthropic/claude-sonnet-4-5",
					APIKey:    "sk-ant",
					APIKeyEnv: "ANTHROPIC_API_KEY",
					Timeout:   500 * time.Millisecond,
					Extra:     map[string]any{"tags": []any{"paid", "team-a"}},
				},
			},
			{
				ModelName: "bedrock-claude",
				Line:      55,
				Params: Params{
					Model: "bedrock/anthropic.claude-3-haiku-20240307-v1:0",
					Extra: map[string]any{
						"aws_region_name":       "eu-west-1",
						"aws_access_key_id":     "AKIA",
						"aws_secret_access_key": "secret",
					},
				},
			},
			{
				ModelName: "openai/*",
				Line:      61,
				Params:    Params{Model: "openai/*", APIKey: "sk-openai", APIKeyEnv: "OPENAI_API_KEY"},
			},
			{ModelName: "*", Line: 65, Params: Params{Model: "*"}},
			{ModelName: "local", Line: 68, Params: Params{Model: "llama3", APIBase: "http://localhost:11434/v1"}},
		},
		Router: RouterSettings{
			Fallbacks: []Fallback{
				{Group: "gpt-4o", To: []string{"claude-sonnet", "bedrock-claude"}},
				{Group: "claude-sonnet", To: []string{"gpt-4o"}},
			},
			NumRetries:   2,                 // router_settings wins over litellm_settings' 5
			Timeout:      120 * time.Second, // litellm_settings.request_timeout
			AllowedFails: 7,                 // litellm_settings
			CooldownTime: 30 * time.Second,
			RetryAfter:   1500 * time.Millisecond,
		},
		General: GeneralSettings{
			MasterKey:         "sk-master",
			MaxRequestSizeMB:  12.5,
			ResponsesStoreTTL: time.Hour,
			CORSAllowOrigins:  []string{"https://app.example.com", "*"},
			Extra: map[string]any{
				"database_url": "postgresql://u:p@localhost/db",
				"alerting":     []any{"slack"},
			},
		},
		LiteLLM: LiteLLMSettings{Extra: map[string]any{
			"drop_params":     true,
			"num_retries":     5,
			"request_timeout": 120,
			"allowed_fails":   7,
			"fallbacks":       []any{map[string]any{"claude-sonnet": []any{"gpt-4o"}}},
			"cache_params":    map[string]any{"type": "redis", "password": "redis-pw"},
		}},
	}
	if len(cfg.ModelList) != len(want.ModelList) {
		t.Fatalf("got %d deployments, want %d", len(cfg.ModelList), len(want.ModelList))
	}
	for i := range want.ModelList {
		if !reflect.DeepEqual(cfg.ModelList[i], want.ModelList[i]) {
			t.Errorf("model_list[%d]:\n got %s\nwant %s", i, show(cfg.ModelList[i]), show(want.ModelList[i]))
		}
	}
	cfg.ModelList, want.ModelList = nil, nil
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("settings:\n got %+v\nwant %+v", *cfg, *want)
	}

	wantWarnings := []string{
		"full.yaml:15: unknown key x-common (ignored)",
		"full.yaml:79: litellm_settings.cache_params is not supported by Clawgate yet (ignored)",
		"full.yaml:90: router_settings.routing_strategy is not supported by Clawgate yet (ignored)",
	}
	if got := warningStrings(warnings); !reflect.DeepEqual(got, wantWarnings) {
		t.Errorf("warnings:\n got %q\nwant %q", got, wantWarnings)
	}
}

// show prints a deployment with its pointers followed, so a mismatch is readable.
func show(d Deployment) string {
	deref := func(f *float64) any {
		if f == nil {
			return nil
		}
		return *f
	}
	derefI := func(i *int) any {
		if i == nil {
			return nil
		}
		return *i
	}
	return fmt.Sprintf("%+v info{id=%q in=%v out=%v maxin=%v maxout=%v extra=%v} line=%d",
		d.Params, d.Info.ID, deref(d.Info.InputCostPerToken), deref(d.Info.OutputCostPerToken),
		derefI(d.Info.MaxInputTokens), derefI(d.Info.MaxOutputTokens), d.Info.Extra, d.Line)
}

func TestParseEmpty(t *testing.T) {
	for _, tc := range []struct{ name, yaml string }{
		{"empty file", ""},
		{"only comments", "# nothing yet\n"},
		{"document marker", "---\n"},
		{"null document", "~\n"},
		{"empty sections", "model_list:\nrouter_settings:\nlitellm_settings:\ngeneral_settings:\nenvironment_variables:\ncredential_list:\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, warnings, err := Parse([]byte(tc.yaml), "config.yaml", nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(warnings) != 0 {
				t.Errorf("warnings: %v", warnings)
			}
			if want := (&Config{Router: Default()}); !reflect.DeepEqual(cfg, want) {
				t.Errorf("got %+v, want %+v", cfg, want)
			}
		})
	}
}

func TestDefaults(t *testing.T) {
	want := RouterSettings{NumRetries: 3, Timeout: 600 * time.Second, AllowedFails: 3, CooldownTime: 5 * time.Second}
	if got := Default(); !reflect.DeepEqual(got, want) {
		t.Errorf("Default() = %+v, want %+v", got, want)
	}
	// An explicit zero is a setting, not an absence.
	cfg, _, err := Parse([]byte("router_settings:\n  num_retries: 0\n  allowed_fails: 0\n  timeout: 0\n  cooldown_time: 0\n"), "c.yaml", nil)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(cfg.Router, RouterSettings{}) {
		t.Errorf("explicit zeros: got %+v", cfg.Router)
	}
}

func TestRouterSettings(t *testing.T) {
	for _, tc := range []struct {
		name string
		yaml string
		want RouterSettings
	}{
		{
			name: "litellm_settings alone",
			yaml: "litellm_settings:\n  num_retries: 1\n  request_timeout: 60\n  allowed_fails: 2\n  cooldown_time: 9\n  fallbacks: [{a: [b]}]\n",
			want: RouterSettings{NumRetries: 1, Timeout: time.Minute, AllowedFails: 2, CooldownTime: 9 * time.Second,
				Fallbacks: []Fallback{{Group: "a", To: []string{"b"}}}},
		},
		{
			name: "router_settings wins whatever the order in the file",
			yaml: "router_settings:\n  num_retries: 4\n  fallbacks: []\nlitellm_settings:\n  num_retries: 1\n  fallbacks: [{a: [b]}]\n",
			want: RouterSettings{NumRetries: 4, Timeout: 600 * time.Second, AllowedFails: 3, CooldownTime: 5 * time.Second,
				Fallbacks: []Fallback{}},
		},
		{
			name: "fallbacks as one mapping with several keys keep file order",
			yaml: "router_settings:\n  fallbacks:\n    z: [y, x]\n    a: b\n    m: []\n",
			want: func() RouterSettings {
				r := Default()
				r.Fallbacks = []Fallback{{Group: "z", To: []string{"y", "x"}}, {Group: "a", To: []string{"b"}}, {Group: "m", To: []string{}}}
				return r
			}(),
		},
		{
			name: "fallbacks list items with several keys",
			yaml: "router_settings:\n  fallbacks: [{b: [c], a: [c]}, {c: [a]}]\n",
			want: func() RouterSettings {
				r := Default()
				r.Fallbacks = []Fallback{{Group: "b", To: []string{"c"}}, {Group: "a", To: []string{"c"}}, {Group: "c", To: []string{"a"}}}
				return r
			}(),
		},
		{
			name: "numbers as strings and from the environment",
			yaml: "router_settings:\n  num_retries: \"2\"\n  timeout: os.environ/TIMEOUT\n  retry_after: 2.0\n  allowed_fails: 5.0\n",
			want: RouterSettings{NumRetries: 2, Timeout: 90 * time.Second, AllowedFails: 5, CooldownTime: 5 * time.Second, RetryAfter: 2 * time.Second},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, _, err := Parse([]byte(tc.yaml), "c.yaml", envMap(map[string]string{"TIMEOUT": "90"}))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(cfg.Router, tc.want) {
				t.Errorf("got %+v\nwant %+v", cfg.Router, tc.want)
			}
		})
	}
}

func TestEnvironment(t *testing.T) {
	env := envMap(map[string]string{"BASE": "http://base", "KEY": "sk-env"})
	t.Run("environment_variables layer over env and feed later references", func(t *testing.T) {
		yaml := `model_list:
  - model_name: m
    litellm_params:
      model: openai/m
      api_key: os.environ/KEY
      api_base: os.environ/MY_BASE
      nested: {a: [os.environ/MY_BASE, 1, true, null]}
environment_variables:
  KEY: sk-file
  MY_BASE: os.environ/BASE
  PORT: 8080
`
		cfg, warnings, err := Parse([]byte(yaml), "c.yaml", env)
		if err != nil {
			t.Fatal(err)
		}
		p := cfg.ModelList[0].Params
		if p.APIKey != "sk-file" || p.APIKeyEnv != "KEY" || p.APIBase != "http://base" {
			t.Errorf("params = %+v", p)
		}
		wantNested := map[string]any{"a": []any{"http://base", 1, true, nil}}
		if !reflect.DeepEqual(p.Extra["nested"], wantNested) {
			t.Errorf("nested = %#v", p.Extra["nested"])
		}
		if len(warnings) != 0 {
			t.Errorf("warnings: %v", warnings)
		}
		if _, set := os.LookupEnv("MY_BASE"); set {
			t.Error("Parse changed the process environment")
		}
	})
	t.Run("missing api_key variable is a warning", func(t *testing.T) {
		yaml := "model_list:\n  - model_name: m\n    litellm_params:\n      model: openai/m\n      api_key: os.environ/NOPE\n"
		cfg, warnings, err := Parse([]byte(yaml), "c.yaml", env)
		if err != nil {
			t.Fatal(err)
		}
		if p := cfg.ModelList[0].Params; p.APIKey != "" || p.APIKeyEnv != "NOPE" {
			t.Errorf("params = %+v", p)
		}
		want := []string{"c.yaml:5: model_list[0].litellm_params.api_key: environment variable NOPE is not set; calls that need it will fail until it is"}
		if got := warningStrings(warnings); !reflect.DeepEqual(got, want) {
			t.Errorf("warnings = %q, want %q", got, want)
		}
		if warnings[0].Key != "model_list[0].litellm_params.api_key" || warnings[0].Line != 5 || warnings[0].File != "c.yaml" {
			t.Errorf("warning fields = %+v", warnings[0])
		}
	})
	t.Run("explicit api_key wins over the credential's", func(t *testing.T) {
		yaml := `credential_list:
  - credential_name: c
    credential_values: {api_key: sk-cred, api_base: http://cred, organization: org-1}
model_list:
  - model_name: m
    litellm_params: {model: openai/m, api_key: sk-own, litellm_credential_name: c}
  - model_name: n
    litellm_params: {model: openai/n, litellm_credential_name: missing}
`
		cfg, warnings, err := Parse([]byte(yaml), "c.yaml", env)
		if err != nil {
			t.Fatal(err)
		}
		p := cfg.ModelList[0].Params
		if p.APIKey != "sk-own" || p.APIBase != "http://cred" || p.Extra["organization"] != "org-1" {
			t.Errorf("params = %+v", p)
		}
		want := []string{`c.yaml:7: model_list[1].litellm_params.litellm_credential_name: no credential named "missing" in credential_list (ignored)`}
		if got := warningStrings(warnings); !reflect.DeepEqual(got, want) {
			t.Errorf("warnings = %q, want %q", got, want)
		}
	})
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		name, yaml, want string
	}{
		// Shape of the file.
		{"top-level list", "- a\n- b\n", "config.yaml:1: want a mapping of sections (model_list, router_settings, ...) at the top level, got a list"},
		{"top-level scalar", "hello\n", `config.yaml:1: want a mapping of sections (model_list, router_settings, ...) at the top level, got "hello"`},
		{"two documents", "model_list: []\n---\nmodel_list: []\n", "config.yaml:2: a second YAML document (after ---); the config must be one document"},
		{"syntax error", "model_list:\n  - model_name: a\n   litellm_params: {}\n", "config.yaml:3: invalid YAML: did not find expected '-' indicator"},
		{"bad indentation", "router_settings:\n  num_retries: 3\n timeout: 5\n", "config.yaml:3: invalid YAML: did not find expected key"},
		{"unclosed quote", "general_settings:\n  master_key: \"sk-1\n", "config.yaml:2: invalid YAML: found unexpected end of stream"},
		{"tab indentation", "router_settings:\n\tnum_retries: 3\n", "config.yaml:2: invalid YAML: found character that cannot start any token"},
		{"unknown anchor", "model_list: *nope\n", "config.yaml:1: invalid YAML: unknown anchor 'nope' referenced"},
		{"complex key", "? [a, b]\n: c\n", "config.yaml:1: keys must be plain strings, got a list"},
		{"section of wrong kind", "router_settings: [1, 2]\n", "config.yaml:1: router_settings: want a mapping, got a list"},
		{"environment_variables not a mapping", "environment_variables: FOO=bar\n", `config.yaml:1: environment_variables: want a mapping, got "FOO=bar"`},
		{"environment_variables value a list", "environment_variables:\n  A: [1]\n", "config.yaml:2: environment_variables.A: want a string, got a list"},

		// model_list.
		{"model_list not a list", "model_list:\n  model_name: a\n", "config.yaml:2: model_list: want a list of deployments, got a mapping"},
		{"entry not a mapping", "model_list:\n  - gpt-4o\n", `config.yaml:2: model_list[0]: want a mapping with model_name and litellm_params, got "gpt-4o"`},
		{"model_name missing", "model_list:\n  - litellm_params: {model: openai/a}\n", "config.yaml:2: model_list[0].model_name: required"},
		{"model_name empty", "model_list:\n  - model_name: \"\"\n    litellm_params: {model: openai/a}\n", "config.yaml:2: model_list[0].model_name: required"},
		{"model_name null", "model_list:\n  - model_name:\n    litellm_params: {model: openai/a}\n", "config.yaml:2: model_list[0].model_name: required"},
		{"model_name a mapping", "model_list:\n  - model_name: {a: b}\n    litellm_params: {model: openai/a}\n", "config.yaml:2: model_list[0].model_name: want a string, got a mapping"},
		{"litellm_params missing", "model_list:\n  - model_name: a\n    model_info: {}\n", "config.yaml:2: model_list[0].litellm_params: required"},
		{"litellm_params null", "model_list:\n  - model_name: a\n    litellm_params:\n", "config.yaml:3: model_list[0].litellm_params: want a mapping with at least model, got nothing"},
		{"litellm_params.model missing", "model_list:\n  - model_name: a\n    litellm_params: {model: openai/a}\n  - model_name: b\n    litellm_params:\n      api_base: http://x\n", "config.yaml:5: model_list[1].litellm_params.model: required"},
		{"litellm_params.model a list", "model_list:\n  - model_name: a\n    litellm_params:\n      model: [a]\n", "config.yaml:4: model_list[0].litellm_params.model: want a string, got a list"},
		{"timeout not a number", "model_list:\n  - model_name: a\n    litellm_params:\n      model: openai/a\n      timeout: soon\n", `config.yaml:5: model_list[0].litellm_params.timeout: want a number, got "soon"`},
		{"timeout negative", "model_list:\n  - model_name: a\n    litellm_params:\n      model: openai/a\n      timeout: -1\n", `config.yaml:5: model_list[0].litellm_params.timeout: must not be negative, got "-1"`},
		{"timeout infinite", "model_list:\n  - model_name: a\n    litellm_params:\n      model: openai/a\n      timeout: .inf\n", `config.yaml:5: model_list[0].litellm_params.timeout: want a finite number, got ".inf"`},
		{"timeout too long", "model_list:\n  - model_name: a\n    litellm_params:\n      model: openai/a\n      timeout: 1e300\n", "config.yaml:5: model_list[0].litellm_params.timeout: 1e+300 seconds is too long"},
		{"extra_headers a list", "model_list:\n  - model_name: a\n    litellm_params:\n      model: openai/a\n      extra_headers: [a]\n", "config.yaml:5: model_list[0].litellm_params.extra_headers: want a mapping, got a list"},
		{"extra_headers value null", "model_list:\n  - model_name: a\n    litellm_params:\n      model: openai/a\n      extra_headers:\n        X-A:\n", "config.yaml:6: model_list[0].litellm_params.extra_headers.X-A: want a header value, got nothing"},
		{"model_info not a mapping", "model_list:\n  - model_name: a\n    litellm_params: {model: openai/a}\n    model_info: 3\n", `config.yaml:4: model_list[0].model_info: want a mapping, got "3"`},
		{"cost not a number", "model_list:\n  - model_name: a\n    litellm_params: {model: openai/a}\n    model_info:\n      input_cost_per_token: cheap\n", `config.yaml:5: model_list[0].model_info.input_cost_per_token: want a number, got "cheap"`},
		{"cost in litellm_params not a number", "model_list:\n  - model_name: a\n    litellm_params: {model: openai/a, output_cost_per_token: [1]}\n", "config.yaml:3: model_list[0].litellm_params.output_cost_per_token: want a number, got a list"},
		{"max tokens fractional", "model_list:\n  - model_name: a\n    litellm_params: {model: openai/a}\n    model_info: {max_input_tokens: 1.5}\n", `config.yaml:4: model_list[0].model_info.max_input_tokens: want an integer, got "1.5"`},
		{"max tokens negative", "model_list:\n  - model_name: a\n    litellm_params: {model: openai/a}\n    model_info: {max_output_tokens: -5}\n", "config.yaml:4: model_list[0].model_info.max_output_tokens: must not be negative, got -5"},
		{"missing variable", "model_list:\n  - model_name: a\n    litellm_params:\n      model: openai/a\n      api_base: os.environ/AZURE_API_BASE\n", "config.yaml:5: model_list[0].litellm_params.api_base: environment variable AZURE_API_BASE is not set (referenced as os.environ/AZURE_API_BASE)"},
		{"missing variable in nested extra", "model_list:\n  - model_name: a\n    litellm_params:\n      model: openai/a\n      metadata: {tags: [os.environ/TAG]}\n", "config.yaml:5: model_list[0].litellm_params.metadata.tags[0]: environment variable TAG is not set (referenced as os.environ/TAG)"},
		{"api_base without a scheme", "model_list:\n  - model_name: a\n    litellm_params:\n      model: ollama/llama3\n      api_base: localhost:11434/v1\n", `config.yaml:5: model_list[0].litellm_params.api_base: "localhost:11434/v1" needs a scheme: write http://localhost:11434/v1 (or https://)`},
		{"api_base an address without a scheme", "model_list:\n  - model_name: a\n    litellm_params: {model: openai/a, api_base: \"127.0.0.1:8000\"}\n", `config.yaml:3: model_list[0].litellm_params.api_base: "127.0.0.1:8000" needs a scheme: write http://127.0.0.1:8000 (or https://)`},
		{"api_base without a scheme, with a password", "model_list:\n  - model_name: a\n    litellm_params: {model: openai/a, api_base: \"u:SECRET@host/v1\"}\n", "config.yaml:3: model_list[0].litellm_params.api_base: needs a scheme: write it as http://... or https://..."},
		{"api_base another scheme", "model_list:\n  - model_name: a\n    litellm_params: {model: openai/a, api_base: \"ftp://host/v1\"}\n", "config.yaml:3: model_list[0].litellm_params.api_base: is not an http:// or https:// URL with a host name"},
		{"api_base without a host", "model_list:\n  - model_name: a\n    litellm_params: {model: openai/a, api_base: \"http:///v1\"}\n", "config.yaml:3: model_list[0].litellm_params.api_base: is not an http:// or https:// URL with a host name"},
		{"credential api_base without a scheme", "credential_list:\n  - credential_name: c\n    credential_values: {api_base: \"localhost:8000\"}\n", `config.yaml:3: credential_list[0].credential_values.api_base: "localhost:8000" needs a scheme: write http://localhost:8000 (or https://)`},
		{"empty variable name", "model_list:\n  - model_name: a\n    litellm_params: {model: openai/a, api_key: os.environ/}\n", `config.yaml:3: model_list[0].litellm_params.api_key: "os.environ/" is not a valid environment reference (want os.environ/NAME)`},

		// router_settings and litellm_settings.
		{"num_retries a word", "router_settings:\n  timeout: 30\n  num_retries: three\n", `config.yaml:3: router_settings.num_retries: want an integer, got "three"`},
		{"num_retries a mapping", "router_settings:\n  num_retries: {a: 1}\n", "config.yaml:2: router_settings.num_retries: want an integer, got a mapping"},
		{"num_retries a bool", "router_settings:\n  num_retries: true\n", `config.yaml:2: router_settings.num_retries: want an integer, got "true"`},
		{"num_retries negative", "router_settings:\n  num_retries: -1\n", "config.yaml:2: router_settings.num_retries: must not be negative, got -1"},
		{"num_retries overflows", "router_settings:\n  num_retries: 99999999999999999999\n", `config.yaml:2: router_settings.num_retries: want an integer, got "99999999999999999999"`},
		{"num_retries from an unset variable", "router_settings:\n  num_retries: os.environ/RETRIES\n", "config.yaml:2: router_settings.num_retries: environment variable RETRIES is not set (referenced as os.environ/RETRIES)"},
		{"cooldown_time a word", "router_settings:\n  cooldown_time: long\n", `config.yaml:2: router_settings.cooldown_time: want a number, got "long"`},
		{"request_timeout a word", "litellm_settings:\n  request_timeout: forever\n", `config.yaml:2: litellm_settings.request_timeout: want a number, got "forever"`},
		{"fallbacks a string", "router_settings:\n  fallbacks: gpt-4o\n", `config.yaml:2: router_settings.fallbacks: want a list like [{"gpt-4o": ["claude-sonnet"]}], got "gpt-4o"`},
		{"fallbacks item a string", "router_settings:\n  fallbacks:\n    - gpt-4o\n", `config.yaml:3: router_settings.fallbacks[0]: want a mapping like {"gpt-4o": ["claude-sonnet"]}, got "gpt-4o"`},
		{"fallbacks targets a mapping", "router_settings:\n  fallbacks:\n    - gpt-4o: {a: b}\n", "config.yaml:3: router_settings.fallbacks[0].gpt-4o: want a list of model names, got a mapping"},
		{"fallbacks target empty", "router_settings:\n  fallbacks:\n    - gpt-4o: [a, \"\"]\n", "config.yaml:3: router_settings.fallbacks[0].gpt-4o[1]: empty model name"},
		{"fallbacks target a list", "router_settings:\n  fallbacks:\n    - gpt-4o: [[a]]\n", "config.yaml:3: router_settings.fallbacks[0].gpt-4o[0]: want a string, got a list"},

		// general_settings and credential_list.
		{"master_key from an unset variable", "general_settings:\n  master_key: os.environ/LITELLM_MASTER_KEY\n", "config.yaml:2: general_settings.master_key: environment variable LITELLM_MASTER_KEY is not set (referenced as os.environ/LITELLM_MASTER_KEY)"},
		{"max_request_size_mb a word", "general_settings:\n  max_request_size_mb: big\n", `config.yaml:2: general_settings.max_request_size_mb: want a number, got "big"`},
		{"responses_store_ttl a word", "general_settings:\n  responses_store_ttl: long\n", `config.yaml:2: general_settings.responses_store_ttl: want a number, got "long"`},
		{"cors origin with a path", "general_settings:\n  cors_allow_origins: [\"https://a.example/path\"]\n", `config.yaml:2: general_settings.cors_allow_origins[0]: "https://a.example/path" is not a web origin: want scheme://host[:port] (e.g. https://app.example.com) or "*"`},
		{"cors origin without a scheme", "general_settings:\n  cors_allow_origins:\n    - a.example\n", `config.yaml:3: general_settings.cors_allow_origins[0]: "a.example" is not a web origin: want scheme://host[:port] (e.g. https://app.example.com) or "*"`},
		{"cors origins a mapping", "general_settings:\n  cors_allow_origins: {a: b}\n", "config.yaml:2: general_settings.cors_allow_origins: want a list of origins such as https://app.example.com, got a mapping"},
		{"credential_list not a list", "credential_list: {a: b}\n", "config.yaml:1: credential_list: want a list of credentials, got a mapping"},
		{"credential without name", "credential_list:\n  - credential_values: {api_key: x}\n", "config.yaml:2: credential_list[0].credential_name: required"},
		{"credential values a list", "credential_list:\n  - credential_name: c\n    credential_values: [a]\n", "config.yaml:3: credential_list[0].credential_values: want a mapping, got a list"},

		// Anchors and merges.
		{"merge of a scalar", "model_list:\n  - model_name: a\n    litellm_params:\n      <<: x\n      model: openai/a\n", `config.yaml:4: model_list[0].litellm_params: << must merge a mapping or a list of mappings, got "x"`},
		{"anchor containing itself", "model_list: &a\n  - model_name: a\n    litellm_params: *a\n", `config.yaml:3: model_list[0].litellm_params: anchor "a" contains an alias to itself`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, _, err := Parse([]byte(tc.yaml), "config.yaml", nil)
			if err == nil {
				t.Fatalf("no error; config %+v", cfg)
			}
			if cfg != nil {
				t.Errorf("config returned with an error")
			}
			if err.Error() != tc.want {
				t.Errorf("error\n got %s\nwant %s", err, tc.want)
			}
			var ce *Error
			if !errors.As(err, &ce) || ce.File != "config.yaml" || ce.Line == 0 {
				t.Errorf("error is not a positioned *Error: %#v", err)
			}
		})
	}
}

func TestWarnings(t *testing.T) {
	for _, tc := range []struct {
		name, yaml string
		want       []string
	}{
		{"unknown top-level key", "model_lsit: []\n", []string{"c.yaml:1: unknown key model_lsit (ignored)"}},
		{"unsupported top-level section", "include: [more.yaml]\n", []string{"c.yaml:1: include is not supported by Clawgate yet (ignored)"}},
		{"unknown router key", "router_settings:\n  num_retries: 1\n  foo: 2\n", []string{"c.yaml:3: unknown key router_settings.foo (ignored)"}},
		{"unsupported router keys", "router_settings:\n  routing_strategy: least-busy\n  redis_host: localhost\n  enable_pre_call_checks: true\n  model_group_alias: {gpt-4: gpt-4o}\n", []string{
			"c.yaml:2: router_settings.routing_strategy is not supported by Clawgate yet (ignored)",
			"c.yaml:3: router_settings.redis_host is not supported by Clawgate yet (ignored)",
			"c.yaml:4: router_settings.enable_pre_call_checks is not supported by Clawgate yet (ignored)",
			"c.yaml:5: router_settings.model_group_alias is not supported by Clawgate yet (ignored)",
		}},
		{"unknown general key", "general_settings:\n  master_key: sk-1\n  colour: blue\n", []string{"c.yaml:3: unknown key general_settings.colour (ignored)"}},
		{"litellm_settings: only notable unsupported keys", "litellm_settings:\n  drop_params: true\n  callbacks: [langfuse]\n  made_up: 1\n", []string{"c.yaml:3: litellm_settings.callbacks is not supported by Clawgate yet (ignored)"}},
		{"unknown deployment key", "model_list:\n  - model_name: a\n    litellm_params: {model: openai/a}\n    modle_info: {}\n", []string{"c.yaml:4: unknown key model_list[0].modle_info (ignored)"}},
		{"unknown credential key", "credential_list:\n  - credential_name: c\n    extra: 1\n", []string{"c.yaml:3: unknown key credential_list[0].extra (ignored)"}},
		{"duplicate key", "router_settings:\n  num_retries: 1\n  num_retries: 2\n", []string{"c.yaml:3: duplicate key router_settings.num_retries (first at line 2); the later value wins"}},
		{"duplicate section", "model_list: []\nmodel_list: []\n", []string{"c.yaml:2: duplicate key model_list (first at line 1); the later value wins"}},
		{"duplicate key read twice is reported once", "litellm_settings:\n  num_retries: 1\n  num_retries: 2\n", []string{"c.yaml:3: duplicate key litellm_settings.num_retries (first at line 2); the later value wins"}},
		{"merged keys do not count as duplicates", "router_settings:\n  <<: {num_retries: 1, timeout: 5}\n  num_retries: 2\n", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, warnings, err := Parse([]byte(tc.yaml), "c.yaml", nil)
			if err != nil {
				t.Fatal(err)
			}
			if got := warningStrings(warnings); !reflect.DeepEqual(got, tc.want) && (len(got) != 0 || len(tc.want) != 0) {
				t.Errorf("warnings\n got %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestDuplicateKeyLaterWins(t *testing.T) {
	cfg, _, err := Parse([]byte("router_settings:\n  num_retries: 1\n  num_retries: 2\n"), "c.yaml", nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Router.NumRetries != 2 {
		t.Errorf("num_retries = %d, want 2", cfg.Router.NumRetries)
	}
}

func TestMerge(t *testing.T) {
	yaml := `defaults: &d
  model: openai/x
  timeout: 10
  rpm: 5
more: &m
  rpm: 7
  weight: 3
model_list:
  - model_name: a
    litellm_params:
      <<: [*d, *m]
      timeout: 20
`
	cfg, _, err := Parse([]byte(yaml), "c.yaml", nil)
	if err != nil {
		t.Fatal(err)
	}
	p := cfg.ModelList[0].Params
	// Written keys win over merged ones; the first merge source wins over the second.
	want := Params{Model: "openai/x", Timeout: 20 * time.Second, Extra: map[string]any{"rpm": 5, "weight": 3}}
	if !reflect.DeepEqual(p, want) {
		t.Errorf("got %+v, want %+v", p, want)
	}
}

func TestScalarsKeptAsWritten(t *testing.T) {
	yaml := `model_list:
  - model_name: 4
    litellm_params:
      model: azure/x
      api_version: 2024-10-21
      seed: 7
      temperature: 0.2
      stream: false
      id_as_string: "007"
    model_info:
      id: 12
`
	cfg, _, err := Parse([]byte(yaml), "c.yaml", nil)
	if err != nil {
		t.Fatal(err)
	}
	d := cfg.ModelList[0]
	if d.ModelName != "4" || d.Info.ID != "12" {
		t.Errorf("model_name %q, id %q", d.ModelName, d.Info.ID)
	}
	want := map[string]any{"api_version": "2024-10-21", "seed": 7, "temperature": 0.2, "stream": false, "id_as_string": "007"}
	if !reflect.DeepEqual(d.Params.Extra, want) {
		t.Errorf("extra = %#v", d.Params.Extra)
	}
}

// billionLaughs builds the classic alias bomb: each level is a list of ten aliases to the level
// below, so the last anchor stands for 10^levels strings.
func billionLaughs(levels int) string {
	var b strings.Builder
	b.WriteString("a0: &a0 [lol]\n")
	for i := 1; i <= levels; i++ {
		fmt.Fprintf(&b, "a%d: &a%d [", i, i)
		for j := 0; j < 10; j++ {
			if j > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "*a%d", i-1)
		}
		b.WriteString("]\n")
	}
	return b.String()
}

// utf16le encodes ASCII text as UTF-16LE with a byte order mark.
func utf16le(s string) string {
	b := []byte{0xff, 0xfe}
	for i := 0; i < len(s); i++ {
		b = append(b, s[i], 0)
	}
	return string(b)
}

func TestHostile(t *testing.T) {
	bomb := billionLaughs(9)
	for _, tc := range []struct {
		name string
		data string
		// want is a substring of the error; "" means the input must parse.
		want string
	}{
		{"alias bomb in litellm_settings", "litellm_settings:\n  " + strings.ReplaceAll(bomb, "\n", "\n  ") + "boom: *a9\n", "aliases expand to more than 100000 values"},
		{"alias bomb in litellm_params", bomb + "model_list:\n  - model_name: m\n    litellm_params: {model: openai/m, boom: *a9}\n", "config.yaml:13: model_list[0].litellm_params.boom: aliases expand"},
		{"alias bomb as fallbacks", bomb + "router_settings:\n  fallbacks: [{a: *a9}]\n", "aliases expand"},
		{"alias bomb through merge keys", bomb + "litellm_settings:\n  <<: {x: *a9}\n", "aliases expand"},
		{"alias bomb in an ignored key", bomb, ""},
		{"self-referencing anchor", "litellm_settings: &a\n  loop: *a\n", `anchor "a" contains an alias to itself`},
		{"self-merging anchor", "router_settings: &a\n  <<: *a\n", `anchor "a" contains an alias to itself`},
		{"deep nesting", "litellm_settings:\n  x: " + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + "\n", "exceeded max depth"},
		{"deep nesting within the limit", "litellm_settings:\n  x: " + strings.Repeat("[", 9000) + strings.Repeat("]", 9000) + "\n", ""},
		{"binary junk", "\x00\x01\x02\xff\xfe\xfd model_list", "invalid YAML"},
		{"invalid UTF-8 in a value", "general_settings:\n  master_key: \"sk-\xc3\x28\"\n", "invalid YAML"},
		{"UTF-16 with BOM", utf16le("model_list: []\n"), ""},
		{"UTF-16 with BOM, broken", utf16le("model_list: [\n") + "\x00", "invalid YAML"},
		{"NUL in the middle", "model_list: []\n\x00\n", "invalid YAML"},
		{"many duplicate keys", strings.Repeat("model_list: []\n", 5000), ""},
		{"huge flat list", "litellm_settings:\n  x: [" + strings.Repeat("1,", 200000) + "1]\n", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			type result struct {
				cfg *Config
				err error
			}
			done := make(chan result, 1)
			go func() {
				cfg, _, err := Parse([]byte(tc.data), "config.yaml", nil)
				done <- result{cfg, err}
			}()
			var r result
			select {
			case r = <-done:
			case <-time.After(30 * time.Second): // a hang guard, not a speed assertion
				t.Fatal("Parse did not return")
			}
			switch {
			case tc.want == "" && r.err != nil:
				t.Fatalf("unexpected error: %v", r.err)
			case tc.want == "" && r.cfg == nil:
				t.Fatal("no config and no error")
			case tc.want != "" && r.err == nil:
				t.Fatal("no error")
			case tc.want != "" && !strings.Contains(r.err.Error(), tc.want):
				t.Fatalf("error %q does not contain %q", r.err, tc.want)
			}
		})
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}

	t.Run("reads, sets Path and uses the process environment", func(t *testing.T) {
		t.Setenv("CLAWGATE_TEST_KEY", "sk-from-env")
		p := write("ok.yaml", []byte("model_list:\n  - model_name: m\n    litellm_params: {model: openai/m, api_key: os.environ/CLAWGATE_TEST_KEY}\nfoo: 1\n"))
		cfg, warnings, err := Load(p)
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Path != p || cfg.ModelList[0].Params.APIKey != "sk-from-env" {
			t.Errorf("cfg = %+v", cfg)
		}
		want := []string{p + ":4: unknown key foo (ignored)"}
		if got := warningStrings(warnings); !reflect.DeepEqual(got, want) {
			t.Errorf("warnings = %q, want %q", got, want)
		}
	})
	t.Run("missing file matches fs.ErrNotExist", func(t *testing.T) {
		_, _, err := Load(filepath.Join(dir, "nope.yaml"))
		if !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("errors name the path", func(t *testing.T) {
		p := write("bad.yaml", []byte("router_settings:\n  num_retries: x\n"))
		_, _, err := Load(p)
		if want := p + `:2: router_settings.num_retries: want an integer, got "x"`; err == nil || err.Error() != want {
			t.Errorf("err = %v, want %s", err, want)
		}
	})
	t.Run("over 8 MiB is refused", func(t *testing.T) {
		big := append([]byte("# "), make([]byte, MaxFileSize)...)
		for i := range big[2:] {
			big[2+i] = 'x'
		}
		p := write("big.yaml", big)
		_, _, err := Load(p)
		if want := p + ": file is larger than 8 MiB; is this the right file?"; err == nil || err.Error() != want {
			t.Errorf("err = %v, want %s", err, want)
		}
	})
	t.Run("exactly 8 MiB is read", func(t *testing.T) {
		data := make([]byte, MaxFileSize)
		copy(data, "# ")
		for i := 2; i < len(data); i++ {
			data[i] = 'x'
		}
		if _, _, err := Load(write("edge.yaml", data)); err != nil {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("a directory is an error, not a crash", func(t *testing.T) {
		if _, _, err := Load(dir); err == nil {
			t.Error("no error")
		}
	})
}

// uncomment turns the example's commented-out blocks on, so the test also checks that what the
// user is invited to uncomment is valid.
func uncomment(t *testing.T, s string) string {
	t.Helper()
	for _, block := range []string{
		"  # - model_name: claude-sonnet\n  #   litellm_params:\n  #     model: anthropic/claude-sonnet-4-5\n  #     api_key: os.environ/ANTHROPIC_API_KEY\n",
		"  # - model_name: gemini-flash\n  #   litellm_params:\n  #     model: gemini/gemini-2.5-flash\n  #     api_key: os.environ/GEMINI_API_KEY\n",
		"  # - model_name: gpt-4o-azure\n  #   litellm_params:\n  #     model: azure/YOUR-DEPLOYMENT\n" +
			"  #     api_base: https://YOUR-RESOURCE.openai.azure.com\n  #     api_key: os.environ/AZURE_API_KEY\n" +
			"  #   model_info:\n  #     base_model: azure/gpt-4o\n",
		"  # - model_name: claude-vertex\n  #   litellm_params:\n  #     model: vertex_ai/claude-sonnet-4-5@20250929\n" +
			"  #     vertex_project: YOUR-PROJECT\n  #     vertex_location: us-east5\n",
		"  # - model_name: llama3.2\n  #   litellm_params:\n  #     model: openai/llama3.2\n  #     api_base: http://localhost:11434/v1\n",
		"  # fallbacks:\n  #   - gpt-4o-mini: [\"claude-sonnet\"]\n",
		"  # master_key: os.environ/CLAWGATE_MASTER_KEY\n",
	} {
		if !strings.Contains(s, block) {
			t.Fatalf("example lacks the block:\n%s", block)
		}
		s = strings.Replace(s, block, strings.ReplaceAll(block, "# ", ""), 1)
	}
	return s
}

func TestExampleYAML(t *testing.T) {
	t.Run("as written, with the key set", func(t *testing.T) {
		cfg, warnings, err := Parse(ExampleYAML(), "config.yaml", envMap(map[string]string{"OPENAI_API_KEY": "sk-x"}))
		if err != nil {
			t.Fatal(err)
		}
		if len(warnings) != 0 {
			t.Errorf("warnings: %v", warnings)
		}
		want := []Deployment{{ModelName: "gpt-4o-mini", Line: 10,
			Params: Params{Model: "openai/gpt-4o-mini", APIKey: "sk-x", APIKeyEnv: "OPENAI_API_KEY"}}}
		if !reflect.DeepEqual(cfg.ModelList, want) {
			t.Errorf("model_list = %+v", cfg.ModelList)
		}
		if !reflect.DeepEqual(cfg.Router, Default()) {
			t.Errorf("router = %+v, want the defaults %+v", cfg.Router, Default())
		}
	})
	t.Run("as written, without the key: starts with one warning", func(t *testing.T) {
		_, warnings, err := Parse(ExampleYAML(), "config.yaml", nil)
		if err != nil {
			t.Fatal(err)
		}
		want := []string{"config.yaml:13: model_list[0].litellm_params.api_key: environment variable OPENAI_API_KEY is not set; calls that need it will fail until it is"}
		if got := warningStrings(warnings); !reflect.DeepEqual(got, want) {
			t.Errorf("warnings = %q, want %q", got, want)
		}
	})
	t.Run("with every example uncommented", func(t *testing.T) {
		data := uncomment(t, string(ExampleYAML()))
		env := envMap(map[string]string{"OPENAI_API_KEY": "sk-o", "ANTHROPIC_API_KEY": "sk-a", "GEMINI_API_KEY": "g", "AZURE_API_KEY": "az",
			"CLAWGATE_MASTER_KEY": "sk-m"})
		cfg, warnings, err := Parse([]byte(data), "config.yaml", env)
		if err != nil {
			t.Fatalf("%v\n%s", err, data)
		}
		if len(warnings) != 0 {
			t.Errorf("warnings: %v", warnings)
		}
		var names []string
		for _, d := range cfg.ModelList {
			names = append(names, d.ModelName+"="+d.Params.Model+"@"+d.Params.APIBase)
		}
		wantNames := []string{"gpt-4o-mini=openai/gpt-4o-mini@", "claude-sonnet=anthropic/claude-sonnet-4-5@",
			"gemini-flash=gemini/gemini-2.5-flash@", "gpt-4o-azure=azure/YOUR-DEPLOYMENT@https://YOUR-RESOURCE.openai.azure.com",
			"claude-vertex=vertex_ai/claude-sonnet-4-5@20250929@", "llama3.2=openai/llama3.2@http://localhost:11434/v1"}
		if !reflect.DeepEqual(names, wantNames) {
			t.Errorf("models = %q", names)
		}
		if want := []Fallback{{Group: "gpt-4o-mini", To: []string{"claude-sonnet"}}}; !reflect.DeepEqual(cfg.Router.Fallbacks, want) {
			t.Errorf("fallbacks = %+v", cfg.Router.Fallbacks)
		}
		if cfg.General.MasterKey != "sk-m" {
			t.Errorf("master_key = %q", cfg.General.MasterKey)
		}
	})
	t.Run("returns a copy", func(t *testing.T) {
		a := ExampleYAML()
		a[0] = '!'
		if ExampleYAML()[0] == '!' {
			t.Error("ExampleYAML shares its buffer")
		}
	})
}

func TestErrorAndWarningFormat(t *testing.T) {
	for _, tc := range []struct {
		got, want string
	}{
		{(&Error{File: "c.yaml", Line: 3, Key: "a.b", Message: "required"}).Error(), "c.yaml:3: a.b: required"},
		{(&Error{File: "c.yaml", Message: "too big"}).Error(), "c.yaml: too big"},
		{(&Error{Line: 2, Key: "k", Message: "m"}).Error(), "line 2: k: m"},
		{Warning{File: "c.yaml", Line: 12, Key: "router_settings.foo", Message: "unknown key router_settings.foo (ignored)"}.String(), "c.yaml:12: unknown key router_settings.foo (ignored)"},
		{Warning{Message: "m"}.String(), "m"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}
