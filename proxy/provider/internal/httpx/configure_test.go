package httpx

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// An explicit proxy takes every call but those to this machine: a local model server (or any
// loopback address) is called direct, as the environment's HTTPS_PROXY/NO_PROXY rules do.
func TestConfiguredProxySkipsLoopback(t *testing.T) {
	var proxied atomic.Int32
	var seen atomic.Value
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		proxied.Add(1)
		seen.Store(r.URL.String()) // a proxy is sent the absolute URL
		io.WriteString(w, "via proxy")
	}))
	defer proxy.Close()
	local := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "direct") }))
	defer local.Close()
	if err := Configure(proxy.URL, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { Configure("", nil) })

	get := func(u string) string {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, u, nil)
		resp, err := Shared().Do(req)
		if err != nil {
			t.Fatalf("GET %s: %v", u, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	port := local.URL[strings.LastIndex(local.URL, ":"):]
	for _, u := range []string{local.URL + "/v1/models", "http://localhost" + port + "/v1/models"} {
		if got := get(u); got != "direct" {
			t.Errorf("%s answered %q, want it called direct", u, got)
		}
	}
	if n := proxied.Load(); n != 0 {
		t.Errorf("the proxy saw %d loopback calls", n)
	}
	if got := get("http://models.example.com/v1/models"); got != "via proxy" || seen.Load() != "http://models.example.com/v1/models" {
		t.Errorf("a remote call answered %q, proxy saw %v: want it through the proxy", got, seen.Load())
	}
}
