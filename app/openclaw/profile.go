package openclaw

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// StateDir is the profile's state folder, where OpenClaw keeps .env, agents/ and its lock:
// OPENCLAW_STATE_DIR, else ~/.openclaw-<name> for OPENCLAW_PROFILE=<name> (what `--profile`
// sets), else ~/.openclaw (or the legacy ~/.clawdbot when only that exists). "~" is OPENCLAW_HOME
// when set.
func StateDir(env func(string) string, home string) string {
	if env == nil {
		env = func(string) string { return "" }
	}
	h := Home(env, home)
	if sd := strings.TrimSpace(env("OPENCLAW_STATE_DIR")); sd != "" {
		return expand(sd, h)
	}
	if name := strings.TrimSpace(env("OPENCLAW_PROFILE")); name != "" && name != "default" && profileRE.MatchString(name) {
		return filepath.Join(h, ".openclaw-"+name)
	}
	def := filepath.Join(h, ".openclaw")
	if _, err := os.Stat(def); err != nil {
		if fi, err := os.Stat(filepath.Join(h, ".clawdbot")); err == nil && fi.IsDir() {
			return filepath.Join(h, ".clawdbot")
		}
	}
	return def
}

// Profile names the OpenClaw profile whose state is in StateDir: "" for the default one
// (~/.openclaw), <name> for ~/.openclaw-<name> (OpenClaw's own profile folders), and for any other
// folder its cleaned-up name plus a short hash of its path, so that two folders called "state"
// stay two profiles.
func Profile(env func(string) string, home string) string {
	if env == nil {
		env = func(string) string { return "" }
	}
	dir := StateDir(env, home)
	h := Home(env, home)
	switch dir {
	case filepath.Join(h, ".openclaw"), filepath.Join(h, ".clawdbot"):
		return ""
	}
	base := filepath.Base(dir)
	if filepath.Dir(dir) == h {
		// OpenClaw's profile names are case-insensitive; key aliases are lower-case.
		if name, ok := strings.CutPrefix(base, ".openclaw-"); ok && profileRE.MatchString(strings.ToLower(name)) && !strings.EqualFold(name, "default") {
			return strings.ToLower(name)
		}
	}
	name := strings.Trim(profileJunkRE.ReplaceAllString(strings.ToLower(base), "-"), "-_.")
	name = strings.TrimPrefix(name, "openclaw-")
	sum := sha256.Sum256([]byte(dir))
	tag := hex.EncodeToString(sum[:3])
	if name == "" || name == "openclaw" {
		return tag
	}
	if len(name) > 40 {
		name = name[:40]
	}
	return name + "-" + tag
}

var profileJunkRE = regexp.MustCompile(`[^a-z0-9_-]+`)

// KeyAlias is the alias of the gateway key a profile uses: "openclaw" for the default profile,
// "openclaw-<profile>" for the others, so that connecting one profile never touches another's key.
func KeyAlias(profile string) string {
	if profile == "" {
		return "openclaw"
	}
	return "openclaw-" + profile
}

// ProfileStateDirs lists the state folders of every profile found under OpenClaw's home: the
// default one first (when it exists), then ~/.openclaw-<name> folders with a config, sorted.
func ProfileStateDirs(env func(string) string, home string) []string {
	if env == nil {
		env = func(string) string { return "" }
	}
	h := Home(env, home)
	var out []string
	if fi, err := os.Stat(filepath.Join(h, ".openclaw")); err == nil && fi.IsDir() {
		out = append(out, filepath.Join(h, ".openclaw"))
	}
	for _, p := range Profiles(h) {
		out = append(out, filepath.Dir(p))
	}
	return out
}
