package keychain

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
)

// MasterKeyName is the item holding the gateway's master key.
const MasterKeyName = "master_key"

// NewMasterKey returns "sk-" and 32 URL-safe random characters (192 bits from crypto/rand).
func NewMasterKey() string {
	b := make([]byte, 24)
	rand.Read(b) // never fails (crypto/rand panics instead), per its documentation
	return "sk-" + base64.RawURLEncoding.EncodeToString(b)
}

// MasterKey returns the master key kept in the keychain, generating one with gen (NewMasterKey
// when nil) and storing it on first run; created says it was generated now. The key is read back
// after storing, so of two processes starting together both end up with the one that stuck.
func MasterKey(s *Store, gen func() string) (key string, created bool, err error) {
	key, err = s.Get(MasterKeyName)
	if err == nil && key != "" {
		return key, false, nil
	}
	if err != nil && !errors.Is(err, ErrNotFound) {
		return "", false, fmt.Errorf("master key: %w", err)
	}
	if gen == nil {
		gen = NewMasterKey
	}
	fresh := gen()
	if err := s.Set(MasterKeyName, fresh); err != nil {
		return "", false, fmt.Errorf("master key: %w", err)
	}
	key, err = s.Get(MasterKeyName)
	if err != nil {
		return "", false, fmt.Errorf("master key: reading back the generated key: %w", err)
	}
	return key, key == fresh, nil
}
