package app

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clawgate/clawgate/app/ledger"
	"github.com/clawgate/clawgate/app/openclaw"
)

// ocHome makes a throwaway HOME with no OpenClaw or LiteLLM variables, and a gateway config.
func ocHome(t *testing.T) (home, cfg string) {
	t.Helper()
	home = t.TempDir()
	t.Setenv("HOME", home)
	for _, k := range []string{"LITELLM_API_KEY", "OPENCLAW_STATE_DIR", "OPENCLAW_CONFIG_PATH", "OPENCLAW_HOME", "OPENCLAW_PROFILE", "OPENCLAW_GATEWAY_PORT"} {
		t.Setenv(k, "")
	}
	cfg = filepath.Join(t.TempDir(), "config.yaml")
	os.WriteFile(cfg, []byte("model_list:\n  - model_name: a\n    litellm_params: {model: openai/gpt-4o-mini}\n  - model_name: b\n    litellm_params: {model: anthropic/claude-sonnet-4-5}\ngeneral_settings: {master_key: sk-master}\n"), 0o600)
	return home, cfg
}

func envKey(t *testing.T, stateDir string) string {
	t.Helper()
	v, _ := openclaw.LookupEnvFile(filepath.Join(stateDir, ".env"), "LITELLM_API_KEY")
	return v
}

// useProfile points the OpenClaw variables at a profile's state folder, "" for the default.
func useProfile(t *testing.T, stateDir string) {
	t.Setenv("OPENCLAW_STATE_DIR", stateDir)
}

func aliasOf(t *testing.T, a *App, key string) string {
	t.Helper()
	k, err := a.led().KeyInfo(context.Background(), key)
	if err != nil {
		t.Fatalf("key info: %v", err)
	}
	return k.KeyAlias
}

// twoProfiles makes OpenClaw's default profile and a "work" profile, each with a config, and a
// serving app; it returns their state folders.
func twoProfiles(t *testing.T) (a *App, def, work string) {
	t.Helper()
	home, cfg := ocHome(t)
	def, work = filepath.Join(home, ".openclaw"), filepath.Join(home, ".openclaw-work")
	for _, dir := range []string{def, work} {
		os.MkdirAll(dir, 0o700)
		os.WriteFile(filepath.Join(dir, "openclaw.json"), []byte("{ gateway: { mode: \"local\" } }\n"), 0o600)
	}
	return startApp(t, Options{ConfigPath: cfg, DataDir: t.TempDir()}), def, work
}

func TestOpenClawKeyPerProfile(t *testing.T) {
	a, def, work := twoProfiles(t)
	ctx := context.Background()
	connect := func(stateDir string) []string {
		t.Helper()
		useProfile(t, stateDir)
		lines, err := a.OpenClawConnect(ctx, OpenClawConnectOptions{})
		if err != nil {
			t.Fatalf("connect %s: %v (%q)", stateDir, err, lines)
		}
		return lines
	}

	connect("")
	connect(work)
	kDef, kWork := envKey(t, def), envKey(t, work)
	if kDef == "" || kWork == "" || kDef == kWork {
		t.Fatalf("keys: default %q, work %q", kDef, kWork)
	}
	if got := aliasOf(t, a, kDef); got != "openclaw" {
		t.Errorf("default profile's alias %q", got)
	}
	if got := aliasOf(t, a, kWork); got != "openclaw-work" {
		t.Errorf("work profile's alias %q", got)
	}
	// Connecting either again changes no key.
	connect("")
	connect(work)
	if envKey(t, def) != kDef || envKey(t, work) != kWork || !a.keyWorks(ctx, kDef) || !a.keyWorks(ctx, kWork) {
		t.Fatal("a second connect changed or broke a key")
	}

	// A dead key in the default profile's .env (its key was deleted): connect replaces the line
	// with a key it mints, instead of minting one nobody sends; the work key is untouched.
	if err := a.led().DeleteKeys(ctx, []string{kDef}, nil); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(def, ".env"), []byte("# mine\nLITELLM_API_KEY="+kDef+"\nOTHER=1\n"), 0o600)
	lines := connect("")
	kDef2 := envKey(t, def)
	if kDef2 == kDef || !a.keyWorks(ctx, kDef2) || !a.keyWorks(ctx, kWork) {
		t.Fatalf("after repair: default %q works %v, work works %v (%q)", kDef2, a.keyWorks(ctx, kDef2), a.keyWorks(ctx, kWork), lines)
	}
	if b, _ := os.ReadFile(filepath.Join(def, ".env")); string(b) != "# mine\nLITELLM_API_KEY="+kDef2+"\nOTHER=1\n" {
		t.Errorf(".env after the repair: %q", b)
	}
	if !strings.Contains(strings.Join(lines, "\n"), "no OpenClaw gateway answers on port") {
		t.Errorf("connect does not say whether OpenClaw's gateway must restart: %q", lines)
	}
}

// TestOpenClawKeyLegacyShared: an older Clawgate gave every profile alias "openclaw", so the work
// profile may hold that key while the default profile's key is lost. Connecting the default
// profile must not regenerate the key work sends: that key moves to alias openclaw-work.
func TestOpenClawKeyLegacyShared(t *testing.T) {
	a, def, work := twoProfiles(t)
	ctx := context.Background()
	alias := "openclaw"
	shared, _, err := a.led().GenerateKey(ctx, ledger.KeyRequest{KeyAlias: &alias})
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(work, ".env"), []byte("LITELLM_API_KEY="+shared+"\n"), 0o600)
	os.WriteFile(filepath.Join(def, ".env"), []byte("LITELLM_API_KEY=sk-lost-long-ago\n"), 0o600)

	useProfile(t, "")
	lines, err := a.OpenClawConnect(ctx, OpenClawConnectOptions{})
	if err != nil {
		t.Fatalf("connect: %v (%q)", err, lines)
	}
	kDef := envKey(t, def)
	if !a.keyWorks(ctx, shared) {
		t.Fatalf("the key the work profile sends was regenerated (%q)", lines)
	}
	if kDef == shared || !a.keyWorks(ctx, kDef) {
		t.Fatalf("default profile's key %q", kDef)
	}
	if aliasOf(t, a, shared) != "openclaw-work" || aliasOf(t, a, kDef) != "openclaw" {
		t.Errorf("aliases: work %q, default %q (%q)", aliasOf(t, a, shared), aliasOf(t, a, kDef), lines)
	}
}
