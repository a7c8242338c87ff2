package openclaw

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestProfile(t *testing.T) {
	home := t.TempDir()
	j := filepath.Join
	for _, tc := range []struct {
		name     string
		env      map[string]string
		dirs     []string // folders to create under home first
		stateDir string
		profile  string // "" default; a trailing "-*" stands for the path hash
		alias    string
	}{
		{name: "default", stateDir: j(home, ".openclaw"), profile: "", alias: "openclaw"},
		{name: "legacy folder only", dirs: []string{".clawdbot"}, stateDir: j(home, ".clawdbot"), profile: "", alias: "openclaw"},
		{name: "state dir is the default folder", env: map[string]string{"OPENCLAW_STATE_DIR": "~/.openclaw"}, stateDir: j(home, ".openclaw"), profile: ""},
		{name: "state dir of a named profile", env: map[string]string{"OPENCLAW_STATE_DIR": j(home, ".openclaw-work")},
			stateDir: j(home, ".openclaw-work"), profile: "work", alias: "openclaw-work"},
		{name: "a profile name in capitals", env: map[string]string{"OPENCLAW_STATE_DIR": j(home, ".openclaw-Work")},
			stateDir: j(home, ".openclaw-Work"), profile: "work", alias: "openclaw-work"},
		{name: "OPENCLAW_PROFILE, as --profile sets it", env: map[string]string{"OPENCLAW_PROFILE": "dev"}, stateDir: j(home, ".openclaw-dev"), profile: "dev", alias: "openclaw-dev"},
		{name: "OPENCLAW_PROFILE=default", env: map[string]string{"OPENCLAW_PROFILE": "default"}, stateDir: j(home, ".openclaw"), profile: ""},
		{name: "state dir wins over the profile", env: map[string]string{"OPENCLAW_PROFILE": "dev", "OPENCLAW_STATE_DIR": "~/.openclaw-ops"},
			stateDir: j(home, ".openclaw-ops"), profile: "ops"},
		{name: "any other folder: its name and a hash", env: map[string]string{"OPENCLAW_STATE_DIR": "/srv/Bot State"},
			stateDir: "/srv/Bot State", profile: "bot-state-*"},
		{name: "a folder named like the default elsewhere", env: map[string]string{"OPENCLAW_STATE_DIR": "/srv/.openclaw"},
			stateDir: "/srv/.openclaw", profile: "*"},
		{name: "OPENCLAW_HOME", env: map[string]string{"OPENCLAW_HOME": "/opt/oc", "OPENCLAW_PROFILE": "x"}, stateDir: "/opt/oc/.openclaw-x", profile: "x"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := t.TempDir()
			if tc.name != "legacy folder only" {
				h = home
			}
			for _, d := range tc.dirs {
				os.MkdirAll(j(h, d), 0o700)
			}
			want := strings.ReplaceAll(tc.stateDir, home, h)
			env := func(k string) string { return tc.env[k] }
			if got := StateDir(env, h); got != want {
				t.Errorf("StateDir = %s, want %s", got, want)
			}
			if got := EnvPath(env, h); got != j(want, ".env") {
				t.Errorf("EnvPath = %s", got)
			}
			got := Profile(env, h)
			if prefix, hashed := strings.CutSuffix(tc.profile, "*"); hashed {
				if !strings.HasPrefix(got, prefix) || len(got) != len(prefix)+6 || !profileRE.MatchString(got) {
					t.Errorf("Profile = %q, want %s<6 hex>", got, prefix)
				}
			} else if got != tc.profile {
				t.Errorf("Profile = %q, want %q", got, tc.profile)
			}
			if tc.alias != "" && KeyAlias(got) != tc.alias {
				t.Errorf("KeyAlias = %q, want %q", KeyAlias(got), tc.alias)
			}
		})
	}
	// Two folders with one name are two profiles.
	a := Profile(func(k string) string { return map[string]string{"OPENCLAW_STATE_DIR": "/a/state"}[k] }, home)
	b := Profile(func(k string) string { return map[string]string{"OPENCLAW_STATE_DIR": "/b/state"}[k] }, home)
	if a == b {
		t.Errorf("/a/state and /b/state share profile %q", a)
	}
}

func TestProfileStateDirs(t *testing.T) {
	home := t.TempDir()
	touch(t, filepath.Join(home, ".openclaw-work", "openclaw.json"))
	touch(t, filepath.Join(home, ".openclaw-b", "openclaw.json"))
	os.MkdirAll(filepath.Join(home, ".openclaw-noconfig"), 0o700)
	if got := ProfileStateDirs(nil, home); strings.Join(got, ",") != filepath.Join(home, ".openclaw-b")+","+filepath.Join(home, ".openclaw-work") {
		t.Errorf("without the default folder: %v", got)
	}
	os.MkdirAll(filepath.Join(home, ".openclaw"), 0o700)
	if got := ProfileStateDirs(nil, home); len(got) != 3 || got[0] != filepath.Join(home, ".openclaw") {
		t.Errorf("with it: %v", got)
	}
}
