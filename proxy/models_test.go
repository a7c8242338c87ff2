package proxy

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
)

func TestModelsAndInfo(t *testing.T) {
	up := newUpstream(t)
	g := newGateway(t, `
model_list:
  - model_name: gpt-4o-mini
    litellm_params:
      model: openai/gpt-4o-mini
      api_base: "{{A}}"
      api_key: sk-upstream-SECRET
      aws_secret_access_key: SECRET2
      extra_headers: {X-Org-Token: SECRET3}
    model_info: {id: dep-a, max_input_tokens: 128000, input_cost_per_token: 1.5e-7, team: blue}
  - model_name: "openai/*"
    litellm_params: {model: "openai/*", api_base: "{{A}}"}
general_settings: {master_key: `+masterKey+`}
`, up)
	for _, path := range []string{"/v1/models", "/models"} {
		resp := g.do("GET", path, "")
		var list struct {
			Object string        `json:"object"`
			Data   []modelObject `json:"data"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&list); err != nil || list.Object != "list" || len(list.Data) != 2 ||
			list.Data[0].ID != "gpt-4o-mini" || list.Data[1].ID != "openai/*" || list.Data[0].Object != "model" || list.Data[0].OwnedBy != "openai" {
			t.Errorf("%s: %+v %v", path, list, err)
		}
	}
	resp := g.do("GET", "/model/info", "")
	b := string(readAll(t, resp.Body))
	for _, secret := range []string{"SECRET", "sk-upstream"} {
		if strings.Contains(b, secret) {
			t.Errorf("/model/info leaks %q: %s", secret, b)
		}
	}
	var info struct {
		Data []struct {
			ModelName     string         `json:"model_name"`
			LiteLLMParams map[string]any `json:"litellm_params"`
			ModelInfo     map[string]any `json:"model_info"`
		} `json:"data"`
	}
	if err := json.Unmarshal([]byte(b), &info); err != nil || len(info.Data) != 2 {
		t.Fatalf("model info %s: %v", b, err)
	}
	d := info.Data[0]
	if d.ModelName != "gpt-4o-mini" || d.LiteLLMParams["model"] != "openai/gpt-4o-mini" || d.ModelInfo["id"] != "dep-a" ||
		d.ModelInfo["team"] != "blue" || d.ModelInfo["max_input_tokens"] != float64(128000) || d.ModelInfo["litellm_provider"] != "openai" {
		t.Errorf("model info entry = %+v", d)
	}
	resp = g.do("GET", "/health/readiness", "")
	if resp.StatusCode != 200 {
		t.Errorf("readiness %d", resp.StatusCode)
	}
	resp = g.do("GET", "/health/liveliness", "")
	if b := strings.TrimSpace(string(readAll(t, resp.Body))); b != `"I'm alive!"` {
		t.Errorf("liveliness = %s", b)
	}
	// A gateway leaving (serve's --shutdown-grace) fails readiness and still answers requests.
	g.gw.Leave()
	resp = g.do("GET", "/health/readiness", "")
	if b := string(readAll(t, resp.Body)); resp.StatusCode != 503 || !strings.Contains(b, "shutting down") {
		t.Errorf("readiness while leaving: %d %s", resp.StatusCode, b)
	}
	if resp = g.do("GET", "/health/liveliness", ""); resp.StatusCode != 503 {
		t.Errorf("liveliness while leaving: %d", resp.StatusCode)
	}
	if resp = g.do("GET", "/v1/models", ""); resp.StatusCode != 200 {
		t.Errorf("models while leaving: %d", resp.StatusCode)
	}
	resp = g.do("GET", "/v1/chat/completions", "")
	if e := errorOf(t, resp); resp.StatusCode != 405 || resp.Header.Get("Allow") != "POST" || !strings.Contains(e.Message, "POST") {
		t.Errorf("GET on chat: %d %+v", resp.StatusCode, e)
	}
	resp = g.do("GET", "/no/such/route", "")
	if e := errorOf(t, resp); resp.StatusCode != 404 || e.Type != typeNotFound {
		t.Errorf("unknown route: %d %+v", resp.StatusCode, e)
	}
}

// TestImportBoundary holds the architecture's line: the gateway builds without the app, the UI or Fyne.
func TestImportBoundary(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "./...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	// Built from parts, so that a plain-text scan for such imports does not take this test for one.
	mod := "github.com/clawgate/clawgate"
	banned := []string{mod + "/" + "app", mod + "/" + "ui", "fyne" + ".io/"}
	for _, dep := range strings.Fields(string(out)) {
		for _, b := range banned {
			if dep == b || strings.HasPrefix(dep, b+"/") || (strings.HasSuffix(b, "/") && strings.HasPrefix(dep, b)) {
				t.Errorf("proxy depends on %s", dep)
			}
		}
	}
	if !strings.Contains(string(out), "github.com/clawgate/clawgate/proxy/route") {
		t.Errorf("go list output looks wrong:\n%s", out)
	}
}
