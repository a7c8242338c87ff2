package app

import (
	"errors"
	"fmt"
	"strings"

	"github.com/clawgate/clawgate/app/keychain"
)

// ErrNoKeyring is wrapped by SetMasterKey when there is no keychain to keep the key in.
var ErrNoKeyring = errors.New("no keyring to keep the master key in")

// RetryKeyring asks the keychain for the master key again (the tray's Unlock): on Linux the Secret
// Service shows its own unlock prompt for a locked keyring. On success the key is put in force at
// once; the error says why not.
func (a *App) RetryKeyring() error {
	a.reloadMu.Lock()
	defer a.reloadMu.Unlock()
	a.mu.Lock()
	cfg, settings := a.inForce, a.inForceSettings
	a.mu.Unlock()
	if cfg == nil {
		return errors.New("no config in force yet")
	}
	if err := a.apply(cfg, settings); err != nil {
		return err
	}
	a.publish()
	a.mu.Lock()
	err := a.status.KeyringErr
	a.mu.Unlock()
	if err == nil {
		a.log.Info("keyring unlocked; the master key is in force")
	}
	return err
}

// SetMasterKey stores key as the master key in the keychain and puts it in force. Without a
// keychain the error wraps ErrNoKeyring and says where else a key can come from: Clawgate never
// writes secrets to a file of its own.
func (a *App) SetMasterKey(key string) error {
	key = strings.TrimSpace(key)
	if !strings.HasPrefix(key, "sk-") || len(key) < 12 {
		return errors.New(`a master key starts with "sk-" and has at least 12 characters`)
	}
	if a.secrets == nil {
		return a.noKeyring(errors.New("the keychain is switched off"))
	}
	if err := a.secrets.Set(keychain.MasterKeyName, key); err != nil {
		if errors.Is(err, keychain.ErrUnavailable) {
			return a.noKeyring(err)
		}
		return fmt.Errorf("store the master key: %w", err)
	}
	a.reloadMu.Lock()
	a.master = ""
	a.reloadMu.Unlock()
	return a.RetryKeyring()
}

func (a *App) noKeyring(cause error) error {
	return fmt.Errorf("%w (%v). Set LITELLM_MASTER_KEY in the environment Clawgate starts with, or general_settings.master_key in %s; "+
		"until then the gateway answers only on this computer and refuses requests a web page could send", ErrNoKeyring, cause, a.opts.ConfigPath)
}
