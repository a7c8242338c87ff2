package route

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/clawgate/clawgate/proxy/config"
	"github.com/clawgate/clawgate/proxy/provider"
)

// fakeProvider answers every call with a canned body naming the model it was asked for.
type fakeProvider struct {
	name string
	err  error
}

func (p *fakeProvider) Chat(_ context.Context, req *provider.Request) (*provider.Response, error) {
	if p.err != nil {
		return nil, p.err
	}
	return &provider.Response{Body: []byte(`{"object":"chat.completion","model":"` + req.Model + `","provider":"` + p.name + `"}`)}, nil
}

type factoryCall struct{ modelName, provider, model string }

func recordingFactory(calls *[]factoryCall) Factory {
	return func(d config.Deployment, providerName, model string) (provider.Provider, error) {
		*calls = append(*calls, factoryCall{d.ModelName, providerName, model})
		return &fakeProvider{name: providerName}, nil
	}
}

func entry(name, model string, line int) config.Deployment {
	return config.Deployment{ModelName: name, Params: config.Params{Model: model}, Line: line}
}

func TestBuild(t *testing.T) {
	tests := []struct {
		name         string
		model        string
		wantProvider string
		wantModel    string
	}{
		{"prefixed", "openai/gpt-4o", "openai", "gpt-4o"},
		{"nested id", "bedrock/converse/anthropic.claude-3-5-sonnet-20241022-v2:0", "bedrock", "converse/anthropic.claude-3-5-sonnet-20241022-v2:0"},
		{"openrouter id with a slash", "openrouter/openai/gpt-4o", "openrouter", "openai/gpt-4o"},
		{"wildcard", "anthropic/*", "anthropic", "*"},
		{"bare gpt", "gpt-4o", "openai", "gpt-4o"},
		{"bare o3", "o3-mini", "openai", "o3-mini"},
		{"bare embedding", "text-embedding-3-small", "openai", "text-embedding-3-small"},
		{"bare claude", "claude-3-5-sonnet-20241022", "anthropic", "claude-3-5-sonnet-20241022"},
		{"bare gemini", "gemini-2.0-flash", "gemini", "gemini-2.0-flash"},
		{"bare catch-all", "*", "", "*"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var calls []factoryCall
			cfg := &config.Config{ModelList: []config.Deployment{entry("m", tt.model, 3)}}
			deps, err := Build(cfg, recordingFactory(&calls))
			if err != nil {
				t.Fatal(err)
			}
			d := deps[0]
			if d.ProviderName != tt.wantProvider || d.Model != tt.wantModel || d.Group != "m" || d.Provider == nil {
				t.Errorf("got provider %q model %q group %q", d.ProviderName, d.Model, d.Group)
			}
			if len(calls) != 1 || calls[0] != (factoryCall{"m", tt.wantProvider, tt.wantModel}) {
				t.Errorf("factory calls %+v", calls)
			}
		})
	}
}

func TestBuildErrors(t *testing.T) {
	boom := errors.New("no api key")
	tests := []struct {
		name    string
		cfg     config.Config
		factory Factory
		want    []string // substrings of the message
		is      error
	}{
		{"unknown bare model", config.Config{Path: "config.yaml", ModelList: []config.Deployment{entry("ok", "openai/gpt-4o", 2), entry("mine", "mistral-large", 7)}},
			nil, []string{"config.yaml:7", `"mine"`, `"mistral-large"`, "provider/model", `"openai/mistral-large"`}, nil},
		{"no path: line only", config.Config{ModelList: []config.Deployment{entry("mine", "llama3", 12)}},
			nil, []string{"line 12", "llama3", "provider/model"}, nil},
		{"no line: index", config.Config{ModelList: []config.Deployment{entry("a", "openai/x", 0), entry("mine", "llama3", 0)}},
			nil, []string{"model_list[1]", "llama3"}, nil},
		{"empty model id", config.Config{ModelList: []config.Deployment{entry("mine", "openai/", 4)}},
			nil, []string{"line 4", "provider/model"}, nil},
		{"empty provider", config.Config{ModelList: []config.Deployment{entry("mine", "/gpt-4o", 4)}},
			nil, []string{"line 4", "provider/model"}, nil},
		{"no model", config.Config{ModelList: []config.Deployment{entry("mine", "", 5)}},
			nil, []string{"line 5", "litellm_params.model"}, nil},
		{"no model_name", config.Config{ModelList: []config.Deployment{entry("", "openai/gpt-4o", 6)}},
			nil, []string{"line 6", "model_name"}, nil},
		{"bad weight", config.Config{ModelList: []config.Deployment{{ModelName: "w", Params: config.Params{Model: "openai/x", Extra: map[string]any{"weight": "heavy"}}, Line: 8}}},
			nil, []string{"line 8", "weight", "heavy"}, nil},
		{"factory error wrapped", config.Config{Path: "c.yaml", ModelList: []config.Deployment{entry("gpt-4o", "openai/gpt-4o", 9)}},
			func(config.Deployment, string, string) (provider.Provider, error) { return nil, boom },
			[]string{"c.yaml:9", `"gpt-4o"`, "no api key"}, boom},
		{"nil provider", config.Config{ModelList: []config.Deployment{entry("gpt-4o", "openai/gpt-4o", 9)}},
			func(config.Deployment, string, string) (provider.Provider, error) { return nil, nil },
			[]string{"line 9", "no provider"}, nil},
		{"duplicate explicit ids", config.Config{Path: "c.yaml", ModelList: []config.Deployment{
			{ModelName: "a", Params: config.Params{Model: "openai/a"}, Info: config.ModelInfo{ID: "same"}, Line: 3},
			{ModelName: "b", Params: config.Params{Model: "openai/b"}, Info: config.ModelInfo{ID: "same"}, Line: 8},
		}}, nil, []string{"c.yaml:8", "c.yaml:3", `"same"`}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := tt.factory
			if f == nil {
				var calls []factoryCall
				f = recordingFactory(&calls)
			}
			deps, err := Build(&tt.cfg, f)
			if err == nil {
				t.Fatalf("no error; deps %+v", deps)
			}
			for _, s := range tt.want {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q lacks %q", err, s)
				}
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error %v does not wrap %v", err, tt.is)
			}
		})
	}
}

func TestBuildIDs(t *testing.T) {
	cfg := &config.Config{ModelList: []config.Deployment{
		entry("gpt-4o", "openai/gpt-4o", 1),
		entry("gpt-4o", "openai/gpt-4o", 5), // the same entry twice: load-balanced copies
		{ModelName: "gpt-4o", Params: config.Params{Model: "openai/gpt-4o", APIBase: "http://localhost:8000/v1"}, Line: 9},
		entry("gpt-4o-mini", "openai/gpt-4o", 13),
		{ModelName: "claude", Params: config.Params{Model: "anthropic/claude-3"}, Info: config.ModelInfo{ID: "my-claude"}, Line: 17},
		entry("gpt-4o", "openai/gpt-4o", 21),
	}}
	var calls []factoryCall
	deps, err := Build(cfg, recordingFactory(&calls))
	if err != nil {
		t.Fatal(err)
	}
	hex16 := regexp.MustCompile(`^[0-9a-f]{16}$`)
	ids := map[string]bool{}
	for i, d := range deps {
		if ids[d.ID] {
			t.Errorf("id %q repeats", d.ID)
		}
		ids[d.ID] = true
		if i != 4 && i != 1 && i != 5 && !hex16.MatchString(d.ID) {
			t.Errorf("entry %d id %q is not 16 hex digits", i, d.ID)
		}
	}
	if deps[1].ID != deps[0].ID+"-2" || deps[5].ID != deps[0].ID+"-3" {
		t.Errorf("duplicates got %q and %q, want %q-2 and -3", deps[1].ID, deps[5].ID, deps[0].ID)
	}
	if deps[4].ID != "my-claude" {
		t.Errorf("model_info.id not kept: %q", deps[4].ID)
	}
	if deps[2].APIBase != "http://localhost:8000/v1" || deps[2].Config.Line != 9 {
		t.Errorf("deployment lost its config: %+v", deps[2])
	}
	again, _ := Build(cfg, recordingFactory(&calls))
	for i := range deps {
		if again[i].ID != deps[i].ID {
			t.Errorf("entry %d: id %q then %q; ids must be stable", i, deps[i].ID, again[i].ID)
		}
	}
	// An explicit id equal to a generated one keeps it; the generated one moves aside.
	cfg2 := &config.Config{ModelList: []config.Deployment{
		entry("gpt-4o", "openai/gpt-4o", 1),
		{ModelName: "x", Params: config.Params{Model: "openai/x"}, Info: config.ModelInfo{ID: deps[0].ID}, Line: 2},
	}}
	deps2, err := Build(cfg2, recordingFactory(&calls))
	if err != nil {
		t.Fatal(err)
	}
	if deps2[1].ID != deps[0].ID || deps2[0].ID == deps2[1].ID {
		t.Errorf("ids %q, %q", deps2[0].ID, deps2[1].ID)
	}
}

// TestBuildThenRoute wires Build, New and Do the way the gateway does, with fake providers.
func TestBuildThenRoute(t *testing.T) {
	cfg := &config.Config{
		ModelList: []config.Deployment{
			entry("gpt-4o", "openai/gpt-4o-2024-08-06", 1),
			entry("anthropic/*", "anthropic/*", 4),
			entry("*", "openai/*", 7),
		},
		Router: config.RouterSettings{NumRetries: 1, Fallbacks: []config.Fallback{{Group: "gpt-4o", To: []string{"claude-sonnet-4-5"}}}},
	}
	failOpenAI := &provider.Error{Status: 503, Message: "overloaded"}
	deps, err := Build(cfg, func(d config.Deployment, prov, model string) (provider.Provider, error) {
		if prov == "openai" && model == "gpt-4o-2024-08-06" {
			return &fakeProvider{name: prov, err: failOpenAI}, nil
		}
		return &fakeProvider{name: prov}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	r := New(deps, SettingsFrom(cfg.Router))
	tests := []struct {
		model, body, group string
		fallbacks          int
	}{
		{"gpt-4o", `{"object":"chat.completion","model":"claude-sonnet-4-5","provider":"anthropic"}`, "anthropic/*", 1},
		{"claude-3-haiku", `{"object":"chat.completion","model":"claude-3-haiku","provider":"anthropic"}`, "anthropic/*", 0},
		{"gpt-4.1-nano", `{"object":"chat.completion","model":"gpt-4.1-nano","provider":"openai"}`, "*", 0},
	}
	for _, tt := range tests {
		t.Run(tt.model, func(t *testing.T) {
			var body []byte
			res, err := r.Do(t.Context(), tt.model, func(ctx context.Context, d *Deployment, up string) error {
				resp, err := d.Provider.Chat(ctx, &provider.Request{Model: up})
				if err != nil {
					return err
				}
				body = resp.Body
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if string(body) != tt.body || res.Group != tt.group || res.Fallbacks != tt.fallbacks {
				t.Errorf("body %s group %q fallbacks %d", body, res.Group, res.Fallbacks)
			}
		})
	}
}
