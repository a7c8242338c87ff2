package app

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clawgate/clawgate/app/keychain"
)

func modelsStatus(t *testing.T, a *App, key string) int {
	t.Helper()
	req, _ := http.NewRequest("GET", a.Status().BaseURL()+"/v1/models", nil)
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestRegenerateMasterKey(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.yaml")
	os.WriteFile(cfg, []byte("model_list:\n  - model_name: m\n    litellm_params: {model: openai/gpt-4o, api_key: sk-x}\n"), 0o600)
	t.Setenv("LITELLM_MASTER_KEY", "")
	secrets := mapSecrets{}
	a := startApp(t, Options{ConfigPath: cfg, DataDir: filepath.Join(dir, "data"), Secrets: secrets})
	old := a.MasterKey()
	if old == "" || a.Status().Auth != "keychain" {
		t.Fatalf("master %q from %s", old, a.Status().Auth)
	}
	key, err := a.RegenerateMasterKey()
	if err != nil {
		t.Fatal(err)
	}
	if key == old || !strings.HasPrefix(key, "sk-") || secrets[keychain.MasterKeyName] != key {
		t.Fatalf("new key %q (old %q), keychain %q", key, old, secrets[keychain.MasterKeyName])
	}
	if modelsStatus(t, a, old) != 401 || modelsStatus(t, a, key) != 200 {
		t.Errorf("old key %d, new key %d", modelsStatus(t, a, old), modelsStatus(t, a, key))
	}

	b, _ := newEditApp(t, "general_settings:\n  master_key: sk-in-config-1\nmodel_list: []\n")
	if _, err := b.RegenerateMasterKey(); err == nil || !strings.Contains(err.Error(), "config.yaml") {
		t.Errorf("a key in config.yaml: %v", err)
	}
}
