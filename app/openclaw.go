package app

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/clawgate/clawgate/app/ledger"
	"github.com/clawgate/clawgate/app/openclaw"
	"github.com/clawgate/clawgate/app/store"
)

// settingOpenClaw is the store setting that opts in to editing OpenClaw's config: set by
// connect. A user who never connected is never edited.
const settingOpenClaw = "openclaw.manage"

// OpenClawFile is OpenClaw's config as found on this machine.
type OpenClawFile struct {
	Path   string
	Exists bool
	Status openclaw.Status
}

// openClawPath is where OpenClaw's config is: Options.OpenClawConfig, else OpenClaw's own rules.
func (a *App) openClawPath() string {
	if a.opts.OpenClawConfig != "" {
		return a.opts.OpenClawConfig
	}
	if p := a.openClawPathSetting(); p != "" { // Settings' custom path (openclaw_path.go)
		return p
	}
	home, _ := os.UserHomeDir()
	p, _ := openclaw.Locate(os.Getenv, home)
	return p
}

// gatewayURL is the base URL OpenClaw should use: the live address, else the configured one.
func (a *App) gatewayURL() string {
	if b := a.Status().BaseURL(); b != "" {
		return b + "/v1"
	}
	return fmt.Sprintf("http://127.0.0.1:%d/v1", a.opts.Port)
}

func (a *App) readOpenClaw() (path string, original []byte, d *openclaw.Doc, err error) {
	path = a.openClawPath()
	original, err = os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return path, nil, openclaw.New(), nil
	case err != nil:
		return path, nil, nil, fmt.Errorf("read OpenClaw's config: %w", err)
	}
	d, err = openclaw.Parse(original)
	if err != nil {
		return path, nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	return path, original, d, nil
}

// OpenClawStatus reports what OpenClaw's config says about this gateway.
func (a *App) OpenClawStatus() (OpenClawFile, error) {
	path, original, d, err := a.readOpenClaw()
	if err != nil {
		return OpenClawFile{Path: path}, err
	}
	return OpenClawFile{Path: path, Exists: original != nil, Status: openclaw.Inspect(d, a.gatewayURL())}, nil
}

func (a *App) routes() []openclaw.Route {
	var out []openclaw.Route
	for _, r := range a.srv.Routes() {
		out = append(out, openclaw.Route{Name: r.Name, Provider: r.Provider, Model: r.Model})
	}
	return out
}

// write saves d over OpenClaw's config (refusing if it changed underneath), backing up first.
func (a *App) writeOpenClaw(path string, original []byte, d *openclaw.Doc) (bool, error) {
	return openclaw.Write(path, original, d, filepath.Join(a.opts.DataDir, "openclaw-backups"))
}

// led is the ledger, nil once Stop closed it (a tray action may still be running then).
func (a *App) led() *ledger.Ledger {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.ledger
}

func (a *App) openClawEnabled(ctx context.Context) bool {
	l := a.led()
	if l == nil {
		return false
	}
	v, ok, err := l.Store().GetSetting(ctx, settingOpenClaw)
	return err == nil && ok && v == "on"
}

// OpenClawConnect points OpenClaw at this gateway: the litellm provider block (baseUrl, a key
// reference, request.auth so that the key wins over one `openclaw onboard` stored, the routes as
// models), a virtual key with alias "openclaw" made available as LITELLM_API_KEY through
// OpenClaw's .env unless the user already set one. It turns on editing OpenClaw's config.
func (a *App) OpenClawConnect(ctx context.Context) ([]string, error) {
	path, original, d, err := a.readOpenClaw()
	if err != nil {
		return nil, err
	}
	home, _ := os.UserHomeDir()
	envPath := openclaw.EnvPath(os.Getenv, home)
	var lines []string
	accepted := func(key string) bool { return key != "" && a.keyWorks(ctx, key) }

	// The key OpenClaw will send: the user's LITELLM_API_KEY if the gateway accepts it, else a
	// new virtual key written to the .env file.
	existing := os.Getenv("LITELLM_API_KEY")
	if existing == "" {
		existing = dotenvValue(envPath, "LITELLM_API_KEY")
	}
	if !accepted(existing) {
		key, err := a.mintOpenClawKey(ctx)
		if err != nil {
			return nil, err
		}
		written, prior, err := openclaw.EnsureEnv(envPath, "LITELLM_API_KEY", key)
		if err != nil {
			return nil, err
		}
		if written {
			lines = append(lines, fmt.Sprintf("minted a virtual key (alias openclaw) and wrote LITELLM_API_KEY to %s", envPath))
		} else if prior != "" {
			lines = append(lines, fmt.Sprintf("warning: %s already sets LITELLM_API_KEY to a key this gateway does not accept; "+
				"a new key with alias openclaw was minted, but OpenClaw will keep sending the old one until you remove that line and connect again", envPath))
		}
	}
	changes, err := openclaw.Connect(d, openclaw.ConnectOptions{
		BaseURL: a.gatewayURL(), BearerAuth: true, Models: openclaw.ModelsFor(a.routes()),
		KeepKey: func(k string) bool { return !strings.Contains(k, "${") && accepted(k) },
	})
	if err != nil {
		return nil, err
	}
	if _, err := a.writeOpenClaw(path, original, d); err != nil {
		return nil, err
	}
	lines = append(lines, changes...)
	if len(changes) == 0 {
		lines = append(lines, "OpenClaw's config already points at this gateway: nothing to change in "+path)
	} else {
		lines = append(lines, "wrote "+path)
	}
	l := a.led()
	if l == nil {
		return lines, errors.New("Clawgate is stopping: connect again after it starts")
	}
	err = l.Store().SetSetting(ctx, settingOpenClaw, "on")
	a.openClawChanged(ctx)
	return lines, err
}

// OpenClawSync mirrors the gateway's routes into the litellm provider's models[].
func (a *App) OpenClawSync(ctx context.Context) ([]string, error) {
	return a.editOpenClaw(ctx, func(d *openclaw.Doc) ([]string, error) { return openclaw.SyncRoutes(d, a.routes()) })
}

// OpenClawUse makes model OpenClaw's primary model (litellm/MODEL).
func (a *App) OpenClawUse(ctx context.Context, model string) ([]string, error) {
	served := false
	for _, r := range a.srv.Routes() {
		if r.Name == model {
			served = true
		}
	}
	if !served {
		return nil, fmt.Errorf("the gateway does not serve %q; it serves: %s", model, strings.Join(a.srv.Models(), ", "))
	}
	return a.editOpenClaw(ctx, func(d *openclaw.Doc) ([]string, error) { return openclaw.Use(d, model) })
}

func (a *App) editOpenClaw(ctx context.Context, op func(*openclaw.Doc) ([]string, error)) ([]string, error) {
	if !a.openClawEnabled(ctx) {
		return nil, errors.New("Clawgate edits OpenClaw's config only after `clawgate openclaw connect` (or Connect in the tray)")
	}
	path, original, d, err := a.readOpenClaw()
	if err != nil {
		return nil, err
	}
	lines, err := op(d)
	if err != nil {
		return nil, err
	}
	changed, err := a.writeOpenClaw(path, original, d)
	if err != nil {
		return nil, err
	}
	if changed {
		a.openClawChanged(ctx)
		lines = append(lines, "wrote "+path)
	} else {
		lines = append(lines, "nothing to change in "+path)
	}
	return lines, nil
}

// keyWorks reports whether the gateway accepts key: the master key, or a live virtual key. With
// no master key the gateway accepts anything, and no key is worth keeping.
func (a *App) keyWorks(ctx context.Context, key string) bool {
	if !a.srv.HasMasterKey() {
		return false
	}
	if subtle.ConstantTimeCompare([]byte(key), []byte(a.MasterKey())) == 1 {
		return true
	}
	l := a.led()
	if l == nil {
		return false
	}
	_, err := l.Authenticate(ctx, key)
	return err == nil
}

// mintOpenClawKey returns a new virtual key with alias "openclaw", regenerating the existing one
// (whose secret is not kept) if the alias is taken.
func (a *App) mintOpenClawKey(ctx context.Context) (string, error) {
	l := a.led()
	if l == nil {
		return "", errors.New("Clawgate is stopping: connect again after it starts")
	}
	alias := "openclaw"
	key, _, err := l.GenerateKey(ctx, ledger.KeyRequest{KeyAlias: &alias,
		Metadata: map[string]any{"created_by": "clawgate openclaw connect"}})
	if errors.Is(err, store.ErrAliasTaken) {
		var keys []store.Key
		keys, err = l.KeysByAlias(ctx, alias)
		if err == nil && len(keys) == 0 {
			err = errors.New("it was deleted meanwhile")
		}
		if err != nil {
			return "", fmt.Errorf("find the key with alias openclaw: %w", err)
		}
		key, _, err = l.RegenerateKey(ctx, keys[0].Token, ledger.KeyRequest{})
	}
	if err != nil {
		return "", fmt.Errorf("mint a key for OpenClaw: %w", err)
	}
	return key, nil
}

// dotenvValue reads NAME=value from a dotenv file ("" when absent).
func dotenvValue(path, name string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(line), "export "))
		if v, ok := strings.CutPrefix(line, name+"="); ok {
			return strings.Trim(strings.TrimSpace(v), `"'`)
		}
	}
	return ""
}
