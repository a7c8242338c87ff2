package openclaw

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSyncModelsJSON(t *testing.T) {
	state := t.TempDir()
	files := map[string]string{
		// The port moved: OpenClaw would keep this stale baseUrl over the config's.
		"main": `{"providers":{"litellm":{"baseUrl":"http://127.0.0.1:4000/v1","apiKey":"LITELLM_API_KEY","api":"openai-completions","models":[]},"openai":{"baseUrl":"https://api.openai.com/v1"}}}`,
		// Already right (without /v1 reaches the same gateway).
		"coder": `{"providers":{"litellm":{"baseUrl":"http://localhost:4555","models":[]}}}`,
		// No litellm provider: OpenClaw fills it from the config.
		"ops": `{"providers":{"openai":{"baseUrl":"https://api.openai.com/v1"}}}`,
	}
	for agent, body := range files {
		p := filepath.Join(state, "agents", agent, "agent", "models.json")
		os.MkdirAll(filepath.Dir(p), 0o700)
		os.WriteFile(p, []byte(body), 0o600)
	}
	gw := "http://127.0.0.1:4555/v1"
	stale := StaleModelsJSON(state, gw)
	if len(stale) != 1 || stale[filepath.Join(state, "agents", "main", "agent", "models.json")] != "http://127.0.0.1:4000/v1" {
		t.Fatalf("stale = %v", stale)
	}
	backups := t.TempDir()
	lines, err := SyncModelsJSON(state, gw, backups)
	if err != nil || len(lines) != 1 || !strings.Contains(lines[0], "agents/main/agent/models.json") {
		t.Fatalf("SyncModelsJSON: %q %v", lines, err)
	}
	got, _ := os.ReadFile(filepath.Join(state, "agents", "main", "agent", "models.json"))
	want := strings.Replace(files["main"], "http://127.0.0.1:4000/v1", gw, 1)
	if string(got) != want {
		t.Errorf("main's models.json =\n%s\nwant\n%s", got, want)
	}
	for _, agent := range []string{"coder", "ops"} {
		if b, _ := os.ReadFile(filepath.Join(state, "agents", agent, "agent", "models.json")); string(b) != files[agent] {
			t.Errorf("%s's models.json was changed: %s", agent, b)
		}
	}
	if b, err := os.ReadFile(filepath.Join(backups, "agents", "main", "agent_models.json.first.bak")); err != nil || string(b) != files["main"] {
		t.Errorf("backup: %q %v", b, err)
	}
	if lines, err := SyncModelsJSON(state, gw, backups); err != nil || len(lines) != 0 {
		t.Errorf("second sync: %q %v", lines, err)
	}
}
