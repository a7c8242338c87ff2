package app

import (
	"bytes"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/clawgate/clawgate/internal/fakeupstream"
)

func chatStatus(t *testing.T, a *App, model string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", a.Status().BaseURL()+"/v1/chat/completions",
		bytes.NewReader([]byte(`{"model":"`+model+`","messages":[{"role":"user","content":"hi"}]}`)))
	req.Header.Set("Authorization", "Bearer sk-master")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// An upstream behind a certificate the system does not trust answers once its CA file is named in
// general_settings.clawgate_ca_file; clawgate_https_proxy sends upstream calls through a proxy,
// except calls to this machine (a local model server), which stay direct.
func TestUpstreamCAAndProxy(t *testing.T) {
	t.Cleanup(func() { netMu.Lock(); netLast = "\x01"; netMu.Unlock() }) // the next test's apply resets the transport
	tlsUp := httptest.NewTLSServer(fakeupstream.New())
	defer tlsUp.Close()
	plainUp := httptest.NewServer(fakeupstream.New())
	defer plainUp.Close()
	var proxied atomic.Int64
	plainHost := strings.TrimPrefix(plainUp.URL, "http://")
	prox := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		proxied.Add(1)
		r.RequestURI = ""
		if r.URL.Hostname() == "upstream.test" { // a name only the proxy knows
			r.URL.Host = plainHost
		}
		resp, err := http.DefaultTransport.RoundTrip(r)
		if err != nil {
			http.Error(w, err.Error(), 502)
			return
		}
		defer resp.Body.Close()
		for k, v := range resp.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(resp.StatusCode)
		io.Copy(w, resp.Body)
	}))
	defer prox.Close()

	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: tlsUp.Certificate().Raw}), 0o600)
	routes := "model_list:\n  - model_name: tls\n    litellm_params: {model: openai/gpt-4o, api_base: " + tlsUp.URL + "/v1, api_key: sk-x}\n" +
		"  - model_name: plain\n    litellm_params: {model: openai/gpt-4o, api_base: " + plainUp.URL + "/v1, api_key: sk-x}\n" +
		"  - model_name: remote\n    litellm_params: {model: openai/gpt-4o, api_base: \"http://upstream.test:" + plainHost[strings.LastIndex(plainHost, ":")+1:] + "/v1\", api_key: sk-x}\n" +
		"router_settings:\n  num_retries: 0\n"
	path := filepath.Join(dir, "config.yaml")
	os.WriteFile(path, []byte("general_settings:\n  master_key: sk-master\n"+routes), 0o600)
	a := startApp(t, Options{ConfigPath: path, DataDir: filepath.Join(dir, "data"), Secrets: mapSecrets{}})
	if code, body := chatStatus(t, a, "tls"); code == 200 || !strings.Contains(body, "certificate") {
		t.Fatalf("an untrusted upstream answered: %d %s", code, body)
	}
	_, v, _ := a.Settings()
	if _, err := a.editFile(v, func(f *configFile) ([]byte, error) {
		return f.setSectionValue("general_settings", caKey, yamlString(ca))
	}); err != nil {
		t.Fatal(err)
	}
	if code, body := chatStatus(t, a, "tls"); code != 200 {
		t.Fatalf("with the CA file: %d %s", code, body)
	}
	if code, _ := chatStatus(t, a, "plain"); code != 200 || proxied.Load() != 0 {
		t.Fatalf("plain: %d, proxied %d", code, proxied.Load())
	}
	v, _ = a.ConfigVersionNow()
	if _, err := a.editFile(v, func(f *configFile) ([]byte, error) {
		return f.setSectionValue("general_settings", proxyKey, yamlString(prox.URL))
	}); err != nil {
		t.Fatal(err)
	}
	if code, body := chatStatus(t, a, "remote"); code != 200 || proxied.Load() != 1 {
		t.Fatalf("through the proxy: %d %s, proxied %d", code, body, proxied.Load())
	}
	if code, body := chatStatus(t, a, "plain"); code != 200 || proxied.Load() != 1 {
		t.Fatalf("a loopback upstream with a proxy set: %d %s, proxied %d (want it direct)", code, body, proxied.Load())
	}
	// A bad value is refused before it is written.
	v, _ = a.ConfigVersionNow()
	if _, err := a.editFile(v, func(f *configFile) ([]byte, error) {
		return f.setSectionValue("general_settings", proxyKey, "ftp://x")
	}); err == nil || !strings.Contains(err.Error(), "scheme") {
		t.Errorf("a proxy with a bad scheme: %v", err)
	}
}
