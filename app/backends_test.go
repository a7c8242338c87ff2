package app

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clawgate/clawgate/internal/fakeupstream"
)

func chatOnce(t *testing.T, a *App, model string) {
	t.Helper()
	req, _ := http.NewRequest("POST", a.Status().BaseURL()+"/v1/chat/completions",
		bytes.NewReader([]byte(`{"model":"`+model+`","messages":[{"role":"user","content":"hi"}]}`)))
	req.Header.Set("Authorization", "Bearer sk-master")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("%s: status %d", model, resp.StatusCode)
	}
}

// Choosing a backend writes order 1 on it and 2.. on the group's others (only those lines change,
// comments kept), and the next request goes to it; choosing back moves it again.
func TestUseBackend(t *testing.T) {
	upA, upB := fakeupstream.New(), fakeupstream.New()
	sa, sb := httptest.NewServer(upA), httptest.NewServer(upB)
	defer sa.Close()
	defer sb.Close()
	text := "# mine\ngeneral_settings:\n  master_key: sk-master\nmodel_list:\n" +
		"  # first: direct\n  - model_name: gpt-4o\n    litellm_params:\n      model: openai/gpt-4o\n      api_base: " + sa.URL + "/v1 # A\n      api_key: sk-a\n" +
		"  - model_name: other\n    litellm_params:\n      model: openai/gpt-4o-mini\n      api_base: " + sa.URL + "/v1\n      api_key: sk-a\n" +
		"  # second: the reseller\n  - model_name: gpt-4o\n    litellm_params:\n      model: openai/gpt-4o\n      api_base: " + sb.URL + "/v1\n      api_key: sk-b\n"
	dir := t.TempDir()
	path := filepath.Join(dir, "config.yaml")
	os.WriteFile(path, []byte(text), 0o600)
	a := startApp(t, Options{ConfigPath: path, DataDir: filepath.Join(dir, "data"), Secrets: mapSecrets{}})

	bg := a.Status().Backends
	if len(bg) != 1 || bg[0].Group != "gpt-4o" || len(bg[0].Backends) != 2 || bg[0].Current != -1 ||
		bg[0].Backends[0].Index != 0 || bg[0].Backends[1].Index != 2 || !strings.Contains(bg[0].Backends[1].Label, "127.0.0.1") {
		t.Fatalf("backends %+v", bg)
	}
	if err := a.UseBackend(2); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(path)
	want := strings.Replace(text, "      api_key: sk-a\n  - model_name: other", "      api_key: sk-a\n      order: 2\n  - model_name: other", 1) +
		"      order: 1\n"
	if string(got) != want {
		t.Fatalf("file after UseBackend:\n%s\nwant:\n%s", got, want)
	}
	if bg := a.Status().Backends; bg[0].Current != 1 {
		t.Fatalf("after choosing B: %+v", bg)
	}
	for range 5 {
		chatOnce(t, a, "gpt-4o")
	}
	if upA.Requests() != 0 || upB.Requests() != 5 {
		t.Fatalf("A served %d, B %d; want all 5 by B", upA.Requests(), upB.Requests())
	}
	if err := a.UseBackend(0); err != nil {
		t.Fatal(err)
	}
	got, _ = os.ReadFile(path)
	if !strings.Contains(string(got), "api_key: sk-a\n      order: 1\n") || !strings.HasSuffix(string(got), "api_key: sk-b\n      order: 2\n") {
		t.Fatalf("file after choosing A back:\n%s", got)
	}
	chatOnce(t, a, "gpt-4o")
	if upA.Requests() != 1 || upB.Requests() != 5 {
		t.Fatalf("A served %d, B %d; want the last by A", upA.Requests(), upB.Requests())
	}
	if err := a.UseBackend(1); err == nil || !strings.Contains(err.Error(), "one deployment") {
		t.Errorf("a single-deployment group: %v", err)
	}
	if err := a.UseBackend(9); err == nil {
		t.Error("an entry that is not there: no error")
	}
}
