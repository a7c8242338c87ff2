package app

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/clawgate/clawgate/app/keychain"
	"github.com/clawgate/clawgate/proxy/config"
)

// Secrets is where provider keys and the master key live: the OS keychain in production.
type Secrets interface {
	Get(name string) (string, error)
	Set(name, secret string) error
}

// resolveSecrets replaces `keychain/NAME` values in the config (api keys, the master key, any
// litellm_params value) with the secrets they name. A missing secret is an error naming the
// entry and the fix; the secret itself never appears in an error.
func resolveSecrets(cfg *config.Config, s Secrets) error {
	routeErrs, err := resolveSplit(cfg, s)
	return errors.Join(append(routeErrs, err)...)
}

// resolveSplit is resolveSecrets with the routes' failures apart from the master key's: the tray
// serves a config whose route lacks its key (that route fails until the key is stored) and says
// which, but never one whose master key cannot be read.
func resolveSplit(cfg *config.Config, s Secrets) (routeErrs []error, masterErr error) {
	var errs []error
	get := func(where, v string) string {
		if !strings.HasPrefix(v, keychain.RefPrefix) {
			return v
		}
		out, _, err := keychain.Resolve(v, s)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", where, err))
		}
		return out
	}
	for i := range cfg.ModelList {
		d := &cfg.ModelList[i]
		where := fmt.Sprintf("model_list[%d] (%s)", i, d.ModelName)
		d.Params.APIKey = get(where+".api_key", d.Params.APIKey)
		for k, v := range d.Params.Extra {
			if sv, ok := v.(string); ok {
				d.Params.Extra[k] = get(where+"."+k, sv)
			}
		}
		for k, v := range d.Params.ExtraHeaders {
			d.Params.ExtraHeaders[k] = get(where+".extra_headers."+k, v)
		}
	}
	routeErrs, errs = errs, nil
	cfg.General.MasterKey = get("general_settings.master_key", cfg.General.MasterKey)
	return routeErrs, errors.Join(errs...)
}

// resolve resolves the config's secrets and lists the routes whose key is missing: a keychain/NAME
// not stored, or (from the parser's warnings) an api_key's os.environ/VAR that is not set, which
// apps started from a desktop menu often lack. Outside KeepGoing a missing keychain item fails the
// config, as it always did for the headless commands.
func (a *App) resolve(cfg *config.Config, warns []config.Warning) ([]string, error) {
	if !a.opts.KeepGoing {
		return nil, resolveSecrets(cfg, a.secrets)
	}
	routeErrs, err := resolveSplit(cfg, a.secrets)
	if err != nil {
		return nil, err
	}
	var probs []string
	for _, w := range warns {
		var i int
		if strings.HasSuffix(w.Key, ".api_key") && strings.Contains(w.Message, "environment variable") {
			// "model_list[1].litellm_params.api_key: ..." becomes "model_list[1] (name).api_key: ...",
			// the shape of the keychain errors, so the tray can name the route.
			msg := w.Message
			if _, err := fmt.Sscanf(w.Key, "model_list[%d]", &i); err == nil && i < len(cfg.ModelList) {
				msg = fmt.Sprintf("model_list[%d] (%s).api_key%s", i, cfg.ModelList[i].ModelName, strings.TrimPrefix(msg, w.Key))
			}
			probs = append(probs, msg)
		}
	}
	for _, e := range routeErrs {
		a.log.Warn("route key missing; calls to this route will fail until it is stored", "err", e)
		probs = append(probs, e.Error())
	}
	return probs, nil
}

// masterKey picks the master key: general_settings.master_key, else LITELLM_MASTER_KEY, else the
// one kept in the keychain, generated there on first run. With no keychain it returns "" and the
// gateway runs with auth off, on loopback only.
func masterKey(cfg *config.Config, s Secrets) (key string, created bool, err error) {
	if cfg.General.MasterKey != "" {
		return cfg.General.MasterKey, false, nil
	}
	if k := os.Getenv("LITELLM_MASTER_KEY"); k != "" {
		return k, false, nil
	}
	if s == nil {
		return "", false, nil
	}
	k, err := s.Get(keychain.MasterKeyName)
	if err == nil && k != "" {
		return k, false, nil
	}
	if err != nil && !errors.Is(err, keychain.ErrNotFound) {
		return "", false, err
	}
	k = keychain.NewMasterKey()
	if err := s.Set(keychain.MasterKeyName, k); err != nil {
		return "", false, err
	}
	// Read it back: of two processes starting at once, both use the key that stuck.
	if back, err := s.Get(keychain.MasterKeyName); err == nil && back != "" {
		k = back
	}
	return k, true, nil
}
