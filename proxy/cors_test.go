package proxy

import (
	"net/http"
	"strings"
	"testing"
)

// TestCORS: a browser page may call the gateway only from an origin config.yaml lists, only with a
// master key, and still needs a key; every other origin gets no CORS grant, so the browser hides
// the answer from the page.
func TestCORS(t *testing.T) {
	up := newUpstream(t).always(reply{file: "chat_completion.json"})
	const origins = "\n  cors_allow_origins: [\"https://App.example.com\", \"http://localhost:3000\"]\n"
	keyed := strings.Replace(oneModel, "general_settings: {master_key: "+masterKey+"}",
		"general_settings:\n  master_key: "+masterKey+origins, 1)
	_, base := listening(t, keyed, Options{}, up)
	_, open := listening(t, noKey+"general_settings:"+origins, Options{}, up)

	do := func(base, method, path, origin, key string, extra map[string]string) *http.Response {
		t.Helper()
		body := strings.NewReader(simpleChat)
		req, _ := http.NewRequest(method, base+path, body)
		if method != http.MethodPost {
			req.Body = http.NoBody
		}
		req.Header.Set("Content-Type", "application/json")
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		if key != "" {
			req.Header.Set("Authorization", "Bearer "+key)
		}
		for k, v := range extra {
			req.Header.Set(k, v)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res
	}
	preflight := map[string]string{"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization, content-type"}

	t.Run("preflight from a listed origin", func(t *testing.T) {
		res := do(base, http.MethodOptions, "/v1/chat/completions", "https://app.example.com", "", preflight)
		if res.StatusCode != http.StatusNoContent {
			t.Fatalf("status %d, want 204", res.StatusCode)
		}
		h := res.Header
		if h.Get("Access-Control-Allow-Origin") != "https://app.example.com" || h.Get("Access-Control-Allow-Headers") != "authorization, content-type" ||
			!strings.Contains(h.Get("Access-Control-Allow-Methods"), "POST") || h.Get("Access-Control-Allow-Credentials") != "" {
			t.Fatalf("preflight headers: %v", h)
		}
	})
	t.Run("call from a listed origin needs a key and is granted", func(t *testing.T) {
		res := do(base, http.MethodPost, "/v1/chat/completions", "http://localhost:3000", masterKey, nil)
		if res.StatusCode != 200 || res.Header.Get("Access-Control-Allow-Origin") != "http://localhost:3000" {
			t.Fatalf("status %d, allow-origin %q", res.StatusCode, res.Header.Get("Access-Control-Allow-Origin"))
		}
		res = do(base, http.MethodPost, "/v1/chat/completions", "http://localhost:3000", "", nil)
		if res.StatusCode != http.StatusUnauthorized {
			t.Fatalf("no key from a listed origin: status %d, want 401", res.StatusCode)
		}
	})
	t.Run("other origins get no grant", func(t *testing.T) {
		for _, o := range []string{"https://evil.example", "http://app.example.com", "https://app.example.com:8443", "null"} {
			res := do(base, http.MethodOptions, "/v1/chat/completions", o, "", preflight)
			if got := res.Header.Get("Access-Control-Allow-Origin"); got != "" || res.StatusCode == http.StatusNoContent {
				t.Errorf("preflight from %s: status %d, allow-origin %q", o, res.StatusCode, got)
			}
			res = do(base, http.MethodPost, "/v1/chat/completions", o, masterKey, nil)
			if got := res.Header.Get("Access-Control-Allow-Origin"); got != "" {
				t.Errorf("call from %s: allow-origin %q", o, got)
			}
		}
	})
	t.Run("without a master key the list opens nothing", func(t *testing.T) {
		res := do(open, http.MethodPost, "/v1/chat/completions", "https://app.example.com", "", nil)
		if res.StatusCode != http.StatusForbidden || res.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Fatalf("status %d, allow-origin %q: want 403 and no grant", res.StatusCode, res.Header.Get("Access-Control-Allow-Origin"))
		}
		res = do(open, http.MethodOptions, "/v1/chat/completions", "https://app.example.com", "", preflight)
		if res.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Fatalf("preflight granted without a master key")
		}
	})
}
