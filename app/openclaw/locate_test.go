package openclaw

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func touch(t *testing.T, path string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("{}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestLocate(t *testing.T) {
	home := t.TempDir()
	other := t.TempDir()
	j := filepath.Join
	for _, tc := range []struct {
		name  string
		env   map[string]string
		files []string
		want  string
		cands int
	}{
		{name: "default, nothing exists", want: j(home, ".openclaw/openclaw.json"), cands: 4},
		{name: "default exists", files: []string{".openclaw/openclaw.json", ".clawdbot/openclaw.json"}, want: j(home, ".openclaw/openclaw.json"), cands: 4},
		{name: "legacy name in the new folder", files: []string{".openclaw/clawdbot.json", ".clawdbot/openclaw.json"}, want: j(home, ".openclaw/clawdbot.json"), cands: 4},
		{name: "legacy folder", files: []string{".clawdbot/openclaw.json"}, want: j(home, ".clawdbot/openclaw.json"), cands: 4},
		{name: "legacy folder and name", files: []string{".clawdbot/clawdbot.json"}, want: j(home, ".clawdbot/clawdbot.json"), cands: 4},
		{name: "OPENCLAW_CONFIG_PATH wins", env: map[string]string{"OPENCLAW_CONFIG_PATH": "~/cfg/x.json5", "OPENCLAW_STATE_DIR": other},
			files: []string{".openclaw/openclaw.json"}, want: j(home, "cfg/x.json5"), cands: 1},
		{name: "OPENCLAW_STATE_DIR", env: map[string]string{"OPENCLAW_STATE_DIR": other}, want: j(other, "openclaw.json"), cands: 2},
		{name: "OPENCLAW_HOME replaces HOME", env: map[string]string{"OPENCLAW_HOME": other}, files: []string{".openclaw/openclaw.json"},
			want: j(other, ".openclaw/openclaw.json"), cands: 4},
		{name: "OPENCLAW_PROFILE", env: map[string]string{"OPENCLAW_PROFILE": "work"}, want: j(home, ".openclaw-work/openclaw.json"), cands: 1},
		{name: "OPENCLAW_PROFILE=default", env: map[string]string{"OPENCLAW_PROFILE": "default"}, want: j(home, ".openclaw/openclaw.json"), cands: 4},
		{name: "bad profile name ignored", env: map[string]string{"OPENCLAW_PROFILE": "../x"}, want: j(home, ".openclaw/openclaw.json"), cands: 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, d := range []string{".openclaw", ".clawdbot"} {
				os.RemoveAll(j(home, d))
			}
			for _, f := range tc.files {
				touch(t, j(home, f))
			}
			path, cands := Locate(func(k string) string { return tc.env[k] }, home)
			if path != tc.want || len(cands) != tc.cands {
				t.Errorf("Locate = %s %v, want %s (%d candidates)", path, cands, tc.want, tc.cands)
			}
		})
	}
	t.Run("state dir with only clawdbot.json", func(t *testing.T) {
		sd := t.TempDir()
		touch(t, j(sd, "clawdbot.json"))
		if path, _ := Locate(func(k string) string { return map[string]string{"OPENCLAW_STATE_DIR": sd}[k] }, home); path != j(sd, "clawdbot.json") {
			t.Errorf("got %s", path)
		}
	})
}

func TestProfiles(t *testing.T) {
	home := t.TempDir()
	for _, f := range []string{".openclaw/openclaw.json", ".openclaw-work/openclaw.json", ".openclaw-dev/openclaw.json",
		".openclaw-Bad/openclaw.json", ".openclaw-empty/other.json"} {
		touch(t, filepath.Join(home, f))
	}
	want := []string{filepath.Join(home, ".openclaw-dev/openclaw.json"), filepath.Join(home, ".openclaw-work/openclaw.json")}
	if got := Profiles(home); !reflect.DeepEqual(got, want) {
		t.Errorf("Profiles = %v, want %v", got, want)
	}
	if got := Profiles(filepath.Join(home, "missing")); got != nil {
		t.Errorf("missing home: %v", got)
	}
}
