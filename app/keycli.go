package app

import (
	"context"
	"fmt"
)

// FindKey resolves what a user types for a virtual key (its alias, the sk- key itself, or its
// hash) to its hash, for the CLI. An alias that names several keys is an error listing how many:
// the user must then pass the key.
func (a *App) FindKey(ctx context.Context, aliasOrKey string) (string, error) {
	led, err := a.openLedger()
	if err != nil {
		return "", err
	}
	keys, err := led.KeysByAlias(ctx, aliasOrKey)
	if err != nil {
		return "", err
	}
	switch len(keys) {
	case 1:
		return keys[0].Token, nil
	case 0:
		k, err := led.KeyInfo(ctx, aliasOrKey)
		if err != nil {
			return "", fmt.Errorf("no key with alias or value %q: %w", aliasOrKey, err)
		}
		return k.Token, nil
	default:
		return "", fmt.Errorf("%d keys have the alias %q: name one by its sk- value", len(keys), aliasOrKey)
	}
}

// SetKeyBlocked blocks or unblocks the key whose hash is token; a running gateway on the same
// data folder refuses or admits it again within a request or two (app/ledger/keysync.go).
func (a *App) SetKeyBlocked(ctx context.Context, token string, blocked bool) error {
	return a.EditKey(ctx, token, KeyEdit{Blocked: &blocked})
}
