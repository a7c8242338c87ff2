package openclaw

import (
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// profileRE is the profile names OpenClaw's CLI accepts (--profile / OPENCLAW_PROFILE).
var profileRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)

// Home is the folder OpenClaw treats as "~": OPENCLAW_HOME when set, else home.
func Home(env func(string) string, home string) string {
	if h := strings.TrimSpace(env("OPENCLAW_HOME")); h != "" {
		return expand(h, home)
	}
	return home
}

// Locate finds the config file the way OpenClaw 2026.9.6 does, and lists the candidates it
// considered, in order:
//  1. OPENCLAW_CONFIG_PATH (~ expanded);
//  2. $OPENCLAW_STATE_DIR/openclaw.json, else clawdbot.json there if only that exists;
//  3. OPENCLAW_PROFILE=<name> (other than "default"): ~/.openclaw-<name>/openclaw.json, which is
//     what the CLI's --profile sets the two variables above to;
//  4. ~/.openclaw/openclaw.json, ~/.openclaw/clawdbot.json, ~/.clawdbot/openclaw.json,
//     ~/.clawdbot/clawdbot.json: the first that exists, else the first.
//
// "~" is OPENCLAW_HOME when set, else home. The returned path may not exist yet.
func Locate(env func(string) string, home string) (path string, candidates []string) {
	if env == nil {
		env = func(string) string { return "" }
	}
	h := Home(env, home)
	if p := strings.TrimSpace(env("OPENCLAW_CONFIG_PATH")); p != "" {
		p = expand(p, h)
		return p, []string{p}
	}
	if sd := strings.TrimSpace(env("OPENCLAW_STATE_DIR")); sd != "" {
		sd = expand(sd, h)
		return firstExisting([]string{filepath.Join(sd, "openclaw.json"), filepath.Join(sd, "clawdbot.json")})
	}
	if name := strings.TrimSpace(env("OPENCLAW_PROFILE")); name != "" && name != "default" && profileRE.MatchString(name) {
		p := filepath.Join(h, ".openclaw-"+name, "openclaw.json")
		return p, []string{p}
	}
	return firstExisting([]string{
		filepath.Join(h, ".openclaw", "openclaw.json"),
		filepath.Join(h, ".openclaw", "clawdbot.json"),
		filepath.Join(h, ".clawdbot", "openclaw.json"),
		filepath.Join(h, ".clawdbot", "clawdbot.json"),
	})
}

func firstExisting(c []string) (string, []string) {
	for _, p := range c {
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
			return p, c
		}
	}
	return c[0], c
}

// Profiles lists the profile configs that exist under home: ~/.openclaw-<name>/openclaw.json,
// sorted. home should already be OpenClaw's home (see Home).
func Profiles(home string) []string {
	entries, err := os.ReadDir(home)
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range entries {
		name, ok := strings.CutPrefix(e.Name(), ".openclaw-")
		if !ok || !profileRE.MatchString(name) || name == "default" {
			continue
		}
		p := filepath.Join(home, e.Name(), "openclaw.json")
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out
}

// expand replaces a leading ~ with home and makes the path absolute.
func expand(p, home string) string {
	if p == "~" {
		p = home
	} else if rest, ok := strings.CutPrefix(p, "~/"); ok {
		p = filepath.Join(home, rest)
	}
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}
