package proxy

import (
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/clawgate/clawgate/internal/fakeupstream"
	"github.com/clawgate/clawgate/proxy/config"
)

// TestPromptCachingRoutes sends the same two-turn conversation to Claude routes with caching
// on by default, off, and placed by LiteLLM's cache_control_injection_points, through a fake
// Anthropic that bills input as the prompt cache does.
func TestPromptCachingRoutes(t *testing.T) {
	native := fakeupstream.NewNative(nil)
	native.Key, native.Cache = "sk-ant", fakeupstream.NewPromptCache()
	up := httptest.NewServer(native)
	t.Cleanup(up.Close)
	creds := `{"type":"authorized_user","client_id":"c","client_secret":"s","refresh_token":"1//rt","token_uri":"` + up.URL + `/token"}`
	g := newGateway(t, `model_list:
  - model_name: claude
    litellm_params: {model: anthropic/claude-sonnet-4-5, api_base: "`+up.URL+`", api_key: sk-ant}
  - model_name: claude-off
    litellm_params: {model: anthropic/claude-sonnet-4-5, api_base: "`+up.URL+`", api_key: sk-ant, prompt_caching: false}
  - model_name: claude-points
    litellm_params:
      model: anthropic/claude-sonnet-4-5
      api_base: "`+up.URL+`"
      api_key: sk-ant
      cache_control_injection_points: [{location: message, role: system}]
  - model_name: claude-vertex
    litellm_params: {model: "vertex_ai/claude-sonnet-4-5@20250929", api_base: "`+up.URL+`", vertex_project: p, vertex_location: global, vertex_credentials: '`+creds+`'}
`)
	system := strings.Repeat("Answer in one short sentence and cite the file you read. ", 200) // ~2.9k tokens
	body := func(group, user string) string {
		return fmt.Sprintf(`{"model":%q,"messages":[{"role":"system","content":%q},{"role":"user","content":%q}]}`, group, system, user)
	}
	for _, group := range []string{"claude", "claude-off", "claude-points", "claude-vertex"} {
		for _, q := range []string{"first question", "second question"} {
			if resp := g.chat(body(group, q)); resp.StatusCode != 200 {
				t.Fatalf("%s: status %d: %s", group, resp.StatusCode, readAll(t, resp.Body))
			}
		}
	}
	// Default: system and last turn; off: none; the injection point alone: the system message;
	// Claude on Vertex AI: the default.
	if got, want := fmt.Sprint(native.Cache.Breakpoints()), "[2 2 0 0 1 1 2 2]"; got != want {
		t.Errorf("breakpoints per request %s, want %s", got, want)
	}
	recs := g.sink.all()
	if len(recs) != 8 {
		t.Fatalf("%d usage records, want 8", len(recs))
	}
	for i, r := range recs {
		// A caching route's second call reads the system prompt back; so does the injection
		// route's first, from the entry the default route wrote (one cache per model upstream).
		cached := i == 1 || i == 4 || i == 5 || i == 7
		if (r.CachedTokens > 0) != cached {
			t.Errorf("request %d (%s): %d cache reads, want reads: %v", i, r.ModelGroup, r.CachedTokens, cached)
		}
		uncached := r.PromptTokens - r.CachedTokens - r.CacheCreationTokens
		want := float64(uncached)*3e-6 + float64(r.CachedTokens)*3e-7 + float64(r.CacheCreationTokens)*3.75e-6 + float64(r.CompletionTokens)*1.5e-5
		if diff := r.Cost - want; diff > 1e-12 || diff < -1e-12 {
			t.Errorf("request %d (%s): cost %v, want %v at Sonnet 4.5's cache prices", i, r.ModelGroup, r.Cost, want)
		}
	}
	if recs[0].CacheCreationTokens == 0 || recs[2].CacheCreationTokens != 0 {
		t.Errorf("cache writes: default route %d, caching off %d", recs[0].CacheCreationTokens, recs[2].CacheCreationTokens)
	}
}

func TestPromptCachingConfigErrors(t *testing.T) {
	cfg, _, err := config.Parse([]byte(`model_list:
  - model_name: claude
    litellm_params: {model: anthropic/claude-sonnet-4-5, cache_control_injection_points: [{location: everywhere}]}
`), "config.yaml", func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	if _, err := New(Options{Config: cfg}); err == nil || !strings.Contains(err.Error(), "cache_control_injection_points[0]") {
		t.Errorf("a bad injection point was accepted: %v", err)
	}
}

func TestClaudeRoutes(t *testing.T) {
	for _, c := range []struct {
		prefix, model string
		want          bool
	}{
		{"anthropic", "claude-sonnet-4-5", true},
		{"anthropic", "*", true},
		{"bedrock", "anthropic.claude-sonnet-4-5-20250929-v1:0", true},
		{"bedrock", "us.anthropic.claude-haiku-4-5-20251001-v1:0", true},
		{"bedrock", "amazon.nova-pro-v1:0", false},
		{"vertex_ai", "claude-opus-4-6", true},
		{"vertex_ai", "gemini-2.5-pro", false},
		{"openai", "claude-via-proxy", false},
	} {
		if got := claude(c.prefix, c.model); got != c.want {
			t.Errorf("claude(%q, %q) = %v, want %v", c.prefix, c.model, got, c.want)
		}
	}
}

func TestCacheableModels(t *testing.T) {
	yes, no := true, false
	for _, c := range []struct {
		prefix, model string
		info          *bool // model_info.supports_prompt_caching
		want          bool
	}{
		{"anthropic", "claude-sonnet-4-5", nil, true},
		{"bedrock", "anthropic.claude-sonnet-4-5-20250929-v1:0", nil, true},
		{"bedrock", "anthropic.claude-3-haiku-20240307-v1:0", nil, false}, // no prompt cache on Bedrock
		{"bedrock", "anthropic.claude-3-haiku-20240307-v1:0", &yes, true}, // model_info wins
		{"anthropic", "claude-sonnet-4-5", &no, false},
		{"vertex_ai", "claude-sonnet-4-5@20250929", nil, true},
		{"anthropic", "claude-from-next-year", nil, true}, // unknown: a current model
	} {
		d := config.Deployment{}
		if c.info != nil {
			d.Info.Extra = map[string]any{"supports_prompt_caching": *c.info}
		}
		if got := cacheable(d, c.prefix, c.model); got != c.want {
			t.Errorf("cacheable(%s/%s, model_info %v) = %v, want %v", c.prefix, c.model, c.info, got, c.want)
		}
	}
}
