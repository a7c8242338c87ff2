package app

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clawgate/clawgate/app/openclaw"
)

func TestOpenClawConnectUseSync(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("LITELLM_API_KEY", "")
	t.Setenv("OPENCLAW_STATE_DIR", "")
	t.Setenv("OPENCLAW_CONFIG_PATH", "")
	t.Setenv("OPENCLAW_HOME", "")
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.yaml")
	os.WriteFile(cfg, []byte("model_list:\n  - model_name: a\n    litellm_params: {model: openai/gpt-4o-mini}\n  - model_name: b\n    litellm_params: {model: anthropic/claude-sonnet-4-5}\ngeneral_settings: {master_key: sk-master}\n"), 0o600)
	oc := filepath.Join(home, ".openclaw", "openclaw.json")
	os.MkdirAll(filepath.Dir(oc), 0o700)
	orig := "// keep me\n{\n  gateway: { mode: \"local\" },\n}\n"
	os.WriteFile(oc, []byte(orig), 0o600)
	a := startApp(t, Options{ConfigPath: cfg, DataDir: dir})
	ctx := context.Background()

	// Nothing is edited before connect.
	if _, _, err := a.OpenClawUse(ctx, "a", openclaw.AgentsDefault); err == nil || !strings.Contains(err.Error(), "connect") {
		t.Fatalf("use before connect: %v", err)
	}
	if b, _ := os.ReadFile(oc); string(b) != orig {
		t.Fatal("the file was edited before connect")
	}

	lines, err := a.OpenClawConnect(ctx, OpenClawConnectOptions{})
	if err != nil {
		t.Fatalf("connect: %v (%q)", err, lines)
	}
	env, _ := os.ReadFile(filepath.Join(home, ".openclaw", ".env"))
	key := strings.TrimSpace(strings.TrimPrefix(string(env), "LITELLM_API_KEY="))
	if !strings.HasPrefix(key, "sk-") || key == "sk-master" || !a.keyWorks(ctx, key) {
		t.Fatalf(".env = %q", env)
	}
	b, _ := os.ReadFile(oc)
	for _, want := range []string{"// keep me", `mode: "local"`, a.Status().BaseURL() + "/v1", `"${LITELLM_API_KEY}"`, `id: "a"`, `id: "b"`, "authorization-bearer"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("after connect the file lacks %s:\n%s", want, b)
		}
	}
	// Connecting again keeps the key and changes nothing.
	if _, err := a.OpenClawConnect(ctx, OpenClawConnectOptions{}); err != nil {
		t.Fatal(err)
	}
	if env2, _ := os.ReadFile(filepath.Join(home, ".openclaw", ".env")); string(env2) != string(env) {
		t.Errorf("a second connect replaced a working key: %q", env2)
	}
	// With the key lost, connecting again regenerates the key with alias openclaw: the old
	// secret stops working, the new one works, and only the master key or a live key counts.
	if err := os.Remove(filepath.Join(home, ".openclaw", ".env")); err != nil {
		t.Fatal(err)
	}
	if _, err := a.OpenClawConnect(ctx, OpenClawConnectOptions{}); err != nil {
		t.Fatalf("connect after the .env was lost: %v", err)
	}
	env3, _ := os.ReadFile(filepath.Join(home, ".openclaw", ".env"))
	key3 := strings.TrimSpace(strings.TrimPrefix(string(env3), "LITELLM_API_KEY="))
	if key3 == key || !a.keyWorks(ctx, key3) || a.keyWorks(ctx, key) {
		t.Errorf("regenerated key %q (old %q): new works %v, old works %v", key3, key, a.keyWorks(ctx, key3), a.keyWorks(ctx, key))
	}
	if !a.keyWorks(ctx, a.MasterKey()) || a.keyWorks(ctx, "sk-not-a-key-0123456789") {
		t.Error("keyWorks: the master key must work and an unknown key must not")
	}

	if _, _, err := a.OpenClawUse(ctx, "nope", openclaw.AgentsDefault); err == nil || !strings.Contains(err.Error(), "a, b") {
		t.Errorf("use of an unknown model: %v", err)
	}
	if _, _, err := a.OpenClawUse(ctx, "b", openclaw.AgentsDefault); err != nil {
		t.Fatal(err)
	}
	st, err := a.OpenClawStatus()
	if err != nil || st.Status.Primary != "litellm/b" || !st.Status.PointsHere {
		t.Errorf("status %+v %v", st, err)
	}
	if lines, err := a.OpenClawSync(ctx); err != nil || !strings.Contains(strings.Join(lines, "\n"), "nothing to change") {
		t.Errorf("sync of an in-step file: %q %v", lines, err)
	}
}
