package openclaw

import (
	"os"
	"path/filepath"
	"testing"
)

func TestEnvPath(t *testing.T) {
	home := t.TempDir()
	if got := EnvPath(nil, home); got != filepath.Join(home, ".openclaw", ".env") {
		t.Errorf("default: %s", got)
	}
	env := map[string]string{"OPENCLAW_STATE_DIR": "~/state"}
	if got := EnvPath(func(k string) string { return env[k] }, home); got != filepath.Join(home, "state", ".env") {
		t.Errorf("state dir: %s", got)
	}
}

func TestEnsureEnv(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, ".openclaw", ".env")

	written, existing, err := EnsureEnv(path, "LITELLM_API_KEY", "sk-abc123")
	if err != nil || !written || existing != "" {
		t.Fatalf("create: %v %q %v", written, existing, err)
	}
	if got, _ := os.ReadFile(path); string(got) != "LITELLM_API_KEY=sk-abc123\n" {
		t.Errorf("file = %q", got)
	}
	fi, _ := os.Stat(path)
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v", fi.Mode().Perm())
	}
	// Already set: the user's value wins, nothing is written.
	written, existing, err = EnsureEnv(path, "LITELLM_API_KEY", "sk-other")
	if err != nil || written || existing != "sk-abc123" {
		t.Fatalf("second: %v %q %v", written, existing, err)
	}

	// Other lines are kept; an empty assignment does not count as set.
	other := "# my env\nexport OPENAI_API_KEY='sk-o'\nLITELLM_API_KEY=\nNO_NEWLINE=1"
	if err := os.WriteFile(path, []byte(other), 0o644); err != nil {
		t.Fatal(err)
	}
	if written, _, err := EnsureEnv(path, "LITELLM_API_KEY", "sk new#1"); err != nil || !written {
		t.Fatalf("append: %v %v", written, err)
	}
	got, _ := os.ReadFile(path)
	if want := other + "\nLITELLM_API_KEY=\"sk new#1\"\n"; string(got) != want {
		t.Errorf("file = %q, want %q", got, want)
	}
	if v, ok := lookupEnv(string(got), "LITELLM_API_KEY"); !ok || v != "sk new#1" {
		t.Errorf("read back %q %v", v, ok)
	}
	if v, _ := lookupEnv(string(got), "OPENAI_API_KEY"); v != "sk-o" {
		t.Errorf("OPENAI_API_KEY = %q", v)
	}
	for _, bad := range [][2]string{{"1X", "v"}, {"X", ""}, {"X", "a\nb"}, {"X", `a"b`}} {
		if _, _, err := EnsureEnv(path, bad[0], bad[1]); err == nil {
			t.Errorf("EnsureEnv(%q, %q): no error", bad[0], bad[1])
		}
	}
}

func TestSetEnv(t *testing.T) {
	for _, tc := range []struct {
		name, before, after string
		changed             bool
	}{
		{"new file", "", "LITELLM_API_KEY=sk-new\n", true},
		{"append, other lines kept", "# mine\nOTHER=1", "# mine\nOTHER=1\nLITELLM_API_KEY=sk-new\n", true},
		{"a dead key replaced in place", "A=1\nLITELLM_API_KEY=sk-dead\nB=2\n", "A=1\nLITELLM_API_KEY=sk-new\nB=2\n", true},
		{"export and quotes", "export LITELLM_API_KEY=\"sk-dead\"\n", "LITELLM_API_KEY=sk-new\n", true},
		{"later assignments dropped, so none can win", "LITELLM_API_KEY=sk-a\nX=1\nLITELLM_API_KEY=sk-b\n", "LITELLM_API_KEY=sk-new\nX=1\n", true},
		{"already set: nothing written", "X=1\nLITELLM_API_KEY=sk-new\n", "X=1\nLITELLM_API_KEY=sk-new\n", false},
		{"a commented line stays", "# LITELLM_API_KEY=sk-old\n", "# LITELLM_API_KEY=sk-old\nLITELLM_API_KEY=sk-new\n", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "state", ".env")
			if tc.before != "" {
				os.MkdirAll(filepath.Dir(path), 0o700)
				os.WriteFile(path, []byte(tc.before), 0o600)
			}
			changed, err := SetEnv(path, "LITELLM_API_KEY", "sk-new")
			if err != nil || changed != tc.changed {
				t.Fatalf("SetEnv: changed %v, err %v; want changed %v", changed, err, tc.changed)
			}
			got, _ := os.ReadFile(path)
			if string(got) != tc.after {
				t.Errorf("file = %q, want %q", got, tc.after)
			}
			if v, _ := LookupEnvFile(path, "LITELLM_API_KEY"); v != "sk-new" {
				t.Errorf("read back %q", v)
			}
			if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
				t.Errorf("mode %v", fi.Mode().Perm())
			}
		})
	}
	if _, err := SetEnv(filepath.Join(t.TempDir(), ".env"), "LITELLM_API_KEY", "a\nb"); err == nil {
		t.Error("a value on two lines was written")
	}
}

func TestUnsetEnv(t *testing.T) {
	path := filepath.Join(t.TempDir(), ".env")
	if ch, err := UnsetEnv(path, "TEAM_KEY"); ch || err != nil {
		t.Fatalf("no file: %v %v", ch, err)
	}
	orig := "# mine\nLITELLM_API_KEY=sk-local\nexport OTHER=1\n"
	if err := os.WriteFile(path, []byte(orig), 0o600); err != nil {
		t.Fatal(err)
	}
	if ch, err := SetEnv(path, "TEAM_KEY", "sk-team"); !ch || err != nil {
		t.Fatalf("set: %v %v", ch, err)
	}
	if v, _ := LookupEnvFile(path, "TEAM_KEY"); v != "sk-team" {
		t.Fatalf("after set: %q", v)
	}
	if ch, err := UnsetEnv(path, "TEAM_KEY"); !ch || err != nil {
		t.Fatalf("unset: %v %v", ch, err)
	}
	if got, _ := os.ReadFile(path); string(got) != orig {
		t.Errorf("set then unset did not restore the file:\n%q\nwant\n%q", got, orig)
	}
	if ch, err := UnsetEnv(path, "TEAM_KEY"); ch || err != nil {
		t.Errorf("second unset: %v %v", ch, err)
	}
	// Every assignment goes, exported or quoted ones too.
	os.WriteFile(path, []byte("export TEAM_KEY=\"a\"\nKEEP=1\nTEAM_KEY=b\n"), 0o600)
	if _, err := UnsetEnv(path, "TEAM_KEY"); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(path); string(got) != "KEEP=1\n" {
		t.Errorf("got %q", got)
	}
	if _, err := UnsetEnv(path, "bad name"); err == nil {
		t.Error("a bad name was accepted")
	}
}
