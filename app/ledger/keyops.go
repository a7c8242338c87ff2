package ledger

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/clawgate/clawgate/app/budget"
	"github.com/clawgate/clawgate/app/store"
	"github.com/clawgate/clawgate/proxy"
)

// OpError is a key operation refused for a reason the caller can act on. The admin API answers
// it with Status and LiteLLM's error Type; a Go caller reads Msg.
type OpError struct {
	Status int
	Type   string
	Msg    string
	Extra  map[string]any // extra fields of the error envelope (e.g. not_found)
	Err    error          // the cause, if any (errors.Is finds store.ErrAliasTaken through it)
}

func (e *OpError) Error() string { return e.Msg }

func (e *OpError) Unwrap() error { return e.Err }

func invalid(format string, args ...any) error {
	return &OpError{Status: http.StatusBadRequest, Type: typeInvalid, Msg: fmt.Sprintf(format, args...)}
}

func missing(msg string) error {
	return &OpError{Status: http.StatusNotFound, Type: typeNotFound, Msg: msg}
}

// GenerateKey makes a virtual key from q (q.Key, if set, is the secret to use) and returns the
// secret, which is not kept: only its SHA-256 is stored.
func (l *Ledger) GenerateKey(ctx context.Context, q KeyRequest) (string, store.Key, error) {
	if q.Key != nil && !strings.HasPrefix(*q.Key, "sk-") {
		return "", store.Key{}, invalid("Invalid key: a virtual key must start with 'sk-'.")
	}
	v, msg := q.validate()
	if msg != "" {
		return "", store.Key{}, invalid("%s", msg)
	}
	if err := l.checkKeyTeam(ctx, q, store.Key{}); err != nil {
		return "", store.Key{}, err
	}
	now := l.now()
	key := newKey()
	if q.Key != nil {
		key = *q.Key
	}
	k := store.Key{Token: proxy.HashKey(key), KeyName: keyName(key), Models: []string{}, Metadata: map[string]any{},
		Aliases: map[string]string{}, CreatedAt: now, UpdatedAt: now}
	q.apply(&k)
	if q.Spend != nil {
		k.Spend = *q.Spend
	}
	if v.budgetDur != nil {
		k.BudgetDuration = strings.TrimSpace(*q.BudgetDuration)
		reset := budget.NextReset(*v.budgetDur, now, l.loc)
		k.BudgetResetAt = &reset
	}
	if v.expiry != nil {
		exp := addDuration(*v.expiry, now)
		k.Expires = &exp
	}
	if err := l.st.CreateKey(ctx, k); err != nil {
		switch {
		case errors.Is(err, store.ErrAliasTaken):
			return "", store.Key{}, &OpError{Status: http.StatusBadRequest, Type: typeInvalid, Err: err,
				Msg: fmt.Sprintf("Key with alias '%s' already exists. Unique key aliases across all keys are required.", k.KeyAlias)}
		case errors.Is(err, store.ErrKeyExists):
			return "", store.Key{}, invalid("This key already exists: choose another value for key, or leave it out to have one generated.")
		default:
			return "", store.Key{}, fmt.Errorf("could not create the key: %w", err)
		}
	}
	e := &entry{k: k}
	l.mu.Lock()
	l.keys[k.Token] = e
	l.mu.Unlock()
	l.bl.SetBudget(k.Token, k.MaxBudget, k.Spend, k.BudgetResetAt, v.budgetDur)
	l.alert.Forget(k.Token)
	return key, l.snapshot(e), nil
}

// findKey resolves a key or its hash; unknown keys are a 404 OpError.
func (l *Ledger) findKey(ctx context.Context, keyOrHash string) (*entry, error) {
	e, err := l.entryFor(ctx, tokenOf(keyOrHash))
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, missing(fmt.Sprintf("Key not found: %s. Pass the key (sk-...) or its hash (token).", mask(keyOrHash)))
	case err != nil:
		return nil, fmt.Errorf("could not look up the key: %w", err)
	}
	return e, nil
}

// KeyInfo returns the key named by its secret or hash.
func (l *Ledger) KeyInfo(ctx context.Context, keyOrHash string) (store.Key, error) {
	e, err := l.findKey(ctx, keyOrHash)
	if err != nil {
		return store.Key{}, err
	}
	return l.snapshot(e), nil
}

// UpdateKey changes the fields of q that are set (q.Key is ignored) on the key named.
func (l *Ledger) UpdateKey(ctx context.Context, keyOrHash string, q KeyRequest) (store.Key, error) {
	if strings.TrimSpace(keyOrHash) == "" {
		return store.Key{}, invalid("key is required: the key (sk-...) or its hash (token) to update.")
	}
	v, msg := q.validate()
	if msg != "" {
		return store.Key{}, invalid("%s", msg)
	}
	e, err := l.findKey(ctx, keyOrHash)
	if err != nil {
		return store.Key{}, err
	}
	if err := l.checkKeyTeam(ctx, q, l.snapshot(e)); err != nil {
		return store.Key{}, err
	}
	return l.updateOp(ctx, e, &q, v)
}

// updateOp is update with its store errors turned into OpErrors.
func (l *Ledger) updateOp(ctx context.Context, e *entry, q *KeyRequest, v parsed) (store.Key, error) {
	k, err := l.update(ctx, e, q, v)
	switch {
	case err == nil:
		return k, nil
	case errors.Is(err, store.ErrAliasTaken):
		return k, &OpError{Status: http.StatusBadRequest, Type: typeInvalid, Err: err,
			Msg: fmt.Sprintf("Key with alias already exists (%v). Unique key aliases across all keys are required.", err)}
	case errors.Is(err, store.ErrNotFound):
		return k, missing("Key not found: it was deleted meanwhile.")
	default:
		return k, fmt.Errorf("could not update the key: %w", err)
	}
}

// DeleteKeys deletes the keys named by secret or hash, and by alias. Nothing is deleted unless
// every key named exists.
func (l *Ledger) DeleteKeys(ctx context.Context, keys, aliases []string) error {
	if len(keys) == 0 && len(aliases) == 0 {
		return invalid(`Name the keys to delete: {"keys": ["sk-..." or hashes]} or {"key_aliases": ["..."]}.`)
	}
	var tokens, absent []string
	for _, k := range keys {
		if _, err := l.entryFor(ctx, tokenOf(k)); err != nil {
			absent = append(absent, mask(k))
			continue
		}
		tokens = append(tokens, tokenOf(k))
	}
	for _, a := range aliases {
		k, err := l.st.GetKeyByAlias(ctx, a)
		if err != nil {
			absent = append(absent, a)
			continue
		}
		tokens = append(tokens, k.Token)
	}
	if len(absent) > 0 {
		return &OpError{Status: http.StatusNotFound, Type: typeNotFound,
			Msg:   fmt.Sprintf("Keys not found: %s. Nothing was deleted.", strings.Join(absent, ", ")),
			Extra: map[string]any{"not_found": absent}}
	}
	if _, err := l.st.DeleteKeys(ctx, tokens); err != nil {
		return fmt.Errorf("could not delete the keys: %w", err)
	}
	l.forgetKeys(tokens)
	return nil
}

// KeysByAlias returns the keys whose key_alias is alias (at most one: aliases are unique).
func (l *Ledger) KeysByAlias(ctx context.Context, alias string) ([]store.Key, error) {
	keys, _, err := l.st.ListKeys(ctx, store.ListKeysOpts{Alias: alias})
	return keys, err
}

// RegenerateKey gives the key named a new secret (q.NewKey, or a fresh one) and returns it: the
// old one stops working at once (no grace_period), the key keeps its budget, spend and logs. The
// other fields of q that are set are applied as an update.
func (l *Ledger) RegenerateKey(ctx context.Context, keyOrHash string, q KeyRequest) (string, store.Key, error) {
	if strings.TrimSpace(keyOrHash) == "" {
		return "", store.Key{}, invalid("key is required: the key (sk-...) or its hash (token) to regenerate.")
	}
	q.Key = nil
	if q.NewKey != nil && !strings.HasPrefix(*q.NewKey, "sk-") {
		return "", store.Key{}, invalid("Invalid new_key: a virtual key must start with 'sk-'.")
	}
	v, msg := q.validate()
	if msg != "" {
		return "", store.Key{}, invalid("%s", msg)
	}
	e, err := l.findKey(ctx, keyOrHash)
	if err != nil {
		return "", store.Key{}, err
	}
	key := newKey()
	if q.NewKey != nil {
		key = *q.NewKey
	}
	old := l.snapshot(e)
	tok := proxy.HashKey(key)
	// Queued rows go to disk under the old token first, so the store moves them with the key.
	if err := l.w.Flush(ctx); err != nil {
		return "", store.Key{}, fmt.Errorf("could not regenerate the key: %w", err)
	}
	if err := l.st.RegenerateKey(ctx, old.Token, tok, keyName(key)); err != nil {
		if errors.Is(err, store.ErrKeyExists) {
			return "", store.Key{}, invalid("new_key is already a key: choose another value, or leave it out to have one generated.")
		}
		if errors.Is(err, store.ErrNotFound) {
			return "", store.Key{}, missing("Key not found: it was deleted meanwhile.")
		}
		return "", store.Key{}, fmt.Errorf("could not update the key: %w", err)
	}
	spend, _, resetAt := l.bl.Spend(old.Token)
	l.mu.Lock()
	delete(l.keys, old.Token)
	e.k.Token, e.k.KeyName = tok, keyName(key)
	l.keys[tok] = e
	l.mu.Unlock()
	d, _ := budget.ParseOptionalDuration(old.BudgetDuration)
	l.bl.SetBudget(tok, old.MaxBudget, spend, resetAt, d)
	l.forgetBudget(old.Token)
	k, err := l.updateOp(ctx, e, &q, v)
	if err != nil {
		return "", store.Key{}, err
	}
	return key, k, nil
}

// SetKeyBlocked blocks or unblocks the key named.
func (l *Ledger) SetKeyBlocked(ctx context.Context, keyOrHash string, blocked bool) (store.Key, error) {
	if strings.TrimSpace(keyOrHash) == "" {
		return store.Key{}, invalid("key is required: the key (sk-...) or its hash (token).")
	}
	e, err := l.findKey(ctx, keyOrHash)
	if err != nil {
		return store.Key{}, err
	}
	return l.updateOp(ctx, e, &KeyRequest{Blocked: &blocked}, parsed{})
}
