package openclaw

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/clawgate/clawgate/proxy/pricing"
)

func TestPointsAt(t *testing.T) {
	gw := "http://127.0.0.1:4000/v1"
	for base, want := range map[string]bool{
		"http://127.0.0.1:4000/v1":  true,
		"http://127.0.0.1:4000/v1/": true,
		"http://127.0.0.1:4000":     true,
		"http://localhost:4000":     true,
		"http://LOCALHOST:4000/":    true,
		"http://127.0.0.1:4001/v1":  false,
		"https://127.0.0.1:4000/v1": false,
		"http://127.0.0.1:4000/v2":  false,
		"http://10.0.0.2:4000/v1":   false,
		"http://127.0.0.1/v1":       false,
		"":                          false,
		"::":                        false,
	} {
		if got := pointsAt(base, gw); got != want {
			t.Errorf("pointsAt(%q) = %v, want %v", base, got, want)
		}
	}
}

func TestInspect(t *testing.T) {
	d := mustParse(t, `{
  auth: { profiles: { "litellm:default": { provider: "litellm", mode: "api_key" } } },
  models: { mode: "merge", providers: { litellm: {
    baseUrl: "http://localhost:4000", apiKey: "${LITELLM_API_KEY}", api: "openai-completions",
    request: { auth: { mode: "authorization-bearer", token: "${X}" } },
    models: [{ id: "a", name: "A" }, { id: "b", name: "B" }, { name: "no id" }],
  } } },
  agents: {
    defaults: { model: { primary: "litellm/a", fallbacks: ["litellm/b", "openai/gpt-4o"] }, modelPolicy: { allow: ["litellm/*"] } },
    entries: { main: { workspace: "~" }, coder: { model: "anthropic/claude-opus-4-6" } },
  },
}`)
	got := Inspect(d, "http://127.0.0.1:4000/v1")
	want := Status{
		Provider: true, BaseURL: "http://localhost:4000", PointsHere: true, APIKey: KeyEnv, APIKeyEnv: "LITELLM_API_KEY",
		API: "openai-completions", Models: []string{"a", "b"}, Mode: "merge",
		Primary: "litellm/a", Fallbacks: []string{"litellm/b", "openai/gpt-4o"}, PrimaryLiteLLM: true, PrimaryModel: "a",
		Allow: []string{"litellm/*"}, RequestAuth: true, RequestAuthMode: "authorization-bearer", AuthProfile: true,
		AgentModels: map[string]string{"coder": "anthropic/claude-opus-4-6"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Inspect =\n%+v\nwant\n%+v", got, want)
	}
	for src, want := range map[string]KeyForm{
		`{models:{providers:{litellm:{}}}}`:                                                KeyMissing,
		`{models:{providers:{litellm:{apiKey:"sk-123"}}}}`:                                 KeyLiteral,
		`{models:{providers:{litellm:{apiKey:{source:"env",provider:"default",id:"K"}}}}}`: KeySecretRef,
		`{models:{providers:{litellm:{apiKey:42}}}}`:                                       KeyOther,
	} {
		if got := Inspect(mustParse(t, src), "").APIKey; got != want {
			t.Errorf("%s: %v, want %v", src, got, want)
		}
	}
	if s := Inspect(mustParse(t, `{agents:{defaults:{model:"openai/gpt-4o"}}}`), ""); s.Provider || s.Primary != "openai/gpt-4o" || s.PrimaryLiteLLM {
		t.Errorf("string model: %+v", s)
	}
}

func TestConnectKeys(t *testing.T) {
	const withKey = `{
  models: { providers: { litellm: {
    baseUrl: "http://127.0.0.1:4000/v1", apiKey: "${MY_KEY}", api: "openai-completions", models: [],
    request: { auth: { mode: "header", headerName: "X-Key", value: "abc" } },
  } } },
}`
	t.Run("KeepKey keeps an accepted key", func(t *testing.T) {
		d := mustParse(t, withKey)
		lines, err := Connect(d, ConnectOptions{BaseURL: "http://127.0.0.1:4000/v1", KeepKey: func(k string) bool { return k == "${MY_KEY}" }})
		if err != nil || len(lines) != 1 || !strings.Contains(lines[0], "models.mode") {
			t.Fatalf("lines %q, %v", lines, err)
		}
		if v, _ := d.Get([]string{"models", "providers", "litellm", "apiKey"}); v != "${MY_KEY}" {
			t.Errorf("apiKey = %v", v)
		}
	})
	t.Run("BearerAuth replaces another auth mode", func(t *testing.T) {
		d := mustParse(t, withKey)
		if _, err := Connect(d, ConnectOptions{BaseURL: "http://127.0.0.1:4000/v1", BearerAuth: true}); err != nil {
			t.Fatal(err)
		}
		auth, _ := d.Get([]string{"models", "providers", "litellm", "request", "auth"})
		if !equal(auth, map[string]any{"mode": "authorization-bearer", "token": "${LITELLM_API_KEY}"}) {
			t.Errorf("request.auth = %v", auth)
		}
		if v, _ := d.Get([]string{"models", "providers", "litellm", "apiKey"}); v != "${LITELLM_API_KEY}" {
			t.Errorf("apiKey = %v", v)
		}
	})
	t.Run("literal keys are not printed", func(t *testing.T) {
		d := mustParse(t, `{models:{providers:{litellm:{baseUrl:"http://x:1",apiKey:"sk-secret-value"}}}}`)
		lines, err := Connect(d, ConnectOptions{BaseURL: "http://127.0.0.1:4000/v1", APIKeyRef: "sk-new-secret"})
		if err != nil {
			t.Fatal(err)
		}
		if all := strings.Join(lines, "\n"); strings.Contains(all, "secret") {
			t.Errorf("a key leaked into the change lines:\n%s", all)
		}
	})
	t.Run("bad base URL", func(t *testing.T) {
		if _, err := Connect(New(), ConnectOptions{BaseURL: "127.0.0.1:4000"}); err == nil {
			t.Error("no error")
		}
	})
	t.Run("a provider that is not an object is replaced", func(t *testing.T) {
		d := mustParse(t, `{models:{providers:{litellm:"oops"}}}`)
		if _, err := Connect(d, ConnectOptions{BaseURL: "http://127.0.0.1:4000/v1"}); err != nil {
			t.Fatal(err)
		}
		if s := Inspect(d, "http://127.0.0.1:4000/v1"); !s.Provider || !s.PointsHere {
			t.Errorf("%+v", s)
		}
	})
}

func TestSyncErrors(t *testing.T) {
	if _, err := Sync(New(), nil); !errors.Is(err, ErrNotConnected) {
		t.Errorf("no provider: %v", err)
	}
	if _, err := Sync(mustParse(t, `{models:{providers:{litellm:{models:{}}}}}`), nil); err == nil {
		t.Error("models not an array: no error")
	}
}

func TestSyncClampsWindows(t *testing.T) {
	d := mustParse(t, `{models:{providers:{litellm:{models:[]}}}}`)
	if _, err := Sync(d, []Model{{ID: "tiny", ContextWindow: 8192, MaxTokens: 64000}, {ID: "tiny"}, {ID: ""}}); err != nil {
		t.Fatal(err)
	}
	v, _ := d.Get(modelsPath)
	got := v.([]any)
	if len(got) != 1 {
		t.Fatalf("models = %v", got)
	}
	m := got[0].(map[string]any)
	if m["contextWindow"] != float64(MinContextWindow) || m["maxTokens"] != float64(MinContextWindow) {
		t.Errorf("entry = %v", m)
	}
}

func TestUseErrors(t *testing.T) {
	for _, m := range []string{"", "litellm/", "a b"} {
		if _, err := Use(New(), m); err == nil {
			t.Errorf("Use(%q): no error", m)
		}
	}
	if _, err := Use(mustParse(t, `{agents:{defaults:{model:42}}}`), "x"); err == nil {
		t.Error("model 42: no error")
	}
	if _, err := Use(mustParse(t, `{agents:{defaults:{modelPolicy:{allow:"x"}}}}`), "x"); err == nil {
		t.Error("allow not an array: no error")
	}
}

func TestPerMillion(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	for perToken, want := range map[float64]float64{3e-6: 3, 7.5e-8: 0.075, 1.25e-6: 1.25, 1.5e-5: 15, 3.5e-8: 0.035} {
		if got := perMillion(f(perToken), nil); got != want {
			t.Errorf("perMillion(%g) = %v, want %v", perToken, got, want)
		}
	}
	if got := perMillion(nil, f(2)); got != 2 {
		t.Errorf("fallback: %v", got)
	}
}

func TestModelsFor(t *testing.T) {
	ms := ModelsFor([]Route{
		{Name: "opus", Provider: "anthropic", Model: "claude-opus-4-6"},
		{Name: "gpt-4o-mini", Provider: "openai", Model: "gpt-4o-mini"},
		{Name: "gpt-5.5", Provider: "openai", Model: "gpt-5.5"},
		{Name: "mystery", Provider: "openai", Model: "mystery-model"},
		{Name: "openai/*", Provider: "openai", Model: "*"},
		{Name: "opus", Provider: "anthropic", Model: "claude-sonnet-4-5"},
	})
	if len(ms) != 4 {
		t.Fatalf("models = %+v", ms)
	}
	byID := map[string]Model{}
	for _, m := range ms {
		byID[m.ID] = m
	}
	opus := byID["opus"]
	cw, mo, ok := pricing.Info("anthropic", "claude-opus-4-6")
	p, _ := pricing.Lookup("anthropic", "claude-opus-4-6")
	if !ok || opus.ContextWindow != cw || opus.MaxTokens != mo {
		t.Errorf("opus limits %d/%d, table %d/%d", opus.ContextWindow, opus.MaxTokens, cw, mo)
	}
	if opus.Reasoning != (p.SupportsReasoning != nil && *p.SupportsReasoning) {
		t.Errorf("opus reasoning %v", opus.Reasoning)
	}
	if opus.Cost == nil || opus.Cost.Input != perMillion(p.InputCostPerToken, nil) || opus.Cost.Output != perMillion(p.OutputCostPerToken, nil) {
		t.Errorf("opus cost %+v", opus.Cost)
	}
	if opus.Cost == nil || opus.Cost.CacheWrite == nil || *opus.Cost.CacheWrite != perMillion(p.CacheCreationInputTokenCost, nil) {
		t.Errorf("opus cost %+v: Anthropic prices cache writes", opus.Cost)
	}
	if mini := byID["gpt-4o-mini"]; !reflect.DeepEqual(mini.Input, []string{"text", "image"}) || mini.Cost == nil || mini.Cost.CacheWrite != nil {
		t.Errorf("gpt-4o-mini: %+v %+v (OpenAI has no cache-write price: none is written)", mini, mini.Cost)
	}
	// A context window but no published max output: the table's window, the default output.
	if m := byID["gpt-5.5"]; m.ContextWindow != 1000000 || m.MaxTokens != 16384 {
		t.Errorf("gpt-5.5: %d/%d, want 1000000/16384", m.ContextWindow, m.MaxTokens)
	}
	// Unknown: the defaults.
	if m := byID["mystery"]; m.ContextWindow != 128000 || m.MaxTokens != 16384 {
		t.Errorf("mystery: %d/%d, want the defaults", m.ContextWindow, m.MaxTokens)
	}
	if m := byID["mystery"]; m.Cost != nil || m.Reasoning || !reflect.DeepEqual(m.Input, []string{"text"}) {
		t.Errorf("mystery: %+v", m)
	}
}

func TestSyncRoutesKeepsWildcardEntries(t *testing.T) {
	d := mustParse(t, `{models:{providers:{litellm:{models:[
  { id: "openai/gpt-4.1", name: "mine" },
  { id: "retired", name: "gone" },
  { id: "gpt-4o-mini", name: "mini" },
]}}}}`)
	lines, err := SyncRoutes(d, []Route{{Name: "openai/*", Provider: "openai", Model: "*"}, {Name: "gpt-4o-mini", Provider: "openai", Model: "gpt-4o-mini"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := Inspect(d, "").Models; !reflect.DeepEqual(got, []string{"openai/gpt-4.1", "gpt-4o-mini"}) {
		t.Errorf("models = %v (%q)", got, lines)
	}
}

func TestWildcardMatch(t *testing.T) {
	for _, tc := range []struct {
		p, s string
		want bool
	}{
		{"*", "anything/at/all", true}, {"openai/*", "openai/gpt-4o", true}, {"openai/*", "openai/org/x", true},
		{"openai/*", "anthropic/x", false}, {"a*b*c", "aXXbYYc", true}, {"a*b*c", "aXXcYYb", false}, {"x", "x", true},
		{"*-mini", "gpt-4o-mini", true}, {"*-mini", "gpt-4o", false},
	} {
		if got := wildcardMatch(tc.p, tc.s); got != tc.want {
			t.Errorf("wildcardMatch(%q, %q) = %v", tc.p, tc.s, got)
		}
	}
}

func TestConnectAPI(t *testing.T) {
	gw := "http://127.0.0.1:4000/v1"
	for _, tc := range []struct {
		name, config, api, want string
		err                     bool
	}{
		{name: "a new block", config: `{}`, want: "openai-completions"},
		{name: "a new block asking for messages", config: `{}`, api: "anthropic-messages", want: "anthropic-messages"},
		{name: "a later connect keeps messages", config: `{models: {providers: {litellm: {baseUrl: "` + gw + `", api: "anthropic-messages"}}}}`, want: "anthropic-messages"},
		{name: "and can set completions back", config: `{models: {providers: {litellm: {baseUrl: "` + gw + `", api: "anthropic-messages"}}}}`, api: "openai-completions", want: "openai-completions"},
		{name: "unset becomes completions", config: `{models: {providers: {litellm: {baseUrl: "` + gw + `"}}}}`, want: "openai-completions"},
		{name: "an api the gateway does not serve is reset", config: `{models: {providers: {litellm: {baseUrl: "` + gw + `", api: "google-generative-ai"}}}}`, want: "openai-completions"},
		{name: "asking for one it does not serve", config: `{}`, api: "ollama", err: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := mustParse(t, tc.config)
			_, err := Connect(d, ConnectOptions{BaseURL: gw, API: tc.api})
			if (err != nil) != tc.err {
				t.Fatalf("err = %v", err)
			}
			if tc.err {
				return
			}
			if got := Inspect(d, gw).API; got != tc.want {
				t.Errorf("api = %q, want %q", got, tc.want)
			}
			// A sync, as after every reload, leaves it alone.
			if _, err := SyncRoutes(d, []Route{{Name: "m", Provider: "openai", Model: "gpt-4o-mini"}}); err != nil {
				t.Fatal(err)
			}
			if got := Inspect(d, gw).API; got != tc.want {
				t.Errorf("after a sync api = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestModelNamesAndCacheWrite(t *testing.T) {
	routes := []Route{
		{Name: "fast", Provider: "openai", Model: "gpt-4o-mini"},
		{Name: "gpt-4o-mini", Provider: "openai", Model: "gpt-4o-mini"},
		{Name: "claude", Provider: "anthropic", Model: "claude-sonnet-4-5"},
		{Name: "mystery", Provider: "openai", Model: "mystery-model"},
	}
	names := map[string]string{}
	for _, m := range ModelsFor(routes) {
		names[m.ID] = m.Name
	}
	for id, want := range map[string]string{"fast": "fast (openai/gpt-4o-mini)", "gpt-4o-mini": "gpt-4o-mini", "mystery": "mystery"} {
		if names[id] != want {
			t.Errorf("name of %s = %q, want %q", id, names[id], want)
		}
	}
	if !strings.HasPrefix(names["claude"], "claude (") {
		t.Errorf("name of claude = %q", names["claude"])
	}
	// An entry an older sync wrote (bare id as name, cacheWrite equal to input on an OpenAI model)
	// is brought up to date; a name the user chose stays.
	d := mustParse(t, `{models: {providers: {litellm: {models: [
  { id: "fast", name: "fast", cost: { input: 0.15, output: 0.6, cacheRead: 0.075, cacheWrite: 0.15 } },
  { id: "claude", name: "My Claude" },
]}}}}`)
	if _, err := Sync(d, ModelsFor(routes[2:3])); err != nil {
		t.Fatal(err)
	}
	if _, err := Sync(d, ModelsFor(routes[:1])); err != nil {
		t.Fatal(err)
	}
	out := string(d.Bytes())
	if !strings.Contains(out, `name: "fast (openai/gpt-4o-mini)"`) || strings.Contains(out, "cacheWrite") {
		t.Errorf("the old entry was not brought up to date:\n%s", out)
	}
	d = mustParse(t, `{models: {providers: {litellm: {models: [{ id: "claude", name: "My Claude" }]}}}}`)
	if _, err := Sync(d, ModelsFor(routes[2:3])); err != nil {
		t.Fatal(err)
	}
	if out := string(d.Bytes()); !strings.Contains(out, `name: "My Claude"`) || !strings.Contains(out, "cacheWrite") {
		t.Errorf("claude: the user's name must stay, Anthropic's cache-write price be written:\n%s", out)
	}
}
