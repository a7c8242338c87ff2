package app

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A custom path to OpenClaw's config, saved in Settings, is where the status reads and Connect
// writes; a relative path or a missing folder is refused before anything is written.
func TestOpenClawCustomPath(t *testing.T) {
	f := newOpenClawFixture(t)
	custom := filepath.Join(t.TempDir(), "wsl-home", "openclaw.json")
	os.MkdirAll(filepath.Dir(custom), 0o700)
	os.WriteFile(custom, []byte(f.orig), 0o600)
	opts := f.opts
	opts.OpenClawConfig = ""
	a := startApp(t, opts)
	if p := a.Status().OpenClaw.Path; p != f.oc {
		t.Fatalf("before: %s", p)
	}
	s, v, _ := a.Settings()
	for _, bad := range []string{"openclaw.json", "/no/such/folder/openclaw.json", filepath.Dir(custom)} {
		s.OpenClawPath = bad
		if p := CheckSettingsFiles(s); p["openclaw"] == "" {
			t.Errorf("%s accepted", bad)
		}
	}
	s.OpenClawPath = custom
	if err := a.SaveSettings(context.Background(), v, s); err != nil {
		t.Fatal(err)
	}
	if p := a.Status().OpenClaw.Path; p != custom {
		t.Fatalf("after: %s", p)
	}
	if err := a.ConnectOpenClaw(); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(custom)
	home, _ := os.ReadFile(f.oc)
	if !strings.Contains(string(got), "litellm") || string(home) != f.orig {
		t.Errorf("connect wrote the custom file %v, left the default alone %v", strings.Contains(string(got), "litellm"), string(home) == f.orig)
	}
}
