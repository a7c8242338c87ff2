package app

import (
	"errors"
	"os"

	"github.com/clawgate/clawgate/app/keychain"
	"github.com/clawgate/clawgate/proxy/config"
)

// ReadMasterKey returns the master key a gateway started with opts would use ("" when auth would be
// off), for `clawgate master-key`. Unlike New it writes no example config and never opens or
// migrates the database: a read-only command leaves the data folder as it found it. (Like the
// gateway, it generates the keychain's key on first use, so both agree on it.)
func ReadMasterKey(opts Options) (string, error) {
	cfg := &config.Config{}
	if opts.Model == "" {
		path, err := configPath(opts.ConfigPath)
		if err != nil {
			return "", err
		}
		if _, err := os.Stat(path); err == nil {
			if cfg, _, err = config.Load(path); err != nil {
				return "", err
			}
		} else if !errors.Is(err, os.ErrNotExist) {
			return "", err
		}
	}
	s := opts.Secrets
	if s == nil && !opts.NoKeychain {
		s = keychain.New()
	}
	if _, err := resolveSplit(cfg, s); err != nil {
		return "", err
	}
	key, _, err := masterKey(cfg, s)
	return key, err
}
