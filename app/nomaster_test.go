package app

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clawgate/clawgate/internal/fakeupstream"
)

// TestNoMasterKeyVirtualKeysAndWebPages runs the gateway as it runs on a machine without a
// keychain (no master key): a virtual key a client sends still limits it to its models and
// budget, and a web page can neither mint a key nor call a model.
func TestNoMasterKeyVirtualKeysAndWebPages(t *testing.T) {
	t.Setenv("LITELLM_MASTER_KEY", "")
	up := httptest.NewServer(fakeupstream.New())
	defer up.Close()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.yaml")
	os.WriteFile(cfg, []byte("model_list:\n"+
		"  - model_name: m\n    litellm_params: {model: openai/gpt-4o-mini, api_base: \""+up.URL+"/v1\", api_key: sk-up}\n"+
		"  - model_name: zzz\n    litellm_params: {model: openai/gpt-4o-mini, api_base: \""+up.URL+"/v1\", api_key: sk-up}\n"), 0o600)
	a := startApp(t, Options{ConfigPath: cfg, DataDir: dir})
	if a.Status().Auth != "off" {
		t.Fatalf("auth %q, want off", a.Status().Auth)
	}
	base := a.Status().BaseURL()
	call := func(path, key, body string, header ...string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest("POST", base+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if key != "" {
			req.Header.Set("Authorization", "Bearer "+key)
		}
		for i := 0; i+1 < len(header); i += 2 {
			if header[i] == "Host" {
				req.Host = header[i+1]
			} else {
				req.Header.Set(header[i], header[i+1])
			}
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	mint := func(body string) string {
		t.Helper()
		code, b := call("/key/generate", "", body)
		var out struct{ Key string }
		if code != 200 || json.Unmarshal([]byte(b), &out) != nil || out.Key == "" {
			t.Fatalf("mint from this machine: %d %s", code, b)
		}
		return out.Key
	}
	chat := func(model string) string {
		return `{"model":"` + model + `","max_tokens":50,"messages":[{"role":"user","content":"hi"}]}`
	}

	zzz := mint(`{"models":["zzz"],"max_budget":1}`)
	if code, b := call("/v1/chat/completions", zzz, chat("m")); code != http.StatusForbidden {
		t.Errorf("a key limited to zzz called m: %d %.200s", code, b)
	}
	if code, b := call("/v1/chat/completions", zzz, chat("zzz")); code != 200 {
		t.Errorf("a key limited to zzz called zzz: %d %.200s", code, b)
	}
	poor := mint(`{"models":["m"],"max_budget":0.0000001}`)
	served := 0
	refusal := ""
	for range 5 {
		code, b := call("/v1/chat/completions", poor, chat("m"))
		if code == 200 {
			served++
		} else {
			refusal = b
		}
	}
	if served == 5 || !strings.Contains(strings.ToLower(refusal), "budget") {
		t.Errorf("a key with a $0.0000001 budget: %d of 5 calls served; refusal %.200s", served, refusal)
	}

	// What a web page can send: a form post (text/plain, no preflight) from another site, and the
	// same from a name rebound to 127.0.0.1.
	port := base[strings.LastIndex(base, ":")+1:]
	for _, h := range [][]string{
		{"Content-Type", "text/plain", "Origin", "http://evil.example"},
		{"Content-Type", "text/plain"},
		{"Origin", "http://evil.example"},
		{"Host", "evil.example:" + port},
	} {
		for _, path := range []string{"/key/generate", "/v1/chat/completions"} {
			if code, b := call(path, "", chat("m"), h...); code != http.StatusForbidden && code != http.StatusUnsupportedMediaType {
				t.Errorf("%s with %v: %d %.200s", path, h, code, b)
			}
		}
	}
}
