package keychain

import (
	"errors"
	"fmt"
	"strings"
)

// RefPrefix marks a config.yaml value that names a keychain item, as in `api_key: keychain/openai`.
const RefPrefix = "keychain/"

// Getter reads one secret; *Store is one.
type Getter interface {
	Get(name string) (string, error)
}

// Resolve returns the secret a config value refers to. For `keychain/NAME` it reads NAME from s and
// reports true; any other value is returned unchanged with false, for the caller's own handling
// (literal values, os.environ/VAR). The error never contains the secret.
func Resolve(ref string, s Getter) (string, bool, error) {
	name, ok := strings.CutPrefix(ref, RefPrefix)
	if !ok {
		return ref, false, nil
	}
	if s == nil {
		return "", true, fmt.Errorf("%s%s: %w: no keychain configured", RefPrefix, name, ErrUnavailable)
	}
	if err := checkName(name); err != nil {
		// The name is not echoed, for the same reason as in checkName.
		return "", true, fmt.Errorf("config reference %s...: %w", RefPrefix, err)
	}
	v, err := s.Get(name)
	switch {
	case errors.Is(err, ErrNotFound):
		return "", true, fmt.Errorf("%s%s: %w; store it with `clawgate keys set %s`", RefPrefix, name, err, name)
	case err != nil:
		return "", true, fmt.Errorf("%s%s: %w", RefPrefix, name, err)
	}
	return v, true, nil
}
