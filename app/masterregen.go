package app

import (
	"errors"

	"github.com/clawgate/clawgate/app/keychain"
)

// RegenerateMasterKey replaces the master key kept in the keychain with a new one, in force at
// once, and returns it. Every client that sends the old master key is refused from then on;
// virtual keys (OpenClaw's included) keep working. A master key written in config.yaml or set by
// LITELLM_MASTER_KEY wins over the keychain's (see masterKey), so then nothing is changed and the
// error says where to change it. It writes the keychain: call it off the UI goroutine.
func (a *App) RegenerateMasterKey() (string, error) {
	switch a.Status().Auth {
	case "config":
		return "", errors.New("the master key is written in config.yaml (general_settings.master_key): change it there")
	case "env":
		return "", errors.New("the master key comes from LITELLM_MASTER_KEY in Clawgate's environment: change it there")
	}
	key := keychain.NewMasterKey()
	if err := a.SetMasterKey(key); err != nil {
		return "", err
	}
	return a.MasterKey(), nil
}
