package proxy

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

type healthBody struct {
	Healthy        []map[string]any `json:"healthy_endpoints"`
	Unhealthy      []map[string]any `json:"unhealthy_endpoints"`
	HealthyCount   int              `json:"healthy_count"`
	UnhealthyCount int              `json:"unhealthy_count"`
}

// TestHealth: GET /health calls each deployment (an embedding for embedding models, the
// health_check_model for a wildcard), bounds each check in time, runs once for concurrent
// callers and caches the result, strips secrets from api_base, and is the master key's.
func TestHealth(t *testing.T) {
	ok := newUpstream(t).always(reply{file: "chat_completion.json"})
	bad := newUpstream(t).always(reply{status: 500, file: "error_500.json"})
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		<-r.Context().Done()
	}))
	t.Cleanup(hang.Close)
	emb := newEmbedUpstream(t)
	const scoped = "sk-scoped-0123456789"
	yaml := `
model_list:
  - model_name: good
    litellm_params: {model: openai/gpt-4o-mini, api_base: "{{A}}?api-key=SECRET-IN-QUERY", api_key: sk-up}
  - model_name: broken
    litellm_params: {model: openai/gpt-4o-mini, api_base: "{{B}}"}
  - model_name: slow
    litellm_params: {model: openai/gpt-4o-mini, api_base: "` + hang.URL + `/v1"}
  - model_name: emb
    litellm_params: {model: openai/text-embedding-3-small, api_base: "` + emb.srv.URL + `/v1"}
  - model_name: down
    litellm_params: {model: openai/gpt-4o-mini, api_base: "` + closedURL(t) + `/v1?api-key=SECRET-OF-DOWN"}
  - model_name: "wild/*"
    litellm_params: {model: "openai/*", api_base: "{{A}}"}
    model_info: {health_check_model: openai/gpt-4o-mini}
  - model_name: "bare/*"
    litellm_params: {model: "openai/*", api_base: "{{A}}"}
general_settings: {master_key: ` + masterKey + `}
`
	g := newGatewayWith(t, yaml, Options{Keys: modelListKeys{key: scoped}}, ok, bad)
	// The bound the silent upstream meets; generous, as the healthy checks must fit in it too on a busy machine.
	g.gw.health.limit = 3 * time.Second

	var wg sync.WaitGroup
	bodies := make([][]byte, 3)
	start := time.Now()
	for i := range bodies {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp := g.do("GET", "/health", "")
			bodies[i] = readAll(t, resp.Body)
			if resp.StatusCode != 200 {
				t.Errorf("status %d", resp.StatusCode)
			}
		}()
	}
	wg.Wait()
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("/health took %s with a silent upstream; each check must be bounded", d)
	}
	var h healthBody
	if err := json.Unmarshal(bodies[0], &h); err != nil {
		t.Fatalf("%v: %s", err, bodies[0])
	}
	names := func(es []map[string]any) (out []string) {
		for _, e := range es {
			out = append(out, e["model_name"].(string))
		}
		return out
	}
	if got := strings.Join(names(h.Healthy), ","); got != "good,emb,wild/*" || h.HealthyCount != 3 {
		t.Errorf("healthy %q (%d), want good,emb,wild/*", got, h.HealthyCount)
	}
	if got := strings.Join(names(h.Unhealthy), ","); got != "broken,slow,down,bare/*" || h.UnhealthyCount != 4 {
		t.Errorf("unhealthy %q (%d)", got, h.UnhealthyCount)
	}
	for _, e := range h.Unhealthy {
		if msg, _ := e["error"].(string); msg == "" {
			t.Errorf("unhealthy %v without an error", e)
		}
	}
	if strings.Contains(string(bodies[0]), "SECRET") || strings.Contains(string(bodies[0]), "sk-up") {
		t.Errorf("secrets in /health: %s", bodies[0])
	}
	if string(bodies[1]) != string(bodies[0]) || string(bodies[2]) != string(bodies[0]) {
		t.Errorf("concurrent callers got different runs")
	}
	// One run for three callers: good once, wild/* once; emb once.
	if ok.calls() != 2 || emb.calls() != 1 || bad.calls() != 1 {
		t.Fatalf("upstream calls good+wild %d, emb %d, broken %d: want one run", ok.calls(), emb.calls(), bad.calls())
	}
	if path, sent := emb.last(); path != "/v1/embeddings" || !strings.Contains(sent, `"model":"text-embedding-3-small"`) {
		t.Errorf("embedding check sent %s %s", path, sent)
	}
	if sent := ok.body(1); !strings.Contains(string(sent), `"model":"gpt-4o-mini"`) {
		t.Errorf("wildcard check sent %s", sent)
	}

	// Cached: a call right after makes no upstream call.
	readAll(t, g.do("GET", "/health", "").Body)
	if ok.calls() != 2 {
		t.Errorf("a cached /health called the upstream again")
	}
	// ?model= checks one group.
	resp := g.do("GET", "/health?model=broken", "")
	if err := json.NewDecoder(resp.Body).Decode(&h); err != nil || h.UnhealthyCount != 1 || h.HealthyCount != 0 {
		t.Errorf("?model=broken: %+v %v", h, err)
	}
	// A virtual key may not make the gateway spend on checks.
	resp = g.do("GET", "/health", "", "Authorization", "Bearer "+scoped)
	if e := errorOf(t, resp); resp.StatusCode != 403 || !strings.Contains(e.Message, "master key") {
		t.Errorf("virtual key: %d %q", resp.StatusCode, e.Message)
	}
	resp = g.do("GET", "/health", "", "Authorization", "")
	if resp.StatusCode != 401 {
		t.Errorf("no key: %d", resp.StatusCode)
	}
}

// TestModelGroupInfo: LiteLLM's per-group view, limited to the key's models.
// closedURL is the address of a server that is gone: connections to it are refused.
func closedURL(t *testing.T) string {
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close()
	return srv.URL
}

func TestModelGroupInfo(t *testing.T) {
	const scoped = "sk-scoped-0123456789"
	g, _ := embedGateway(t, Options{Keys: modelListKeys{key: scoped, models: []string{"oa-emb"}}})
	resp := g.do("GET", "/model_group/info", "")
	var out struct {
		Data []map[string]any `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || len(out.Data) != 8 {
		t.Fatalf("%v, %d groups", err, len(out.Data))
	}
	oa := out.Data[0]
	if oa["model_group"] != "oa-emb" || oa["mode"] != "embedding" || oa["input_cost_per_token"] != 2e-8 ||
		len(oa["providers"].([]any)) != 1 || oa["providers"].([]any)[0] != "openai" {
		t.Errorf("oa-emb %v", oa)
	}
	resp = g.do("GET", "/v1/model_group/info", "", "Authorization", "Bearer "+scoped)
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || len(out.Data) != 1 || out.Data[0]["model_group"] != "oa-emb" {
		t.Errorf("scoped key sees %v", out.Data)
	}
	resp = g.do("GET", "/model_group/info?model_group=titan", "")
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || len(out.Data) != 1 || out.Data[0]["input_cost_per_token"] != 2e-8 {
		t.Errorf("titan %v", out.Data)
	}
}

// TestRoutesServed: every route /routes lists (and the 404 names) is served, and the 404 names
// the new ones.
func TestRoutesServed(t *testing.T) {
	g := newGateway(t, oneModel, newUpstream(t).always(reply{file: "chat_completion.json"}))
	resp := g.do("GET", "/routes", "")
	var out struct {
		Routes []struct {
			Path    string   `json:"path"`
			Methods []string `json:"methods"`
		} `json:"routes"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || len(out.Routes) != len(servedRoutes) {
		t.Fatalf("%v %v", err, out)
	}
	for _, rt := range out.Routes {
		resp := g.do(rt.Methods[0], rt.Path, "{}")
		if resp.StatusCode == 404 {
			if e := errorOf(t, resp); strings.HasPrefix(e.Message, "Route not found") {
				t.Errorf("%s %s is listed but not served", rt.Methods[0], rt.Path)
			}
		}
	}
	resp = g.do("GET", "/v1/nope", "")
	e := errorOf(t, resp)
	for _, p := range []string{"/v1/messages", "/v1/embeddings", "/v1/completions", "/health", "/model_group/info", "/routes", "/global/spend/report"} {
		if !strings.Contains(e.Message, p) {
			t.Errorf("404 text %q does not name %s", e.Message, p)
		}
	}
	resp = g.do("GET", "/v1/embeddings", "")
	if resp.StatusCode != 405 {
		t.Errorf("GET /v1/embeddings: %d, want 405", resp.StatusCode)
	}
}
