package proxy

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestAPIBaseCredentialsNotShown puts a password and a query key in api_base and looks for them in
// everything a client, the tray or the spend log gets: headers and bodies of a served call, of an
// upstream error and of a refused connection, /model/info, RouteStates and the usage records.
func TestAPIBaseCredentialsNotShown(t *testing.T) {
	// The upstream is still called at the real URL: it answers only when the query key arrives.
	okSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/chat/completions" || r.URL.Query().Get("api-key") != "SECRETQUERY" {
			http.Error(w, "no key", http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(readTestdata(t, "chat_completion.json"))
	}))
	t.Cleanup(okSrv.Close)
	failing := newUpstream(t) // no script: answers 418 to every call
	gone := httptest.NewServer(http.NotFoundHandler())
	gone.Close()
	withSecrets := func(u string) string {
		return strings.Replace(u, "http://", "http://alice:SECRETPASS@", 1) + "?api-key=SECRETQUERY&x=1"
	}
	g := newGateway(t, fmt.Sprintf(`
model_list:
  - model_name: ok
    litellm_params: {model: openai/gpt-4o-mini, api_base: %q}
  - model_name: failing
    litellm_params: {model: openai/gpt-4o-mini, api_base: %q}
  - model_name: gone
    litellm_params: {model: openai/gpt-4o-mini, api_base: %q}
router_settings: {allowed_fails: 100, num_retries: 0}
general_settings: {master_key: `+masterKey+`}
`, withSecrets(okSrv.URL+"/v1"), withSecrets(failing.URL()), withSecrets(gone.URL+"/v1")))
	secrets := []string{"SECRETPASS", "SECRETQUERY", "alice", "api-key"}
	check := func(what string, b []byte) {
		t.Helper()
		for _, s := range secrets {
			if bytes.Contains(b, []byte(s)) {
				t.Errorf("%s shows %q: %s", what, s, b)
			}
		}
	}
	dump := func(resp *http.Response) []byte {
		var b bytes.Buffer
		resp.Header.Write(&b)
		b.Write(readAll(t, resp.Body))
		return b.Bytes()
	}
	for _, model := range []string{"ok", "failing", "gone"} {
		for _, stream := range []string{"false", "true"} {
			if model == "ok" && stream == "true" {
				continue // the upstream replays a non-streamed answer
			}
			resp := g.chat(`{"model":"` + model + `","stream":` + stream + `,"messages":[{"role":"user","content":"hi"}]}`)
			b := dump(resp)
			if (model == "ok") != (resp.StatusCode == 200) {
				t.Errorf("%s: status %d: %s", model, resp.StatusCode, b)
			}
			check(model+" stream="+stream, b)
		}
	}
	check("/model/info", dump(g.do("GET", "/model/info", "")))
	check("/v1/model/info", dump(g.do("GET", "/v1/model/info", "")))
	check("RouteStates", []byte(fmt.Sprintf("%+v", g.gw.RouteStates())))
	recs := g.sink.all()
	if len(recs) != 5 {
		t.Fatalf("usage records = %d, want 5", len(recs))
	}
	for _, u := range recs {
		if u.APIBase == "" {
			t.Errorf("usage record without api_base: %+v", u)
		}
		check("usage record", []byte(fmt.Sprintf("%+v", u)))
	}
}
