package app

import (
	"errors"
	"fmt"
	"os"
	"reflect"

	"github.com/clawgate/clawgate/app/ledger"
	"github.com/clawgate/clawgate/proxy"
	"github.com/clawgate/clawgate/proxy/config"
)

// errEmptyConfig refuses a reload of a file with nothing in it: an editor's save empties the file
// for a moment, and applying that would drop every route (and the master key) while it lasts.
var errEmptyConfig = errors.New("the file is empty or all comments (is an editor still writing it?)")

// errNoModels refuses a reload that would leave a serving gateway without a single model: it is
// what a half-written file looks like, and every request would fail while it lasted.
var errNoModels = errors.New("the new config lists no models (a half-written file?); stop the gateway to serve none")

// apply puts a config in force, at start and on every reload: the master key it picks (see
// pickMaster), its routes and the ledger's settings. On error nothing changed. Auth never weakens
// here: the gateway refuses a config that would leave it without a master key once it has one
// (proxy.ErrAuthOff), and Start refuses to listen beyond loopback without one.
func (a *App) apply(cfg *config.Config, settings ledger.Settings) error {
	if err := applyUpstreamNet(cfg); err != nil { // upstreamnet.go
		return err
	}
	key, source := a.pickMaster(cfg)
	if err := a.srv.SetConfig(cfg, key); err != nil {
		if errors.Is(err, proxy.ErrAuthOff) {
			return fmt.Errorf("%w (general_settings.master_key is gone and neither LITELLM_MASTER_KEY nor the keychain has one)", err)
		}
		return err
	}
	a.ledger.SetSettings(settings)
	a.srv.KeepStreamBodies(settings.StorePrompts)
	unpriced := a.warnUnpriced()
	a.mu.Lock()
	a.inForce, a.inForceSettings = cfg, settings
	a.status.KeyringErr = a.keyringErr
	a.status.Auth = source
	a.status.Models = a.srv.Models()
	a.status.Backends = backendsOf(cfg)
	a.status.Unpriced = unpriced
	a.mu.Unlock()
	return nil
}

// pickMaster returns the master key for cfg and where it comes from ("config", "env", "keychain",
// or "off" for none): general_settings.master_key, else LITELLM_MASTER_KEY, else the keychain's,
// generated there on first use.
func (a *App) pickMaster(cfg *config.Config) (key, source string) {
	a.keyringErr = nil
	switch {
	case cfg.General.MasterKey != "":
		return cfg.General.MasterKey, "config"
	case os.Getenv("LITELLM_MASTER_KEY") != "":
		return os.Getenv("LITELLM_MASTER_KEY"), "env"
	case a.master != "":
		return a.master, "keychain"
	}
	key, created, err := masterKey(cfg, a.secrets)
	a.keyringErr = err
	switch {
	case err != nil:
		a.log.Warn("no master key: the gateway answers on loopback only and refuses requests a web page could send", "err", err)
		return "", "off"
	case key == "":
		return "", "off"
	}
	if created {
		a.log.Info("generated a master key and stored it in the keychain (clawgate master-key prints it)")
	}
	a.master = key
	return key, "keychain"
}

// readReload reads the config file for a reload, refusing what is not a whole config: an empty
// one (nothing but comments or blanks), one that does not parse, one whose secrets cannot be
// resolved, or one with no models while models are served.
func (a *App) readReload() (*config.Config, ledger.Settings, []string, error) {
	cfg, warns, err := config.Load(a.opts.ConfigPath)
	if err != nil {
		return nil, ledger.Settings{}, nil, err
	}
	if isEmpty(cfg) {
		return nil, ledger.Settings{}, nil, errEmptyConfig
	}
	for _, w := range warns {
		a.log.Warn(w.String())
	}
	probs, err := a.resolve(cfg, warns)
	if err != nil {
		return nil, ledger.Settings{}, nil, err
	}
	if len(cfg.ModelList) == 0 && len(a.srv.Models()) > 0 {
		return nil, ledger.Settings{}, nil, errNoModels
	}
	settings, errs := ledger.SettingsFrom(cfg)
	for _, e := range errs {
		a.log.Warn("config", "err", e)
	}
	return cfg, settings, probs, nil
}

// isEmpty reports whether cfg is what a file with nothing in it parses to.
func isEmpty(cfg *config.Config) bool {
	c := *cfg
	c.Path = ""
	return reflect.DeepEqual(&c, &config.Config{Router: config.Default()})
}
