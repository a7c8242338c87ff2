package app

// One gateway key per OpenClaw profile: each profile's .env holds its own key, with alias
// "openclaw" for the default profile and "openclaw-<profile>" for the others, so connecting one
// profile never regenerates the key another one sends.

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/clawgate/clawgate/app/ledger"
	"github.com/clawgate/clawgate/app/openclaw"
	"github.com/clawgate/clawgate/app/store"
	"github.com/clawgate/clawgate/proxy"
)

// keyVar is the variable OpenClaw's provider block reads its key from.
const keyVar = "LITELLM_API_KEY"

// ocProfile is the OpenClaw profile Clawgate edits: its state folder (.env, agents/), its name
// ("" for the default profile) and the alias of its gateway key.
type ocProfile struct {
	StateDir, Name, Alias string
}

func (a *App) openClawProfile() ocProfile {
	home, _ := os.UserHomeDir()
	name := openclaw.Profile(os.Getenv, home)
	return ocProfile{StateDir: openclaw.StateDir(os.Getenv, home), Name: name, Alias: openclaw.KeyAlias(name)}
}

func (p ocProfile) envPath() string { return filepath.Join(p.StateDir, ".env") }

// ensureOpenClawKey makes the profile's LITELLM_API_KEY one the gateway accepts, and says what it
// did. It keeps a working key (from OpenClaw's environment or the profile's .env); else it mints
// one for the profile's alias and writes it into the .env, replacing a dead value there. wrote is
// true when the .env changed, which a running OpenClaw gateway does not see until it restarts.
func (a *App) ensureOpenClawKey(ctx context.Context, p ocProfile) (lines []string, wrote bool, err error) {
	fromEnv := os.Getenv(keyVar)
	if fromEnv != "" && a.keyWorks(ctx, fromEnv) {
		return nil, false, nil
	}
	if fromEnv != "" {
		// OpenClaw takes its process environment over any .env: a key written there is not seen.
		lines = append(lines, fmt.Sprintf("warning: %s in this environment is a key this gateway does not accept, and OpenClaw started from it sends that key, not the one in %s", keyVar, p.envPath()))
	}
	if cur, _ := openclaw.LookupEnvFile(p.envPath(), keyVar); cur != "" && a.keyWorks(ctx, cur) {
		return lines, false, nil
	}
	key, how, err := a.mintProfileKey(ctx, p)
	if err != nil {
		return lines, false, err
	}
	changed, err := openclaw.SetEnv(p.envPath(), keyVar, key)
	if err != nil {
		return lines, false, err
	}
	lines = append(lines, fmt.Sprintf("%s (alias %s) and wrote %s to %s", how, p.Alias, keyVar, p.envPath()))
	return lines, changed, nil
}

// mintProfileKey returns a new secret for the profile's key alias. When the alias is taken, the
// key is regenerated, unless another profile's .env holds that very key (an older Clawgate gave
// every profile alias "openclaw"): that key then moves to the other profile's alias and this
// profile gets a new one.
func (a *App) mintProfileKey(ctx context.Context, p ocProfile) (key, how string, err error) {
	l := a.led()
	if l == nil {
		return "", "", errors.New("Clawgate is stopping: connect again after it starts")
	}
	generate := func() (string, error) {
		alias := p.Alias
		k, _, err := l.GenerateKey(ctx, ledger.KeyRequest{KeyAlias: &alias,
			Metadata: map[string]any{"created_by": "clawgate openclaw connect", "openclaw_state_dir": p.StateDir}})
		return k, err
	}
	key, err = generate()
	if err == nil {
		return key, "minted a virtual key", nil
	}
	if !errors.Is(err, store.ErrAliasTaken) {
		return "", "", fmt.Errorf("mint a key for OpenClaw: %w", err)
	}
	keys, err := l.KeysByAlias(ctx, p.Alias)
	if err == nil && len(keys) == 0 {
		err = errors.New("it was deleted meanwhile")
	}
	if err != nil {
		return "", "", fmt.Errorf("find the key with alias %s: %w", p.Alias, err)
	}
	taken := keys[0]
	if other, ok := a.profileHolding(ctx, taken.Token, p.StateDir); ok {
		alias := other.Alias
		if _, err := l.UpdateKey(ctx, taken.Token, ledger.KeyRequest{KeyAlias: &alias}); err != nil {
			return "", "", fmt.Errorf("the key with alias %s is the one %s sends; giving it alias %s failed: %w", p.Alias, other.envPath(), alias, err)
		}
		if key, err = generate(); err != nil {
			return "", "", fmt.Errorf("mint a key for OpenClaw: %w", err)
		}
		return key, fmt.Sprintf("gave the key %s sends its own alias %s, then minted a virtual key", other.envPath(), alias), nil
	}
	key, _, err = l.RegenerateKey(ctx, taken.Token, ledger.KeyRequest{})
	if err != nil {
		return "", "", fmt.Errorf("mint a key for OpenClaw: %w", err)
	}
	return key, "regenerated the virtual key no profile holds any more", nil
}

// profileHolding finds another OpenClaw profile whose .env holds the key with this token.
func (a *App) profileHolding(ctx context.Context, token, self string) (ocProfile, bool) {
	home, _ := os.UserHomeDir()
	env := func(k string) string {
		if k == "OPENCLAW_HOME" {
			return os.Getenv(k)
		}
		return ""
	}
	for _, dir := range openclaw.ProfileStateDirs(env, home) {
		if filepath.Clean(dir) == filepath.Clean(self) {
			continue
		}
		v, _ := openclaw.LookupEnvFile(filepath.Join(dir, ".env"), keyVar)
		if v == "" || proxy.HashKey(v) != token {
			continue
		}
		sd := dir
		name := openclaw.Profile(func(k string) string {
			if k == "OPENCLAW_STATE_DIR" {
				return sd
			}
			return env(k)
		}, home)
		return ocProfile{StateDir: dir, Name: name, Alias: openclaw.KeyAlias(name)}, true
	}
	return ocProfile{}, false
}
