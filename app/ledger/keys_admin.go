package ledger

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/clawgate/clawgate/app/budget"
	"github.com/clawgate/clawgate/app/store"
	"github.com/clawgate/clawgate/proxy"
)

// keyGenerate serves POST /key/generate: a new virtual key, shown once, stored as its SHA-256.
func (l *Ledger) keyGenerate(w http.ResponseWriter, r *http.Request, p *proxy.Principal) {
	var q keyRequest
	raw, err := readBody(r, &q)
	if err != nil {
		badRequest(w, "%v", err)
		return
	}
	if q.Key != nil && !strings.HasPrefix(*q.Key, "sk-") {
		badRequest(w, "Invalid key: a virtual key must start with 'sk-'.")
		return
	}
	v, msg := q.validate()
	if msg != "" {
		badRequest(w, "%s", msg)
		return
	}
	now := l.now()
	key := newKey()
	if q.Key != nil {
		key = *q.Key
	}
	k := store.Key{Token: proxy.HashKey(key), KeyName: keyName(key), Models: []string{}, Metadata: map[string]any{},
		MaxBudget: q.MaxBudget, SoftBudget: q.SoftBudget, TPMLimit: q.TPMLimit, RPMLimit: q.RPMLimit,
		MaxParallelRequests: q.MaxParallelRequests, CreatedAt: now, UpdatedAt: now}
	if q.KeyAlias != nil {
		k.KeyAlias = strings.TrimSpace(*q.KeyAlias)
	}
	if q.Models != nil {
		k.Models = slices.Clone(*q.Models)
	}
	if q.Metadata != nil {
		k.Metadata = q.Metadata
	}
	if q.Spend != nil {
		k.Spend = *q.Spend
	}
	if q.UserID != nil {
		k.UserID = *q.UserID
	}
	if q.Blocked != nil {
		k.Blocked = *q.Blocked
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
	if err := l.st.CreateKey(r.Context(), k); err != nil {
		switch {
		case errors.Is(err, store.ErrAliasTaken):
			badRequest(w, "Key with alias '%s' already exists. Unique key aliases across all keys are required.", k.KeyAlias)
		case errors.Is(err, store.ErrKeyExists):
			badRequest(w, "This key already exists: choose another value for key, or leave it out to have one generated.")
		default:
			serverError(w, fmt.Errorf("could not create the key: %w", err))
		}
		return
	}
	e := &entry{k: k}
	l.mu.Lock()
	l.keys[k.Token] = e
	l.mu.Unlock()
	l.bl.SetBudget(k.Token, k.MaxBudget, k.Spend, k.BudgetResetAt, v.budgetDur)
	l.alert.Forget(k.Token)

	// GenerateKeyResponse: the request echoed, with the key and what was made of it.
	out := raw
	for f, val := range l.keyObject(l.snapshot(e)) {
		if _, sent := out[f]; !sent || f == "spend" || f == "budget_reset_at" || f == "expires" || f == "token" {
			out[f] = val
		}
	}
	out["key"] = key
	out["key_name"] = k.KeyName
	out["token_id"] = k.Token
	if _, ok := out["duration"]; !ok {
		out["duration"] = nil
	}
	writeJSON(w, http.StatusOK, out)
}

// lookupKey resolves a key or hash that a request names, answering 404 (and returning nil) when
// there is no such key.
func (l *Ledger) lookupKey(w http.ResponseWriter, ctx context.Context, keyOrHash string) *entry {
	e, err := l.entryFor(ctx, tokenOf(keyOrHash))
	switch {
	case errors.Is(err, store.ErrNotFound):
		notFound(w, fmt.Sprintf("Key not found: %s. Pass the key (sk-...) or its hash (token).", mask(keyOrHash)))
		return nil
	case err != nil:
		serverError(w, fmt.Errorf("could not look up the key: %w", err))
		return nil
	}
	return e
}

// keyInfo serves GET /key/info?key=<key or hash>; without key, the caller's own key.
func (l *Ledger) keyInfo(w http.ResponseWriter, r *http.Request, p *proxy.Principal) {
	param := strings.TrimSpace(r.URL.Query().Get("key"))
	token := p.KeyHash
	shown := p.KeyHash
	if param != "" {
		token, shown = tokenOf(param), param
	}
	if !p.Master && (token != p.KeyHash || p.KeyHash == "") {
		proxy.WriteError(w, http.StatusForbidden, typeAuth, "A virtual key may only read its own /key/info: leave out ?key= or use the master key.", 0, nil)
		return
	}
	if token == "" || (p.Master && param == "") {
		notFound(w, "The master key is not a virtual key: pass ?key=<key or hash> to read a virtual key's info.")
		return
	}
	e := l.lookupKey(w, r.Context(), token)
	if e == nil {
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"key": shown, "info": l.keyObject(l.snapshot(e))})
}

// keyUpdate serves POST /key/update: only the fields sent (and not null) change.
func (l *Ledger) keyUpdate(w http.ResponseWriter, r *http.Request, _ *proxy.Principal) {
	var q keyRequest
	if _, err := readBody(r, &q); err != nil {
		badRequest(w, "%v", err)
		return
	}
	if q.Key == nil || strings.TrimSpace(*q.Key) == "" {
		badRequest(w, "key is required: the key (sk-...) or its hash (token) to update.")
		return
	}
	v, msg := q.validate()
	if msg != "" {
		badRequest(w, "%s", msg)
		return
	}
	e := l.lookupKey(w, r.Context(), *q.Key)
	if e == nil {
		return
	}
	k, err := l.update(r.Context(), e, &q, v)
	if err != nil {
		l.updateError(w, err)
		return
	}
	out := l.keyObject(k)
	out["key"] = *q.Key
	writeJSON(w, http.StatusOK, out)
}

func (l *Ledger) updateError(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, store.ErrAliasTaken):
		badRequest(w, "Key with alias already exists (%v). Unique key aliases across all keys are required.", err)
	case errors.Is(err, store.ErrNotFound):
		notFound(w, "Key not found: it was deleted meanwhile.")
	default:
		serverError(w, fmt.Errorf("could not update the key: %w", err))
	}
}

// keyDelete serves POST /key/delete with {"keys": [...]} or {"key_aliases": [...]}. Nothing is
// deleted unless every key named exists.
func (l *Ledger) keyDelete(w http.ResponseWriter, r *http.Request, _ *proxy.Principal) {
	var q struct {
		Keys       []string `json:"keys"`
		KeyAliases []string `json:"key_aliases"`
	}
	if _, err := readBody(r, &q); err != nil {
		badRequest(w, "%v", err)
		return
	}
	if len(q.Keys) == 0 && len(q.KeyAliases) == 0 {
		badRequest(w, `Name the keys to delete: {"keys": ["sk-..." or hashes]} or {"key_aliases": ["..."]}.`)
		return
	}
	ctx := r.Context()
	var tokens, missing []string
	for _, k := range q.Keys {
		if _, err := l.entryFor(ctx, tokenOf(k)); err != nil {
			missing = append(missing, mask(k))
			continue
		}
		tokens = append(tokens, tokenOf(k))
	}
	for _, a := range q.KeyAliases {
		k, err := l.st.GetKeyByAlias(ctx, a)
		if err != nil {
			missing = append(missing, a)
			continue
		}
		tokens = append(tokens, k.Token)
	}
	if len(missing) > 0 {
		proxy.WriteError(w, http.StatusNotFound, typeNotFound,
			fmt.Sprintf("Keys not found: %s. Nothing was deleted.", strings.Join(missing, ", ")), 0,
			map[string]any{"not_found": missing})
		return
	}
	if _, err := l.st.DeleteKeys(ctx, tokens); err != nil {
		serverError(w, fmt.Errorf("could not delete the keys: %w", err))
		return
	}
	for _, t := range tokens {
		l.mu.Lock()
		delete(l.keys, t)
		l.mu.Unlock()
		l.bl.Remove(t)
		l.alert.Forget(t)
	}
	deleted := q.Keys
	if len(deleted) == 0 {
		deleted = q.KeyAliases
	}
	writeJSON(w, http.StatusOK, map[string]any{"deleted_keys": deleted})
}

// keyList serves GET /key/list (page, size, key_alias, user_id, key_hash, return_full_object).
func (l *Ledger) keyList(w http.ResponseWriter, r *http.Request, _ *proxy.Principal) {
	q := r.URL.Query()
	page, err := intParam(q.Get("page"), 1, 1, math.MaxInt32)
	if err != nil {
		badRequest(w, "page: %v", err)
		return
	}
	size, err := intParam(q.Get("size"), 10, 1, 100)
	if err != nil {
		badRequest(w, "size: %v", err)
		return
	}
	full := false
	if v := q.Get("return_full_object"); v != "" {
		if full, err = strconv.ParseBool(v); err != nil {
			badRequest(w, "return_full_object must be true or false")
			return
		}
	}
	opts := store.ListKeysOpts{Page: page, Size: size, Alias: q.Get("key_alias"), UserID: q.Get("user_id")}
	if h := q.Get("key_hash"); h != "" {
		opts.Token = tokenOf(h)
	}
	keys, total, err := l.st.ListKeys(r.Context(), opts)
	if err != nil {
		serverError(w, err)
		return
	}
	out := make([]any, 0, len(keys))
	for _, k := range keys {
		if !full {
			out = append(out, k.Token)
			continue
		}
		// Prefer memory: it has the live budget window.
		l.mu.RLock()
		if e := l.keys[k.Token]; e != nil {
			k = e.k
		}
		l.mu.RUnlock()
		out = append(out, l.keyObject(k))
	}
	writeJSON(w, http.StatusOK, map[string]any{"keys": out, "total_count": total, "current_page": page,
		"total_pages": (total + size - 1) / size})
}

func intParam(s string, def, lo, hi int) (int, error) {
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		return 0, fmt.Errorf("want a whole number from %d to %d, got %q", lo, hi, s)
	}
	return n, nil
}

// keyRegenerate serves POST /key/regenerate with the key in the body.
func (l *Ledger) keyRegenerate(w http.ResponseWriter, r *http.Request, _ *proxy.Principal) {
	l.regenerate(w, r, "")
}

// regenerate gives a key a new secret (LiteLLM's /key/{key}/regenerate): the old one stops
// working at once (no grace_period), the key keeps its budget, spend and logs. Any other
// generate field sent is applied as an update.
func (l *Ledger) regenerate(w http.ResponseWriter, r *http.Request, pathKey string) {
	var q keyRequest
	if _, err := readBody(r, &q); err != nil {
		badRequest(w, "%v", err)
		return
	}
	name := pathKey
	if name == "" {
		if q.Key == nil || strings.TrimSpace(*q.Key) == "" {
			badRequest(w, "key is required: the key (sk-...) or its hash (token) to regenerate.")
			return
		}
		name = *q.Key
	}
	q.Key = nil
	if q.NewKey != nil && !strings.HasPrefix(*q.NewKey, "sk-") {
		badRequest(w, "Invalid new_key: a virtual key must start with 'sk-'.")
		return
	}
	v, msg := q.validate()
	if msg != "" {
		badRequest(w, "%s", msg)
		return
	}
	ctx := r.Context()
	e := l.lookupKey(w, ctx, name)
	if e == nil {
		return
	}
	key := newKey()
	if q.NewKey != nil {
		key = *q.NewKey
	}
	old := l.snapshot(e)
	tok := proxy.HashKey(key)
	// Queued rows go to disk under the old token first, so the store moves them with the key.
	if err := l.w.Flush(ctx); err != nil {
		serverError(w, fmt.Errorf("could not regenerate the key: %w", err))
		return
	}
	if err := l.st.RegenerateKey(ctx, old.Token, tok, keyName(key)); err != nil {
		if errors.Is(err, store.ErrKeyExists) {
			badRequest(w, "new_key is already a key: choose another value, or leave it out to have one generated.")
			return
		}
		l.updateError(w, err)
		return
	}
	spend, _, resetAt := l.bl.Spend(old.Token)
	l.mu.Lock()
	delete(l.keys, old.Token)
	e.k.Token, e.k.KeyName = tok, keyName(key)
	l.keys[tok] = e
	l.mu.Unlock()
	d, _ := budget.ParseOptionalDuration(old.BudgetDuration)
	l.bl.SetBudget(tok, old.MaxBudget, spend, resetAt, d)
	l.bl.Remove(old.Token)
	l.alert.Forget(old.Token)
	k, err := l.update(ctx, e, &q, v)
	if err != nil {
		l.updateError(w, err)
		return
	}
	out := l.keyObject(k)
	out["key"] = key
	out["token_id"] = tok
	writeJSON(w, http.StatusOK, out)
}

func (l *Ledger) keyBlock(w http.ResponseWriter, r *http.Request, _ *proxy.Principal) {
	l.setBlocked(w, r, true)
}

func (l *Ledger) keyUnblock(w http.ResponseWriter, r *http.Request, _ *proxy.Principal) {
	l.setBlocked(w, r, false)
}

// setBlocked serves /key/block and /key/unblock: {"key": "<key or hash>"} -> the key's row.
func (l *Ledger) setBlocked(w http.ResponseWriter, r *http.Request, blocked bool) {
	var q struct {
		Key string `json:"key"`
	}
	if _, err := readBody(r, &q); err != nil {
		badRequest(w, "%v", err)
		return
	}
	if strings.TrimSpace(q.Key) == "" {
		badRequest(w, "key is required: the key (sk-...) or its hash (token).")
		return
	}
	e := l.lookupKey(w, r.Context(), q.Key)
	if e == nil {
		return
	}
	k, err := l.update(r.Context(), e, &keyRequest{Blocked: &blocked}, parsed{})
	if err != nil {
		l.updateError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, l.keyObject(k))
}
