package app

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/clawgate/clawgate/app/keychain"
	"github.com/clawgate/clawgate/app/store"
	"github.com/clawgate/clawgate/internal/fakeupstream"
)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func startApp(t *testing.T, opts Options) *App {
	t.Helper()
	opts.Logger = quiet()
	if opts.Secrets == nil {
		opts.NoKeychain = true
	}
	if opts.Port == 0 {
		opts.Port = freePort(t)
	}
	a, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if err := a.Start(context.Background()); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		a.Stop(ctx)
	})
	return a
}

func TestFirstRunWritesExampleAndServes(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "conf", "config.yaml")
	a := startApp(t, Options{ConfigPath: cfg, DataDir: filepath.Join(dir, "data")})
	st := a.Status()
	if !st.FirstRun || st.State != StateRunning || st.ConfigPath != cfg || len(st.Models) == 0 {
		t.Fatalf("status = %+v", st)
	}
	fi, err := os.Stat(cfg)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("example config: %v %v", fi, err)
	}
	resp, err := http.Get(st.BaseURL() + "/health/liveliness")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("liveliness: %v %v", resp, err)
	}
	resp.Body.Close()

	// A second start finds the file: not a first run, and the file is left as it was.
	os.WriteFile(cfg, []byte("model_list: []\n# mine\n"), 0o600)
	b := startApp(t, Options{ConfigPath: cfg, DataDir: filepath.Join(dir, "data")})
	if b.Status().FirstRun {
		t.Error("second start is not a first run")
	}
	if got, _ := os.ReadFile(cfg); string(got) != "model_list: []\n# mine\n" {
		t.Errorf("user config rewritten: %q", got)
	}
}

func TestPortInUse(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port
	a, err := New(Options{Model: "gpt-4o-mini", Port: port, DataDir: t.TempDir(), Logger: quiet(), NoKeychain: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Stop(context.Background()) }) // a failed start still holds the ledger
	err = a.Start(context.Background())
	if !errors.Is(err, ErrPortInUse) || !strings.Contains(err.Error(), "--port") || !strings.Contains(err.Error(), strings.TrimPrefix(l.Addr().String(), "127.0.0.1:")) {
		t.Fatalf("err = %v", err)
	}
	if st := a.Status(); st.State != StateError || st.Err == nil {
		t.Errorf("status = %+v", st)
	}
}

func TestRefusesOpenBindWithoutMasterKey(t *testing.T) {
	t.Setenv("LITELLM_MASTER_KEY", "")
	a, err := New(Options{Model: "gpt-4o-mini", Host: "0.0.0.0", Port: freePort(t), DataDir: t.TempDir(), Logger: quiet(), NoKeychain: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Stop(context.Background()) })
	if err := a.Start(context.Background()); !errors.Is(err, ErrNeedMasterKey) {
		t.Fatalf("err = %v", err)
	}
	t.Setenv("LITELLM_MASTER_KEY", "sk-master")
	b := startApp(t, Options{Model: "gpt-4o-mini", Host: "0.0.0.0", DataDir: t.TempDir()})
	if b.Status().State != StateRunning {
		t.Errorf("with a master key the open bind must work: %+v", b.Status())
	}
}

func TestQuickStartModel(t *testing.T) {
	a := startApp(t, Options{Model: "claude-opus-4-6", DataDir: t.TempDir()})
	if m := a.Status().Models; len(m) != 1 || m[0] != "claude-opus-4-6" {
		t.Errorf("models = %v", m)
	}
}

func TestBrokenConfigNamesFileAndLine(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.yaml")
	os.WriteFile(cfg, []byte("model_list:\n  - model_name: x\n    litellm_params: {}\n"), 0o600)
	_, err := New(Options{ConfigPath: cfg, DataDir: dir, Logger: quiet(), NoKeychain: true})
	if err == nil || !strings.Contains(err.Error(), "config.yaml:3") || !strings.Contains(err.Error(), "model") {
		t.Fatalf("err = %v", err)
	}
}

func TestReloadOnChange(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.yaml")
	os.WriteFile(cfg, []byte("model_list:\n  - model_name: one\n    litellm_params: {model: openai/gpt-4o-mini}\n"), 0o600)
	a := startApp(t, Options{ConfigPath: cfg, DataDir: dir})
	events, cancel := a.Subscribe()
	defer cancel()

	// Replace the file by rename, as editors do.
	tmp := filepath.Join(dir, "config.yaml.tmp")
	os.WriteFile(tmp, []byte("model_list:\n  - model_name: one\n    litellm_params: {model: openai/gpt-4o-mini}\n  - model_name: two\n    litellm_params: {model: openai/gpt-4o}\n"), 0o600)
	if err := os.Rename(tmp, cfg); err != nil {
		t.Fatal(err)
	}
	waitFor(t, events, func(s Status) bool { return len(s.Models) == 2 })

	// A broken file keeps the old config in force and says so.
	os.WriteFile(cfg, []byte("model_list: [\n"), 0o600)
	waitFor(t, events, func(s Status) bool { return s.Err != nil && len(s.Models) == 2 })
	if a.Status().State != StateRunning {
		t.Error("a broken config must not stop the gateway")
	}
}

func waitFor(t *testing.T, events <-chan Event, ok func(Status) bool) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case e := <-events:
			if ok(e.Status) {
				return
			}
		case <-deadline:
			t.Fatal("timed out waiting for the status")
		}
	}
}

// mapSecrets is an in-memory keychain.
type mapSecrets map[string]string

func (m mapSecrets) Get(name string) (string, error) {
	if v, ok := m[name]; ok {
		return v, nil
	}
	return "", keychain.ErrNotFound
}

func (m mapSecrets) Set(name, v string) error { m[name] = v; return nil }

func TestMasterKeyAndKeychainRefs(t *testing.T) {
	t.Setenv("LITELLM_MASTER_KEY", "")
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.yaml")
	os.WriteFile(cfg, []byte("model_list:\n  - model_name: m\n    litellm_params: {model: openai/gpt-4o-mini, api_key: keychain/openai}\n"), 0o600)

	// A reference to a secret that is not there: an error naming the fix, not a start.
	s := mapSecrets{}
	_, err := New(Options{ConfigPath: cfg, DataDir: dir, Logger: quiet(), Secrets: s})
	if err == nil || !strings.Contains(err.Error(), "clawgate keys set openai") {
		t.Fatalf("err = %v", err)
	}

	s["openai"] = "sk-provider-SECRET"
	a := startApp(t, Options{ConfigPath: cfg, DataDir: dir, Secrets: s})
	key := s[keychain.MasterKeyName]
	if !strings.HasPrefix(key, "sk-") || a.MasterKey() != key || a.Status().Auth != "keychain" {
		t.Fatalf("master key %q, app has %q, auth %q", key, a.MasterKey(), a.Status().Auth)
	}
	// The generated key is in force: no key is 401, the master key is let through.
	resp, err := http.Get(a.Status().BaseURL() + "/v1/models")
	if err != nil || resp.StatusCode != 401 {
		t.Fatalf("no key: %v %v", resp, err)
	}
	resp.Body.Close()
	req, _ := http.NewRequest("GET", a.Status().BaseURL()+"/v1/models", nil)
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err = http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("master key: %v %v", resp, err)
	}
	resp.Body.Close()
	// A second start keeps the same key.
	b := startApp(t, Options{ConfigPath: cfg, DataDir: dir, Secrets: s})
	if b.MasterKey() != key {
		t.Error("the master key changed between runs")
	}
	// The config's own key wins.
	os.WriteFile(cfg, []byte("general_settings: {master_key: sk-from-config}\n"), 0o600)
	c := startApp(t, Options{ConfigPath: cfg, DataDir: dir, Secrets: s})
	if c.MasterKey() != "sk-from-config" || c.Status().Auth != "config" {
		t.Errorf("config master key not used: %q %q", c.MasterKey(), c.Status().Auth)
	}
}

func TestStoredPromptsAreRedacted(t *testing.T) {
	up := httptest.NewServer(fakeupstream.New())
	defer up.Close()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.yaml")
	os.WriteFile(cfg, []byte("model_list:\n  - model_name: m\n    litellm_params: {model: openai/gpt-4o-mini, api_base: \""+up.URL+"/v1\"}\ngeneral_settings: {store_prompts_in_spend_logs: true}\n"), 0o600)
	a := startApp(t, Options{ConfigPath: cfg, DataDir: dir})
	for _, body := range []string{
		`{"model":"m","messages":[{"role":"user","content":"my key is sk-abcdefghijklmnopqrstuvwx"}]}`,
		`{"model":"m","stream":true,"messages":[{"role":"user","content":"streamed sk-abcdefghijklmnopqrstuvwx"}]}`,
	} {
		resp, err := http.Post(a.Status().BaseURL()+"/v1/chat/completions", "application/json", strings.NewReader(body))
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("call: %v %v", resp, err)
		}
		io.ReadAll(resp.Body)
		resp.Body.Close()
	}
	ctx := context.Background()
	if err := a.ledger.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	logs, _, err := a.ledger.Store().QuerySpendLogs(ctx, store.SpendQuery{IncludeBodies: true})
	if err != nil || len(logs) != 2 {
		t.Fatalf("logs %d, %v", len(logs), err)
	}
	for _, l := range logs {
		m, r := string(l.Messages), string(l.Response)
		if !strings.Contains(m, "[REDACTED]") || strings.Contains(m, "sk-abcdefghijklmnopqrstuvwx") || !strings.Contains(r, "Hello") {
			t.Errorf("stored bodies: messages %s response %.200s", m, r)
		}
	}
}
