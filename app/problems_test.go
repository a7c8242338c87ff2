package app

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/clawgate/clawgate/app/keychain"
)

const goodYAML = "model_list:\n  - model_name: m\n    litellm_params: {model: openai/gpt-4o-mini, api_key: sk-x}\n"

// brokenYAML has an error at line 3, key model_list[0].litellm_params.model.
const brokenYAML = "model_list:\n  - model_name: m\n    litellm_params: {api_key: sk-x}\n"

func TestBrokenConfigAtLaunch(t *testing.T) {
	t.Setenv("LITELLM_MASTER_KEY", "sk-test-master")
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.yaml")

	// Headless (KeepGoing off) still refuses to start on a broken file.
	os.WriteFile(cfg, []byte(brokenYAML), 0o600)
	if _, err := New(Options{ConfigPath: cfg, DataDir: dir, Logger: quiet(), NoKeychain: true}); err == nil {
		t.Fatal("headless New accepted a broken config")
	}

	// The tray with no last good config: it runs, does not serve, and names file, line and key.
	a := startApp(t, Options{ConfigPath: cfg, DataDir: dir, KeepGoing: true})
	st := a.Status()
	if st.State == StateRunning || st.Addr != "" {
		t.Fatalf("serving with a broken config and no last good one: %+v", st)
	}
	ps := st.Problems()
	if len(ps) == 0 || ps[0].Severity != SevError || ps[0].Title != "Config broken: not serving" ||
		ps[0].File != cfg || ps[0].Line != 3 || ps[0].Key != "model_list[0].litellm_params.model" {
		t.Fatalf("problems = %+v", ps)
	}

	// Fixing the file (Retry) starts serving, and keeps the copy.
	os.WriteFile(cfg, []byte(goodYAML), 0o600)
	if err := a.Reload(); err != nil {
		t.Fatalf("Reload: %v", err)
	}
	st = a.Status()
	if st.State != StateRunning || st.ConfigErr != nil || len(st.Problems()) != 0 {
		t.Fatalf("after the fix: %+v problems %+v", st, st.Problems())
	}
	resp, err := http.Get(st.BaseURL() + "/health/liveliness")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("liveliness after the fix: %v %v", resp, err)
	}
	resp.Body.Close()
	if data, _ := os.ReadFile(filepath.Join(dir, lastGoodName)); string(data) != goodYAML {
		t.Fatalf("last good copy = %q", data)
	}

	// A broken edit while running: the previous config stays, a warning names the line.
	os.WriteFile(cfg, []byte(brokenYAML), 0o600)
	if err := a.Reload(); err == nil {
		t.Fatal("a broken reload was applied")
	}
	ps = a.Status().Problems()
	if len(ps) != 1 || ps[0].Severity != SevWarning || ps[0].Line != 3 || !strings.Contains(ps[0].Title, "previous config stays") {
		t.Fatalf("problems after a broken reload = %+v", ps)
	}

	// Next launch with the file still broken: the last good copy serves, and says so.
	b := startApp(t, Options{ConfigPath: cfg, DataDir: dir, KeepGoing: true})
	st = b.Status()
	if st.State != StateRunning || !st.LastGood || fmt.Sprint(st.Models) != "[m]" {
		t.Fatalf("last good not served: %+v", st)
	}
	if ps := st.Problems(); len(ps) != 1 || ps[0].Title != "Config broken: serving the last good config" || ps[0].Line != 3 {
		t.Fatalf("problems = %+v", ps)
	}
}

func TestUnresolvedRouteKeys(t *testing.T) {
	t.Setenv("LITELLM_MASTER_KEY", "sk-test-master")
	t.Setenv("CLAWGATE_TEST_UNSET_KEY", "")
	os.Unsetenv("CLAWGATE_TEST_UNSET_KEY")
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.yaml")
	os.WriteFile(cfg, []byte("model_list:\n"+
		"  - model_name: a\n    litellm_params: {model: openai/gpt-4o-mini, api_key: keychain/missing}\n"+
		"  - model_name: b\n    litellm_params: {model: openai/gpt-4o-mini, api_key: os.environ/CLAWGATE_TEST_UNSET_KEY}\n"+
		"  - model_name: c\n    litellm_params: {model: openai/gpt-4o-mini, api_key: sk-literal}\n"), 0o600)
	a := startApp(t, Options{ConfigPath: cfg, DataDir: dir, KeepGoing: true, Secrets: mapSecrets{}})
	st := a.Status()
	if st.State != StateRunning || len(st.Models) != 3 {
		t.Fatalf("status = %+v", st)
	}
	var titles []string
	for _, p := range st.Problems() {
		titles = append(titles, p.Title)
	}
	got := strings.Join(titles, "\n")
	for _, want := range []string{"No API key for route a", "No API key for route b"} {
		if !strings.Contains(got, want) {
			t.Errorf("problems miss %q:\n%s", want, got)
		}
	}
	if len(titles) != 2 {
		t.Errorf("want 2 problems, got %q", titles)
	}
	// The details say what is missing and how to fix it.
	var details []string
	for _, p := range st.Problems() {
		details = append(details, p.Detail)
	}
	for _, want := range []string{"model_list[0] (a).api_key: keychain/missing", "clawgate keys set missing",
		"model_list[1] (b).api_key: environment variable CLAWGATE_TEST_UNSET_KEY is not set"} {
		if !strings.Contains(strings.Join(details, "\n"), want) {
			t.Errorf("details miss %q: %q", want, details)
		}
	}
}

// lockedKeyring is a keychain whose every call fails the way a locked Secret Service does.
type lockedKeyring struct {
	locked bool
	m      mapSecrets
}

func (l *lockedKeyring) Get(name string) (string, error) {
	if l.locked {
		return "", fmt.Errorf("master key: %w: the Secret Service has no unlocked default keyring", keychain.ErrUnavailable)
	}
	return l.m.Get(name)
}

func (l *lockedKeyring) Set(name, v string) error {
	if l.locked {
		return fmt.Errorf("%w: locked", keychain.ErrUnavailable)
	}
	return l.m.Set(name, v)
}

func TestKeyringLocked(t *testing.T) {
	t.Setenv("LITELLM_MASTER_KEY", "")
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.yaml")
	os.WriteFile(cfg, []byte(goodYAML), 0o600)
	kr := &lockedKeyring{locked: true, m: mapSecrets{}}
	a := startApp(t, Options{ConfigPath: cfg, DataDir: dir, KeepGoing: true, Secrets: kr})
	st := a.Status()
	if st.Auth != "off" || st.KeyringErr == nil {
		t.Fatalf("auth %q keyring err %v", st.Auth, st.KeyringErr)
	}
	if ps := st.Problems(); len(ps) != 1 || ps[0].ID != "keyring" {
		t.Fatalf("problems = %+v", ps)
	}
	// Still locked: Unlock fails and says so; setting a key says there is nowhere to keep it.
	if err := a.RetryKeyring(); err == nil {
		t.Fatal("RetryKeyring succeeded on a locked keyring")
	}
	if err := a.SetMasterKey("sk-chosen-by-user"); !errors.Is(err, ErrNoKeyring) || !strings.Contains(err.Error(), "LITELLM_MASTER_KEY") {
		t.Fatalf("SetMasterKey on a locked keyring: %v", err)
	}
	// Unlocked: the key is generated, stored and in force; the problem is gone.
	kr.locked = false
	if err := a.RetryKeyring(); err != nil {
		t.Fatalf("RetryKeyring: %v", err)
	}
	st = a.Status()
	if st.Auth != "keychain" || st.KeyringErr != nil || len(st.Problems()) != 0 || a.MasterKey() == "" || a.MasterKey() != kr.m[keychain.MasterKeyName] {
		t.Fatalf("after unlock: auth %q err %v problems %+v", st.Auth, st.KeyringErr, st.Problems())
	}
	resp, err := http.Get(st.BaseURL() + "/v1/models")
	if err != nil || resp.StatusCode != 401 {
		t.Fatalf("no key after unlock: %v %v", resp, err)
	}
	resp.Body.Close()
	// A key the user sets replaces it.
	if err := a.SetMasterKey("sk-chosen-by-user"); err != nil || a.MasterKey() != "sk-chosen-by-user" {
		t.Fatalf("SetMasterKey: %v, in force %q", err, a.MasterKey())
	}
}

// TestOpenClawProblems: a sync that could not run is a problem the tray names, not just a field
// of the status; agents that pin their own model are the user's choice, not a problem.
func TestOpenClawProblems(t *testing.T) {
	var st Status
	st.State = StateRunning
	st.OpenClaw.Connected = true
	st.OpenClaw.OutOfSync = "OpenClaw's config is locked"
	st.OpenClaw.Pinned = "coder: anthropic/claude-opus-4-6"
	var titles []string
	for _, p := range st.Problems() {
		titles = append(titles, p.Title)
	}
	want := []string{"OpenClaw out of sync: OpenClaw's config is locked"}
	if !slices.Equal(titles, want) {
		t.Fatalf("problems %q, want %q", titles, want)
	}
}
